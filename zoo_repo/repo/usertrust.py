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
      '*':                     # every remote (`zoo trust add --all-remotes`)
        …

Each entry that applies is a floor: a pull needs what every one of them
requires, whatever a lockfile or ``Zoo.open(trust=)`` adds. The ``*`` entry keeps
a checkout whose ``.dvc/config`` a pull request pointed at another bucket from
escaping the user's pins.
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
EVERY_REMOTE = "*"


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


def pinned(url: str | None) -> list[tr.Trust]:
    """What the user pinned that applies to the remote at ``url``: its own entry and
    the every-remote one; empty when nothing."""
    if not config_path().is_file():
        return []
    entries = _read()
    keys = ([comparable_url(url)] if url is not None else []) + [EVERY_REMOTE]
    return [tr.pins_from_doc(entries[key], f"{config_path()} for {key}") for key in keys if key in entries]


def pinned_for(url: str | None) -> tr.Trust | None:
    """The entry ``zoo trust add`` edits: the remote's own (or, for None, every remote's)."""
    key = EVERY_REMOTE if url is None else comparable_url(url)
    entry = _read().get(key)
    return tr.pins_from_doc(entry, f"{config_path()} for {key}") if entry is not None else None


def everything() -> dict[str, tr.Trust]:
    """Every remote's pins, by URL."""
    return {url: tr.pins_from_doc(entry, f"{config_path()} for {url}") for url, entry in _read().items()}


def save(url: str | None, trust: tr.Trust | None) -> Path:
    """Pin ``trust`` for ``url`` (None: every remote; ``trust`` None removes the pins);
    returns the file written. What is written is read back first, by the reader's rules."""
    remotes = _read()
    key = EVERY_REMOTE if url is None else comparable_url(url)
    if trust is None or not trust.signers:
        remotes.pop(key, None)
    else:
        doc = tr.pins_to_doc(trust, keys=True)
        tr.pins_from_doc(doc, f"{config_path()} for {key}")  # never save pins the next pull would refuse
        remotes[key] = doc
    path = config_path()
    write_text_atomic(path, "# zoo trust: the signers this user pinned, per remote (`zoo trust add`).\n"
                      + yamltext.dump({"schema": tr.SCHEMA, "remotes": dict(sorted(remotes.items()))}))
    return path
