"""Shared fixtures: a hermetic environment, model directories, zoos, the CLI."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo_repo import Zoo
from zoo_repo.cli import main
from zoo_repo.ops.demo import STUB_BASE, STUB_PRUNED, build_model_dir

STUB = STUB_BASE


def hermetic_env(home: Path) -> dict[str, str]:
    """The environment of a user whose home is ``home`` (made, with a git identity):
    nothing of the real user's config, caches or git identity is read or written."""
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = Test Publisher\n\temail = publisher@example.com\n"
                         "[init]\n\tdefaultBranch = main\n")
    return {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1",
            "XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / "config"),
            "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(home / "dvc-site"),
            "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"), "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system")}


@contextlib.contextmanager
def hermetic_home(home: Path) -> Iterator[None]:
    """``hermetic_env`` for a block: for fixtures wider than one test (module-scoped)."""
    with pytest.MonkeyPatch.context() as mp:
        for var, value in hermetic_env(home).items():
            mp.setenv(var, value)
        yield


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's config, caches or git identity."""
    for var, value in hermetic_env(tmp_path_factory.mktemp("home")).items():
        monkeypatch.setenv(var, value)
    for var in ("ZOO_DIR", "ZOO_DEBUG", "GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def built_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two real ONNX model directories, built once per session (deterministic)."""
    base = tmp_path_factory.mktemp("built")
    return {
        "base": build_model_dir(base / "base", STUB_BASE).path,
        "pruned": build_model_dir(base / "pruned", STUB_PRUNED, sparsity=0.5).path,
    }


@pytest.fixture
def model_dir(built_models: dict[str, Path], tmp_path: Path) -> Path:
    """A private, editable copy of the base model directory."""
    dest = tmp_path / "model"
    shutil.copytree(built_models["base"], dest)
    return dest


@pytest.fixture
def remote_dir(tmp_path: Path) -> Path:
    return tmp_path / "remote"


@pytest.fixture
def zoo(tmp_path: Path, remote_dir: Path) -> Zoo:
    return Zoo.init(tmp_path / "zoo", remote=str(remote_dir))


def clone(zoo: Zoo, dest: Path) -> Zoo:
    subprocess.run(["git", "clone", "-q", str(zoo.root), str(dest)], check=True)
    return Zoo.open(dest)


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path: to compare trees byte for byte."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def remote_objects(remote: Path) -> set[str]:
    """The content-addressed objects on a directory remote (not its manifests or index)."""
    return {"files/" + p.relative_to(remote / "files").as_posix()
            for p in (remote / "files").rglob("*") if p.is_file()} \
        if (remote / "files").exists() else set()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run ``zoo ARGS`` in-process and return exit code, stdout and stderr."""

    def run(*args: str | os.PathLike[str]) -> Result:
        runner = CliRunner()
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


def run_zoo(*args: str | os.PathLike[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``zoo`` process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "zoo_repo", *[str(a) for a in args]],
        capture_output=True, text=True, cwd=cwd,
    )


def old_form(remote: str | os.PathLike[str], options: dict[str, str] | None = None) -> None:
    """Turn a remote into the form zoo wrote before its index had shards: the whole
    view in ``zoo/index.json`` and no ``zoo/index/``. Zoo still reads that form,
    and it is where a test crafts a listing in one file."""
    import dataclasses

    from zoo_repo.core.projection import render_view
    from zoo_repo.remote import index, open_remote

    there = open_remote(str(remote), options)
    view = index.read_state(there).view
    there.put_text(index.INDEX, render_view(dataclasses.replace(view, shards=None)))
    for rel in there.find(index.SHARDS):
        there.delete(rel)
