"""What a set of versions needs on the remote and in the store: every object, with its digest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zoo_repo.core.manifest import Manifest
from zoo_repo.core.stub import Stub
from zoo_repo.store.digest import Digest

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace


Wanted = dict[str, tuple[Digest | None, str]]  # oid → (expected digest, a label for messages)


def referenced(manifests: Iterable[Manifest]) -> Wanted:
    """Every object ``manifests`` reference, with its digest."""
    return referenced_by(refs_of(m) for m in manifests)


def referenced_by(versions: Iterable[Refs]) -> Wanted:
    out: Wanted = {}
    for refs in versions:
        out[refs.tree + ".dir"] = (None, f"{refs.says} (file list)")
        for path, md5, sha256, size in refs.files:
            out.setdefault(md5, (Digest(sha256, md5, size), f"{refs.says}:{path}"))
    return out


@dataclass(frozen=True)
class Refs:
    """What one version references: all that push and gc need of its manifest."""

    says: str  # the ``stub@vN`` its manifest says it is
    tree: str  # md5 of the file list, the ``.dir`` object
    files: tuple[tuple[str, str, str, int], ...]  # (path, md5, sha256, size) of each file

    def names(self) -> list[str]:
        """The store names referenced: the file list and each file's object."""
        return [self.tree + ".dir", *(md5 for _, md5, _, _ in self.files)]


def refs_of(m: Manifest) -> Refs:
    return Refs(f"{m.stub}@{m.version_name}", m.tree_md5, tuple((f.path, f.md5, f.sha256, f.size) for f in m.files))


def checkout_refs(zoo: Workspace, batch: int = 512, stubs: Iterable[Stub] | None = None) -> Iterator[tuple[str, Refs]]:
    """(git blob id of its manifest, ``Refs``) of every version in the working tree
    (of ``stubs`` only, if given).

    Each manifest is read; one it has seen before (by blob id, ``remembered``) is not
    parsed again. A manifest whose path says another version than its text is parsed,
    and so refused, whatever was remembered of its text.
    """
    pending: list[tuple[str, Stub, int, str]] = []
    for stub in zoo.stubs() if stubs is None else stubs:
        for version in zoo.versions(stub):
            text = zoo.manifest_text(stub, version)
            pending.append((blob_id(text), stub, version, text))
            if len(pending) == batch:
                yield from _resolved(zoo, pending)
                pending = []
    yield from _resolved(zoo, pending)
    zoo.flush()


def _resolved(zoo: Workspace, pending: list[tuple[str, Stub, int, str]]) -> Iterator[tuple[str, Refs]]:
    known = remembered(zoo, [blob for blob, _, _, _ in pending])
    parsed = []
    for blob, stub, version, text in pending:
        refs = known.get(blob)
        if refs is None or refs.says != f"{stub}@v{version}":
            refs = refs_of(zoo.manifest_from_text(stub, version, text))
            parsed.append((blob, refs))
        yield blob, refs
    remember(zoo, parsed)


def blob_id(text: str) -> str:
    """The id git gives a file of this text (``git hash-object``)."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


# A statcache document kind: a manifest's ``Refs``, under its git blob id. gc and push read
# every version of the zoo; remembered, a version seen before costs a read and a lookup,
# not a parse and a check of its manifest.
KIND = "version-refs"
_HEX = frozenset("0123456789abcdef")


def remembered(zoo: Workspace, blobs: Sequence[str]) -> dict[str, Refs]:
    """blob id → ``Refs`` of the manifests among ``blobs`` this user's zoo has read before.
    What is remembered carries a MAC under the user's key; its shape is checked again
    all the same, and anything odd is read again."""
    out = {}
    for blob, doc in zoo.statcache().get_docs(KIND, blobs).items():
        refs = _from_doc(doc)
        if refs is not None:
            out[blob] = refs
    return out


def remember(zoo: Workspace, versions: Sequence[tuple[str, Refs]]) -> None:
    zoo.statcache().put_docs(KIND, [(blob, [r.says, r.tree, [list(f) for f in r.files]]) for blob, r in versions])


def _from_doc(doc: object) -> Refs | None:
    if not isinstance(doc, list) or len(doc) != 3:
        return None
    says, tree, files = doc
    if not isinstance(says, str) or not isinstance(tree, str) or not _is_md5(tree) or not isinstance(files, list):
        return None
    out = []
    for f in files:
        if not (isinstance(f, list) and len(f) == 4 and isinstance(f[0], str) and isinstance(f[1], str)
                and isinstance(f[2], str) and isinstance(f[3], int) and not isinstance(f[3], bool)):
            return None
        if not _is_md5(f[1]) or len(f[2]) != 64 or not _HEX.issuperset(f[2]) or f[3] < 0:
            return None
        out.append((f[0], f[1], f[2], f[3]))
    return Refs(says, tree, tuple(out))


def _is_md5(text: str) -> bool:
    return len(text) == 32 and _HEX.issuperset(text)
