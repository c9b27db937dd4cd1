"""ONNX external data is part of the model: role onnx, pulled with --include onnx,
loaded by validation, inside model.onnx.tar.gz; bad references are refused."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.conftest import STUB, clone
from zoo_repo import ModelDirError, Zoo
from zoo_repo.ops import publishplan

DATA = "model.onnx.data"


def _externalise(model_dir: Path, location: str = DATA) -> None:
    """model.onnx saved again with every initializer in ``location`` (size_threshold=0)."""
    model = onnx.load(str(model_dir / "model.onnx"))
    onnx.save_model(model, str(model_dir / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=location, size_threshold=0)


def _rewrite_locations(model_dir: Path, location: str, drop_length: bool = False) -> None:
    """Point every external tensor of model.onnx at ``location`` (the data is not touched)."""
    model = onnx.load(str(model_dir / "model.onnx"), load_external_data=False)
    for tensor in model.graph.initializer:
        kept = [(e.key, e.value) for e in tensor.external_data if not (drop_length and e.key == "length")]
        del tensor.external_data[:]
        for key, value in kept:
            tensor.external_data.add(key=key, value=location if key == "location" else value)
    (model_dir / "model.onnx").write_bytes(model.SerializeToString())


def _runs(folder: Path, model_dir: Path) -> None:
    """onnxruntime loads ``folder``/model.onnx and reproduces the first sample output."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    feed = np.load(model_dir / "sample-inputs" / "inp-0000.npy")
    got = session.run(None, {session.get_inputs()[0].name: feed})[0]
    assert np.allclose(got, np.load(model_dir / "sample-outputs" / "out-0000.npy"), rtol=1e-3, atol=1e-5)


def _nothing_written(zoo: Zoo) -> bool:
    return list(zoo.store.oids()) == [] and zoo.versions(STUB) == []


@pytest.fixture
def external(model_dir: Path) -> Path:
    _externalise(model_dir)
    assert (model_dir / DATA).stat().st_size > 200_000  # the weights left the graph
    return model_dir


def test_external_data_publishes_with_the_onnx_role_and_pulls_with_it(zoo: Zoo, external: Path,
                                                                        tmp_path: Path) -> None:
    manifest = zoo.publish(external, STUB).manifest
    roles = {f.path: f.role for f in manifest.files}
    assert roles[DATA] == "onnx"
    assert manifest.validation["outputs_match"] is True  # the sample run loaded the data
    theirs = clone(zoo, tmp_path / "clone")
    theirs.pull(STUB, dest=tmp_path / "pulled", include=("onnx",))
    assert sorted(p.name for p in (tmp_path / "pulled").iterdir()) == ["model.onnx", DATA]
    _runs(tmp_path / "pulled", external)


def test_the_cli_pull_include_onnx_brings_the_data(cli, zoo: Zoo, external: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(external, STUB)
    out = cli("--zoo", zoo.root, "pull", STUB, "--include", "onnx", "--dest", tmp_path / "got")
    assert out.exit_code == 0, out.stderr
    _runs(tmp_path / "got", external)


def test_the_generated_archive_holds_the_data_and_loads(zoo: Zoo, external: Path, tmp_path: Path) -> None:
    manifest = zoo.publish(external, STUB).manifest
    entry = next(f for f in manifest.files if f.path == "model.onnx.tar.gz")
    data = zoo.store.path(entry.md5).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames() == ["model.onnx", DATA]
        tar.extractall(tmp_path / "unpacked", filter="data")
    _runs(tmp_path / "unpacked", external)
    # Deterministic: another zoo publishing the same directory makes the same bytes.
    other = Zoo.init(tmp_path / "zoo2", remote=str(tmp_path / "remote2"))
    again = next(f for f in other.publish(external, STUB).manifest.files if f.path == "model.onnx.tar.gz")
    assert again.sha256 == entry.sha256


def test_a_given_archive_without_the_data_is_refused(zoo: Zoo, external: Path) -> None:
    with tarfile.open(external / "model.onnx.tar.gz", "w:gz") as tar:
        tar.add(external / "model.onnx", arcname="model.onnx")
    with pytest.raises(ModelDirError, match=f"must contain exactly model.onnx, {DATA}"):
        zoo.publish(external, STUB)
    assert _nothing_written(zoo)


def test_above_the_limit_no_archive_is_generated_and_the_manifest_says_why(
        zoo: Zoo, external: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publishplan, "ARCHIVE_MAX_BYTES", 1000)
    result = zoo.publish(external, STUB)
    assert "model.onnx.tar.gz" not in {f.path for f in result.manifest.files}
    assert result.manifest.validation["archive"].startswith("not generated: model.onnx and its external data")
    assert result.archive_skipped == result.manifest.validation["archive"]


def _missing(model_dir: Path) -> None:
    (model_dir / DATA).unlink()


def _truncated(model_dir: Path) -> None:
    os.truncate(model_dir / DATA, (model_dir / DATA).stat().st_size // 2)


def _truncated_without_length(model_dir: Path) -> None:
    _rewrite_locations(model_dir, DATA, drop_length=True)  # sizes come from dims × dtype
    os.truncate(model_dir / DATA, (model_dir / DATA).stat().st_size - 4)


def _escapes(model_dir: Path) -> None:
    (model_dir.parent / "outside.data").write_bytes((model_dir / DATA).read_bytes())
    _rewrite_locations(model_dir, "../outside.data")


def _absolute(model_dir: Path) -> None:
    _rewrite_locations(model_dir, str(model_dir / DATA))


def _symlink_out(model_dir: Path) -> None:
    outside = model_dir.parent / "outside.data"
    (model_dir / DATA).rename(outside)
    (model_dir / DATA).symlink_to(outside)


@pytest.mark.parametrize(("how", "fragment"), [
    (_missing, f"{DATA}: is external data of model.onnx but is missing from the model directory"),
    (_truncated, f"{DATA}: holds "),
    (_truncated_without_length, "model.onnx declares tensors up to byte"),
    (_escapes, "model.onnx: external data location '../outside.data' is outside the model directory"),
    (_absolute, "is outside the model directory"),
    (_symlink_out, f"{DATA}: is a symlink to "),
], ids=["missing", "truncated", "truncated, no length", "..", "absolute", "symlink out"])
def test_bad_external_data_is_refused_in_one_line_and_nothing_is_written(
        zoo: Zoo, external: Path, how, fragment: str) -> None:  # type: ignore[no-untyped-def]
    how(external)
    with pytest.raises(ModelDirError) as info:
        zoo.publish(external, STUB)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert _nothing_written(zoo)


def test_a_model_without_external_data_keeps_its_archive_bytes(zoo: Zoo, model_dir: Path) -> None:
    from zoo_repo.model.archive import write_onnx_archive

    manifest = zoo.publish(model_dir, STUB).manifest
    entry = next(f for f in manifest.files if f.path == "model.onnx.tar.gz")
    out = io.BytesIO()
    write_onnx_archive(model_dir / "model.onnx", out)
    assert zoo.store.path(entry.md5).read_bytes() == out.getvalue()


def test_a_second_version_validates_from_the_stored_objects_side_by_side(zoo: Zoo, external: Path) -> None:
    zoo.publish(external, STUB)
    with open(external / "model.md", "a") as card:
        card.write("\nA second cut.\n")
    # The stat cache now serves model.onnx and its data from the store; the run still finds them together.
    second = zoo.publish(external, STUB).manifest
    assert second.version == 2 and second.validation["outputs_match"] is True


def test_data_named_to_sort_first_leaves_model_onnx_the_pulled_graph(zoo: Zoo, model_dir: Path,
                                                                     tmp_path: Path) -> None:
    _externalise(model_dir, location="aux.bin")
    zoo.publish(model_dir, STUB)
    pulled = zoo.pull(STUB, dest=tmp_path / "out", include=("onnx",))
    assert pulled.onnx_path == tmp_path / "out" / "model.onnx"
    _runs(tmp_path / "out", model_dir)


def test_another_graphs_data_takes_the_onnx_role_but_stays_out_of_the_archive(zoo: Zoo, model_dir: Path) -> None:
    model = onnx.load(str(model_dir / "model.onnx"))
    onnx.save_model(model, str(model_dir / "numpy" / "extra.onnx"), save_as_external_data=True,
                    location="extra.bin", size_threshold=0)
    manifest = zoo.publish(model_dir, STUB).manifest
    assert {f.path: f.role for f in manifest.files}["numpy/extra.bin"] == "onnx"
    entry = next(f for f in manifest.files if f.path == "model.onnx.tar.gz")
    with tarfile.open(zoo.store.path(entry.md5)) as tar:
        assert tar.getnames() == ["model.onnx"]
    os.truncate(model_dir / "numpy" / "extra.bin", 10)
    with pytest.raises(ModelDirError, match=r"^numpy/extra.bin: holds 10 bytes; numpy/extra.onnx declares"):
        zoo.publish(model_dir, STUB)


def test_the_cli_refuses_missing_data_with_exit_2_and_one_line(cli, zoo: Zoo, external: Path) -> None:  # type: ignore[no-untyped-def]
    _missing(external)
    out = cli("--zoo", zoo.root, "publish", external, "--stub", STUB)
    assert out.exit_code == 2
    assert f"{DATA}: is external data of model.onnx but is missing" in out.stderr
    assert _nothing_written(zoo)


def test_requirements_take_the_furthest_byte_and_size_packed_types_by_bits() -> None:
    from onnx import TensorProto, helper

    from zoo_repo.model import extdata

    def tensor(name: str, dtype: int, dims: list[int], **info: str) -> TensorProto:
        t = TensorProto(name=name, data_type=dtype, dims=dims)
        t.data_location = TensorProto.EXTERNAL
        for key, value in info.items():
            t.external_data.add(key=key, value=value)
        return t

    graph = helper.make_graph([], "g", [], [], [
        tensor("a", TensorProto.FLOAT, [4], location="w.bin", offset="100", length="16"),
        tensor("b", TensorProto.FLOAT, [2], location="./w.bin", offset="0", length="8"),
        tensor("c", TensorProto.INT4, [3, 5], location="sub/q.bin", offset="4"),  # no length: 15 nibbles = 8 bytes
    ])
    data = helper.make_model(graph).SerializeToString()
    assert extdata.requirements(io.BytesIO(data), "m/model.onnx") == {"m/w.bin": 116, "m/sub/q.bin": 12}


def test_data_in_a_subfolder_publishes_and_its_archive_loads(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    (model_dir / "weights").mkdir()
    _externalise(model_dir, location="weights/model.bin")
    manifest = zoo.publish(model_dir, STUB).manifest
    assert {f.path: f.role for f in manifest.files}["weights/model.bin"] == "onnx"
    entry = next(f for f in manifest.files if f.path == "model.onnx.tar.gz")
    with tarfile.open(zoo.store.path(entry.md5)) as tar:
        assert tar.getnames() == ["model.onnx", "weights/model.bin"]
        tar.extractall(tmp_path / "unpacked", filter="data")
    _runs(tmp_path / "unpacked", model_dir)
