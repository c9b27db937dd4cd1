"""The deterministic ``model.onnx.tar.gz``: the same model.onnx, the same bytes;
and reading sample archives in bounded memory and time (``sample_members``).

Every field that tar and gzip would take from the environment is fixed (times,
owners, modes, the gzip header's name and mtime), so the archive's digest
depends on the ONNX bytes alone and identical models dedup in the store.
"""

from __future__ import annotations

import gzip
import os
import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from zoo_repo.errors import ModelDirError

COMPRESS_LEVEL = 6


class Sink(Protocol):
    """What gzip needs of its output: the store hands a hashing writer, not a file object."""

    def write(self, data: bytes, /) -> object: ...
    def flush(self) -> object: ...


def write_onnx_archive(onnx_path: Path, out: Sink, data: Sequence[tuple[str, Path]] = ()) -> None:
    """model.onnx first, then its external ``data`` files (name in the model, path
    of the bytes) sorted by name: extracted into an empty folder, the graph loads.
    Without data the bytes are those of every earlier zoo (dedup across versions)."""
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=COMPRESS_LEVEL) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for name, path in [("model.onnx", onnx_path), *sorted(data)]:
                with open(path, "rb") as src:
                    tar.addfile(_member(name, os.fstat(src.fileno()).st_size), src)


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


# A sample archive is read by streaming its members, never by asking for all
# of them at once, and sized by what its tar headers declare before a byte is
# inflated: 250 KB of gzip can inflate to 250 MiB (or 250 GiB) of zeros.
SAMPLE_MEMBER_LIMIT = 64 << 20  # one sample held in memory
SAMPLES_KEPT_LIMIT = 256 << 20  # all the samples returned together
ARCHIVE_INFLATED_LIMIT = 1 << 30  # every member of one archive, kept or skipped
ARCHIVE_MEMBERS_LIMIT = 100_000  # tarfile remembers every header it has read


def sample_members(path: Path, relpath: str, check: Callable[[tarfile.TarInfo], None],
                   keep: Callable[[str], bool]) -> list[tuple[str, bytes]]:
    """(name, bytes) of the members of the .tar.gz at ``path`` that ``keep`` wants, in
    archive order; ``check`` sees every member first (and raises to refuse it).

    ModelDirError (naming ``relpath``) for an archive that does not read, a
    member above ``SAMPLE_MEMBER_LIMIT``, kept samples above ``SAMPLES_KEPT_LIMIT``
    together, or members that inflate above ``ARCHIVE_INFLATED_LIMIT`` in all.
    """
    out: list[tuple[str, bytes]] = []
    inflated = kept = 0
    try:
        # Not the "r|gz" stream: it skips a member by slicing buffers of up to a
        # thousand times its reads (gzip of zeros), which costs memory and minutes.
        # GzipFile seeks forward in bounded chunks.
        with tarfile.open(path, "r:gz") as tar:
            for count, member in enumerate(tar, 1):
                if count > ARCHIVE_MEMBERS_LIMIT:
                    raise ModelDirError(relpath, f"has more than {ARCHIVE_MEMBERS_LIMIT} members")
                check(member)
                inflated += member.size
                if inflated > ARCHIVE_INFLATED_LIMIT:
                    raise ModelDirError(relpath, f"inflates to more than {ARCHIVE_INFLATED_LIMIT} bytes; "
                                        "refusing it (a compression bomb?)")
                if not (member.isfile() and keep(member.name)):
                    continue
                kept += member.size
                if member.size > SAMPLE_MEMBER_LIMIT or kept > SAMPLES_KEPT_LIMIT:
                    raise ModelDirError(relpath, f"member {member.name!r} inflates to {member.size} bytes; samples "
                                        f"may have {SAMPLE_MEMBER_LIMIT} each, {SAMPLES_KEPT_LIMIT} together")
                body = tar.extractfile(member)
                out.append((member.name, body.read(member.size) if body is not None else b""))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ModelDirError(relpath, f"is not a readable .tar.gz: {exc}") from exc
    return out
