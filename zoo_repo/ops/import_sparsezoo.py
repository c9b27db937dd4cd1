"""``zoo import-sparsezoo``: a SparseZoo download becomes a model directory ``zoo publish`` takes.

Where each file goes is ``model.sparsezoo.plan_import`` (pure); this module reads
the download (refusing links that leave it, special files and more than
``MAX_FILES`` files), fills the stub's fields into ``model.md``, and builds the
directory in a temporary folder beside the destination, renamed into place at
the end: a failure leaves nothing behind, and the destination is never one that
already holds files. Files are cloned (reflink) where the filesystem can, else
copied: never hard-linked, so editing the import cannot change the download.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zoo_repo.core import paths
from zoo_repo.core.stub import Stub, parse_stub
from zoo_repo.errors import LocalFileError, ModelDirError, UsageError
from zoo_repo.model import sparsezoo
from zoo_repo.model.sparsezoo import ImportPlan, Placed
from zoo_repo.store.copying import reflink
from zoo_repo.store.digest import hash_file

MAX_FILES = 100_000
MAX_CARD_BYTES = 1 << 20


@dataclass(frozen=True)
class ImportResult:
    """What an import did: where the model directory is, and what went where."""

    source: Path
    dest: Path
    stub: Stub
    mapped: tuple[Placed, ...]  # files with a role
    kept: tuple[Placed, ...]  # role ``other``, listed
    skipped: tuple[Placed, ...]  # not copied, with why
    conflicts: tuple[str, ...]
    card_notes: tuple[str, ...]  # what the import changed in model.md

    @property
    def files(self) -> int:
        return len(self.mapped) + len(self.kept)


def default_dest(stub: Stub) -> Path:
    """``./ARCH-SUBARCH-DATASET-SPARSETAG`` (SparseZoo's v2 model name) in the current directory."""
    parts = [stub.architecture, stub.sub_architecture, stub.dataset, stub.training_scheme,
             stub.sparse_name, stub.sparse_category, stub.sparse_target]
    return Path.cwd() / "-".join(p for p in parts if p)


def list_download(source: Path) -> dict[str, Path]:
    """Every regular file of the download: relative POSIX path → the real file to read.

    A symlink is followed only while it stays inside the download; one that leaves it,
    a broken one, a loop or a special file is refused (``ModelDirError``, exit 2)."""
    if not source.is_dir():
        raise ModelDirError(str(source), "is not a directory")
    root = source.resolve()
    found: dict[str, Path] = {}
    _walk(root, root, "", found, {(root.stat().st_dev, root.stat().st_ino)})
    problem = paths.find_problem(sorted(found))
    if problem is not None:
        raise ModelDirError(problem.shown_path, problem.rule)
    return found


def _walk(root: Path, folder: Path, prefix: str, found: dict[str, Path], seen: set[tuple[int, int]]) -> None:
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise ModelDirError(prefix or ".", f"cannot be listed: {exc.strerror}") from exc
    for name in names:
        rel, path = prefix + name, folder / name
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                target = Path(os.path.realpath(path))  # never raises on a loop: the stat below does
                if not target.is_relative_to(root):
                    raise ModelDirError(rel, f"is a symlink to {target}, outside the SparseZoo download")
                if not target.exists():
                    raise ModelDirError(rel, "is a broken symlink (or a symlink loop)")
                path, st = target, os.stat(target)
        except OSError as exc:
            raise ModelDirError(rel, f"cannot be read: {exc.strerror}") from exc
        if stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in seen:
                raise ModelDirError(rel, "is a directory symlink loop")
            _walk(root, path, rel + "/", found, seen | {(st.st_dev, st.st_ino)})
        elif stat.S_ISREG(st.st_mode):
            found[rel] = path
            if len(found) > MAX_FILES:
                raise ModelDirError(str(root), f"holds more than {MAX_FILES:,} files; is it a SparseZoo download?")
        else:
            raise ModelDirError(rel, "is a special file (device, FIFO or socket)")


def _same(files: dict[str, Path]) -> Callable[[str, str], bool]:
    def same(a: str, b: str) -> bool:
        pa, pb = files[a], files[b]
        return pa.stat().st_size == pb.stat().st_size and hash_file(pa).sha256 == hash_file(pb).sha256
    return same


def plan(source: Path, stub: Stub | str) -> tuple[ImportPlan, dict[str, Path], Stub]:
    """The import's plan, without writing anything."""
    stub = parse_stub(stub) if isinstance(stub, str) else stub
    if source.is_dir() and not {"model.onnx", "deployment"} & set(os.listdir(source)):
        # Said before walking: a home directory given by mistake is not read file by file.
        raise ModelDirError(str(source), sparsezoo.is_download([]) or "")
    files = list_download(source)
    problem = sparsezoo.is_download(list(files))
    if problem is not None:
        raise ModelDirError(str(source), problem)
    return sparsezoo.plan_import(list(files), stub.framework, _same(files)), files, stub


def _read_card(path: Path) -> str:
    if path.stat().st_size > MAX_CARD_BYTES:
        raise ModelDirError(sparsezoo.CARD, f"is larger than {MAX_CARD_BYTES >> 20} MiB; a card is text")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ModelDirError(sparsezoo.CARD, "is not UTF-8 text") from exc


def check_dest(dest: Path, source: Path) -> None:
    """A destination that is new (or an empty folder), outside the download."""
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise UsageError(f"{dest}: the destination exists and is not a folder", param="dest")
    if dest.is_dir() and any(dest.iterdir()):
        raise UsageError(f"{dest}: the destination is not empty; give a new folder with --dest", param="dest")
    if dest.resolve().is_relative_to(source.resolve()):
        raise UsageError(f"{dest}: the destination is inside the SparseZoo download", param="dest")


def import_sparsezoo(source: Path, stub: Stub | str, dest: Path | None = None) -> ImportResult:
    """Turn the SparseZoo download at ``source`` into a model directory at ``dest``
    (default: ``default_dest(stub)``), ready for ``zoo publish DEST --stub STUB``."""
    source = Path(source)
    the_plan, files, stub = plan(source, stub)
    dest = Path(dest) if dest is not None else default_dest(stub)
    check_dest(dest, source)
    card_src = next((p.source for p in the_plan.mapped if p.role == "card"), None)
    card, notes = sparsezoo.fill_card(_read_card(files[card_src]) if card_src else None, stub)
    if card_src is None:
        notes = ("the download has no model.md: one was written from the stub", *notes)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.import-", dir=dest.parent))
    try:
        for placed in the_plan.placed:
            target = tmp / placed.dest
            target.parent.mkdir(parents=True, exist_ok=True)
            if placed.role == "card":
                target.write_text(card, encoding="utf-8")
            else:
                reflink(files[placed.source], target)
        if not any(p.role == "card" for p in the_plan.mapped):
            (tmp / sparsezoo.CARD).write_text(card, encoding="utf-8")
        os.chmod(tmp, 0o755)
        if dest.is_dir():
            dest.rmdir()  # empty, as checked: rename(2) onto it would do the same
        os.rename(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise LocalFileError(str(dest), f"cannot be written: {exc.strerror}", errno=exc.errno) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    mapped = the_plan.mapped
    if card_src is None:
        mapped = tuple(sorted((*mapped, Placed("", sparsezoo.CARD, "card", "written from the stub")),
                              key=lambda p: p.dest))
    return ImportResult(source, dest, stub, mapped, the_plan.kept, the_plan.skipped, the_plan.conflicts, notes)
