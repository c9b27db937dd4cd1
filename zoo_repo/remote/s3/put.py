"""Upload objects to S3 by presigned URLs over plain ``http.client``.

URLs are signed here (``sign``, when the remote's endpoint and keys are given
outright) or by s3fs (one batch per call, on its own event loop); worker
threads send the bodies over the shared pool of kept-alive connections
(``remote.http``), retried as every request is (``remote.retry``). Presigned
requests carry an unsigned payload, so no SHA-256 of every body is computed
on the way out (botocore's cost per small object). Small objects are sent from
memory; larger ones and the parts of a multipart upload are streamed from the
file in blocks, so memory does not grow with the parts in flight. An object
becomes visible only when its PUT or its multipart completion succeeds: never
partly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from zoo_repo.remote.errors import error_reason, status_error
from zoo_repo.remote.http import POOL, Host
from zoo_repo.remote.options import Timeouts
from zoo_repo.remote.retry import retrying
from zoo_repo.remote.s3.get import url_lifetime

if TYPE_CHECKING:
    import ssl

    from zoo_repo.remote.s3.direct import Client

PART_SIZE = 16 << 20  # fewer parts than 8 MiB ones: each costs the server a round of its own
STREAM_BLOCK = 256 << 10  # bytes read from the file and sent at a time


class PutError(OSError):
    """An upload that cannot complete as asked."""


class Sender:
    """PUTs of presigned URLs over the shared pool of kept-alive connections."""

    def __init__(self, timeouts: Timeouts | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.timeouts = timeouts or Timeouts()

    def put(self, url: str, body: bytes | memoryview) -> str:
        """PUT ``body``; returns the ETag. Transient failures are retried (``remote.retry``)."""
        return self.put_stream(url, lambda: body, len(body))

    def put_stream(self, url: str, body: Callable[[], Any], length: int) -> str:
        """PUT ``length`` bytes read from ``body()`` (a fresh reader for each attempt); returns the ETag."""
        split = urlsplit(url)
        target = split.path + (f"?{split.query}" if split.query else "")
        host: Host = (split.scheme, split.hostname or "", split.port)

        def once() -> str:
            with POOL.connection(host, self.timeouts, self.tls) as conn:
                conn.blocksize = STREAM_BLOCK
                conn.request("PUT", target, body=body(), headers={"Content-Length": str(length)})
                response = conn.getresponse()
                data = response.read()
            if 200 <= response.status < 300:
                return str(response.getheader("ETag", "")).strip('"')
            raise status_error(f"PUT {split.path}", response.status, error_reason(data))

        return retrying(once)


def presign(fs: Any, requests: Sequence[tuple[str, dict[str, Any]]], method: str = "put_object",
            expires: int = 3600) -> list[str]:
    """Presigned URLs for many (path, extra params) in one trip to s3fs's event loop."""
    import asyncio  # only for s3fs's signing: a publish signing its own URLs never loads it

    from fsspec.asyn import sync

    async def sign_all() -> list[str]:
        return list(await asyncio.gather(
            *(fs._url(path, expires=expires, client_method=method, **params) for path, params in requests)))

    return list(sync(fs.loop, sign_all))


class Multipart(Protocol):
    """The calls a multipart upload makes besides sending its parts."""

    def create(self) -> str: ...

    def part_urls(self, upload_id: str, count: int, expires: int) -> list[str]: ...

    def complete(self, upload_id: str, etags: Sequence[str]) -> None: ...

    def abort(self, upload_id: str) -> None: ...


class FsspecMultipart:
    """Multipart by s3fs's client, for credentials only botocore resolves."""

    def __init__(self, fs: Any, remote: str) -> None:
        self.fs, self.remote = fs, remote
        self.bucket, self.key, _ = fs.split_path(remote)

    def _call(self, method: str, **params: Any) -> Any:
        from fsspec.asyn import sync

        return sync(self.fs.loop, self.fs._call_s3, method, Bucket=self.bucket, Key=self.key, **params)

    def create(self) -> str:
        return str(self._call("create_multipart_upload")["UploadId"])

    def part_urls(self, upload_id: str, count: int, expires: int) -> list[str]:
        return presign(self.fs, [(self.remote, {"UploadId": upload_id, "PartNumber": n}) for n in range(1, count + 1)],
                       "upload_part", expires=expires)

    def complete(self, upload_id: str, etags: Sequence[str]) -> None:
        self._call("complete_multipart_upload", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, 1)]})

    def abort(self, upload_id: str) -> None:
        self._call("abort_multipart_upload", UploadId=upload_id)


class DirectMultipart:
    """Multipart by requests signed here (``direct``)."""

    def __init__(self, client: Client, remote: str) -> None:
        self.client, self.remote = client, remote

    def create(self) -> str:
        return self.client.create_upload(self.remote)

    def part_urls(self, upload_id: str, count: int, expires: int) -> list[str]:
        return self.client.part_urls(self.remote, upload_id, count, expires)

    def complete(self, upload_id: str, etags: Sequence[str]) -> None:
        self.client.complete_upload(self.remote, upload_id, etags)

    def abort(self, upload_id: str) -> None:
        self.client.abort_upload(self.remote, upload_id)


# Objects up to this size are read whole and sent from memory; larger ones are
# streamed from the file a block at a time: at most this much per upload in
# flight, whatever the objects' sizes (64 in flight: 16 MiB).
IN_MEMORY_MAX = STREAM_BLOCK


class _Slice:
    """Bytes ``[start, start + length)`` of a file, read in blocks as http.client sends them."""

    def __init__(self, fd: int, start: int, length: int) -> None:
        self.fd, self.offset, self.left = fd, start, length

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = os.pread(self.fd, n, self.offset) if n else b""
        if len(data) != n:
            raise PutError("the file changed size while being uploaded")
        self.offset += n
        self.left -= n
        return data


def put_small(items: Sequence[tuple[str, str]], urls: Sequence[str], jobs: int,
              done: Callable[[str, int], None] | None = None, tls: ssl.SSLContext | None = None,
              timeouts: Timeouts | None = None) -> None:
    """Upload (local file, remote path) pairs, each in one PUT to its presigned URL."""
    sender = Sender(timeouts, tls=tls)

    def one(pair: tuple[tuple[str, str], str]) -> None:
        (local, remote), url = pair
        fd = os.open(local, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            if size <= IN_MEMORY_MAX:
                data = os.pread(fd, size + 1, 0)
                if len(data) != size:
                    raise PutError(f"{local}: changed size while being uploaded")
                sender.put(url, data)
            else:
                sender.put_stream(url, lambda: _Slice(fd, 0, size), size)
        finally:
            os.close(fd)
        if done:
            done(remote, size)

    if len(items) == len(urls) == 1:  # one object (sent early by a publish): no pool, it costs more than the PUT
        one((items[0], urls[0]))
        return
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, zip(items, urls, strict=True)))


def put_large(multipart: Multipart, local: str, jobs: int, part_size: int = PART_SIZE,
              progress: Callable[[int], None] | None = None, tls: ssl.SSLContext | None = None,
              timeouts: Timeouts | None = None) -> None:
    """Multipart upload with parallel parts; aborted (nothing visible) on any failure."""
    size = os.stat(local).st_size
    parts = [(n + 1, start, min(part_size, size - start)) for n, start in enumerate(range(0, size, part_size))]
    upload_id = multipart.create()
    sender = Sender(timeouts, tls=tls)
    try:
        urls = multipart.part_urls(upload_id, len(parts), url_lifetime(size))
        fd = os.open(local, os.O_RDONLY)

        def one(part: tuple[int, int, int]) -> str:
            # Streamed from the file in blocks: memory per part in flight is one
            # block, not the part (8 parts of 8 MiB would be 64 MiB).
            number, start, length = part
            etag = sender.put_stream(urls[number - 1], lambda: _Slice(fd, start, length), length)
            if progress:
                progress(length)
            return etag

        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                etags = list(pool.map(one, parts))
        finally:
            os.close(fd)
        multipart.complete(upload_id, etags)
    except BaseException:
        try:
            multipart.abort(upload_id)
        except Exception:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
