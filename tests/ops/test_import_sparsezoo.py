"""``zoo import-sparsezoo``: a real SparseZoo-shaped download is imported, published
(real git + DVC + onnxruntime), pulled back; hostile input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.conftest import Result, tree_bytes
from tests.sparsezoo_download import STUB, make_download
from zoo_repo import Zoo
from zoo_repo.core.card import parse_card
from zoo_repo.errors import ModelDirError, UsageError
from zoo_repo.ops.import_sparsezoo import default_dest, import_sparsezoo

Cli = Callable[..., Result]


def test_import_publish_pull_round_trip(tmp_path: Path, zoo: Zoo) -> None:
    src = make_download(tmp_path / "dl")
    before = tree_bytes(src)
    result = import_sparsezoo(src, "zoo:" + STUB, tmp_path / "model")
    assert tree_bytes(src) == before  # the download is only read
    model = tmp_path / "model"
    assert {p.dest for p in result.mapped} >= {"model.md", "model.onnx", "pytorch/pytorch_model.bin",
                                               "recipes/original.md", "recipes/transfer_learn.md",
                                               "sample-outputs/out-0000.npz", "sample-inputs/inp-0000.npz"}
    assert {p.dest for p in result.kept} >= {"benchmarks.yaml", "deployment/config.json", "onnx/model.11.onnx",
                                             "sample-outputs_deepsparse/out-0000.npz"}
    assert (model / "sample-outputs" / "out-0001.npz").read_bytes() == \
        (src / "sample-outputs_onnxruntime" / "out-0001.npz").read_bytes()
    assert not (model / "model.onnx.tar.gz").exists() and not (model / "training").exists()
    card = parse_card((model / "model.md").read_text())
    assert card.metadata["sparse_target"] == "vnni" and card.metadata["sub_architecture"] == "4"

    published = zoo.publish(model, STUB)
    m = published.manifest
    assert m.validation["outputs_match"] is True and m.validation["samples"] == 3  # onnxruntime ran them
    roles = {f.path: f.role for f in m.files}
    assert roles["pytorch/pytorch_model.bin"] == "framework" and roles["benchmarks.yaml"] == "other"
    assert roles["recipes/transfer_learn.md"] == "recipes"
    assert roles["sample-outputs_deepsparse/out-0000.npz"] == "other"

    pulled = zoo.pull(STUB, dest=tmp_path / "pulled")
    assert tree_bytes(tmp_path / "pulled") == {k: v for k, v in tree_bytes(model).items()
                                               if k != "model.onnx.tar.gz"} | {
        "model.onnx.tar.gz": (tmp_path / "pulled" / "model.onnx.tar.gz").read_bytes()}
    sess = ort.InferenceSession(str(pulled.onnx_path), providers=["CPUExecutionProvider"])
    x = np.load(pulled.sample_inputs[0])["input"]
    assert np.allclose(sess.run(None, {"input": x})[0], np.load(pulled.sample_outputs[0])["output"], atol=1e-6)


def test_cli_maps_lists_and_publishes(tmp_path: Path, zoo: Zoo, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    src = make_download(tmp_path / "dl")
    out = cli("--zoo", zoo.root, "import-sparsezoo", src, "--stub", f"zoo:{STUB}?recipe=transfer_learn", "--publish")
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "training/pytorch_model.bin -> pytorch/pytorch_model.bin (framework)" in lines
    assert "recipe/recipe_original.md -> recipes/original.md (recipes)" in lines
    assert "sample-outputs_onnxruntime/out-0000.npz -> sample-outputs/out-0000.npz (sample-outputs)" in lines
    assert any(line.startswith("kept benchmarks.yaml -> benchmarks.yaml (other: ") for line in lines)
    assert "skipped model.onnx.tar.gz: publish builds model.onnx.tar.gz from model.onnx" in lines
    dest = default_dest(zoo.resolve(STUB).stub)
    assert dest == tmp_path / "tinynet-4-imagenet-pruned90_quant-none-vnni" and (dest / "model.onnx").is_file()
    assert any(f"imported {len(tree_bytes(dest))} files to {dest}" in line for line in lines)
    assert zoo.resolve(STUB).version == 1 and "v1" in lines[-1]

    again = cli("import-sparsezoo", src, "--stub", STUB, "--dest", tmp_path / "second", "--json")
    assert again.exit_code == 0, again.stderr
    data = json.loads(again.stdout)
    assert {"source": "training/recipe.yaml", "dest": "pytorch/recipe.yaml", "role": "framework"} in data["mapped"]
    assert any(k["dest"] == "sparsezoo/sample-inputs.tar.gz" for k in data["kept"])
    assert tree_bytes(tmp_path / "second") == tree_bytes(dest)  # deterministic


def test_a_download_without_card_gets_one(tmp_path: Path) -> None:
    src = make_download(tmp_path / "dl", tarballs=False)
    (src / "model.md").unlink()
    (src / "model.onnx.tar.gz").write_bytes(b"\x1f\x8b not used")
    result = import_sparsezoo(src, STUB, tmp_path / "model")
    assert [p.source for p in result.skipped] == ["model.onnx.tar.gz"]
    assert result.card_notes[0].startswith("the download has no model.md")
    assert parse_card((tmp_path / "model" / "model.md").read_text()).metadata["framework"] == "pytorch"


def _hostile(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, src: Path, *extra: str) -> Result:
    monkeypatch.chdir(tmp_path)
    result = cli("import-sparsezoo", src, "--stub", STUB, "--dest", tmp_path / "out", *extra)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result


def test_symlink_out_of_the_download_is_refused(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_download(tmp_path / "dl")
    (tmp_path / "secret").write_text("credentials")
    os.symlink(tmp_path / "secret", src / "training" / "optimizer.pt")
    result = _hostile(tmp_path, cli, monkeypatch, src)
    assert "training/optimizer.pt: is a symlink to" in result.stderr
    assert "outside the SparseZoo download" in result.stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.import-*"))
    os.unlink(src / "training" / "optimizer.pt")
    os.symlink("../../secret", src / "recipe" / "recipe_evil.md")  # relative, through ..
    assert "recipe/recipe_evil.md: is a symlink to" in _hostile(tmp_path, cli, monkeypatch, src).stderr
    os.unlink(src / "recipe" / "recipe_evil.md")
    os.symlink("../model.onnx", src / "onnx" / "model.13.onnx")  # inside: followed, its bytes copied
    import_sparsezoo(src, STUB, tmp_path / "ok")
    assert (tmp_path / "ok" / "onnx" / "model.13.onnx").read_bytes() == (src / "model.onnx").read_bytes()
    assert not (tmp_path / "ok" / "onnx" / "model.13.onnx").is_symlink()


def test_special_file_is_refused(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_download(tmp_path / "dl")
    os.mkfifo(src / "deployment" / "pipe")
    assert "deployment/pipe: is a special file" in _hostile(tmp_path, cli, monkeypatch, src).stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.import-*"))


def test_non_empty_destination_is_refused(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_download(tmp_path / "dl")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    result = _hostile(tmp_path, cli, monkeypatch, src)
    assert "the destination is not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mine.txt"]
    assert not list(tmp_path.glob(".out.import-*"))
    (tmp_path / "out" / "mine.txt").unlink()  # an empty folder is fine
    assert import_sparsezoo(src, STUB, tmp_path / "out").dest == tmp_path / "out"
    with pytest.raises(UsageError, match="inside the SparseZoo download"):
        import_sparsezoo(src, STUB, src / "model")


def test_not_a_sparsezoo_download_is_refused(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "dl"
    src.mkdir()
    (src / "README.md").write_text("# my project\n")
    assert "is not a SparseZoo download" in _hostile(tmp_path, cli, monkeypatch, src).stderr
    assert "is not a directory" in _hostile(tmp_path, cli, monkeypatch, src / "README.md").stderr
    assert not (tmp_path / "out").exists()
    (src / "model.onnx").write_bytes(b"x")
    (src / "model.md").write_text("---\ntags: [unclosed\n---\n")  # a download, with a card YAML refuses
    assert "model.md: front matter: " in _hostile(tmp_path, cli, monkeypatch, src).stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.import-*"))


def test_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_download(tmp_path / "dl")
    from zoo_repo.ops import import_sparsezoo as mod

    calls = []

    def failing(a: Path, b: Path) -> None:
        calls.append(b)
        if len(calls) == 5:
            raise OSError(28, "No space left on device")
        b.write_bytes(a.read_bytes())

    monkeypatch.setattr(mod, "reflink", failing)  # the disk, not git/DVC/onnxruntime
    with pytest.raises(Exception, match="No space left on device"):
        import_sparsezoo(src, STUB, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.import-*"))


def test_typed_errors_from_the_api(tmp_path: Path) -> None:
    with pytest.raises(ModelDirError):
        import_sparsezoo(tmp_path / "missing", STUB, tmp_path / "out")


def test_samples_only_as_archives_publish_and_run(tmp_path: Path, zoo: Zoo) -> None:
    src = make_download(tmp_path / "dl", folders=False)
    result = import_sparsezoo(src, STUB, tmp_path / "model")
    mapped = {p.source: p.dest for p in result.mapped}
    assert mapped["sample-inputs.tar.gz"] == "sample-inputs.tar.gz"
    assert mapped["sample-outputs_onnxruntime.tar.gz"] == "sample-outputs.tar.gz"
    m = zoo.publish(tmp_path / "model", STUB).manifest
    assert m.validation["outputs_match"] is True and m.validation["samples"] == 3


def test_links_that_loop_or_dangle_are_refused(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_download(tmp_path / "dl")
    os.symlink("loop-b", src / "logs-a")
    os.symlink("logs-a", src / "loop-b")
    assert "logs-a: is a broken symlink (or a symlink loop)" in _hostile(tmp_path, cli, monkeypatch, src).stderr
    os.unlink(src / "logs-a")
    os.unlink(src / "loop-b")
    os.symlink("..", src / "deployment" / "up")  # a folder link back up: a loop of folders
    assert "deployment/up: is a directory symlink loop" in _hostile(tmp_path, cli, monkeypatch, src).stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.import-*"))
