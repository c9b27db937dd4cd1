"""Any fsspec filesystem as a remote: GCS, Azure, and the base of the S3 and
directory backends; plain HTTP(S) read-only."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from zoo_repo.core.progress import Progress, advance
from zoo_repo.errors import RemoteError, naming
from zoo_repo.remote.base import DEFAULT_JOBS, UNSIZED_LIMIT, CopyOut, Remote, check_span, size_mismatch
from zoo_repo.remote.options import Backend, env_files, protocol_of, storage_options
from zoo_repo.store.digest import CHUNK, Digest, Hasher
from zoo_repo.store.objects import Store


def _fsspec_url(url: str) -> str:
    """The URL as fsspec knows it: DVC writes Azure remotes as ``azure://``, which
    fsspec does not know; adlfs registers ``az://`` for the same containers. A
    ``file://`` URL is percent-encoded (``Path.as_uri()`` writes a space as %20),
    which fsspec's local filesystem would take literally, and may name ``localhost``."""
    if protocol_of(url) == "azure":
        return "az://" + url.split("://", 1)[1]
    if url.startswith("file://"):
        from urllib.parse import unquote

        # RFC 8089 also allows the host: file://localhost/path is file:///path.
        return "file://" + unquote(url[len("file://"):].removeprefix("localhost"))
    return url


# Protocols whose fsspec backend makes pipe_file(mode="create") a conditional write on the server.
_CONDITIONAL_CREATE = frozenset({"gs", "gcs", "az", "abfs", "azure"})


class FsspecRemote(Remote):
    def __init__(self, url: str, options: Mapping[str, Any] | None, backend: Backend,
                 root: str | None = None) -> None:
        self._backend = backend
        self.protocol = backend.protocols[0] if "://" not in url else url.split("://", 1)[0].lower()
        self.writable = backend.writable
        self._fs: Any = None
        opts = dict(options or {})
        for key, value in env_files(opts).items():
            os.environ.setdefault(key, value)
        super().__init__(url, opts, root if root is not None else self._connect(url, opts)[1])

    def _connect(self, url: str | None = None, options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
        url = url or self.url
        options = self.options if options is None else options
        backend = self._backend
        try:
            import fsspec

            # fsspec caches filesystems by their arguments; credentials taken
            # from the environment are not among them, so a cached instance
            # could sign with keys that have since changed.
            fs, root = fsspec.core.url_to_fs(_fsspec_url(url), skip_instance_cache=True,
                                             **storage_options(url, dict(options)))
        except ImportError as exc:
            raise RemoteError(
                f"remote {url}: the {backend.package} package is not installed",
                hint=f"pip install 'zoo-repo[{backend.extra}]'" if backend.extra else f"pip install {backend.package}",
            ) from exc
        except (ValueError, TypeError) as exc:
            raise RemoteError(f"remote {url}: {exc}") from exc
        self._fs = self._tune(fs)
        return fs, root

    def _tune(self, fs: Any) -> Any:
        """Adjust a new filesystem object (a backend's own settings)."""
        return fs

    @property
    def fs(self) -> Any:
        """The fsspec filesystem (made on first use where the backend can wait)."""
        return self._fs if self._fs is not None else self._connect()[0]

    def size(self, oid: str) -> int | None:
        with self._errors(oid):
            try:
                info = self.fs.info(self.path(oid))
            except FileNotFoundError:
                return None
        return int(info["size"]) if info.get("type", "file") == "file" else None

    def _list_all(self) -> Iterator[tuple[str, int]]:
        with self._errors("files/md5"):
            try:
                found = self.fs.find(f"{self.root}/files/md5", detail=True)
            except FileNotFoundError:
                return
        yield from self._listed_oids(found)

    def put_file(self, src: str, rel: str, label: str | None = None) -> int:
        self._require_writable()
        size = os.stat(src).st_size
        with self._errors(rel, label or rel):
            self.fs.put_file(src, f"{self.root}/{rel}")
        return size

    def put_text(self, rel: str, text: str) -> None:
        self._require_writable()
        with self._errors(rel, rel):
            self.fs.pipe_file(f"{self.root}/{rel}", text.encode("utf-8"))

    def create_text(self, rel: str, text: str) -> bool:
        """Of racing writers one wins where the store can refuse a write over an
        existing file: GCS (``ifGenerationMatch=0``) and Azure (``If-None-Match: *``),
        through ``pipe_file(mode="create")``; elsewhere, check then write.
        (A directory's link and S3's If-None-Match are their own backends'.)"""
        self._require_writable()
        if self.get_text(rel) is not None:
            return False
        if self.protocol not in _CONDITIONAL_CREATE:
            self.put_text(rel, text)
            return True
        with self._errors(rel, rel):
            try:
                self.fs.pipe_file(f"{self.root}/{rel}", text.encode("utf-8"), mode="create")
            except FileExistsError:
                return False
        return True

    def _read(self, rel: str, limit: int) -> bytes:
        # Opened and read up to the cap, not cat_file: that would take whatever the server sends.
        with self.fs.open(f"{self.root}/{rel}", "rb", **self._open_kw()) as src:
            return bytes(src.read(limit + 1))

    def read_range(self, rel: str, start: int, end: int) -> bytes:
        check_span(self.url, rel, start, end)
        with self._errors(rel, rel):
            return bytes(self.fs.cat_file(f"{self.root}/{rel}", start=start, end=end))

    def _open_kw(self) -> dict[str, Any]:
        return {}

    def download(self, store: Store, oid: str, expect: Digest | None, label: str,
                 jobs: int = DEFAULT_JOBS, progress: Progress | None = None, copy_out: CopyOut | None = None) -> int:
        source = f"remote {self.url}"
        limit = expect.size if expect is not None else UNSIZED_LIMIT
        with self._errors(oid, label), self.fs.open(self.path(oid), "rb", **self._open_kw()) as src:
            with store.writer(oid, expect, label, source) as out, naming(out.raw.name):
                # Never past the declared size and one byte: an object larger
                # than its manifest says is refused, not written out whole.
                while chunk := src.read(min(CHUNK, limit + 1 - out.hasher.size)):
                    out.write(chunk)
                    advance(progress, 0, len(chunk))
                    if out.hasher.size > limit:
                        raise size_mismatch(label, limit, out.hasher.size, source)
        return out.hasher.size

    def delete(self, rel: str) -> None:
        self._require_writable()
        with self._errors(rel, rel):
            try:
                self.fs.rm_file(f"{self.root}/{rel}")
            except FileNotFoundError:
                pass

    def find(self, rel: str) -> list[str]:
        base = f"{self.root}/{rel}".rstrip("/")
        with self._errors(rel, rel):
            try:
                found = self.fs.find(base)
            except FileNotFoundError:
                return []
        return sorted(p[len(self.root) + 1:] for p in found if "/." not in p[len(self.root):])

    def describe(self) -> str:
        return f"{self.protocol}:// via {type(self.fs).__name__}"

    def root_exists(self) -> bool:
        with self._errors(self.root, self.root):
            return bool(self.fs.exists(self.root))

    def probe(self, payload: bytes) -> bytes:
        """Write, read back and delete a scratch object (under ``.zoo-doctor/``,
        which no listing of objects or manifests reads); returns what was read."""
        import uuid

        self._require_writable()
        folder = f"{self.root}/.zoo-doctor"
        path = f"{folder}/{uuid.uuid4().hex}"
        with self._errors(path, path):
            self._make_folder(folder)
            self.fs.pipe_file(path, payload)
            got = bytes(self.fs.cat_file(path))
            self.fs.rm_file(path)
            self._remove_folder(folder)
        return got

    def _make_folder(self, folder: str) -> None:
        """Object stores have no folders: nothing to make or remove."""

    def _remove_folder(self, folder: str) -> None:
        pass

    def hash_object(self, oid: str) -> Digest:
        hasher = Hasher()
        with self._errors(oid), self.fs.open(self.path(oid), "rb") as src:
            while chunk := src.read(CHUNK):
                hasher.update(chunk)
        return hasher.digest()


class HttpRemote(FsspecRemote):
    """A remote served over plain HTTP(S): read-only, no listing, maybe no Range."""

    listable = False

    def _open_kw(self) -> dict[str, Any]:
        return {"block_size": 0}  # stream the whole object: a server may ignore Range
