"""Where a listing's row of one stub comes from, cheapest source first.

A checkout's ``catalog.json`` entry, while its manifest digest matches the
manifest's text; a remote's brief (``core.brief``), which its projection binds to
the latest version's digest; else the manifest itself, parsed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from zoo_repo.catalog.index import Summary
from zoo_repo.core.stub import Stub
from zoo_repo.errors import ZooError
from zoo_repo.model.readfile import read_text_bounded

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace

Entries = dict[tuple[str, int], dict[str, Any]]
CATALOG_LIMIT = 64 << 20


def catalog_entries(zoo: Workspace) -> Entries:
    """catalog.json's entries by (stub, version); empty when there is none or it does not parse."""
    if not zoo.is_checkout:
        return {}
    try:  # a checkout's file: bounded, and never more than a speed-up
        doc = json.loads(read_text_bounded(str(zoo.root / "catalog.json"), CATALOG_LIMIT))
        return {(e["stub"], int(e["version"][1:])): e for e in doc["models"]}
    except (ZooError, OSError, ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return {}


def summary(zoo: Workspace, stub: Stub, version: int, entries: Entries) -> Summary:
    """``stub@vN`` as a listing shows it: from its catalog entry if that is of this manifest."""
    entry = entries.get((str(stub), version))
    if entry is not None and entry.get("manifest_digest") == zoo.digest(stub, version):
        return Summary.from_entry(stub, entry)
    return Summary.of(zoo.manifest(stub, version))


def latest(zoo: Workspace, stub: Stub) -> Summary:
    """A remote's stub as a listing shows it: from the brief its projection carries of the
    latest version, else from that version's manifest (checked against its digest)."""
    brief = zoo.brief(stub)
    return Summary.of_brief(stub, brief) if brief is not None else summary(zoo, stub, zoo.versions(stub)[-1], {})
