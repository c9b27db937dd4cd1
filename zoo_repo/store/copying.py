"""Copying an object's bytes to a destination without passing them through
Python: a copy-on-write clone where the filesystem offers one, else a
kernel-side copy. Both read from an open file, so what is copied is the very
file that was verified, even if its name is replaced meanwhile."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

NO_REFLINK: set[tuple[int, int]] = set()  # (source device, destination device) pairs that refused
_FICLONE = 0x40049409  # from linux/fs.h


def reflink(src: Path, dst: Path, devices: tuple[int, int] | None = None) -> None:
    """Copy-on-write clone of ``src`` at ``dst`` where the filesystem supports it, else a copy.

    A filesystem that refuses once is not asked again for every file of a pull.
    """
    with open(src, "rb") as s:
        clone_from(s.fileno(), dst, devices or (os.fstat(s.fileno()).st_dev, os.stat(dst.parent).st_dev))


def clone_from(fd: int, dst: Path | str, devices: tuple[int, int]) -> None:
    """``reflink`` from an open file."""
    import fcntl

    with open(dst, "xb") as d:
        if devices not in NO_REFLINK:
            try:
                fcntl.ioctl(d.fileno(), _FICLONE, fd)
                return
            except OSError:
                NO_REFLINK.add(devices)
        _copy(fd, d.fileno())


def copy_from(fd: int, dst: Path | str) -> None:
    """A new file ``dst`` with the bytes of the open file ``fd``."""
    with open(dst, "xb") as d:
        _copy(fd, d.fileno())


def _copy(src: int, dst: int) -> None:
    size = os.fstat(src).st_size
    offset = 0
    try:
        while offset < size:
            sent = os.sendfile(dst, src, offset, size - offset)
            if sent == 0:
                break
            offset += sent
    except OSError:  # a filesystem without sendfile to files: copy through a buffer
        os.lseek(src, offset, os.SEEK_SET)
        with open(src, "rb", closefd=False) as s, open(dst, "wb", closefd=False) as d:
            d.seek(offset)
            shutil.copyfileobj(s, d, 1 << 20)
