"""The signers a user pinned, per remote: ``zoo trust add NAME KEYFILE``.

Kept in the user's config (``ZOO_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/zoo-repo``,
else ``~/.config/zoo-repo``), outside every checkout and every bucket: trust
that a clone or a remote could hand over would be no pin at all. One file,
``trust.yaml``, by remote URL::

    schema: 1
    remotes:
      s3://models/zoo:
        approvals: 1
        signers:
          alice: {fingerprint: 'sha256:…', key: '-----BEGIN PUBLIC KEY-----…'}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoo_repo.core import trust as tr
from zoo_repo.core import yamltext
from zoo_repo.errors import ManifestError
from zoo_repo.model.readfile import TEXT_LIMIT, read_text_bounded
from zoo_repo.repo.config import comparable_url
from zoo_repo.store.atomic import write_text_atomic

FILE_NAME = "trust.yaml"


def config_dir() -> Path:
    if os.environ.get("ZOO_CONFIG_DIR"):
        return Path(os.environ["ZOO_CONFIG_DIR"])
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "zoo-repo"


def config_path() -> Path:
    return config_dir() / FILE_NAME


def _read() -> dict[str, Any]:
    path = config_path()
    try:
        text = read_text_bounded(str(path), TEXT_LIMIT, str(path))
    except FileNotFoundError:
        return {}
    try:
        doc = yamltext.load(text)
    except yamltext.YamlProblem as exc:
        raise ManifestError(str(path), str(exc)) from exc
    remotes = doc.get("remotes") if isinstance(doc, dict) and doc.get("schema") == tr.SCHEMA else None
    if not isinstance(remotes, dict):
        raise ManifestError(str(path), f"expected schema: {tr.SCHEMA} and remotes: {{URL: {{signers: …}}}}")
    return remotes


def pinned(url: str | None) -> tr.Trust | None:
    """What the user pinned for the remote at ``url``; None when nothing."""
    if url is None:
        return None
    entry = _read().get(comparable_url(url))
    if entry is None:
        return None
    return tr.pins_from_doc(entry, f"{config_path()} for {comparable_url(url)}")


def everything() -> dict[str, tr.Trust]:
    """Every remote's pins, by URL."""
    return {url: tr.pins_from_doc(entry, f"{config_path()} for {url}") for url, entry in _read().items()}


def save(url: str, trust: tr.Trust | None) -> Path:
    """Pin ``trust`` for ``url`` (None removes its pins); returns the file written."""
    remotes = _read()
    if trust is None or not trust.signers:
        remotes.pop(comparable_url(url), None)
    else:
        remotes[comparable_url(url)] = tr.pins_to_doc(trust, keys=True)
    path = config_path()
    write_text_atomic(path, "# zoo trust: the signers this user pinned, per remote (`zoo trust add`).\n"
                      + yamltext.dump({"schema": tr.SCHEMA, "remotes": dict(sorted(remotes.items()))}))
    return path
