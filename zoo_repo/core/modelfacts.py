"""Model facts as a reviewer reads them: a summary, the changes between two
versions (and which of them break a consumer), and whether the stub's sparse
name says what was measured. Pure: it reads a manifest's ``onnx`` record.

A change breaks a consumer when code written against the old version can
fail on the new one: an input it must feed appeared, one it feeds vanished
or moved (runtimes such as DeepSparse take inputs by position), a dtype
changed, a fixed dimension changed or a dynamic one became fixed, an output
it reads vanished or lost a fixed dimension, or the graph needs a newer IR
version or opset (or a new operator domain) than its runtime may have.
Sizes, sparsity and quantized ops change without breaking anyone.

Anything of another type in a manifest counts as not recorded: a reader
never trusts the record's shape (``check`` refuses it separately).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from zoo_repo.core.stub import Stub

PRUNED_MIN = 0.10  # a "pruned…" model with fewer zero weights than this is not pruned
PRUNED_TOLERANCE = 0.05  # "pruned95" at 90 % zeros is fine; at 89.9 % it is not
_PRUNED = re.compile(r"pruned([0-9]{1,2})?$")


@dataclass(frozen=True)
class FactChange:
    """One fact that differs between two versions; None where it is absent."""

    what: str  # "opset", "input 'x' shape", "sparsity"…
    before: str | None
    after: str | None
    breaking: bool

    def line(self) -> str:
        """``input 'x' shape [1, 3] → [2, 3] (breaking)``."""
        before = self.before if self.before is not None else "(none)"
        after = self.after if self.after is not None else "(none)"
        return f"{self.what}: {before} → {after}" + (" (breaking)" if self.breaking else "")


def _tensors(onnx: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = onnx.get(key)
    if not isinstance(value, list):
        return []
    return [t for t in value if isinstance(t, dict) and isinstance(t.get("name"), str)]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def shape_text(shape: Any) -> str:
    if not isinstance(shape, list):
        return "?"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def tensor_text(t: dict[str, Any]) -> str:
    """``input float32 [batch, 1, 28, 28]``."""
    return f"{t['name']} {t.get('dtype') or '?'} {shape_text(t.get('shape'))}"


def _fixed(d: Any) -> bool:
    return isinstance(d, int) and not isinstance(d, bool)


def _shape_breaks(old: Any, new: Any, is_input: bool) -> bool:
    """A consumer's tensor of shape ``old`` no longer fits ``new``."""
    if not isinstance(old, list) or not isinstance(new, list) or len(old) != len(new):
        return True
    for a, b in zip(old, new, strict=True):
        if _fixed(a) and _fixed(b) and a != b:
            return True
        # An input that was dynamic and is now fixed refuses what it took; an
        # output that was fixed and is now dynamic gives what a caller did not size for.
        if (is_input and not _fixed(a) and _fixed(b)) or (not is_input and _fixed(a) and not _fixed(b)):
            return True
    return False


def _interface(a: dict[str, Any], b: dict[str, Any], key: str) -> list[FactChange]:
    is_input = key == "inputs"
    kind = key[:-1]
    old, new = _tensors(a, key), _tensors(b, key)
    before, after = {t["name"]: t for t in old}, {t["name"]: t for t in new}
    out = []
    for name in [t["name"] for t in old if t["name"] not in after]:
        out.append(FactChange(f"{kind} {name!r}", tensor_text(before[name]), None, True))
    for name in [t["name"] for t in new if t["name"] not in before]:
        out.append(FactChange(f"{kind} {name!r}", None, tensor_text(after[name]), is_input))
    for name in [t["name"] for t in new if t["name"] in before]:
        x, y = before[name], after[name]
        if x.get("dtype") != y.get("dtype"):
            out.append(FactChange(f"{kind} {name!r} dtype", str(x.get("dtype")), str(y.get("dtype")), True))
        if x.get("shape") != y.get("shape"):
            out.append(FactChange(f"{kind} {name!r} shape", shape_text(x.get("shape")), shape_text(y.get("shape")),
                                  _shape_breaks(x.get("shape"), y.get("shape"), is_input)))
    kept_old = [t["name"] for t in old if t["name"] in after]
    kept_new = [t["name"] for t in new if t["name"] in before]
    if kept_old != kept_new:
        out.append(FactChange(f"{key} order", ", ".join(kept_old), ", ".join(kept_new), is_input))
    return out


def _opsets(onnx: dict[str, Any]) -> dict[str, int]:
    found = onnx.get("opsets")
    out = {k: v for k, v in found.items() if isinstance(k, str) and _int(v) is not None} \
        if isinstance(found, dict) else {}
    if not out and _int(onnx.get("opset")) is not None:
        out["ai.onnx"] = onnx["opset"]
    return out


def _runtime(a: dict[str, Any], b: dict[str, Any]) -> list[FactChange]:
    out = []
    old, new = _int(a.get("ir_version")), _int(b.get("ir_version"))
    if old != new:
        out.append(FactChange("IR version", _opt(old), _opt(new), old is not None and new is not None and new > old))
    before, after = _opsets(a), _opsets(b)
    for domain in sorted(before.keys() | after.keys()):
        x, y = before.get(domain), after.get(domain)
        if x != y:
            label = "opset" if domain == "ai.onnx" else f"opset {domain}"
            out.append(FactChange(label, _opt(x), _opt(y), y is not None and (x is None or y > x)))
    return out


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def zeros(onnx: dict[str, Any]) -> float | None:
    """The fraction of zero-valued weights measured at publish; None when not measured."""
    sparsity = onnx.get("sparsity")
    return _number(sparsity.get("zeros")) if isinstance(sparsity, dict) else None


def quantized_ops(onnx: dict[str, Any]) -> dict[str, int] | None:
    found = onnx.get("quantized_ops")
    if not isinstance(found, dict):
        return None
    return {k: v for k, v in found.items() if isinstance(k, str) and _int(v) is not None}


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _sizes(a: dict[str, Any], b: dict[str, Any]) -> list[FactChange]:
    out = []
    for key in ("parameters", "initializers"):
        x, y = _int(a.get(key)), _int(b.get(key))
        if x != y:
            out.append(FactChange(key, None if x is None else f"{x:,}", None if y is None else f"{y:,}", False))
    za, zb = zeros(a), zeros(b)
    if za != zb:
        out.append(FactChange("zero weights", None if za is None else percent(za),
                              None if zb is None else percent(zb), False))
    qa, qb = quantized_ops(a), quantized_ops(b)
    if qa != qb:
        out.append(FactChange("quantized ops", _ops_text(qa), _ops_text(qb), False))
    return out


def _ops_text(ops: dict[str, int] | None) -> str | None:
    if ops is None:
        return None
    return ", ".join(f"{k}×{v}" for k, v in sorted(ops.items())) or "none"


def compare(a: dict[str, Any], b: dict[str, Any]) -> tuple[FactChange, ...]:
    """What changes from model facts ``a`` to ``b``: breaking interface changes first."""
    if not a or not b:  # a side that was never inspected says nothing about changes
        return ()
    changes = [*_interface(a, b, "inputs"), *_interface(a, b, "outputs"), *_runtime(a, b), *_sizes(a, b)]
    return tuple(sorted(changes, key=lambda c: not c.breaking))


def summary(onnx: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts as ``(label, text)`` lines, for ``zoo show`` and the review."""
    if not onnx:
        return []
    opsets = _opsets(onnx)
    runtime = [f"IR {onnx['ir_version']}"] if _int(onnx.get("ir_version")) is not None else []
    runtime += [("opset " if d == "ai.onnx" else f"{d} ") + str(v) for d, v in sorted(
        opsets.items(), key=lambda kv: kv[0] != "ai.onnx")]
    lines = [("onnx", ", ".join(runtime) or "?")]
    lines += [("input", tensor_text(t)) for t in _tensors(onnx, "inputs")]
    lines += [("output", tensor_text(t)) for t in _tensors(onnx, "outputs")]
    params, inits = _int(onnx.get("parameters")), _int(onnx.get("initializers"))
    if params is not None:
        lines.append(("parameters", f"{params:,}" + (f" in {inits:,} initializers" if inits is not None else "")))
    share = zeros(onnx)
    if share is not None:
        layers = onnx["sparsity"].get("layers")
        named = [f"{x['name']} {percent(x['zeros'])}" for x in layers or []
                 if isinstance(x, dict) and isinstance(x.get("name"), str) and _number(x.get("zeros")) is not None]
        lines.append(("sparsity", f"{percent(share)} zero weights" + (f" (largest: {', '.join(named)})"
                                                                    if named else "")))
    ops = quantized_ops(onnx)
    if ops is not None:
        lines.append(("quantized ops", _ops_text(ops) or "none"))
    return lines


def name_disagreements(stub: Stub, onnx: dict[str, Any], pruned_min: float = PRUNED_MIN,
                       tolerance: float = PRUNED_TOLERANCE) -> list[str]:
    """Where ``stub``'s sparse name says what the measured facts do not: ``pruned``
    under ``pruned_min`` zero weights (``prunedNN`` under NN % less ``tolerance``),
    ``quant`` without quantized ops, quantized ops without ``quant``. Nothing for
    facts that were not measured."""
    words = stub.sparse_name.split("_")
    found = []
    share = zeros(onnx)
    for word in words:
        match = _PRUNED.fullmatch(word)
        if match is None or share is None:
            continue
        target = int(match.group(1)) / 100 - tolerance if match.group(1) else pruned_min
        if share < target:
            found.append(f"sparse name {stub.sparse_name!r} says {word}, but {percent(share)} of the weights are "
                         f"zero (expected at least {percent(target)})")
    ops = quantized_ops(onnx)
    says_quant = any(w.strip("0123456789") == "quant" for w in words)
    if ops is not None and says_quant and not ops:
        found.append(f"sparse name {stub.sparse_name!r} says quant, but the graph has no quantized ops")
    if ops and not says_quant:
        found.append(f"the graph has quantized ops ({_ops_text(ops)}), but sparse name {stub.sparse_name!r} "
                     "does not say quant")
    return found
