"""The core loop: publish, pull from a fresh clone, byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import STUB, clone, remote_objects, tree_bytes
from zoo_repo import DestinationConflict, IntegrityError, NotFound, Zoo
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.store.objects import oid_relpath


def test_publish_then_pull_from_a_fresh_clone_is_byte_identical(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    result = zoo.publish(model_dir, STUB, message="first cut")
    assert result.created and result.manifest.version == 1
    assert result.commit

    theirs = clone(zoo, tmp_path / "clone")
    assert not list(theirs.store.oids())  # a fresh clone has no objects
    pulled = theirs.pull(STUB + "@v1", dest=tmp_path / "out")

    got = tree_bytes(tmp_path / "out")
    original = tree_bytes(model_dir)
    archive = got.pop("model.onnx.tar.gz")  # created by publish
    assert got == original
    assert archive[:2] == b"\x1f\x8b"
    assert pulled.fetched_objects == len({f.md5 for f in pulled.files})  # once per distinct content
    roles = {f.path: f.role for f in pulled.manifest.files}
    assert roles["model.onnx"] == "onnx" and roles["model.onnx.tar.gz"] == "archive"
    assert roles["numpy/model.npy"] == "framework" and roles["recipes/original.md"] == "recipes"
    assert roles["sample-inputs/inp-0000.npy"] == "sample-inputs"


def test_version_directory_is_reviewable_text(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    vdir = zoo.version_dir(zoo.resolve(STUB).stub, 1)
    assert sorted(p.name for p in vdir.iterdir()) == ["manifest.yaml", "model.dvc", "model.md"]
    assert (vdir / "model.md").read_bytes() == (model_dir / "model.md").read_bytes()
    tracked = subprocess.run(["git", "-C", str(zoo.root), "ls-files"], capture_output=True, text=True).stdout
    assert f"manifests/{STUB}/v1/manifest.yaml" in tracked
    log = subprocess.run(["git", "-C", str(zoo.root), "log", "-1", "--format=%s%n%an"],
                         capture_output=True, text=True).stdout
    assert log.startswith(f"Publish {STUB}@v1 (") and "Test Publisher" in log
    text = (vdir / "manifest.yaml").read_text()
    assert "publisher: Test Publisher <publisher@example.com>" in text


def test_identical_republish_is_a_no_op(zoo: Zoo, model_dir: Path, remote_dir: Path) -> None:
    first = zoo.publish(model_dir, STUB)
    head = subprocess.run(["git", "-C", str(zoo.root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    before = remote_objects(remote_dir)
    again = zoo.publish(model_dir, STUB)
    assert not again.created
    assert again.manifest.version == first.manifest.version == 1
    assert zoo.versions(STUB) == [1]
    assert remote_objects(remote_dir) == before
    assert subprocess.run(["git", "-C", str(zoo.root), "rev-parse", "HEAD"],
                          capture_output=True, text=True).stdout == head


def test_changing_one_sample_stores_and_pushes_one_object(zoo: Zoo, model_dir: Path, remote_dir: Path) -> None:
    v1 = zoo.publish(model_dir, STUB).manifest
    store_before, remote_before = set(zoo.store.oids()), remote_objects(remote_dir)
    (model_dir / "sample-labels" / "lab-0001.npy").write_bytes(b"changed label bytes")

    v2 = zoo.publish(model_dir, STUB)
    assert v2.created and v2.manifest.version == 2 and v2.manifest.parent == 1
    changed = {f.md5 for f in v2.manifest.files} - {f.md5 for f in v1.files}
    assert len(changed) == 1
    new_in_store = set(zoo.store.oids()) - store_before
    assert new_in_store == changed | {v2.manifest.tree_md5 + ".dir"}
    new_on_remote = remote_objects(remote_dir) - remote_before
    assert new_on_remote == {oid_relpath(o) for o in new_in_store}
    assert v2.uploaded_objects == 2
    assert v2.uploaded_bytes == len(b"changed label bytes") + zoo.store.path(
        v2.manifest.tree_md5 + ".dir").stat().st_size


def test_models_share_objects_across_stubs(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    card = (model_dir / "model.md").read_text().replace("sparse_name: base", "sparse_name: pruned").replace(
        "sparse_category: none", "sparse_category: moderate")
    (model_dir / "model.md").write_text(card)
    second = zoo.publish(model_dir, STUB_PRUNED)
    assert second.uploaded_objects == 2  # the new card and the new file list; everything else dedups


def test_unchanged_files_are_not_hashed_again(zoo: Zoo, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zoo.publish(model_dir, STUB)
    calls: list[str] = []
    original, add_data = type(zoo.store).writer, type(zoo.store).add_data

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("label", ""))
        return original(self, *args, **kwargs)

    def spy_data(self, data, *args, **kwargs):  # type: ignore[no-untyped-def]  # small files are stored from memory
        calls.append(f"{len(data)} bytes")
        return add_data(self, data, *args, **kwargs)

    monkeypatch.setattr(type(zoo.store), "writer", spy)
    monkeypatch.setattr(type(zoo.store), "add_data", spy_data)
    (model_dir / "recipes" / "original.md").write_text("---\nversion: 2\n---\n")
    zoo.publish(model_dir, STUB)
    assert calls == ["recipes/original.md"]


def test_pull_fetches_only_what_is_missing_and_is_idempotent(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    theirs = clone(zoo, tmp_path / "clone")
    first = theirs.pull(STUB, dest=tmp_path / "a", include=("onnx",))
    assert [f.path for f in first.files] == ["model.onnx"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["model.onnx"]
    assert first.fetched_objects == 1
    second = theirs.pull(STUB, dest=tmp_path / "b")
    assert second.fetched_objects == len({f.md5 for f in second.files}) - 1
    again = theirs.pull(STUB, dest=tmp_path / "b")
    assert again.fetched_objects == 0


@pytest.mark.parametrize("mode", ["copy", "symlink"])
def test_pulling_again_neither_rewrites_nor_rehashes(zoo: Zoo, model_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    import zoo_repo.ops.pull as pull_module

    zoo.publish(model_dir, STUB)
    zoo.pull(STUB, dest=tmp_path / "out-more", link=mode)  # a sibling whose name starts the same
    first = zoo.pull(STUB, dest=tmp_path / "out", link=mode)
    inodes = {f.path: os.lstat(first.dest / f.path).st_ino for f in first.files}
    hashed: list[str] = []
    monkeypatch.setattr(pull_module, "hash_file", lambda path: hashed.append(str(path)))
    again = zoo.pull(STUB, dest=tmp_path / "out", link=mode)
    assert hashed == [] and again.fetched_objects == 0
    assert {f.path: os.lstat(again.dest / f.path).st_ino for f in again.files} == inodes


def test_pull_default_destination_is_where_dvc_puts_it(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    result = zoo.pull(STUB)
    assert result.dest == zoo.version_dir(result.manifest.stub, 1) / "model"
    assert (result.dest / "model.onnx").read_bytes() == (model_dir / "model.onnx").read_bytes()
    status = subprocess.run(["git", "-C", str(zoo.root), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == ""  # materialised files are ignored by git


@pytest.mark.parametrize("mode", ["copy", "reflink", "hardlink", "symlink"])
def test_link_modes_give_the_same_bytes_and_protect_the_store(zoo: Zoo, model_dir: Path, tmp_path: Path,
                                                              mode: str) -> None:
    zoo.publish(model_dir, STUB)
    result = zoo.pull(STUB, dest=tmp_path / "out", link=mode)
    out = result.dest / "model.onnx"
    assert out.read_bytes() == (model_dir / "model.onnx").read_bytes()
    if mode in ("hardlink", "symlink"):
        assert out.stat().st_mode & 0o222 == 0  # read-only: shared with the store
    else:
        out.write_bytes(b"edited")  # a private copy: editing it leaves the store intact
        assert zoo.verify().ok


def test_pull_refuses_to_overwrite_different_bytes(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "model.onnx").write_bytes(b"my own work")
    with pytest.raises(DestinationConflict, match="model.onnx: exists with different content"):
        zoo.pull(STUB, dest=dest)
    assert (dest / "model.onnx").read_bytes() == b"my own work"
    assert sorted(p.name for p in dest.iterdir()) == ["model.onnx"]
    zoo.pull(STUB, dest=dest, force=True)
    assert (dest / "model.onnx").read_bytes() == (model_dir / "model.onnx").read_bytes()


def test_corrupt_object_on_the_remote_is_detected_and_nothing_corrupt_is_left(
    zoo: Zoo, model_dir: Path, remote_dir: Path, tmp_path: Path
) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    onnx = next(f for f in manifest.files if f.path == "model.onnx")
    target = remote_dir / oid_relpath(onnx.md5)
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))

    theirs = clone(zoo, tmp_path / "clone")
    with pytest.raises(IntegrityError) as info:
        theirs.pull(STUB, dest=tmp_path / "out")
    assert "model.onnx" in str(info.value) and "sha256 mismatch" in str(info.value)
    assert not theirs.store.has(onnx.md5)
    assert not (tmp_path / "out" / "model.onnx").exists()
    assert not theirs.store.temp_files()
    assert theirs.verify().ok


def test_missing_versions_and_stubs(zoo: Zoo, model_dir: Path) -> None:
    with pytest.raises(NotFound, match="is not published"):
        zoo.resolve(STUB)
    zoo.publish(model_dir, STUB)
    with pytest.raises(NotFound, match=r"@v7 does not exist; published versions: v1"):
        zoo.resolve(STUB + "@v7")


def test_list_filters_and_latest(zoo: Zoo, built_models: dict[str, Path], model_dir: Path) -> None:
    zoo.publish(built_models["base"], STUB)
    zoo.publish(built_models["pruned"], STUB_PRUNED)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"x")
    zoo.publish(model_dir, STUB)
    everything = zoo.list()
    assert [(str(m.stub), m.version) for m in everything] == [(STUB, 2), (STUB_PRUNED, 1)]
    assert [str(m.stub) for m in zoo.list(sparse_name="pruned")] == [STUB_PRUNED]
    assert zoo.list(dataset="imagenet") == []


def test_a_failing_commit_leaves_no_version_behind(zoo: Zoo, model_dir: Path) -> None:
    hook = zoo.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'policy: no commits today' >&2\nexit 1\n")
    hook.chmod(0o755)
    from zoo_repo import ToolError

    with pytest.raises(ToolError, match="policy: no commits today; .*@v1 was not published"):
        zoo.publish(model_dir, STUB)
    assert zoo.versions(STUB) == []
    status = subprocess.run(["git", "-C", str(zoo.root), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == ""
    hook.unlink()
    assert zoo.publish(model_dir, STUB).manifest.version == 1


def test_publish_on_a_branch_leaves_the_current_branch_untouched(cli, zoo: Zoo, model_dir: Path,  # type: ignore[no-untyped-def]
                                                                 remote_dir: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(zoo.root), *args], capture_output=True, text=True,
                              check=True).stdout.strip()

    zoo.publish(model_dir, STUB)
    head, branch_before = git("rev-parse", "HEAD"), git("branch", "--show-current")
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"relabelled")
    result = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--branch", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["branch"] == f"publish/{STUB}/v2" and data["version"] == "v2"
    assert git("rev-parse", "HEAD") == head and git("branch", "--show-current") == branch_before
    assert git("status", "--porcelain") == ""
    assert zoo.versions(STUB) == [1]  # not on this branch until merged
    files = git("show", "--name-only", "--format=%s", data["branch"]).splitlines()
    assert files[0].startswith(f"Publish {STUB}@v2 (")
    assert sorted(files[2:]) == [f"manifests/{STUB}/v2/{n}" for n in ("manifest.yaml", "model.dvc", "model.md")]
    # The objects are on the remote before the branch exists.
    oid = hashlib.md5(b"relabelled").hexdigest()
    assert (remote_dir / oid_relpath(oid)).is_file()
    git("merge", "-q", "--ff-only", data["branch"])
    assert zoo.versions(STUB) == [1, 2]
    assert zoo.verify().ok
    again = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--branch", f"publish/{STUB}/v2")
    assert again.exit_code == 0 and again.stdout.startswith("unchanged")
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"again")
    clash = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--branch", f"publish/{STUB}/v2")
    assert clash.exit_code == 2 and "already exists" in clash.stderr
