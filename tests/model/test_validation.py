"""Publish-time validation: the model runs and reproduces its own sample outputs."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import STUB
from zoo_repo import CardError, ModelDirError, Zoo


def _nothing_written(zoo: Zoo) -> bool:
    return list(zoo.store.oids()) == [] and zoo.versions(STUB) == []


def test_the_manifest_records_the_interface_and_the_sample_run(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = zoo.publish(model_dir, STUB).manifest
    assert manifest.onnx["opset"] == 13
    assert manifest.onnx["inputs"] == [{"name": "input", "dtype": "float32", "shape": ["batch", 1, 28, 28]}]
    assert manifest.onnx["outputs"] == [{"name": "output", "dtype": "float32", "shape": ["batch", 10]}]
    assert manifest.validation == {"samples": 4, "rtol": 1e-3, "atol": 1e-5, "outputs_match": True}
    text = (zoo.version_dir(manifest.stub, 1) / "manifest.yaml").read_text()
    assert "- {name: input, dtype: float32, shape: [batch, 1, 28, 28]}" in text
    shown = json.loads(cli("--zoo", zoo.root, "show", STUB, "--json").stdout)
    assert shown["validation"]["outputs_match"] is True


def test_an_output_that_the_model_does_not_reproduce_is_refused(zoo: Zoo, model_dir: Path) -> None:
    out = model_dir / "sample-outputs" / "out-0002.npy"
    data = np.load(out)
    data[0, 3] += 0.05
    np.save(out, data)
    with pytest.raises(ModelDirError) as info:
        zoo.publish(model_dir, STUB)
    message = str(info.value)
    assert message.startswith("sample-outputs/out-0002.npy: output 'output' differs from what model.onnx gives")
    assert "for sample-inputs/inp-0002.npy by up to 0.05" in message and "(rtol 0.001, atol 1e-05)" in message
    assert _nothing_written(zoo)
    loose = zoo.publish(model_dir, STUB, atol=0.1).manifest  # a looser tolerance, recorded
    assert loose.validation["atol"] == 0.1


def test_no_run_is_recorded(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    np.save(model_dir / "sample-outputs" / "out-0000.npy", np.zeros((1, 10), np.float32))
    result = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--no-run", "--json")
    assert result.exit_code == 0, result.stderr
    assert zoo.manifest(STUB, 1).validation == {"skipped": "--no-run"}


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE,
            link: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    return info, data if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize(
    ("members", "fragment"),
    [
        ("other", "its model.onnx differs from the model.onnx beside it"),
        ("extra", "must contain exactly model.onnx"),
        ("symlink", "is a link or special entry"),
        ("garbage", "is not a readable .tar.gz"),
    ],
)
def test_a_given_archive_must_hold_exactly_the_model(zoo: Zoo, model_dir: Path, members: str, fragment: str) -> None:
    onnx = (model_dir / "model.onnx").read_bytes()
    archive = model_dir / "model.onnx.tar.gz"
    if members == "other":
        archive.write_bytes(_tar([_member("model.onnx", onnx[:-1] + b"\x00")]))
    elif members == "extra":
        archive.write_bytes(_tar([_member("model.onnx", onnx), _member("notes.txt", b"x")]))
    elif members == "symlink":
        archive.write_bytes(_tar([_member("model.onnx", kind=tarfile.SYMTYPE, link="/etc/passwd")]))
    else:
        archive.write_bytes(os.urandom(200))
    with pytest.raises(ModelDirError, match=fragment):
        zoo.publish(model_dir, STUB)
    assert _nothing_written(zoo)


def test_a_correct_archive_is_kept_as_given(zoo: Zoo, model_dir: Path) -> None:
    onnx = (model_dir / "model.onnx").read_bytes()
    given = _tar([_member("model.onnx", onnx)])
    (model_dir / "model.onnx.tar.gz").write_bytes(given)
    manifest = zoo.publish(model_dir, STUB).manifest
    entry = next(f for f in manifest.files if f.path == "model.onnx.tar.gz")
    assert entry.size == len(given)


@pytest.mark.parametrize(
    ("setup", "error", "fragment"),
    [
        (lambda d: (d / "recipes" / "original.md").write_text("---\nmodifiers: [unclosed\n---\n"), ModelDirError,
         "recipes/original.md: is not valid YAML"),
        (lambda d: (d / "recipes" / "transfer.yaml").write_text("a: 1\na: 2\n"), ModelDirError,
         "recipes/transfer.yaml: is not valid YAML: line 2: duplicate key 'a'"),
        (lambda d: (d / "sample-labels" / "lab-0009.npy").write_bytes(b"x"), ModelDirError,
         "sample-labels: has 5 labels for 4 sample-inputs"),
        (lambda d: (d / "sample-inputs" / "inp-0001.npy").write_bytes(b"not numpy"), ModelDirError,
         "sample-inputs/inp-0001.npy: is not a NumPy .npy or .npz file"),
        (lambda d: np.save(d / "sample-inputs" / "inp-0001.npy", np.zeros((1, 3), np.float32)), ModelDirError,
         "sample-inputs/inp-0001.npy: does not run through model.onnx"),
        (lambda d: (d / "sample-outputs" / "out-0003.npy").unlink(), ModelDirError,
         "sample-outputs: has 3 samples for 4 sample-inputs"),
        (lambda d: (d / "model.md").write_text((d / "model.md").read_text().replace("unit: '%'", "unit: percent")),
         CardError, "metrics[0].unit 'percent' is not a known unit"),
    ],
)
def test_broken_parts_are_refused(zoo: Zoo, model_dir: Path, setup, error: type, fragment: str) -> None:  # type: ignore[no-untyped-def]
    setup(model_dir)
    with pytest.raises(error) as info:
        zoo.publish(model_dir, STUB)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert _nothing_written(zoo)


def test_samples_in_tar_gz_are_run_too(zoo: Zoo, model_dir: Path) -> None:
    for role, _prefix in (("sample-inputs", "inp"), ("sample-outputs", "out")):
        folder = model_dir / role
        members = [_member(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
        (model_dir / f"{role}.tar.gz").write_bytes(_tar(members))
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
    assert zoo.publish(model_dir, STUB).manifest.validation["samples"] == 4


@pytest.mark.parametrize(
    ("member", "fragment"),
    [
        (_member("../../etc/evil.jpg", b"x"), "member '../../etc/evil.jpg' would land outside its folder"),
        (_member("/etc/evil.jpg", b"x"), "member '/etc/evil.jpg' would land outside its folder"),
        (_member("img.jpg", kind=tarfile.SYMTYPE, link="/etc/shadow"), "member 'img.jpg' is a link"),
        (_member("img2.jpg", kind=tarfile.LNKTYPE, link="../../x"), "member 'img2.jpg' is a link"),
        (_member("dev", kind=tarfile.CHRTYPE), "member 'dev' is a special file"),
    ],
)
def test_tar_members_that_escape_are_refused(zoo: Zoo, model_dir: Path, member, fragment: str) -> None:  # type: ignore[no-untyped-def]
    (model_dir / "sample-originals.tar.gz").write_bytes(_tar([member]))
    with pytest.raises(ModelDirError, match=fragment.replace("(", r"\(")):
        zoo.publish(model_dir, STUB)
    assert _nothing_written(zoo)
