"""zoo and real DVC share one store and one remote layout."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import STUB, clone, tree_bytes
from zoo_repo import Zoo
from zoo_repo.ops.demo import STUB_PRUNED

DVC = [sys.executable, "-m", "dvc"]


def dvc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*DVC, *args], cwd=cwd, capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def test_plain_dvc_pull_in_a_fresh_clone_gets_every_version(
    zoo: Zoo, built_models: dict[str, Path], model_dir: Path, tmp_path: Path
) -> None:
    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0002.npy").write_bytes(b"v2 input")
    zoo.publish(model_dir, STUB)
    zoo.publish(built_models["pruned"], STUB_PRUNED)

    theirs = clone(zoo, tmp_path / "clone")
    dvc(theirs.root, "pull")
    for stub, version in ((STUB, 1), (STUB, 2), (STUB_PRUNED, 1)):
        manifest = theirs.manifest(stub, version)
        got = tree_bytes(theirs.version_dir(manifest.stub, version) / "model")
        assert sorted(got) == sorted(f.path for f in manifest.files)
        for f in manifest.files:
            assert hashlib.sha256(got[f.path]).hexdigest() == f.sha256, f.path
    assert tree_bytes(theirs.version_dir(theirs.manifest(STUB, 2).stub, 2) / "model")[
        "sample-labels/lab-0002.npy"] == b"v2 input"
    # dvc filled the shared store: zoo finds every object there and verifies it.
    report = theirs.verify()
    assert report.ok and report.objects >= 3
    status = subprocess.run(["git", "status", "--porcelain"], cwd=theirs.root, capture_output=True, text=True)
    assert status.stdout == ""


def test_dvc_status_agrees_and_dvc_add_uses_the_same_store(
    zoo: Zoo, model_dir: Path, tmp_path: Path
) -> None:
    zoo.publish(model_dir, STUB)
    status = dvc(zoo.root, "status", "--cloud")
    assert "are in sync" in status.stdout  # dvc finds every zoo object on the remote

    # A directory tracked by dvc itself lands in the same store and remote layout.
    extra = zoo.root / "extra"
    extra.mkdir()
    (extra / "weights.bin").write_bytes(b"tracked by dvc add")
    dvc(zoo.root, "add", "extra")
    dvc(zoo.root, "push")
    oid = hashlib.md5(b"tracked by dvc add").hexdigest()
    assert zoo.store.has(oid)
    assert zoo.remote().has(oid)
