"""zoo's own HTTP connections (presigned S3 requests): how TLS is checked, and
one pool of kept-alive connections shared by every thread and request kind.

Connections are keyed by scheme, host, port and TLS settings: a connection
made without certificate checks never serves a caller that wants them.
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

Host = tuple[str, str, "int | None"]  # scheme, host name, port
MAX_IDLE = 16  # per host: enough for --jobs 8 with room for a second transfer


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


def connection(host: Host, timeout: float, tls: ssl.SSLContext | None = None) -> http.client.HTTPConnection:
    scheme, name, port = host
    if scheme == "https":
        return http.client.HTTPSConnection(name, port, timeout=timeout, context=tls or tls_context())
    return http.client.HTTPConnection(name, port, timeout=timeout)


class Pool:
    """Idle connections by host, shared by all threads, closed at exit."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int | None, ssl.SSLContext | None], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def connection(self, host: Host, timeout: float,
                   tls: ssl.SSLContext | None) -> Iterator[http.client.HTTPConnection]:
        """A connection to ``host``: back to the pool when the block ends normally,
        closed when it raises (its state is then unknown)."""
        conn = self._take(host, timeout, tls)
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        self._give_back(host, tls, conn)

    def _take(self, host: Host, timeout: float, tls: ssl.SSLContext | None) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.get((*host, tls))
            if idle:
                conn = idle.pop()
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                return conn
        return connection(host, timeout, tls)

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
