"""Remotes: any fsspec URL, laid out as a DVC remote (``files/md5/ab/cdef…``).

The only module that talks to remote storage. Foreign errors (OSError from
fsspec, botocore's and aiohttp's own) are translated here into RemoteError or
ObjectMissing, so callers see one line that names the remote and the object.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from zoo_repo.core.progress import Progress, advance
from zoo_repo.errors import ObjectMissing, RemoteError, ZooError
from zoo_repo.remote.options import READ_TIMEOUT, backend_for, env_files, protocol_of, storage_options
from zoo_repo.store.digest import CHUNK, Digest, Hasher
from zoo_repo.store.objects import Store, is_oid, oid_relpath

if TYPE_CHECKING:
    import ssl

    from zoo_repo.remote.transfer import CopyOut

DEFAULT_JOBS = 8
# Objects at least this large are fetched by parallel ranged GETs (smaller
# ones whole, in memory), and sent as parallel multipart uploads.
FAST_GET_MIN = 8 << 20
FAST_PUT_MIN = 32 << 20
# Above this many objects, one listing beats one HEAD request per object.
_LIST_THRESHOLD = 64



class Remote:
    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        self.url = url.rstrip("/")
        self.options = dict(options or {})
        backend = backend_for(url)
        if backend is None:
            raise RemoteError(
                f"remote {url}: protocol {protocol_of(url)!r} is not supported",
                hint="use a directory, file://, s3://, gs://, az:// or https:// URL",
            )
        self.writable = backend.writable
        self._backend = backend
        for key, value in env_files(self.options).items():
            os.environ.setdefault(key, value)
        self.protocol = protocol_of(url)
        self._fs: Any = None
        self._signer: Any = None
        self._verify: bool | str | None = None  # the remote's ssl_verify, for zoo's own requests
        if self.protocol in ("s3", "s3a"):
            # Reads go by presigned URLs (see s3sign): s3fs is loaded only
            # when something needs it, a listing or a write.
            from zoo_repo.remote.s3.sign import Signer

            storage = storage_options(url, self.options)
            self._signer = Signer(storage)
            self._verify = storage["client_kwargs"].get("verify")
            self.root = url.split("://", 1)[1].strip("/")
        else:
            self.root = self._connect()[1]
        self.root = self.root.rstrip("/")
        # Object stores make a PUT visible only once complete; a filesystem
        # needs a temp name and a rename for the same guarantee.
        self.is_local = self.protocol in ("file", "local")
        # Plain HTTP has no listing and may not honour Range: read by index, stream whole objects.
        self.listable = self.protocol not in ("http", "https")

    def __repr__(self) -> str:
        return f"Remote({self.url!r})"

    def _connect(self) -> tuple[Any, str]:
        backend = self._backend
        try:
            import fsspec

            # fsspec caches filesystems by their arguments; credentials taken
            # from the environment are not among them, so a cached instance
            # could sign with keys that have since changed.
            fs, root = fsspec.core.url_to_fs(
                self.url, skip_instance_cache=True, **storage_options(self.url, self.options)
            )
        except ImportError as exc:
            raise RemoteError(
                f"remote {self.url}: the {backend.package} package is not installed",
                hint=f"pip install 'zoo-repo[{backend.extra}]'" if backend.extra else f"pip install {backend.package}",
            ) from exc
        except (ValueError, TypeError) as exc:
            raise RemoteError(f"remote {self.url}: {exc}") from exc
        if self.protocol in ("s3", "s3a"):
            # botocore already retries with backoff; s3fs's own loop on top
            # would multiply the wait for a dead endpoint several times over.
            fs.retries = 1
        self._fs = fs
        return fs, root

    @property
    def fs(self) -> Any:
        """The fsspec filesystem (for S3, made on first use)."""
        return self._fs if self._fs is not None else self._connect()[0]

    @property
    def tls(self) -> ssl.SSLContext | None:
        """How the requests zoo sends itself check an HTTPS endpoint, when the remote
        says (``ssl_verify``); None: the environment's and the system's CAs."""
        if self._verify is None:
            return None
        from zoo_repo.remote.s3.get import tls_context

        return tls_context(self._verify)

    def _get(self, rel: str, start: int | None = None, end: int | None = None) -> bytes:
        """One object's bytes (or a range of them) by a presigned GET: S3 only."""
        from zoo_repo.remote.s3 import get

        url = self._signer.url(f"{self.root}/{rel}")
        return get.fetch(url, start, end, timeout=float(self.options.get("read_timeout", READ_TIMEOUT)),
                             tls=self.tls)

    def path(self, oid: str) -> str:
        return f"{self.root}/{oid_relpath(oid)}"

    # -- what is there -----------------------------------------------------
    def size(self, oid: str) -> int | None:
        """The object's size, or None when the remote does not have it."""
        with self._errors(oid):
            try:
                if self.protocol in ("s3", "s3a"):
                    # One HEAD; fs.info would follow a miss with a listing.
                    bucket, key, _ = self.fs.split_path(self.path(oid))
                    return int(self.fs.call_s3("head_object", Bucket=bucket, Key=key)["ContentLength"])
                info = self.fs.info(self.path(oid))
            except FileNotFoundError:
                return None
        return int(info["size"]) if info.get("type", "file") == "file" else None

    def has(self, oid: str) -> bool:
        return self.size(oid) is not None

    def inventory(self, oids: Iterable[str], jobs: int = DEFAULT_JOBS) -> dict[str, int]:
        """oid → size for those of ``oids`` the remote has."""
        wanted = set(oids)
        if len(wanted) > _LIST_THRESHOLD:
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

        _run_all(one, order, jobs)
        return found

    def missing(self, oids: Iterable[str], jobs: int = DEFAULT_JOBS,
                sizes: Mapping[str, int] | None = None) -> set[str]:
        """The oids the remote lacks; with ``sizes``, also those it holds at another size
        (a truncated copy left by some other tool is replaced, not trusted)."""
        wanted = set(oids)
        have = self.inventory(wanted, jobs)
        return {o for o in wanted if o not in have or (sizes is not None and o in sizes and have[o] != sizes[o])}

    def _list_all(self) -> Iterator[tuple[str, int]]:
        base = f"{self.root}/files/md5"
        with self._errors("files/md5"):
            try:
                found = self.fs.find(base, detail=True)
            except FileNotFoundError:
                return
        for path, info in found.items():
            prefix, name = path.rstrip("/").rsplit("/", 2)[-2:]
            if len(prefix) == 2 and is_oid(prefix + name):
                yield prefix + name, int(info.get("size", 0))

    # -- moving bytes ------------------------------------------------------
    def upload(self, store: Store, oid: str) -> int:
        return self.put_file(str(store.path(oid)), oid_relpath(oid), oid)

    def put_file(self, src: str, rel: str, label: str | None = None) -> int:
        """Upload a local file to ``rel``; it appears there complete or not at all."""
        if not self.writable:
            raise RemoteError(f"remote {self.url} is read-only ({self.protocol}://)")
        final = f"{self.root}/{rel}"
        size = os.stat(src).st_size
        with self._errors(rel, label or rel):
            if self.protocol in ("s3", "s3a"):
                from zoo_repo.remote.s3 import put

                if size >= FAST_PUT_MIN:
                    put.put_large(self.fs, src, final, DEFAULT_JOBS, tls=self.tls)
                else:
                    put.put_small(self.fs, [(src, final)], 1, tls=self.tls)
                return size
            if not self.is_local:
                self.fs.put_file(src, final)
                return size
            self._replace_local(final, lambda tmp: self.fs.put_file(src, tmp))
        return size

    def _replace_local(self, final: str, write: Callable[[str], object]) -> None:
        """On a directory remote: write beside ``final`` under a temp name, then move it there."""
        parent, name = final.rsplit("/", 1)
        self.fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/.{name}.tmp-{uuid.uuid4().hex[:12]}"
        try:
            write(tmp)
            self.fs.mv(tmp, final)
        finally:
            with contextlib.suppress(OSError):
                if self.fs.exists(tmp):
                    self.fs.rm_file(tmp)

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of a file: one ranged GET."""
        with self._errors(rel, rel):
            if self._signer is not None:
                return self._get(rel, start, end)
            return bytes(self.fs.cat_file(f"{self.root}/{rel}", start=start, end=end))

    def download(self, store: Store, oid: str, expect: Digest | None, label: str,
                 jobs: int = DEFAULT_JOBS, progress: Progress | None = None, copy_out: CopyOut | None = None) -> int:
        """Stream an object into the store, verified before it gets its name (and to ``copy_out``, on S3)."""
        source = f"remote {self.url}"
        if expect is not None and expect.size >= FAST_GET_MIN and self._signer is not None:
            from zoo_repo.remote.s3 import get

            with self._errors(oid, label):
                url = self._signer.url(self.path(oid), expires=get.url_lifetime(expect.size))
                # sha256 only: it is what the manifest vouches for, and md5
                # would halve the speed (the object's md5 name comes from the
                # same manifest; `zoo verify` rechecks it).
                also = copy_out.files(oid) if copy_out is not None else []
                with store.writer(oid, expect, label, source, md5=False) as out:
                    get.download(url, expect.size, [out.raw.fileno(), *also], out.hasher.update, jobs=jobs,
                                     part_size=get.PART_SIZE,
                                     progress=lambda n: advance(progress, 0, n), tls=self.tls)
                    out.raw.seek(expect.size)
            return expect.size
        if self._signer is not None:  # smaller than FAST_GET_MIN (or a .dir listing): one GET
            with self._errors(oid, label):
                data = self._get(oid_relpath(oid))
            store.put_bytes(oid, data, expect, label, source)
            if copy_out is not None:
                copy_out.write(oid, memoryview(data))
            advance(progress, 0, len(data))
            return len(data)
        open_kw = {} if self.listable else {"block_size": 0}
        with self._errors(oid, label), self.fs.open(self.path(oid), "rb", **open_kw) as src:
            with store.writer(oid, expect, label, source) as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    advance(progress, 0, len(chunk))
        return out.hasher.size

    # -- small named files (manifests, index) -----------------------------
    def put_text(self, rel: str, text: str) -> None:
        """Write a metadata file; readers see the old or the new content, never a mix."""
        if not self.writable:
            raise RemoteError(f"remote {self.url} is read-only ({self.protocol}://)")
        final = f"{self.root}/{rel}"
        data = text.encode("utf-8")
        with self._errors(rel, rel):
            if not self.is_local:
                self.fs.pipe_file(final, data)
                return
            self._replace_local(final, lambda tmp: self.fs.pipe_file(tmp, data))

    def create_text(self, rel: str, text: str) -> bool:
        """Write a metadata file only if it does not exist yet; False when it did.

        A directory creates it with a hard link (atomic, fails if present); S3
        sends ``If-None-Match: *`` so that of two racing writers one loses,
        where the server supports conditional writes.
        """
        if self.get_text(rel) is not None:
            return False
        data = text.encode("utf-8")
        final = f"{self.root}/{rel}"
        with self._errors(rel, rel):
            if self.is_local:
                parent = final.rsplit("/", 1)[0]
                os.makedirs(parent, exist_ok=True)
                tmp = f"{parent}/.{final.rsplit('/', 1)[1]}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                try:
                    with open(tmp, "xb") as fh:
                        fh.write(data)
                    os.link(tmp, final)
                except FileExistsError:
                    return False
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
                return True
            if self.protocol in ("s3", "s3a"):
                bucket, key, _ = self.fs.split_path(final)
                try:
                    self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
                except OSError as exc:
                    if "PreconditionFailed" in str(exc) or "412" in str(exc):
                        return False
                    raise
                return True
            self.fs.pipe_file(final, data)
            return True

    def get_text(self, rel: str) -> str | None:
        """A metadata file's text, or None when it is not there."""
        try:
            with self._errors(rel, rel):
                data = self._get(rel) if self._signer is not None else self.fs.cat_file(f"{self.root}/{rel}")
        except ObjectMissing:
            return None
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RemoteError(f"remote {self.url}: {rel} is not UTF-8 text") from exc

    def delete(self, rel: str) -> None:
        """Remove a metadata file; quiet when it is already gone."""
        if not self.writable:
            raise RemoteError(f"remote {self.url} is read-only ({self.protocol}://)")
        try:
            with self._errors(rel, rel):
                self.fs.rm_file(f"{self.root}/{rel}")
        except ObjectMissing:
            pass

    def find(self, rel: str) -> list[str]:
        """Every file under ``rel``, as paths relative to the remote's root."""
        base = f"{self.root}/{rel}".rstrip("/")
        with self._errors(rel, rel):
            try:
                found = self.fs.find(base)
            except FileNotFoundError:
                return []
        return sorted(p[len(self.root) + 1:] for p in found if "/." not in p[len(self.root):])

    def read_bytes(self, oid: str) -> bytes:
        with self._errors(oid):
            return bytes(self.fs.cat_file(self.path(oid)))

    def upload_many(self, store: Store, oids: Iterable[str], jobs: int = DEFAULT_JOBS,
                    progress: Progress | None = None) -> int:
        oids = list(oids)
        if self.protocol in ("s3", "s3a") and oids:
            return self._upload_s3(store, oids, jobs, progress)

        def one(oid: str) -> int:
            nbytes = self.upload(store, oid)
            advance(progress, 1, nbytes)
            return nbytes

        return _run_all(one, oids, jobs)

    def _upload_s3(self, store: Store, oids: list[str], jobs: int, progress: Progress | None) -> int:
        """Small objects by presigned PUTs, large ones by parallel multipart: see put."""
        from zoo_repo.remote.s3 import put

        sizes = {oid: store.path(oid).stat().st_size for oid in oids}
        small = [oid for oid in oids if sizes[oid] < FAST_PUT_MIN]
        with self._errors(small[0] if small else oids[0]):
            for start in range(0, len(small), 1000):  # bounded batches of presigned URLs
                batch = small[start:start + 1000]
                put.put_small(self.fs, [(str(store.path(o)), self.path(o)) for o in batch], jobs,
                                  done=lambda _, n: advance(progress, 1, n), tls=self.tls)
            for oid in oids:
                if sizes[oid] >= FAST_PUT_MIN:
                    put.put_large(self.fs, str(store.path(oid)), self.path(oid), jobs,
                                      progress=lambda n: advance(progress, 0, n), tls=self.tls)
                    advance(progress, 1, 0)
        return sum(sizes.values())

    def download_many(self, store: Store, wanted: Mapping[str, tuple[Digest | None, str]],
                      jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
                      copy_out: CopyOut | None = None) -> int:
        def one(oid: str) -> int:
            nbytes = self.download(store, oid, *wanted[oid], jobs=jobs, progress=progress, copy_out=copy_out)
            advance(progress, 1, 0)
            return nbytes

        # Large S3 objects come in parallel parts already: one at a time keeps
        # memory bounded by one window of parts, whatever their number.
        large = {oid for oid, (expect, _) in wanted.items()
                 if self._signer is not None and expect is not None and expect.size >= FAST_GET_MIN}
        total = _run_all(one, [oid for oid in wanted if oid not in large], jobs)
        return total + _run_all(one, sorted(large), 1)

    def hash_object(self, oid: str) -> Digest:
        """Stream an object and hash it (sha256, md5, size) without keeping it."""
        hasher = Hasher()
        with self._errors(oid), self.fs.open(self.path(oid), "rb") as src:
            while chunk := src.read(CHUNK):
                hasher.update(chunk)
        return hasher.digest()

    @contextlib.contextmanager
    def _errors(self, oid: str, label: str | None = None) -> Iterator[None]:
        try:
            yield
        except ZooError:
            raise
        except FileNotFoundError as exc:
            raise ObjectMissing(f"remote {self.url}", oid, label or oid_relpath(oid)) from exc
        except Exception as exc:
            raise translate(self.url, exc) from exc


def translate(url: str, exc: BaseException) -> ZooError:
    """One line, and the likely fix, for what a storage backend raised."""
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return RemoteError(f"remote {url}: no credentials found",
                           hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or "
                           "`dvc remote modify --local NAME access_key_id …`")
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "SignatureDoesNotMatch" in text \
            or "InvalidAccessKeyId" in text:
        return RemoteError(f"remote {url}: access denied ({text})",
                           hint="check the credentials and that they may read and write this bucket")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError",
                "ConnectionRefusedError", "ServerDisconnectedError") or isinstance(exc, ConnectionError):
        return RemoteError(f"remote {url}: cannot reach the endpoint ({text})",
                           hint="check endpointurl in .dvc/config or AWS_ENDPOINT_URL, and the network")
    if name in ("ReadTimeoutError", "TimeoutError") or isinstance(exc, TimeoutError):
        return RemoteError(f"remote {url}: timed out ({text})")
    return RemoteError(f"remote {url}: {name}: {text}")


def _run_all(work: Callable[[str], int], oids: Iterable[str], jobs: int) -> int:
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
