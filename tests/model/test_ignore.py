""".zooignore and the default ignores: junk never reaches an immutable version."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import ModelDirError, Zoo
from zoo_repo.model import ignore


def _published_paths(zoo: Zoo, model_dir: Path) -> tuple[set[str], tuple[str, ...]]:
    result = zoo.publish(model_dir, STUB)
    return {f.path for f in result.manifest.files}, result.ignored


def _nothing_written(zoo: Zoo) -> bool:
    return list(zoo.store.oids()) == [] and zoo.versions(STUB) == []


def test_the_defaults_are_ignored(zoo: Zoo, model_dir: Path) -> None:
    junk = [".DS_Store", "Thumbs.db", ".ipynb_checkpoints/train-checkpoint.ipynb",
            "numpy/__pycache__/load.cpython-312.pyc", "numpy/helper.pyc", "numpy/.DS_Store"]
    for rel in junk:
        (model_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (model_dir / rel).write_bytes(b"junk")
    paths, ignored = _published_paths(zoo, model_dir)
    assert not paths & set(junk)
    assert "model.onnx" in paths and "numpy/model.npy" in paths
    assert sorted(ignored) == sorted([".DS_Store", "Thumbs.db", ".ipynb_checkpoints/", "numpy/__pycache__/",
                                      "numpy/helper.pyc", "numpy/.DS_Store"])


def test_zooignore_patterns_negation_and_folders(zoo: Zoo, model_dir: Path) -> None:
    (model_dir / ".zooignore").write_text("# scratch work\n*.txt\n!keep.txt\nscratch/\n/numpy/big.npy\n")
    for rel in ("notes.txt", "keep.txt", "scratch/a.bin", "numpy/scratch/b.bin", "numpy/big.npy", "big.npy"):
        (model_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (model_dir / rel).write_bytes(b"x")
    paths, ignored = _published_paths(zoo, model_dir)
    assert {"keep.txt", "big.npy"} <= paths
    assert not paths & {"notes.txt", "scratch/a.bin", "numpy/scratch/b.bin", "numpy/big.npy", ".zooignore"}
    assert sorted(ignored) == ["notes.txt", "numpy/big.npy", "numpy/scratch/", "scratch/"]


def test_an_ignored_special_file_is_not_refused(zoo: Zoo, model_dir: Path) -> None:
    (model_dir / ".zooignore").write_text("pipe\n")
    os.mkfifo(model_dir / "pipe")  # never opened: ignored before it is looked at
    paths, ignored = _published_paths(zoo, model_dir)
    assert "pipe" not in paths and ignored == ("pipe",)


@pytest.mark.parametrize(("pattern", "required"), [("*.onnx", "model.onnx"), ("model.md", "model.md"),
                                                   ("*\n!*.onnx", "model.md")])
def test_ignoring_a_required_file_is_refused(zoo: Zoo, model_dir: Path, pattern: str, required: str) -> None:
    (model_dir / ".zooignore").write_text(pattern + "\n")
    with pytest.raises(ModelDirError) as info:
        zoo.publish(model_dir, STUB)
    assert str(info.value).startswith(f".zooignore: ignores {required}, which every model needs")
    assert "\n" not in str(info.value)
    assert _nothing_written(zoo)


def _huge(path: Path) -> None:
    path.write_text("*.tmp\n" * (ignore.MAX_BYTES // 6 + 1))


def _many(path: Path) -> None:
    path.write_text("".join(f"f{i}\n" for i in range(ignore.MAX_PATTERNS + 1)))


def _binary(path: Path) -> None:
    path.write_bytes(b"\x00\xff\xfe*.bin\n")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _symlink(path: Path) -> None:
    (path.parent.parent / "rules").write_text("*.txt\n")
    path.symlink_to(path.parent.parent / "rules")


@pytest.mark.parametrize(("make", "fragment"), [
    (_huge, "is larger than 64 KiB"),
    (_many, "has more than 1000 patterns"),
    (_binary, "is not UTF-8 text"),
    (_fifo, "is not a regular file"),
    (_symlink, "cannot be read"),
], ids=["huge", "many patterns", "binary", "fifo", "symlink"])
def test_a_hostile_zooignore_is_refused_in_one_line(zoo: Zoo, model_dir: Path, make, fragment: str) -> None:  # type: ignore[no-untyped-def]
    make(model_dir / ".zooignore")
    with pytest.raises(ModelDirError) as info:
        zoo.publish(model_dir, STUB)
    assert str(info.value).startswith(".zooignore: ") and fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert _nothing_written(zoo)


def test_publish_shows_what_it_ignored(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    (model_dir / ".DS_Store").write_bytes(b"junk")
    out = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["ignored"] == [".DS_Store"]
    (model_dir / "extra.txt").write_text("new content, a new version\n")
    line = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB).stdout
    assert "; ignored 1 path (.DS_Store)" in line


def test_ignoring_external_data_is_refused_naming_it(zoo: Zoo, model_dir: Path) -> None:
    import onnx

    model = onnx.load(str(model_dir / "model.onnx"))
    (model_dir / "weights").mkdir()
    onnx.save_model(model, str(model_dir / "model.onnx"), save_as_external_data=True,
                    location="weights/model.bin", size_threshold=0)
    (model_dir / ".zooignore").write_text("weights/\n")
    with pytest.raises(ModelDirError, match=r"^weights/model.bin: is external data of model.onnx but "
                                            r"\.zooignore \(or a default\) ignores it"):
        zoo.publish(model_dir, STUB)
    assert _nothing_written(zoo)
