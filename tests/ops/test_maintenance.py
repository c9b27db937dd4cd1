"""push, fetch, verify, gc."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import STUB, clone, remote_objects
from zoo_repo import Zoo
from zoo_repo.store.objects import oid_relpath


def test_gc_removes_only_unreferenced_objects(zoo: Zoo, model_dir: Path) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    orphan = zoo.store.add_file(model_dir / "model.md")  # already referenced: must stay
    stray = model_dir / "stray.bin"
    stray.write_bytes(b"never published")
    unreferenced = zoo.store.add_file(stray).md5
    (zoo.store.root / "tmp").mkdir(exist_ok=True)
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid names a process that no longer runs
    leftover = zoo.store.root / "tmp" / f".object.tmp-{dead.pid}-dead"
    leftover.write_bytes(b"partial")
    # A pull writes each object beside its final name: a killed one leaves its temp there.
    beside = zoo.store.path(unreferenced).with_name(f".{unreferenced[2:]}.tmp-{dead.pid}-dead")
    beside.write_bytes(b"part")

    plan = zoo.plan_gc()
    assert plan.objects == (unreferenced,)
    assert sorted(plan.temp_files) == sorted((leftover, beside))
    assert zoo.store.has(unreferenced)  # planning removes nothing
    plan.execute()
    assert not zoo.store.has(unreferenced) and not leftover.exists() and not beside.exists()
    kept = set(zoo.store.oids())
    assert kept == {f.md5 for f in manifest.files} | {manifest.tree_md5 + ".dir"}
    assert orphan.md5 in kept
    assert zoo.plan_gc().objects == ()


def test_verify_finds_a_corrupt_store_object(zoo: Zoo, model_dir: Path) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    assert zoo.verify().ok
    victim = zoo.store.path(next(f.md5 for f in manifest.files if f.path == "model.onnx"))
    victim.chmod(0o644)
    victim.write_bytes(b"bit rot")
    report = zoo.verify()
    assert not report.ok
    assert len(report.problems) == 1 and "md5 mismatch" in report.problems[0]


def test_push_restores_a_lost_remote_and_fetch_fills_a_store(zoo: Zoo, model_dir: Path, remote_dir: Path,
                                                              tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    before = remote_objects(remote_dir)
    shutil.rmtree(remote_dir)
    result = zoo.push()
    assert result.objects == len(before) and not result.missing
    assert remote_objects(remote_dir) == before
    assert zoo.push().objects == 0

    theirs = clone(zoo, tmp_path / "clone")
    fetched = theirs.fetch()
    assert fetched.objects == len(before)
    assert {oid_relpath(o) for o in theirs.store.oids()} == before
    assert theirs.verify().ok


def test_gc_keeps_what_other_branches_and_lockfiles_reference(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    import subprocess

    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"only on a review branch")
    branch = zoo.publish(model_dir, STUB, branch="review").manifest
    on_branch = next(f.md5 for f in branch.files if f.path == "sample-labels/lab-0000.npy")
    assert zoo.versions(STUB) == [1]  # not on this branch
    assert on_branch not in zoo.plan_gc().objects  # kept: a branch names it

    # Once the branch is gone, nothing names the object any more.
    subprocess.run(["git", "-C", str(zoo.root), "branch", "-D", "review"], check=True, capture_output=True)
    assert on_branch in zoo.plan_gc().objects
