"""Requests zoo signs and sends itself (``remote.s3.direct``) when the endpoint,
region and keys are given outright: a publish loads neither s3fs nor botocore,
small objects go up many at a time but never more than the bound, and a
listing the server crafts (huge, with a DTD, not XML, a continuation token
that never ends) is refused in one line. The hostile answers come from a proxy
in front of the real SeaweedFS, which forwards everything else untouched."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import seaweed as weed
from tests.conftest import STUB
from zoo_repo import RemoteError, Zoo
from zoo_repo.remote import open_remote
from zoo_repo.remote.s3 import direct
from zoo_repo.remote.s3.remote import SMALL_JOBS_MAX, small_jobs
from zoo_repo.remote.transfer import PACK_JOBS

Craft = Callable[[str], bytes | None]  # a listing's query → the answer to send instead, or None to forward


class Proxy:
    """Forwards requests to SeaweedFS (the Host header kept, so signatures still
    match); counts PUTs, and those in flight; answers listings with ``craft`` when
    set, and every PUT with ``refuse`` (an HTTP status) when set; records the Range
    of each GET of a pack, and cuts the first ``cuts`` GETs of a path holding
    ``cut_path`` (default: packs) after ``cut_after`` bytes of their body (the
    connection then closed)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.craft: Craft | None = None
        self.put_delay = 0.0
        self.refuse = 0
        self.in_flight = self.peak = self.listings = self.puts = 0
        self.cuts = self.cut_after = 0
        self.cut_path = "/packs/"
        self.pack_ranges: list[str] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "GET" and "list-type=2" in self.path:
                    with proxy.lock:
                        proxy.listings += 1
                    crafted = proxy.craft(self.path) if proxy.craft else None
                    if crafted is not None:
                        return self._answer(200, {"Content-Type": "application/xml"}, crafted)
                putting = self.command == "PUT"
                if putting and proxy.refuse:
                    with proxy.lock:
                        proxy.puts += 1
                    return self._answer(proxy.refuse, {"Content-Type": "application/xml"},
                                        b"<Error><Code>AccessDenied</Code><Message>refused</Message></Error>")
                if putting:
                    with proxy.lock:
                        proxy.puts += 1
                        proxy.in_flight += 1
                        proxy.peak = max(proxy.peak, proxy.in_flight)
                    time.sleep(proxy.put_delay)
                try:
                    conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                    conn.request(self.command, self.path, body=body, headers=dict(self.headers))
                    reply = conn.getresponse()
                    data = reply.read()
                    conn.close()
                finally:
                    if putting:
                        with proxy.lock:
                            proxy.in_flight -= 1
                headers = {k: v for k, v in reply.getheaders() if k.lower() not in ("content-length", "connection",
                                                                                    "transfer-encoding")}
                cut = None
                if self.command == "GET":
                    with proxy.lock:
                        if "/packs/" in self.path:
                            proxy.pack_ranges.append(self.headers.get("Range", ""))
                        if proxy.cuts > 0 and proxy.cut_path in self.path:
                            proxy.cuts -= 1
                            cut = proxy.cut_after
                self._answer(reply.status, headers, data, head=self.command == "HEAD",
                             length=reply.getheader("Content-Length"), cut=cut)

            def _answer(self, status: int, headers: dict[str, str], data: bytes, head: bool = False,
                        length: str | None = None, cut: int | None = None) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", length if head and length else str(len(data)))
                self.end_headers()
                if not head:
                    self.wfile.write(data if cut is None else data[:cut])
                if cut is not None:  # the body ends early: the client sees the connection go
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(2)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 256  # every upload worker may connect at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(seaweed_server: weed.Seaweed, bucket: str) -> Iterator[Proxy]:
    made = Proxy(seaweed_server.endpoint)
    yield made
    made.close()


def _options(endpoint: str) -> dict[str, str]:
    return {"endpointurl": endpoint, "region": "us-east-1"}


def _url(bucket: str) -> str:
    return f"s3://{bucket}/t-{uuid.uuid4().hex[:12]}/zoo"


def _add_small_files(model_dir: Path, count: int) -> None:
    for i in range(count):
        (model_dir / "sample-originals" / f"img-{i:04d}.bin").parent.mkdir(parents=True, exist_ok=True)
        (model_dir / "sample-originals" / f"img-{i:04d}.bin").write_bytes(os.urandom(2048 + i))


def test_a_publish_with_the_endpoint_and_keys_given_loads_neither_s3fs_nor_botocore(
        seaweed_server: weed.Seaweed, bucket: str, model_dir: Path, tmp_path: Path) -> None:
    """Set-up of s3fs and botocore costs more than a small model's uploads."""
    _add_small_files(model_dir, 70)  # more than 64 objects: the inventory is a listing
    script = (
        "import json, sys\n"
        "from zoo_repo import Zoo\n"
        f"zoo = Zoo.init({str(tmp_path / 'zoo')!r}, remote={_url(bucket)!r},"
        f" remote_options={_options(seaweed_server.endpoint)!r})\n"
        f"result = zoo.publish({str(model_dir)!r}, {STUB!r})\n"
        "print(json.dumps([result.uploaded_objects, result.listed,"
        " sorted(m for m in ('s3fs', 'botocore', 'aiobotocore') if m in sys.modules)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300)
    uploaded, listed, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert uploaded > 70 and listed
    assert loaded == []


def test_small_objects_go_up_many_at_a_time_within_the_bound(
        proxy: Proxy, bucket: str, model_dir: Path, tmp_path: Path) -> None:
    _add_small_files(model_dir, 120)
    proxy.put_delay = 0.05  # each PUT lasts long enough for the next ones to overlap it
    zoo = Zoo.init(tmp_path / "zoo", remote=_url(bucket), remote_options=_options(proxy.url))
    zoo.publish(model_dir, STUB, jobs=2)
    assert 2 < proxy.peak <= small_jobs(2) + PACK_JOBS  # wider than --jobs, but bounded by it (and the packs)

    proxy.peak = 0
    _add_small_files(model_dir, 200)  # other bytes: all new objects
    zoo.publish(model_dir, STUB, jobs=32)
    assert 8 < proxy.peak <= SMALL_JOBS_MAX + PACK_JOBS  # never past the bound, whatever --jobs says


def _listing(keys: int, truncated: bool = False, token: str = "") -> bytes:
    entries = "".join(f"<Contents><Key>p/files/md5/ab/{i:030x}</Key><Size>1</Size></Contents>" for i in range(keys))
    more = f"<IsTruncated>true</IsTruncated><NextContinuationToken>{token}</NextContinuationToken>" if truncated \
        else "<IsTruncated>false</IsTruncated>"
    return (f'<?xml version="1.0"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"{entries}{more}</ListBucketResult>").encode()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "hahahahaha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
          b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><ListBucketResult><Contents><Key>&c;</Key><Size>1</Size>'
          b"</Contents></ListBucketResult>")


@pytest.mark.parametrize(("craft", "says"), [
    (lambda q: _listing(60_000), "larger than"),  # a page of 60,000 keys, past the cap on one answer
    (lambda q: LAUGHS, "DTD"),  # entities that expand: refused unexpanded
    (lambda q: b"<ListBucketResult><Contents>", "not XML"),
    (lambda q: b"<Error><Code>Nope</Code></Error>", "expected <ListBucketResult>"),
    (lambda q: _listing(3, truncated=True, token="again"), "continuation token"),  # the same page forever
    (lambda q: _listing(3, truncated=True), "continuation token"),  # truncated, and no way on
])
def test_a_crafted_listing_is_refused_in_one_line(proxy: Proxy, bucket: str, craft: Craft, says: str) -> None:
    rem = open_remote(_url(bucket), _options(proxy.url))
    proxy.craft = craft
    with pytest.raises(RemoteError) as caught:
        rem.find("zoo")
    assert says in caught.value.message and "\n" not in caught.value.message
    assert proxy.listings <= 2  # refused, not retried (the looping token: its second page)
    with pytest.raises(RemoteError, match=says):
        rem.missing({f"{i:032x}" for i in range(100)})  # an inventory by listing, refused alike


def test_a_real_listing_pages_through_continuation_tokens(
        seaweed_server: weed.Seaweed, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rem = open_remote(_url(bucket), _options(seaweed_server.endpoint))
    names = [f"zoo/k/{i:04d}" for i in range(25)]
    for name in names:
        rem.put_text(name, "x")
    monkeypatch.setattr(direct, "LIST_PAGE", 10)  # three pages
    assert rem.find("zoo/k") == names


def _publish_rss_kib(endpoint: str, bucket: str, model: Path, zoo_dir: Path) -> int:
    """Peak RSS of one whole `zoo publish` process (GNU time's %M: that process alone)."""
    Zoo.init(zoo_dir, remote=_url(bucket), remote_options=_options(endpoint))
    report = zoo_dir.parent / f"{zoo_dir.name}.rss"
    subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%M", sys.executable, "-m", "zoo_repo", "publish",
                    str(model), "--stub", STUB], cwd=zoo_dir, check=True, capture_output=True, timeout=600)
    return int(report.read_text().split()[-1])


@pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="needs GNU time")
def test_a_publishs_memory_does_not_grow_with_the_model(
        seaweed_server: weed.Seaweed, bucket: str, built_models: dict[str, Path], tmp_path: Path) -> None:
    """Multipart parts are streamed from the file and small objects held a block at a
    time: 96 MiB of weights and a hundred 1 MiB files cost no more memory than a tiny model."""
    import shutil

    small, large = tmp_path / "small-model", tmp_path / "large-model"
    shutil.copytree(built_models["base"], small)
    shutil.copytree(built_models["base"], large)
    with open(large / "numpy" / "weights.bin", "wb") as out:
        for _ in range(96):
            out.write(os.urandom(1 << 20))
    for i in range(100):
        (large / "sample-originals").mkdir(exist_ok=True)
        (large / "sample-originals" / f"orig-{i:03d}.bin").write_bytes(os.urandom((1 << 20) - i))
    tiny = _publish_rss_kib(seaweed_server.endpoint, bucket, small, tmp_path / "zoo-small")
    grown = _publish_rss_kib(seaweed_server.endpoint, bucket, large, tmp_path / "zoo-large")
    assert grown - tiny < 24 << 10, f"{tiny} KiB for a tiny model, {grown} KiB for 200 MiB"
