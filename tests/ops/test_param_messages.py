"""Library messages name API parameters (`name=`), never flags; the CLI shows
the flag instead, exactly as it always printed it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.core.manifest import ROLES
from zoo_repo.errors import CardError, NotAZooError, Offline, UsageError, ZooError
from zoo_repo.ops.demo import run_demo


def _no_flags(exc: ZooError) -> None:
    assert "--" not in exc.message and "--" not in (exc.hint or "").replace("`zoo init DIR --remote URL`", "")


@pytest.fixture
def published(zoo: Zoo, model_dir: Path) -> Zoo:
    zoo.publish(model_dir, STUB, run=False)
    return zoo


def test_pull_without_dest_from_a_url_gives_a_read_only_snapshot(published: Zoo, remote_dir: Path, tmp_path: Path,
                                                                  cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    pulled = Zoo.open(remote_dir.as_uri(), cache_dir=cache).pull(STUB)
    assert pulled.dest.is_relative_to(cache) and pulled.dest.parts[-2:] == ("base-none", "v1")
    onnx = pulled.dest / "model.onnx"
    assert onnx.read_bytes() == (published.root.parent / "model" / "model.onnx").read_bytes()
    assert not onnx.stat().st_mode & 0o222  # read-only: hard links to the cache's objects
    assert onnx.stat().st_nlink >= 2
    monkeypatch.setenv("ZOO_CACHE_DIR", str(cache))
    monkeypatch.chdir(tmp_path)
    result = cli("pull", STUB, "--remote", remote_dir.as_uri())
    assert result.exit_code == 0, result.stderr
    assert f"to {pulled.dest}:" in result.stdout and "fetched 0 objects" in result.stdout


def test_pull_selection_and_link(published: Zoo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    roles = ", ".join(ROLES)
    cases = [
        ({"include": ("weights",)}, "include",
         f"`include=` 'weights' is neither a role ({roles}) nor a glob that matches a file of {STUB}@v1"),
        ({"files": ("weights/*",)}, "files", f"`files=` 'weights/*' matches no file of {STUB}@v1"),
        ({"link": "junction"}, "link", "`link=` 'junction' is not one of copy, reflink, hardlink, symlink"),
    ]
    for kwargs, param, text in cases:
        with pytest.raises(UsageError) as info:
            published.pull(STUB, dest=tmp_path / "out", **kwargs)  # type: ignore[arg-type]
        assert (str(info.value), info.value.param) == (text, param)
        _no_flags(info.value)
    assert not (tmp_path / "out").exists()
    include = cli("--zoo", published.root, "pull", STUB, "--dest", tmp_path / "out", "--include", "weights")
    assert (include.exit_code, include.stderr) == (
        2, f"Error: --include 'weights' is neither a role ({roles}) nor a glob that matches a file of {STUB}@v1\n")
    files = cli("--zoo", published.root, "pull", STUB, "--dest", tmp_path / "out", "--files", "weights/*")
    assert (files.exit_code, files.stderr) == (2, f"Error: --files 'weights/*' matches no file of {STUB}@v1\n")


def test_publish_version(published: Zoo, model_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as info:
        published.publish(model_dir, STUB, version=3, run=False)
    assert (str(info.value), info.value.param) == (f"`version=` v3: the next version of {STUB} is v2", "version")
    (model_dir / "sample-labels" / "lab-0001.npy").write_bytes(b"other")
    with pytest.raises(UsageError) as clash:
        published.publish(model_dir, STUB, version=1, run=False)
    assert clash.value.hint == "publish without `version=` to make the next version"
    assert clash.value.param == "version"
    _no_flags(info.value)
    _no_flags(clash.value)
    skip = cli("--zoo", published.root, "publish", model_dir, "--stub", STUB, "--version", "v3", "--no-run")
    assert (skip.exit_code, skip.stderr) == (2, f"Error: --version v3: the next version of {STUB} is v2\n")
    again = cli("--zoo", published.root, "publish", model_dir, "--stub", STUB, "--version", "v1", "--no-run")
    assert (again.exit_code, again.stderr) == (2, (
        f"Error: {STUB}@v1 is already published with different content; versions are immutable\n"
        "Hint: publish without --version to make the next version\n"))


def test_publish_branch(zoo: Zoo, model_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as info:
        zoo.publish(model_dir, STUB, branch="bad..name", run=False)
    assert (str(info.value), info.value.param) == ("`branch=` 'bad..name' is not a valid git branch name", "branch")
    _no_flags(info.value)
    bad = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--branch", "bad..name", "--no-run")
    assert (bad.exit_code, bad.stderr) == (2, "Error: --branch 'bad..name' is not a valid git branch name\n")
    subprocess.run(["git", "-C", str(zoo.root), "branch", "review"], check=True)
    with pytest.raises(UsageError) as taken:
        zoo.publish(model_dir, STUB, branch="review", run=False)
    assert (taken.value.hint, taken.value.param) == ("pass another name with `branch=` NAME", "branch")
    exists = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--branch", "review", "--no-run")
    assert (exists.exit_code, exists.stderr) == (
        2, "Error: branch 'review' already exists\nHint: pass another name with --branch NAME\n")


def test_card_that_disagrees_with_the_stub(zoo: Zoo, model_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    card = model_dir / "model.md"
    card.write_text(card.read_text().replace("dataset: synthetic_digits", "dataset: imagenet"))
    with pytest.raises(CardError) as info:
        zoo.publish(model_dir, STUB)
    expected = f"model.md: dataset is 'imagenet' in the card but 'synthetic_digits' in `stub=` {STUB}"
    assert (str(info.value), info.value.param) == (expected, "stub")
    result = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB)
    assert (result.exit_code, result.stderr) == (
        2, f"Error: model.md: dataset is 'imagenet' in the card but 'synthetic_digits' in --stub {STUB}\n")


def test_not_a_zoo(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotAZooError) as info:
        Zoo.open(empty)
    assert info.value.hint == "create one with `zoo init DIR --remote URL`, or pass `zoo=` DIR"
    assert info.value.param == "zoo"
    _no_flags(info.value)
    result = cli("--zoo", empty, "list")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == ["Hint: create one with `zoo init DIR --remote URL`, or pass --zoo DIR"]


def test_offline(published: Zoo, remote_dir: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                 monkeypatch: pytest.MonkeyPatch) -> None:
    Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache").pull(STUB, dest=tmp_path / "a", include=("card",))
    with pytest.raises(Offline) as info:
        Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache", offline=True).pull(STUB, dest=tmp_path / "b")
    assert info.value.hint == "run once without `offline=` (or ZOO_OFFLINE=1) to download it"
    assert info.value.param == "offline"
    _no_flags(info.value)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    result = cli("--offline", "pull", STUB, "--remote", remote_dir.as_uri(), "--dest", tmp_path / "b")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {info.value.message}",
        "Hint: run once without --offline (or ZOO_OFFLINE=1) to download it",
    ]


def test_demo_workdir(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    taken = tmp_path / "taken"
    taken.mkdir()
    with pytest.raises(UsageError) as info:
        run_demo(taken)
    assert str(info.value) == f"{taken}: exists and was not made by `zoo demo`; choose another `workdir=`"
    assert info.value.param == "workdir"
    result = cli("demo", "--workdir", taken)
    assert (result.exit_code, result.stderr) == (
        2, f"Error: {taken}: exists and was not made by `zoo demo`; choose another --workdir\n")


def test_init_without_remote(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as info:
        Zoo.init(tmp_path / "z", remote="")
    assert (str(info.value), info.value.param) == ("remote is required: a directory path or fsspec URL", "remote")
    result = cli("init", tmp_path / "z", "--remote", "")
    assert (result.exit_code, result.stderr) == (2, "Error: remote is required: a directory path or fsspec URL\n")
