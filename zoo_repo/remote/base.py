"""The ``Remote`` interface: a DVC-layout object store (``files/md5/ab/cdef…``) plus
small named metadata files, whatever the backend.

Backends (``local``, ``fsspec``, ``s3``) implement the primitives; what is
built on them (inventories, batches, bounded concurrency, error translation)
lives here once. Foreign errors are translated at this edge (see
``remote.errors``), so callers see one line that names the remote and the object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from zoo_repo.core.progress import Progress, advance, at
from zoo_repo.errors import IntegrityError, ObjectMissing, RemoteError, TooLarge, ZooError
from zoo_repo.model.readfile import text_limit
from zoo_repo.remote.errors import really_missing, translate
from zoo_repo.remote.options import Timeouts, timeouts
from zoo_repo.store.digest import Digest
from zoo_repo.store.objects import Store, is_oid, oid_relpath

DEFAULT_JOBS = 8
# Above this many objects, one listing beats one HEAD request per object.
LIST_THRESHOLD = 64

# Fixed caps on a metadata file, by how its name ends: far above any real one
# (an index of 100,000 versions is about 10 MB), so that a crafted one, or
# /dev/zero behind its name, is refused instead of read into memory.
META_LIMITS = (("index.json", 64 << 20), ("objects.json", 16 << 20), (".idx", 16 << 20))
# An object whose manifest declares no size (a version's .dir file list) is read up to this.
UNSIZED_LIMIT = 64 << 20


def meta_limit(rel: str) -> int:
    """The most bytes a metadata file at ``rel`` may hold."""
    return next((limit for end, limit in META_LIMITS if rel.endswith(end)), text_limit(rel))


def check_span(url: str, rel: str, start: int, end: int) -> None:
    """RemoteError for a ranged read larger than any span of a real pack (a crafted
    locator's slot): the transfer then fetches those objects loose."""
    from zoo_repo.core.packs import MAX_SPAN

    if end - start > MAX_SPAN:
        raise RemoteError(f"remote {url}: {rel}: a range of {end - start} bytes is larger than any pack span")


def size_mismatch(label: str, expected: int, got: int, source: str) -> IntegrityError:
    """More bytes than declared: reading stopped one byte past the declared size."""
    actual = f"more than {expected} bytes" if got > expected else f"{got} bytes"
    return IntegrityError(label, "size", str(expected), actual, source)


class CopyOut(Protocol):
    """Where a pull's objects go besides the store, written while they arrive."""

    def write(self, oid: str, data: memoryview) -> None:
        """An object that arrived whole, verified and stored."""

    def files(self, oid: str) -> list[int]:
        """Open files to write a streamed object's bytes to as well (unverified until it is stored)."""
        return []


class Remote:
    """What every backend offers. ``root`` is the backend's path of the remote's top."""

    protocol = ""
    writable = True
    listable = True  # plain HTTP has no listing: read by index, stream whole objects
    # Whether small objects are worth bundling into packs and fetching by
    # ranged reads: not on a directory, which serves small files fast by itself.
    packs = True

    def __init__(self, url: str, options: Mapping[str, Any] | None, root: str) -> None:
        self.url = url.rstrip("/")
        self.options = dict(options or {})
        self.root = root.rstrip("/")

    @property
    def timeouts(self) -> Timeouts:
        """How long to wait for a connection and for each next piece of an answer."""
        return timeouts(self.options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def path(self, oid: str) -> str:
        return f"{self.root}/{oid_relpath(oid)}"

    def _require_writable(self) -> None:
        if not self.writable:
            raise RemoteError(f"remote {self.url} is read-only ({self.protocol}://)")

    @contextlib.contextmanager
    def _errors(self, oid: str, label: str | None = None) -> Iterator[None]:
        try:
            yield
        except ZooError:
            raise
        except FileNotFoundError as exc:
            if not really_missing(exc):
                raise translate(self.url, exc, self.endpoint_in_use(), self.timeouts) from exc
            raise ObjectMissing(f"remote {self.url}", oid, label or oid_relpath(oid)) from exc
        except Exception as exc:
            raise translate(self.url, exc, self.endpoint_in_use(), self.timeouts) from exc

    def endpoint_in_use(self) -> str | None:
        """Where requests go, for messages, when the URL alone does not say."""
        return None

    # -- primitives: each backend implements these -------------------------
    def size(self, oid: str) -> int | None:
        """The object's size, or None when the remote does not have it."""
        raise NotImplementedError

    def _list_all(self) -> Iterator[tuple[str, int]]:
        """(oid, size) of every object, from one listing."""
        raise NotImplementedError

    def early_uploads(self, jobs: int) -> tuple[int, int]:
        """How many objects may go up at once while a publish is still storing
        others (``remote.early``), and the size they stay below; (0, 0): none,
        the backend's own batches after the store is filled are as fast."""
        return 0, 0

    def listing(self) -> Iterator[tuple[str, int]]:
        """(oid, size) of every object, from one listing."""
        return self._list_all()

    def put_file(self, src: str, rel: str, label: str | None = None) -> int:
        """Upload a local file to ``rel``; it appears there complete or not at all."""
        raise NotImplementedError

    def put_text(self, rel: str, text: str) -> None:
        """Write a metadata file; readers see the old or the new content, never a mix."""
        raise NotImplementedError

    def create_text(self, rel: str, text: str) -> bool:
        """Write a metadata file only if it does not exist yet; False when it did."""
        raise NotImplementedError

    def _read(self, rel: str, limit: int) -> bytes:
        """A whole file's bytes, but no more than ``limit + 1`` of them (FileNotFoundError when absent)."""
        raise NotImplementedError

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of a file: one ranged read."""
        raise NotImplementedError

    def read_parts(self, rel: str, parts: Sequence[tuple[int, int]], end: int,
                   sink: Callable[[int, memoryview], None]) -> int:
        """One ranged read from the first of ``parts`` (``(offset, size)``, ascending) to
        ``end``, each part handed to ``sink`` with its index; returns the range's size.
        Here the range is read whole; a remote that can stream hands over each part
        as it arrives, and holds one part, not the range."""
        start = parts[0][0]
        data = memoryview(self.read_range(rel, start, end))
        for i, (offset, size) in enumerate(parts):
            sink(i, data[offset - start: offset - start + size])
        return len(data)

    def download(self, store: Store, oid: str, expect: Digest | None, label: str,
                 jobs: int = DEFAULT_JOBS, progress: Progress | None = None, copy_out: CopyOut | None = None) -> int:
        """Stream an object into the store, verified before it gets its name."""
        raise NotImplementedError

    def delete(self, rel: str) -> None:
        """Remove a metadata file; quiet when it is already gone."""
        raise NotImplementedError

    def find(self, rel: str) -> list[str]:
        """Every file under ``rel``, as paths relative to the remote's root."""
        raise NotImplementedError

    def hash_object(self, oid: str) -> Digest:
        """Stream an object and hash it (sha256, md5, size) without keeping it."""
        raise NotImplementedError

    # -- for `zoo doctor` --------------------------------------------------
    def describe(self) -> str:
        """The protocol and what serves it, for people."""
        raise NotImplementedError

    def root_exists(self) -> bool:
        raise NotImplementedError

    def probe(self, payload: bytes) -> bytes:
        """Write, read back and delete a scratch object; returns what was read back."""
        raise NotImplementedError

    # -- built on the primitives -------------------------------------------
    def has(self, oid: str) -> bool:
        return self.size(oid) is not None

    def get_bytes(self, rel: str, limit: int | None = None) -> bytes | None:
        """A metadata file's bytes, or None when it is not there; TooLarge above ``limit``
        (default: its cap by name, ``meta_limit``)."""
        limit = meta_limit(rel) if limit is None else limit
        try:
            with self._errors(rel, rel):
                data = self._read(rel, limit)
        except ObjectMissing:
            return None
        if len(data) > limit:
            raise TooLarge(f"remote {self.url}: {rel}", limit)
        return data

    def get_text(self, rel: str) -> str | None:
        """A metadata file's text, or None when it is not there; TooLarge above its cap (``meta_limit``)."""
        data = self.get_bytes(rel)
        if data is None:
            return None
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RemoteError(f"remote {self.url}: {rel} is not UTF-8 text") from exc

    def read_bytes(self, oid: str, limit: int = UNSIZED_LIMIT) -> bytes:
        """An object's bytes; TooLarge above ``limit``."""
        with self._errors(oid):
            data = self._read(oid_relpath(oid), limit)
        if len(data) > limit:
            raise TooLarge(f"remote {self.url}: {oid_relpath(oid)}", limit)
        return data

    def inventory(self, oids: Iterable[str], jobs: int = DEFAULT_JOBS) -> dict[str, int]:
        """oid → size for those of ``oids`` the remote has."""
        wanted = set(oids)
        if len(wanted) > LIST_THRESHOLD:
            return {oid: size for oid, size in self._list_all() if oid in wanted}
        found: dict[str, int] = {}
        order = sorted(wanted)
        if order:  # one request first: a dead endpoint fails once, not once per thread
            first = self.size(order[0])
            if first is not None:
                found[order[0]] = first
            order = order[1:]

        def one(oid: str) -> int:
            size = self.size(oid)
            if size is not None:
                found[oid] = size
            return 0

        run_all(one, order, jobs)
        return found

    def missing(self, oids: Iterable[str], jobs: int = DEFAULT_JOBS,
                sizes: Mapping[str, int | None] | None = None) -> set[str]:
        """The oids the remote lacks; with ``sizes``, also those it holds at another size
        (a truncated copy left by some other tool is replaced, not trusted)."""
        wanted = set(oids)
        if len(wanted) > LIST_THRESHOLD:  # what is left of ``wanted`` as the listing passes: no second set
            for oid, size in self._list_all():
                if oid in wanted and (sizes is None or sizes.get(oid) in (None, size)):
                    wanted.discard(oid)
            return wanted
        have = self.inventory(wanted, jobs)
        return {o for o in wanted if o not in have or (sizes is not None and sizes.get(o) not in (None, have[o]))}

    def _listed_oids(self, found: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
        """Objects among a listing's ``path → info`` (temp names and strays skipped)."""
        for path, info in found.items():
            prefix, name = path.rstrip("/").rsplit("/", 2)[-2:]
            if len(prefix) == 2 and is_oid(prefix + name):
                yield prefix + name, int(info.get("size", 0))

    def upload(self, store: Store, oid: str) -> int:
        return self.put_file(str(store.path(oid)), oid_relpath(oid), oid)

    def upload_many(self, store: Store, oids: Iterable[str], jobs: int = DEFAULT_JOBS,
                    progress: Progress | None = None) -> int:
        def one(oid: str) -> int:
            nbytes = self.upload(store, oid)
            advance(progress, 1, nbytes)
            return nbytes

        return run_all(one, list(oids), jobs)

    def download_many(self, store: Store, wanted: Mapping[str, tuple[Digest | None, str]],
                      jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
                      copy_out: CopyOut | None = None) -> int:
        def one(oid: str) -> int:
            at(progress, wanted[oid][1])
            nbytes = self.download(store, oid, *wanted[oid], jobs=jobs, progress=progress, copy_out=copy_out)
            advance(progress, 1, 0)
            return nbytes

        serial = self._serial_downloads(wanted)
        total = run_all(one, [oid for oid in wanted if oid not in serial], jobs)
        return total + run_all(one, sorted(serial), 1)

    def _serial_downloads(self, wanted: Mapping[str, tuple[Digest | None, str]]) -> set[str]:
        """Objects to fetch one at a time (they come in parallel parts already)."""
        return set()


def run_all(work: Callable[[str], int], oids: Iterable[str], jobs: int) -> int:
    """Run ``work`` on every oid with bounded concurrency; the first error wins."""
    total = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(work, oid) for oid in oids]
        try:
            for future in futures:
                total += future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return total
