"""Progress is reported through the object the caller passes; the library never prints."""

from __future__ import annotations

import io
import time
from pathlib import Path

from tests.conftest import STUB, clone
from zoo_repo import Zoo
from zoo_repo.cli.bar import TerminalProgress
from zoo_repo.core.progress import Progress


class Recorder(Progress):
    def __init__(self) -> None:
        super().__init__()
        self.starts: list[tuple[str, int, int]] = []
        self.ends: list[tuple[int, int]] = []  # (files, bytes) counted when the next step started
        self.items: list[str] = []
        self.finals = 0

    def start(self, what: str, files: int, nbytes: int) -> None:
        if self.starts:
            self.ends.append((self.files, self.bytes))
        self.starts.append((what, files, nbytes))
        super().start(what, files, nbytes)

    def at(self, item: str) -> None:
        self.items.append(item)
        super().at(item)


def test_publish_and_pull_report_files_and_bytes(zoo: Zoo, model_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    up = Recorder()
    result = zoo.publish(model_dir, STUB, progress=up)
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files)
    # Every step of a publish is shown, from the first second: not only the upload.
    assert [what for what, _, _ in up.starts] == [
        "scanning the model directory", "checking model.onnx", "running 4 sample inputs through model.onnx",
        "hashing", "writing model.onnx.tar.gz", "uploading"]
    hashing = up.starts.index(("hashing", len(files), total))
    assert up.ends[hashing] == (len(files), total)  # every file and byte hashed was counted
    # The current file: validated files are named as their private copy is made, and again as stored.
    assert set(up.items) == {p.relative_to(model_dir).as_posix() for p in files}
    assert up.starts[-1] == ("uploading", result.uploaded_objects, result.uploaded_bytes)
    assert (up.files, up.bytes) == (result.uploaded_objects, result.uploaded_bytes)

    down = Recorder()
    pulled = clone(zoo, tmp_path / "clone").pull(STUB, dest=tmp_path / "out", progress=down)
    distinct = {f.md5: f.size for f in pulled.files}
    assert down.starts == [("downloading", len(distinct), sum(distinct.values()))]
    assert (down.files, down.bytes) == (len(distinct), sum(distinct.values()))
    # The current file is shown while it downloads (a pack's span shows its first member).
    assert down.items and set(down.items) <= {f.path for f in pulled.files}
    assert "model.onnx" in down.items  # the largest file travels loose, under its own name
    assert capsys.readouterr() == ("", "")  # nothing printed by the library


def test_terminal_bar_draws_one_line_and_clears_it() -> None:
    stream = io.StringIO()
    bar = TerminalProgress(stream)
    bar.start("downloading", 2, 3 << 20)
    bar.advance(1, 1 << 20)
    text = stream.getvalue()
    assert text.startswith("\r") and "downloading 0/2 files" in text and "\n" not in text
    time.sleep(0.15)  # past the redraw interval (ten a second)
    bar.at("deployment/model.onnx")
    assert stream.getvalue().rsplit("\r", 1)[-1].rstrip().endswith("deployment/model.onnx")
    bar.finish()
    assert stream.getvalue().endswith("\r")


def test_no_bar_when_not_a_terminal(cli, zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB)
    assert result.exit_code == 0 and result.stderr == ""
