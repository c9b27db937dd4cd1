"""Download one large object by parallel ranged GETs, hashed in order, in bounded memory.

The bytes arrive through plain ``http.client`` connections, one per worker
thread (for S3, the URL is presigned by s3fs, so nothing here signs). Parts
are written in place with ``pwrite`` as they arrive; the caller's thread
hashes them strictly in order, so the digest covers exactly the file. At most
``window`` parts are held in memory at once, whatever the object's size, and
their buffers are reused: fresh memory for every part would cost a page fault
per 4 KiB, as much CPU time as the copy itself.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

PART_SIZE = 8 << 20
ATTEMPTS = 4


class RangeError(OSError):
    """The server did not send the bytes a ranged GET asked for."""


class _State:
    hashed = 0  # parts fed to the hasher so far
    failed: BaseException | None = None


class _Conn(threading.local):
    conn: http.client.HTTPConnection | None = None


def download(url: str, size: int, fd: int, update: Callable[[memoryview], None], *,
             jobs: int = 8, part_size: int = PART_SIZE, timeout: float = 60.0,
             progress: Callable[[int], None] | None = None) -> None:
    """Fetch ``size`` bytes of ``url`` into ``fd``; feed them to ``update`` in order."""
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
            cls = http.client.HTTPSConnection if split.scheme == "https" else http.client.HTTPConnection
            local.conn = cls(split.hostname or "", split.port, timeout=timeout)
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
                if attempt == ATTEMPTS - 1 or isinstance(exc, RangeError) and "status 4" in str(exc):
                    with cond:
                        state.failed = exc
                        cond.notify_all()
                    return
                time.sleep(0.2 * 2**attempt)
        os.pwrite(fd, view, start)
        with cond:
            ready[index] = view
            cond.notify_all()

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(fetch, i) for i in range(len(parts))]
            try:
                for index in range(len(parts)):
                    with cond:
                        cond.wait_for(lambda: index in ready or state.failed is not None)
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


def _get_range(conn: http.client.HTTPConnection, target: str, start: int, view: memoryview) -> None:
    end = start + len(view) - 1
    conn.request("GET", target, headers={"Range": f"bytes={start}-{end}"})
    response = conn.getresponse()
    if response.status not in (200, 206) or (response.status == 200 and start != 0):
        body = response.read(512)
        raise RangeError(f"GET bytes {start}-{end}: status {response.status}: {body[:200]!r}")
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
