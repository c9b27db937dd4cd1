"""The file objects of ``compat.sparsezoo.Model``, with SparseZoo's names: ``File``,
``Directory``, ``NumpyDirectory`` (samples as arrays), ``SampleOutputs``, ``Recipes``.
"""

from __future__ import annotations

import glob
import io
import tarfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from zoo_repo.core.stub import Ref

if TYPE_CHECKING:
    from zoo_repo.compat.sparsezoo import Model

__all__ = ["Directory", "File", "NumpyDirectory", "Recipes", "SampleOutputs", "load_samples"]

ENGINES = ("onnxruntime", "framework")  # the engines whose outputs a version's sample-outputs/ may be
MAX_SAMPLE_MEMBER = 1 << 30


class File:
    """One file of the model, as SparseZoo's ``File``: ``name``, ``path`` (pulled on first read)."""

    def __init__(self, model: Model, relpath: str) -> None:
        self._model, self.relpath = model, relpath
        self.name = PurePosixPath(relpath).name

    @property
    def path(self) -> str:
        self._model._ensure([self.relpath])
        return str(self._model._root() / self.relpath)

    @property
    def parent_directory(self) -> str:
        return str(Path(self.path).parent)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name})"


class Directory(File):
    """A folder of the model (``training``, ``deployment``…): ``files``, and ``path`` pulls them all."""

    def __init__(self, model: Model, relpath: str, files: Sequence[str], role: str | None = None) -> None:
        super().__init__(model, relpath)
        self.files = [File(model, f) for f in sorted(files)]
        # What a pull selects: the role, else the folder (one pattern, however many files).
        self._include = role or glob.escape(relpath)

    def _pull(self) -> None:
        self._model._ensure([f.relpath for f in self.files], (self._include,))

    @property
    def path(self) -> str:
        self._pull()
        return str(self._model._root() / self.relpath)

    @property
    def available(self) -> list[str]:
        return [f.name for f in self.files]

    @property
    def default(self) -> Directory:
        """SparseZoo's ``training.default`` / ``deployment.default``: a version holds one
        checkpoint and one deployment, so it is the folder itself."""
        return self


class NumpyDirectory(Directory):
    """Sample arrays, as SparseZoo's ``NumpyDirectory``: iterating yields each sample
    (an ``OrderedDict`` name → array for ``.npz``, an array for ``.npy`` or ``.pb``;
    each member of a ``.tar.gz`` in turn), in file-name order."""

    def __iter__(self) -> Iterator[Any]:
        self._pull()
        for f in self.files:
            yield from load_samples(Path(self._model._root() / f.relpath))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def sample_batch(self, batch_index: int = 0, batch_size: int = 1,
                     batch_as_list: bool = True) -> list[Any] | dict[str, Any]:
        """Samples ``batch_index*batch_size`` onwards as one batch: each tensor joined
        along its batch axis (a leading axis of 1) or stacked on a new one; a list
        in the samples' order of tensors, or a dict by name."""
        import numpy as np

        samples = [_as_dict(s) for s in self][batch_index * batch_size:(batch_index + 1) * batch_size]
        if not samples:
            raise IndexError(f"{self.name} has no batch {batch_index} of {batch_size}")
        joined = OrderedDict()
        for key in samples[0]:
            arrays = [s[key] for s in samples]
            batched = arrays[0].ndim > 0 and arrays[0].shape[0] == 1
            joined[key] = np.concatenate(arrays, axis=0) if batched else np.stack(arrays)
        return list(joined.values()) if batch_as_list else dict(joined)


class SampleOutputs(NumpyDirectory):
    """``sample-outputs/``, also as SparseZoo's engine → outputs mapping: ``["onnxruntime"]``
    and ``["framework"]`` are these outputs, ``["deepsparse"]`` what an import kept
    as ``sample-outputs_deepsparse/``."""

    def __init__(self, model: Model, relpath: str, files: Sequence[str],
                 engines: Mapping[str, Sequence[str]]) -> None:
        super().__init__(model, relpath, files, "sample-outputs")
        self._engines = {name: NumpyDirectory(model, f"sample-outputs_{name}", found)
                         for name, found in engines.items()}

    def __getitem__(self, engine: str) -> NumpyDirectory:
        if engine in ENGINES:
            return self
        if engine in self._engines:
            return self._engines[engine]
        raise KeyError(engine)

    def keys(self) -> list[str]:
        return [*ENGINES, *self._engines]

    def values(self) -> list[NumpyDirectory]:
        return [self[k] for k in self.keys()]

    def items(self) -> list[tuple[str, NumpyDirectory]]:
        return [(k, self[k]) for k in self.keys()]


class Recipes:
    """The model's recipes, as SparseZoo's ``Recipes``: ``recipes``, ``available``,
    ``default`` (what ``?recipe=``/``?recipe_type=`` selects, else ``original``, else
    the first), ``[name]``."""

    def __init__(self, files: list[File], ref: Ref | None) -> None:
        self.recipes = files
        self._ref = ref

    @property
    def available(self) -> list[str] | None:
        return [PurePosixPath(r.name).stem for r in self.recipes] or None

    def get_recipe_by_name(self, name: str) -> File | None:
        stem = name.removeprefix("recipe_")
        return next((r for r in self.recipes if r.name == name or PurePosixPath(r.name).stem == stem), None)

    def __getitem__(self, name: str) -> File:
        found = self.get_recipe_by_name(name)
        if found is None:
            raise KeyError(name)
        return found

    @property
    def default(self) -> File:
        if not self.recipes:
            raise ValueError("No recipes found, could not retrieve a default.")
        stems = [PurePosixPath(r.name).stem for r in self.recipes]
        ref = self._ref
        if ref is not None and ref.recipe is not None and ref.recipe in stems:
            return self.recipes[stems.index(ref.recipe)]
        if ref is not None and ref.recipe_type is not None:
            hit = [i for i, s in enumerate(stems) if s == ref.recipe_type] or \
                  [i for i, s in enumerate(stems) if s.startswith(ref.recipe_type)]
            if hit:
                return self.recipes[hit[0]]
        return self.recipes[stems.index("original")] if "original" in stems else self.recipes[0]


def load_samples(path: Path) -> Iterator[Any]:
    """The samples of one file: .npy/.pb → an array, .npz → OrderedDict, .tar.gz → each member."""
    name = path.name
    if name.endswith(".tar.gz"):
        with tarfile.open(path, "r:gz") as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name):
                if member.isfile() and member.size <= MAX_SAMPLE_MEMBER:
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        yield _load(member.name, extracted.read())
        return
    yield _load(name, path.read_bytes())


def _load(name: str, data: bytes) -> Any:
    import numpy as np

    if name.endswith(".pb"):
        from onnx import TensorProto, numpy_helper

        tensor = TensorProto()
        tensor.ParseFromString(data)
        return numpy_helper.to_array(tensor)
    loaded = np.load(io.BytesIO(data), allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        return OrderedDict((k, loaded[k]) for k in loaded.files)


def _as_dict(sample: Any) -> dict[str, Any]:
    return sample if isinstance(sample, dict) else OrderedDict(arr_0=sample)
