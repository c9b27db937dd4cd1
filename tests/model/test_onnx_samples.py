"""The ONNX ecosystem's sample formats: .pb TensorProto files, the ONNX Model Zoo's
test_data_set_N/ folders, inputs without outputs; nothing in a sample folder is skipped."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.conftest import STUB
from zoo_repo import ModelDirError, Zoo
from zoo_repo.core.validation import describe, record_problems
from zoo_repo.model.layout import classify

MATCH = {"samples": 4, "rtol": 1e-3, "atol": 1e-5, "outputs_match": True}


def _nothing_written(zoo: Zoo) -> bool:
    return list(zoo.store.oids()) == [] and zoo.versions(STUB) == []


def _pb(path: Path, array: np.ndarray, name: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(numpy_helper.from_array(array, name).SerializeToString())


def _as_pb(model_dir: Path) -> None:
    """The demo model's .npy samples, as serialized TensorProto files."""
    for role in ("sample-inputs", "sample-outputs"):
        for npy in sorted((model_dir / role).glob("*.npy")):
            _pb(npy.with_suffix(".pb"), np.load(npy))
            npy.unlink()


def _add_model(model_dir: Path, sets: int = 2) -> None:
    """model.onnx becomes c = a + b (two inputs), its samples test_data_set_N/ folders."""
    a, b = (helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in "ab")
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [2, 3])
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "add", [a, b], [c])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    (model_dir / "model.onnx").write_bytes(model.SerializeToString())
    for role in ("sample-inputs", "sample-outputs", "sample-labels"):
        shutil.rmtree(model_dir / role, ignore_errors=True)
    rng = np.random.default_rng(0)
    for n in range(sets):
        x, y = (rng.standard_normal((2, 3)).astype(np.float32) for _ in "ab")
        folder = model_dir / f"test_data_set_{n}"
        _pb(folder / "input_0.pb", x, "a")
        _pb(folder / "input_1.pb", y)  # the name is optional: K says which input
        _pb(folder / "output_0.pb", x + y, "c")


def test_pb_samples_publish_and_record_that_outputs_match(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    _as_pb(model_dir)
    manifest = zoo.publish(model_dir, STUB).manifest
    assert manifest.validation == MATCH
    assert {f.path: f.role for f in manifest.files}["sample-inputs/inp-0000.pb"] == "sample-inputs"
    assert record_problems(manifest) == []
    assert "samples ran and matched" in cli("--zoo", zoo.root, "show", STUB).stdout


def test_a_wrong_pb_output_is_refused_in_one_line_and_nothing_is_written(zoo: Zoo, model_dir: Path) -> None:
    _as_pb(model_dir)
    out = model_dir / "sample-outputs" / "out-0002.pb"
    tensor = TensorProto()
    tensor.ParseFromString(out.read_bytes())
    wrong = numpy_helper.to_array(tensor).copy()
    wrong[0, 3] += 0.05
    _pb(out, wrong)
    with pytest.raises(ModelDirError) as info:
        zoo.publish(model_dir, STUB)
    message = str(info.value)
    assert message.startswith("sample-outputs/out-0002.pb: output 'output' differs from what model.onnx gives")
    assert "\n" not in message and _nothing_written(zoo)


def test_a_pb_that_does_not_parse_is_refused_by_name(zoo: Zoo, model_dir: Path) -> None:
    _as_pb(model_dir)
    (model_dir / "sample-inputs" / "inp-0001.pb").write_bytes(b"not a tensor")
    with pytest.raises(ModelDirError) as info:
        zoo.publish(model_dir, STUB)
    assert str(info.value).startswith("sample-inputs/inp-0001.pb: is not a serialized onnx.TensorProto")
    assert "\n" not in str(info.value) and _nothing_written(zoo)


def test_the_onnx_model_zoo_layout_publishes_and_every_set_is_compared(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert classify("test_data_set_0/input_1.pb", "pytorch") == "sample-inputs"
    assert classify("test_data_set_12/output_0.pb", "pytorch") == "sample-outputs"
    _add_model(model_dir)
    manifest = zoo.publish(model_dir, STUB).manifest
    assert manifest.validation == {**MATCH, "samples": 2}
    roles = {f.path: f.role for f in manifest.files}
    assert roles["test_data_set_1/input_1.pb"] == "sample-inputs"
    assert roles["test_data_set_1/output_0.pb"] == "sample-outputs"
    assert record_problems(manifest) == []
    # The second set's output is wrong: it is compared too.
    _pb(model_dir / "test_data_set_1" / "output_0.pb", np.zeros((2, 3), np.float32), "c")
    with pytest.raises(ModelDirError, match=r"^test_data_set_1: output 'c' differs .* for test_data_set_1"):
        zoo.publish(model_dir, STUB)


@pytest.mark.parametrize(("change", "message"), [
    ("renamed", "test_data_set_0/input_1.pb: holds tensor 'a'; model.onnx names this one 'b'"),
    ("missing", "test_data_set_0: holds input_0.pb; expected input_0.pb to input_1.pb "
                "for model.onnx's 2 inputs (a, b)"),
    ("stray", "test_data_set_0/notes.txt: is no sample format"),
])
def test_a_test_data_set_that_does_not_fit_the_graph_is_refused(zoo: Zoo, model_dir: Path, change: str,
                                                                message: str) -> None:
    _add_model(model_dir, sets=1)
    folder = model_dir / "test_data_set_0"
    if change == "renamed":
        _pb(folder / "input_1.pb", np.zeros((2, 3), np.float32), "a")
    elif change == "missing":
        (folder / "input_1.pb").unlink()
    else:
        (folder / "notes.txt").write_text("how the samples were made\n")
    with pytest.raises(ModelDirError) as info:
        zoo.publish(model_dir, STUB)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
    assert _nothing_written(zoo)


def test_inputs_without_outputs_run_and_are_recorded(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(model_dir / "sample-outputs")
    manifest = zoo.publish(model_dir, STUB).manifest
    assert manifest.validation == {"samples": 4, "not_compared": "no sample-outputs"}
    assert record_problems(manifest) == []
    shown = "ran 4 samples; outputs not compared: no sample-outputs"
    assert describe(manifest.validation) == shown
    assert shown in cli("--zoo", zoo.root, "show", STUB).stdout
    # The record is judged like the others: it must be one publish writes.
    tampered = dataclasses.replace(manifest, validation={"samples": 3, "not_compared": "lazy"})
    assert record_problems(tampered) == [
        "validation.not_compared is 'lazy'; publish records only 'no sample-outputs'",
        "validation.samples is 3 but the manifest lists 4 sample-inputs"]


def test_inputs_without_outputs_that_do_not_run_are_refused(zoo: Zoo, model_dir: Path) -> None:
    shutil.rmtree(model_dir / "sample-outputs")
    np.save(model_dir / "sample-inputs" / "inp-0001.npy", np.zeros((1, 3), np.float32))
    with pytest.raises(ModelDirError, match=r"^sample-inputs/inp-0001.npy: does not run through model.onnx"):
        zoo.publish(model_dir, STUB)
    assert _nothing_written(zoo)


def test_an_unknown_file_among_the_samples_is_refused(zoo: Zoo, model_dir: Path) -> None:
    (model_dir / "sample-inputs" / "inp-0004.png").write_bytes(b"\x89PNG")
    with pytest.raises(ModelDirError) as info:
        zoo.publish(model_dir, STUB)
    assert str(info.value).startswith("sample-inputs/inp-0004.png: is no sample format: expected .npy, .npz")
    assert _nothing_written(zoo)


def test_outputs_without_inputs_are_refused_not_skipped(zoo: Zoo, model_dir: Path) -> None:
    for role in ("sample-inputs", "sample-labels"):
        shutil.rmtree(model_dir / role)
    with pytest.raises(ModelDirError, match=r"^sample-outputs: has 4 samples but there are no sample-inputs"):
        zoo.publish(model_dir, STUB)
    assert _nothing_written(zoo)
    assert zoo.publish(model_dir, STUB, run=False).manifest.validation == {"skipped": "--no-run"}
