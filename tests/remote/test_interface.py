"""The ``Remote`` interface on every backend: what each primitive promises, checked against
the stored files themselves (reached without zoo, see conftest.py)."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path

import pytest

from tests.remote.conftest import Backend
from zoo_repo import IntegrityError, ObjectMissing, RemoteError
from zoo_repo.remote import Remote, open_remote
from zoo_repo.store.digest import Digest
from zoo_repo.store.objects import Store, oid_relpath


def _remote(backend: Backend) -> Remote:
    return open_remote(backend.url, backend.options)


def _digest(data: bytes) -> Digest:
    return Digest(hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(), len(data))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_declared_capabilities_are_what_the_remote_reports(backend: Backend) -> None:
    rem = _remote(backend)
    assert rem.writable
    assert rem.listable is backend.capabilities.listable
    assert rem.packs is backend.capabilities.packs


def test_text_round_trips_and_is_replaced_whole(backend: Backend) -> None:
    rem = _remote(backend)
    assert rem.get_text("zoo/probe/a.yaml") is None
    rem.put_text("zoo/probe/a.yaml", "first: ✓\n")
    assert rem.get_text("zoo/probe/a.yaml") == "first: ✓\n"
    assert backend.read("zoo/probe/a.yaml") == "first: ✓\n".encode()
    rem.put_text("zoo/probe/a.yaml", "second\n")
    assert rem.get_text("zoo/probe/a.yaml") == "second\n"
    assert backend.keys() == {"zoo/probe/a.yaml"}  # no temp file left beside it


def test_text_that_is_not_utf8_is_refused(backend: Backend) -> None:
    backend.write("zoo/probe/binary.yaml", b"\xff\xfe not text")
    with pytest.raises(RemoteError, match="zoo/probe/binary.yaml is not UTF-8 text"):
        _remote(backend).get_text("zoo/probe/binary.yaml")


def test_create_text_never_replaces(backend: Backend) -> None:
    rem = _remote(backend)
    assert rem.create_text("zoo/probe/v1.yaml", "ours\n") is True
    assert rem.create_text("zoo/probe/v1.yaml", "theirs\n") is False
    backend.write("zoo/probe/v2.yaml", b"written by someone else\n")
    assert rem.create_text("zoo/probe/v2.yaml", "ours\n") is False
    assert backend.read("zoo/probe/v1.yaml") == b"ours\n"
    assert backend.read("zoo/probe/v2.yaml") == b"written by someone else\n"


@pytest.mark.requires("exclusive_create")
def test_of_racing_creates_exactly_one_wins(backend: Backend) -> None:
    rem = _remote(backend)
    won: dict[int, bool] = {}
    start = threading.Barrier(4)

    def create(i: int) -> None:
        start.wait()
        won[i] = rem.create_text("zoo/probe/race.yaml", f"writer {i}\n")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [i for i, ok in won.items() if ok]
    assert len(won) == 4 and len(winners) == 1
    assert rem.get_text("zoo/probe/race.yaml") == f"writer {winners[0]}\n"


def test_put_file_appears_whole_or_not_at_all(backend: Backend, tmp_path: Path) -> None:
    """A reader looking while an upload creates, then replaces, a file sees nothing, the old
    bytes or the new ones: never a part."""
    rem = _remote(backend)
    first, second = os.urandom(3 << 20), os.urandom(3 << 20)
    (tmp_path / "first").write_bytes(first)
    (tmp_path / "second").write_bytes(second)
    whole = {None, hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()}
    seen: list[str | None] = []
    done = threading.Event()

    def watch() -> None:
        while True:
            last = done.is_set()
            try:
                seen.append(hashlib.sha256(backend.read("packs/atomic.pack")).hexdigest())
            except FileNotFoundError:
                seen.append(None)
            if last:
                return

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert rem.put_file(str(tmp_path / "first"), "packs/atomic.pack") == len(first)
        assert rem.put_file(str(tmp_path / "second"), "packs/atomic.pack") == len(second)
    finally:
        done.set()
        watcher.join()
    assert set(seen) <= whole
    assert seen[-1] == hashlib.sha256(second).hexdigest()
    assert backend.keys() == {"packs/atomic.pack"}  # no temp file left beside it


def test_size_inventory_and_missing(backend: Backend) -> None:
    rem = _remote(backend)
    blobs = [b"", b"a", b"bb" * 1000]
    sizes = {hashlib.md5(b).hexdigest(): len(b) for b in blobs}
    for data in blobs:
        backend.write(oid_relpath(hashlib.md5(data).hexdigest()), data)
    absent = _md5("never stored")
    assert {oid: rem.size(oid) for oid in sizes} == sizes  # an empty object is there, at size 0
    assert rem.size(absent) is None and not rem.has(absent) and all(rem.has(oid) for oid in sizes)
    assert rem.inventory(set(sizes) | {absent}) == sizes
    assert rem.missing(set(sizes) | {absent}) == {absent}
    big = max(sizes, key=sizes.__getitem__)
    assert rem.missing(sizes, sizes={big: sizes[big] + 1}) == {big}  # at another size: not trusted


@pytest.mark.requires("listable")
def test_an_inventory_by_listing_skips_temp_names_and_strays(backend: Backend) -> None:
    rem = _remote(backend)
    blobs = [f"object {i}".encode() for i in range(70)]  # more than 64: one listing, not a HEAD each
    sizes = {hashlib.md5(b).hexdigest(): len(b) for b in blobs}
    for data in blobs:
        backend.write(oid_relpath(hashlib.md5(data).hexdigest()), data)
    some = next(iter(sizes))
    backend.write(f"files/md5/{some[:2]}/.{some[2:]}.tmp-abandoned", b"partial")
    backend.write(f"files/md5/{some[:2]}/{'0' * 30}.partial", b"junk")
    backend.write("files/md5/zz/not-an-object", b"stray")
    absent = {_md5(f"absent {i}") for i in range(3)}
    assert rem.inventory(set(sizes) | absent) == sizes


@pytest.mark.requires("listable")
def test_find_lists_the_files_under_a_folder(backend: Backend) -> None:
    for key in ("zoo/a/1.yaml", "zoo/a/b/2.yaml", "zoo/ab.yaml", "zoo/c.yaml", "packs/p.idx"):
        backend.write(key, b"x")
    backend.write("zoo/a/.3.yaml.tmp-abandoned", b"partial")
    rem = _remote(backend)
    assert rem.find("zoo/a") == ["zoo/a/1.yaml", "zoo/a/b/2.yaml"]  # not zoo/ab.yaml, nor a temp name
    assert rem.find("zoo") == ["zoo/a/1.yaml", "zoo/a/b/2.yaml", "zoo/ab.yaml", "zoo/c.yaml"]
    assert rem.find("nothing/here") == []


def test_delete_removes_and_is_quiet_when_gone(backend: Backend) -> None:
    rem = _remote(backend)
    rem.put_text("zoo/probe/gone.yaml", "x\n")
    rem.put_text("zoo/probe/kept.yaml", "y\n")
    rem.delete("zoo/probe/gone.yaml")
    assert rem.get_text("zoo/probe/gone.yaml") is None
    assert backend.keys() == {"zoo/probe/kept.yaml"}
    rem.delete("zoo/probe/gone.yaml")
    assert backend.keys() == {"zoo/probe/kept.yaml"}


def test_a_download_is_verified_before_it_gets_its_name(backend: Backend, tmp_path: Path) -> None:
    rem = _remote(backend)
    data = os.urandom(300_000)
    expect = _digest(data)
    backend.write(oid_relpath(expect.md5), data)
    store = Store(tmp_path / "store")
    assert rem.download(store, expect.md5, expect, "weights.bin") == len(data)
    assert store.path(expect.md5).read_bytes() == data and not store.temp_files()

    for bad in (data[:150_000] + bytes([data[150_000] ^ 1]) + data[150_001:], data[:-1], data + b"!"):
        backend.write(oid_relpath(expect.md5), bad)
        other = Store(tmp_path / "other")
        with pytest.raises(IntegrityError, match="weights.bin: (sha256|size) mismatch"):
            rem.download(other, expect.md5, expect, "weights.bin")
        assert not other.has(expect.md5) and not other.temp_files()


def test_read_range_returns_exactly_the_bytes_asked_for(backend: Backend) -> None:
    data = bytes(range(256)) * 64
    backend.write("packs/ranges.pack", data)
    rem = _remote(backend)
    for start, end in ((0, 1), (10, 20), (255, 4097), (len(data) - 5, len(data)), (0, len(data))):
        assert rem.read_range("packs/ranges.pack", start, end) == data[start:end]


def test_hash_object_streams_the_stored_bytes(backend: Backend) -> None:
    data = os.urandom(2 << 20) + b"tail"
    expect = _digest(data)
    backend.write(oid_relpath(expect.md5), data)
    assert _remote(backend).hash_object(expect.md5) == expect
    backend.write(oid_relpath(expect.md5), data[:-1])
    assert _remote(backend).hash_object(expect.md5) == _digest(data[:-1])  # what is there, not its name


def test_a_missing_object_is_object_missing_naming_the_remote(backend: Backend, tmp_path: Path) -> None:
    rem = _remote(backend)
    absent = _md5("never stored")
    where = f"object md5:{absent} is missing from remote {re.escape(rem.url)}$"
    with pytest.raises(ObjectMissing, match=f"^{oid_relpath(absent)}: {where}"):
        rem.read_bytes(absent)
    with pytest.raises(ObjectMissing, match=f"^{oid_relpath(absent)}: {where}"):
        rem.hash_object(absent)
    store = Store(tmp_path / "store")
    with pytest.raises(ObjectMissing, match=f"^weights.bin: {where}") as info:
        rem.download(store, absent, Digest("0" * 64, absent, 5), "weights.bin")
    assert isinstance(info.value, RemoteError) and info.value.oid == absent
    assert not store.has(absent) and not store.temp_files()
    with pytest.raises(ObjectMissing, match="^packs/absent.pack: "):
        rem.read_range("packs/absent.pack", 0, 4)
    assert rem.get_text("zoo/absent.yaml") is None and rem.size(absent) is None
