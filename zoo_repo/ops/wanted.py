"""What a set of versions needs on the remote and in the store: every object, with its digest."""

from __future__ import annotations

from collections.abc import Iterable

from zoo_repo.core.manifest import Manifest
from zoo_repo.store.digest import Digest


def referenced(manifests: Iterable[Manifest]) -> dict[str, tuple[Digest | None, str]]:
    """oid → (expected digest, a label for messages) for every object referenced."""
    out: dict[str, tuple[Digest | None, str]] = {}
    for m in manifests:
        out[m.tree_md5 + ".dir"] = (None, f"{m.stub}@{m.version_name} (file list)")
        for f in m.files:
            out.setdefault(f.md5, (Digest(f.sha256, f.md5, f.size), f"{m.stub}@{m.version_name}:{f.path}"))
    return out
