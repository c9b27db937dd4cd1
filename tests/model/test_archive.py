"""The model.onnx.tar.gz archive zoo writes: the same bytes from the same model."""

from __future__ import annotations

import io

from zoo_repo.model.archive import write_onnx_archive


def test_archive_is_deterministic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    onnx_file = tmp_path / "model.onnx"
    onnx_file.write_bytes(b"\x08\x07" * 5000)
    first, second = io.BytesIO(), io.BytesIO()
    write_onnx_archive(onnx_file, first)
    onnx_file.touch()  # a new mtime must not change the bytes
    write_onnx_archive(onnx_file, second)
    assert first.getvalue() == second.getvalue()
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(first.getvalue())) as tar:
        assert tar.getnames() == ["model.onnx"]
        assert tar.extractfile("model.onnx").read() == onnx_file.read_bytes()  # type: ignore[union-attr]
