"""The local content-addressed store, laid out as DVC's cache.

``store/files/md5/<2 hex>/<30 hex>`` holds each distinct file once, read-only;
``…/<md5>.dir`` objects list a version's files as DVC expects. Because the
zoo's DVC config points ``cache.dir`` here, ``dvc`` and ``zoo`` share objects.

Objects are only ever created by writing a temp file in the store, checking its
digest, and renaming it to its final name, so a crash leaves at worst a stray
temp file (removed by ``zoo gc``), never a partial object under a final name.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from zoo_repo.errors import IntegrityError, ZooError
from zoo_repo.store.atomic import install, remove_readonly, staged, temp_name
from zoo_repo.store.digest import CHUNK, Digest, Hasher, HashingWriter
from zoo_repo.store.lock import file_lock

_OID = re.compile(r"[0-9a-f]{32}(\.dir)?")
LINK_MODES = ("copy", "reflink", "hardlink", "symlink")
LOCK_NAME = ".zoo.lock"


def is_oid(text: str) -> bool:
    """An md5, optionally with DVC's ``.dir`` suffix for directory listings."""
    return _OID.fullmatch(text) is not None


def oid_relpath(oid: str) -> str:
    """An object's path under a DVC cache or remote root."""
    return f"files/md5/{oid[:2]}/{oid[2:]}"


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._tmp_made = False
        self._folders: set[str] = set()  # object folders known to exist

    def path(self, oid: str) -> Path:
        return self.root / oid_relpath(oid)

    def has(self, oid: str) -> bool:
        return os.path.isfile(f"{self.root}/{oid_relpath(oid)}")

    def oids(self) -> Iterator[str]:
        base = self.root / "files" / "md5"
        if not base.is_dir():
            return
        for prefix in sorted(os.listdir(base)):
            if len(prefix) != 2 or not (base / prefix).is_dir():
                continue
            for name in sorted(os.listdir(base / prefix)):
                if is_oid(prefix + name):
                    yield prefix + name

    def temp_files(self) -> list[Path]:
        """Leftovers of interrupted writes: safe to delete under the exclusive lock."""
        found = list(self._tmp.glob("*")) if self._tmp.is_dir() else []
        base = self.root / "files" / "md5"
        if base.is_dir():
            found += [p for p in base.glob("*/.*.tmp-*")]
        return found

    @contextlib.contextmanager
    def writer(
        self, oid: str | None = None, expect: Digest | None = None, label: str = "object",
        source: str = "", md5: bool = True,
    ) -> Iterator[HashingWriter]:
        """Yield a hashing writer; on success the bytes become an object.

        The bytes must match ``expect`` (sha256 and size, and md5 unless
        ``md5=False``) and hash to ``oid`` (md5; a ``.dir`` suffix is kept in
        the name), else IntegrityError and nothing is kept. Without ``oid`` the
        object is named by its md5.
        """
        self._tmp.mkdir(parents=True, exist_ok=True)
        with staged("object", self._tmp) as tmp:
            with open(tmp, "xb") as raw:
                out = HashingWriter(raw, md5=md5 or expect is None)
                yield out
            got = out.hasher.digest()
            _check(got, oid, expect, label, source)
            self._commit(tmp, oid or got.md5)

    def put_bytes(self, oid: str, data: bytes | memoryview, expect: Digest | None, label: str = "object",
                  source: str = "") -> None:
        """Store bytes already in memory (a slice of a pack): checked before anything is written."""
        hasher = Hasher()
        hasher.update(data)
        _check(hasher.digest(), oid, expect, label, source)
        self._write_new(oid, data)

    def _write_new(self, oid: str, data: bytes | memoryview) -> None:
        if not self._tmp_made:
            self._tmp.mkdir(parents=True, exist_ok=True)
            self._tmp_made = True
        with staged("object", self._tmp) as tmp:
            with open(tmp, "xb") as fh:
                fh.write(data)
            self._commit(tmp, oid)

    def _commit(self, tmp: str | Path, oid: str) -> None:
        # Plain strings and a memo of made folders: thousands of small objects
        # make pathlib's overhead show.
        rel = oid_relpath(oid)
        final = f"{self.root}/{rel}"
        if os.path.exists(final):
            return
        folder = final.rsplit("/", 1)[0]
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        install(tmp, final, 0o444)

    def add_file(self, src: Path, progress: Callable[[int], None] | None = None) -> Digest:
        """Copy a file in, hashing as it streams: one read of the source.
        ``progress`` hears of every chunk's bytes (a multi-GB file takes a while)."""
        with open(src, "rb") as fh, self.writer() as out:
            if progress is None:
                shutil.copyfileobj(fh, out, CHUNK)
            else:
                while chunk := fh.read(CHUNK):
                    out.write(chunk)
                    progress(len(chunk))
        return out.hasher.digest()

    def add_bytes(self, data: bytes, suffix: str = "") -> str:
        """Store small bytes (a ``.dir`` listing); returns the oid."""
        hasher = Hasher()
        hasher.update(data)
        oid = hasher.digest().md5 + suffix
        if not self.has(oid):
            self._write_new(oid, data)
        return oid

    def generate(self, produce: Callable[[HashingWriter], None]) -> Digest:
        """Store what ``produce`` writes to the file it is given."""
        with self.writer() as out:
            produce(out)
        return out.hasher.digest()

    def check(self, oid: str) -> Digest:
        """Hash a stored object; raise IntegrityError if its md5 is not its name."""
        hasher = Hasher()
        with open(self.path(oid), "rb") as fh:
            while chunk := fh.read(CHUNK):
                hasher.update(chunk)
        got = hasher.digest()
        if got.md5 != oid.removesuffix(".dir"):
            raise IntegrityError(str(self.path(oid)), "md5", oid, got.md5, "the store", stored=True)
        return got

    def remove(self, oid: str) -> None:
        remove_readonly(self.path(oid))

    def can_reflink(self, dest: Path) -> bool:
        """Whether objects can be cloned (copy-on-write) to ``dest``, a folder that may not exist yet."""
        existing = dest
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        self._tmp.mkdir(parents=True, exist_ok=True)
        devices = (os.stat(self._tmp).st_dev, os.stat(existing).st_dev)
        if devices[0] != devices[1] or devices in _NO_REFLINK:
            return False
        probe = temp_name(self._tmp / "reflink-probe")
        clone = temp_name(probe)
        try:
            probe.write_bytes(b"probe")
            _reflink(probe, clone, devices)
            return devices not in _NO_REFLINK
        finally:
            for leftover in (probe, clone):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    def materialise(self, oid: str, dest: Path, mode: str = "copy") -> None:
        """Place an object at ``dest`` (atomically: temp name, then rename)."""
        src = self.path(oid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with staged(dest) as tmp:
            if mode == "hardlink":
                os.link(src, tmp)
            elif mode == "symlink":
                os.symlink(src.resolve(), tmp)
            elif mode == "reflink":
                _reflink(src, Path(tmp))
            elif mode == "copy":
                shutil.copyfile(src, tmp)
            else:
                raise ZooError(f"link mode {mode!r} is not one of {', '.join(LINK_MODES)}")
            install(tmp, dest)

    def lock(self, *, shared: bool = False) -> AbstractContextManager[None]:
        """The store's lock (see ``store.lock``): shared to add objects, exclusive to delete them."""
        return file_lock(self.root / LOCK_NAME, shared=shared)


def _check(got: Digest, oid: str | None, expect: Digest | None, label: str, source: str) -> None:
    """IntegrityError unless ``got`` matches ``expect`` (md5 only when computed) and ``oid``."""
    checks = []
    if expect is not None:
        checks += [("sha256", expect.sha256), ("size", str(expect.size))]
    if got.md5:
        checks += [("md5", expect.md5)] if expect is not None else []
        checks += [("md5", oid.removesuffix(".dir"))] if oid else []
    for algo, want in checks:
        have = str(got.size) if algo == "size" else getattr(got, algo)
        if have != want:
            raise IntegrityError(label, algo, want, have, source)


_NO_REFLINK: set[tuple[int, int]] = set()  # (source device, destination device) pairs that refused


def _reflink(src: Path, dst: Path, devices: tuple[int, int] | None = None) -> None:
    """Copy-on-write clone where the filesystem supports it, else a kernel-side copy.

    A filesystem that refuses once is not asked again for every file of a pull.
    """
    import fcntl

    devices = devices or (os.stat(src).st_dev, os.stat(dst.parent).st_dev)
    if devices not in _NO_REFLINK:
        ficlone = 0x40049409  # FICLONE from linux/fs.h
        with open(src, "rb") as s, open(dst, "xb") as d:
            try:
                fcntl.ioctl(d.fileno(), ficlone, s.fileno())
                return
            except OSError:
                _NO_REFLINK.add(devices)
    shutil.copyfile(src, dst)  # copy_file_range/sendfile: no bytes through Python
