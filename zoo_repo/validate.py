"""Checks that a model's files are what their role says. Imports onnx lazily."""

from __future__ import annotations

from pathlib import Path

from .errors import ModelDirError


def check_onnx(path: Path, relpath: str = "model.onnx") -> None:
    """Refuse a file that the ONNX checker does not accept as a model."""
    import onnx

    try:
        # By path, so models over 2 GB (external data) are checked too.
        onnx.checker.check_model(str(path))
    except Exception as exc:  # onnx raises ValidationError, DecodeError, OSError…
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelDirError(relpath, f"is not a valid ONNX model: {first}") from exc
