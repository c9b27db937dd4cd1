"""Reading files someone else controls: a checkout, a pull request, a directory remote.

A path there may name a FIFO (opening it blocks until a writer comes, reading
it waits forever), a device (``/dev/zero`` never ends), a folder, or a symlink
to any of these; a regular file may be larger than anything declared. So a
file is opened without following a final symlink and without blocking,
refused unless ``fstat`` says it is a regular file, and read no further than
its limit and one byte more: enough to tell "too large" from "exactly full".
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator

from zoo_repo.core.manifest import MANIFEST_NAME, MAX_MANIFEST_BYTES
from zoo_repo.errors import NotRegularFile, TooLarge

CHUNK = 1 << 20
# The cap on a metadata file read as text (manifest.yaml, model.md, aliases.yaml,
# a DVC pointer): YAML is refused above 1 MiB anyway, a card is far smaller.
TEXT_LIMIT = 4 << 20


def text_limit(name: str) -> int:
    """The cap for a version's text file: a manifest has a line per file, so it may be
    as large as publish allows one to be; cards, aliases and lockfiles get TEXT_LIMIT."""
    return MAX_MANIFEST_BYTES if name.endswith(MANIFEST_NAME) else TEXT_LIMIT
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str, label: str | None = None) -> int:
    """A read-only descriptor of ``path`` if it is a regular file, not reached by a final
    symlink; NotRegularFile otherwise (``label`` names it in the message)."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # what O_NOFOLLOW answers for a final symlink
            raise NotRegularFile(label or path, "a symbolic link") from exc
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened for writing
            raise NotRegularFile(label or path, "a socket") from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(label or path, _kind(mode))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def chunks(fd: int, limit: int) -> Iterator[bytes]:
    """The file's bytes in chunks, at most ``limit + 1`` of them in all: a caller
    that gets more than ``limit`` knows the file is larger without reading it whole."""
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(CHUNK, left))
        if not chunk:
            return
        left -= len(chunk)
        yield chunk


def read_bounded(path: str, limit: int, label: str | None = None) -> bytes:
    """A regular file's bytes; TooLarge when it holds more than ``limit``."""
    fd = open_regular(path, label)
    try:
        data = b"".join(chunks(fd, limit))
    finally:
        os.close(fd)
    if len(data) > limit:
        raise TooLarge(label or path, limit)
    return data


def read_text_bounded(path: str, limit: int, label: str | None = None) -> str:
    """``read_bounded`` decoded as UTF-8 (UnicodeDecodeError for the caller to name)."""
    return read_bounded(path, limit, label).decode("utf-8")
