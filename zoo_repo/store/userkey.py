"""Where the per-user cache lives, and this user's secret key in it.

A leaf of the store layer (no other store module is imported), so that the
object store can authenticate its verification stamps and the stat cache its
rows without importing the cache that is built on them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from zoo_repo.store.atomic import create_exclusive

KEY_NAME = "cache.key"


def default_cache_dir() -> Path:
    """``ZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/zoo-repo``, else ``~/.cache/zoo-repo``."""
    if os.environ.get("ZOO_CACHE_DIR"):
        return Path(os.environ["ZOO_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "zoo-repo"


def user_key(cache_dir: Path | None = None) -> bytes:
    """This user's secret for authenticating what zoo remembers about files.

    A checkout's ``.zoo/`` or ``store/`` can arrive with the clone (committed
    with ``git add -f``, or in a tarball); what they remember (parsed
    manifests, file digests, verification stamps) is used only if it carries a
    MAC made with this key, which lives outside every checkout.
    """
    path = (cache_dir or default_cache_dir()) / KEY_NAME
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        create_exclusive(path, secrets.token_bytes(32))  # of two racing processes, one key wins
        os.chmod(path, 0o600)
        key = path.read_bytes()
    if len(key) < 32:
        raise OSError(f"{path}: not a zoo cache key (remove it to make a new one)")
    return key
