"""A pack span read from S3 hands each object over as it arrives (``Remote.read_parts``):
one object is held, not the span; a connection cut mid-span is asked again from the
first object not yet handed over, so none arrives twice; what the receiver raises (a
full disk) is not retried. A loose object whose answer is cut is asked again too, and
a server that cuts every answer is a remote failure, not a corrupt copy. A proxy in
front of the real SeaweedFS cuts the answers (``test_s3_direct.Proxy``)."""

from __future__ import annotations

import errno
import os
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.remote.test_s3_direct import Proxy
from zoo_repo import RemoteError
from zoo_repo.remote import open_remote
from zoo_repo.remote.base import Remote
from zoo_repo.store.digest import Digest, hash_file
from zoo_repo.store.objects import Store

PART = 256 << 10
PARTS = [(i * (PART + 100), PART) for i in range(48)]  # 48 objects of 256 KiB, 100-byte gaps between
END = PARTS[-1][0] + PART


@pytest.fixture
def proxy(seaweed_server: weed.Seaweed, bucket: str) -> Iterator[Proxy]:
    made = Proxy(seaweed_server.endpoint)
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


def _remote(url: str, proxy: Proxy) -> Remote:
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
        proxy: Proxy, pack: tuple[str, bytes]) -> None:
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
    assert proxy.pack_ranges == [f"bytes=0-{END - 1}", f"bytes={PARTS[10][0]}-{END - 1}"]


def test_what_the_receiver_raises_is_not_asked_again(proxy: Proxy, pack: tuple[str, bytes]) -> None:
    url, _ = pack

    def sink(i: int, chunk: memoryview) -> None:
        if i == 2:
            raise OSError(errno.ENOSPC, "No space left on device", "/store/tmp/x")

    with pytest.raises(OSError) as caught:
        _remote(url, proxy).read_parts("packs/p.pack", PARTS, END, sink)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == "/store/tmp/x"
    assert len(proxy.pack_ranges) == 1  # a full disk does not clear up: one GET


def test_a_loose_object_cut_short_is_asked_again_and_a_dead_wire_is_not_called_corrupt(
        seaweed_server: weed.Seaweed, bucket: str, proxy: Proxy, tmp_path: Path) -> None:
    url = f"s3://{bucket}/t-{uuid.uuid4().hex[:12]}/zoo"
    src = tmp_path / "obj"
    src.write_bytes(os.urandom(200_000))  # below the size fetched in parallel parts: one GET, read whole
    digest = hash_file(src)
    rel = f"files/md5/{digest.md5[:2]}/{digest.md5[2:]}"
    open_remote(url, {"endpointurl": seaweed_server.endpoint, "region": "us-east-1"}).put_file(str(src), rel)
    expect = Digest(digest.sha256, digest.md5, digest.size)
    proxy.cut_path, proxy.cut_after = "/files/md5/", 3_000

    proxy.cuts = 1  # one answer cut: asked again, and the object arrives whole
    store = Store(tmp_path / "store")
    assert _remote(url, proxy).download(store, digest.md5, expect, "obj") == digest.size
    assert store.verified(digest.md5, expect)

    proxy.cuts = 1_000  # every answer cut, as by a server that dies: the wire failed, the copy is fine
    store = Store(tmp_path / "store2")
    with pytest.raises(RemoteError) as caught:
        _remote(url, proxy).download(store, digest.md5, expect, "obj")
    assert "corrupt" not in str(caught.value)
    assert not store.has(digest.md5)
