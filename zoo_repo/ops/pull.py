"""``zoo pull``: a published version's files, verified, at a destination. Plan first, then act.

``plan_pull`` looks and decides: which files are already in place, which
destination paths conflict, which objects must be fetched (by ranged reads of
packs, or loose) and how each file will be placed. ``PullPlan.execute`` carries
that out: objects missing from the store are downloaded and checked against
both digests before they get their final name; only then are files placed at
the destination, each by temp name and rename. A destination file that
already holds other bytes is a conflict, not something to overwrite silently.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from zoo_repo.core import packs
from zoo_repo.core.card import Card, parse_card
from zoo_repo.core.deprecation import Deprecation
from zoo_repo.core.manifest import FileEntry, Manifest
from zoo_repo.core.progress import Progress
from zoo_repo.core.pulling import (
    CONFLICT,
    OUTSIDE,
    Fetch,
    Placement,
    Problem,
    check_options,
    first_refusal,
    offline_what,
    placements,
    plan_fetch,
    select,
)
from zoo_repo.core.trust import Trust
from zoo_repo.errors import DestinationConflict, Offline, UsageError
from zoo_repo.ops.trusting import Signed, require
from zoo_repo.repo import dvc
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import clear_stale_temps
from zoo_repo.store.digest import Digest, hash_file
from zoo_repo.store.objects import LINK_MODES
from zoo_repo.store.statcache import Entry, fresh

_WRITE = "write"  # a destination path that is free (or a dangling link): the file is written


@dataclass(frozen=True)
class PullResult:
    """A pulled model: where its files are, and what it is.

    ``onnx_path``, ``recipes``, ``sample_inputs`` and ``card`` give the files by
    role, as SparseZoo's ``Model`` does; paths are absolute, under ``dest``.
    """

    manifest: Manifest
    dest: Path
    files: tuple[FileEntry, ...]
    fetched_objects: int
    fetched_bytes: int
    digest: str = ""  # the manifest's digest, sha256:…
    signed: Signed | None = None  # its signatures as the pins judged them (None: nothing pinned)
    recipe_path: str | None = None  # the file the reference's ?recipe= / ?recipe_type= selected
    deprecated: Deprecation | None = None  # why its stub is deprecated, and its successor (None: it is not)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def stub(self) -> str:
        return str(self.manifest.stub)

    @property
    def version(self) -> str:
        return self.manifest.version_name

    def _paths(self, role: str) -> list[Path]:
        return [self.dest / f.path for f in self.files if f.role == role]

    @property
    def onnx_path(self) -> Path | None:
        # The graph itself: its external data files share the onnx role and may sort before it.
        found = [self.dest / f.path for f in self.files if f.role == "onnx" and f.path == "model.onnx"]
        return found[0] if found else None

    @property
    def recipes(self) -> dict[str, Path]:
        """Recipe name (``original``, …) → path."""
        return {p.stem: p for p in self._paths("recipes")}

    @property
    def recipe(self) -> Path | None:
        """The recipe the reference's ``?recipe=``/``?recipe_type=`` selected, if it was
        pulled (``files``/``exclude`` may leave it out); None without a query."""
        pulled = {f.path for f in self.files}
        return self.dest / self.recipe_path if self.recipe_path in pulled else None

    @property
    def sample_inputs(self) -> list[Path]:
        return self._paths("sample-inputs")

    @property
    def sample_outputs(self) -> list[Path]:
        return self._paths("sample-outputs")

    @property
    def card(self) -> Card:
        """The model card: parsed from the pulled model.md, else from the manifest's copy of its metadata."""
        found = self._paths("card")
        if found and found[0].exists():
            return parse_card(found[0].read_text(encoding="utf-8"), str(found[0]))
        return Card(metadata=dict(self.manifest.card), metrics=self.manifest.metrics)


def default_dest(zoo: Workspace, manifest: Manifest) -> Path:
    """In a checkout, where ``dvc pull`` puts the files too: ``manifests/<stub>/vN/model``;
    without one, the version's snapshot in the per-user cache (as huggingface_hub's
    ``snapshot_download`` returns a cache path): files hard-linked to the cache's
    read-only objects, shared by every project on the machine."""
    snapshot = zoo.snapshot_dir(manifest.stub, manifest.version)
    if snapshot is not None:
        return snapshot
    return zoo.version_dir(manifest.stub, manifest.version) / dvc.OUT_NAME


@dataclass(frozen=True)
class PullPlan:
    """What a pull would do; ``execute()`` does it (``summary()`` says it).

    ``problems`` lists destination paths in manifest order: conflicts (other
    bytes; replaced only with ``force``) and paths that resolve outside the
    destination (always refused). A plan that a problem stops fetches and
    places nothing: ``execute()`` raises the first one, as ``pull`` does.
    The destination is described as it was when planned: plan again after
    changing it. The store is checked again by ``execute()``.
    """

    manifest: Manifest
    dest: Path
    files: tuple[FileEntry, ...]  # chosen by include and files
    in_place: tuple[FileEntry, ...]  # already at dest with these bytes: left alone
    problems: tuple[Problem, ...]
    force: bool
    link: str
    offline: bool
    fetch: Fetch = Fetch()  # objects the store lacks: packed spans and loose
    placements: tuple[Placement, ...] = ()  # files to write, and how
    _zoo: Workspace | None = field(default=None, repr=False, compare=False)
    locator: packs.Locator | None = field(default=None, repr=False, compare=False)  # read when fetching
    signed: Signed | None = None  # checked before anything was planned (``ops.trusting``)
    deprecated: Deprecation | None = None  # the stub's deprecation, for the result to carry

    @property
    def conflicts(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.problems if p.kind == CONFLICT)

    def summary(self) -> str:
        """The plan in a few lines, for people."""
        from zoo_repo.ops.placing import summary_lines

        return "\n".join(summary_lines(self))

    def execute(self, *, jobs: int = 8, progress: Progress | None = None) -> PullResult:
        """Fetch and place what the plan names. Under the store's shared lock, the
        objects it counted on are checked again: one that ``gc`` or ``cache prune``
        removed since planning is fetched too."""
        from zoo_repo.ops.placing import place

        refusal = first_refusal(self.problems, self.force)
        if refusal is not None:
            if refusal.kind == OUTSIDE:
                raise UsageError(f"{refusal.path}: resolves outside the destination {self.dest}")
            raise DestinationConflict(refusal.path)
        zoo = self._workspace()
        with zoo.store.lock(shared=True):
            plan = self._current()
            for folder in {(self.dest / p.entry.path).parent for p in plan.placements}:
                clear_stale_temps(folder)  # left by a pull that was killed mid-way
            if plan.fetch.objects and zoo.offline:
                _refuse_offline(zoo, self.manifest, plan.fetch)
            try:
                fetched = place(zoo, plan, jobs, progress)
            finally:
                zoo.store.stamps.flush()  # while the lock keeps gc from removing what they vouch for
        return PullResult(self.manifest, self.dest, self.files, len(plan.fetch.objects), fetched,
                          zoo.digest(self.manifest.stub, self.manifest.version), self.signed,
                          deprecated=self.deprecated)

    def _workspace(self) -> Workspace:
        if self._zoo is None:
            raise TypeError("this PullPlan was not made by plan_pull; it cannot be executed")
        return self._zoo

    def _current(self) -> PullPlan:
        """This plan, or (when the store has changed since planning) its store part made again."""
        zoo = self._workspace()
        todo = [p.entry for p in self.placements]
        missing = unverified(zoo, todo)
        if missing == self.fetch.oids:
            return self
        fetch, places, locator = _plan_store(zoo, self.manifest, self.dest, todo, missing, self.link, self.locator)
        return replace(self, fetch=fetch, placements=places, locator=locator)


def plan_pull(
    zoo: Workspace,
    manifest: Manifest,
    dest: str | os.PathLike[str] | None = None,
    include: tuple[str, ...] = (),
    link: str = "reflink",
    force: bool = False,
    files: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    trust: Trust | None = None,
) -> PullPlan:
    """What pulling ``manifest``'s files to ``dest`` takes; nothing is written there.

    First, the version's signatures are judged by ``trust`` (default: the pins in
    force, ``ops.trusting.in_force``): a version that lacks the approvals they
    require is ``Unsigned``, and nothing is planned, fetched or placed.

    ``include`` (roles, or globs: see ``core.pulling.select``), ``files`` (globs, as
    Hugging Face's allow_patterns) and ``exclude`` (globs, as its ignore_patterns)
    select a part: only that is fetched. Looks at every chosen destination file
    (hashing it only when the stat cache does not know it) and at the store; reads
    the version's pack locator from the remote when objects must be fetched.
    """
    check_options(include, link, LINK_MODES, exclude)
    chosen = select(manifest, include, files, exclude)
    signed = require(zoo, manifest, trust)
    target = Path(dest) if dest is not None else default_dest(zoo, manifest)
    if dest is None and zoo.snapshot_dir(manifest.stub, manifest.version) is not None:
        link = "hardlink"  # a snapshot is read-only and costs no space beside the cache
    target = Path(os.path.realpath(target))  # Path.resolve raises RuntimeError on a loop; let ELOOP say it
    in_place, todo, problems = _survey(zoo, target, chosen, force)
    plan = PullPlan(manifest, target, chosen, in_place, problems, force, link, zoo.offline, _zoo=zoo,
                    signed=signed, deprecated=zoo.deprecation(manifest.stub))
    if first_refusal(problems, force) is not None:
        return plan  # refused as it stands: nothing to fetch or place
    # Shared: the probe that tells whether reflinks work is a temp file that gc must leave alone.
    with zoo.store.lock(shared=True):
        missing = unverified(zoo, todo)
        fetch, places, locator = _plan_store(zoo, manifest, target, todo, missing, link)
    return replace(plan, fetch=fetch, placements=places, locator=locator)


def pull(
    zoo: Workspace,
    manifest: Manifest,
    dest: str | os.PathLike[str] | None = None,
    include: tuple[str, ...] = (),
    link: str = "reflink",
    force: bool = False,
    jobs: int = 8,
    progress: Progress | None = None,
    files: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    trust: Trust | None = None,
) -> PullResult:
    """Place ``manifest``'s files at ``dest``; ``include``, ``files`` and ``exclude``
    select a part (see :func:`plan_pull`): only that is fetched."""
    plan = plan_pull(zoo, manifest, dest=dest, include=include, link=link, force=force, files=files,
                     exclude=exclude, trust=trust)
    return plan.execute(jobs=jobs, progress=progress)


def unverified(zoo: Workspace, todo: Sequence[FileEntry]) -> set[str]:
    """The objects of ``todo`` the store cannot hand out: missing, or holding bytes
    other than the manifest's sha256 (those are fetched again, and replaced)."""
    checked: dict[str, bool] = {}
    for f in todo:
        if f.md5 not in checked:
            checked[f.md5] = zoo.store.verified(f.md5, Digest(f.sha256, f.md5, f.size))
    return {oid for oid, ok in checked.items() if not ok}


def _refuse_offline(zoo: Workspace, manifest: Manifest, fetch: Fetch) -> None:
    """Offline, nothing can be fetched: an object that is there but corrupt is an
    IntegrityError naming it (and the repair), the rest Offline."""
    for f in fetch.objects:
        if zoo.store.has(f.md5):
            err = zoo.store.corruption(f.md5, Digest(f.sha256, f.md5, f.size),
                                       f"{manifest.stub}@{manifest.version_name}:{f.path}")
            err.hint = ("pull again online to fetch a good copy (it replaces the corrupt one), "
                        "or run `zoo verify --repair`")
            raise err
    raise Offline(offline_what(manifest, fetch))


def _plan_store(zoo: Workspace, manifest: Manifest, target: Path, todo: Sequence[FileEntry],
                missing: Collection[str], link: str,
                locator: packs.Locator | None = None) -> tuple[Fetch, tuple[Placement, ...], packs.Locator | None]:
    """The fetch and the placements for ``todo``, given the objects the store lacks.

    Offline, nothing is asked of the remote: the fetch lists what is missing
    (and executing the plan raises Offline).
    """
    staged = False
    loose_only = False
    if missing and not zoo.offline:
        remote = zoo.remote()
        loose_only = not remote.packs
        if locator is None:
            from zoo_repo.remote import meta

            locator = meta.read_locator(remote, str(manifest.stub), manifest.version)
        # Copies (and reflinks the filesystem refuses) are written straight to the
        # destination as objects arrive: the store's copy need not be read back.
        staged = link == "copy" or (link == "reflink" and not zoo.store.can_reflink(target))
    fetch = plan_fetch(todo, missing, locator, loose_only)
    return fetch, placements(todo, fetch, link, staged), locator


def _survey(zoo: Workspace, target: Path, chosen: Sequence[FileEntry],
            force: bool) -> tuple[tuple[FileEntry, ...], list[FileEntry], tuple[Problem, ...]]:
    """The chosen files already in place, those to write (conflicts too, with
    ``force``), and the destination's problems, in manifest order."""
    inside: dict[str, bool] = {}
    seen = zoo.statcache().under(target)
    in_place: list[FileEntry] = []
    todo: list[FileEntry] = []
    problems: list[Problem] = []
    for f in chosen:
        state = _state(zoo, target, f, inside, seen)
        if state is None:
            in_place.append(f)
            continue
        if state != _WRITE:
            problems.append(Problem(f"{target}/{f.path}", state))
        if state == _WRITE or (state == CONFLICT and force):
            todo.append(f)
    return tuple(in_place), todo, tuple(problems)


def _state(zoo: Workspace, target: Path, f: FileEntry, inside: dict[str, bool],
           seen: dict[str, Entry]) -> str | None:
    """None when the destination already holds exactly this file; else _WRITE
    (nothing there), CONFLICT (other bytes) or OUTSIDE.

    A file is replaced by renaming over it, which never writes through a
    symlink; only a linked folder could lead outside, so each folder's real
    path is checked once (``inside`` remembers the answers).
    """
    path = f"{target}/{f.path}"  # a plain string: this runs for every file of a pull
    folder = os.path.dirname(f.path)
    if folder not in inside:
        inside[folder] = Path(os.path.realpath(target / folder)).is_relative_to(target)
    if not inside[folder]:
        return OUTSIDE
    try:
        st: os.stat_result | None = os.stat(path)  # through a symlink: link="symlink" makes them
    except FileNotFoundError:
        if not os.path.islink(path):
            return _WRITE
        st = None  # a dangling link
    if st is not None and stat.S_ISREG(st.st_mode):
        if st.st_size == f.size:
            known = fresh(seen.get(path), st)
            if known is None:
                known = hash_file(path)
                if known.sha256 == f.sha256:  # remember it: the next pull need not hash it again
                    zoo.statcache().put(path, st, known)
            if known.sha256 == f.sha256:
                return None
    return CONFLICT
