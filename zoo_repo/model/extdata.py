"""ONNX external data: the files an ``.onnx`` graph keeps its tensors in are part of the model.

A graph saved with ``save_as_external_data`` names, per tensor, a ``location``
(relative to the graph's own folder), an ``offset`` and a ``length``. Without
those files onnxruntime cannot load the graph, so they take the ``onnx`` role
(pulled with ``--include onnx``, archived beside model.onnx). Publish checks
each reference against the scanned files by their sizes only: the data itself
is never read here (it may be many GiB). Imports onnx lazily.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import IO, Any

from zoo_repo.errors import ModelDirError

# What a referenced file may already be: weights beside the graph, or under the framework folder.
_RETAGGABLE = ("other", "framework")


def requirements(graph: IO[bytes], relpath: str) -> dict[str, int]:
    """The files the ONNX graph ``relpath`` (read from ``graph``) keeps tensors in,
    as paths inside the model directory, each with the least size its tensors need.

    ModelDirError for a graph that does not parse, or a location that is absolute
    or climbs out of the model directory (``..``)."""
    import onnx
    from onnx import external_data_helper as ext

    try:
        # From bytes: onnx.load takes a file object's name for a path, and an fd has none.
        # The graph is held once, as onnx.load would; the data files are never read.
        model = onnx.load_model_from_string(graph.read())
    except Exception as exc:  # DecodeError, OSError…
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelDirError(relpath, f"is not a valid ONNX model: {first}") from exc
    folder = posixpath.dirname(relpath)
    needed: dict[str, int] = {}
    for tensor in ext._get_all_tensors(model):
        if not ext.uses_external_data(tensor):
            continue
        info = {e.key: e.value for e in tensor.external_data}
        location = _inside(info.get("location", ""), folder, relpath)
        offset = _number(info.get("offset", "0"), "offset", relpath, tensor.name)
        length = info.get("length")
        size = _number(length, "length", relpath, tensor.name) if length is not None else _dense_size(tensor)
        needed[location] = max(needed.get(location, 0), offset + size)
    return needed


def _inside(location: str, folder: str, relpath: str) -> str:
    """``location`` as a path inside the model directory; refused when it leaves it."""
    where = PurePosixPath(location)
    if not location or "\\" in location or where.is_absolute() or ".." in where.parts:
        raise ModelDirError(relpath, f"external data location {location!r} is outside the model directory; "
                                     "expected a path beside the graph (save with location='NAME.data')")
    return posixpath.normpath(posixpath.join(folder, location))


def _number(value: str, key: str, relpath: str, tensor: str) -> int:
    if not value.isdigit():
        raise ModelDirError(relpath, f"tensor {tensor[:80]!r} has external data {key} {value[:40]!r}; "
                                     "expected a non-negative integer")
    return int(value)


# Types stored packed, several to a byte: numpy's itemsize (1) would overstate them.
_BITS = {"INT4": 4, "UINT4": 4, "FLOAT4E2M1": 4, "INT2": 2, "UINT2": 2}


def _dense_size(tensor: Any) -> int:
    """Bytes a tensor without a declared ``length`` occupies: its dims times its dtype's size."""
    from onnx import TensorProto, helper

    count = 1
    for dim in tensor.dims:
        count *= dim
    try:
        name = TensorProto.DataType.Name(tensor.data_type)
        if name in _BITS:
            return (count * _BITS[name] + 7) // 8
        if name == "STRING":  # variable length: nothing to check
            return 0
        return count * helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, TypeError, ValueError):  # a dtype this onnx does not know: nothing to check
        return 0


def check(needed: dict[str, dict[str, int]], roles: dict[str, str], size_of: Callable[[str], int],
          ignored: Sequence[str] = ()) -> set[str]:
    """The data files that ``needed`` (per graph: location → least size) names,
    once each is known to be a file of the model that is large enough (``size_of``
    stats it; it is never read). One line naming the file for one that is missing
    (or ``ignored``: paths, folders ending in "/"), too small, or plays another
    role (a card, a sample)."""
    out: set[str] = set()
    for graph, locations in sorted(needed.items()):
        for location, least in sorted(locations.items()):
            role = roles.get(location)
            if role is None and any(location == p or location.startswith(p) for p in ignored if p):
                raise ModelDirError(location, f"is external data of {graph} but .zooignore (or a default) "
                                              "ignores it; expected patterns that leave it in")
            if role is None:
                raise ModelDirError(location, f"is external data of {graph} but is missing from the model "
                                              "directory; expected it beside the graph")
            if role not in _RETAGGABLE:
                raise ModelDirError(location, f"is external data of {graph} but is the model's {role} file; "
                                              "expected a data file of its own")
            size = size_of(location)
            if size < least:
                raise ModelDirError(location, f"holds {size:,} bytes; {graph} declares tensors up to byte "
                                              f"{least:,} in it (truncated?)")
            out.add(location)
    return out
