"""Download one large object by parallel ranged GETs, hashed in order, in bounded memory.

The bytes arrive through plain ``http.client`` connections from the shared
pool (``remote.http``; the URL is presigned, so nothing here signs), each
part retried as every request is (``remote.retry``). Each worker streams its
part straight into the files with ``pwrite``, through one reused slice; the
caller's thread reads the file back in order as soon as a prefix of parts is
complete and hashes it, so the digest covers exactly the file on disk, the
fetchers never wait for the hash, and memory stays a few slices whatever the
object's size. (Reading back from the page cache costs a memory copy; holding
parts in memory until their turn cost a window of them, and stalled every
fetcher behind the slowest part.)

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

__all__ = ["PART_SIZE", "RangeError", "SinkFailed", "SizeMismatch", "download", "fetch", "fetch_parts", "tls_context",
           "url_lifetime", "write_all"]

PART_SIZE = 16 << 20
SLICE = 1 << 20  # what a worker holds of its part at once
HASH_SLICE = 4 << 20  # what the hashing loop reads back at once
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
            # read(n) returns what came before a cut connection without a word;
            # what the server declared and did not send is the wire's fault, to
            # be asked again, not a remote copy of the wrong size.
            unsent = (response.length or 0) if len(body) <= cap else 0
            if unsent or not response.isclosed():  # unread bytes would answer the next request; a cut one is dead
                response.close()
                conn.close()
        if response.status != 206 and (response.status != 200 or start):
            raise status_error(f"GET {urlsplit(url).path}", response.status, error_reason(body))
        if unsent:
            raise http.client.IncompleteRead(body, unsent)
        if start is not None and end is not None:
            body = body[:end - start]  # a server that ignored Range sent it all
            if len(body) != end - start:
                raise RangeError(f"GET {urlsplit(url).path}: {len(body)} bytes of {end - start}")
        return body

    return retrying(once)


def fetch_parts(url: str, parts: Sequence[tuple[int, int]], end: int, sink: Callable[[int, memoryview], None], *,
                timeouts: Timeouts | None = None, tls: ssl.SSLContext | None = None) -> int:
    """One ranged GET from the first of ``parts`` (``(offset, size)``, ascending) to ``end``;
    each part goes to ``sink`` as soon as its bytes are in, so one part is held, not the
    range. A transfer that fails is asked again from the first part not yet handed over;
    what ``sink`` raises is not (a bad object or a full disk do not clear up). Returns
    the size of the range."""
    host, target = _target(url)
    path = urlsplit(url).path
    done = 0

    def once() -> None:
        nonlocal done
        start = parts[done][0]
        with POOL.connection(host, timeouts or Timeouts(), tls) as conn:
            conn.request("GET", target, headers={"Range": f"bytes={start}-{end - 1}"})
            response = conn.getresponse()
            try:
                if response.status != 206 and (response.status != 200 or start):
                    raise status_error(f"GET {path}", response.status, error_reason(response.read(64 << 10)))
                at = start
                for offset, size in parts[done:]:
                    gap = len(response.read(offset - at)) if offset > at else 0  # bytes between parts: read past
                    data = response.read(size)
                    if gap != offset - at or len(data) != size:
                        raise RangeError(f"GET {path}: {gap + len(data)} bytes of {offset - at + size} at {at}")
                    try:
                        sink(done, memoryview(data))
                    except BaseException as exc:
                        raise SinkFailed(exc) from exc
                    done, at = done + 1, offset + size
            finally:
                if not response.isclosed():  # the rest of the range, or of an unranged answer
                    response.close()
                    conn.close()

    retrying(once)
    return end - parts[0][0]


class SinkFailed(Exception):
    """What the receiver of a part raised (``error``): never asked again, and not the
    remote's failure, so the caller unwraps it outside its translation of remote errors."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _WriteFailed(Exception):
    """A local write failed mid-part: not a transfer error, so not asked again
    (a full disk or a size limit will not clear up)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _State:
    complete = 0  # parts 0..complete-1 are all on disk
    failed: BaseException | None = None


def download(url: str, size: int, fds: Sequence[int], readback: int, update: Callable[[memoryview], None], *,
             jobs: int = 8, part_size: int = PART_SIZE, timeouts: Timeouts | None = None,
             progress: Callable[[int], None] | None = None, tls: ssl.SSLContext | None = None) -> None:
    """Fetch ``size`` bytes of ``url`` into each of ``fds``; feed them to ``update`` in
    order, as read back from ``readback`` (a readable descriptor of one of ``fds``' files).
    SizeMismatch when the server's object is not ``size`` bytes long."""
    # One function on purpose: the workers and the in-order hashing loop share
    # the progress state (cond, done, state); split apart, that state would
    # need a class whose only reader is this function.
    nparts = -(-size // part_size)
    timeouts = timeouts or Timeouts()
    host, target = _target(url)
    cond = threading.Condition()
    state = _State()
    done: set[int] = set()  # finished parts past the complete prefix
    taken = [0]  # parts handed to workers so far

    def work() -> None:
        # Each worker takes the next part number until none is left: no list
        # of parts (or of futures) sized by what the manifest declares.
        buf = memoryview(bytearray(SLICE))
        while True:
            with cond:
                index = taken[0]
                taken[0] += 1
                if index >= nparts or state.failed is not None:
                    return
            start = index * part_size
            length = min(part_size, size - start)
            try:
                retrying(lambda: get_part(start, length, buf))  # noqa: B023 - called at once
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
                with cond:
                    state.failed = exc.error if isinstance(exc, _WriteFailed) else exc
                    cond.notify_all()
                return
            with cond:
                done.add(index)
                while state.complete in done:
                    done.remove(state.complete)
                    state.complete += 1
                cond.notify_all()

    def get_part(start: int, length: int, buf: memoryview) -> None:
        with POOL.connection(host, timeouts, tls) as conn:
            _get_range(conn, target, start, length, size, buf, fds)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(work) for _ in range(max(1, min(jobs, nparts)))]
        try:
            _hash_prefix(readback, size, part_size, cond, state, update, progress)
        finally:
            with cond:
                if state.failed is None and state.complete < nparts:
                    state.failed = RangeError("download abandoned")
                cond.notify_all()
            for future in futures:
                future.cancel()


def _hash_prefix(fd: int, size: int, part_size: int, cond: threading.Condition, state: _State,
                 update: Callable[[memoryview], None], progress: Callable[[int], None] | None) -> None:
    """Feed ``update`` the file's bytes in order, each as soon as its part is complete."""
    buf = memoryview(bytearray(HASH_SLICE))
    hashed = 0
    while hashed < size:
        with cond:
            cond.wait_for(lambda: state.complete * part_size > hashed or state.failed is not None)  # noqa: B023
            if state.failed is not None:
                raise state.failed
            upto = min(size, state.complete * part_size)
        while hashed < upto:
            n = os.preadv(fd, [buf[:min(len(buf), upto - hashed)]], hashed)
            if n <= 0:
                raise OSError(errno.EIO, f"no byte read back at offset {hashed}", _fd_path(fd))
            update(buf[:n])
            if progress:
                progress(n)
            hashed += n


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


def _get_range(conn: http.client.HTTPConnection, target: str, start: int, length: int, size: int,
               buf: memoryview, fds: Sequence[int]) -> None:
    end = start + length - 1
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
    while got < length:
        n = response.readinto(buf[:min(len(buf), length - got)])
        if not n:
            raise RangeError(f"GET bytes {start}-{end}: connection closed after {got} bytes")
        _write_to(fds, buf[:n], start + got)
        got += n
    if response.status == 200:
        # A server that ignores Range: take the first part, drop the rest,
        # and the connection with it (its unread bytes would answer the next request).
        response.close()
        conn.close()
    elif response.read(1):
        raise RangeError(f"GET bytes {start}-{end}: more bytes than asked for")


def _write_to(fds: Sequence[int], data: memoryview, offset: int) -> None:
    fd = -1
    try:
        for fd in fds:
            write_all(fd, data, offset)
    except OSError as exc:
        # It must reach the caller's thread naming the file (the error
        # boundary says what the errno means), and must not be retried.
        raise _WriteFailed(OSError(exc.errno, f"{exc.strerror} (writing byte {offset})", _fd_path(fd))) from exc
