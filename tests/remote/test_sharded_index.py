"""The sharded index (``core.shards``, ``remote.index``) on a real directory remote:
racing publishers, a lagging top, remotes of the old single-file form, crafted shards."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from zoo_repo import ManifestError, Zoo
from zoo_repo.core import shards
from zoo_repo.core.brief import Brief
from zoo_repo.core.projection import Move, render_move, render_view, shard_of
from zoo_repo.errors import TooLarge
from zoo_repo.remote import index, open_remote
from zoo_repo.remote.local import LocalRemote

COMMIT = "c" * 40


def _stub(i: int) -> str:
    return f"cv/classification/arch{i:05d}/pytorch/sparseml/imagenet/base-none"


def _digest(stub: str, version: int) -> str:
    return "sha256:" + hashlib.sha256(f"{stub}@v{version}".encode()).hexdigest()


def _remote(tmp_path: Path) -> LocalRemote:
    remote = open_remote(str(tmp_path / "remote"))
    assert isinstance(remote, LocalRemote)
    return remote


def _brief(stub: str) -> Brief:
    return Brief(1, _digest(stub, 1), "2026-01-01T00:00:00Z", len(stub), 3, ())


def _publish(remote: LocalRemote, stubs: list[str]) -> int:
    """One move adding v1 of each stub with its brief, as ``ops.project`` makes it: read,
    decide, create; again on losing."""
    for _ in range(200):
        state = index.read_state(remote, stubs, writing=True)
        move = Move(state.view.seq + 1, COMMIT, "main", {s: {"v1": _digest(s, 1)} for s in stubs},
                    latest={s: _brief(s) for s in stubs})
        if index.write_move(remote, state, move) is not None:
            return move.seq
    raise AssertionError("never won a move")


def _consumer(remote: LocalRemote, cache: Path) -> Zoo:
    return Zoo.open(Path(remote.root).as_uri(), cache_dir=cache)


def _top_alone(remote: LocalRemote, unbriefed: frozenset[str] = frozenset()) -> dict[str, dict[str, str]]:
    """What the top and its shards list, without the log: what no reader may miss once the top caught up
    (and the brief of every stub but ``unbriefed``, whose moves had none)."""
    top = index.read_top(remote)
    assert top is not None
    view = shards.merge(top, index.read_shards(remote, top, sorted(top.shards)), None)
    # Each stub's brief too: a writer re-rendering a shard another's move touched keeps that move's.
    assert {s: view.brief_of(s) for s in view.versions} == \
        {s: None if s in unbriefed else _brief(s) for s in view.versions}
    return view.versions


def test_racing_publishers_lose_no_entry(tmp_path: Path) -> None:
    remote = _remote(tmp_path)
    # 4 writers × 12 moves, their stubs sharing shards: each move must land in its shard,
    # whoever wrote the top last.
    batches = [[_stub(w * 100 + i)] for w in range(4) for i in range(12)]
    errors: list[Exception] = []

    def writer(mine: list[list[str]]) -> None:
        try:
            for stubs in mine:
                _publish(remote, stubs)
        except Exception as exc:  # noqa: BLE001 - any failure of a writer is reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(batches[w::4],)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    everything = {s for b in batches for s in b}
    assert len(list(Path(remote.root, "zoo", "projection").iterdir())) == len(batches)
    consumer = _consumer(remote, tmp_path / "cache")
    assert {str(s) for s in consumer.stubs()} == everything
    _publish(remote, [_stub(999)])  # the next writer's top lists everything, whatever the race left
    assert set(_top_alone(remote)) == everything | {_stub(999)}


def test_a_move_whose_writer_died_before_the_top_is_kept_by_the_next(tmp_path: Path) -> None:
    remote = _remote(tmp_path)
    _publish(remote, [_stub(1)])
    slow = index.read_state(remote, [_stub(2)], writing=True)
    move = Move(slow.view.seq + 1, COMMIT, "main", {_stub(2): {"v1": _digest(_stub(2), 1)}},
                latest={_stub(2): _brief(_stub(2))})
    assert remote.create_text(index.move_key(move.seq), render_move(move))  # …and then it was killed
    assert index.read_top(remote).seq == 1  # type: ignore[union-attr]
    assert [str(s) for s in _consumer(remote, tmp_path / "c1").stubs()] == [_stub(1), _stub(2)]  # from the log

    _publish(remote, [_stub(3)])
    assert set(_top_alone(remote)) == {_stub(1), _stub(2), _stub(3)}
    # The slow writer wakes up and writes its top: the remote's is further, so it stays.
    index.write_index(remote, slow, index.read_state(remote, [_stub(2)]).view, [_stub(2)])
    assert index.read_top(remote).seq == 3  # type: ignore[union-attr]
    # Even a top put back by a writer that checked just before (a lagging top) loses nothing.
    stale = remote.root + "/" + index.TOP
    remote.put_text(index.TOP, shards.render_top(shards.Top(1, COMMIT, "main", index.read_top(remote).shards)))  # type: ignore[union-attr]
    assert os.path.exists(stale)
    zoo = _consumer(remote, tmp_path / "c2")
    assert [str(s) for s in zoo.stubs()] == [_stub(1), _stub(2), _stub(3)]
    assert zoo.versions(_stub(3)) == [1]


def test_a_consumer_of_one_stub_reads_one_shard(tmp_path: Path) -> None:
    remote = _remote(tmp_path)
    _publish(remote, [_stub(i) for i in range(300)])
    cache = tmp_path / "cache"
    assert _consumer(remote, cache).versions(_stub(7)) == [1]
    read = sorted(p.parent.name for p in cache.glob("remotes/*/zoo/index/*/*.json"))
    assert read == [shard_of(_stub(7))]
    # A shard never changes, so the next reader takes it from the cache (the remote's copy is gone).
    kept = index.read_top(remote).shards[shard_of(_stub(7))]  # type: ignore[union-attr]
    Path(remote.root, index.shard_key(shard_of(_stub(7)), kept)).unlink()
    assert _consumer(remote, cache).versions(_stub(7)) == [1]
    # A full listing reads every shard (the one gone from the remote, from the cache).
    assert len(list(_consumer(remote, cache).stubs())) == 300
    assert len(list(cache.glob("remotes/*/zoo/index/*/*.json"))) == len(index.read_top(remote).shards)  # type: ignore[union-attr]


def test_old_single_file_remote_is_read_and_then_sharded(tmp_path: Path) -> None:
    remote = _remote(tmp_path)
    _publish(remote, [_stub(1), _stub(2)])
    view = index.read_state(remote).view
    # The form zoo wrote before shards: one index.json, no top.
    for path in sorted(Path(remote.root, index.SHARDS).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    remote.put_text(index.INDEX, render_view(view))
    consumer = _consumer(remote, tmp_path / "c1")
    assert [str(s) for s in consumer.stubs()] == [_stub(1), _stub(2)]
    assert consumer.versions(_stub(2)) == [1]

    _publish(remote, [_stub(3)])  # the first new writer writes every shard and the top
    # …without briefs of what index.json listed (it never held any): those are listed from manifests.
    assert set(_top_alone(remote, frozenset({_stub(1), _stub(2)}))) == {_stub(1), _stub(2), _stub(3)}
    assert [str(s) for s in _consumer(remote, tmp_path / "c2").stubs()] == [_stub(1), _stub(2), _stub(3)]
    # index.json stays as it was: a reader from before shards follows the log past it.
    old = index._old_form(index.CacheFiles(Path(remote.root), remote.url)).view
    assert json.loads(Path(remote.root, index.INDEX).read_text())["seq"] == 1
    assert set(old.versions) == {_stub(1), _stub(2), _stub(3)}


def _craft(remote: LocalRemote, name: str, text: bytes, *, name_in_top: bool = True) -> None:
    """Put ``text`` as shard ``name`` and (``name_in_top``) make the top name it by its digest."""
    top = index.read_top(remote)
    assert top is not None
    digest = shards.digest_of(text) if name_in_top else top.shards[name]
    path = Path(remote.root, index.shard_key(name, digest))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    remote.put_text(index.TOP, shards.render_top(shards.Top(top.seq, top.commit, top.branch,
                                                              {**top.shards, name: digest})))


def _shard_doc(remote: LocalRemote, name: str) -> dict[str, object]:
    top = index.read_top(remote)
    assert top is not None
    return dict(json.loads(Path(remote.root, index.shard_key(name, top.shards[name])).read_text()))


@pytest.mark.parametrize("case", ["foreign stub", "digest mismatch", "oversize", "not JSON", "top not JSON",
                                  "top oversize", "shard missing", "unknown sharding"])
def test_crafted_index_files_are_refused(tmp_path: Path, case: str) -> None:
    remote = _remote(tmp_path)
    _publish(remote, [_stub(1), _stub(2)])
    name = shard_of(_stub(1))
    expect: tuple[type[Exception], str]
    if case == "foreign stub":  # a stub placed where its own reader does not look
        other = next(_stub(i) for i in range(3, 999) if shard_of(_stub(i)) != name)
        doc = _shard_doc(remote, name)
        doc["stubs"] = {**doc["stubs"], other: {"v1": _digest(other, 1)}}  # type: ignore[dict-item]
        _craft(remote, name, json.dumps(doc).encode())
        expect = (ManifestError, f"lists '{other}', which belongs in shard {shard_of(other)}, not {name}")
    elif case == "digest mismatch":
        doc = _shard_doc(remote, name)
        doc["stubs"] = {_stub(1): {"v1": _digest(_stub(9), 1)}}
        _craft(remote, name, json.dumps(doc).encode(), name_in_top=False)
        expect = (ManifestError, "has digest sha256:[0-9a-f]{64}; zoo/index/top.json names sha256:")
    elif case == "oversize":
        path = Path(remote.root, index.shard_key(name, "sha256:" + "0" * 64))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.truncate(shards.SHARD_LIMIT + 1)
        top = index.read_top(remote)
        assert top is not None
        remote.put_text(index.TOP, shards.render_top(shards.Top(top.seq, top.commit, top.branch,
                                                                  {**top.shards, name: "sha256:" + "0" * 64})))
        expect = (TooLarge, f"is larger than {shards.SHARD_LIMIT} bytes")
    elif case == "not JSON":
        _craft(remote, name, b'{"schema": 2, "shard": ')
        expect = (ManifestError, "is not JSON")
    elif case == "top not JSON":
        Path(remote.root, index.TOP).write_text("{")
        expect = (ManifestError, "zoo/index/top.json: is not JSON")
    elif case == "top oversize":
        with open(Path(remote.root, index.TOP), "ab") as fh:
            fh.truncate(shards.TOP_LIMIT + 1)
        expect = (TooLarge, f"zoo/index/top.json: is larger than {shards.TOP_LIMIT} bytes")
    elif case == "shard missing":
        top = index.read_top(remote)
        assert top is not None
        Path(remote.root, index.shard_key(name, top.shards[name])).unlink()
        expect = (ManifestError, f"names shard zoo/index/{name}/.*, which is not there")
    else:
        top_doc = json.loads(Path(remote.root, index.TOP).read_text())
        Path(remote.root, index.TOP).write_text(json.dumps({**top_doc, "shard_by": "sha256/3"}))
        expect = (ManifestError, "shards by 'sha256/3'; this zoo-repo knows only 'sha256/2'")
    with pytest.raises(expect[0], match=expect[1]):
        _consumer(remote, tmp_path / "cache").versions(_stub(1))


def test_a_long_lived_consumer_sees_aliases_move(tmp_path: Path) -> None:
    remote = _remote(tmp_path)
    _publish(remote, [_stub(i) for i in range(40)])
    consumer = _consumer(remote, tmp_path / "cache")
    assert len(list(consumer.stubs())) == 40 and consumer.aliases(_stub(3)) == {}
    state = index.read_state(remote, [_stub(3)], writing=True)
    moved = Move(state.view.seq + 1, COMMIT, "main", aliases={_stub(3): {"stable": 1}})
    assert index.write_move(remote, state, moved) is not None
    # Asked again: the top, the log past it, and the one shard that changed.
    assert consumer.aliases(_stub(3)) == {"stable": 1}
    # A listing answers every stub's aliases from one reading, made when it begins: so it
    # sees a move made since the last question (and reads no manifest: there are none here).
    again = Move(moved.seq + 1, COMMIT, "main", aliases={_stub(3): {"stable": 1, "next": 1}})
    assert index.write_move(remote, index.read_state(remote, [_stub(3)], writing=True), again) is not None
    rows = {str(r.summary.stub): r for r in consumer.listing(aliases=True)}
    assert len(rows) == 40 and rows[_stub(3)].aliases == {"stable": 1, "next": 1}
    assert rows[_stub(3)].summary.size == len(_stub(3))  # from the brief
    assert len(list(consumer.stubs())) == 40 and consumer.versions(_stub(39)) == [1]


_WRITER = """
import sys
from tests.remote.test_sharded_index import _publish, _remote, _stub
from pathlib import Path
remote, first = _remote(Path(sys.argv[1])), int(sys.argv[2])
for i in range(first, first + 15):
    _publish(remote, [_stub(i)])
"""


def test_two_processes_publishing_at_once_lose_no_entry(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(first)], cwd=root)
               for first in (0, 500)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    expected = {_stub(i) for first in (0, 500) for i in range(first, first + 15)}
    assert {str(s) for s in _consumer(_remote(tmp_path), tmp_path / "cache").stubs()} == expected
    _publish(_remote(tmp_path), [_stub(999)])  # whatever the race left of the top, the next one lists all
    assert set(_top_alone(_remote(tmp_path))) == expected | {_stub(999)}
