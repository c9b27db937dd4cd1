"""Files only this user's zoo can have written: a speed-up kept in a checkout, behind a MAC.

What a command remembers inside a checkout (``.zoo/``) may have come with a clone,
or been edited by whoever can write there; each such file carries an HMAC made
with the user's key (``store.userkey``, which lives outside every checkout) over
what it is for, where it belongs and its bytes. One that fails the MAC, is too
large, or is anything but a regular file is treated as absent: worked out again.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

from zoo_repo.store.atomic import write_bytes_atomic


def _mac(key: bytes, magic: bytes, where: str, body: bytes) -> bytes:
    return hmac.new(key, magic + b"\0" + where.encode("utf-8", "surrogateescape") + b"\0" + body,
                    hashlib.sha256).digest()


def read(path: Path, key: bytes, magic: bytes, where: str, limit: int) -> bytes | None:
    """The body written by ``write`` with the same key, magic and ``where``; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > limit or not data.startswith(magic):
        return None
    mac_hex, _, body = data[len(magic):].partition(b"\n")
    try:
        mac = bytes.fromhex(mac_hex.decode("ascii"))
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(key, magic, where, body)):
        return None  # not written by this user for this place, or changed since
    return body


def write(path: Path, key: bytes, magic: bytes, where: str, body: bytes) -> None:
    """Replace ``path`` with ``body`` behind its MAC (atomically); OSError if it cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, magic + _mac(key, magic, where, body).hex().encode() + b"\n" + body)


def keep(path: Path, key: bytes, magic: bytes, where: str, body: bytes, limit: int) -> None:
    """``write``, if ``body`` fits ``limit`` and the place is writable: what these files hold
    is a speed-up only (a read-only checkout works them out every time)."""
    if len(body) > limit:
        return
    try:
        write(path, key, magic, where, body)
    except OSError:
        pass
