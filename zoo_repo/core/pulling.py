"""What a pull does, decided over values. Pure: no I/O.

``zoo_repo.ops.pull`` gathers the facts (the destination's files, the store's
objects, the version's pack locator) and these functions turn them into the
parts of a plan: which files, which problems at the destination, which objects
to fetch and how (ranged reads of packs, or loose), how each file is placed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from zoo_repo.core import packs
from zoo_repo.core.manifest import ROLES, FileEntry, Manifest
from zoo_repo.errors import UsageError

# How a file is placed: a link mode (the store's copy, reflink, hardlink or
# symlink), or STAGED: written to the destination from the download itself.
STAGED = "staged"
CONFLICT = "conflict"  # the destination holds other bytes: replaced only with force
OUTSIDE = "outside"  # the path resolves outside the destination: always refused


def check_options(include: Iterable[str], link: str, link_modes: Sequence[str], exclude: Iterable[str] = ()) -> None:
    """Refuse empty selection values and link modes that do not exist. An ``include``
    value that is a role name selects that role; any other is a glob (see :func:`select`)."""
    for name, values in (("include", include), ("exclude", exclude)):
        if any(not v.strip() for v in values):
            raise UsageError(f"`{name}=` has an empty value; expected a role or a glob on the file's path",
                             param=name)
    if link not in link_modes:
        raise UsageError(f"`link=` {link!r} is not one of {', '.join(link_modes)}", param="link")


def select(manifest: Manifest, include: tuple[str, ...] = (), files: tuple[str, ...] = (),
           exclude: tuple[str, ...] = ()) -> tuple[FileEntry, ...]:
    """The files chosen, in manifest order.

    ``include``: each value that is a role name (:data:`ROLES`) selects that role's
    files; any other value is a glob on the file's path (as huggingface's
    ``--include``) and must match a file. No ``include``: every file. ``files``
    (globs, each must match one of those) narrows that; ``exclude`` (globs) then
    removes the files it matches (matching none is not an error).
    """
    roles = {v for v in include if v in ROLES}
    globs = [v for v in include if v not in ROLES]
    where = f"{manifest.stub}@{manifest.version_name}"
    for pattern in globs:
        if not any(matches(f.path, pattern) for f in manifest.files):
            raise UsageError(f"`include=` {pattern!r} is neither a role ({', '.join(ROLES)}) nor a glob that "
                             f"matches a file of {where}", param="include")
    chosen = tuple(f for f in manifest.files
                   if not include or f.role in roles or any(matches(f.path, g) for g in globs))
    for pattern in files:
        if not any(matches(f.path, pattern) for f in chosen):
            raise UsageError(f"`files=` {pattern!r} matches no file of {where}", param="files")
    if files:
        chosen = tuple(f for f in chosen if any(matches(f.path, p) for p in files))
    return tuple(f for f in chosen if not any(matches(f.path, p) for p in exclude))


def matches(path: str, pattern: str) -> bool:
    """A glob on the file's path; a directory name selects everything under it."""
    return fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern.rstrip("/") + "/")


@dataclass(frozen=True)
class Problem:
    """A destination path the pull cannot simply write: ``kind`` is CONFLICT or OUTSIDE."""

    path: str  # absolute
    kind: str


def first_refusal(problems: Iterable[Problem], force: bool) -> Problem | None:
    """The problem that stops the pull, in manifest order: a path outside the
    destination always, a conflict unless ``force``."""
    return next((p for p in problems if p.kind == OUTSIDE or not force), None)


@dataclass(frozen=True)
class Fetch:
    """The objects a pull downloads: one entry per object (the last file naming
    it labels it), those a pack locator places as ranged reads, the rest loose."""

    objects: tuple[FileEntry, ...] = ()
    spans: tuple[packs.Span, ...] = ()
    loose: tuple[str, ...] = ()

    @property
    def oids(self) -> frozenset[str]:
        return frozenset(f.md5 for f in self.objects)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.objects)


def plan_fetch(todo: Iterable[FileEntry], missing: Collection[str], locator: packs.Locator | None,
               loose_only: bool) -> Fetch:
    """What to download for ``todo``: the objects in ``missing`` (not in the store).

    ``locator`` None (not read: offline) or ``loose_only`` (a directory remote,
    where ranges save nothing) fetch everything loose, as ``transfer.receive`` does.
    """
    wanted = {f.md5: f for f in todo if f.md5 in missing}
    if not wanted:
        return Fetch()
    spans: list[packs.Span] = []
    loose = set(wanted)
    if not loose_only and locator is not None:
        spans, loose = packs.plan_spans(wanted, locator)
    return Fetch(tuple(wanted.values()), tuple(spans), tuple(sorted(loose)))


@dataclass(frozen=True)
class Placement:
    """A file the pull writes, and how: a link mode from the store, or STAGED."""

    entry: FileEntry
    how: str


def placements(todo: Iterable[FileEntry], fetch: Fetch, link: str, staged: bool) -> tuple[Placement, ...]:
    fetched = fetch.oids if staged else frozenset()
    return tuple(Placement(f, STAGED if f.md5 in fetched else link) for f in todo)


def offline_what(manifest: Manifest, fetch: Fetch) -> str:
    """What ``Offline`` says is not in the cache: the first file and how many more."""
    names = sorted(f.path for f in fetch.objects)
    more = f" and {len(names) - 1} more files" if len(names) > 1 else ""
    return f"{manifest.stub}@{manifest.version_name}: {names[0]}{more} are"
