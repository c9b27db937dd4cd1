"""Download one large object by parallel ranged GETs, hashed in order, in bounded memory.

The bytes arrive through plain ``http.client`` connections, one per worker
thread (for S3, the URL is presigned, so nothing here signs). Parts
are written in place with ``pwrite`` as they arrive; the caller's thread
hashes them strictly in order, so the digest covers exactly the file. At most
``window`` parts are held in memory at once, whatever the object's size, and
their buffers are reused: fresh memory for every part would cost a page fault
per 4 KiB, as much CPU time as the copy itself.
"""

from __future__ import annotations

import atexit
import errno
import functools
import http.client
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from zoo_repo.errors import ZooError

PART_SIZE = 8 << 20
ATTEMPTS = 4


class RangeError(OSError):
    """The server did not send the bytes a ranged GET asked for."""


def url_lifetime(nbytes: int) -> int:
    """Seconds a presigned URL must stay valid to move ``nbytes`` at a slow 1 MiB/s
    (at least an hour; at most SigV4's seven days)."""
    return min(7 * 24 * 3600, max(3600, nbytes >> 20))


def error_reason(body: bytes) -> str:
    """``Code: Message`` from an S3 error document (the code is what error tables match on)."""
    code = re.search(rb"<Code>(.*?)</Code>", body)
    message = re.search(rb"<Message>(.*?)</Message>", body)
    if not code and not message:
        return body[:200].decode("utf-8", "replace")
    parts = [m.group(1).decode("utf-8", "replace") for m in (code, message) if m]
    return ": ".join(parts)


def _status_error(what: str, status: int, body: bytes) -> OSError:
    """The OSError a refused GET stands for: missing, forbidden, or otherwise failed."""
    text = f"{what}: status {status}: {error_reason(body)}"
    if status == 404:
        return FileNotFoundError(text)
    if status == 403:
        return PermissionError(text)
    return RangeError(text)


def _retryable(exc: BaseException) -> bool:
    return not isinstance(exc, (FileNotFoundError, PermissionError)) and not (
        isinstance(exc, RangeError) and "status 4" in str(exc))


Host = tuple[str, str, "int | None"]  # scheme, host name, port


def tls_context(verify: bool | str | None = None) -> ssl.SSLContext:
    """How HTTPS connections check the server, as botocore decides it: ``verify``
    False (no check) or a CA bundle's path, else ``AWS_CA_BUNDLE``, else the system's CAs."""
    return _tls_context(verify, os.environ.get("AWS_CA_BUNDLE") or None)


@functools.lru_cache(maxsize=8)
def _tls_context(verify: bool | str | None, env_bundle: str | None) -> ssl.SSLContext:
    # Made once: loading the CAs costs more than a request.
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else env_bundle)


def connection(scheme: str, host: str, port: int | None, timeout: float,
               tls: ssl.SSLContext | None = None) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=tls or tls_context())
    return http.client.HTTPConnection(host, port, timeout=timeout)


class _KeepAlive:
    """Idle connections by host, shared by all threads, closed at exit."""

    MAX_IDLE = 16

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int | None, ssl.SSLContext | None], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, host: Host, timeout: float, tls: ssl.SSLContext | None) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.get((*host, tls))
            if idle:
                return idle.pop()
        return connection(*host, timeout, tls)

    def give_back(self, host: Host, tls: ssl.SSLContext | None, conn: http.client.HTTPConnection) -> None:
        # Keyed by the TLS settings too: a connection made without checks
        # must not serve a caller that wants them.
        with self._lock:
            idle = self._idle.setdefault((*host, tls), [])
            if len(idle) < self.MAX_IDLE:
                idle.append(conn)
                return
        conn.close()

    def close_all(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for conn in idle:
                    conn.close()
            self._idle.clear()


_keepalive = _KeepAlive()
atexit.register(_keepalive.close_all)


def fetch(url: str, start: int | None = None, end: int | None = None, *, timeout: float = 60.0,
          tls: ssl.SSLContext | None = None) -> bytes:
    """One GET of ``url`` (bytes ``[start, end)`` when given), on a kept-alive connection.

    Transient failures are retried with backoff; 404 raises FileNotFoundError
    and 403 PermissionError, at once.
    """
    split = urlsplit(url)
    target = split.path + (f"?{split.query}" if split.query else "")
    host: Host = (split.scheme, split.hostname or "", split.port)
    headers = {} if start is None else {"Range": f"bytes={start}-{(end or 0) - 1}"}
    for attempt in range(ATTEMPTS):
        conn = _keepalive.take(host, timeout, tls)
        try:
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status != 206 and (response.status != 200 or start):
                raise _status_error(f"GET {split.path}", response.status, body)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            if attempt == ATTEMPTS - 1 or not _retryable(exc):
                raise
            time.sleep(0.2 * 2**attempt)
            continue
        _keepalive.give_back(host, tls, conn)
        if start is not None and end is not None:
            body = body[:end - start]  # a server that ignored Range sent it all
            if len(body) != end - start:
                raise RangeError(f"GET {split.path}: {len(body)} bytes of {end - start}")
        return body
    raise AssertionError("unreachable")


class _State:
    hashed = 0  # parts fed to the hasher so far
    failed: BaseException | None = None


class _Conn(threading.local):
    conn: http.client.HTTPConnection | None = None


def download(url: str, size: int, fds: Sequence[int], update: Callable[[memoryview], None], *,
             jobs: int = 8, part_size: int = PART_SIZE, timeout: float = 60.0,
             progress: Callable[[int], None] | None = None, tls: ssl.SSLContext | None = None) -> None:
    """Fetch ``size`` bytes of ``url`` into each of ``fds``; feed them to ``update`` in order."""
    parts = [(start, min(part_size, size - start)) for start in range(0, size, part_size)]
    window = max(2, jobs + 2)
    split = urlsplit(url)
    target = split.path + (f"?{split.query}" if split.query else "")
    local = _Conn()
    ready: dict[int, memoryview] = {}
    free: list[bytearray] = []  # buffers whose part has been hashed
    cond = threading.Condition()
    state = _State()

    opened: list[http.client.HTTPConnection] = []

    def connect() -> http.client.HTTPConnection:
        if local.conn is None:
            local.conn = connection(split.scheme, split.hostname or "", split.port, timeout, tls)
            with cond:
                opened.append(local.conn)
        return local.conn

    def fetch(index: int) -> None:
        with cond:  # keep at most `window` parts in flight or waiting to be hashed
            cond.wait_for(lambda: index < state.hashed + window or state.failed is not None)
            if state.failed is not None:
                return
            buf = free.pop() if free else bytearray(part_size)
        start, length = parts[index]
        view = memoryview(buf)[:length]
        for attempt in range(ATTEMPTS):
            try:
                _get_range(connect(), target, start, view)
                break
            except (OSError, http.client.HTTPException) as exc:
                if local.conn is not None:
                    local.conn.close()
                    local.conn = None
                if attempt == ATTEMPTS - 1 or not _retryable(exc):
                    with cond:
                        state.failed = exc
                        cond.notify_all()
                    return
                time.sleep(0.2 * 2**attempt)
        try:
            for fd in fds:  # copies are written by the workers, beside the download
                write_all(fd, view, start)
        except OSError as exc:
            # Not retried: a full disk or a size limit will not clear up. And it
            # must reach the caller's thread, which otherwise waits for this part.
            with cond:
                state.failed = ZooError(f"could not write the download to disk at byte {start}: {exc}",
                                        hint="check the free space and any file size limit (ulimit -f)")
                cond.notify_all()
            return
        with cond:
            ready[index] = view
            cond.notify_all()

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(fetch, i) for i in range(len(parts))]
            try:
                for index in range(len(parts)):
                    with cond:
                        # wait_for calls the predicate before this iteration ends: no stale index.
                        cond.wait_for(lambda: index in ready or state.failed is not None)  # noqa: B023
                        if state.failed is not None:
                            raise state.failed
                        view = ready.pop(index)
                    update(view)
                    if progress:
                        progress(len(view))
                    with cond:
                        state.hashed = index + 1
                        free.append(view.obj)  # type: ignore[arg-type]
                        cond.notify_all()
            finally:
                with cond:
                    if state.failed is None and state.hashed < len(parts):
                        state.failed = RangeError("download abandoned")
                    cond.notify_all()
                for future in futures:
                    future.cancel()
    finally:
        for conn in opened:
            conn.close()


def write_all(fd: int, data: memoryview, offset: int) -> None:
    """Write all of ``data`` at ``offset``, or raise OSError. pwrite may write less
    than asked (a file size limit or a full disk reached mid-part); taking that
    as done would store bytes other than those hashed."""
    done = 0
    while done < len(data):
        n = os.pwrite(fd, data[done:], offset + done)
        if n <= 0:
            raise OSError(errno.EIO, f"no byte written at offset {offset + done}")
        done += n


def _get_range(conn: http.client.HTTPConnection, target: str, start: int, view: memoryview) -> None:
    end = start + len(view) - 1
    conn.request("GET", target, headers={"Range": f"bytes={start}-{end}"})
    response = conn.getresponse()
    if response.status not in (200, 206) or (response.status == 200 and start != 0):
        raise _status_error(f"GET bytes {start}-{end}", response.status, response.read(4096))
    got = 0
    while got < len(view):
        n = response.readinto(view[got:])
        if not n:
            raise RangeError(f"GET bytes {start}-{end}: connection closed after {got} bytes")
        got += n
    if response.status == 200:
        response.close()  # a server that ignores Range: take the first part, drop the rest
    elif response.read(1):
        raise RangeError(f"GET bytes {start}-{end}: more bytes than asked for")
