"""Streaming digests. Every file is hashed with sha256 (what zoo verifies) and
md5 (what DVC addresses objects by) in the same single read."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

CHUNK = 1 << 20
# Chunks at least this large are hashed with md5 on a second thread.
PARALLEL_MIN = 256 << 10


@dataclass(frozen=True)
class Digest:
    sha256: str
    md5: str
    size: int


class Hasher:
    """Feeds bytes to both hashes; ``digest()`` once the stream is done.

    ``md5=False`` skips md5 (its digest is then ""): md5 runs at half sha256's
    speed, and a download checked against a manifest's sha256 needs only that.
    On large chunks md5 runs on a second thread (hashlib releases the GIL), so
    hashing both costs about as much wall time as md5 alone.
    """

    def __init__(self, md5: bool = True) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        if self._md5 is None:
            self._sha256.update(data)
            return
        if len(data) < PARALLEL_MIN:
            self._wait()
            self._sha256.update(data)
            self._md5.update(data)
            return
        owned = data if isinstance(data, bytes) else bytes(data)  # the caller may reuse its buffer
        self._wait()  # one chunk in flight: memory stays bounded
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # only large files hash md5 beside sha256

            self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending = self._pool.submit(self._md5.update, owned)
        self._sha256.update(owned)

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def digest(self) -> Digest:
        self._wait()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        md5 = self._md5.hexdigest() if self._md5 is not None else ""
        return Digest(self._sha256.hexdigest(), md5, self.size)


class HashingWriter:
    """A write-only file wrapper that hashes what passes through it."""

    def __init__(self, raw: BinaryIO, md5: bool = True) -> None:
        self.raw = raw
        self.hasher = Hasher(md5=md5)

    def write(self, data: bytes | memoryview) -> int:
        self.hasher.update(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def hash_file(path: str | os.PathLike[str]) -> Digest:
    hasher = Hasher()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(view):
            hasher.update(view[:n])
    return hasher.digest()
