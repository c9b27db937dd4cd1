"""``zoo list --remote`` from the briefs the shards carry (``core.brief``): the same
rows as from the manifests, read from no manifest; shards without briefs (a zoo
before them) listed from the manifests; crafted briefs refused in one line."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STUB, Result, hermetic_home
from zoo_repo import Zoo
from zoo_repo.core import brief, shards
from zoo_repo.core.card import Metric
from zoo_repo.core.projection import Move, Projection, apply, render_move, shard_of
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.remote import index, open_remote

LISTINGS = (["list"], ["list", "--json"], ["list", "--all"])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, built_models: dict[str, Path]) -> Iterator[Path]:
    """A directory remote a real zoo published to: two versions of one stub (the first
    tagged), one of another, deprecated. Each test works on its own copy."""
    root = tmp_path_factory.mktemp("published")
    with hermetic_home(root / "home"):
        zoo = Zoo.init(root / "zoo", remote=str(root / "remote"))
        zoo.publish(built_models["base"], STUB)
        zoo.tag(f"{STUB}@v1", "stable")
        model = root / "model"
        shutil.copytree(built_models["base"], model)
        (model / "sample-labels" / "lab-0002.npy").write_bytes(b"v2 label")
        zoo.publish(model, STUB)
        zoo.publish(built_models["pruned"], STUB_PRUNED)
        zoo.deprecate(STUB_PRUNED, "retired", successor=STUB)
    yield root / "remote"


@pytest.fixture
def remote(published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # outside any zoo checkout
    return Path(shutil.copytree(published, tmp_path / "remote"))


def _run(cli: Callable[..., Result], remote: Path, cache: Path, args: list[str]) -> Result:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZOO_CACHE_DIR", str(cache))
        return cli(*args, "--remote", remote.as_uri())


def _manifests_read(cache: Path) -> list[str]:
    return sorted(p.parent.name for p in cache.glob("remotes/*/manifests/**/manifest.yaml"))


def _shard_files(remote: Path) -> dict[str, Path]:
    top = json.loads((remote / index.TOP).read_text())
    return {name: remote / index.shard_key(name, digest) for name, digest in top["shards"].items()}


def _rewrite(remote: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Shard ``name`` as ``change`` leaves its document, named by its new digest in the top."""
    path = _shard_files(remote)[name]
    doc = json.loads(path.read_text())
    change(doc)
    data = json.dumps(doc, separators=(",", ":")).encode() + b"\n"
    digest = shards.digest_of(data)
    new = remote / index.shard_key(name, digest)
    new.parent.mkdir(parents=True, exist_ok=True)
    new.write_bytes(data)
    top = json.loads((remote / index.TOP).read_text())
    top["shards"][name] = digest
    (remote / index.TOP).write_text(json.dumps(top))


def _strip(remote: Path) -> None:
    """The remote as a zoo before briefs wrote it: no ``latest`` in any shard or move."""
    for name in _shard_files(remote):
        _rewrite(remote, name, lambda doc: doc.pop("latest", None))
    for move in (remote / index.PROJECTION).glob("*.json"):
        doc = json.loads(move.read_text())
        doc.pop("latest", None)
        move.write_text(json.dumps(doc, indent=1) + "\n")


def test_list_remote_from_briefs_is_what_the_manifests_say(cli: Callable[..., Result], remote: Path,
                                                           tmp_path: Path) -> None:
    assert all("latest" in json.loads(p.read_text()) for p in _shard_files(remote).values())
    briefed = [_run(cli, remote, tmp_path / "c1", args) for args in LISTINGS]
    assert all(r.exit_code == 0 for r in briefed), briefed
    assert _manifests_read(tmp_path / "c1") == []  # every row from the shards
    rows = json.loads(briefed[1].stdout)
    assert briefed[1].stdout == json.dumps(rows, indent=2) + "\n"  # written a row at a time, as one document
    assert [(r["stub"], r["version"], r["aliases"]) for r in rows] == [(STUB, "v2", {"latest": "v2", "stable": "v1"})]
    assert "retired" in briefed[2].stdout and STUB_PRUNED in briefed[2].stdout

    _strip(remote)
    fallback = [_run(cli, remote, tmp_path / "c2", args) for args in LISTINGS]
    assert _manifests_read(tmp_path / "c2") == ["v1", "v2"]  # the latest of each stub, read and checked
    assert [(r.exit_code, r.stdout) for r in fallback] == [(r.exit_code, r.stdout) for r in briefed]


def test_an_empty_remote_lists_as_an_empty_document(cli: Callable[..., Result], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    listed = _run(cli, tmp_path / "empty", tmp_path / "cache", ["list", "--json"])
    assert (listed.exit_code, listed.stdout) == (0, "[]\n")


def test_a_brief_left_behind_by_a_newer_version_is_not_shown(cli: Callable[..., Result], remote: Path,
                                                            tmp_path: Path) -> None:
    """A zoo before briefs moves a stub on: the brief of its old latest is dropped, the
    new latest listed from its manifest (and the writer's shards carry no stale brief)."""
    there = open_remote(str(remote))
    state = index.read_state(there, [STUB], writing=True)
    assert state.view.brief_of(STUB) is not None
    v2 = state.view.versions[STUB]["v2"]
    manifests = remote / "zoo" / "manifests" / STUB
    shutil.copytree(manifests / "v2", manifests / "v3")
    text = (manifests / "v3" / "manifest.yaml").read_text().replace("version: v2", "version: v3", 1)
    (manifests / "v3" / "manifest.yaml").write_text(text)
    v3 = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert v3 != v2
    move = Move(state.view.seq + 1, state.view.commit or "", state.view.branch or "", {STUB: {"v3": v3}})
    assert index.write_move(there, state, move) is not None
    assert "latest" not in json.loads(_shard_files(remote)[shard_of(STUB)].read_text())
    listed = _run(cli, remote, tmp_path / "c1", ["list", "--json"])
    assert listed.exit_code == 0, listed.stderr
    assert [r["version"] for r in json.loads(listed.stdout)] == ["v3"]
    assert _manifests_read(tmp_path / "c1") == ["v3"]


def _brief_doc(remote: Path) -> dict[str, Any]:
    return dict(json.loads(_shard_files(remote)[shard_of(STUB)].read_text())["latest"][STUB])


CRAFTED: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "another digest": (lambda b: b.update(digest="sha256:" + "0" * 64),
                       "is of v2 at sha256:000000000000…; the newest version it lists of that stub is v2 at sha256:"),
    "an older version": (lambda b: b.update(v=1), "is of v1 at .*; the newest version it lists of that stub is v2"),
    "over-long created": (lambda b: b.update(created="2026-01-01T00:00:00Z" + "x" * brief.MAX_TEXT),
                          f"created \\(at most {brief.MAX_TEXT} printable ASCII characters\\)"),
    "too many metrics": (lambda b: b.update(metrics=[["top1", 1.0, None, None, None]] * (brief.MAX_METRICS + 1)),
                         f"metrics must be a list of at most {brief.MAX_METRICS}"),
    "over-long metric name": (lambda b: b.update(metrics=[["m" * (brief.MAX_TEXT + 1), 1.0, None, None, None]]),
                              "a metric must be \\[name, finite number"),
    "size a string": (lambda b: b.update(size="12"), "size and nfiles \\(whole numbers below 2\\*\\*63\\)"),
    "size too large": (lambda b: b.update(size=1 << 63), "size and nfiles \\(whole numbers"),
    "created not ASCII": (lambda b: b.update(created="2026-01-01\u202e"), "at most 64 printable ASCII"),
    "a metric unit with a newline": (lambda b: b.update(metrics=[["top1", 1.0, "%\n", None, None]]),
                                     "each text at most 64 printable ASCII characters"),
    "a metric not a number": (lambda b: b.update(metrics=[["top1", "76%", "%", None, None]]),
                              "a metric must be"),
    "an extra key": (lambda b: b.update(description="never reviewed"), "expected \\{created, digest"),
    "not an object": (lambda b: b.clear(), "expected \\{created, digest"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_brief_is_refused_in_one_line(cli: Callable[..., Result], remote: Path, tmp_path: Path,
                                                case: str) -> None:
    change, message = CRAFTED[case]
    crafted = _brief_doc(remote)
    change(crafted)
    _rewrite(remote, shard_of(STUB), lambda doc: doc["latest"].update({STUB: crafted or []}))
    for args in LISTINGS:
        result = _run(cli, remote, tmp_path / "cache", args)
        assert result.exit_code == 2, (case, result)
        assert "Traceback" not in result.stderr and result.stdout == ""
        lines = result.stderr.strip().splitlines()
        first = json.loads(lines[0])["error"] if "--json" in args else lines[0]
        assert len(lines) == 1, lines
        assert f"zoo/index/{shard_of(STUB)}/" in first and f"brief of '{STUB}'" in first
        assert re.search(message, first), first


def test_a_brief_of_a_stub_the_shard_does_not_list_is_refused(cli: Callable[..., Result], remote: Path,
                                                             tmp_path: Path) -> None:
    ghost = STUB.replace("base-none", "ghost-none")
    name = shard_of(STUB)
    doc = _brief_doc(remote)
    if shard_of(ghost) != name:  # it must be in this shard to get past the placement check
        ghost = next(g for i in range(999) if shard_of(g := STUB.replace("base-none", f"ghost{i}-none")) == name)
    _rewrite(remote, name, lambda d: d["latest"].update({ghost: doc}))
    result = _run(cli, remote, tmp_path / "cache", ["list"])
    assert result.exit_code == 2 and f"brief of '{ghost}'" in result.stderr and "Traceback" not in result.stderr


def test_a_move_whose_brief_is_not_of_what_it_adds_is_refused(cli: Callable[..., Result], remote: Path,
                                                               tmp_path: Path) -> None:
    """A brief in the log past the top (not yet in a shard) is checked as one in a shard is."""
    there = open_remote(str(remote))
    state = index.read_state(there, [STUB], writing=True)
    b = state.view.brief_of(STUB)
    assert b is not None
    crafted = Move(state.view.seq + 1, state.view.commit or "", state.view.branch or "", aliases={STUB: {"x": 1}},
                   latest={STUB: b})  # a brief of a version the move does not add
    assert there.create_text(index.move_key(crafted.seq), render_move(crafted))
    result = _run(cli, remote, tmp_path / "cache", ["list"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{index.move_key(crafted.seq)}: brief of '{STUB}' is of v2" in result.stderr
    assert "the newest version it adds of that stub is no version" in result.stderr


def test_briefs_travel_with_moves_past_the_top() -> None:
    """The view after a move holds the move's brief of its new latest, and drops one the move passed."""
    stub = STUB
    one, two = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    b1 = brief.Brief(1, one, "2026-01-01T00:00:00Z", 10, 2, (Metric("top1 accuracy", 76.1, "%"),))
    view = apply(Projection(), Move(1, "c" * 40, "main", {stub: {"v1": one}}, latest={stub: b1}))
    assert view.brief_of(stub) == b1
    later = apply(view, Move(2, "c" * 40, "main", {stub: {"v2": two}}))  # a writer before briefs
    assert later.brief_of(stub) is None and stub not in later.latest
    b2 = brief.Brief(2, two, "2026-01-02T00:00:00Z", 11, 2, ())
    assert apply(view, Move(2, "c" * 40, "main", {stub: {"v2": two}}, latest={stub: b2})).brief_of(stub) == b2
    assert brief.from_doc(json.loads(json.dumps(b1.to_doc())), "", stub) == b1


def test_a_manifest_beyond_a_brief_s_bounds_gets_none(remote: Path) -> None:
    """Such a stub is listed from its manifest: never from a brief cut to fit."""
    import dataclasses

    from zoo_repo.core.manifest import digest_of, parse_manifest

    text = next((remote / "zoo" / "manifests").glob("**/v1/manifest.yaml")).read_text()
    manifest = parse_manifest(text)
    assert brief.of_manifest(manifest, digest_of(text)) is not None
    for metrics in ((Metric("top1 précision", 76.1, "%"),), (Metric("top1", 76.1, "%"),) * (brief.MAX_METRICS + 1),
                    (Metric("t" * (brief.MAX_TEXT + 1), 76.1),), (Metric("top1", float("inf")),)):
        assert brief.of_manifest(dataclasses.replace(manifest, metrics=metrics), digest_of(text)) is None
