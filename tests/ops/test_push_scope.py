"""``zoo push`` asks the remote only about versions changed since the commit it lists."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.conftest import STUB, Result, remote_objects
from zoo_repo import Zoo
from zoo_repo.ops.demo import STUB_PRUNED as OTHER
from zoo_repo.store.objects import oid_relpath


def _git(zoo: Zoo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(zoo.root), *args], check=True, capture_output=True, text=True).stdout


def _drop(remote_dir: Path, oids: set[str]) -> None:
    for oid in oids:
        (remote_dir / oid_relpath(oid)).unlink()


def _objects(zoo: Zoo, stub: str, version: int) -> set[str]:
    m = zoo.manifest(stub, version)
    return {f.md5 for f in m.files} | {m.tree_md5 + ".dir"}


def test_a_listed_version_is_not_asked_about_again_unless_full(zoo: Zoo, model_dir: Path, remote_dir: Path,
                                                              cli: Callable[..., Result], monkeypatch) -> None:
    zoo.publish(model_dir, STUB)
    lost = {next(iter(_objects(zoo, STUB, 1)))}
    _drop(remote_dir, lost)  # lost on the remote after it listed v1

    assert zoo.push().objects == 0  # the listed commit vouches for v1: nothing asked, nothing sent
    assert not {oid_relpath(o) for o in lost} & {p.removeprefix("files/") for p in remote_objects(remote_dir)}

    monkeypatch.chdir(zoo.root)
    result = cli("push", "--full")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("uploaded 1 object (")
    assert (remote_dir / oid_relpath(next(iter(lost)))).is_file()


def test_versions_committed_or_left_in_the_working_tree_since_the_listed_commit_are_pushed(
        zoo: Zoo, model_dir: Path, built_models: dict[str, Path], remote_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    # On a branch: the remote keeps listing main's commit; the objects go up all the same.
    (model_dir / "notes.txt").write_text("v2 adds a file\n")
    zoo.publish(model_dir, STUB, branch="review", message="v2")
    zoo.publish(built_models["pruned"], OTHER, branch="review2", message="other")
    _git(zoo, "checkout", "-q", "review")
    v2 = _objects(zoo, STUB, 2) - _objects(zoo, STUB, 1)
    assert v2
    _drop(remote_dir, v2)

    assert zoo.push().objects == len(v2)  # committed since the listed commit
    assert all((remote_dir / oid_relpath(o)).is_file() for o in v2)

    # The other stub, in a directory git does not track, far above its stub (the first
    # commit had none of manifests/cv).
    _git(zoo, "checkout", "-q", "review2")
    other = _objects(zoo, OTHER, 1)
    _git(zoo, "reset", "-q", "--mixed", _git(zoo, "rev-list", "--max-parents=0", "HEAD").strip())
    assert "?? manifests/cv/\n" in _git(zoo, "status", "--porcelain", "--untracked-files=normal")
    _drop(remote_dir, other - _objects(zoo, STUB, 1))
    assert zoo.push().objects == len(other - _objects(zoo, STUB, 1))
    assert all((remote_dir / oid_relpath(o)).is_file() for o in other)


def test_a_remote_listing_a_commit_this_checkout_lacks_is_asked_about_everything(
        zoo: Zoo, model_dir: Path, remote_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    listed = _git(zoo, "rev-parse", "HEAD").strip()
    lost = {next(iter(_objects(zoo, STUB, 1)))}
    _drop(remote_dir, lost)
    # Another history (a branch of its own, main gone): the remote's commit is unknown here.
    _git(zoo, "checkout", "-q", "--orphan", "elsewhere")
    _git(zoo, "commit", "-q", "-m", "same files, another history")
    _git(zoo, "branch", "-q", "-D", "main")
    _git(zoo, "reflog", "expire", "--expire=now", "--all")
    _git(zoo, "gc", "-q", "--prune=now")
    assert subprocess.run(["git", "-C", str(zoo.root), "cat-file", "-e", listed]).returncode != 0
    result = zoo.push(jobs=2)
    assert result.objects == 1 and result.projection is None  # not the release branch: no listing moved
    assert (remote_dir / oid_relpath(next(iter(lost)))).is_file()


def test_an_object_in_neither_store_nor_remote_is_named_by_its_file(zoo: Zoo, model_dir: Path, remote_dir: Path,
                                                                   cli: Callable[..., Result], monkeypatch) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    card = next(f for f in manifest.files if f.path == "model.md")
    _drop(remote_dir, {card.md5})
    zoo.store.path(card.md5).chmod(0o644)
    zoo.store.path(card.md5).unlink()
    result = zoo.push(full=True)
    assert result.missing == (f"{STUB}@v1:model.md",)
    monkeypatch.chdir(zoo.root)
    shown = cli("push", "--full")
    assert shown.exit_code == 1
    assert f"Error: {STUB}@v1:model.md: in neither the store nor the remote" in shown.stderr
