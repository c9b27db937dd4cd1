"""What measuring model facts costs a publish: a 1 GiB ONNX graph, inline and with
its weights as external data, published with ``zoo publish --no-run``.

    python bench/facts_bench.py [--size-mib 1024] [--reps 3]

The graph is a chain of MatMuls over square float32 weights that add up to
``--size-mib``, half of every weight zeroed (so the count is not trivial). Per
repetition, in process:

  checker   ``onnx.checker.check_model`` by path plus ``onnx.load`` (what
            publish paid before model facts; the checker's full mode only
            below 1 GiB, as publish runs it)
  facts     ``model.facts.measure`` on the loaded graph (what model facts add)
  publish   the whole ``Zoo.publish(..., run=False)`` into a fresh zoo: hash,
            validate, store, commit (facts included)

and the same for the benchmark zoo's own 1 GiB model (the demo model plus 1 GiB of
``numpy/weights.bin``: its graph is tiny). Prints medians and the facts/publish ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MiB = 1 << 20
STUB = "cv/classification/mlp-784_64/numpy/zoo_demo/synthetic_digits/base-none"


def big_graph(dest: Path, size: int, external: bool) -> None:
    """A model directory (the demo's card) whose model.onnx holds ``size`` bytes of weights."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from zoo_repo.ops.demo import build_model_dir

    build_model_dir(dest, STUB)
    for sub in ("sample-inputs", "sample-outputs", "sample-labels"):
        shutil.rmtree(dest / sub)
    side = 4096
    layers = max(1, size // (side * side * 4))
    rng = np.random.default_rng(0)
    nodes, inits, prev = [], [], "input"
    for i in range(layers):
        w = rng.standard_normal((side, side), dtype=np.float32)
        w[:, ::2] = 0.0
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"]))
        prev = f"h{i}"
    nodes.append(helper.make_node("Identity", [prev], ["output"]))
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, side])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, side])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if external:
        onnx.save_model(model, str(dest / "model.onnx"), save_as_external_data=True,
                        all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
    else:
        (dest / "model.onnx").write_bytes(model.SerializeToString())


def weights_bin(dest: Path, size: int) -> None:
    """The benchmark zoo's model: the demo model plus ``size`` random bytes."""
    from zoo_repo.ops.demo import build_model_dir

    build_model_dir(dest, STUB)
    with open(dest / "numpy" / "weights.bin", "wb") as out:
        for _ in range(size // MiB):
            out.write(os.urandom(MiB))


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def one(model_dir: Path, work: Path) -> dict[str, float]:
    import onnx

    from zoo_repo import Zoo
    from zoo_repo.model import facts
    from zoo_repo.model.validate import FULL_CHECK_MAX

    path = model_dir / "model.onnx"
    size = path.stat().st_size
    loaded: list[object] = []

    def checker() -> None:
        onnx.checker.check_model(str(path), full_check=size <= FULL_CHECK_MAX)
        loaded.append(onnx.load(str(path), load_external_data=False))

    out = {"checker": timed(checker), "facts": timed(lambda: facts.measure(loaded[-1], model_dir))}
    zoo = Zoo.init(work / "zoo", remote=str(work / "remote"))
    out["publish"] = timed(lambda: zoo.publish(model_dir, STUB, run=False, commit=True))
    shutil.rmtree(work / "zoo")
    shutil.rmtree(work / "remote", ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="facts-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n")
        os.environ.update({"HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
                           "XDG_CACHE_HOME": str(home / "cache"), "DVC_NO_ANALYTICS": "1"})
        cases = {"inline graph": lambda d: big_graph(d, size, external=False),
                 "external data": lambda d: big_graph(d, size, external=True),
                 "weights.bin (bench zoo)": lambda d: weights_bin(d, size)}
        print(f"model facts on a {args.size_mib} MiB model, {args.reps} repetitions, median seconds")
        print(f"{'case':26} {'checker+load':>13} {'facts':>8} {'publish':>9} {'facts/publish':>14}")
        for name, build in cases.items():
            model_dir = work / "model"
            build(model_dir)
            runs = [one(model_dir, work / "run") for _ in range(args.reps)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{name:26} {med['checker']:13.2f} {med['facts']:8.2f} {med['publish']:9.2f} "
                  f"{med['facts'] / med['publish']:13.1%}")
            shutil.rmtree(model_dir)


if __name__ == "__main__":
    main()
