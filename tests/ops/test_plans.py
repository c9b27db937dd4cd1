"""Pull and publish plan first, then act: what a plan says, and that executing
it does exactly that."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import DestinationConflict, Offline, UsageError, Zoo
from zoo_repo.core import packs
from zoo_repo.core.manifest import FileEntry, Manifest
from zoo_repo.core.publishing import VersionPlan, decide_version, skipped_run
from zoo_repo.core.pulling import CONFLICT, OUTSIDE, STAGED, Problem, first_refusal, placements, plan_fetch
from zoo_repo.core.stub import parse_stub
from zoo_repo.ops.publishplan import ingest, plan_version, scan_model, snapshot_dir
from zoo_repo.ops.pull import PullPlan


def _entry(path: str, md5: str, size: int = 10) -> FileEntry:
    return FileEntry(path, "other", size, md5 * 2, md5)


def _clone(zoo: Zoo, dest: Path) -> Zoo:
    subprocess.run(["git", "clone", "-q", str(zoo.root), str(dest)], check=True)
    return Zoo.open(dest)


# -- pull: the pure parts --------------------------------------------------------
def test_fetch_splits_located_objects_into_spans_and_the_rest_loose() -> None:
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    todo = [_entry("x", a), _entry("y", b), _entry("z", c), _entry("copy-of-x", a)]
    locator = {a: packs.Slot("p1", 0, 10), b: packs.Slot("p1", 10, 10)}
    fetch = plan_fetch(todo, {a, b, c}, locator, loose_only=False)
    assert [f.path for f in fetch.objects] == ["copy-of-x", "y", "z"]  # one per object, the last file labels it
    assert [(s.pack, s.start, s.end, [m[0] for m in s.members]) for s in fetch.spans] == [("p1", 0, 20, [a, b])]
    assert fetch.loose == (c,)
    assert plan_fetch(todo, {a, b, c}, locator, loose_only=True).loose == (a, b, c)  # a directory remote
    assert plan_fetch(todo, {a, b, c}, None, loose_only=False).spans == ()  # offline: no locator read
    assert plan_fetch(todo, set(), locator, loose_only=False).objects == ()


def test_placements_stage_only_what_is_downloaded() -> None:
    a, b = "a" * 32, "b" * 32
    todo = [_entry("x", a), _entry("y", b)]
    fetch = plan_fetch(todo, {a}, {}, loose_only=False)
    assert [p.how for p in placements(todo, fetch, "copy", staged=True)] == [STAGED, "copy"]
    assert [p.how for p in placements(todo, fetch, "hardlink", staged=False)] == ["hardlink", "hardlink"]


def test_the_first_refusal_follows_manifest_order_and_force() -> None:
    problems = [Problem("/d/a", CONFLICT), Problem("/d/b", OUTSIDE)]
    assert first_refusal(problems, force=False) == problems[0]
    assert first_refusal(problems, force=True) == problems[1]  # force never writes outside
    assert first_refusal(problems[:1], force=True) is None


# -- pull: plans of a zoo --------------------------------------------------------
def test_a_plan_writes_nothing_and_executes_as_pull_would(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB, run=False)
    theirs = _clone(zoo, tmp_path / "clone")
    plan = theirs.plan_pull(STUB, dest=tmp_path / "out", link="copy")
    assert isinstance(plan, PullPlan)
    assert not (tmp_path / "out").exists() and list(theirs.store.oids()) == []
    manifest = theirs.resolve(STUB)
    assert plan.files == manifest.files and plan.in_place == () and plan.problems == ()
    assert {f.md5 for f in plan.fetch.objects} == {f.md5 for f in manifest.files}
    assert plan.fetch.spans == () and len(plan.fetch.loose) == len(plan.fetch.objects)  # a directory remote
    assert {p.how for p in plan.placements} == {STAGED}  # copies are written as the objects arrive
    result = plan.execute()
    assert result.fetched_objects == len(plan.fetch.objects)
    assert sorted(p.relative_to(result.dest).as_posix() for p in result.dest.rglob("*") if p.is_file()) \
        == sorted(f.path for f in manifest.files)
    again = theirs.plan_pull(STUB, dest=tmp_path / "out")
    assert again.in_place == manifest.files and again.placements == () and again.fetch.objects == ()
    assert again.execute().fetched_objects == 0


def test_conflicts_are_planned_and_refused_unless_forced(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB, run=False)
    zoo.pull(STUB, dest=tmp_path / "out", link="copy")
    card = tmp_path / "out" / "model.md"
    card.chmod(0o644)
    card.write_text("edited")
    plan = zoo.plan_pull(STUB, dest=tmp_path / "out", link="copy")
    assert plan.conflicts == (str(card),)
    assert plan.placements == ()  # refused as it stands: nothing planned to fetch or place
    assert f"refused: {card} exists with different content" in plan.summary()
    with pytest.raises(DestinationConflict):
        plan.execute()
    assert card.read_text() == "edited"
    forced = zoo.plan_pull(STUB, dest=tmp_path / "out", link="copy", force=True)
    assert [p.entry.path for p in forced.placements] == ["model.md"]
    assert "replace: 1 file that hold other bytes (force)" in forced.summary()
    forced.execute()
    assert card.read_bytes() == (model_dir / "model.md").read_bytes()


def test_a_path_outside_the_destination_is_refused_even_forced(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB, run=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "out" / "recipes")
    plan = zoo.plan_pull(STUB, dest=tmp_path / "out", force=True)
    assert plan.problems and {p.kind for p in plan.problems} == {OUTSIDE}
    with pytest.raises(UsageError, match="resolves outside the destination"):
        plan.execute()
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_an_object_removed_after_planning_is_fetched(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB, run=False)
    plan = zoo.plan_pull(STUB, dest=tmp_path / "out")
    assert plan.fetch.objects == ()  # the checkout's store holds every object
    onnx = next(f for f in plan.files if f.path == "model.onnx")
    zoo.store.remove(onnx.md5)  # as gc would, between planning and executing
    result = plan.execute()
    assert result.fetched_objects == 1
    assert (tmp_path / "out" / "model.onnx").read_bytes() == (model_dir / "model.onnx").read_bytes()


def test_offline_plans_say_what_is_missing(zoo: Zoo, model_dir: Path, remote_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB, run=False)
    Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache").pull(STUB, dest=tmp_path / "a", include=("card",))
    offline = Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache", offline=True)
    plan = offline.plan_pull(STUB, dest=tmp_path / "b")
    assert plan.offline and len(plan.fetch.objects) == len({f.md5 for f in plan.files}) - 1
    assert "not in the cache and this zoo is offline" in plan.summary()
    with pytest.raises(Offline):
        plan.execute()
    assert not (tmp_path / "b").exists()


def test_the_summary_reads_as_the_plan(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB, run=False)
    plan = zoo.plan_pull(STUB, dest=tmp_path / "out", include=("onnx", "card"), link="hardlink")
    lines = plan.summary().splitlines()
    assert lines[0].startswith(f"pull {STUB}@v1 to {tmp_path / 'out'}: 2 files (")
    assert lines[1:] == ["  fetch: nothing, the store holds every object", "  place: 2 files by hardlink"]


# -- publish ---------------------------------------------------------------------
def _manifest(version: int, content: str) -> Manifest:
    return Manifest(parse_stub(STUB), version, "2024-01-01T00:00:00Z", "p", (_entry("x", content * 32),), "0" * 32)


def test_the_version_decision() -> None:
    stub = parse_stub(STUB)
    v1, v2 = _manifest(1, "a"), _manifest(2, "b")
    same_as_v2, new = v2.content_key(), _manifest(3, "c").content_key()
    assert decide_version(stub, [], None, new, None, None) == VersionPlan(1, None)
    assert decide_version(stub, [1, 2], None, new, None, v2) == VersionPlan(3, 2)
    assert decide_version(stub, [1, 2], None, same_as_v2, None, v2) == VersionPlan(2, None, v2, finish=True)
    assert decide_version(stub, [1, 2], 1, v1.content_key(), v1, None) == VersionPlan(1, None, v1)
    with pytest.raises(UsageError, match="already published with different content") as clash:
        decide_version(stub, [1, 2], 1, new, v1, None)
    assert clash.value.param == "version"
    with pytest.raises(UsageError, match=f"`version=` v5: the next version of {STUB} is v3"):
        decide_version(stub, [1, 2], 5, new, None, v2)
    assert skipped_run(False, 4, 4) == {"skipped": "--no-run"}  # as manifests have always recorded it
    assert skipped_run(True, 0, 4) == {"skipped": "no sample-inputs and sample-outputs to compare"}
    assert skipped_run(True, 4, 4) is None


def test_a_publish_plan_names_the_version_and_the_uploads(zoo: Zoo, model_dir: Path) -> None:
    stub = parse_stub(STUB)
    with zoo.store.lock(shared=True), snapshot_dir(zoo) as snapshot:
        scan = scan_model(zoo, model_dir, stub, run=False, rtol=1e-3, atol=1e-5, snapshot=snapshot)
        assert {f.relpath: f.role for f in scan.files}["model.onnx"] == "onnx"
        assert scan.validation.run == {"skipped": "--no-run"}
        entries = ingest(zoo, scan)
        plan = plan_version(zoo, stub, scan, entries, None, jobs=2)
    assert "model.onnx.tar.gz" in {e.path for e in entries}  # the archive publish generates
    assert plan.version == VersionPlan(1, None) and plan.tree_oid is not None
    assert set(plan.upload) == {e.md5 for e in entries} | {plan.tree_oid}
    objects = {e.md5: e.size for e in entries}
    assert plan.upload_bytes == sum(objects.values()) + zoo.store.path(plan.tree_oid).stat().st_size
    assert zoo.versions(STUB) == []  # planning wrote no version
    published = zoo.publish(model_dir, STUB, run=False)
    with zoo.store.lock(shared=True), snapshot_dir(zoo) as snapshot:
        scan = scan_model(zoo, model_dir, stub, run=False, rtol=1e-3, atol=1e-5, snapshot=snapshot)
        unchanged = plan_version(zoo, stub, scan, ingest(zoo, scan), None, jobs=2)
    assert unchanged.version.unchanged and unchanged.version.existing == published.manifest
    assert unchanged.upload == ()
