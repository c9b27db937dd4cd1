"""Where a zoo is, and which remote it uses.

A zoo is a directory with ``zoo.yaml`` (the marker, with zoo's own settings).
Remotes live in DVC's config so that zoo and dvc can never disagree:
``.dvc/config`` is tracked (URL, endpoint, region…), ``.dvc/config.local`` is
not (credentials). Reading it needs no dvc import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo_repo.errors import ManifestError, NotAZooError, RemoteError

MARKER = "zoo.yaml"
DEFAULT_RELEASE = "main"


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``zoo.yaml``."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / MARKER).is_file():
            return candidate
    raise NotAZooError(str(start))


def release_branch(root: Path) -> str:
    """The branch whose commits the remote shows consumers (``release:`` in zoo.yaml, default main)."""
    from zoo_repo.core import yamltext
    from zoo_repo.model.readfile import TEXT_LIMIT, read_text_bounded

    where = str(root / MARKER)
    try:
        doc = yamltext.load(read_text_bounded(where, TEXT_LIMIT, where))
    except (yamltext.YamlProblem, UnicodeDecodeError) as exc:
        raise ManifestError(where, f"does not parse: {exc}") from exc
    branch = doc.get("release", DEFAULT_RELEASE) if isinstance(doc, dict) else DEFAULT_RELEASE
    if not isinstance(branch, str) or not branch or branch.startswith("-") or any(c.isspace() for c in branch):
        raise ManifestError(where, f"release is {branch!r}; expected a branch name such as main")
    return branch


@dataclass(frozen=True)
class RemoteConfig:
    name: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)


def _read_dvc_config(root: Path) -> dict[str, Any]:
    from configobj import ConfigObj, ConfigObjError

    merged: dict[str, Any] = {}
    for name in ("config", "config.local"):
        path = root / ".dvc" / name
        if not path.is_file():
            continue
        try:
            # As DVC reads it: a value with a comma or a space is written quoted, and
            # the quotes are configobj's, not the value's.
            conf = ConfigObj(str(path), encoding="utf-8", interpolation=False)
        except ConfigObjError as exc:
            raise RemoteError(f"{path}: cannot parse DVC config: {exc}") from exc
        for section, values in conf.items():
            if isinstance(values, dict):
                merged.setdefault(section, {}).update(
                    {k: ", ".join(v) if isinstance(v, list) else v for k, v in values.items()})
    return merged


def remote_config(root: Path, name: str | None = None) -> RemoteConfig:
    """The named remote, or the default one (``core.remote``)."""
    conf = _read_dvc_config(root)
    name = name or conf.get("core", {}).get("remote")
    if not name:
        raise RemoteError(
            "this zoo has no default remote",
            hint="set one with `dvc remote add -d NAME URL` or re-run `zoo init --remote URL`",
        )
    section = conf.get(f'remote "{name}"')
    if not section or "url" not in section:
        raise RemoteError(f"remote {name!r} is not configured in .dvc/config")
    options = {k: v for k, v in section.items() if k != "url"}
    return RemoteConfig(name, _resolve_url(root, section["url"]), options)


def _resolve_url(root: Path, url: str) -> str:
    """DVC reads a relative local remote path relative to the config's folder."""
    if "://" in url or os.path.isabs(url):
        return url
    return str((root / ".dvc" / url).resolve())


def remote_for_url(root: Path, url: str) -> RemoteConfig | None:
    """The configured remote whose URL is ``url`` (so a ``--remote URL`` given in a
    checkout gets that remote's endpoint, region and credentials), or None."""
    conf = _read_dvc_config(root)
    want = comparable_url(url)
    for section, values in conf.items():
        if section.startswith('remote "') and "url" in values:
            name = section[len('remote "'):-1]
            if comparable_url(_resolve_url(root, values["url"])) == want:
                return RemoteConfig(name, _resolve_url(root, values["url"]),
                                    {k: v for k, v in values.items() if k != "url"})
    return None


def comparable_url(url: str) -> str:
    """One spelling per remote: a plain path and its ``file://`` URL (percent-encoded
    as ``Path.as_uri()`` writes it, or with ``localhost``) alike, the scheme in lower
    case, no trailing slash."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() == "file":
        from urllib.parse import unquote

        url = unquote(rest.removeprefix("localhost"))
    elif sep:
        return f"{scheme.lower()}://{rest.rstrip('/')}"
    return os.path.realpath(url)
