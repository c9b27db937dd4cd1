"""The deterministic ``model.onnx.tar.gz``: the same model.onnx, the same bytes.

Every field that tar and gzip would take from the environment is fixed (times,
owners, modes, the gzip header's name and mtime), so the archive's digest
depends on the ONNX bytes alone and identical models dedup in the store.
"""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path
from typing import Protocol

COMPRESS_LEVEL = 6


class Sink(Protocol):
    """What gzip needs of its output: the store hands a hashing writer, not a file object."""

    def write(self, data: bytes, /) -> object: ...
    def flush(self) -> object: ...


def write_onnx_archive(onnx_path: Path, out: Sink) -> None:
    info = tarfile.TarInfo("model.onnx")
    info.size = onnx_path.stat().st_size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=COMPRESS_LEVEL) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            with open(onnx_path, "rb") as src:
                tar.addfile(info, src)
