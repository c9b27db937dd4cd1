"""The embedded demo: real, small ONNX models, published and pulled back.

Each model is a two-layer perceptron on a synthetic 28×28 "digits" task whose
labels come from a fixed hidden linear rule. The first layer is random ReLU
features, the second is fitted in closed form (ridge regression), so the
weights are deterministic and the reported top-1 accuracy is really measured
(with onnxruntime, on a held-out validation split). The pruned variant zeroes
the smallest first-layer weights and refits. Same seed, same bytes.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARCH = "mlp-784_64"
STUB_BASE = f"cv/classification/{ARCH}/numpy/zoo_demo/synthetic_digits/base-none"
STUB_PRUNED = f"cv/classification/{ARCH}/numpy/zoo_demo/synthetic_digits/pruned-moderate"
_IN, _HIDDEN, _CLASSES = 784, 64, 10
_MARK = ".zoo-demo"


@dataclass(frozen=True)
class BuiltModel:
    stub: str
    path: Path
    top1: float


def _data(seed: int, n: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.RandomState(seed)
    prototypes = np.random.RandomState(1234).rand(_CLASSES, _IN).astype(np.float32)
    labels = rng.randint(0, _CLASSES, n)
    x = (0.4 * prototypes[labels] + 0.6 * rng.rand(n, _IN)).astype(np.float32)
    return x, np.eye(_CLASSES, dtype=np.float32)[labels]


def _fit(w1: Any, b1: Any, x: Any, y: Any) -> tuple[Any, Any]:
    import numpy as np

    h = np.maximum(x @ w1 + b1, 0)
    h1 = np.hstack([h, np.ones((len(h), 1), np.float32)])
    onehot = np.eye(_CLASSES, dtype=np.float32)[y.argmax(1)]
    sol = np.linalg.solve(h1.T @ h1 + 1e-2 * np.eye(h1.shape[1]), h1.T @ onehot)
    return sol[:-1].astype(np.float32), sol[-1].astype(np.float32)


def _onnx_model(w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "w2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["output"], axis=1),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
    graph = helper.make_graph(
        nodes,
        ARCH,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", _CLASSES])],
        inits,
    )
    model = helper.make_model(graph, producer_name="zoo_repo.demo", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def build_model_dir(dest: Path, stub: str = STUB_BASE, sparsity: float = 0.0, seed: int = 0,
                    samples: int = 4) -> BuiltModel:
    """Write a complete model directory in the spec's layout; returns its stub and metric."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    rng = np.random.RandomState(seed)
    w1 = (rng.randn(_IN, _HIDDEN) / np.sqrt(_IN)).astype(np.float32)
    b1 = (rng.randn(_HIDDEN) * 0.1).astype(np.float32)
    if sparsity:
        w1[np.abs(w1) < np.quantile(np.abs(w1), sparsity)] = 0.0
    x_train, y_train = _data(seed + 1, 3000)
    w2, b2 = _fit(w1, b1, x_train, y_train)
    model = _onnx_model(w1, b1, w2, b2)

    dest.mkdir(parents=True, exist_ok=True)
    (dest / "model.onnx").write_bytes(model.SerializeToString())
    onnx.checker.check_model(str(dest / "model.onnx"))
    sess = ort.InferenceSession(str(dest / "model.onnx"), providers=["CPUExecutionProvider"])

    x_val, y_val = _data(seed + 2, 1000)
    pred = sess.run(None, {"input": x_val.reshape(-1, 1, 28, 28)})[0]
    top1 = round(float((pred.argmax(1) == y_val.argmax(1)).mean() * 100), 1)

    (dest / "numpy").mkdir(exist_ok=True)
    np.save(dest / "numpy" / "model.npy", np.concatenate([w1.ravel(), b1, w2.ravel(), b2]))
    for sub in ("sample-inputs", "sample-outputs", "sample-labels", "recipes"):
        (dest / sub).mkdir(exist_ok=True)
    for i in range(samples):
        inp = x_val[i : i + 1].reshape(1, 1, 28, 28)
        np.save(dest / "sample-inputs" / f"inp-{i:04d}.npy", inp)
        np.save(dest / "sample-outputs" / f"out-{i:04d}.npy", sess.run(None, {"input": inp})[0])
        np.save(dest / "sample-labels" / f"lab-{i:04d}.npy", y_val[i : i + 1].argmax(1))
    (dest / "recipes" / "original.md").write_text(
        "---\nversion: 1.1.0\nmodifiers:\n"
        + (
            f"  - !GMPruningModifier\n    params: [w1]\n    final_sparsity: {sparsity}\n"
            if sparsity
            else "  - !EpochRangeModifier\n    end_epoch: 1\n"
        )
        + "---\n# Recipe\nFirst layer random features; second layer fitted by ridge regression.\n"
    )
    name, category = stub.rsplit("/", 1)[1].split("-")[:2]
    (dest / "model.md").write_text(
        "---\n"
        f"domain: cv\nsub_domain: classification\narchitecture: mlp\nsub_architecture: '784_64'\n"
        f"framework: numpy\nrepo: zoo_demo\ndataset: synthetic_digits\n"
        f"sparse_name: {name}\nsparse_category: {category}\n"
        "license: apache-2.0\n"
        f"description: Two-layer perceptron on synthetic 28x28 digits ({sparsity:.0%} of w1 pruned).\n"
        "tags: [demo, classification]\n"
        "metrics:\n"
        f"  - {{name: top1 accuracy, value: {top1}, unit: '%', dataset: synthetic_digits, split: validation}}\n"
        "---\n"
        f"# {ARCH} ({name}-{category})\n\nA demo model built by `zoo demo`; deterministic weights.\n"
    )
    return BuiltModel(stub, dest, top1)


@dataclass(frozen=True)
class DemoReport:
    workdir: Path
    models: tuple[BuiltModel, ...]
    publish_seconds: float
    pull_seconds: float
    published_bytes: int
    pulled_files: int
    identical: bool
    catalog: str


def run_demo(workdir: Path) -> DemoReport:
    """Build two models, publish them to a zoo with a local remote, pull from a clone."""
    from zoo_repo.catalog.index import render_markdown
    from zoo_repo.core.stub import parse_stub
    from zoo_repo.ops.init import init_zoo
    from zoo_repo.ops.publish import publish
    from zoo_repo.ops.pull import pull
    from zoo_repo.repo import git
    from zoo_repo.repo.workspace import Workspace
    from zoo_repo.store.digest import hash_file

    workdir = workdir.resolve()
    if workdir.exists():
        if not (workdir / _MARK).exists():
            from zoo_repo.errors import UsageError

            raise UsageError(f"{workdir}: exists and was not made by `zoo demo`; choose another `workdir=`",
                             param="workdir")
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / _MARK).write_text("made by zoo demo; removed by the next run\n")

    models = (
        build_model_dir(workdir / "models" / "base", STUB_BASE, 0.0),
        build_model_dir(workdir / "models" / "pruned", STUB_PRUNED, 0.5),
    )
    zoo = Workspace(init_zoo(workdir / "zoo", remote=str(workdir / "remote")))
    t0 = time.perf_counter()
    published = [publish(zoo, m.path, parse_stub(m.stub)) for m in models]
    t1 = time.perf_counter()

    clone = workdir / "clone"
    git.clone(zoo.root, clone)
    theirs = Workspace(clone)
    t2 = time.perf_counter()
    pulls = [pull(theirs, theirs.resolve(m.stub), dest=workdir / "pulled" / m.path.name) for m in models]
    t3 = time.perf_counter()

    identical = all(
        hash_file(m.path / f.path).sha256 == f.sha256
        for m, p in zip(models, pulls, strict=True)
        for f in p.files
        if (m.path / f.path).exists()
    ) and all(
        hash_file(p.dest / f.path).sha256 == f.sha256 for p in pulls for f in p.files
    )
    return DemoReport(
        workdir=workdir,
        models=models,
        publish_seconds=t1 - t0,
        pull_seconds=t3 - t2,
        published_bytes=sum(r.manifest.size for r in published),
        pulled_files=sum(len(p.files) for p in pulls),
        identical=identical,
        catalog=render_markdown([theirs.resolve(stub) for stub in theirs.stubs()]),
    )
