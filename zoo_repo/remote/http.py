"""zoo's own HTTP connections (presigned S3 requests): how TLS is checked, and
one pool of kept-alive connections shared by every thread and request kind.

Connections are keyed by scheme, host, port and TLS settings: a connection
made without certificate checks never serves a caller that wants them.

Every connection has two time-outs (``options.Timeouts``): one for connecting
(TCP and the TLS handshake), one for each wait on the socket after that. An
endpoint that accepts a connection and never answers fails within the read
time-out, as ``ReadTimeout``; one that never accepts, as ``ConnectTimeout``.
"""

from __future__ import annotations

import atexit
import functools
import http.client
import os
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from zoo_repo.remote.options import Timeouts

Host = tuple[str, str, "int | None"]  # scheme, host name, port
# Per host: as many as small uploads keep in flight (``s3.remote.SMALL_JOBS_MAX``),
# or every request past the pool's size would open a new connection.
MAX_IDLE = 64


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


class ConnectTimeout(TimeoutError):
    """No connection (or no TLS handshake) within the connect time-out."""


class ReadTimeout(TimeoutError):
    """Connected, but the endpoint sent nothing within the read time-out."""


class _Timed:
    """Connect under the connect time-out, then wait on the socket under the read time-out."""

    timeout: float | None
    sock: Any
    read_timeout = 60.0

    def connect(self) -> None:
        try:
            super().connect()  # type: ignore[misc]
        except TimeoutError as exc:
            raise ConnectTimeout(f"no connection within {self.timeout:g} s") from exc
        self.sock.settimeout(self.read_timeout)


class _HTTP(_Timed, http.client.HTTPConnection):
    pass


class _HTTPS(_Timed, http.client.HTTPSConnection):
    pass


def connection(host: Host, timeouts: Timeouts, tls: ssl.SSLContext | None = None) -> http.client.HTTPConnection:
    scheme, name, port = host
    conn: _HTTP | _HTTPS
    if scheme == "https":
        conn = _HTTPS(name, port, timeout=timeouts.connect, context=tls or tls_context())
    else:
        conn = _HTTP(name, port, timeout=timeouts.connect)
    conn.read_timeout = timeouts.read
    return conn


def _set_timeouts(conn: http.client.HTTPConnection, timeouts: Timeouts) -> None:
    conn.timeout = timeouts.connect
    if isinstance(conn, _Timed):
        conn.read_timeout = timeouts.read
    if conn.sock is not None:
        conn.sock.settimeout(timeouts.read)


class Pool:
    """Idle connections by host, shared by all threads, closed at exit."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int | None, ssl.SSLContext | None], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def connection(self, host: Host, timeouts: Timeouts,
                   tls: ssl.SSLContext | None) -> Iterator[http.client.HTTPConnection]:
        """A connection to ``host``: back to the pool when the block ends normally,
        closed when it raises (its state is then unknown). A socket time-out
        while waiting for an answer is raised as ``ReadTimeout``."""
        conn = self._take(host, timeouts, tls)
        try:
            yield conn
        except ConnectTimeout:
            conn.close()
            raise
        except TimeoutError as exc:
            conn.close()
            raise ReadTimeout(f"no answer within {timeouts.read:g} s") from exc
        except BaseException:
            conn.close()
            raise
        self._give_back(host, tls, conn)

    def _take(self, host: Host, timeouts: Timeouts, tls: ssl.SSLContext | None) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.get((*host, tls))
            if idle:
                conn = idle.pop()
                _set_timeouts(conn, timeouts)
                return conn
        return connection(host, timeouts, tls)

    def _give_back(self, host: Host, tls: ssl.SSLContext | None, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault((*host, tls), [])
            if len(idle) < MAX_IDLE:
                idle.append(conn)
                return
        conn.close()

    def close_all(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for conn in idle:
                    conn.close()
            self._idle.clear()


POOL = Pool()
atexit.register(POOL.close_all)
