"""Upload objects to S3 by presigned URLs over plain ``http.client``.

s3fs signs (one batch of presigned URLs per call, on its own event loop);
worker threads send the bodies over the shared pool of kept-alive connections
(``remote.http``), retried as every request is (``remote.retry``). Presigned
requests carry an unsigned payload, so no SHA-256 of every body is computed
on the way out (botocore's cost per small object). Large objects go up as
parallel multipart parts, read from the file with ``pread`` into bounded
buffers. An object becomes visible only when its PUT or its multipart
completion succeeds: never partly.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zoo_repo.remote.errors import error_reason, status_error
from zoo_repo.remote.http import POOL, Host
from zoo_repo.remote.options import Timeouts
from zoo_repo.remote.retry import retrying
from zoo_repo.remote.s3.get import url_lifetime

if TYPE_CHECKING:
    import ssl

PART_SIZE = 8 << 20


class PutError(OSError):
    """An upload that cannot complete as asked."""


class Sender:
    """PUTs of presigned URLs over the shared pool of kept-alive connections."""

    def __init__(self, timeouts: Timeouts | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.timeouts = timeouts or Timeouts()

    def put(self, url: str, body: bytes | memoryview) -> str:
        """PUT ``body``; returns the ETag. Transient failures are retried (``remote.retry``)."""
        split = urlsplit(url)
        target = split.path + (f"?{split.query}" if split.query else "")
        host: Host = (split.scheme, split.hostname or "", split.port)

        def once() -> str:
            with POOL.connection(host, self.timeouts, self.tls) as conn:
                conn.request("PUT", target, body=body, headers={"Content-Length": str(len(body))})
                response = conn.getresponse()
                data = response.read()
            if 200 <= response.status < 300:
                return str(response.getheader("ETag", "")).strip('"')
            raise status_error(f"PUT {split.path}", response.status, error_reason(data))

        return retrying(once)


def presign(fs: Any, requests: Sequence[tuple[str, dict[str, Any]]], method: str = "put_object",
            expires: int = 3600) -> list[str]:
    """Presigned URLs for many (path, extra params) in one trip to s3fs's event loop."""
    from fsspec.asyn import sync

    async def sign_all() -> list[str]:
        return list(await asyncio.gather(
            *(fs._url(path, expires=expires, client_method=method, **params) for path, params in requests)))

    return list(sync(fs.loop, sign_all))


class _Buffers(threading.local):
    """A buffer per thread, made on its first use."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.buf: bytearray | None = None

    def get(self) -> bytearray:
        if self.buf is None:
            self.buf = bytearray(self.size)
        return self.buf


def put_small(fs: Any, items: Sequence[tuple[str, str]], jobs: int,
              done: Callable[[str, int], None] | None = None, tls: ssl.SSLContext | None = None,
              timeouts: Timeouts | None = None) -> None:
    """Upload (local file, remote path) pairs, each in one PUT."""
    urls = presign(fs, [(remote, {}) for _, remote in items])
    sender = Sender(timeouts, tls=tls)

    def one(pair: tuple[tuple[str, str], str]) -> None:
        (local, remote), url = pair
        with open(local, "rb") as fh:
            data = fh.read()
        sender.put(url, data)
        if done:
            done(remote, len(data))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, zip(items, urls, strict=True)))


def put_large(fs: Any, local: str, remote: str, jobs: int, part_size: int = PART_SIZE,
              progress: Callable[[int], None] | None = None, tls: ssl.SSLContext | None = None,
              timeouts: Timeouts | None = None) -> None:
    """Multipart upload with parallel parts; aborted (nothing visible) on any failure."""
    from fsspec.asyn import sync

    bucket, key, _ = fs.split_path(remote)
    size = os.stat(local).st_size
    parts = [(n + 1, start, min(part_size, size - start)) for n, start in enumerate(range(0, size, part_size))]
    created = sync(fs.loop, fs._call_s3, "create_multipart_upload", Bucket=bucket, Key=key)
    upload_id = created["UploadId"]
    sender = Sender(timeouts, tls=tls)
    try:
        urls = presign(fs, [(remote, {"UploadId": upload_id, "PartNumber": n}) for n, _, _ in parts],
                       "upload_part", expires=url_lifetime(size))
        fd = os.open(local, os.O_RDONLY)
        # One reused buffer per worker: a fresh 8 MiB read per part costs a
        # page fault per 4 KiB, as much CPU as sending it.
        buffers = _Buffers(part_size)

        def one(part: tuple[int, int, int]) -> dict[str, Any]:
            number, start, length = part
            view = memoryview(buffers.get())[:length]
            if os.preadv(fd, [view], start) != length:
                raise PutError(f"{local}: changed size while being uploaded")
            etag = sender.put(urls[number - 1], view)
            if progress:
                progress(length)
            return {"PartNumber": number, "ETag": etag}

        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                done = list(pool.map(one, parts))
        finally:
            os.close(fd)
        sync(fs.loop, fs._call_s3, "complete_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id,
             MultipartUpload={"Parts": done})
    except BaseException:
        try:
            sync(fs.loop, fs._call_s3, "abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
