"""The local content-addressed store, laid out as DVC's cache.

``store/files/md5/<2 hex>/<30 hex>`` holds each distinct file once, read-only;
``…/<md5>.dir`` objects list a version's files as DVC expects. Because the
zoo's DVC config points ``cache.dir`` here, ``dvc`` and ``zoo`` share objects.

Objects are only ever created by writing a temp file in the store, checking its
digest, and renaming it to its final name, so a crash leaves at worst a stray
temp file (removed by ``zoo gc``), never a partial object under a final name.

An object is handed out (``verified``, ``materialise``) only against the
sha256 the reader trusts, and only while a *stamp* says its bytes were hashed
to that sha256 and have not changed since: the stamp records the object's
size, mtime, ctime and inode when it was verified, with a MAC under the user's
key (a stamp database that came with a clone proves nothing). Anything else
(no stamp, a stale one, a stamp of other bytes) means hashing the object
again; bytes that do not match are treated as missing, and fetching them
again replaces them. So a file edited through a hard link, a flipped bit, or
bytes stored under a name by a download that trusted another manifest's md5
are never passed on.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from zoo_repo.errors import IntegrityError, ZooError, naming
from zoo_repo.store.atomic import install, pid_alive, remove_readonly, staged, temp_name, temp_path, write_new
from zoo_repo.store.copying import NO_REFLINK, clone_from, copy_from, reflink
from zoo_repo.store.digest import CHUNK, Digest, Hasher, HashingWriter
from zoo_repo.store.lock import file_lock
from zoo_repo.store.stamps import DEFAULT_KEY, Stamps
from zoo_repo.store.stamps import NAME as STAMPS_NAME

_OID = re.compile(r"[0-9a-f]{32}(\.dir)?")
LINK_MODES = ("copy", "reflink", "hardlink", "symlink")
LOCK_NAME = ".zoo.lock"
__all__ = ["LINK_MODES", "LOCK_NAME", "STAMPS_NAME", "Store", "is_oid", "oid_relpath"]


def is_oid(text: str) -> bool:
    """An md5, optionally with DVC's ``.dir`` suffix for directory listings."""
    return _OID.fullmatch(text) is not None


def oid_relpath(oid: str) -> str:
    """An object's path under a DVC cache or remote root."""
    return f"files/md5/{oid[:2]}/{oid[2:]}"


class Store:
    def __init__(self, root: Path, key: bytes | None = DEFAULT_KEY) -> None:
        """``key``: the user's secret for stamps (see ``store.stamps``)."""
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._tmp_made = False
        self._folders: set[str] = set()  # object folders known to exist
        self.stamps = Stamps(self.root, key)

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
        """Leftovers of interrupted writes: temp names whose writer has died.

        A live process's temp is never listed, even though deleting ones only
        happens under the exclusive lock (which every writer holds shared):
        a writer that does not take the lock (an older zoo, the reflink
        probe of a plan) must not lose its file."""
        found = list(self._tmp.glob("*")) if self._tmp.is_dir() else []
        base = self.root / "files" / "md5"
        if base.is_dir():
            found += [p for p in base.glob("*/.*.tmp-*")]
        return [p for p in found if not _writer_alive(p.name)]

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
        if not self._tmp_made:
            self._tmp.mkdir(parents=True, exist_ok=True)
            self._tmp_made = True
        with staged("object", self._tmp) as tmp:
            with open(tmp, "xb") as raw:
                out = HashingWriter(raw, md5=md5 or expect is None)
                yield out
            got = out.hasher.digest()
            _check(got, oid, expect, label, source)
            self._commit(tmp, oid or got.md5, got)

    def put_bytes(self, oid: str, data: bytes | memoryview, expect: Digest | None, label: str = "object",
                  source: str = "") -> None:
        """Store bytes already in memory (a slice of a pack): checked before anything is written."""
        hasher = Hasher()
        hasher.update(data)
        got = hasher.digest()
        _check(got, oid, expect, label, source)
        self._write_new(oid, data, got)

    def _final(self, oid: str) -> str:
        """The object's name as a plain string, its folder made (once per store):
        thousands of small objects make pathlib's overhead show."""
        final = f"{self.root}/{oid_relpath(oid)}"
        folder = final.rsplit("/", 1)[0]
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        return final

    def _write_new(self, oid: str, data: bytes | memoryview, got: Digest) -> None:
        tmp = temp_path(self._final(oid))  # beside its name: the rename stays in one folder
        installed = False
        try:
            installed = self._commit(tmp, oid, got, mode=None, fd=write_new(tmp, data, 0o444))
        finally:
            if not installed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    def _commit(self, tmp: str | Path, oid: str, got: Digest, mode: int | None = 0o444, fd: int | None = None) -> bool:
        """Give verified bytes their name, and stamp them. An object already there
        is kept only if its stamp vouches for these very bytes; anything else
        under the name (corrupt, edited, another manifest's bytes) is replaced.
        ``fd``: the temp file, still open from writing it (closed here). False when
        the object already there was kept (``tmp`` is then the caller's to remove)."""
        final = self._final(oid)
        try:
            if os.path.exists(final) and self._stamped(oid, got) is not None:
                return False
            if fd is None:
                fd = os.open(tmp, os.O_RDONLY)
            install(tmp, final, mode)
            # The stat of this very file once named: a racing writer that
            # replaced the name since has another inode, so no stamp of
            # these bytes can ever vouch for that one.
            self.stamps.put(oid, os.fstat(fd), got)
            return True
        finally:
            if fd is not None:
                os.close(fd)

    # -- handing objects out: only while a stamp vouches, else hashed again ---
    def close(self) -> None:
        """Close the stamp database (it is opened again when next needed)."""
        self.stamps.close()

    def stamp(self, oid: str, got: Digest) -> None:
        """Remember that the object holds the bytes ``got`` describes (the caller
        hashed them: ``got.md5`` is "" when only sha256 was checked)."""
        try:
            self.stamps.put(oid, os.lstat(self.path(oid)), got)
        except FileNotFoundError:
            pass

    def _stamped(self, oid: str, expect: Digest | None) -> Digest | None:
        try:
            return self.stamps.fresh(oid, os.lstat(self.path(oid)), expect)  # a link is never an object
        except FileNotFoundError:
            return None

    def verified(self, oid: str, expect: Digest | None) -> bool:
        """Whether the object exists and holds ``expect``'s bytes (sha256 and size;
        without ``expect``: bytes whose md5 is its name). A fresh stamp answers;
        otherwise the object is hashed again, and stamped when it matches."""
        try:
            fd = self._open(oid)
        except FileNotFoundError:
            return False
        if fd is None:
            return False
        try:
            return self.stamps.check(oid, fd, expect) is not None
        finally:
            os.close(fd)

    def _open(self, oid: str) -> int | None:
        """The object opened for reading; None when its name holds something other
        than a regular file (a link, whose target can change at any time; a FIFO,
        which would block the reader): never an object, so fetched again.
        FileNotFoundError when there is nothing."""
        try:  # a plain string: a pull asks this of every object it needs
            fd = os.open(f"{self.root}/{oid_relpath(oid)}", os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise
        except OSError:  # ELOOP: a symlink
            return None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        return fd

    def corruption(self, oid: str, expect: Digest, label: str) -> IntegrityError:
        """The error for an object that exists but failed ``verified``: expected vs got."""
        from zoo_repo.store.digest import hash_file

        path = self.path(oid)
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return IntegrityError(str(path), "file type", "regular file", "something else", f"the store ({label})",
                                  stored=True)
        got = hash_file(path)
        algo, want, have = ("size", str(expect.size), str(got.size)) if got.size != expect.size else \
            ("sha256", expect.sha256, got.sha256)
        return IntegrityError(str(path), algo, want, have, f"the store ({label})", stored=True)

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

    def add_data(self, data: bytes) -> Digest:
        """Store bytes read whole (a small file), named by their md5; ``writer``
        without its stream, for thousands of small files."""
        hasher = Hasher()
        hasher.update(data)
        got = hasher.digest()
        self._write_new(got.md5, data, got)
        return got

    def add_bytes(self, data: bytes, suffix: str = "") -> str:
        """Store small bytes (a ``.dir`` listing); returns the oid."""
        hasher = Hasher()
        hasher.update(data)
        got = hasher.digest()
        oid = got.md5 + suffix
        if not self.has(oid):
            self._write_new(oid, data, got)
        return oid

    def generate(self, produce: Callable[[HashingWriter], None]) -> Digest:
        """Store what ``produce`` writes to the file it is given."""
        with self.writer() as out:
            produce(out)
        return out.hasher.digest()

    def check(self, oid: str) -> Digest:
        """Hash a stored object; raise IntegrityError if its md5 is not its name."""
        fd = self._open(oid)
        if fd is None:
            raise IntegrityError(str(self.path(oid)), "file type", "regular file", "something else", "the store",
                                 stored=True)
        hasher = Hasher()
        with open(fd, "rb") as fh:
            st = os.fstat(fd)
            while chunk := fh.read(CHUNK):
                hasher.update(chunk)
        got = hasher.digest()
        if got.md5 != oid.removesuffix(".dir"):
            raise IntegrityError(str(self.path(oid)), "md5", oid, got.md5, "the store", stored=True)
        self.stamps.put(oid, st, got)
        return got

    def remove(self, oid: str) -> None:
        remove_readonly(self.path(oid))
        self.stamps.forget(oid)

    def can_reflink(self, dest: Path) -> bool:
        """Whether objects can be cloned (copy-on-write) to ``dest``, a folder that may not exist yet."""
        existing = dest
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        self._tmp.mkdir(parents=True, exist_ok=True)
        devices = (os.stat(self._tmp).st_dev, os.stat(existing).st_dev)
        if devices[0] != devices[1] or devices in NO_REFLINK:
            return False
        probe = temp_name(self._tmp / "reflink-probe")
        clone = temp_name(probe)
        try:
            probe.write_bytes(b"probe")
            reflink(probe, clone, devices)
            return devices not in NO_REFLINK
        finally:
            for leftover in (probe, clone):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    def materialise(self, oid: str, dest: Path, mode: str = "copy", expect: Digest | None = None,
                    label: str = "object") -> None:
        """Place an object at ``dest`` (atomically: temp name, then rename), after
        checking it still holds ``expect``'s bytes (IntegrityError if not)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with staged(dest) as tmp:
            self.place_at(oid, tmp, mode, expect, label)
            install(tmp, dest)

    def place_at(self, oid: str, new: str, mode: str = "copy", expect: Digest | None = None,
                 label: str = "object") -> None:
        """Write an object to ``new``, a path that does not exist yet in an existing
        folder (a caller's temp name), after checking it still holds ``expect``'s bytes.

        A hard link or symlink makes ``new`` the object itself: an edit of it
        changes the object's times, so its stamp no longer vouches for it and
        the next use hashes it again (and replaces it if it changed)."""
        if mode not in LINK_MODES:
            raise ZooError(f"link mode {mode!r} is not one of {', '.join(LINK_MODES)}")
        src = self.path(oid)
        fd = self._open(oid)  # what is checked is what is placed, whatever the name holds later
        if fd is None:
            raise self.corruption(oid, expect or Digest("", oid, 0), label)
        try:
            known = self.stamps.check(oid, fd, expect) if expect is not None else None
            if expect is not None and known is None:
                raise self.corruption(oid, expect, label)
            st = os.fstat(fd)
            with naming(new):
                if mode == "hardlink":
                    os.link(src, new)
                    linked = os.lstat(new)
                    if (linked.st_ino, linked.st_dev, linked.st_mtime_ns) != (st.st_ino, st.st_dev, st.st_mtime_ns):
                        os.unlink(new)  # the name was replaced or written since: copy what was checked
                        copy_from(fd, new)
                    elif known is not None:
                        self.stamps.put(oid, linked, known)  # a new link moves the ctime, not the bytes
                elif mode == "symlink":
                    os.symlink(src.resolve(), new)
                elif mode == "reflink":
                    clone_from(fd, new, (st.st_dev, os.stat(os.path.dirname(new) or ".").st_dev))
                else:
                    copy_from(fd, new)
        finally:
            os.close(fd)

    def lock(self, *, shared: bool = False) -> AbstractContextManager[None]:
        """The store's lock (see ``store.lock``): shared to add objects, exclusive to delete them."""
        return file_lock(self.root / LOCK_NAME, shared=shared)


def _writer_alive(name: str) -> bool:
    """Whether the process whose pid a temp name carries (see ``atomic.temp_name``) still runs."""
    try:
        pid = int(name.rsplit(".tmp-", 1)[1].split("-", 1)[0])
    except (ValueError, IndexError):
        return False  # not a name zoo gives its temps: no live zoo process owns it
    return pid_alive(pid)


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
