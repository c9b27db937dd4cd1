"""Publish-time validation: the files are what their roles say, and the model
reproduces its own sample outputs. Imports onnx, onnxruntime and numpy lazily.

Every refusal is a ModelDirError naming the file and what was expected.
"""

from __future__ import annotations

import functools
import hashlib
import io
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from zoo_repo.core import yamltext
from zoo_repo.core.publishing import NOT_COMPARED
from zoo_repo.core.validation import SAMPLE_SUFFIXES as SAMPLE_SUFFIXES  # where publish reads it
from zoo_repo.core.validation import TEST_SET, sample_unit
from zoo_repo.errors import ModelDirError
from zoo_repo.model import archive as archives

DEFAULT_RTOL = 1e-3
DEFAULT_ATOL = 1e-5
# The checker's full mode (with shape inference) loads the model into memory.
FULL_CHECK_MAX = 1 << 30


@dataclass(frozen=True)
class Validation:
    """What publish checked, recorded in the manifest."""

    onnx: dict[str, Any] = field(default_factory=dict)  # opset, inputs, outputs
    run: dict[str, Any] = field(default_factory=dict)  # samples compared, tolerances, or why skipped


def inspect_onnx(path: Path, relpath: str = "model.onnx") -> dict[str, Any]:
    """Check the ONNX model and describe it: its interface (opset, inputs, outputs),
    then the facts ``model.facts`` measures (its external data is read from beside ``path``)."""
    import onnx

    from zoo_repo.model import facts

    try:
        size = path.stat().st_size
        # By path, so models over 2 GB (external data) are checked too.
        onnx.checker.check_model(str(path), full_check=size <= FULL_CHECK_MAX)
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises ValidationError, DecodeError, OSError…
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelDirError(relpath, f"is not a valid ONNX model: {first}") from exc
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    initializers = {i.name for i in model.graph.initializer}
    try:
        measured = facts.measure(model, path.parent)
    except OSError as exc:
        raise ModelDirError(relpath, f"its external data cannot be read: {exc}") from exc
    return {
        "ir_version": int(model.ir_version),
        "opset": int(opset),
        "inputs": [_value_info(v) for v in model.graph.input if v.name not in initializers],
        "outputs": [_value_info(v) for v in model.graph.output],
        **measured,
    }


def _value_info(value: Any) -> dict[str, Any]:
    import onnx

    tensor = value.type.tensor_type
    shape = [d.dim_param or (d.dim_value if d.HasField("dim_value") else None) for d in tensor.shape.dim]
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name if tensor.elem_type else None
    return {"name": value.name, "dtype": dtype, "shape": shape}


def check_archive(archive: Path, onnx_path: Path, relpath: str = "model.onnx.tar.gz",
                  data: Sequence[tuple[str, Path]] = ()) -> None:
    """The archive holds exactly ``model.onnx`` and its external ``data`` (name in
    the model, path of the bytes), regular files with the same bytes."""
    expected = dict([("model.onnx", onnx_path), *data])
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            if sorted(names) != sorted(expected):
                raise ModelDirError(relpath, f"must contain exactly {', '.join(sorted(expected))[:200]}; "
                                             f"it contains {names[:5]}")
            for member in members:
                _same_member(tar, member, expected[member.name], relpath)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ModelDirError(relpath, f"is not a readable .tar.gz: {exc}") from exc


def _same_member(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path, relpath: str) -> None:
    if not member.isfile():
        raise ModelDirError(relpath, f"{member.name} in it is a link or special entry, not a regular file")
    if member.size != path.stat().st_size:  # before inflating a byte of it
        raise ModelDirError(relpath, f"its {member.name} differs from the {member.name} beside it")
    want, got = hashlib.sha256(), hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            want.update(chunk)
    src = tar.extractfile(member)
    assert src is not None  # a regular file always has a body
    while chunk := src.read(1 << 20):
        got.update(chunk)
    if got.hexdigest() != want.hexdigest():
        raise ModelDirError(relpath, f"its {member.name} differs from the {member.name} beside it")


def check_recipe(path: Path, relpath: str) -> None:
    """A recipe is YAML, or Markdown with YAML front matter."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ModelDirError(relpath, "is not UTF-8 text") from exc
    if relpath.endswith(".md"):
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            raise ModelDirError(relpath, "a Markdown recipe needs YAML front matter ('---' first line)")
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), None)
        if end is None:
            raise ModelDirError(relpath, "front matter is not closed by a '---' line")
        text = "\n".join(lines[1:end])
    try:
        yamltext.load(text, tags=True)
    except yamltext.YamlProblem as exc:
        raise ModelDirError(relpath, f"is not valid YAML: {exc}") from exc


def _safe_member(member: tarfile.TarInfo, relpath: str) -> None:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise ModelDirError(relpath, f"member {member.name!r} would land outside its folder")
    if member.issym() or member.islnk():
        raise ModelDirError(relpath, f"member {member.name!r} is a link; samples must be regular files")
    if not (member.isfile() or member.isdir()):
        raise ModelDirError(relpath, f"member {member.name!r} is a special file")


def check_tar_members(path: Path, relpath: str) -> None:
    """Every member of a sample archive stays inside it and is a regular file or folder;
    read as a stream with caps (a small .tar.gz may inflate a thousandfold)."""
    archives.sample_members(path, relpath, lambda m: _safe_member(m, relpath), keep=lambda name: False)


class Sample(NamedTuple):
    """One sample of a role: a .npy/.npz/.pb file (or .tar.gz member), or a
    test_data_set_N folder's input_K.pb (output_K.pb) files, as (name, bytes)."""

    name: str
    parts: tuple[tuple[str, bytes], ...]


def check_sample_format(relpath: str) -> None:
    """A file among the sample inputs or outputs is one that validation reads: never ignored."""
    if not relpath.endswith(".tar.gz") and sample_unit(relpath) is None:
        raise ModelDirError(relpath, "is no sample format: expected .npy, .npz, .pb (onnx.TensorProto) "
                                     "or a .tar.gz of them, or test_data_set_N/input_K.pb / output_K.pb")


def sample_blobs(files: list[tuple[str, Path]]) -> list[Sample]:
    """Each sample of a role, from its folder, its .tar.gz or its test_data_set_N
    folders, sorted by name (the i-th input goes with the i-th output)."""
    units: dict[str, list[tuple[str, bytes]]] = {}
    for rel, path in files:
        if rel.endswith(".tar.gz"):
            for name, data in archives.sample_members(
                    path, rel, functools.partial(_safe_member, relpath=rel),
                    keep=lambda name: name.endswith(SAMPLE_SUFFIXES)):
                units[f"{rel}:{name}"] = [(f"{rel}:{name}", data)]
        elif (unit := sample_unit(rel)) is not None:
            # The copy is the file as scanned: read_bytes is bounded by its size.
            units.setdefault(unit, []).append((rel, path.read_bytes()))
    return [Sample(unit, tuple(sorted(parts))) for unit, parts in sorted(units.items())]


def _is_test_set(name: str) -> bool:
    return TEST_SET.fullmatch(name + "/") is not None


def _tensor(name: str, data: bytes, expected: str) -> Any:
    """A serialized onnx.TensorProto as an array; its name, when set, is the graph's."""
    import onnx
    from onnx import numpy_helper

    tensor = onnx.TensorProto()
    try:
        tensor.ParseFromString(data)
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise ValueError("it refers to external data; a sample holds its own bytes")
        array = numpy_helper.to_array(tensor)
    except Exception as exc:  # protobuf's DecodeError, onnx's TypeError/ValueError…
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelDirError(name, f"is not a serialized onnx.TensorProto: {first[:200]}") from exc
    if tensor.name and tensor.name != expected:
        raise ModelDirError(name, f"holds tensor {tensor.name!r}; model.onnx names this one {expected!r}")
    return array


def _test_set(sample: Sample, names: list[str]) -> dict[str, Any]:
    """A test_data_set_N folder's tensors: input_K.pb is the graph's K-th input (outputs alike)."""
    by_position: dict[int, tuple[str, bytes]] = {}
    kind = "input"
    for rel, data in sample.parts:
        match = TEST_SET.match(rel)
        assert match is not None and match.group(3) is not None  # sample_unit grouped only these
        kind = match.group(2)
        by_position[int(match.group(3))] = (rel, data)
    if sorted(by_position) != list(range(len(names))):
        found = ", ".join(rel.rsplit("/", 1)[1] for _, (rel, _) in sorted(by_position.items()))
        raise ModelDirError(sample.name, f"holds {found[:120]}; expected {kind}_0.pb to {kind}_{len(names) - 1}.pb "
                                         f"for model.onnx's {len(names)} {kind}s ({', '.join(names)[:120]})")
    return {n: _tensor(*by_position[k], n) for k, n in enumerate(names)}


def _arrays(sample: Sample, names: list[str]) -> dict[str, Any]:
    """A sample's arrays by tensor name (.npz keys, else the interface's order)."""
    import numpy as np

    if _is_test_set(sample.name):
        return _test_set(sample, names)
    (name, data), = sample.parts
    if name.endswith(".pb"):
        if len(names) != 1:
            raise ModelDirError(name, f"holds one tensor; the model has {len(names)} tensors here: "
                                      "use test_data_set_N/ or .npz")
        return {names[0]: _tensor(name, data, names[0])}
    if not data.startswith((b"\x93NUMPY", b"PK\x03\x04")):
        raise ModelDirError(name, "is not a NumPy .npy or .npz file")
    try:
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # numpy raises ValueError, OSError, EOFError…
        raise ModelDirError(name, f"is not a NumPy .npy/.npz file: {exc}") from exc
    if isinstance(loaded, np.ndarray):
        if len(names) != 1:
            raise ModelDirError(name, f"holds one array; the model has {len(names)} tensors here: use .npz")
        return {names[0]: loaded}
    with loaded:
        keys = list(loaded.keys())
        if set(keys) == set(names):
            return {k: loaded[k] for k in names}
        if len(keys) != len(names):
            raise ModelDirError(name, f"holds {len(keys)} arrays; expected {len(names)} ({', '.join(names)})")
        return {n: loaded[k] for n, k in zip(names, keys, strict=True)}


def run_samples(onnx_path: Path, inputs: list[Sample], outputs: list[Sample],
                interface: dict[str, Any], rtol: float, atol: float) -> dict[str, Any]:
    """Run every sample input through the model on the CPU; outputs, when there
    are any, must match the stored ones (without, the run proves the model executes)."""
    import numpy as np
    import onnxruntime as ort

    if outputs and len(inputs) != len(outputs):
        raise ModelDirError("sample-outputs", f"has {len(outputs)} samples for {len(inputs)} sample-inputs")
    in_names = [i["name"] for i in interface["inputs"]]
    out_names = [o["name"] for o in interface["outputs"]]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own exception types
        raise ModelDirError("model.onnx", f"onnxruntime cannot load it: {str(exc).splitlines()[0]}") from exc
    for index, sample in enumerate(inputs):
        feeds = _arrays(sample, in_names)
        try:
            got = session.run(out_names, feeds)
        except Exception as exc:  # onnxruntime's own exception types
            raise ModelDirError(sample.name, f"does not run through model.onnx: {str(exc).splitlines()[0]}") from exc
        if not outputs:
            continue
        stored = outputs[index]
        if (_is_test_set(sample.name) or _is_test_set(stored.name)) and stored.name != sample.name:
            raise ModelDirError(stored.name, f"is paired with {sample.name}: a test_data_set_N holds its "
                                             "own inputs and outputs")
        expected = _arrays(stored, out_names)
        for tensor, actual in zip(out_names, got, strict=True):
            _compare(stored.name, sample.name, tensor, actual, expected[tensor], rtol, atol, np)
    if not outputs:
        return {"samples": len(inputs), "not_compared": NOT_COMPARED}
    return {"samples": len(inputs), "rtol": rtol, "atol": atol, "outputs_match": True}


def _compare(out_name: str, in_name: str, tensor: str, actual: Any, want: Any,
             rtol: float, atol: float, np: Any) -> None:
    if actual.shape != want.shape:
        raise ModelDirError(out_name, f"output {tensor!r} has shape {list(want.shape)}; "
                                      f"model.onnx gives {list(actual.shape)}")
    if not np.allclose(actual, want, rtol=rtol, atol=atol, equal_nan=True):
        worst = float(np.max(np.abs(actual.astype(np.float64) - want.astype(np.float64))))
        raise ModelDirError(out_name, f"output {tensor!r} differs from what model.onnx gives for "
                                      f"{in_name} by up to {worst:.3g} (rtol {rtol:g}, atol {atol:g})")
