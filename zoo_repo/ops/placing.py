"""Carrying out a pull's plan: fetch what it names, then place its files.

Runs under the store's shared lock, which ``PullPlan.execute`` holds. Files
copied while their objects arrive keep temp names until every object has
arrived and been verified; only then does any destination file get its name.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.core.manifest import FileEntry
from zoo_repo.core.progress import Progress
from zoo_repo.core.pulling import CONFLICT, OUTSIDE, STAGED, first_refusal
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import install, temp_path, write_new
from zoo_repo.store.digest import Digest

if TYPE_CHECKING:
    from zoo_repo.ops.pull import PullPlan


def place(zoo: Workspace, plan: PullPlan, jobs: int, progress: Progress | None) -> int:
    """Fetch the plan's objects, then place its files; returns the bytes fetched.

    Every file keeps a temp name until all of them are written: a pull that
    fails midway (a full disk, a dead server) leaves the destination as it was.
    """
    staged = Staged(plan.dest, [p.entry for p in plan.placements if p.how == STAGED])
    try:
        fetched = _fetch(zoo, plan, jobs, progress, staged) if plan.fetch.objects else 0
        copied = set(staged.temps)  # written from a download's bytes, not from the store
        for p in plan.placements:
            f = p.entry
            if f.path not in copied:
                # Checked again: cheap while the stamp is fresh, and it closes the
                # window between planning and placing.
                zoo.store.place_at(f.md5, staged.temp_for(f.path), plan.link, Digest(f.sha256, f.md5, f.size),
                                   f"{plan.manifest.stub}@{plan.manifest.version_name}:{f.path}")
        staged.commit()
    finally:
        staged.discard()
    placed = [(path, os.stat(path), Digest(f.sha256, f.md5, f.size))
              for f in (p.entry for p in plan.placements) for path in [f"{plan.dest}/{f.path}"]]
    zoo.statcache().put_many(placed)
    return fetched


def _fetch(zoo: Workspace, plan: PullPlan, jobs: int, progress: Progress | None, staged: Staged) -> int:
    """Download the plan's objects into the store, writing the STAGED files (under
    temp names) as they arrive; returns the bytes fetched."""
    from zoo_repo.remote import transfer

    wanted = {f.md5: (Digest(f.sha256, f.md5, f.size), f.path) for f in plan.fetch.objects}
    return transfer.receive(zoo.store, zoo.remote(), wanted, plan.locator or {}, jobs=jobs, progress=progress,
                            copy_out=staged if staged.paths else None)[1]


class Staged:
    """A pull's files at the destination under temp names (copies written while
    objects arrive, and files placed from the store): they get their names only
    once every object has arrived and been verified and every file is written."""

    def __init__(self, target: Path, files: list[FileEntry]) -> None:
        self.target = target
        self.paths: dict[str, list[str]] = {}
        for f in files:
            self.paths.setdefault(f.md5, []).append(f.path)
        self.temps: dict[str, str] = {}  # path -> its temp
        self._made: set[str] = set()
        self._new_dirs: list[Path] = []
        self._fds: list[int] = []  # open files that large downloads write to as well

    def write(self, oid: str, data: memoryview) -> None:
        for rel in self.paths.get(oid, ()):
            os.close(write_new(self.temp_for(rel), data))

    def files(self, oid: str) -> list[int]:
        fds = []
        for rel in self.paths.get(oid, ()):
            fds.append(os.open(self.temp_for(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            self._fds.append(fds[-1])
        return fds

    def temp_for(self, rel: str) -> str:
        """A new temp name beside ``rel``'s place, its folder made; remembered for commit or discard."""
        final = f"{self.target}/{rel}"
        folder = os.path.dirname(final)
        if folder not in self._made:
            self._mkdirs(Path(folder))
        self.temps[rel] = tmp = temp_path(final)
        return tmp

    def _close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()

    def _mkdirs(self, folder: Path) -> None:
        new = []
        while not folder.is_dir():
            new.append(folder)
            folder = folder.parent
        for made in reversed(new):
            made.mkdir(exist_ok=True)
            self._new_dirs.append(made)
        self._made.update(str(f) for f in new or [folder])

    def commit(self) -> None:
        self._close()
        for rel, tmp in list(self.temps.items()):
            install(tmp, f"{self.target}/{rel}")
            del self.temps[rel]

    def discard(self) -> None:
        self._close()
        for tmp in self.temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self.temps.clear()
        for folder in reversed(self._new_dirs):  # what this pull created, if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._new_dirs.clear()


def summary_lines(plan: PullPlan) -> list[str]:
    """A plan as people read it: what is there, what is refused, fetched, placed, replaced."""
    from zoo_repo.core.words import count, human_size

    m = plan.manifest
    lines = [f"pull {m.stub}@{m.version_name} to {plan.dest}: {count(len(plan.files), 'file')} "
             f"({human_size(sum(f.size for f in plan.files))})"]
    if plan.in_place:
        lines.append(f"  in place: {count(len(plan.in_place), 'file')}, left as they are")
    refusal = first_refusal(plan.problems, plan.force)
    if refusal is not None:
        why = "resolves outside the destination" if refusal.kind == OUTSIDE else \
            "exists with different content (force=True replaces it)"
        return [*lines, f"  refused: {refusal.path} {why}"]
    fetch = plan.fetch
    if not fetch.objects:
        lines.append("  fetch: nothing, the store holds every object")
    elif plan.offline:
        lines.append(f"  fetch: {count(len(fetch.objects), 'object')} ({human_size(fetch.bytes)}) are not in the cache "
                     "and this zoo is offline: executing raises Offline")
    else:
        packed = sum(len(s.members) for s in fetch.spans)
        lines.append(f"  fetch: {count(len(fetch.objects), 'object')} ({human_size(fetch.bytes)}): {packed} by "
                     f"{count(len(fetch.spans), 'ranged read')} of packs, {len(fetch.loose)} loose")
    staged = sum(1 for p in plan.placements if p.how == STAGED)
    if not plan.placements:
        lines.append("  place: nothing")
    else:
        lines.append(f"  place: {count(len(plan.placements), 'file')} by {plan.link}"
                     + (f", {staged} of them copied as they download" if staged else ""))
    replaced = [p.path for p in plan.problems if p.kind == CONFLICT]
    if replaced:
        lines.append(f"  replace: {count(len(replaced), 'file')} that hold other bytes (force): {', '.join(replaced)}")
    return lines
