"""Hostile names and secrets: what a reader refuses, publish refuses first.

Each publish case: exit 2, one `Error:` line naming the path and the rule, and
nothing written to the store, the manifests, the remote or git. Each manifest
case (a hostile pull request): list, show and pull refuse the stub with one
`Error:` line, `zoo check` reports it, and the zoo's other stub still works.
Each secret case: the secret appears in no output, no file and no commit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, hermetic_home
from zoo_repo import Zoo
from zoo_repo.core import yamltext
from zoo_repo.ops.demo import STUB_BASE, STUB_PRUNED

GOOD, OTHER = STUB_BASE, STUB_PRUNED
Cli = Callable[..., Result]


@pytest.fixture(scope="module")
def published(built_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A zoo with two stubs, made once; each test works on its own copy."""
    base = tmp_path_factory.mktemp("names")
    with hermetic_home(base / "home"):
        zoo = Zoo.init(base / "zoo", remote=str(base / "remote"))
        zoo.publish(built_models["base"], GOOD)
        zoo.publish(built_models["pruned"], OTHER)
    return base / "zoo", base / "remote"


@dataclass
class World:
    zoo: Path
    remote: Path
    model: Path
    tmp: Path

    def manifest(self) -> Path:
        return self.zoo / "manifests" / GOOD / "v1" / "manifest.yaml"


@pytest.fixture
def world(published: tuple[Path, Path], built_models: dict[str, Path], tmp_path: Path) -> World:
    zoo_src, remote_src = published
    shutil.copytree(remote_src, tmp_path / "remote", symlinks=True)
    shutil.copytree(zoo_src, tmp_path / "zoo", symlinks=True)
    config = tmp_path / "zoo" / ".dvc" / "config"
    config.write_text(config.read_text().replace(str(remote_src.resolve()), str((tmp_path / "remote").resolve())))
    shutil.copytree(built_models["base"], tmp_path / "model")
    return World(tmp_path / "zoo", tmp_path / "remote", tmp_path / "model", tmp_path)


def _state(w: World) -> tuple[object, ...]:
    """What a refused command must leave as it was: store objects, remote, manifests, git."""
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and "tmp" not in p.parts and p.name != ".zoo.lock"}

    head = subprocess.run(["git", "-C", str(w.zoo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    return files(w.zoo / "store"), files(w.remote), files(w.zoo / "manifests"), head


def _one_error(result: Result, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Hint: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


# -- publish refuses each bad name, with the path and the rule --------------------------------

def _touch(*names: str) -> Callable[[World], Path]:
    def make(w: World) -> Path:
        for name in names:
            path = w.model / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(name.encode("utf-8", "surrogateescape"))
        return w.model
    return make


def _deep(w: World) -> Path:
    """A file 18 folders of 250 bytes deep (4,500 bytes): made relative to folder descriptors."""
    fd = os.open(w.model, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(18):
        os.mkdir("d" * 250, dir_fd=fd)
        sub = os.open("d" * 250, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = sub
    os.close(os.open("f.bin", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)
    return w.model


def _huge_manifest(w: World) -> Path:
    """5,000 files with 4,000-byte paths: a 20 MB manifest, over what readers accept."""
    fd = os.open(w.model, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(15):
        os.mkdir("d" * 250, dir_fd=fd)
        sub = os.open("d" * 250, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = sub
    for i in range(5000):
        os.close(os.open(f"{i:05d}".ljust(240, "f"), os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)
    return w.model


def _folder(name: str, inner: str = "config") -> Callable[[World], Path]:
    def make(w: World) -> Path:
        (w.model / name).mkdir(parents=True)
        (w.model / name / inner).write_text("[core]\n")
        return w.model
    return make


def _git_file(w: World) -> Path:
    (w.model / ".git").write_text("gitdir: /elsewhere/.git/worktrees/x\n")
    return w.model


PUBLISH_CASES: list[tuple[str, Callable[[World], Path], str]] = [
    ("backslash", _touch("sample-originals/a\\b.bin"), "'sample-originals/a\\\\b.bin': has a backslash"),
    ("drive prefix", _touch("C:foo"), "'C:foo': starts with a drive prefix"),
    ("newline", _touch("sample-originals/a\nb.bin"), "'sample-originals/a\\nb.bin': has a control character"),
    ("tab", _touch("sample-originals/a\tb.bin"), "'sample-originals/a\\tb.bin': has a control character"),
    ("escape", _touch("sample-originals/\x1b[31mred.bin"), "has a control character"),
    ("DEL", _touch("sample-originals/a\x7f.bin"), "'sample-originals/a\\x7f.bin': has a control character"),
    ("C1 control", _touch("sample-originals/a\x85.bin"), "'sample-originals/a\\x85.bin': has a control character"),
    ("too long in total", _deep, "is longer than 4,096 bytes"),
    ("NFC collision", _touch("sample-originals/caf\u00e9.bin", "sample-originals/cafe\u0301.bin"),
     "differ only in case or Unicode normalisation"),
    ("case collision", _touch("sample-originals/Image.bin", "sample-originals/image.bin"),
     "'sample-originals/image.bin': and 'sample-originals/Image.bin' differ only in case"),
    ("casefold collision", _touch("sample-originals/STRASSE.bin", "sample-originals/stra\u00dfe.bin"),
     "differ only in case or Unicode normalisation"),
    ("file is a folder when folded", _touch("sample-originals/A", "sample-originals/a/b.bin"),
     "'sample-originals/a/b.bin': is inside 'sample-originals/A', which is also a file"),
    (".git folder", _folder(".git"), ".git: is a git repository or worktree"),
    (".git file", _git_file, ".git: is a git repository or worktree"),
    (".dvc folder", _folder(".dvc"), ".dvc: is a DVC project folder"),
    (".dvc/config.local", _folder(".dvc", "config.local"), ".dvc/config.local: holds DVC credentials"),
    ("nested .git", _folder("pytorch/.git"), "pytorch/.git: is a git repository"),
    ("manifest over the limit", _huge_manifest, "files: their manifest would be about 19 MiB; readers accept at "
                                                "most 16 MiB"),
    ("the zoo itself", lambda w: w.zoo, "contains the zoo itself"),
    ("a folder holding the zoo", lambda w: w.tmp, "contains the zoo itself"),
]


@pytest.mark.parametrize(("name", "make", "fragment"), PUBLISH_CASES, ids=[c[0] for c in PUBLISH_CASES])
def test_publish_refuses_a_bad_name_first(cli: Cli, world: World, name: str, make: Callable[[World], Path],
                                          fragment: str) -> None:
    before = _state(world)
    model = make(world)
    line = _one_error(cli("--zoo", world.zoo, "publish", model, "--stub", GOOD))
    assert fragment in line, line
    assert _state(world) == before


# -- the same names in a hostile manifest: every reader refuses the stub, not the zoo -----------

def _edit(change: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, Any]], None]:
    def run(doc: dict[str, Any]) -> None:
        change(doc["files"])
        doc["nfiles"], doc["size"] = len(doc["files"]), sum(f["size"] for f in doc["files"])
    return run


def _rename(path: str) -> Callable[[dict[str, Any]], None]:
    def change(files: list[dict[str, Any]]) -> None:
        next(f for f in files if f["path"] == "sample-labels/lab-0000.npy")["path"] = path
    return _edit(change)


def _add(path: str, like: str = "sample-labels/lab-0001.npy", **fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(files: list[dict[str, Any]]) -> None:
        files.append({**next(f for f in files if f["path"] == like), "path": path, **fields})
    return _edit(change)


def _digests(path: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(files: list[dict[str, Any]]) -> None:
        next(f for f in files if f["path"] == path).update(fields)
    return _edit(change)


def _same_as(field: str, source: str, target: str) -> Callable[[dict[str, Any]], None]:
    """``target``'s entry gets ``source``'s ``field`` (and only that)."""
    def change(files: list[dict[str, Any]]) -> None:
        by_path = {f["path"]: f for f in files}
        by_path[target][field] = by_path[source][field]
    return _edit(change)


MANIFEST_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("backslash", _rename("sample-labels\\lab.npy"), "has a backslash"),
    ("drive prefix", _rename("C:lab.npy"), "starts with a drive prefix"),
    ("NUL", _rename("lab\x00.npy"), "'lab\\x00.npy' has a control character"),
    ("newline", _rename("lab\n.npy"), "has a control character"),
    ("lone surrogate", _rename("lab\udcff.npy"), "invalid Unicode character"),  # YAML itself refuses it
    ("long component", _rename("x" * 256), "has a component of 256 bytes; at most 255"),
    ("long path", _rename("/".join(["x" * 250] * 17)), "at most 4,096 are allowed"),
    ("empty component", _rename("sample-labels//lab.npy"), "has an empty, '.' or '..' component"),
    ("dot component", _rename("./lab.npy"), "has an empty, '.' or '..' component"),
    ("a and a/b", _add("model.onnx/inner.npy"), "'model.onnx/inner.npy' is inside 'model.onnx', which is also a file"),
    ("listed twice", _add("sample-labels/lab-0001.npy"), "'sample-labels/lab-0001.npy' is listed twice"),
    ("NFC pair", _edit(lambda files: files.extend([{**files[-1], "path": "sample-labels/caf\u00e9.npy"},
                                                   {**files[-1], "path": "sample-labels/cafe\u0301.npy"}])),
     "differ only in case or Unicode normalisation"),
    ("case pair", _add("SAMPLE-LABELS/LAB-0001.NPY"), "differ only in case or Unicode normalisation"),
    ("md5 with two sha256", _same_as("md5", "sample-labels/lab-0001.npy", "sample-labels/lab-0002.npy"),
     "have the same md5 but a different sha256"),
    ("md5 with two sizes", _add("sample-labels/x.npy", size=1), "have the same md5 but a different size"),
    ("sha256 with two md5", _same_as("sha256", "sample-labels/lab-0001.npy", "sample-labels/lab-0002.npy"),
     "have the same sha256 but a different md5"),
    ("oversized", _digests("model.md", pad="x" * (17 << 20)), "larger than 16777216 bytes"),
]


@pytest.mark.parametrize(("name", "change", "fragment"), MANIFEST_CASES, ids=[c[0] for c in MANIFEST_CASES])
def test_readers_refuse_a_hostile_manifest_and_keep_the_other_stubs(
        cli: Cli, world: World, name: str, change: Callable[[dict[str, Any]], None], fragment: str) -> None:
    doc = yamltext.load(world.manifest().read_text())
    change(doc)
    # JSON is YAML, and escapes what a name may hold (NUL, lone surrogates) the way YAML reads it back.
    world.manifest().write_text(json.dumps(doc))
    dest = world.tmp / "dest"
    for args in (["show", GOOD], ["pull", GOOD, "--dest", dest], ["list"]):
        line = _one_error(cli("--zoo", world.zoo, *args))
        assert "manifest.yaml" in line and fragment in line, (args, line)
    assert not dest.exists() or not any(dest.rglob("*"))
    checked = cli("--zoo", world.zoo, "check")
    assert checked.exit_code == 1 and fragment in checked.stdout and "Traceback" not in checked.stderr
    assert cli("--zoo", world.zoo, "show", OTHER).exit_code == 0
    pulled = cli("--zoo", world.zoo, "pull", OTHER, "--dest", world.tmp / "other")
    assert pulled.exit_code == 0, pulled.stderr
    assert (world.tmp / "other" / "model.onnx").is_file()


# -- secrets: never written, never shown ---------------------------------------------------------

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY"
URLS = [
    ("s3 key and secret", f"s3://AKIAEXAMPLE:{SECRET}@bucket/zoo"),
    ("https user and password", f"https://user:{SECRET}@models.example.com/zoo"),
    ("azure connection string", f"azure://zoo/models;AccountName=acct;AccountKey={SECRET}"),
    ("azure SAS", f"https://acct.blob.core.windows.net/zoo?sv=2022-11-02&sig={SECRET}"),
    ("s3 presigned", f"s3://bucket/zoo?X-Amz-Credential=AKIA&X-Amz-Signature={SECRET}"),
]


def _nowhere(root: Path, *outputs: str) -> None:
    for out in outputs:
        assert SECRET not in out, out
    if root.exists():
        for p in root.rglob("*"):
            if p.is_file():
                assert SECRET.encode() not in p.read_bytes(), p
        if (root / ".git").exists():
            log = subprocess.run(["git", "-C", str(root), "log", "-p", "--all"], capture_output=True, text=True)
            assert SECRET not in log.stdout


@pytest.mark.parametrize(("name", "url"), URLS, ids=[u[0] for u in URLS])
def test_init_refuses_a_url_with_credentials_and_never_shows_them(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, url: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("init", tmp_path / "z", "--remote", url)
    line = _one_error(result)
    assert "carries credentials" in line and "***" in line
    _nowhere(tmp_path, result.stdout, result.stderr)


@pytest.mark.parametrize("command", ["list", "show", "pull"])
def test_reading_by_a_url_with_credentials_is_refused(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      command: str) -> None:
    monkeypatch.chdir(tmp_path)
    choices: dict[str, list[str | Path]] = {"list": [], "show": [GOOD], "pull": [GOOD, "--dest", tmp_path / "d"]}
    args = choices[command]
    result = cli(command, *args, "--remote", URLS[0][1])
    assert "carries credentials" in _one_error(result)
    _nowhere(tmp_path, result.stdout, result.stderr)


def test_a_url_option_with_credentials_is_refused(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("init", tmp_path / "z", "--remote", "s3://bucket/zoo", "-o", f"endpointurl=https://u:{SECRET}@h")
    assert "carries credentials" in _one_error(result)
    _nowhere(tmp_path, result.stdout, result.stderr)


def test_a_configured_url_with_credentials_is_not_used_or_shown(cli: Cli, world: World) -> None:
    config = world.zoo / ".dvc" / "config"
    text = config.read_text()
    start = text.index("url = ") + len("url = ")
    config.write_text(text[:start] + f"https://u:{SECRET}@h/zoo" + text[text.index("\n", start):])
    result = cli("--zoo", world.zoo, "publish", world.model, "--stub", GOOD)
    assert "carries credentials" in _one_error(result)
    assert SECRET not in result.stdout + result.stderr


def test_every_secret_option_goes_to_config_local_only(cli: Cli, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo_repo.repo.dvc import SECRET_OPTIONS

    monkeypatch.chdir(tmp_path)
    options = [f"{key}={SECRET}-{key}" for key in sorted(SECRET_OPTIONS)]
    result = cli("init", tmp_path / "z", "--remote", tmp_path / "remote",
                 *[arg for opt in options for arg in ("-o", opt)], "-o", "region=eu-west-1")
    assert result.exit_code == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    tracked = (tmp_path / "z" / ".dvc" / "config").read_text()
    local = (tmp_path / "z" / ".dvc" / "config.local").read_text()
    assert SECRET not in tracked and "region = eu-west-1" in tracked
    assert all(f"{key} = {SECRET}-{key}" in local for key in SECRET_OPTIONS)
    log = subprocess.run(["git", "-C", str(tmp_path / "z"), "log", "-p", "--all"], capture_output=True, text=True)
    assert SECRET not in log.stdout
    ignored = subprocess.run(["git", "-C", str(tmp_path / "z"), "check-ignore", ".dvc/config.local"],
                             capture_output=True, text=True)
    assert ignored.returncode == 0  # git will not pick it up with `git add -A` either
