"""Everything zoo knows about DVC's formats, and the one place it runs DVC.

The formats are written by hand (they are small and stable) so that publish
and pull never import dvc; only ``init_repo`` calls into the dvc package.
Checked against real ``dvc add``/``dvc pull`` by the test suite.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from zoo_repo.errors import ToolError, UsageError

POINTER_NAME = "model.dvc"
OUT_NAME = "model"


def tree_bytes(entries: Iterable[tuple[str, str]]) -> bytes:
    """The ``.dir`` object DVC stores for a directory: (relpath, md5) pairs."""
    listing = sorted(({"md5": md5, "relpath": rel} for rel, md5 in entries), key=lambda e: e["relpath"])
    return json.dumps(listing, sort_keys=True).encode("utf-8")


def pointer_text(tree_md5: str, size: int, nfiles: int) -> str:
    """The ``.dvc`` file that makes ``dvc pull`` materialise a version's files."""
    return (
        "outs:\n"
        f"- md5: {tree_md5}.dir\n"
        f"  size: {size}\n"
        f"  nfiles: {nfiles}\n"
        "  hash: md5\n"
        f"  path: {OUT_NAME}\n"
    )


# Remote options that are secrets, or that name a secret on this machine, by
# DVC's names for every backend zoo supports (S3, GCS, Azure, HTTP/WebDAV) and
# those DVC users bring along (SSH, OSS, GDrive): they go to .dvc/config.local,
# never to the tracked .dvc/config.
SECRET_OPTIONS = frozenset({
    # S3
    "access_key_id", "secret_access_key", "session_token", "sse_customer_key",
    # GCS
    "credentialpath", "token",
    # Azure
    "account_key", "sas_token", "connection_string", "client_secret", "client_certificate_password",
    "client_certificate_path",
    # HTTP, WebDAV: with auth = custom, the password is the value of the custom_auth_header
    "password", "user", "custom_auth_header",
    # SSH, OSS, GDrive
    "keyfile", "passphrase", "key_passphrase", "oss_key_id", "oss_key_secret", "gdrive_client_secret",
    "gdrive_service_account_json_file_path", "gdrive_user_credentials_file",
})


def local_remote_path(url: str) -> str:
    """A remote URL in the form DVC reads: local directories as absolute paths,
    Azure as ``azure://``.

    DVC's local remote takes a path, not a ``file://`` URL; stored as a URL,
    ``dvc pull`` in a clone would find no object at all.
    """
    from urllib.parse import unquote, urlsplit

    if url.startswith("file://"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise UsageError(f"remote {url!r}: a file:// URL must name a local path (file:///abs/path)")
        return str(Path(unquote(parts.path)).resolve())
    if url.startswith("az://"):
        return "azure://" + url[len("az://"):]  # DVC's name for Azure Blob; zoo's fsspec layer maps it back
    if "://" in url:
        return url
    return str(Path(url).resolve())


def init_repo(root: Path, remote_url: str, remote_name: str = "origin",
              options: Mapping[str, str] | None = None) -> None:
    """``dvc init`` in a git repo, with the store as cache and a default remote."""
    try:
        from dvc.repo import Repo
    except ImportError as exc:  # pragma: no cover - dvc is a hard dependency
        raise ToolError("the dvc package is not installed", hint="pip install zoo-repo") from exc
    import logging  # here: a pull, which reads this module's names, never needs it

    try:
        # dvc reports through its logger; a library call must stay quiet.
        logger = logging.getLogger("dvc")
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            Repo.init(str(root)).close()
        finally:
            logger.setLevel(level)
    except Exception as exc:  # dvc raises many unrelated types; all mean "init failed"
        raise ToolError(f"dvc init failed in {root}: {exc}") from exc
    # Written directly: dvc's own config editor would store the cache path
    # relative to the current directory, which breaks every clone.
    from configobj import ConfigObj

    conf = ConfigObj(str(root / ".dvc" / "config"), encoding="utf-8")
    conf.setdefault("core", {})["remote"] = remote_name
    conf.setdefault("cache", {})["dir"] = "../store"
    options = dict(options or {})
    section = f'remote "{remote_name}"'
    conf[section] = {"url": remote_url, **{k: v for k, v in options.items() if k not in SECRET_OPTIONS}}
    conf.write()
    secrets = {k: v for k, v in options.items() if k in SECRET_OPTIONS}
    if secrets:
        local = ConfigObj(str(root / ".dvc" / "config.local"), encoding="utf-8")
        local[section] = secrets
        local.write()
