"""Download one large object by parallel ranged GETs, hashed in order, in bounded memory.

The bytes arrive through plain ``http.client`` connections from the shared
pool (``remote.http``; the URL is presigned, so nothing here signs), each
part retried as every request is (``remote.retry``). Parts
are written in place with ``pwrite`` as they arrive; the caller's thread
hashes them strictly in order, so the digest covers exactly the file. At most
``window`` parts are held in memory at once, whatever the object's size, and
their buffers are reused: fresh memory for every part would cost a page fault
per 4 KiB, as much CPU time as the copy itself.

Nothing is sized by what the manifest declares until the server agrees: the
first part's ``Content-Range`` must give the declared total, else
``SizeMismatch`` (an object larger or smaller than declared, or a crafted
size of a petabyte) before any more is asked; parts are numbered as they are
fetched, never listed up front. A whole GET reads at most what the caller
allows, and one byte more.
"""

from __future__ import annotations

import errno
import http.client
import os
import re
import ssl
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from zoo_repo.remote.errors import error_reason, status_error
from zoo_repo.remote.http import POOL, Host, tls_context
from zoo_repo.remote.options import Timeouts
from zoo_repo.remote.retry import retrying

__all__ = ["PART_SIZE", "RangeError", "SizeMismatch", "download", "fetch", "tls_context", "url_lifetime",
           "write_all"]

PART_SIZE = 8 << 20
WHOLE_LIMIT = 64 << 20  # a whole GET whose caller states no limit reads no more than this


class RangeError(OSError):
    """The server did not send the bytes a ranged GET asked for (transient: asked again)."""


class SizeMismatch(ValueError):
    """The object on the server is not the size the manifest declares (final: not asked again)."""

    def __init__(self, declared: int, actual: str) -> None:
        super().__init__(f"declared {declared} bytes, the server has {actual}")
        self.declared = declared
        self.actual = actual


def url_lifetime(nbytes: int) -> int:
    """Seconds a presigned URL must stay valid to move ``nbytes`` at a slow 1 MiB/s
    (at least an hour; at most SigV4's seven days)."""
    return min(7 * 24 * 3600, max(3600, nbytes >> 20))


def _target(url: str) -> tuple[Host, str]:
    split = urlsplit(url)
    return (split.scheme, split.hostname or "", split.port), split.path + (f"?{split.query}" if split.query else "")


def fetch(url: str, start: int | None = None, end: int | None = None, *, limit: int = WHOLE_LIMIT,
          timeouts: Timeouts | None = None, tls: ssl.SSLContext | None = None) -> bytes:
    """One GET of ``url`` (bytes ``[start, end)`` when given), on a kept-alive connection.

    A whole GET returns at most ``limit + 1`` bytes: more than ``limit`` tells
    the caller the object is larger than it may be, without holding it all.
    Transient failures are retried (``remote.retry``); 404 raises
    FileNotFoundError and 403 PermissionError (``remote.errors``), at once.
    """
    host, target = _target(url)
    headers = {} if start is None else {"Range": f"bytes={start}-{(end or 0) - 1}"}
    cap = (end - start) if start is not None and end is not None else limit

    def once() -> bytes:
        with POOL.connection(host, timeouts or Timeouts(), tls) as conn:
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            body = response.read(cap + 1)
            if not response.isclosed():  # unread bytes would answer the next request
                response.close()
                conn.close()
        if response.status != 206 and (response.status != 200 or start):
            raise status_error(f"GET {urlsplit(url).path}", response.status, error_reason(body))
        if start is not None and end is not None:
            body = body[:end - start]  # a server that ignored Range sent it all
            if len(body) != end - start:
                raise RangeError(f"GET {urlsplit(url).path}: {len(body)} bytes of {end - start}")
        return body

    return retrying(once)


class _State:
    hashed = 0  # parts fed to the hasher so far
    failed: BaseException | None = None


def download(url: str, size: int, fds: Sequence[int], update: Callable[[memoryview], None], *,
             jobs: int = 8, part_size: int = PART_SIZE, timeouts: Timeouts | None = None,
             progress: Callable[[int], None] | None = None, tls: ssl.SSLContext | None = None) -> None:
    """Fetch ``size`` bytes of ``url`` into each of ``fds``; feed them to ``update`` in order.
    SizeMismatch when the server's object is not ``size`` bytes long."""
    # One function on purpose: the workers and the in-order hashing loop share
    # the window's state (cond, ready, free, state); split apart, that state
    # would need a class whose only reader is this function.
    nparts = -(-size // part_size)
    timeouts = timeouts or Timeouts()

    def part(index: int) -> tuple[int, int]:
        start = index * part_size
        return start, min(part_size, size - start)

    window = max(2, jobs + 2)
    host, target = _target(url)
    ready: dict[int, memoryview] = {}
    free: list[bytearray] = []  # buffers whose part has been hashed
    cond = threading.Condition()
    state = _State()
    taken = [0]  # parts handed to workers so far

    def get_part(start: int, view: memoryview) -> None:
        with POOL.connection(host, timeouts, tls) as conn:
            _get_range(conn, target, start, view, size)

    def work() -> None:
        # Each worker takes the next part number until none is left: no list
        # of parts (or of futures) sized by what the manifest declares.
        while True:
            with cond:
                index = taken[0]
                taken[0] += 1
                if index >= nparts or state.failed is not None:
                    return
            fetch_part(index)

    def fetch_part(index: int) -> None:
        with cond:  # keep at most `window` parts in flight or waiting to be hashed
            cond.wait_for(lambda: index < state.hashed + window or state.failed is not None)
            if state.failed is not None:
                return
            buf = free.pop() if free else bytearray(part_size)
        start, length = part(index)
        view = memoryview(buf)[:length]
        try:
            retrying(lambda: get_part(start, view))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
            with cond:
                state.failed = exc
                cond.notify_all()
            return
        fd = -1
        try:
            for fd in fds:  # copies are written by the workers, beside the download
                write_all(fd, view, start)
        except OSError as exc:
            # Not retried: a full disk or a size limit will not clear up. And it
            # must reach the caller's thread, which otherwise waits for this part,
            # naming the file (the error boundary says what the errno means).
            with cond:
                state.failed = OSError(exc.errno, f"{exc.strerror} (writing byte {start})", _fd_path(fd))
                cond.notify_all()
            return
        with cond:
            ready[index] = view
            cond.notify_all()

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(work) for _ in range(max(1, min(jobs, nparts)))]
        try:
            for index in range(nparts):
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
                if state.failed is None and state.hashed < nparts:
                    state.failed = RangeError("download abandoned")
                cond.notify_all()
            for future in futures:
                future.cancel()


def _fd_path(fd: int) -> str | None:
    """The path an open file was opened as, where the system tells (Linux's /proc)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


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


_TOTAL = re.compile(r"bytes \d+-\d+/(\d+)")


def _get_range(conn: http.client.HTTPConnection, target: str, start: int, view: memoryview, size: int) -> None:
    end = start + len(view) - 1
    conn.request("GET", target, headers={"Range": f"bytes={start}-{end}"})
    response = conn.getresponse()
    if response.status == 416:  # the range starts past the object's end
        raise SizeMismatch(size, "fewer bytes")
    if response.status not in (200, 206) or (response.status == 200 and start != 0):
        raise status_error(f"GET bytes {start}-{end}", response.status, error_reason(response.read(4096)))
    total = _TOTAL.fullmatch(response.getheader("Content-Range", "")) if response.status == 206 else None
    whole = int(total.group(1)) if total else response.length if response.status == 200 else None
    if whole is not None and whole != size:
        response.close()
        conn.close()
        raise SizeMismatch(size, f"{whole} bytes")
    got = 0
    while got < len(view):
        n = response.readinto(view[got:])
        if not n:
            raise RangeError(f"GET bytes {start}-{end}: connection closed after {got} bytes")
        got += n
    if response.status == 200:
        # A server that ignores Range: take the first part, drop the rest,
        # and the connection with it (its unread bytes would answer the next request).
        response.close()
        conn.close()
    elif response.read(1):
        raise RangeError(f"GET bytes {start}-{end}: more bytes than asked for")
