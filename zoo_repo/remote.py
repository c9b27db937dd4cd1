"""Remotes: any fsspec URL, laid out as a DVC remote (``files/md5/ab/cdef…``).

The only module that talks to remote storage. Foreign errors are translated
here into RemoteError / ObjectMissing, so callers see one line that names the
remote and the object.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .digest import CHUNK, Digest
from .errors import ObjectMissing, RemoteError, ZooError
from .store import Store, oid_relpath

DEFAULT_JOBS = 8


class Remote:
    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        import fsspec

        self.url = url
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url, **(options or {}))
        except (ImportError, ValueError) as exc:
            raise RemoteError(f"remote {url}: {exc}") from exc
        self.root = self.root.rstrip("/")
        # Object stores make a PUT visible only when complete; a filesystem
        # needs a temp name and a rename for the same guarantee.
        self._needs_rename = "file" in _protocols(self.fs)

    def __repr__(self) -> str:
        return f"Remote({self.url!r})"

    def _path(self, oid: str) -> str:
        return f"{self.root}/{oid_relpath(oid)}"

    def has(self, oid: str) -> bool:
        with self._errors(oid):
            return bool(self.fs.isfile(self._path(oid)))

    def missing(self, oids: Iterable[str], jobs: int = DEFAULT_JOBS) -> set[str]:
        oids = list(oids)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            present = list(pool.map(self.has, oids))
        return {oid for oid, ok in zip(oids, present) if not ok}

    def upload(self, store: Store, oid: str) -> int:
        final = self._path(oid)
        with self._errors(oid):
            if not self._needs_rename:
                self.fs.put_file(str(store.path(oid)), final)
                return store.path(oid).stat().st_size
            parent = final.rsplit("/", 1)[0]
            self.fs.makedirs(parent, exist_ok=True)
            tmp = f"{parent}/.{oid[2:]}.tmp-{uuid.uuid4().hex[:12]}"
            try:
                self.fs.put_file(str(store.path(oid)), tmp)
                self.fs.mv(tmp, final)
            finally:
                with contextlib.suppress(FileNotFoundError, OSError):
                    if self.fs.exists(tmp):
                        self.fs.rm_file(tmp)
        return store.path(oid).stat().st_size

    def download(self, store: Store, oid: str, expect: Digest | None, label: str) -> int:
        """Stream an object into the store, verified before it gets its name."""
        with self._errors(oid, label), self.fs.open(self._path(oid), "rb") as src:
            with store.writer(oid, expect, label, source=f"remote {self.url}") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
        return out.hasher.size

    def read_bytes(self, oid: str) -> bytes:
        with self._errors(oid):
            return bytes(self.fs.cat_file(self._path(oid)))

    def upload_many(
        self, store: Store, oids: Iterable[str], jobs: int = DEFAULT_JOBS,
        callback: Callable[[str, int], None] | None = None,
    ) -> int:
        return _run_all(lambda oid: self.upload(store, oid), oids, jobs, callback)

    def download_many(
        self, store: Store, wanted: Mapping[str, tuple[Digest | None, str]], jobs: int = DEFAULT_JOBS,
        callback: Callable[[str, int], None] | None = None,
    ) -> int:
        return _run_all(lambda oid: self.download(store, oid, *wanted[oid]), wanted, jobs, callback)

    @contextlib.contextmanager
    def _errors(self, oid: str, label: str | None = None) -> Any:
        try:
            yield
        except ZooError:
            raise
        except FileNotFoundError as exc:
            raise ObjectMissing(f"remote {self.url}", oid, label or oid_relpath(oid)) from exc
        except (OSError, ValueError) as exc:
            raise RemoteError(f"remote {self.url}: {type(exc).__name__}: {exc}") from exc


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = fs.protocol
    return (proto,) if isinstance(proto, str) else tuple(proto)


def _run_all(
    work: Callable[[str], int], oids: Iterable[str], jobs: int,
    callback: Callable[[str, int], None] | None,
) -> int:
    """Run ``work`` on every oid with bounded concurrency; first error wins."""
    total = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(work, oid): oid for oid in oids}
        try:
            for future in futures:
                nbytes = future.result()
                total += nbytes
                if callback:
                    callback(futures[future], nbytes)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return total
