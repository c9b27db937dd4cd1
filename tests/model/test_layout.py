"""What publish refuses, and that a refusal writes nothing anywhere."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import STUB, remote_objects
from zoo_repo import CardError, ModelDirError, StubError, UsageError, Zoo


def _snapshot(zoo: Zoo, remote: Path) -> tuple[set[str], set[str], str]:
    # .zoo/ (caches, the publish's private snapshot) and the store's lock file are
    # working state, not content: a refused publish may leave them, nothing else.
    files = {p.relative_to(zoo.root).as_posix() for p in zoo.root.rglob("*") if ".git/" not in p.as_posix()
             and not p.relative_to(zoo.root).as_posix().startswith(".zoo") and p.name != ".zoo.lock"}
    head = subprocess.run(["git", "-C", str(zoo.root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    return files, remote_objects(remote) if remote.exists() else set(), head


def _break(model_dir: Path, how: str) -> None:
    if how == "no card":
        (model_dir / "model.md").unlink()
    elif how == "no onnx":
        (model_dir / "model.onnx").unlink()
    elif how == "bad onnx":
        (model_dir / "model.onnx").write_bytes(b"this is not a protobuf")
    elif how == "truncated onnx":
        data = (model_dir / "model.onnx").read_bytes()
        (model_dir / "model.onnx").write_bytes(data[: len(data) // 3])
    elif how == "card disagrees":
        text = (model_dir / "model.md").read_text().replace("dataset: synthetic_digits", "dataset: imagenet")
        (model_dir / "model.md").write_text(text)
    elif how == "card not utf-8":
        (model_dir / "model.md").write_bytes(b"---\nlicense: \xff\n---\n")
    elif how == "symlink out":
        os.symlink("/etc/hostname", model_dir / "recipes" / "escape.md")
    elif how == "dir symlink out":
        os.symlink("/etc", model_dir / "sample-originals")
    elif how == "fifo":
        os.mkfifo(model_dir / "sample-inputs" / "pipe")
    elif how == "non-utf8 name":
        os.close(os.open(os.fsencode(model_dir / "sample-inputs") + b"/bad\xffname.npy", os.O_CREAT | os.O_WRONLY))
    elif how == "broken symlink":
        os.symlink(model_dir / "nowhere", model_dir / "dangling")
    else:  # pragma: no cover
        raise AssertionError(how)


@pytest.mark.parametrize(
    ("how", "error", "fragment"),
    [
        ("no card", ModelDirError, "has no model.md"),
        ("no onnx", ModelDirError, "has no model.onnx"),
        ("bad onnx", ModelDirError, "model.onnx: is not a valid ONNX model"),
        ("truncated onnx", ModelDirError, "model.onnx: is not a valid ONNX model"),
        ("card disagrees", CardError, "dataset is 'imagenet' in the card but 'synthetic_digits'"),
        ("card not utf-8", CardError, "model.md: is not UTF-8"),
        ("symlink out", ModelDirError, "recipes/escape.md: is a symlink to /etc/hostname, outside the model directory"),
        ("dir symlink out", ModelDirError, "sample-originals: is a symlink to /etc, outside"),
        ("fifo", ModelDirError, "sample-inputs/pipe: is a special file"),
        ("non-utf8 name", ModelDirError, "file name is not valid UTF-8"),
        ("broken symlink", ModelDirError, "dangling: is a broken symlink"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    zoo: Zoo, model_dir: Path, remote_dir: Path, how: str, error: type, fragment: str
) -> None:
    before = _snapshot(zoo, remote_dir)
    _break(model_dir, how)
    with pytest.raises(error) as info:
        zoo.publish(model_dir, STUB)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2
    assert _snapshot(zoo, remote_dir) == before
    assert list(zoo.store.oids()) == []


def test_symlinks_inside_the_directory_are_followed(zoo: Zoo, model_dir: Path) -> None:
    os.symlink("original.md", model_dir / "recipes" / "alias.md")
    manifest = zoo.publish(model_dir, STUB).manifest
    entries = {f.path: f for f in manifest.files}
    assert entries["recipes/alias.md"].sha256 == entries["recipes/original.md"].sha256


def test_bad_stub_and_missing_directory(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(StubError):
        zoo.publish(model_dir, "cv/classification/mlp")
    with pytest.raises(UsageError, match="is not a directory"):
        zoo.publish(tmp_path / "missing", STUB)


def test_files_of_no_known_role_are_kept_as_other(zoo: Zoo, model_dir: Path) -> None:
    (model_dir / "notes.txt").write_text("hi")
    (model_dir / "pytorch").mkdir()
    (model_dir / "pytorch" / "model.pth").write_bytes(b"not this stub's framework")
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("img-0000.jpg")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"jpg"))
    (model_dir / "sample-originals.tar.gz").write_bytes(buf.getvalue())
    roles = {f.path: f.role for f in zoo.publish(model_dir, STUB).manifest.files}
    assert roles["notes.txt"] == "other"
    assert roles["pytorch/model.pth"] == "other"  # the stub's framework is numpy
    assert roles["sample-originals.tar.gz"] == "sample-originals"


def test_a_folder_symlink_inside_the_directory_is_followed(zoo: Zoo, model_dir: Path) -> None:
    (model_dir / "data" / "deep").mkdir(parents=True)
    (model_dir / "data" / "deep" / "x.bin").write_bytes(b"x")
    os.symlink("data", model_dir / "alias")
    manifest = zoo.publish(model_dir, STUB).manifest
    entries = {f.path: f for f in manifest.files}
    assert entries["alias/deep/x.bin"].sha256 == entries["data/deep/x.bin"].sha256
