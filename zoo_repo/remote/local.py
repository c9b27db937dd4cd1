"""A directory as a remote (a local disk, NFS, a mounted share).

A filesystem shows a file while it is being written, so every file goes in
under a temp name and is renamed into place (``store.atomic``), as object
stores do by themselves with a PUT.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from zoo_repo.remote.fsspec import FsspecRemote
from zoo_repo.store.atomic import atomic_write, create_exclusive


class LocalRemote(FsspecRemote):
    packs = False

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
