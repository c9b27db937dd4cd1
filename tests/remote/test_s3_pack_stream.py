"""A pack span read from S3 hands each object over as it arrives (``Remote.read_parts``):
one object is held, not the span; a connection cut mid-span is asked again from the
first object not yet handed over, so none arrives twice; what the receiver raises (a
full disk) is not retried. A proxy in front of the real SeaweedFS cuts the answer."""

from __future__ import annotations

import errno
import http.client
import http.server
import os
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import seaweed as weed
from zoo_repo.remote import open_remote
from zoo_repo.remote.base import Remote

PART = 256 << 10
PARTS = [(i * (PART + 100), PART) for i in range(48)]  # 48 objects of 256 KiB, 100-byte gaps between
END = PARTS[-1][0] + PART


class CuttingProxy:
    """Forwards to SeaweedFS; the first ``cuts`` GETs of a pack send ``cut_after`` bytes
    of their body, then the connection is closed. Records each pack GET's Range."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.cuts, self.cut_after = 0, 0
        self.ranges: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                conn.request(self.command, self.path, body=body, headers=dict(self.headers))
                reply = conn.getresponse()
                data = reply.read()
                conn.close()
                cut = None
                if self.command == "GET" and "/packs/" in self.path:
                    proxy.ranges.append(self.headers.get("Range", ""))
                    if proxy.cuts > 0:
                        proxy.cuts -= 1
                        cut = proxy.cut_after
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", reply.getheader("Content-Length") or str(len(data))
                                 if self.command == "HEAD" else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data if cut is None else data[:cut])
                if cut is not None:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(seaweed_server: weed.Seaweed, bucket: str) -> Iterator[CuttingProxy]:
    made = CuttingProxy(seaweed_server.endpoint)
    yield made
    made.close()


@pytest.fixture
def pack(seaweed_server: weed.Seaweed, bucket: str, tmp_path: Path) -> tuple[str, bytes]:
    """A pack-sized file on the bucket; its URL and bytes."""
    url = f"s3://{bucket}/t-{uuid.uuid4().hex[:12]}/zoo"
    data = os.urandom(END)
    (tmp_path / "p.pack").write_bytes(data)
    open_remote(url, {"endpointurl": seaweed_server.endpoint, "region": "us-east-1"}).put_file(
        str(tmp_path / "p.pack"), "packs/p.pack")
    return url, data


def _remote(url: str, proxy: CuttingProxy) -> Remote:
    return open_remote(url, {"endpointurl": proxy.url, "region": "us-east-1"})


def test_each_object_of_a_span_is_handed_over_as_it_arrives_holding_one(
        seaweed_server: weed.Seaweed, pack: tuple[str, bytes]) -> None:
    url, data = pack
    remote = open_remote(url, {"endpointurl": seaweed_server.endpoint, "region": "us-east-1"})  # no proxy in memory
    got: list[tuple[int, bytes]] = []
    tracemalloc.start()
    try:
        received = remote.read_parts("packs/p.pack", PARTS, END, lambda i, b: got.append((i, b"")))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == END
    assert [i for i, _ in got] == list(range(len(PARTS)))
    assert peak < 4 * PART  # the span is 12 MiB: read whole, it would be held whole

    kept: dict[int, bytes] = {}
    remote.read_parts("packs/p.pack", PARTS, END, lambda i, b: kept.__setitem__(i, bytes(b)))
    assert all(kept[i] == data[offset:offset + size] for i, (offset, size) in enumerate(PARTS))


def test_a_span_cut_midway_is_asked_again_from_the_first_object_not_handed_over(
        proxy: CuttingProxy, pack: tuple[str, bytes]) -> None:
    url, data = pack
    proxy.cuts, proxy.cut_after = 1, 10 * (PART + 100) + PART // 2  # ten objects, and half of the eleventh
    seen: list[int] = []
    kept: dict[int, bytes] = {}

    def sink(i: int, chunk: memoryview) -> None:
        seen.append(i)
        kept[i] = bytes(chunk)

    assert _remote(url, proxy).read_parts("packs/p.pack", PARTS, END, sink) == END
    assert seen == list(range(len(PARTS)))  # none twice
    assert all(kept[i] == data[offset:offset + size] for i, (offset, size) in enumerate(PARTS))
    assert proxy.ranges == [f"bytes=0-{END - 1}", f"bytes={PARTS[10][0]}-{END - 1}"]


def test_what_the_receiver_raises_is_not_asked_again(proxy: CuttingProxy, pack: tuple[str, bytes]) -> None:
    url, _ = pack

    def sink(i: int, chunk: memoryview) -> None:
        if i == 2:
            raise OSError(errno.ENOSPC, "No space left on device", "/store/tmp/x")

    with pytest.raises(OSError) as caught:
        _remote(url, proxy).read_parts("packs/p.pack", PARTS, END, sink)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == "/store/tmp/x"
    assert len(proxy.ranges) == 1  # a full disk does not clear up: one GET
