"""A SparseZoo download, mapped onto the spec's model directory. Pure: no I/O.

SparseZoo's client (``sparsezoo.Model(...).download()``) leaves a folder holding
``model.md``, ``model.onnx``, ``deployment/`` (model.onnx plus what a pipeline
loads: config.json, tokenizer…), ``training/`` (the framework checkpoint),
``onnx/model.N.onnx`` (opset variants), ``recipe/recipe_NAME.md`` (or, in its v2
layout, ``recipe.md`` / ``recipe_NAME.md`` at the top), samples as folders and
``.tar.gz`` (``sample-inputs``, ``sample-outputs``, one per engine as
``sample-outputs_onnxruntime`` / ``sample-outputs_deepsparse``, ``sample-labels``,
``sample-originals``; older downloads spell them with ``_``), and ``*.yaml``
reports (benchmarks, eval, metrics, analysis), ``logs/``.

``plan_import`` says where each file goes and with which role (as
``layout.classify`` will see it); what has no role keeps its path when the scanner
gives that path role ``other``, else goes under ``sparsezoo/`` (``KEPT_DIR``), and
is listed. Where two sources want one place, the first of the order below wins
and the other is kept (listed as a conflict):

* ``model.onnx`` before ``deployment/model.onnx`` (``deployment/`` is kept whole);
* samples: one source per role, a folder before its ``.tar.gz``, the spec's
  hyphen before SparseZoo's underscore; outputs: onnxruntime's, then the
  framework's; DeepSparse's stay ``sample-outputs_deepsparse`` (role ``other``);
* recipes: ``recipe/`` (or ``recipes/``) before top-level ``recipe*.md``;
  ``recipe.md`` and ``recipe_original.md`` are ``recipes/original.md``.

``model.onnx.tar.gz`` is skipped: publish builds it from the graph it validates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from zoo_repo.core import yamltext
from zoo_repo.core.card import parse_card
from zoo_repo.core.stub import Stub
from zoo_repo.core.validation import SAMPLE_SUFFIXES
from zoo_repo.errors import CardError, ModelDirError
from zoo_repo.model.layout import ARCHIVE_NAME, ONNX_NAME, RECIPE_SUFFIXES, classify

KEPT_DIR = "sparsezoo"
CARD = "model.md"
DEPLOYMENT_ONNX = "deployment/model.onnx"
# Each role's sources, best first: (source folder or .tar.gz, is it a tar).
SAMPLE_SOURCES: dict[str, tuple[str, ...]] = {
    "sample-inputs": ("sample-inputs", "sample_inputs", "sample-inputs.tar.gz", "sample_inputs.tar.gz"),
    "sample-outputs": ("sample-outputs_onnxruntime", "sample_outputs_onnxruntime",
                       "sample-outputs_onnxruntime.tar.gz", "sample_outputs_onnxruntime.tar.gz",
                       "sample-outputs", "sample_outputs", "sample-outputs.tar.gz", "sample_outputs.tar.gz"),
    "sample-labels": ("sample-labels", "sample_labels", "sample-labels.tar.gz", "sample_labels.tar.gz"),
    "sample-originals": ("sample-originals", "sample_originals", "sample-originals.tar.gz",
                         "sample_originals.tar.gz"),
}
_FORMAT_CHECKED = ("sample-inputs", "sample-outputs")  # publish refuses other files in these folders
_RECIPE_DIRS = ("recipe", "recipes")
_MARKERS = (CARD, "training", "deployment", "recipe", "onnx")


@dataclass(frozen=True)
class Placed:
    """One file of the import: from ``source`` (in the download) to ``dest`` (in the model directory)."""

    source: str
    dest: str
    role: str
    why: str = ""  # for a kept or skipped file: why it has no role of its own


@dataclass(frozen=True)
class ImportPlan:
    mapped: tuple[Placed, ...]  # files with a role
    kept: tuple[Placed, ...]  # role ``other``: kept and listed
    skipped: tuple[Placed, ...]  # not copied (dest is empty)
    conflicts: tuple[str, ...]  # what lost a place to what, in words

    @property
    def placed(self) -> tuple[Placed, ...]:
        return self.mapped + self.kept


def recipe_name(filename: str) -> str | None:
    """``recipe_transfer_learn.md`` → ``transfer_learn.md``; ``recipe.md`` and
    ``recipe_original.md`` → ``original.md``; None for a file that is no recipe."""
    path = PurePosixPath(filename)
    if path.suffix not in RECIPE_SUFFIXES:
        return None
    stem = path.stem
    if stem in ("recipe", "recipe_original"):
        stem = "original"
    elif stem.startswith("recipe_") or stem.startswith("recipe-"):
        stem = stem[len("recipe_"):]
    return stem + path.suffix if stem else None


def check_names(files: Sequence[str]) -> None:
    """Each path relative, in POSIX form, without empty, ``.`` or ``..`` parts."""
    for rel in files:
        parts = rel.split("/")
        if rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
            raise ModelDirError(rel, "is not a plain relative path inside the SparseZoo download")


def is_download(files: Sequence[str]) -> str | None:
    """Why ``files`` are no SparseZoo download, or None when they are one."""
    names = set(files)
    if ONNX_NAME not in names and DEPLOYMENT_ONNX not in names:
        return "is not a SparseZoo download: it has neither model.onnx nor deployment/model.onnx"
    tops = {f.split("/")[0] for f in files}
    if not any(m in tops for m in _MARKERS) and not any(t.startswith("recipe") for t in tops):
        return ("is not a SparseZoo download: beside model.onnx it has none of model.md, training/, "
                "deployment/, onnx/, recipe/")
    return None


def _unit(rel: str) -> str | None:
    """The sample source (folder or .tar.gz) a file belongs to, if any."""
    top = rel.split("/")[0]
    for sources in SAMPLE_SOURCES.values():
        if top in sources and (rel == top) == top.endswith(".tar.gz"):
            return top
    return None


def plan_import(files: Sequence[str], framework: str,
                same: Callable[[str, str], bool] | None = None) -> ImportPlan:
    """Where each file of a SparseZoo download goes (see the module's docstring).

    ``files`` are the download's regular files, relative POSIX paths; ``framework``
    is the stub's (``training/`` becomes that folder); ``same(a, b)`` says whether
    two files hold the same bytes (to say whether a conflict loses anything)."""
    check_names(files)
    problem = is_download(files)
    if problem is not None:
        raise ModelDirError(".", problem)
    present = set(files)
    chosen = {role: next((s for s in sources if any(_unit(f) == s for f in present)), None)
              for role, sources in SAMPLE_SOURCES.items()}
    wanted: list[tuple[int, str, str]] = []  # (priority, dest, source) for files that take a role
    kept: list[tuple[str, str]] = []  # (source, why)
    skipped: list[Placed] = []
    for rel in sorted(files):
        parts = rel.split("/")
        top, rest = parts[0], "/".join(parts[1:])
        unit = _unit(rel)
        if rel in (CARD, ONNX_NAME):
            wanted.append((0, rel, rel))
        elif rel == DEPLOYMENT_ONNX:
            wanted.append((1, ONNX_NAME, rel))
            kept.append((rel, "deployment/ is kept whole, as DeepSparse pipelines load it"))
        elif rel == ARCHIVE_NAME:
            skipped.append(Placed(rel, "", "archive", "publish builds model.onnx.tar.gz from model.onnx"))
        elif top == "training" and rest:
            wanted.append((0, f"{framework}/{rest}", rel))
        elif top in _RECIPE_DIRS and len(parts) == 2 and recipe_name(rest):
            wanted.append((0, f"recipes/{recipe_name(rest)}", rel))
        elif len(parts) == 1 and rel.startswith("recipe") and recipe_name(rel):
            wanted.append((1, f"recipes/{recipe_name(rel)}", rel))
        elif unit is not None:
            _sample(rel, unit, chosen, wanted, kept)
        elif top.startswith(("sample-outputs_", "sample_outputs_")):
            kept.append((rel, "another engine's outputs: sample-outputs/ holds onnxruntime's (else the framework's)"))
        else:
            kept.append((rel, "has no role in a model directory"))
    return _resolve(wanted, kept, skipped, framework, same)


def _sample(rel: str, unit: str, chosen: dict[str, str | None], wanted: list[tuple[int, str, str]],
            kept: list[tuple[str, str]]) -> None:
    role = next(r for r, sources in SAMPLE_SOURCES.items() if unit in sources)
    if chosen[role] != unit:
        kept.append((rel, f"{chosen[role]} gives the {role}"))
    elif unit.endswith(".tar.gz"):
        wanted.append((0, f"{role}.tar.gz", rel))
    elif role in _FORMAT_CHECKED and not rel.endswith(SAMPLE_SUFFIXES):
        kept.append((rel, f"is no sample format ({', '.join(SAMPLE_SUFFIXES)}), which {role}/ may hold only"))
    else:
        wanted.append((0, role + rel[len(unit):], rel))


def _resolve(wanted: list[tuple[int, str, str]], kept_in: list[tuple[str, str]], skipped: list[Placed],
             framework: str, same: Callable[[str, str], bool] | None) -> ImportPlan:
    mapped: dict[str, Placed] = {}
    kept = list(kept_in)
    conflicts = []
    for _, dest, source in sorted(wanted):
        if dest not in mapped:
            mapped[dest] = Placed(source, dest, classify(dest, framework))
            continue
        winner = mapped[dest].source
        if source == DEPLOYMENT_ONNX:  # kept already, with deployment/
            if same is not None and not same(winner, source):
                conflicts.append(f"{source} differs from {winner}: {winner} is the model's graph, "
                                 f"{source} is kept with deployment/")
            continue
        alike = " (same bytes)" if same is not None and same(winner, source) else ""
        conflicts.append(f"{source} and {winner} both map to {dest}{alike}: {winner} wins, {source} is kept")
        kept.append((source, f"{winner} gives {dest}"))
    taken = set(mapped)
    out_kept = []
    for source, why in sorted(kept):
        dest = source if classify(source, framework) == "other" else f"{KEPT_DIR}/{source}"
        if dest in taken or classify(dest, framework) != "other":
            raise ModelDirError(source, f"cannot be kept: {dest} is taken in the model directory")
        taken.add(dest)
        out_kept.append(Placed(source, dest, "other", why))
    return ImportPlan(tuple(sorted(mapped.values(), key=lambda p: p.dest)), tuple(out_kept), tuple(skipped),
                      tuple(conflicts))


def fill_card(text: str | None, stub: Stub) -> tuple[str, tuple[str, ...]]:
    """``model.md`` as publish needs it, and what changed, in words: the stub's fields
    in the front matter (a card without one gets one); what SparseZoo wrote there
    that zoo reads otherwise (another value of a stub field, ``tags``, ``metrics``,
    ``license`` or ``description`` of another shape) moves under ``sparsezoo:``,
    so nothing is lost and the card always agrees with ``--stub``."""
    meta: dict[str, Any] = {}
    body = text or f"# {stub}\n\nImported from a SparseZoo download.\n"
    notes: list[str] = []
    if text is not None:
        lines = text.splitlines()
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), None) \
            if lines and lines[0].strip() == "---" else None
        if end is None:
            notes.append("model.md had no YAML front matter: one was added")
        else:
            try:
                loaded = yamltext.load("\n".join(lines[1:end]))
            except yamltext.YamlProblem as exc:
                raise ModelDirError(CARD, f"front matter: {exc}") from exc
            if loaded is not None and not isinstance(loaded, dict):
                raise ModelDirError(CARD, "front matter must be a mapping of keys to values")
            meta = dict(loaded or {})
            body = "\n".join(lines[end + 1:]) + "\n"
    moved: dict[str, Any] = dict(meta.pop(KEPT_DIR)) if isinstance(meta.get(KEPT_DIR), dict) else {}
    for key, value in stub.fields().items():
        old = meta.pop(key, None)
        if old is not None and str(old) != value:
            moved[key] = old
            notes.append(f"model.md's {key} {old!r} is not the stub's {value!r}: kept as {KEPT_DIR}.{key}")
        if value is not None:
            meta[key] = value
    tag = "-".join(p for p in (stub.sparse_name, stub.sparse_category, stub.sparse_target) if p)
    if "sparse_tag" in meta and str(meta["sparse_tag"]) != tag:  # SparseZoo's cards name the tag whole
        moved["sparse_tag"] = meta.pop("sparse_tag")
        notes.append(f"model.md's sparse_tag {moved['sparse_tag']!r} is not the stub's {tag!r}: "
                     f"kept as {KEPT_DIR}.sparse_tag")
    for key in ("license", "description", "tags", "metrics"):
        if key in meta and not _valid(key, meta[key]):
            moved[key] = meta.pop(key)
            notes.append(f"model.md's {key} is not in zoo's form: kept as {KEPT_DIR}.{key}")
    if moved:
        meta[KEPT_DIR] = moved
    out = "---\n" + yamltext.dump(meta) + "---\n" + body
    parse_card(out)  # what publish will read
    return out, tuple(notes)


def _valid(key: str, value: Any) -> bool:
    try:
        parse_card("---\n" + yamltext.dump({key: value}) + "---\n")
    except CardError:
        return False
    return True
