"""S3 (and S3-compatible services) as a remote.

Reads go by presigned URLs over zoo's own kept-alive connections (``get``),
writes by presigned PUTs and parallel multipart uploads (``put``). When the
endpoint, region and keys are given outright, listings, HEADs, metadata
writes and the multipart calls are zoo's own signed requests too
(``direct``); otherwise s3fs makes them, loaded when one is needed.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from zoo_repo.core import packs
from zoo_repo.core.progress import Progress, advance
from zoo_repo.errors import IntegrityError
from zoo_repo.remote.base import DEFAULT_JOBS, UNSIZED_LIMIT, CopyOut, check_span, size_mismatch
from zoo_repo.remote.errors import error_code, status_of
from zoo_repo.remote.fsspec import FsspecRemote
from zoo_repo.remote.options import Backend, storage_options
from zoo_repo.store.digest import Digest
from zoo_repo.store.objects import Store, oid_relpath

# Objects at least this large are fetched by parallel ranged GETs (smaller
# ones whole, in memory), and sent as parallel multipart uploads.
FAST_GET_MIN = 8 << 20
FAST_PUT_MIN = 32 << 20
_BATCH = 1000  # presigned URLs made at once: bounded memory for any number of objects
# Small objects cost a round trip each, not bandwidth: more of them in flight
# than ``jobs`` (as s5cmd does, with 256), but bounded: each holds a connection
# and at most ``put.IN_MEMORY_MAX`` bytes.
SMALL_JOBS_FACTOR = 4
SMALL_JOBS_MAX = 64


def small_jobs(jobs: int) -> int:
    """How many small objects go up at once for ``--jobs`` ``jobs``."""
    return max(1, min(SMALL_JOBS_MAX, jobs * SMALL_JOBS_FACTOR))


class S3Remote(FsspecRemote):
    def __init__(self, url: str, options: Mapping[str, Any] | None, backend: Backend) -> None:
        from zoo_repo.remote.s3.sign import Signer

        storage = storage_options(url, dict(options or {}))
        self._signer = Signer(storage)
        self._verify: bool | str | None = storage["client_kwargs"].get("verify")
        super().__init__(url, options, backend, root=url.split("://", 1)[1].strip("/"))
        self._direct: Any = None
        if self._signer.direct:
            from zoo_repo.remote.s3.direct import Client

            # Endpoint and keys given outright: every request is signed here
            # and s3fs is never loaded (see ``direct``).
            self._direct = Client(self._signer, self.timeouts, self.tls)

    def _tune(self, fs: Any) -> Any:
        # botocore already retries with backoff; s3fs's own loop on top
        # would multiply the wait for a dead endpoint several times over.
        fs.retries = 1
        return fs

    @property
    def tls(self) -> ssl.SSLContext | None:
        """How the requests zoo sends itself check an HTTPS endpoint, when the remote
        says (``ssl_verify``); None: the environment's and the system's CAs."""
        if self._verify is None:
            return None
        from zoo_repo.remote.http import tls_context

        return tls_context(self._verify)

    @property
    def bucket(self) -> str:
        return self.root.split("/", 1)[0]

    def endpoint(self) -> str:
        """The endpoint URL botocore resolved (options, environment, profile)."""
        with self._errors(self.root, self.root):
            fs = self.fs
            if hasattr(fs, "connect"):
                fs.connect()
            return str(fs.s3.meta.endpoint_url)

    def endpoint_in_use(self) -> str | None:
        given = self.options.get("endpointurl") or os.environ.get("AWS_ENDPOINT_URL_S3") \
            or os.environ.get("AWS_ENDPOINT_URL")
        return str(given) if given else "(AWS's own, for the region)"

    def addressing_style(self) -> str:
        return str((getattr(self.fs.s3.meta.config, "s3", None) or {}).get("addressing_style", "auto"))

    def head_bucket(self) -> str | None:
        """HEAD the bucket with the remote's credentials; returns the server's Date
        header (FileNotFoundError when the bucket does not exist)."""
        try:
            response = self.fs.call_s3("head_bucket", Bucket=self.bucket)
        except FileNotFoundError:
            raise
        except Exception as exc:
            from zoo_repo.remote.errors import translate

            raise translate(self.url, exc, self.endpoint_in_use()) from exc
        date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        return str(date) if date else None

    def _get(self, rel: str, start: int | None = None, end: int | None = None, *, limit: int) -> bytes:
        """One object's bytes (at most ``limit + 1``), or a range of them, by a presigned GET."""
        from zoo_repo.remote.s3 import get

        url = self._signer.url(f"{self.root}/{rel}")
        return get.fetch(url, start, end, limit=limit, timeouts=self.timeouts, tls=self.tls)

    def size(self, oid: str) -> int | None:
        with self._errors(oid):
            if self._direct is not None:
                return self._direct.size(self.path(oid))  # type: ignore[no-any-return]
            try:
                # One HEAD; fs.info would follow a miss with a listing.
                bucket, key, _ = self.fs.split_path(self.path(oid))
                return int(self.fs.call_s3("head_object", Bucket=bucket, Key=key)["ContentLength"])
            except FileNotFoundError:
                return None

    def _list_all(self) -> Iterator[tuple[str, int]]:
        if self._direct is None:
            yield from super()._list_all()
            return
        bucket, _, top = f"{self.root}/files/md5/".partition("/")
        with self._errors("files/md5"):
            yield from self._listed_oids({key: {"size": size} for key, size in self._direct.listing(bucket, top)})

    def find(self, rel: str) -> list[str]:
        if self._direct is None:
            return super().find(rel)
        bucket, _, top = f"{self.root}/{rel}".rstrip("/").partition("/")
        with self._errors(rel, rel):
            # Keys outside the prefix (a server's mistake) and folder markers are no files under it.
            found = [key for key, _ in self._direct.listing(bucket, f"{top}/")
                     if key.startswith(f"{top}/") and not key.endswith("/")]
        under = self.root.partition("/")[2]  # the root's own key prefix ("" for a whole bucket)
        cut = len(under) + 1 if under else 0
        return sorted(key[cut:] for key in found if "/." not in f"/{key[cut:]}")

    def _multipart(self, final: str) -> Any:
        from zoo_repo.remote.s3 import put

        if self._direct is not None:
            return put.DirectMultipart(self._direct, final)
        return put.FsspecMultipart(self.fs, final)

    def _put_urls(self, paths: list[str]) -> list[str]:
        from zoo_repo.remote.s3 import put

        if self._direct is not None:
            return self._signer.signed_many("PUT", paths)
        return put.presign(self.fs, [(path, {}) for path in paths])

    def early_uploads(self, jobs: int) -> tuple[int, int]:
        # Objects that cost a round trip each rather than bandwidth (those packs
        # take). Only with zoo's own signing: s3fs presigns on its event loop in
        # batches, which one object at a time from many threads would defeat.
        return (small_jobs(jobs), packs.SMALL) if self._direct is not None else (0, 0)

    def put_file(self, src: str, rel: str, label: str | None = None) -> int:
        from zoo_repo.remote.s3 import put

        self._require_writable()
        final = f"{self.root}/{rel}"
        size = os.stat(src).st_size
        with self._errors(rel, label or rel):
            if size >= FAST_PUT_MIN:
                put.put_large(self._multipart(final), src, DEFAULT_JOBS, tls=self.tls, timeouts=self.timeouts)
            else:
                put.put_small([(src, final)], self._put_urls([final]), 1, tls=self.tls, timeouts=self.timeouts)
        return size

    def put_text(self, rel: str, text: str) -> None:
        if self._direct is None:
            super().put_text(rel, text)
            return
        self._require_writable()
        with self._errors(rel, rel):
            self._direct.put(f"{self.root}/{rel}", text.encode("utf-8"))

    def delete(self, rel: str) -> None:
        if self._direct is None:
            super().delete(rel)
            return
        self._require_writable()
        with self._errors(rel, rel):
            self._direct.delete(f"{self.root}/{rel}")

    def create_text(self, rel: str, text: str) -> bool:
        """``If-None-Match: *``: of two racing writers one loses, where the server
        supports conditional writes."""
        self._require_writable()
        if self.get_text(rel) is not None:
            return False
        with self._errors(rel, rel):
            try:
                if self._direct is not None:
                    self._direct.put(f"{self.root}/{rel}", text.encode("utf-8"), {"If-None-Match": "*"})
                    return True
                bucket, key, _ = self.fs.split_path(f"{self.root}/{rel}")
                self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=text.encode("utf-8"), IfNoneMatch="*")
            except OSError as exc:
                if status_of(exc) == 412 or error_code(exc) == "PreconditionFailed":
                    return False
                raise
        return True

    def _read(self, rel: str, limit: int) -> bytes:
        return self._get(rel, limit=limit)

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        check_span(self.url, rel, start, end)
        with self._errors(rel, rel):
            return self._get(rel, start, end, limit=end - start)

    def read_parts(self, rel: str, parts: Sequence[tuple[int, int]], end: int,
                   sink: Callable[[int, memoryview], None]) -> int:
        from zoo_repo.remote.s3 import get

        check_span(self.url, rel, parts[0][0], end)
        with self._errors(rel, rel):
            try:
                return get.fetch_parts(self._signer.url(f"{self.root}/{rel}"), parts, end, sink,
                                       timeouts=self.timeouts, tls=self.tls)
            except get.SinkFailed as exc:
                failed = exc.error  # the receiver's, not the remote's: raised as it was, past _errors
        raise failed

    def download(self, store: Store, oid: str, expect: Digest | None, label: str,
                 jobs: int = DEFAULT_JOBS, progress: Progress | None = None, copy_out: CopyOut | None = None) -> int:
        """Large objects by parallel ranged GETs written to the store and to
        ``copy_out`` as they arrive; the rest by one GET, in memory."""
        from zoo_repo.remote.s3 import get

        source = f"remote {self.url}"
        if expect is not None and expect.size >= FAST_GET_MIN:
            with self._errors(oid, label):
                url = self._signer.url(self.path(oid), expires=get.url_lifetime(expect.size))
                # sha256 only: it is what the manifest vouches for, and md5
                # would halve the speed (the object's md5 name comes from the
                # same manifest; `zoo verify` rechecks it).
                also = copy_out.files(oid) if copy_out is not None else []
                with store.writer(oid, expect, label, source, md5=False) as out:
                    readback = os.open(out.raw.name, os.O_RDONLY)
                    try:
                        get.download(url, expect.size, [out.raw.fileno(), *also], readback, out.hasher.update,
                                     jobs=jobs, part_size=get.PART_SIZE, progress=lambda n: advance(progress, 0, n),
                                     tls=self.tls, timeouts=self.timeouts)
                    except get.SizeMismatch as exc:
                        raise IntegrityError(label, "size", str(expect.size), exc.actual, source) from exc
                    finally:
                        os.close(readback)
                    out.raw.seek(expect.size)
            return expect.size
        limit = expect.size if expect is not None else UNSIZED_LIMIT
        with self._errors(oid, label):
            data = self._get(oid_relpath(oid), limit=limit)
        if len(data) > limit or (expect is not None and len(data) != expect.size):
            raise size_mismatch(label, limit, len(data), source)
        store.put_bytes(oid, data, expect, label, source)
        if copy_out is not None:
            copy_out.write(oid, memoryview(data))
        advance(progress, 0, len(data))
        return len(data)

    def _serial_downloads(self, wanted: Mapping[str, tuple[Digest | None, str]]) -> set[str]:
        # Large objects come in parallel parts already: one at a time keeps
        # memory bounded by one window of parts, whatever their number.
        return {oid for oid, (expect, _) in wanted.items() if expect is not None and expect.size >= FAST_GET_MIN}

    def upload_many(self, store: Store, oids: Any, jobs: int = DEFAULT_JOBS,
                    progress: Progress | None = None) -> int:
        """Small objects by presigned PUTs, large ones by parallel multipart: see ``put``."""
        from zoo_repo.remote.s3 import put

        oids = list(oids)
        if not oids:
            return 0
        self._require_writable()
        sizes = {oid: store.path(oid).stat().st_size for oid in oids}
        small = [oid for oid in oids if sizes[oid] < FAST_PUT_MIN]
        with self._errors(small[0] if small else oids[0]):
            for start in range(0, len(small), _BATCH):
                batch = small[start:start + _BATCH]
                put.put_small([(str(store.path(o)), self.path(o)) for o in batch],
                              self._put_urls([self.path(o) for o in batch]), small_jobs(jobs),
                              done=lambda _, n: advance(progress, 1, n), tls=self.tls, timeouts=self.timeouts)
            for oid in oids:
                if sizes[oid] >= FAST_PUT_MIN:
                    put.put_large(self._multipart(self.path(oid)), str(store.path(oid)), jobs,
                                  progress=lambda n: advance(progress, 0, n), tls=self.tls, timeouts=self.timeouts)
                    advance(progress, 1, 0)
        return sum(sizes.values())
