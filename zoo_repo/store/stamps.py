"""Which bytes each object of a store was verified to hold: its stamps.

A stamp is an object's size, mtime_ns, inode and ctime_ns at the moment its
bytes were verified, with the sha256 they hashed to (and the md5, or "" when
only sha256 was checked). It lives in the store's ``.zoo-stamps.sqlite``, one
row per object, with an HMAC under the user's key (``statcache``), so a stamp
database that came with a clone vouches for nothing. A stamp vouches for an
object only while the object's stat still matches: any write to it (through a
hard link or symlink placement, a stray ``chmod`` and edit, bit rot repaired
by a tool) moves its mtime or ctime, and the object is hashed again.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path

from zoo_repo.store.digest import CHUNK, Digest, Hasher
from zoo_repo.store.statcache import StatCache

NAME = ".zoo-stamps.sqlite"
DEFAULT_KEY = b""  # "ask userkey.user_key()"
# Stamps are written in batches: one sqlite transaction per stamp was a fifth
# of a 2,000-file pull. A stamp lost with a killed process costs only a rehash.
BATCH = 512
# Held strongly: stamps whose store was dropped unflushed are still written at exit.
_unflushed: set[Stamps] = set()


def vouches(got: Digest, oid: str, expect: Digest | None) -> bool:
    """Whether a digest of an object's bytes is what a reader expects of it: the
    sha256 and size it trusts, or (without ``expect``) an md5 equal to the name."""
    if expect is None:
        return got.md5 == oid.removesuffix(".dir")
    return got.sha256 == expect.sha256 and got.size == expect.size


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns, a.st_ino) == (b.st_size, b.st_mtime_ns, b.st_ctime_ns, b.st_ino)


class Stamps:
    def __init__(self, root: Path, key: bytes | None = DEFAULT_KEY) -> None:
        """``key``: the user's secret (default: ``userkey.user_key()``; None: no
        stamps, so every use of an object hashes it again)."""
        self._path = root / NAME
        self._key = key
        self._db: StatCache | None = None
        self._pending: dict[str, tuple[os.stat_result, Digest]] = {}
        self._lock = threading.Lock()

    def _open(self) -> StatCache | None:
        if self._db is None:
            if self._key == DEFAULT_KEY:
                from zoo_repo.store.userkey import user_key

                try:
                    self._key = user_key()
                except OSError:  # no writable cache directory: every use hashes again
                    self._key = None
            if self._key is None:
                return None
            self._db = StatCache(self._path, self._key)
        return self._db

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None

    def flush(self) -> None:
        """Write the stamps still held in memory, in one transaction."""
        with self._lock:
            rows, self._pending = self._pending, {}
            _unflushed.discard(self)
        db = self._open() if rows else None
        if db is not None:
            db.put_many([(oid, st, got) for oid, (st, got) in rows.items()])

    def put(self, oid: str, st: os.stat_result, got: Digest) -> None:
        """Remember that the file ``st`` describes held the bytes ``got`` describes."""
        if self._open() is None:
            return
        with self._lock:
            self._pending[oid] = (st, got)
            _unflushed.add(self)
            full = len(self._pending) >= BATCH
        if full:
            self.flush()

    def forget(self, oid: str) -> None:
        with self._lock:
            self._pending.pop(oid, None)
        db = self._open()
        if db is not None:
            db.forget(oid)

    def fresh(self, oid: str, st: os.stat_result, expect: Digest | None) -> Digest | None:
        """The stamp's digest when it still matches ``st`` and vouches for ``expect``."""
        with self._lock:
            held = self._pending.get(oid)
        if held is not None:
            got = held[1] if _same_file(held[0], st) else None
        else:
            db = self._open()
            got = db.get(oid, st) if db is not None else None
        return got if got is not None and vouches(got, oid, expect) else None

    def check(self, oid: str, fd: int, expect: Digest | None) -> Digest | None:
        """The digest of the open object ``fd`` if it is what ``expect`` says: from
        its stamp while fresh, else by hashing it (stamped when it matches)."""
        before = os.fstat(fd)
        got = self.fresh(oid, before, expect)
        if got is not None:
            return got
        hasher = Hasher(md5=expect is None)  # sha256 is what a reader trusts; md5 halves the rate
        with open(fd, "rb", buffering=0, closefd=False) as fh:
            fh.seek(0)
            buf = memoryview(bytearray(CHUNK))
            while n := fh.readinto(buf):
                hasher.update(buf[:n])
        got = hasher.digest()
        if not vouches(got, oid, expect):
            return None
        if _same_file(before, os.fstat(fd)):  # unchanged while it was hashed
            self.put(oid, before, got)
        return got


@atexit.register
def _flush_all() -> None:
    for stamps in list(_unflushed):
        stamps.flush()
