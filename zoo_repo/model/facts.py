"""Model facts: what a consumer of an ONNX graph depends on, and what its stub's
sparse name claims, measured once at publish and recorded in the manifest.

The interface (IR version, opsets, inputs, outputs) is what breaks callers
when it changes; the size and sparsity facts (initializers, parameters, the
fraction of zero-valued weights overall and in the largest layers) and the
quantized operators are what ``pruned…`` and ``quant…`` in a stub promise.
Numbers are rounded so the same graph always gives the same manifest text.

Only the main graph is measured (initializers of subgraphs and functions are
rare in exported models and never what a sparse name is about). A weight is
an initializer of two or more dimensions: biases, scales and zero points are
one-dimensional or scalars, and would dilute the figure. Zero means ``== 0``
in the tensor's own type, so an int8 weight at zero counts, whatever its
zero point. Imports onnx and numpy lazily.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# How many of the largest weights get a line of their own.
LARGEST = 5
DIGITS = 4  # zero fractions: 0.8512, not 0.85119342…
NAME_MAX = 200  # a tensor name is the graph's text: bounded in the manifest
# Operators that compute on quantized integers or convert to and from them
# (ONNX's own, and onnxruntime's com.microsoft contrib ops).
QUANTIZED_OPS = frozenset({
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul",
    "ConvInteger", "MatMulInteger", "QGemm", "QAttention", "QLinearAdd", "QLinearMul", "QLinearConcat",
    "QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearSoftmax",
    "QLinearWhere", "QLinearReduceMean", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QOrderedMatMul",
    "MatMulNBits",
})
# Whose zeros numpy reads straight from the stored bytes.
_PLAIN = frozenset({"float16", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                    "int64", "uint64"})


def measure(model: Any, folder: Path) -> dict[str, Any]:
    """The facts of ``model`` (an onnx ModelProto loaded without its external data,
    which is read from ``folder``, tensor by tensor, only to count zeros)."""
    graph = model.graph
    opsets = {o.domain or "ai.onnx": int(o.version) for o in model.opset_import}
    weights: list[tuple[str, int, int | None]] = []  # name, elements, zeros (None: not countable)
    parameters = 0
    for tensor in graph.initializer:
        elements = _elements(tensor.dims)
        parameters += elements
        if len(tensor.dims) >= 2:
            weights.append((tensor.name, elements, _zeros(tensor, elements, folder)))
    for sparse in graph.sparse_initializer:
        elements = _elements(sparse.dims)
        parameters += elements
        if len(sparse.dims) >= 2:
            weights.append((sparse.values.name, elements, elements - _elements(sparse.values.dims)))
    counted = [(n, e, z) for n, e, z in weights if z is not None]
    total = sum(e for _, e, _ in counted)
    largest = sorted(counted, key=lambda w: (-w[1], w[0]))[:LARGEST]
    quantized = Counter(n.op_type for n in graph.node if n.op_type in QUANTIZED_OPS)
    return {
        "opsets": dict(sorted(opsets.items())),
        "initializers": len(graph.initializer) + len(graph.sparse_initializer),
        "parameters": parameters,
        "sparsity": {
            "zeros": _fraction(sum(z or 0 for _, _, z in counted), total),
            "weights": total,
            "layers": [{"name": n[:NAME_MAX], "params": e, "zeros": _fraction(z or 0, e)} for n, e, z in largest],
        },
        "quantized_ops": dict(sorted(quantized.items())),
    }


def _elements(dims: Any) -> int:
    count = 1
    for d in dims:
        count *= max(int(d), 0)  # a negative dimension (a crafted graph) holds nothing to count
    return count


def _fraction(part: int, whole: int) -> float:
    return round(part / whole, DIGITS) if whole else 0.0


def _zeros(tensor: Any, elements: int, folder: Path) -> int | None:
    """How many of ``tensor``'s elements are zero; None for a type whose bytes numpy cannot read as it."""
    import numpy as np
    from onnx import external_data_helper, helper, numpy_helper

    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
    except (KeyError, TypeError, ValueError):
        return None
    if dtype.name not in _PLAIN or elements == 0:
        return None
    if external_data_helper.uses_external_data(tensor):
        return elements - sum(int(np.count_nonzero(part)) for part in _external(tensor, dtype, elements, folder))
    if tensor.raw_data:
        if len(tensor.raw_data) != elements * dtype.itemsize:
            return None  # the checker refused such a tensor already; nothing to count
        return elements - int(np.count_nonzero(np.frombuffer(tensor.raw_data, dtype=dtype.newbyteorder("<"))))
    return elements - int(np.count_nonzero(numpy_helper.to_array(tensor)))


def _external(tensor: Any, dtype: Any, elements: int, folder: Path) -> Iterator[Any]:
    """The tensor's elements from its data file, a bounded piece at a time (a tensor may be GiBs)."""
    import numpy as np

    info = {e.key: e.value for e in tensor.external_data}
    # Publish checked the location (inside the directory) and the file's size already (model.extdata).
    offset = int(info.get("offset", "0"))
    need = elements * dtype.itemsize
    if "length" in info and int(info["length"]) != need:  # never read past what the graph declares
        raise OSError(f"tensor {tensor.name[:80]!r} declares {int(info['length']):,} bytes of external data; "
                      f"its dims need {need:,}")
    chunk = max(1, (64 << 20) // dtype.itemsize)
    with open(folder / info["location"], "rb") as fh:
        fh.seek(offset)
        left = elements
        while left:
            n = min(chunk, left)
            data = fh.read(n * dtype.itemsize)
            if len(data) != n * dtype.itemsize:
                raise OSError(f"{info['location']} ends inside tensor {tensor.name!r}")
            yield np.frombuffer(data, dtype=dtype.newbyteorder("<"))
            left -= n
