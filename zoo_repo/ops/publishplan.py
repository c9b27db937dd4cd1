"""Planning a publish: read and validate the model directory, put its files in
the store, decide the version and what the remote lacks.

Three steps, each under what ``publish`` holds by then: ``scan_model`` reads
only (everything is validated before anything is written); ``ingest`` adds the
files to the store, under its shared lock; ``plan_version`` decides the
version under the publish lock too, and returns the ``PublishPlan`` that
``ops.publish.execute`` carries out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from zoo_repo.core.card import CARD_NAME, Card, check_stub_agrees, parse_card
from zoo_repo.core.manifest import FileEntry
from zoo_repo.core.progress import Progress, advance, at, start
from zoo_repo.core.publishing import VersionPlan, check_labels, content_key, decide_version, skipped_run
from zoo_repo.core.stub import Stub
from zoo_repo.errors import CardError, ModelDirError
from zoo_repo.model import layout, validate
from zoo_repo.model.archive import write_onnx_archive
from zoo_repo.repo import dvc
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.digest import Digest

_ARCHIVE_KIND = "onnx.tar.gz/v1"


@dataclass(frozen=True)
class ModelScan:
    """A model directory as publish read it: its files with their roles, its card,
    and the outcome of validating it (ONNX interface, sample run)."""

    model_dir: Path
    files: tuple[layout.ModelFile, ...]  # sorted by path
    card: Card
    validation: validate.Validation

    @property
    def by_path(self) -> dict[str, layout.ModelFile]:
        return {f.relpath: f for f in self.files}

    @property
    def card_path(self) -> Path:
        return self.by_path[CARD_NAME].abspath


@dataclass(frozen=True)
class PublishPlan:
    """What a publish does: made under the store's shared lock and the publish
    lock, and carried out under them (``ops.publish.execute``)."""

    stub: Stub
    scan: ModelScan
    entries: tuple[FileEntry, ...]  # sorted; the generated archive included
    version: VersionPlan  # the next version, or the published one with this content
    tree_oid: str | None = None  # the version's .dir listing, in the store; None when unchanged
    upload: tuple[str, ...] = ()  # objects the remote lacks: sent before the manifest is written
    upload_bytes: int = 0


def scan_model(model_dir: Path, stub: Stub, run: bool, rtol: float, atol: float,
               progress: Progress | None = None) -> ModelScan:
    """Everything publish refuses about the model directory, before anything is written."""
    start(progress, "scanning the model directory")
    files = layout.scan(model_dir, stub.framework)
    by_path = {f.relpath: f for f in files}
    card = _read_card(model_dir, by_path)
    check_stub_agrees(card, stub)
    if layout.ONNX_NAME not in by_path:
        raise ModelDirError(str(model_dir), "has no model.onnx; every model needs its ONNX graph")
    return ModelScan(model_dir, tuple(files), card, _validate(files, by_path, run, rtol, atol, progress))


def _validate(files: list[layout.ModelFile], by_path: dict[str, layout.ModelFile], run: bool,
              rtol: float, atol: float, progress: Progress | None) -> validate.Validation:
    """Everything publish refuses about the files themselves, before anything is written."""
    onnx_path = by_path[layout.ONNX_NAME].abspath
    start(progress, "checking model.onnx")
    interface = validate.inspect_onnx(onnx_path)
    if layout.ARCHIVE_NAME in by_path:
        validate.check_archive(by_path[layout.ARCHIVE_NAME].abspath, onnx_path)
    for f in files:
        if f.role == "recipes":
            validate.check_recipe(f.abspath, f.relpath)
        elif f.role.startswith("sample-") and f.relpath.endswith(".tar.gz"):
            validate.check_tar_members(f.abspath, f.relpath)
    samples = {role: validate.sample_blobs([(f.relpath, f.abspath) for f in files if f.role == role])
               for role in ("sample-inputs", "sample-outputs", "sample-labels")}
    inputs, outputs, labels = samples["sample-inputs"], samples["sample-outputs"], samples["sample-labels"]
    check_labels(len(labels), len(inputs))
    outcome = skipped_run(run, len(inputs), len(outputs))
    if outcome is None:
        start(progress, f"running {len(inputs)} sample inputs through model.onnx")
        outcome = validate.run_samples(onnx_path, inputs, outputs, interface, rtol, atol)
    return validate.Validation(interface, dict(outcome))


def _read_card(model_dir: Path, by_path: dict[str, layout.ModelFile]) -> Card:
    if CARD_NAME not in by_path:
        raise ModelDirError(str(model_dir), "has no model.md; every model needs a card with YAML front matter")
    try:
        text = by_path[CARD_NAME].abspath.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(CARD_NAME, "is not UTF-8 text") from exc
    return parse_card(text)


def ingest(zoo: Workspace, scan: ModelScan, progress: Progress | None = None) -> tuple[FileEntry, ...]:
    """Put every file in the store (and the ONNX archive, unless the directory has
    one); returns the entries, sorted. The caller holds the store's lock shared:
    gc must not remove these objects before a manifest references them."""
    by_path = scan.by_path
    start(progress, "hashing", len(scan.files), sum(f.abspath.stat().st_size for f in scan.files))
    entries = [_ingest(zoo, f, progress) for f in scan.files]
    if layout.ARCHIVE_NAME not in by_path:
        start(progress, f"writing {layout.ARCHIVE_NAME}")
        onnx_entry = next(e for e in entries if e.path == layout.ONNX_NAME)
        entries.append(_archive(zoo, by_path[layout.ONNX_NAME].abspath, onnx_entry))
    entries.sort()
    zoo.statcache().flush()
    return tuple(entries)


def _ingest(zoo: Workspace, f: layout.ModelFile, progress: Progress | None) -> FileEntry:
    """Hash a file and put it in the store, skipping both when nothing changed."""
    cache = zoo.statcache()
    real = f.abspath.resolve()
    st = os.stat(real)
    at(progress, f.relpath)
    digest = cache.get(real, st)
    if digest is None or not zoo.store.has(digest.md5):
        if progress is None:
            digest = zoo.store.add_file(real)
        else:
            digest = zoo.store.add_file(real, lambda n: advance(progress, 0, n))
        if os.stat(real).st_mtime_ns == st.st_mtime_ns:
            cache.put(real, st, digest)
    else:
        advance(progress, 0, st.st_size)
    advance(progress, 1, 0)
    return FileEntry(f.relpath, f.role, digest.size, digest.sha256, digest.md5)


def _archive(zoo: Workspace, onnx_path: Path, onnx_entry: FileEntry) -> FileEntry:
    cache = zoo.statcache()
    digest: Digest | None = cache.get_derived(_ARCHIVE_KIND, onnx_entry.sha256)
    if digest is None or not zoo.store.has(digest.md5):
        digest = zoo.store.generate(lambda out: write_onnx_archive(onnx_path, out))
        cache.put_derived(_ARCHIVE_KIND, onnx_entry.sha256, digest)
    return FileEntry(layout.ARCHIVE_NAME, "archive", digest.size, digest.sha256, digest.md5)


def plan_version(zoo: Workspace, stub: Stub, scan: ModelScan, entries: tuple[FileEntry, ...],
                 requested: int | None, jobs: int) -> PublishPlan:
    """The version ``entries`` become and what the remote lacks of them. The caller
    holds the publish lock: choosing the number must not interleave with another
    publish of this checkout. A new version's file listing (.dir) is stored here."""
    versions = zoo.versions(stub)
    held = zoo.manifest(stub, requested) if requested is not None and requested in versions else None
    latest = zoo.manifest(stub, versions[-1]) if versions and held is None else None
    decision = decide_version(stub, versions, requested, content_key(entries), held, latest)
    if decision.unchanged:
        return PublishPlan(stub, scan, entries, decision)
    tree_oid = zoo.store.add_bytes(dvc.tree_bytes((e.path, e.md5) for e in entries), ".dir")
    sizes = {e.md5: e.size for e in entries}
    sizes[tree_oid] = zoo.store.path(tree_oid).stat().st_size
    missing = zoo.remote().missing(sizes, jobs=jobs, sizes=sizes)
    return PublishPlan(stub, scan, entries, decision, tree_oid, tuple(sorted(missing)),
                       sum(sizes[oid] for oid in missing))
