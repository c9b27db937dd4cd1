"""``sparsezoo.Model`` for code written against SparseZoo, answered by a zoo.

    from zoo_repo.compat.sparsezoo import Model

    model = Model("zoo:cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/pruned95_quant-none")
    model.download()                    # the directory's path
    onnx_path = model.onnx_model.path   # pulled on first use, verified
    inputs = list(model.sample_inputs)  # one OrderedDict of arrays per sample (.npz), or an array (.npy)
    recipe = model.recipes.default.path # recipes/original.md, or the one ?recipe=NAME selects

``Model(source, download_path=None, *, zoo=None)``: ``source`` is ``zoo:STUB``,
``STUB`` (either with ``@vN``/``@alias`` and SparseZoo's ``?recipe=`` /
``?recipe_type=``) or a local model directory (a pulled one). ``zoo`` is a checkout,
a remote URL, a lockfile, or a ``zoo_repo.api.Zoo``; by default ``$ZOO_REPO``, else
``$ZOO_DIR``, else the zoo at or above the current directory. Every file comes
through ``Zoo.pull`` (its bytes verified, the signed-pull policy applied), the
first time its ``path`` is read; a stub's files go to ``download_path``, else where
``zoo pull`` puts them (a checkout's version folder, or the per-user cache).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.compat.objects import Directory, File, NumpyDirectory, Recipes, SampleOutputs, load_samples
from zoo_repo.core.recipes import select_recipe
from zoo_repo.core.stub import PREFIX, Ref, parse_ref
from zoo_repo.errors import NotAZooError

if TYPE_CHECKING:
    from zoo_repo.api import Zoo
    from zoo_repo.core.manifest import Manifest

__all__ = ["Directory", "File", "Model", "NumpyDirectory", "Recipes", "SampleOutputs", "load_samples", "open_zoo"]

_REPORTS = {"analysis": "analysis.yaml", "benchmarks": "benchmarks.yaml", "benchmark": "benchmark.yaml",
            "eval_results": "eval.yaml", "metrics": "metrics.yaml"}


class Model:
    """A published model (or a local model directory) with ``sparsezoo.Model``'s attributes."""

    def __init__(self, source: str | os.PathLike[str], download_path: str | os.PathLike[str] | None = None, *,
                 zoo: Zoo | str | os.PathLike[str] | None = None) -> None:
        self.source = os.fspath(source)
        self.ref: Ref | None = None
        self.manifest: Manifest | None = None
        self._zoo: Zoo | None = None
        self._pulled: set[str] = set()
        self._dir: Path | None = None
        self._dest: Path | None = None  # where pulls go: None is where `zoo pull` puts them
        if not self.source.startswith(PREFIX) and Path(self.source).is_dir():
            if download_path is not None:
                raise ValueError("Ambiguous input to the constructor: a Model from a local directory takes no "
                                 f"`download_path` (got {download_path})")
            self._dir = Path(self.source).resolve()
            files = _scan(self._dir)
        else:
            self.ref = parse_ref(self.source)
            self._zoo = open_zoo(zoo)
            self.manifest = self._zoo.resolve(self.ref)
            select_recipe(self.manifest, self.ref)  # a ?recipe= the version lacks is NotFound now, not later
            files = {f.path: f.role for f in self.manifest.files}
            if download_path is not None:
                self._dir = self._dest = Path(download_path).expanduser().resolve()
        self._files = files
        self._build(files)

    def _build(self, files: dict[str, str]) -> None:
        def role(name: str) -> list[str]:
            return [p for p, r in files.items() if r == name]

        def under(folder: str) -> list[str]:
            return [p for p in files if p.startswith(folder + "/")]

        def directory(cls: type[Directory], name: str, found: Sequence[str], by_role: str | None = None) -> Any:
            return cls(self, name, found, by_role) if found else None

        framework = next((p.split("/")[0] for p in role("framework")), None)
        self.model_card = File(self, "model.md") if "model.md" in files else None
        self.onnx_model = File(self, "model.onnx") if "model.onnx" in files else None
        self.onnx_folder = directory(Directory, "onnx", under("onnx"))
        self.training = directory(Directory, framework or "training", role("framework"), "framework")
        self.deployment = directory(Directory, "deployment", under("deployment"))
        self.logs = directory(Directory, "logs", under("logs"))
        self.sample_inputs: NumpyDirectory | None = directory(NumpyDirectory, "sample-inputs", role("sample-inputs"),
                                                              "sample-inputs")
        outputs = role("sample-outputs")
        engines = {name: under(f"sample-outputs_{name}") for name in ("deepsparse",) if under(f"sample-outputs_{name}")}
        self.sample_outputs = SampleOutputs(self, "sample-outputs", outputs, engines) if outputs else None
        self.sample_labels = directory(Directory, "sample-labels", role("sample-labels"), "sample-labels")
        self.sample_originals = directory(Directory, "sample-originals", role("sample-originals"), "sample-originals")
        self.recipes = Recipes([File(self, p) for p in sorted(role("recipes"))], self.ref)
        for attr, name in _REPORTS.items():
            setattr(self, attr, File(self, name) if name in files else None)

    # -- SparseZoo's API ----------------------------------------------------
    @property
    def stub_params(self) -> dict[str, str]:
        """The reference's query (``{"recipe": "transfer"}``), as SparseZoo's."""
        if self.ref is None:
            return {}
        if self.ref.recipe is not None:
            return {"recipe": self.ref.recipe}
        return {"recipe_type": self.ref.recipe_type} if self.ref.recipe_type is not None else {}

    @property
    def available_files(self) -> dict[str, Any]:
        names = ("training", "deployment", "onnx_folder", "logs", "sample_originals", "sample_inputs",
                 "sample_outputs", "sample_labels", "model_card", "onnx_model", *_REPORTS)
        found = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        return {**found, "recipes": self.recipes} if self.recipes.recipes else found

    @property
    def path(self) -> str:
        """The model's directory, every file pulled (as SparseZoo's ``path``)."""
        return self.download()

    def download(self, directory: str | os.PathLike[str] | None = None) -> str:
        """Pull every file (to ``directory`` if given, and the model is read from there
        from now on); returns the directory's path. Files already there are kept."""
        if directory is not None and self.manifest is not None:
            target = Path(directory).expanduser().resolve()
            if target != self._dir:
                self._dir, self._dest, self._pulled = target, target, set()
        self._ensure(list(self._files), ())
        return str(self._root())

    def sample_batch(self, batch_index: int = 0, batch_size: int = 1, batch_as_list: bool = True) -> Any:
        """A batch of the sample inputs (see ``NumpyDirectory.sample_batch``)."""
        if self.sample_inputs is None:
            raise FileNotFoundError(f"{self} has no sample inputs")
        return self.sample_inputs.sample_batch(batch_index, batch_size, batch_as_list)

    def __str__(self) -> str:
        if self.manifest is not None:
            return f"Model(stub={PREFIX}{self.manifest.stub}@{self.manifest.version_name})"
        return f"Model(directory={self._dir})"

    __repr__ = __str__

    # -- pulling ------------------------------------------------------------
    def _root(self) -> Path:
        if self._dir is None:
            assert self._zoo is not None and self.ref is not None
            self._dir = self._zoo.plan_pull(self.ref, include=("card",)).dest  # where `zoo pull` puts it
        return self._dir

    def _ensure(self, paths: Sequence[str], include: tuple[str, ...] | None = None) -> None:
        """Pull ``paths`` unless pulled already (verified; ``include`` selects them for
        ``Zoo.pull``: roles or globs, ``()`` every file, None each path); a local
        directory has them."""
        todo = [p for p in paths if p not in self._pulled]
        if self._zoo is None or self.ref is None or not todo:
            return
        chosen = tuple(glob.escape(p) for p in todo) if include is None else include
        result = self._zoo.pull(self.ref, dest=self._dest, include=chosen)
        self._dir = result.dest
        self._pulled.update(todo)


def _scan(root: Path) -> dict[str, str]:
    """A local model directory's files by role, as publish would see them."""
    from zoo_repo.core.card import parse_card
    from zoo_repo.errors import CardError
    from zoo_repo.model.layout import scan

    framework = ""
    card = root / "model.md"
    if card.is_file():
        try:
            framework = str(parse_card(card.read_text(encoding="utf-8")).metadata.get("framework") or "")
        except (CardError, UnicodeDecodeError):
            pass
    return {f.relpath: f.role for f in scan(root, framework)}


def open_zoo(zoo: Zoo | str | os.PathLike[str] | None) -> Zoo:
    """A ``Zoo`` from what ``Model(zoo=)`` accepts (see the module's docstring)."""
    from zoo_repo.api import Zoo

    if isinstance(zoo, Zoo):
        return zoo
    where = os.fspath(zoo) if zoo is not None else (os.environ.get("ZOO_REPO") or os.environ.get("ZOO_DIR") or ".")
    try:
        return Zoo.open(where)
    except NotAZooError:
        if "://" in where or not Path(where).is_dir() or zoo is None:
            raise
        return Zoo.open(Path(where).resolve().as_uri())  # a directory remote, read without git


