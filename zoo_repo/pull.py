"""``zoo pull``: a published version's files, verified, at a destination.

Objects missing from the store are downloaded and checked against both
digests before they get their final name; only then are files placed at the
destination, each by temp name and rename. A destination file that already
holds other bytes is a conflict, not something to overwrite silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import dvc
from .digest import Digest, hash_file
from .errors import DestinationConflict, UsageError
from .manifest import ROLES, FileEntry, Manifest
from .progress import Progress
from .store import LINK_MODES
from .zoo import Zoo


@dataclass(frozen=True)
class PullResult:
    manifest: Manifest
    dest: Path
    files: tuple[FileEntry, ...]
    fetched_objects: int
    fetched_bytes: int

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def default_dest(zoo: Zoo, manifest: Manifest) -> Path:
    """Where ``dvc pull`` would put the files too: ``manifests/<stub>/vN/model``."""
    if not zoo.is_checkout:
        raise UsageError("--dest is required when pulling from a remote URL (there is no checkout)")
    return zoo.version_dir(manifest.stub, manifest.version) / dvc.OUT_NAME


def pull(
    zoo: Zoo,
    manifest: Manifest,
    dest: str | os.PathLike[str] | None = None,
    include: tuple[str, ...] = (),
    link: str = "copy",
    force: bool = False,
    jobs: int = 8,
    progress: Progress | None = None,
) -> PullResult:
    unknown = [r for r in include if r not in ROLES]
    if unknown:
        raise UsageError(f"--include {unknown[0]!r} is not a role; expected one of {', '.join(ROLES)}")
    if link not in LINK_MODES:
        raise UsageError(f"--link {link!r} is not one of {', '.join(LINK_MODES)}")
    files = manifest.by_role(*include)
    target = Path(dest) if dest is not None else default_dest(zoo, manifest)
    target = target.resolve()

    todo = [f for f in files if _needs_write(zoo, target, f, force)]
    wanted = {
        f.md5: (Digest(f.sha256, f.md5, f.size), f.path)
        for f in todo
        if not zoo.store.has(f.md5)
    }
    fetched = 0
    if wanted:
        from . import remote_meta, transfer

        remote = zoo.remote()
        locator = remote_meta.read_locator(remote, str(manifest.stub), manifest.version)
        fetched = transfer.receive(zoo.store, remote, wanted, locator, jobs=jobs, progress=progress)[1]
    cache = zoo.statcache()
    for f in todo:
        path = target / f.path
        zoo.store.materialise(f.md5, path, link)
        cache.put(path, os.stat(path), Digest(f.sha256, f.md5, f.size))
    cache.flush()
    return PullResult(manifest, target, files, len(wanted), fetched)


def _needs_write(zoo: Zoo, target: Path, f: FileEntry, force: bool) -> bool:
    """False when the destination already holds exactly this file."""
    path = target / f.path
    if not path.resolve().is_relative_to(target):
        raise UsageError(f"{path}: resolves outside the destination {target}")
    if not os.path.lexists(path):
        return True
    if path.is_file():
        st = os.stat(path)
        if st.st_size == f.size:
            known = zoo.statcache().get(path, st)
            if (known or hash_file(path)).sha256 == f.sha256:
                return False
    if force:
        return True
    raise DestinationConflict(str(path))
