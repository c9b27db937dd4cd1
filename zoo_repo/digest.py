"""Streaming digests. Every file is hashed with sha256 (what zoo verifies) and
md5 (what DVC addresses objects by) in the same single read."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1 << 20


@dataclass(frozen=True)
class Digest:
    sha256: str
    md5: str
    size: int


class Hasher:
    """Feeds bytes to both hashes; ``digest()`` once the stream is done.

    ``md5=False`` skips md5 (its digest is then ""): md5 runs at half sha256's
    speed, and a download checked against a manifest's sha256 needs only that.
    """

    def __init__(self, md5: bool = True) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self._sha256.update(data)
        if self._md5 is not None:
            self._md5.update(data)
        self.size += len(data)

    def digest(self) -> Digest:
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
