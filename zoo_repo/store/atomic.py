"""The one way zoo makes a file appear under its final name: written under a
temp name in the same directory (or the store's ``tmp/``, on the same
filesystem), then renamed. A reader sees the old file or the new one, never a
part; a crash leaves at most a temp name, which the next run removes.

Temp names carry the writer's pid (``.NAME.tmp-PID-RANDOM``), so that
``clear_stale_temps`` can tell a dead process's leftovers from a live one's.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

PathLike = str | os.PathLike[str]


def temp_name(final: Path) -> Path:
    """A process-unique name beside ``final``: same directory, so rename is atomic."""
    return Path(temp_path(str(final)))


_serial = itertools.count()
_token: tuple[int, str] = (-1, "")  # (pid, random token) of this process


def temp_path(final: str) -> str:
    """``temp_name`` for a plain string path (hot loops over thousands of files)."""
    global _token
    pid = os.getpid()
    if _token[0] != pid:  # a new process (or a fork): a new token, so no leftover of a reused pid collides
        _token = (pid, uuid.uuid4().hex[:6])
    folder, name = os.path.split(final)
    return os.path.join(folder, f".{name}.tmp-{pid}-{_token[1]}{next(_serial):x}")


def write_new(path: str, data: bytes | memoryview, mode: int = 0o644) -> int:
    """Create ``path`` (it must not exist) holding ``data``; returns its open descriptor,
    for the caller to stat and close. One open and one write: thousands of small
    files make a Python file object's overhead show."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            if n <= 0:  # never for a regular file; looping on it would never end
                raise OSError(errno.EIO, f"no byte written to {path}")
            view = view[n:]
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def staged(final: PathLike, folder: PathLike | None = None) -> Iterator[str]:
    """A temp path for ``final`` (beside it, or in ``folder``), removed on the way
    out unless ``install`` moved it into place."""
    base = os.fspath(final) if folder is None else os.path.join(os.fspath(folder), os.path.basename(final))
    tmp = temp_path(base)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def install(tmp: PathLike, final: PathLike, mode: int | None = None) -> None:
    """Give a complete temp file its final name (replacing what was there)."""
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, final)


def install_dir(tmp: Path, final: Path) -> bool:
    """Give a complete temp directory its final name; False when ``final`` exists
    (rename(2) refuses a non-empty target: what is published is never replaced)."""
    try:
        os.rename(tmp, final)
    except OSError:
        if final.exists():
            return False
        raise
    return True


@contextlib.contextmanager
def atomic_write(final: Path, mode: int = 0o644, fsync: bool = True) -> Iterator[BinaryIO]:
    """Write ``final`` through a temp name, fsync it (unless told not to), rename."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with staged(final) as tmp:
        with open(tmp, "xb") as fh:
            yield fh
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        install(tmp, final, mode)


def write_bytes_atomic(final: Path, data: bytes) -> None:
    with atomic_write(final) as fh:
        fh.write(data)


def write_text_atomic(final: Path, text: str) -> None:
    write_bytes_atomic(final, text.encode("utf-8"))


def create_exclusive(final: Path, data: bytes) -> bool:
    """Write ``final`` only if it does not exist; False when it did.

    The complete file is linked into place (link(2) refuses an existing
    name), so of two racing writers exactly one wins and no reader ever
    sees a partial file.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    with staged(final) as tmp:
        with open(tmp, "xb") as fh:
            fh.write(data)
        try:
            os.link(tmp, final)
        except FileExistsError:
            return False
    return True


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
