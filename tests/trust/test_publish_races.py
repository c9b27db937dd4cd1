"""Publish works on a snapshot: what is stored is what was validated, and a
file swapped for a link that leaves the model is refused, never read, however
late the swap. The swaps happen from the progress object publish reports to
(the public seam), at each step, so every race is run deterministically."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.core.progress import Progress
from zoo_repo.errors import ModelDirError


class SwapAt(Progress):
    """Runs ``swap`` once, when publish starts the step (or the file) named ``when``."""

    def __init__(self, when: str, swap: Callable[[], None]) -> None:
        super().__init__()
        self.when, self.swap, self.done = when, swap, False

    def _maybe(self, name: str) -> None:
        if not self.done and name.startswith(self.when):
            self.done = True
            self.swap()

    def start(self, what: str, files: int, nbytes: int) -> None:
        super().start(what, files, nbytes)
        self._maybe(what)

    def at(self, item: str) -> None:
        super().at(item)
        self._maybe(item)


def _stored(zoo: Zoo) -> list[bytes]:
    return [zoo.store.path(oid).read_bytes() for oid in zoo.store.oids()]


@pytest.mark.parametrize("when", ["checking model.onnx", "running", "hashing", "model.onnx"])
def test_a_model_onnx_replaced_during_publish_is_not_what_gets_published(
        zoo: Zoo, model_dir: Path, built_models: dict[str, Path], tmp_path: Path, when: str) -> None:
    onnx = model_dir / "model.onnx"
    validated = onnx.read_bytes()
    other = (built_models["pruned"] / "model.onnx").read_bytes()
    assert other != validated

    def swap() -> None:
        replacement = tmp_path / "other.onnx"
        replacement.write_bytes(other)
        os.replace(replacement, onnx)

    progress = SwapAt(when, swap)
    if when == "model.onnx":  # swapped just before its copy is made: the copy is validated, and refused
        with pytest.raises(ModelDirError, match="differs from what model.onnx gives"):
            zoo.publish(model_dir, STUB, progress=progress)
        assert zoo.versions(STUB) == []
        return
    manifest = zoo.publish(model_dir, STUB, progress=progress).manifest
    assert progress.done
    entry = next(f for f in manifest.files if f.path == "model.onnx")
    assert entry.sha256 == hashlib.sha256(validated).hexdigest()
    assert manifest.validation["outputs_match"] is True
    assert zoo.store.path(entry.md5).read_bytes() == validated
    zoo.pull(STUB, dest=tmp_path / "dest")
    assert (tmp_path / "dest" / "model.onnx").read_bytes() == validated


def _link_out(target: Path, link: Path) -> Callable[[], None]:
    def swap() -> None:
        if link.is_dir():
            shutil.rmtree(link)
        else:
            link.unlink()
        os.symlink(target, link)
    return swap


@pytest.mark.parametrize(("when", "victim"), [
    ("sample-labels/lab-0001.npy", "sample-labels/lab-0001.npy"),  # a validated file, just before it is read
    ("checking model.onnx", "numpy/model.npy"),  # a weights file, after the scan, before it is stored
    ("hashing", "numpy/model.npy"),
    ("checking model.onnx", "extra"),  # a whole folder
])
def test_a_file_swapped_for_a_link_out_after_the_scan_is_refused(
        zoo: Zoo, model_dir: Path, tmp_path: Path, when: str, victim: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = b"\x93NUMPY bytes from outside the model directory"
    (outside / "secret.npy").write_bytes(secret)
    (model_dir / "extra").mkdir()
    (model_dir / "extra" / "secret.npy").write_bytes(b"inside")
    target = outside if victim == "extra" else outside / "secret.npy"
    progress = SwapAt(when, _link_out(target, model_dir / victim))
    with pytest.raises(ModelDirError, match="became a symlink while publishing") as info:
        zoo.publish(model_dir, STUB, progress=progress)
    assert progress.done and victim in str(info.value)
    assert zoo.versions(STUB) == []
    assert secret not in _stored(zoo)
