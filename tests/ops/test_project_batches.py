"""Projecting many versions at once (a first `zoo push` to a new remote) goes a batch
at a time (``ops.project.BATCH``): it must list exactly what one batch would, and a
publisher killed between batches must leave nothing a consumer sees."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import STUB, tree_bytes
from zoo_repo import Zoo
from zoo_repo.ops import project
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.remote import meta, open_remote

STUBS = (STUB, STUB_PRUNED)


@pytest.fixture
def models(built_models: dict[str, Path], tmp_path: Path) -> tuple[Path, Path]:
    dirs = (tmp_path / "base", tmp_path / "pruned")
    shutil.copytree(built_models["base"], dirs[0])
    shutil.copytree(built_models["pruned"], dirs[1])
    return dirs


def _published(zoo: Zoo, models: tuple[Path, Path]) -> list[str]:
    """Five versions of two stubs, each published (and listed) on the zoo's first remote."""
    refs = []
    for i in range(5):
        (models[i % 2] / "extra.txt").write_text(f"version {i}\n")
        refs.append(zoo.publish(models[i % 2], STUBS[i % 2]).ref)
    return refs


def _repoint(zoo: Zoo, remote: Path) -> Zoo:
    """The same checkout with its remote moved to an empty directory (nothing projected there)."""
    config = zoo.root / ".dvc" / "config"
    old = Zoo.open(zoo.root).remote().url.removeprefix("file://")
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, str(remote)))
    return Zoo.open(zoo.root)


def _seen(remote: Path, cache: Path) -> dict[str, dict[int, str]]:
    consumer = Zoo.open(remote.as_uri(), cache_dir=cache)
    return {str(s): {v: consumer.digest(s, v) for v in consumer.versions(s)} for s in consumer.stubs()}


def test_projecting_in_batches_writes_what_one_batch_writes(
        zoo: Zoo, models: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = zoo.remote().url.removeprefix("file://")
    refs = _published(zoo, models)
    whole = _repoint(zoo, tmp_path / "whole").push()
    monkeypatch.setattr(project, "BATCH", 2)
    batched = _repoint(zoo, tmp_path / "batched").push()
    assert whole.projection is not None and batched.projection is not None
    assert sorted(batched.projection.added) == sorted(whole.projection.added) == sorted(refs)
    # Byte for byte: the log's move, the top, every shard, every claim (manifest, card, locator).
    meta_whole = tree_bytes(tmp_path / "whole" / meta.PREFIX)
    assert tree_bytes(tmp_path / "batched" / meta.PREFIX) == meta_whole
    assert any(p.endswith("manifest.yaml") for p in meta_whole)
    assert _seen(tmp_path / "batched", tmp_path / "c1") == _seen(Path(first), tmp_path / "c2")


def test_a_publisher_killed_between_batches_leaves_nothing_listed(
        zoo: Zoo, models: tuple[Path, Path], tmp_path: Path) -> None:
    refs = _published(zoo, models)
    target = tmp_path / "fresh"
    _repoint(zoo, target)
    # A real `zoo push` process, its batches one version each and slow enough to be killed
    # after the first batch's claims are on the remote and before the move is written.
    code = ("import sys, time; from zoo_repo.ops import project; project.BATCH = 1; "
            "claim = project._claim_all\n"
            "def slow(*a):\n    claim(*a); time.sleep(2)\n"
            "project._claim_all = slow\n"
            "import runpy; sys.argv = ['zoo', 'push']; runpy.run_module('zoo_repo', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=zoo.root, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list((target / meta.PREFIX / "manifests").rglob("manifest.yaml")):
        assert proc.poll() is None and time.monotonic() < deadline, "the push ended before it claimed anything"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    remote = open_remote(str(target))
    assert meta.read_head(remote).seq == 0  # no move: the claims made are no listing
    assert _seen(target, tmp_path / "c1") == {}
    done = Zoo.open(zoo.root).push()  # the next run finishes the job, its claims found made
    assert done.projection is not None and sorted(done.projection.added) == sorted(refs)
    assert sum(len(v) for v in _seen(target, tmp_path / "c2").values()) == len(refs)
