"""Local-filesystem helpers shared by the store and the materialiser."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def temp_name(final: Path) -> Path:
    """A process-unique name beside ``final``: same directory, so rename is atomic."""
    return Path(temp_path(str(final)))


def temp_path(final: str) -> str:
    """``temp_name`` for a plain string path (hot loops over thousands of files)."""
    folder, name = os.path.split(final)
    return os.path.join(folder, f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_write(final: Path, mode: int = 0o644, fsync: bool = True) -> Iterator[BinaryIO]:
    """Write to a temp name beside ``final``, fsync (unless told not to), then
    rename onto it; the temp goes on error. Readers see the old file or the new."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        with open(tmp, "xb") as fh:
            yield fh
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def create_exclusive(final: Path, data: bytes) -> bool:
    """Write ``final`` only if it does not exist; False when it did.

    The complete file is linked into place (link(2) refuses an existing
    name), so of two racing writers exactly one wins and no reader ever
    sees a partial file.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.link(tmp, final)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return True


def write_text_atomic(final: Path, text: str) -> None:
    with atomic_write(final) as fh:
        fh.write(text.encode("utf-8"))


def remove_readonly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, 0o644)
        os.unlink(path)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    return True


def clear_stale_temps(directory: Path) -> None:
    """Remove temp names (see ``temp_name``) left in ``directory`` by processes that died."""
    import shutil

    if not directory.is_dir():
        return
    for entry in directory.glob(".*.tmp-*"):
        try:
            pid = int(entry.name.rsplit(".tmp-", 1)[1].split("-", 1)[0])
        except (ValueError, IndexError):
            continue
        if not pid_alive(pid):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
