"""A real, small model laid out as SparseZoo's client downloaded it (for the import and compat tests)."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

STUB = "cv/classification/tinynet-4/pytorch/sparseml/imagenet/pruned90_quant-none-vnni"
SAMPLES = 3

CARD = """---
domain: "cv"
sub_domain: "classification"
architecture: "tinynet"
sub_architecture: 4
framework: "pytorch"
repo: "sparseml"
dataset: "imagenet"
sparse_tag: "pruned90_quant-none-vnni"
display_name: "TinyNet pruned 90% quantized"
tags:
  - "tinynet"
  - "image_classification"
version: 1.0
---

# TinyNet

A four-feature, three-class network, pruned and quantized for the test.
"""


def tiny_model(seed: int = 0) -> onnx.ModelProto:
    rng = np.random.RandomState(seed)
    w = numpy_helper.from_array(rng.randn(4, 3).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.randn(3).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["mm"]), helper.make_node("Add", ["mm", "b"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["output"], axis=1)],
        "tinynet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
        [w, b],
    )
    model = helper.make_model(graph, producer_name="sparsezoo-test", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _tar(dest: Path, folder: Path) -> None:
    with tarfile.open(dest, "w:gz") as tar:
        for f in sorted(folder.iterdir()):
            tar.add(f, arcname=f"{folder.name}/{f.name}")


def make_download(dest: Path, *, tarballs: bool = True, folders: bool = True) -> Path:
    """``dest`` as SparseZoo leaves a download: card, graph, deployment/, training/,
    onnx/ opsets, recipes, samples (folders and .tar.gz, outputs per engine), reports."""
    model = tiny_model()
    data = model.SerializeToString()
    dest.mkdir(parents=True)
    (dest / "model.md").write_text(CARD)
    (dest / "model.onnx").write_bytes(data)
    with tarfile.open(dest / "model.onnx.tar.gz", "w:gz") as tar:
        tar.add(dest / "model.onnx", arcname="model.onnx")
    (dest / "deployment").mkdir()
    (dest / "deployment" / "model.onnx").write_bytes(data)
    (dest / "deployment" / "config.json").write_text('{"num_labels": 3}\n')
    (dest / "training").mkdir()
    (dest / "training" / "pytorch_model.bin").write_bytes(b"PK\x03\x04 not really a checkpoint" + bytes(64))
    (dest / "training" / "recipe.yaml").write_text("version: 1.1.0\nmodifiers: []\n")
    (dest / "onnx").mkdir()
    (dest / "onnx" / "model.11.onnx").write_bytes(data)
    (dest / "recipe").mkdir()
    (dest / "recipe" / "recipe_original.md").write_text("---\nversion: 1.1.0\nmodifiers: []\n---\n# Original\n")
    (dest / "recipe" / "recipe_transfer_learn.md").write_text("---\nversion: 1.1.0\n---\n# Transfer\n")
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    rng = np.random.RandomState(1)
    for folder in ("sample-inputs", "sample-outputs_onnxruntime", "sample-outputs_deepsparse", "sample-labels"):
        (dest / folder).mkdir()
    for i in range(SAMPLES):
        x = rng.rand(1, 4).astype(np.float32)
        y = sess.run(None, {"input": x})[0]
        (dest / "sample-inputs" / f"inp-{i:04d}.npz").write_bytes(_npz({"input": x}))
        (dest / "sample-outputs_onnxruntime" / f"out-{i:04d}.npz").write_bytes(_npz({"output": y}))
        (dest / "sample-outputs_deepsparse" / f"out-{i:04d}.npz").write_bytes(_npz({"output": y + 1e-4}))
        np.save(dest / "sample-labels" / f"lab-{i:04d}.npy", y.argmax(1))
    if tarballs:
        for folder in ("sample-inputs", "sample-labels") if folders else \
                ("sample-inputs", "sample-labels", "sample-outputs_onnxruntime"):
            _tar(dest / f"{folder}.tar.gz", dest / folder)
    if not folders:  # as SparseZoo's v2 layout downloads them: only the archives
        for folder in ("sample-inputs", "sample-labels", "sample-outputs_onnxruntime", "sample-outputs_deepsparse"):
            shutil.rmtree(dest / folder)
    for report in ("benchmarks.yaml", "eval.yaml", "metrics.yaml", "analysis.yaml"):
        (dest / report).write_text("{}\n")
    return dest
