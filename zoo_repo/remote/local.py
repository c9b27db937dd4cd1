"""A directory as a remote (a local disk, NFS, a mounted share).

A filesystem shows a file while it is being written, so every file goes in
under a temp name and is renamed into place (``store.atomic``), as object
stores do by themselves with a PUT.

A directory is also what a hostile remote is easiest to make of: any name in
it may be a FIFO, a device or a symlink to one. Every file is read through
``model.readfile``: regular files only, no final symlink, never past the
size the reader expects and one byte.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from zoo_repo.core.progress import Progress, advance
from zoo_repo.errors import naming
from zoo_repo.model.readfile import chunks, open_regular
from zoo_repo.remote.base import DEFAULT_JOBS, UNSIZED_LIMIT, CopyOut, check_span, size_mismatch
from zoo_repo.remote.fsspec import FsspecRemote
from zoo_repo.store.atomic import atomic_write, create_exclusive
from zoo_repo.store.digest import Digest, Hasher
from zoo_repo.store.objects import Store, is_oid


class LocalRemote(FsspecRemote):
    packs = False

    def _open(self, rel: str) -> int:
        return open_regular(f"{self.root}/{rel}", f"remote {self.url}: {rel}")

    def _read(self, rel: str, limit: int) -> bytes:
        fd = self._open(rel)
        try:
            return b"".join(chunks(fd, limit))
        finally:
            os.close(fd)

    def _list_all(self) -> Iterator[tuple[str, int]]:
        """A prefix directory at a time (fsspec's ``find`` holds the details of the whole
        tree: a quarter of a gigabyte at 300,000 objects); regular files only."""
        base = f"{self.root}/files/md5"
        with self._errors("files/md5"):
            try:
                with os.scandir(base) as entries:
                    prefixes = sorted(e.name for e in entries if len(e.name) == 2 and e.is_dir(follow_symlinks=False))
            except FileNotFoundError:
                return
        for prefix in prefixes:
            with self._errors(f"files/md5/{prefix}"):
                try:
                    with os.scandir(f"{base}/{prefix}") as entries:
                        found = [(prefix + e.name, e.stat(follow_symlinks=False).st_size) for e in entries
                                 if is_oid(prefix + e.name) and e.is_file(follow_symlinks=False)]
                except FileNotFoundError:
                    continue
            yield from found

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        check_span(self.url, rel, start, end)
        with self._errors(rel, rel):
            fd = self._open(rel)
            try:
                return os.pread(fd, end - start, start)
            finally:
                os.close(fd)

    def download(self, store: Store, oid: str, expect: Digest | None, label: str,
                 jobs: int = DEFAULT_JOBS, progress: Progress | None = None, copy_out: CopyOut | None = None) -> int:
        source = f"remote {self.url}"
        limit = expect.size if expect is not None else UNSIZED_LIMIT
        with self._errors(oid, label):
            fd = open_regular(self.path(oid), f"{source}: {self.path(oid)[len(self.root) + 1:]} ({label})")
            try:
                with store.writer(oid, expect, label, source) as out, naming(out.raw.name):
                    for chunk in chunks(fd, limit):
                        out.write(chunk)
                        advance(progress, 0, len(chunk))
                    if out.hasher.size > limit:
                        raise size_mismatch(label, limit, out.hasher.size, source)
            finally:
                os.close(fd)
        return out.hasher.size

    def hash_object(self, oid: str) -> Digest:
        hasher = Hasher()
        with self._errors(oid):
            fd = self._open(self.path(oid)[len(self.root) + 1:])
            try:
                # A regular file ends: no cap needed beyond refusing what is not one.
                for chunk in chunks(fd, 1 << 62):
                    hasher.update(chunk)
            finally:
                os.close(fd)
        return hasher.digest()

    def put_file(self, src: str, rel: str, label: str | None = None) -> int:
        self._require_writable()
        with self._errors(rel, label or rel):
            # No fsync: a directory remote is as durable as the disk's own
            # write-back, like the cp or rsync a team would otherwise use.
            with open(src, "rb") as fh, atomic_write(Path(self.root) / rel, fsync=False) as out:
                shutil.copyfileobj(fh, out, 1 << 20)
                return out.tell()

    def put_text(self, rel: str, text: str) -> None:
        self._require_writable()
        with self._errors(rel, rel), atomic_write(Path(self.root) / rel, fsync=False) as out:
            out.write(text.encode("utf-8"))

    def create_text(self, rel: str, text: str) -> bool:
        self._require_writable()
        with self._errors(rel, rel):
            return create_exclusive(Path(self.root) / rel, text.encode("utf-8"))

    def _make_folder(self, folder: str) -> None:
        self.fs.makedirs(folder, exist_ok=True)

    def _remove_folder(self, folder: str) -> None:
        self.fs.rmdir(folder)
