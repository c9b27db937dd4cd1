"""What a remote holds besides objects, for consumers that have only its URL.

    <remote>/zoo/manifests/<stub>/vN/model.md
    <remote>/zoo/manifests/<stub>/vN/manifest.yaml
    <remote>/zoo/index.json      {"schema": 1, "stubs": {stub: {"v1": "sha256:…"}}}

Written after the objects they name (card, then manifest, then index), so a
reader never sees a manifest whose objects are missing. The manifests are the
truth; the index is a cache of their list and digests, rebuilt from a listing
when it is missing or behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.manifest import MANIFEST_NAME, digest_of
from zoo_repo.core.packs import LOCATOR_NAME, Locator, parse_locator
from zoo_repo.core.stub import parse_stub, version_number
from zoo_repo.errors import ManifestError, RemoteError, StubError, TooLarge
from zoo_repo.remote.base import Remote

PREFIX = "zoo"
INDEX = f"{PREFIX}/index.json"
INDEX_SCHEMA = 1

Index = dict[str, dict[str, str]]  # stub → version name → manifest digest


def version_key(stub: str, version: int, name: str) -> str:
    return f"{PREFIX}/manifests/{stub}/v{version}/{name}"


def upload_version(remote: Remote, stub: str, version: int, manifest_text: str, card_text: str,
                   locator_text: str | None = None) -> None:
    """Card and locator first, manifest last: a manifest on the remote means the version is complete.

    The manifest is created, never replaced: if another publisher (another
    checkout whose history diverged) put a different vN there first, this one
    is refused rather than silently overwriting theirs.
    """
    key = version_key(stub, version, MANIFEST_NAME)
    existing = remote.get_text(key)
    if existing is not None and existing != manifest_text:
        raise _conflict(stub, version)
    if existing is None:
        remote.put_text(version_key(stub, version, CARD_NAME), card_text)
        if locator_text is not None:
            remote.put_text(version_key(stub, version, LOCATOR_NAME), locator_text)
        if not remote.create_text(key, manifest_text) and remote.get_text(key) != manifest_text:
            raise _conflict(stub, version)


def _conflict(stub: str, version: int) -> RemoteError:
    return RemoteError(
        f"the remote already has a different {stub}@v{version}: another checkout published it first",
        hint="git pull (the other version is in their commit), then publish again to make the next version",
    )


def read_locator(remote: Remote, stub: str, version: int) -> Locator:
    """Where a version's small objects sit in packs; empty when unknown."""
    if not remote.packs:
        return {}
    try:
        data = remote.get_bytes(version_key(stub, version, LOCATOR_NAME))
    except TooLarge:
        return {}  # a damaged locator costs speed only: its objects come loose
    return parse_locator((data or b"").decode("utf-8", "replace"))


def parse_index(text: str) -> Index:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than json allows
        raise ManifestError(INDEX, f"is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("schema") != INDEX_SCHEMA or not isinstance(doc.get("stubs"), dict):
        raise ManifestError(INDEX, f"expected {{'schema': {INDEX_SCHEMA}, 'stubs': {{…}}}}")
    return {str(k): dict(v) for k, v in doc["stubs"].items() if isinstance(v, dict)}


def render_index(index: Index) -> str:
    stubs = {stub: dict(sorted(vs.items(), key=lambda kv: version_number(kv[0]) or 0))
             for stub, vs in sorted(index.items())}
    return json.dumps({"schema": INDEX_SCHEMA, "stubs": stubs}, indent=1) + "\n"


def read_index(remote: Remote) -> Index | None:
    text = remote.get_text(INDEX)
    return None if text is None else parse_index(text)


def listed_versions(remote: Remote, stub: str | None = None) -> dict[str, list[int]]:
    """stub → versions whose manifest is on the remote, from a listing (the truth)."""
    base = f"{PREFIX}/manifests" + (f"/{stub}" if stub else "")
    found: dict[str, list[int]] = {}
    for rel in remote.find(base):
        parts = rel.split("/")
        if len(parts) < 5 or parts[-1] != MANIFEST_NAME:
            continue
        number = version_number(parts[-2])
        stub_path = "/".join(parts[2:-2])
        if number is None:
            continue
        try:
            parse_stub(stub_path)
        except StubError:
            continue  # not a stub: not ours to index
        found.setdefault(stub_path, []).append(number)
    return {s: sorted(v) for s, v in found.items()}


def update_index(remote: Remote, known: Iterable[tuple[str, int, str]] = ()) -> Index:
    """Merge what we know (stub, version, manifest text) and what is listed; write it."""
    index: Index = read_index(remote) or {}
    for stub, version, text in known:
        index.setdefault(stub, {})[f"v{version}"] = digest_of(text)
    for stub, versions in listed_versions(remote).items():
        for number in versions:
            if f"v{number}" not in index.get(stub, {}):
                text = remote.get_text(version_key(stub, number, MANIFEST_NAME)) or ""
                index.setdefault(stub, {})[f"v{number}"] = digest_of(text)
    remote.put_text(INDEX, render_index(index))
    return index


def summary(index: Index) -> dict[str, Any]:
    return {"stubs": len(index), "versions": sum(len(v) for v in index.values())}
