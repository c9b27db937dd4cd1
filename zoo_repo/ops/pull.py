"""``zoo pull``: a published version's files, verified, at a destination.

Objects missing from the store are downloaded and checked against both
digests before they get their final name; only then are files placed at the
destination, each by temp name and rename. A destination file that already
holds other bytes is a conflict, not something to overwrite silently.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from zoo_repo.core.card import Card, parse_card
from zoo_repo.core.manifest import ROLES, FileEntry, Manifest
from zoo_repo.core.progress import Progress
from zoo_repo.errors import DestinationConflict, Offline, UsageError
from zoo_repo.repo import dvc
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import clear_stale_temps, install, temp_path
from zoo_repo.store.digest import Digest, hash_file
from zoo_repo.store.objects import LINK_MODES
from zoo_repo.store.statcache import Entry, fresh


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
        found = self._paths("onnx")
        return found[0] if found else None

    @property
    def recipes(self) -> dict[str, Path]:
        """Recipe name (``original``, …) → path."""
        return {p.stem: p for p in self._paths("recipes")}

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
    """Where ``dvc pull`` would put the files too: ``manifests/<stub>/vN/model``."""
    if not zoo.is_checkout:
        raise UsageError("`dest=` is required when pulling from a remote URL (there is no checkout)", param="dest")
    return zoo.version_dir(manifest.stub, manifest.version) / dvc.OUT_NAME


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
) -> PullResult:
    """Place ``manifest``'s files at ``dest``; ``include`` (roles) and ``files``
    (globs, as Hugging Face's allow_patterns) select a part: only that is fetched."""
    unknown = [r for r in include if r not in ROLES]
    if unknown:
        raise UsageError(f"`include=` {unknown[0]!r} is not a role; expected one of {', '.join(ROLES)}",
                         param="include")
    if link not in LINK_MODES:
        raise UsageError(f"`link=` {link!r} is not one of {', '.join(LINK_MODES)}", param="link")
    chosen = manifest.by_role(*include)
    for pattern in files:
        if not any(_matches(f.path, pattern) for f in chosen):
            raise UsageError(f"`files=` {pattern!r} matches no file of {manifest.stub}@{manifest.version_name}",
                             param="files")
    if files:
        chosen = tuple(f for f in chosen if any(_matches(f.path, p) for p in files))
    target = Path(dest) if dest is not None else default_dest(zoo, manifest)
    target = target.resolve()

    inside: dict[str, bool] = {}
    seen = zoo.statcache().under(target)
    todo = [f for f in chosen if _needs_write(zoo, target, f, force, inside, seen)]
    # Shared: gc and cache prune, which delete objects, wait until these are placed.
    with zoo.store.lock(shared=True):
        wanted = {
            f.md5: (Digest(f.sha256, f.md5, f.size), f.path)
            for f in todo
            if not zoo.store.has(f.md5)
        }
        fetched = 0
        placed: set[str] = set()  # paths written from a download's memory, not from the store
        for folder in {(target / f.path).parent for f in todo}:
            clear_stale_temps(folder)  # left by a pull that was killed mid-way
        if wanted and zoo.offline:
            names = sorted(label for _, label in wanted.values())
            more = f" and {len(names) - 1} more files" if len(names) > 1 else ""
            raise Offline(f"{manifest.stub}@{manifest.version_name}: {names[0]}{more} are")
        if wanted:
            from zoo_repo.remote import meta, transfer

            remote = zoo.remote()
            locator = meta.read_locator(remote, str(manifest.stub), manifest.version)
            staged = None
            if link == "copy" or (link == "reflink" and not zoo.store.can_reflink(target)):
                staged = _Staged(target, [f for f in todo if f.md5 in wanted])
            try:
                fetched = transfer.receive(zoo.store, remote, wanted, locator, jobs=jobs, progress=progress,
                                           copy_out=staged)[1]
                if staged:
                    placed = set(staged.temps)
                    staged.commit()
            finally:
                if staged:
                    staged.discard()
        placed_now = []
        for f in todo:
            path = f"{target}/{f.path}"
            if f.path not in placed:
                zoo.store.materialise(f.md5, Path(path), link)
            placed_now.append((path, os.stat(path), Digest(f.sha256, f.md5, f.size)))
        zoo.statcache().put_many(placed_now)
    return PullResult(manifest, target, chosen, len(wanted), fetched, zoo.digest(manifest.stub, manifest.version))


class _Staged:
    """Copies written to the destination while objects arrive, under temp names:
    they get their names only once every object has arrived and been verified."""

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
            with open(self._temp_for(rel), "xb") as fh:
                fh.write(data)

    def files(self, oid: str) -> list[int]:
        fds = []
        for rel in self.paths.get(oid, ()):
            fds.append(os.open(self._temp_for(rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            self._fds.append(fds[-1])
        return fds

    def _temp_for(self, rel: str) -> str:
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
            install(tmp, self.target / rel)
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


def _matches(path: str, pattern: str) -> bool:
    """A glob on the file's path; a directory name selects everything under it."""
    return fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern.rstrip("/") + "/")


def _needs_write(zoo: Workspace, target: Path, f: FileEntry, force: bool, inside: dict[str, bool],
                 seen: dict[str, Entry]) -> bool:
    """False when the destination already holds exactly this file.

    A file is replaced by renaming over it, which never writes through a
    symlink; only a linked folder could lead outside, so each folder's real
    path is checked once (``inside`` remembers the answers).
    """
    path = f"{target}/{f.path}"  # a plain string: this runs for every file of a pull
    folder = os.path.dirname(f.path)
    if folder not in inside:
        inside[folder] = Path(os.path.realpath(target / folder)).is_relative_to(target)
    if not inside[folder]:
        raise UsageError(f"{path}: resolves outside the destination {target}")
    try:
        st: os.stat_result | None = os.stat(path)  # through a symlink: link="symlink" makes them
    except FileNotFoundError:
        if not os.path.islink(path):
            return True
        st = None  # a dangling link
    if st is not None and stat.S_ISREG(st.st_mode):
        if st.st_size == f.size:
            known = fresh(seen.get(path), st)
            if known is None:
                known = hash_file(path)
                if known.sha256 == f.sha256:  # remember it: the next pull need not hash it again
                    zoo.statcache().put(path, st, known)
            if known.sha256 == f.sha256:
                return False
    if force:
        return True
    raise DestinationConflict(path)
