"""What a set of versions needs on the remote and in the store: every object, with its digest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from zoo_repo.core.manifest import Manifest
from zoo_repo.store.digest import Digest

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace


def referenced(manifests: Iterable[Manifest]) -> dict[str, tuple[Digest | None, str]]:
    """oid → (expected digest, a label for messages) for every object referenced."""
    out: dict[str, tuple[Digest | None, str]] = {}
    for m in manifests:
        out[m.tree_md5 + ".dir"] = (None, f"{m.stub}@{m.version_name} (file list)")
        for f in m.files:
            out.setdefault(f.md5, (Digest(f.sha256, f.md5, f.size), f"{m.stub}@{m.version_name}:{f.path}"))
    return out


# A statcache document kind: what a manifest says it is and the store names it references,
# under the manifest's git blob id. ``zoo gc`` reads every version of the zoo; remembered,
# a version it has seen costs a read and a lookup, not a parse and a check of its manifest.
NAMES = "object-names"
_HEX = frozenset("0123456789abcdef")


def object_names(manifest: Manifest) -> list[str]:
    """The store names ``manifest`` references: its file list and each file's object."""
    return [manifest.tree_md5 + ".dir", *sorted({f.md5 for f in manifest.files})]


def remembered_names(zoo: Workspace, blobs: Sequence[str]) -> dict[str, tuple[str, list[str]]]:
    """blob id → (the ``stub@vN`` its text says, its ``object_names``) of the manifests among
    ``blobs`` this user's zoo has read before. What is remembered carries a MAC under the
    user's key; its shape is checked again all the same, and anything odd is read again."""
    found = zoo.statcache().get_docs(NAMES, blobs)
    return {blob: (doc[0], doc[1:]) for blob, doc in found.items() if _well_formed(doc)}


def remember_names(zoo: Workspace, manifests: Sequence[tuple[str, Manifest]]) -> None:
    zoo.statcache().put_docs(NAMES, [(blob, [f"{m.stub}@v{m.version}", *object_names(m)])
                                     for blob, m in manifests])


def _well_formed(doc: object) -> bool:
    if not isinstance(doc, list) or len(doc) < 2 or not all(isinstance(n, str) for n in doc):
        return False
    tree, files = doc[1], doc[2:]
    return tree.endswith(".dir") and _is_md5(tree[:-4]) and all(_is_md5(n) for n in files)


def _is_md5(text: str) -> bool:
    return len(text) == 32 and _HEX.issuperset(text)
