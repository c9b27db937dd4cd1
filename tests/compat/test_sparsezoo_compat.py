"""``zoo_repo.compat.sparsezoo.Model``, used as SparseZoo's README used ``sparsezoo.Model``,
on a SparseZoo download imported and published for real (git + DVC), resolved through a
checkout, a git-less directory remote and a lockfile; onnxruntime runs the pulled graph."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.conftest import hermetic_env, hermetic_home, tree_bytes
from tests.sparsezoo_download import SAMPLES, STUB, make_download
from zoo_repo import Zoo
from zoo_repo.compat.sparsezoo import Model
from zoo_repo.errors import NotFound
from zoo_repo.ops.import_sparsezoo import import_sparsezoo


@dataclass(frozen=True)
class Published:
    zoo: Zoo
    remote: Path
    lockfile: Path
    imported: Path


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    base = tmp_path_factory.mktemp("sz-compat")
    with hermetic_home(base / "publisher-home"):
        zoo = Zoo.init(base / "zoo", remote=str(base / "remote"))
        imported = import_sparsezoo(make_download(base / "dl"), STUB, base / "model").dest
        zoo.publish(imported, STUB)
        zoo.lock([f"zoo:{STUB}"], base / "zoo.lock")
        yield Published(zoo, base / "remote", base / "zoo.lock", imported)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Another machine: a fresh home and cache, no checkout in its working directory."""
    for var, value in hermetic_env(tmp_path / "home").items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("ZOO_REPO", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _runs_as_published(model: Model) -> None:
    """What SparseZoo users did: load the graph, run the sample inputs, compare to the outputs."""
    assert model.onnx_model is not None and model.sample_inputs is not None and model.sample_outputs is not None
    sess = ort.InferenceSession(model.onnx_model.path, providers=["CPUExecutionProvider"])
    inputs, outputs = list(model.sample_inputs), list(model.sample_outputs["onnxruntime"])
    assert len(inputs) == len(outputs) == SAMPLES
    for sample, expected in zip(inputs, outputs, strict=True):
        got = sess.run(None, dict(sample))
        assert np.allclose(got[0], expected["output"], atol=1e-6)
    batch = model.sample_inputs.sample_batch(batch_size=2)
    assert batch[0].shape == (2, 4) and sess.run(None, {"input": batch[0]})[0].shape == (2, 3)


def test_through_a_checkout_as_sparsezoos_readme(published: Published, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_REPO", str(published.zoo.root))
    model = Model(f"zoo:{STUB}", download_path=tmp_path / "model_download_directory")
    assert str(model) == f"Model(stub=zoo:{STUB}@v1)"
    assert not (tmp_path / "model_download_directory").exists()  # lazy: nothing pulled yet
    onnx_path = model.onnx_model.path  # type: ignore[union-attr]
    assert sorted(p.name for p in (tmp_path / "model_download_directory").iterdir()) == ["model.onnx"]
    ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    _runs_as_published(model)
    assert model.model_card is not None and Path(model.model_card.path).read_text().startswith("---\n")
    assert model.recipes.available == ["original", "transfer_learn"]
    assert Path(model.recipes.default.path).name == "original.md"
    assert model.recipes["transfer_learn"].name == "transfer_learn.md"
    assert model.training is not None and model.training.available == ["pytorch_model.bin", "recipe.yaml"]
    assert Path(model.training.default.path) == tmp_path / "model_download_directory" / "pytorch"
    assert model.deployment is not None and (Path(model.deployment.path) / "config.json").is_file()
    assert model.sample_outputs is not None and "deepsparse" in model.sample_outputs.keys()
    assert len(list(model.sample_outputs["deepsparse"])) == SAMPLES
    assert set(model.available_files) >= {"onnx_model", "model_card", "recipes", "training", "deployment",
                                          "sample_inputs", "sample_outputs", "benchmarks"}
    path = model.download()
    assert path == str(tmp_path / "model_download_directory") and model.path == path
    assert tree_bytes(Path(path)).keys() >= tree_bytes(published.imported).keys()
    for rel, data in tree_bytes(published.imported).items():
        assert (Path(path) / rel).read_bytes() == data
    other = model.download(tmp_path / "elsewhere")
    assert Path(other, "model.onnx").is_file()


def test_default_destination_and_recipe_query(published: Published) -> None:
    model = Model(f"{STUB}?recipe=transfer_learn", zoo=published.zoo)  # plain stub, a Zoo object
    assert model.stub_params == {"recipe": "transfer_learn"}
    assert Path(model.recipes.default.path).name == "transfer_learn.md"
    assert Path(model.download()).is_relative_to(published.zoo.root / "manifests")  # where `zoo pull` puts it
    assert Path(Model(f"zoo:{STUB}?recipe_type=transfer", zoo=published.zoo.root).recipes.default.path).stem == \
        "transfer_learn"
    with pytest.raises(NotFound, match="no recipe matching"):
        Model(f"zoo:{STUB}?recipe=missing", zoo=published.zoo)


def test_through_a_directory_remote_without_git(published: Published, machine: Path) -> None:
    for where in (published.remote.as_uri(), str(published.remote)):  # a file:// URL, or the folder itself
        model = Model(f"zoo:{STUB}@v1", zoo=where)
        _runs_as_published(model)
        # no checkout: the version's snapshot in the per-user cache, as `zoo pull` places it
        assert Path(model.download()).is_relative_to(machine.parent / "home" / "cache" / "zoo-repo")
        assert list(machine.iterdir()) == []


def test_through_a_lockfile(published: Published, machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = machine / "zoo.lock"
    lock.write_bytes(published.lockfile.read_bytes())
    model = Model(f"zoo:{STUB}", machine / "pinned", zoo=lock)
    _runs_as_published(model)
    assert model.manifest is not None and model.manifest.version == 1
    monkeypatch.setenv("ZOO_REPO", str(lock))
    assert Model(f"zoo:{STUB}").manifest == model.manifest


def test_a_local_directory(published: Published, tmp_path: Path) -> None:
    pulled = Model(f"zoo:{STUB}", tmp_path / "pulled", zoo=published.zoo).download()
    model = Model(pulled)
    assert str(model) == f"Model(directory={pulled})" and model.manifest is None
    _runs_as_published(model)
    assert model.training is not None and Path(model.training.path).name == "pytorch"
    assert Path(model.recipes.default.path) == Path(pulled) / "recipes" / "original.md"
    with pytest.raises(ValueError, match="Ambiguous input"):
        Model(pulled, download_path=tmp_path / "x")


def test_samples_published_as_archives(tmp_path: Path, zoo: Zoo) -> None:
    imported = import_sparsezoo(make_download(tmp_path / "dl", folders=False), STUB, tmp_path / "model").dest
    zoo.publish(imported, STUB)
    model = Model(f"zoo:{STUB}", tmp_path / "pulled", zoo=zoo)
    assert model.sample_inputs is not None and [f.name for f in model.sample_inputs.files] == ["sample-inputs.tar.gz"]
    _runs_as_published(model)  # each member of the .tar.gz is a sample
