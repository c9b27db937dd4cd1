"""The manifest of one published version: schema, text form, checks. Pure.

A manifest is what a reviewer reads in a pull request, so its text is stable:
keys in a fixed order, one line per file, sorted by path.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from zoo_repo.core import paths, yamltext
from zoo_repo.core.card import Metric, parse_metric
from zoo_repo.core.stub import Stub, parse_stub, version_number
from zoo_repo.errors import CardError, ManifestError, StubError

SCHEMA = 1
MANIFEST_NAME = "manifest.yaml"
ROLES = (
    "card",
    "onnx",
    "archive",
    "framework",
    "recipes",
    "sample-originals",
    "sample-inputs",
    "sample-outputs",
    "sample-labels",
    "other",
)
# A manifest lists one line per file: a 1 MiB cap (what other YAML gets) stops
# at about 6,500 files, so manifests get their own. 16 MiB holds about 80,000
# files and parses in seconds; the publisher refuses a model whose manifest
# would not fit (``core.publishing.check_fits``), so no reader ever meets one.
MAX_MANIFEST_BYTES = 16 << 20
# What ``onnx`` always records once the checker passed; later keys are model facts
# (``model.facts``), absent from versions published before they were measured.
INTERFACE_KEYS = ("ir_version", "opset", "inputs", "outputs")
_HEX = {"sha256": re.compile(r"[0-9a-f]{64}"), "md5": re.compile(r"[0-9a-f]{32}")}
FILE_FIELDS = ("path", "role", "size", "sha256", "md5")  # a file's line, in order (``FileEntry.to_flow``)


@dataclass(frozen=True, order=True)
class FileEntry:
    """One file of a model: where it goes, what it is, and its digests."""

    path: str
    role: str
    size: int
    sha256: str
    md5: str

    def to_flow(self) -> yamltext.Flow:
        return yamltext.Flow(
            path=self.path, role=self.role, size=self.size, sha256=self.sha256, md5=self.md5
        )


@dataclass(frozen=True)
class Manifest:
    stub: Stub
    version: int
    created: str
    publisher: str
    files: tuple[FileEntry, ...]
    tree_md5: str
    parent: int | None = None
    message: str | None = None
    card: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    onnx: dict[str, Any] = field(default_factory=dict)  # opset and interface, as validated at publish
    validation: dict[str, Any] = field(default_factory=dict)  # samples run, tolerances, or why skipped

    @property
    def version_name(self) -> str:
        return f"v{self.version}"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def content_key(self) -> tuple[tuple[str, str], ...]:
        """What makes two versions the same content: their paths and digests."""
        return tuple(sorted((f.path, f.sha256) for f in self.files))

    def by_role(self, *roles: str) -> tuple[FileEntry, ...]:
        return tuple(f for f in self.files if not roles or f.role in roles)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as plain data, keys in their reviewable order."""
        return {
            "schema": SCHEMA,
            "stub": str(self.stub),
            "version": self.version_name,
            "parent": f"v{self.parent}" if self.parent else None,
            "created": self.created,
            "publisher": self.publisher,
            "message": self.message,
            "fields": self.stub.fields(),
            "card": self.card,
            "metrics": [yamltext.Flow(m.to_dict()) for m in self.metrics],
            "onnx": _onnx_doc(self.onnx),
            "validation": yamltext.Flow(self.validation) if self.validation else {},
            "size": self.size,
            "nfiles": len(self.files),
            "dvc": yamltext.Flow(md5=f"{self.tree_md5}.dir", hash="md5"),
            "files": [f.to_flow() for f in sorted(self.files)],
        }

    def to_text(self) -> str:
        """The manifest's YAML, rendered once per manifest: a publish needs it several
        times, and a 2,000-file manifest takes a third of a second to render."""
        text: str | None = self.__dict__.get("_text")
        if text is None:
            text = yamltext.dump(self.to_dict())
            object.__setattr__(self, "_text", text)  # a cache, not a field: frozen stays frozen
        return text


def _onnx_doc(onnx: dict[str, Any]) -> dict[str, Any]:
    """The interface with one tensor per line, the largest layers one per line."""
    if not onnx:
        return {}
    out = dict(onnx)
    for key in ("inputs", "outputs"):
        if isinstance(out.get(key), list):
            out[key] = [yamltext.Flow(t) if isinstance(t, dict) else t for t in out[key]]
    for key in ("opsets", "quantized_ops"):
        if isinstance(out.get(key), dict):
            out[key] = yamltext.Flow(out[key])
    sparsity = out.get("sparsity")
    if isinstance(sparsity, dict) and isinstance(sparsity.get("layers"), list):
        out["sparsity"] = {**sparsity, "layers": [yamltext.Flow(x) if isinstance(x, dict) else x
                                                  for x in sparsity["layers"]]}
    return out


def digest_of(text: str) -> str:
    """A manifest's own digest: sha256 of its text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_relpath(path: Any, where: str) -> str:
    """A file path inside a model directory, by the rules of ``core.paths``."""
    rule = paths.path_problem(path)
    if rule is not None:
        raise ManifestError(where, str(paths.NameProblem(path if isinstance(path, str) else repr(path), rule)))
    assert isinstance(path, str)  # path_problem refuses anything else
    return path


def parse_manifest(text: str, where: str = MANIFEST_NAME) -> Manifest:
    """Parse and check a manifest's text, or raise ManifestError."""
    return manifest_from_doc(load_doc(text, where), where)


def load_doc(text: str, where: str = MANIFEST_NAME) -> Any:
    """The YAML of a manifest as plain data (JSON-compatible: timestamps stay strings)."""
    try:
        return yamltext.load_rows(text, "files", FILE_FIELDS, max_bytes=MAX_MANIFEST_BYTES)
    except yamltext.YamlProblem as exc:
        raise ManifestError(where, str(exc)) from exc


def manifest_from_doc(doc: Any, where: str = MANIFEST_NAME) -> Manifest:
    """Check a manifest's data against the schema and build it, or raise ManifestError."""
    if not isinstance(doc, dict):
        raise ManifestError(where, "expected a mapping")
    if doc.get("schema") != SCHEMA:
        raise ManifestError(where, f"schema is {doc.get('schema')!r}; expected {SCHEMA}")
    try:
        stub = parse_stub(_get(doc, where, "stub", str))
    except StubError as exc:
        raise ManifestError(where, exc.message) from exc
    fields = _get(doc, where, "fields", dict)
    if fields != stub.fields():
        raise ManifestError(where, "fields do not match the stub")
    version = version_number(_get(doc, where, "version", str))
    if version is None:
        raise ManifestError(where, f"version {doc['version']!r} is not vN")
    parent = doc.get("parent")
    parent_n = version_number(parent) if isinstance(parent, str) else None
    if parent is not None and (parent_n is None or parent_n >= version):
        raise ManifestError(where, f"parent {parent!r} is not an earlier version")
    dvc = _get(doc, where, "dvc", dict)
    tree = dvc.get("md5")
    if not isinstance(tree, str) or not tree.endswith(".dir") or not _HEX["md5"].fullmatch(tree[:-4]):
        raise ManifestError(where, "dvc.md5 must be an md5 followed by .dir")
    files = tuple(_file(where, i, raw) for i, raw in enumerate(_get(doc, where, "files", list)))
    problem = paths.find_problem(f.path for f in files)
    if problem is not None:
        raise ManifestError(where, str(problem))
    _check_digests_agree(files, where)
    if "nfiles" in doc and doc["nfiles"] != len(files):
        raise ManifestError(where, f"nfiles is {doc['nfiles']!r} but {len(files)} files are listed")
    if "size" in doc and doc["size"] != sum(f.size for f in files):
        raise ManifestError(where, f"size is {doc['size']!r} but the files add up to {sum(f.size for f in files)}")
    raw_metrics = doc.get("metrics") or []
    if not isinstance(raw_metrics, list):
        raise ManifestError(where, "'metrics' must be a list")
    try:  # the card's own rules: a manifest carries the card's metrics
        metrics = tuple(parse_metric(where, i, m) for i, m in enumerate(raw_metrics))
    except CardError as exc:
        raise ManifestError(where, exc.problem) from exc
    return Manifest(
        stub=stub,
        version=version,
        created=_get(doc, where, "created", str),
        publisher=_get(doc, where, "publisher", str),
        files=files,
        tree_md5=tree[:-4],
        parent=parent_n,
        message=doc.get("message"),
        card=doc.get("card") or {},
        metrics=metrics,
        onnx=_optional_dict(doc, where, "onnx"),
        validation=_optional_dict(doc, where, "validation"),
    )


def _optional_dict(doc: dict[str, Any], where: str, key: str) -> dict[str, Any]:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise ManifestError(where, f"{key!r} must be a mapping")
    return value


def _get(doc: dict[str, Any], where: str, key: str, kind: type) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ManifestError(where, f"{key!r} must be a {kind.__name__}, got {value!r}")
    return value


def _file(where: str, index: int, raw: Any) -> FileEntry:
    label = f"files[{index}]"
    if not isinstance(raw, dict):
        raise ManifestError(where, f"{label} must be a mapping")
    path = check_relpath(raw.get("path"), where)
    role = raw.get("role")
    if role not in ROLES:
        raise ManifestError(where, f"{label} ({path}) role {role!r} is not one of {', '.join(ROLES)}")
    size = raw.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(where, f"{label} ({path}) size must be a non-negative integer")
    for algo, pattern in _HEX.items():
        if not isinstance(raw.get(algo), str) or not pattern.fullmatch(raw[algo]):
            raise ManifestError(where, f"{label} ({path}) {algo} must be {pattern.pattern}")
    return FileEntry(path, role, size, raw["sha256"], raw["md5"])



def _check_digests_agree(files: tuple[FileEntry, ...], where: str) -> None:
    """One content has one md5, one sha256 and one size. Objects are stored by
    md5 and verified by sha256: entries that pair them differently would make
    one file's download fail the check of another, or vouch for other bytes."""
    by_md5: dict[str, FileEntry] = {}
    by_sha: dict[str, FileEntry] = {}
    for f in files:
        first = by_md5.setdefault(f.md5, f)
        if (first.sha256, first.size) != (f.sha256, f.size):
            raise ManifestError(where, f"{f.path} and {first.path} have the same md5 but a different "
                                       f"{'sha256' if first.sha256 != f.sha256 else 'size'}")
        other = by_sha.setdefault(f.sha256, f)
        if other.md5 != f.md5:
            raise ManifestError(where, f"{f.path} and {other.path} have the same sha256 but a different md5")
