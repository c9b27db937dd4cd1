"""Model facts are measured at publish, recorded in the manifest and shown:
IR version, opsets, interface, initializers, parameters, sparsity, quantized ops."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.conftest import STUB, Result
from zoo_repo import Zoo
from zoo_repo.core.manifest import parse_manifest
from zoo_repo.ops.demo import STUB_PRUNED

Cli = Callable[..., Result]
QUANT_STUB = "cv/classification/mlp-784_64/numpy/zoo_demo/synthetic_digits/quant-none"


def expected_facts(path: Path) -> tuple[int, float, dict[str, float]]:
    """Parameters, zero fraction over 2-D+ weights, and each weight's zero fraction, from the file."""
    model = onnx.load(str(path))
    arrays = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    weights = {n: a for n, a in arrays.items() if a.ndim >= 2}
    zeros = sum(int((a == 0).sum()) for a in weights.values())
    total = sum(a.size for a in weights.values())
    return (sum(a.size for a in arrays.values()), round(zeros / total, 4),
            {n: round(float((a == 0).mean()), 4) for n, a in weights.items()})


def retag(model_dir: Path, name: str, category: str) -> None:
    card = model_dir / "model.md"
    text = re.sub(r"sparse_name: \S+", f"sparse_name: {name}", card.read_text())
    card.write_text(re.sub(r"sparse_category: \S+", f"sparse_category: {category}", text))


def without_samples(model_dir: Path) -> None:
    for role in ("sample-inputs", "sample-outputs", "sample-labels"):
        shutil.rmtree(model_dir / role, ignore_errors=True)


def test_a_pruned_and_a_dense_model_get_their_measured_facts(zoo: Zoo, model_dir: Path,
                                                             built_models: dict[str, Path]) -> None:
    dense = zoo.publish(model_dir, STUB).manifest.onnx
    pruned = zoo.publish(built_models["pruned"], STUB_PRUNED).manifest.onnx
    for facts, folder in ((dense, model_dir), (pruned, built_models["pruned"])):
        params, zeros, per_weight = expected_facts(folder / "model.onnx")
        assert facts["parameters"] == params
        assert facts["initializers"] == 4
        assert facts["sparsity"]["zeros"] == zeros
        assert {x["name"]: x["zeros"] for x in facts["sparsity"]["layers"]} == per_weight
        assert [x["name"] for x in facts["sparsity"]["layers"]] == ["w1", "w2"]  # largest first
        assert facts["opsets"] == {"ai.onnx": 13} and facts["quantized_ops"] == {}
    assert pruned["sparsity"]["layers"][0]["zeros"] == pytest.approx(0.5, abs=0.01)  # w1, half zeroed
    assert dense["sparsity"]["layers"][0]["zeros"] == 0.0
    # Recorded in the committed manifest text, and parsed back the same.
    text = (zoo.root / "manifests" / STUB_PRUNED / "v1" / "manifest.yaml").read_text()
    assert "  sparsity:\n    zeros: " in text and "  - {name: w1, params: 50176, zeros: " in text
    assert parse_manifest(text).onnx == pruned


def test_show_prints_the_facts(cli: Cli, zoo: Zoo, built_models: dict[str, Path]) -> None:
    zoo.publish(built_models["pruned"], STUB_PRUNED)
    out = cli("--zoo", zoo.root, "show", STUB_PRUNED)
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "  onnx             IR 8, opset 13" in lines
    assert "  input            input float32 [batch, 1, 28, 28]" in lines
    assert "  output           output float32 [batch, 10]" in lines
    assert "  parameters       50,890 in 4 initializers" in lines
    share = zoo.show(STUB_PRUNED).onnx["sparsity"]["zeros"]
    assert any(line.startswith(f"  sparsity         {share * 100:.1f}% zero weights (largest: w1 ")
               for line in lines)
    assert "  quantized ops    none" in lines


def test_external_data_is_read_to_measure_and_gives_the_same_facts(zoo: Zoo, built_models: dict[str, Path],
                                                                    tmp_path: Path) -> None:
    inline = tmp_path / "inline"
    shutil.copytree(built_models["pruned"], inline)
    external = tmp_path / "external"
    shutil.copytree(built_models["pruned"], external)
    model = onnx.load(str(external / "model.onnx"))
    onnx.save_model(model, str(external / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
    assert not any(t.raw_data for t in onnx.load(str(external / "model.onnx"), load_external_data=False)
                   .graph.initializer)  # every weight left the graph
    facts = zoo.publish(external, STUB_PRUNED).manifest.onnx
    params, zeros, per_weight = expected_facts(inline / "model.onnx")
    assert (facts["parameters"], facts["sparsity"]["zeros"]) == (params, zeros)
    assert {x["name"]: x["zeros"] for x in facts["sparsity"]["layers"]} == per_weight


def _quantized_model(path: Path, zero_every: int) -> None:
    """A real quantized graph: int8 weights (every ``zero_every``-th zero), DequantizeLinear, MatMul."""
    rng = np.random.RandomState(7)
    w = rng.randint(-127, 128, size=(784, 10)).astype(np.int8)
    w.ravel()[::zero_every] = 0
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], axis=1),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zero"], ["w"]),
        helper.make_node("MatMul", ["flat", "w"], ["output"]),
    ]
    inits = [numpy_helper.from_array(w, "w_q"), numpy_helper.from_array(np.array(0.01, np.float32), "w_scale"),
             numpy_helper.from_array(np.array(0, np.int8), "w_zero")]
    graph = helper.make_graph(nodes, "quantized",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


def test_quantized_ops_and_int8_zeros_are_counted(zoo: Zoo, model_dir: Path) -> None:
    without_samples(model_dir)
    _quantized_model(model_dir / "model.onnx", zero_every=4)
    retag(model_dir, "quant", "none")
    facts = zoo.publish(model_dir, QUANT_STUB).manifest.onnx
    assert facts["quantized_ops"] == {"DequantizeLinear": 1}
    w = numpy_helper.to_array(next(t for t in onnx.load(str(model_dir / "model.onnx")).graph.initializer
                                   if t.name == "w_q"))
    assert facts["sparsity"] == {"zeros": round(float((w == 0).mean()), 4), "weights": 7840,
                                 "layers": [{"name": "w_q", "params": 7840, "zeros": round(float((w == 0).mean()), 4)}]}
    assert facts["parameters"] == 7842  # the scale and zero point count, but are no weights


def test_external_data_shorter_than_its_tensor_is_refused_in_one_line(cli: Cli, zoo: Zoo, model_dir: Path) -> None:
    """A graph whose external tensor declares a ``length`` short of its dims: the size
    check passes on the length, but counting would read another tensor's bytes."""
    model = onnx.load(str(model_dir / "model.onnx"))
    onnx.save_model(model, str(model_dir / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
    graph = onnx.load(str(model_dir / "model.onnx"), load_external_data=False)
    w1 = next(t for t in graph.graph.initializer if t.name == "w1")
    for e in w1.external_data:
        if e.key == "length":
            e.value = "1024"
    (model_dir / "model.onnx").write_bytes(graph.SerializeToString())
    out = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--no-run")
    assert out.exit_code == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[0] == (
        "Error: model.onnx: its external data cannot be read: tensor 'w1' declares 1,024 bytes of external "
        "data; its dims need 200,704")
    assert zoo.versions(STUB) == [] and list(zoo.store.oids()) == []
