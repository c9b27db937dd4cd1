"""Whole-zoo operations: push, fetch, verify, gc.

Each works from the set of objects the manifests reference, so what they do
follows from what is published and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.core.manifest import Manifest
from zoo_repo.core.progress import Progress
from zoo_repo.core.stub import Stub, parse_stub
from zoo_repo.errors import IntegrityError, UsageError, ZooError
from zoo_repo.ops.wanted import checkout_refs, referenced, referenced_by, refs_of
from zoo_repo.repo.workspace import Workspace
from zoo_repo.review.incremental import STUB_DEPTH
from zoo_repo.store.atomic import remove_readonly
from zoo_repo.store.digest import Digest

if TYPE_CHECKING:
    from zoo_repo.ops.project import ProjectResult
    from zoo_repo.remote.base import Remote


@dataclass(frozen=True)
class TransferResult:
    objects: int
    bytes: int
    missing: tuple[str, ...] = ()  # referenced objects found on neither side
    projection: ProjectResult | None = None  # what push did to the remote's projection


def push(zoo: Workspace, jobs: int = 8, progress: Progress | None = None, full: bool = False) -> TransferResult:
    """Upload every object the checkout's manifests reference that the remote lacks
    (a branch's too: review checks them there); then, on the release branch, move
    the remote's projection to it (``ops.project``), which is all consumers see.

    Only the versions the working tree changes since the commit the remote lists are
    asked about (``unlisted_stubs``); with ``full``, every version's objects are."""
    from zoo_repo.ops.project import project
    from zoo_repo.repo.release import on_release_branch

    remote = zoo.remote()
    release = on_release_branch(zoo.root)
    sent = _send_wanted(zoo, remote, None if full else unlisted_stubs(zoo, remote, release), jobs, progress)
    if sent.missing or not release:
        # The projection lists a version only when all its files are there; and it is
        # moved from the release branch only (a pull request's checkout uploads its objects).
        return sent
    moved = project(zoo, jobs=jobs, progress=progress)  # it uploads what the versions it lists lack
    return replace(sent, objects=sent.objects + moved.objects, bytes=sent.bytes + moved.bytes, projection=moved)


def _send_wanted(zoo: Workspace, remote: Remote, stubs: list[Stub] | None, jobs: int,
                 progress: Progress | None) -> TransferResult:
    """Upload what the versions of ``stubs`` (None: all) reference and the remote lacks;
    what they reference is let go of before the projection reads its own batches."""
    from zoo_repo.remote import transfer

    # Names and sizes only (a file list's size is not in its manifest): 300,000 objects'
    # digests and labels held at once were most of a --full push of 100,000 versions.
    sizes: dict[str, int | None] = {}
    for _, refs in checkout_refs(zoo, stubs=stubs):
        sizes[refs.tree + ".dir"] = None
        for _, md5, _, size in refs.files:
            sizes.setdefault(md5, size)
    missing = remote.missing(sizes, jobs=jobs, sizes=sizes)
    del sizes
    local = sorted(oid for oid in missing if zoo.store.has(oid))
    sent = transfer.send(zoo.store, remote, local, jobs=jobs, progress=progress)
    gone = {oid for oid in missing if not zoo.store.has(oid)}
    if not gone:
        return TransferResult(sent.objects, sent.bytes)
    # Read again for the labels of what is lost (rare: an error's wording only).
    labels = referenced_by(refs for _, refs in checkout_refs(zoo, stubs=stubs))
    return TransferResult(sent.objects, sent.bytes, tuple(sorted(labels[oid][1] for oid in gone)))


def unlisted_stubs(zoo: Workspace, remote: Remote, release: bool) -> list[Stub] | None:
    """The stubs whose versions may have objects the remote lacks: those the working tree
    changes (``review.incremental.stubs_changed_since``) since the commit the remote's
    projection lists; None (every stub) when it lists none, or one this repository does
    not have. On the ``release`` branch, those the working tree changes since HEAD: the
    projection that follows asks about every version it lists, before listing it.

    Every version at the listed commit had each of its objects on the remote before it
    was listed (``ops.project`` lists a version only then), so a stub directory the change
    does not touch holds only such versions. The remote says which commit that is; a
    remote that lies, or lost objects since, costs the objects' availability, never
    their bytes (a pull verifies them): ``zoo push --full`` asks about every object."""
    from zoo_repo.remote import meta

    commit = "HEAD" if release else meta.read_head(remote).commit
    return None if commit is None else stubs_touched(zoo, commit)


def stubs_touched(zoo: Workspace, commit: str) -> list[Stub] | None:
    """The stubs whose directories HEAD or the working tree change since ``commit``
    (``review.incremental.stubs_changed_since``); None (all) if this repository lacks
    it, or if git is told not to look at some file there (``git.hides_changes``)."""
    from zoo_repo.repo import git
    from zoo_repo.review.incremental import stubs_changed_since
    from zoo_repo.review.rules import MANIFESTS

    if not git.has_commit(zoo.root, commit) or git.hides_changes(zoo.root, MANIFESTS):
        return None
    texts, above = stubs_changed_since(zoo.root, commit)
    for path in above:  # an untracked directory above the stubs: every stub under it
        texts.update(_stub_dirs(str(zoo.manifests_dir), path.split("/") if path else []))
    found = set()
    for text in texts:
        try:
            found.add(parse_stub(text))
        except UsageError:
            continue  # not a stub: the walk of every stub skips it too
    return sorted(found, key=str)


def _stub_dirs(base: str, parts: list[str]) -> Iterator[str]:
    if len(parts) >= STUB_DEPTH - 1:
        yield "/".join(parts)
        return
    try:
        with os.scandir(os.path.join(base, *parts)) as entries:
            names = [e.name for e in entries if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    except OSError:
        return
    for name in names:
        yield from _stub_dirs(base, [*parts, name])


def fetch(zoo: Workspace, manifests: Iterable[Manifest], jobs: int = 8,
          progress: Progress | None = None) -> TransferResult:
    """Download every object of ``manifests`` the store lacks, verified."""
    from zoo_repo.remote import meta, transfer

    manifests = list(manifests)
    remote = zoo.remote()
    count = nbytes = 0
    with zoo.store.lock(shared=True):
        for m in manifests:  # per version, so each uses its own pack locator
            # Objects that fail verification are fetched again: the download replaces them.
            wanted = {oid: v for oid, v in referenced([m]).items() if not zoo.store.verified(oid, v[0])}
            if wanted:
                locator = meta.read_locator(remote, str(m.stub), m.version)
                count += len(wanted)
                nbytes += transfer.receive(zoo.store, remote, wanted, locator, jobs=jobs, progress=progress)[1]
    return TransferResult(count, nbytes)


@dataclass(frozen=True)
class VerifyReport:
    manifests: int
    objects: int
    problems: tuple[str, ...]  # what is still wrong
    repaired: tuple[str, ...] = ()  # corrupt objects fetched again (or removed), one line each

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(zoo: Workspace, repair: bool = False, jobs: int = 8) -> VerifyReport:
    """Every manifest parses, and every stored object matches its digests.

    With ``repair``, each corrupt object is fetched again from the remote
    (verified, replacing it); one the remote cannot supply (offline, missing
    there) is removed, so that a later pull fetches it rather than place it.
    """
    problems: list[str] = []
    manifests: list[Manifest] = []
    for stub in zoo.stubs():
        for version in zoo.versions(stub):
            try:
                manifests.append(zoo.manifest(stub, version))
            except ZooError as exc:
                problems.append(exc.message)
    expected = referenced(manifests)
    count = 0
    corrupt: dict[str, tuple[str, str]] = {}  # oid -> the problem, the repair by hand
    for oid in zoo.store.oids():
        count += 1
        try:
            got = zoo.store.check(oid)
        except IntegrityError as exc:
            corrupt[oid] = (exc.message, exc.hint or "")
            continue
        want = expected.get(oid, (None, ""))[0]
        if want is not None and got.sha256 != want.sha256:
            corrupt[oid] = (f"{zoo.store.path(oid)}: sha256 mismatch: expected sha256:{want.sha256}, "
                            f"got sha256:{got.sha256} ({expected[oid][1]})", "")
    if not repair:
        # The report is all a user sees of it, so it carries the repair too.
        return VerifyReport(len(manifests), count, (*problems, *(
            f"{line}: {hint + ', or ' if hint else ''}run `zoo verify --repair`" for line, hint in corrupt.values())))
    repaired = []
    with zoo.store.lock():  # exclusive: no pull places an object while it is replaced or removed
        for oid, (line, _) in corrupt.items():
            how = _refetch(zoo, oid, expected.get(oid, (None, oid)), jobs)
            repaired.append(f"{line}: {how}")
    return VerifyReport(len(manifests), count, tuple(problems), tuple(repaired))


def _refetch(zoo: Workspace, oid: str, want: tuple[Digest | None, str], jobs: int) -> str:
    """Fetch a corrupt object again (the download replaces it), else remove it; says which."""
    from zoo_repo.remote import transfer

    if not zoo.offline:
        try:
            transfer.receive(zoo.store, zoo.remote(), {oid: want}, {}, jobs=jobs)
            if zoo.store.verified(oid, want[0]):
                return "fetched a good copy from the remote"
        except ZooError:
            pass
    zoo.store.remove(oid)
    return "removed (the remote could not supply it: the next pull or `zoo fetch` fetches it)"


@dataclass(frozen=True)
class GcPlan:
    """What ``gc`` would remove; ``execute()`` removes it."""

    store: Path
    objects: tuple[str, ...]
    temp_files: tuple[Path, ...]
    bytes: int
    _zoo: Workspace = field(repr=False, compare=False)
    _lockfiles: tuple[Path, ...] = field(default=(), repr=False, compare=False)

    def execute(self) -> None:
        """Remove what the plan names and is still unreferenced: under the store's
        exclusive lock the plan is made again, so an object that a publish or pull
        stored (or a manifest that appeared) since planning is kept."""
        with self._zoo.store.lock():
            now = plan_gc(self._zoo, self._lockfiles)
            for oid in set(self.objects) & set(now.objects):
                self._zoo.store.remove(oid)
            for path in set(self.temp_files) & set(now.temp_files):
                remove_readonly(path)


def plan_gc(zoo: Workspace, lockfiles: Iterable[Path] = ()) -> GcPlan:
    """Objects in the store that nothing references, and stray temp files.

    Kept: every object named by a manifest in the working tree, on any local
    or remote-tracking branch (unmerged publishes included), or pinned by a
    lockfile given. Aliases only point at versions, so they are covered. A
    manifest that does not parse stops the plan: gc must never remove an
    object because the manifest naming it could not be read.
    """
    from zoo_repo.ops.headrefs import blob_refs, commit_names
    from zoo_repo.ops.lock import read_lock
    from zoo_repo.repo import git

    # Only the objects' names are kept, never the manifests: at 100,000 versions the
    # manifests, or ``referenced``'s digests and labels, would not fit a small machine.
    # What a manifest names is remembered under its git blob id (``ops.wanted``), so a
    # version seen by an earlier gc or push is not parsed again.
    # The working tree is HEAD's commit (a tip, below) but for the stubs git says it
    # changes: only their manifests are read from disk.
    keep: set[str] = set()
    local: set[str] = set()  # git's blob ids of the working tree's manifests read
    changed = stubs_touched(zoo, "HEAD")
    for blob, refs in checkout_refs(zoo, stubs=changed):
        local.add(blob)
        keep.update(refs.names())
    tips = set(git.branch_tips(zoo.root))
    head = git.resolve_commit(zoo.root, "HEAD") if changed is not None else None
    if head is not None:  # whole, once (detached, it is no branch's tip) …
        names, at_head = commit_names(zoo, head)
        keep |= names
        local |= at_head
    blobs: dict[str, str] = {}
    for tip in sorted(tips - {head}):  # … every other tip by what it changes since HEAD
        files: Iterable[tuple[str, str | None]] = git.changed_blobs(zoo.root, head, tip, "manifests").items() \
            if head else git.tree_files(zoo.root, tip, "manifests")
        for path, sha in files:
            # A branch's manifest that the working tree or HEAD holds too was read already.
            if sha is not None and path.endswith("/manifest.yaml") and sha not in local:
                blobs[sha] = f"{path} (at {tip[:10]})"
    for _, refs in blob_refs(zoo, blobs):
        keep.update(refs.names())
    for lockfile in lockfiles:
        for pin in read_lock(Path(lockfile)).pins:
            keep.update(refs_of(zoo.manifest(pin.stub, pin.version)).names())
    drop = tuple(oid for oid in zoo.store.oids() if oid not in keep)
    temps = tuple(zoo.store.temp_files())
    size = sum(zoo.store.path(oid).stat().st_size for oid in drop)
    size += sum(p.stat().st_size for p in temps if p.exists())
    return GcPlan(zoo.store.root, drop, temps, size, zoo, tuple(lockfiles))

