"""``zoo init`` anywhere: its own repository on main, remotes stored as DVC reads them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STUB, clone, tree_bytes
from zoo_repo import UsageError, Zoo


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def dvc_pull_gets_every_file(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    theirs = clone(zoo, tmp_path / "clone")
    proc = subprocess.run([sys.executable, "-m", "dvc", "pull"], cwd=theirs.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    got = tree_bytes(theirs.version_dir(manifest.stub, 1) / "model")
    assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == {f.path: f.sha256 for f in manifest.files}


def test_init_inside_another_repository_makes_its_own(tmp_path: Path, model_dir: Path, cli,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    outer = tmp_path / "project"
    outer.mkdir()
    git(outer, "init", "-q", "--initial-branch=trunk")
    (outer / "README").write_text("outer\n")
    git(outer, "add", "README")
    git(outer, "commit", "-q", "-m", "outer")
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'init.defaultBranch=master'")  # git's own default elsewhere
    result = cli("init", outer / "sub" / "zoo", "--remote", tmp_path / "remote")
    assert result.exit_code == 0, result.stderr
    monkeypatch.delenv("GIT_CONFIG_PARAMETERS")
    root = outer / "sub" / "zoo"
    assert Path(git(root, "rev-parse", "--show-toplevel").strip()) == root
    assert git(root, "branch", "--show-current").strip() == "main"  # what README and the examples say
    assert git(outer, "log", "--format=%s").split("\n")[0] == "outer"  # the outer repository is untouched
    dvc_pull_gets_every_file(Zoo.open(root), model_dir, tmp_path)


def test_init_names_another_first_branch(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init", tmp_path / "zoo", "--remote", tmp_path / "r", "--initial-branch", "trunk").exit_code == 0
    assert git(tmp_path / "zoo", "branch", "--show-current").strip() == "trunk"


def test_init_at_the_top_of_a_repository_keeps_its_history(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    root.mkdir()
    git(root, "init", "-q", "--initial-branch=dev")
    (root / "notes.txt").write_text("mine\n")
    git(root, "add", "notes.txt")
    git(root, "commit", "-q", "-m", "mine")
    Zoo.init(root, remote=str(tmp_path / "remote"))
    assert git(root, "log", "--format=%s").split() == ["Create", "zoo", "mine"]
    assert git(root, "branch", "--show-current").strip() == "dev"


def test_a_file_url_remote_is_stored_as_the_path_dvc_reads(tmp_path: Path, model_dir: Path) -> None:
    remote = tmp_path / "remote dir"  # a space: the URL is percent-encoded
    zoo = Zoo.init(tmp_path / "zoo", remote=remote.as_uri())
    config = (zoo.root / ".dvc" / "config").read_text()
    assert f"url = {remote}\n" in config and "file:" not in config
    dvc_pull_gets_every_file(zoo, model_dir, tmp_path)
    theirs = Zoo.open(tmp_path / "clone")
    pulled = theirs.pull(STUB, dest=tmp_path / "out")  # and zoo's own pulls read it too
    assert (pulled.dest / "model.onnx").is_file()


def test_a_file_url_naming_another_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="file:// URL must name a local path"):
        Zoo.init(tmp_path / "zoo", remote="file://server/share/zoo")
    assert not (tmp_path / "zoo" / "zoo.yaml").exists()
