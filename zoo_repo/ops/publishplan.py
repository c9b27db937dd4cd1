"""Planning a publish: read and validate the model directory, put its files in
the store, decide the version and what the remote lacks.

Three steps, each under what ``publish`` holds by then: ``scan_model`` reads
only (everything is validated before anything is written; what ``.zooignore``
matches is never read, and the files the .onnx graphs keep external data in
join the onnx role); ``ingest`` adds the
files to the store, under its shared lock; ``plan_version`` decides the
version under the publish lock too, and returns the ``PublishPlan`` that
``ops.publish.execute`` carries out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from zoo_repo.core.card import CARD_NAME, Card, check_stub_agrees, parse_card
from zoo_repo.core.manifest import FileEntry
from zoo_repo.core.progress import Progress, advance, at, start
from zoo_repo.core.publishing import (
    VersionPlan,
    check_fits,
    check_labels,
    content_key,
    decide_version,
    skipped_run,
)
from zoo_repo.core.stub import Stub
from zoo_repo.errors import CardError, ModelDirError
from zoo_repo.model import extdata, ignore, layout, validate
from zoo_repo.model.archive import write_onnx_archive
from zoo_repo.remote.early import EarlyUploads
from zoo_repo.repo import dvc
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import clear_stale_temps, temp_name
from zoo_repo.store.digest import CHUNK, Digest, Hasher, HashingWriter
from zoo_repo.store.statcache import Entry, fresh

_ARCHIVE_KIND = "onnx.tar.gz/v1"
_ARCHIVE_WITH_DATA_KIND = "onnx.tar.gz+data/v1"  # keyed by the digests of model.onnx and its data together
# Above this many bytes of model.onnx and its external data, publish generates no
# model.onnx.tar.gz (and the manifest's validation says why): the archive would be
# a second full copy in the store and on the remote that weights barely compress
# in, costing minutes of gzip on every new version, and a model past ONNX's 2 GiB
# protobuf limit is exactly one whose users pull the files (--include onnx) anyway.
ARCHIVE_MAX_BYTES = 2 << 30
# Files below this are read in one go and stored from memory; larger ones streamed
# (a publish sending while it stores keeps no more than this of each in memory).
_WHOLE = 256 << 10


@dataclass(frozen=True)
class ModelScan:
    """A model directory as publish read it: its files with their roles, its card,
    and the outcome of validating it (ONNX interface, sample run).

    ``copies`` are the bytes validation read, by path: a private snapshot (or
    the store's object, for a file the stat cache knows unchanged), with their
    digest. Those bytes, not the model directory's file, are what gets stored,
    so what is published is what was validated even if the directory changes.
    """

    model_dir: Path
    files: tuple[layout.ModelFile, ...]  # sorted by path
    card: Card
    validation: validate.Validation
    copies: dict[str, tuple[Path, Digest]] = field(default_factory=dict)
    onnx_data: tuple[str, ...] = ()  # model.onnx's external data files, sorted (they go in its archive)
    ignored: tuple[str, ...] = ()  # what .zooignore and the defaults kept out, as the scan met it
    archive_skipped: str = ""  # why no model.onnx.tar.gz is generated; empty when one is

    @property
    def by_path(self) -> dict[str, layout.ModelFile]:
        return {f.relpath: f for f in self.files}

    @property
    def card_path(self) -> Path:
        return self.copies[CARD_NAME][0]


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


@contextlib.contextmanager
def snapshot_dir(zoo: Workspace) -> Iterator[Path]:
    """A private folder for the copies a publish validates (see ``ModelScan``),
    removed afterwards; one left by a killed publish goes with the next."""
    parent = zoo.root / ".zoo"
    parent.mkdir(parents=True, exist_ok=True)
    clear_stale_temps(parent)
    folder = temp_name(parent / "publish-snapshot")
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _validated(f: layout.ModelFile) -> bool:
    """Whether validation reads ``f``: weights, other files and sample originals are only hashed."""
    if f.role in ("card", "onnx", "archive", "recipes"):
        return True
    return f.role.startswith("sample-") and f.relpath.endswith((".tar.gz", *validate.SAMPLE_SUFFIXES))


def scan_model(zoo: Workspace, model_dir: Path, stub: Stub, run: bool, rtol: float, atol: float,
               progress: Progress | None = None, *, snapshot: Path, message: str | None = None,
               scanned: Callable[[Sequence[layout.ModelFile]], None] | None = None) -> ModelScan:
    """Everything publish refuses about the model directory, before any object is
    stored. The caller holds the store's lock shared (copies may be store objects).
    ``scanned`` is told the files found before they are read and validated."""
    start(progress, "scanning the model directory")
    rules = ignore.load(model_dir)
    files = layout.scan(model_dir, stub.framework, rules)
    if scanned is not None:
        scanned(files)
    by_path = {f.relpath: f for f in files}
    if CARD_NAME not in by_path:
        raise ModelDirError(str(model_dir), "has no model.md; every model needs a card with YAML front matter")
    if layout.ONNX_NAME not in by_path:
        raise ModelDirError(str(model_dir), "has no model.onnx; every model needs its ONNX graph")
    copies = {f.relpath: _copy(zoo, model_dir, f, snapshot, progress) for f in files if _validated(f)}
    files, needed = _with_external_data(zoo, model_dir, files, copies, snapshot, progress, rules.ignored)
    card = _read_card(copies[CARD_NAME][0])
    check_stub_agrees(card, stub)
    onnx_data = tuple(sorted(needed.get(layout.ONNX_NAME, {})))
    validation = _validate(files, copies, onnx_data, run, rtol, atol, progress)
    skipped = _archive_skipped(by_path, copies, onnx_data)
    if skipped:
        validation = dataclasses.replace(validation, run={**validation.run, "archive": skipped})
    check_fits(stub, [(f.relpath, f.role) for f in files], card, validation.onnx, validation.run, message)
    return ModelScan(model_dir, tuple(files), card, validation, copies, onnx_data, tuple(rules.ignored), skipped)


def _with_external_data(zoo: Workspace, model_dir: Path, files: list[layout.ModelFile],
                        copies: dict[str, tuple[Path, Digest]], snapshot: Path, progress: Progress | None,
                        ignored: list[str]) -> tuple[list[layout.ModelFile], dict[str, dict[str, int]]]:
    """The files with those the .onnx graphs keep tensors in retagged ``onnx``
    and copied like the graph (validation loads them), and what each graph needs
    of them. Sizes are checked from the scan's stat, then again on the copies."""
    needed: dict[str, dict[str, int]] = {}
    for f in files:
        if f.relpath == layout.ONNX_NAME:
            with open(copies[f.relpath][0], "rb") as graph:
                needed[f.relpath] = extdata.requirements(graph, f.relpath)
        elif f.relpath.endswith(".onnx"):
            with layout.open_file(model_dir, f.origin) as other:
                needed[f.relpath] = extdata.requirements(other, f.relpath)
    needed = {graph: locations for graph, locations in needed.items() if locations}
    if not needed:
        return files, needed
    roles, sizes = {f.relpath: f.role for f in files}, {f.relpath: f.size for f in files}
    data = extdata.check(needed, roles, sizes.__getitem__, ignored)
    files = [dataclasses.replace(f, role="onnx") if f.relpath in data else f for f in files]
    for f in files:
        if f.relpath in data and f.relpath not in copies:
            copies[f.relpath] = _copy(zoo, model_dir, f, snapshot, progress)
    extdata.check(needed, {**roles, **dict.fromkeys(data, "other")}, lambda rel: copies[rel][1].size)
    _beside(zoo, snapshot, copies, [layout.ONNX_NAME, *needed.get(layout.ONNX_NAME, {})])
    return files, needed


def _beside(zoo: Workspace, snapshot: Path, copies: dict[str, tuple[Path, Digest]], names: list[str]) -> None:
    """model.onnx and its data in one folder, as onnxruntime looks for them: a copy
    that is a store object (the stat cache knew it) is cloned or copied into the
    snapshot. Not hard-linked: the ONNX checker refuses data with several links."""
    mode = ""
    for rel in names:
        path, digest = copies[rel]
        dest = snapshot / rel
        if path == dest:
            continue
        mode = mode or ("reflink" if zoo.store.can_reflink(snapshot) else "copy")
        zoo.store.materialise(digest.md5, dest, mode, digest, rel)
        copies[rel] = (dest, digest)


def _archive_skipped(by_path: dict[str, layout.ModelFile], copies: dict[str, tuple[Path, Digest]],
                     onnx_data: tuple[str, ...]) -> str:
    """Why publish generates no model.onnx.tar.gz (see ``ARCHIVE_MAX_BYTES``); empty when it does."""
    if layout.ARCHIVE_NAME in by_path:
        return ""
    size = sum(copies[rel][1].size for rel in (layout.ONNX_NAME, *onnx_data))
    if size <= ARCHIVE_MAX_BYTES:
        return ""
    return (f"not generated: model.onnx and its external data hold {size:,} bytes, above "
            f"{ARCHIVE_MAX_BYTES:,}; pull them with --include onnx")


def _copy(zoo: Workspace, model_dir: Path, f: layout.ModelFile, snapshot: Path,
          progress: Progress | None) -> tuple[Path, Digest]:
    """The bytes of ``f`` as validation will read them: its store object when the
    stat cache knows the file unchanged, else a private copy, hashed as it is made."""
    at(progress, f.relpath)
    with layout.open_file(model_dir, f.origin) as src:
        st = os.fstat(src.fileno())
        real = model_dir.resolve() / f.origin
        known = zoo.statcache().get(real, st)
        if known is not None and zoo.store.verified(known.md5, known):
            return zoo.store.path(known.md5), known
        dest = snapshot / f.relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        hasher = Hasher()
        with open(dest, "xb") as out:
            while chunk := src.read(CHUNK):
                hasher.update(chunk)
                out.write(chunk)
        digest = hasher.digest()
        if os.fstat(src.fileno()).st_mtime_ns == st.st_mtime_ns:
            zoo.statcache().put(real, st, digest)
        return dest, digest


def _validate(files: list[layout.ModelFile], copies: dict[str, tuple[Path, Digest]], onnx_data: tuple[str, ...],
              run: bool, rtol: float, atol: float, progress: Progress | None) -> validate.Validation:
    """Everything publish refuses about the files themselves, read from their copies."""
    onnx_path = copies[layout.ONNX_NAME][0]
    start(progress, "checking model.onnx")
    interface = validate.inspect_onnx(onnx_path)
    if layout.ARCHIVE_NAME in copies:
        validate.check_archive(copies[layout.ARCHIVE_NAME][0], onnx_path,
                               data=[(rel, copies[rel][0]) for rel in onnx_data])
    for f in files:
        if f.role == "recipes":
            validate.check_recipe(copies[f.relpath][0], f.relpath)
        elif f.role.startswith("sample-") and f.relpath.endswith(".tar.gz"):
            validate.check_tar_members(copies[f.relpath][0], f.relpath)
        if f.role in ("sample-inputs", "sample-outputs"):  # a file validation would not read is refused
            validate.check_sample_format(f.relpath)
    samples = {role: validate.sample_blobs([(f.relpath, copies[f.relpath][0]) for f in files
                                          if f.role == role and f.relpath in copies])
               for role in ("sample-inputs", "sample-outputs", "sample-labels")}
    inputs, outputs, labels = samples["sample-inputs"], samples["sample-outputs"], samples["sample-labels"]
    check_labels(len(labels), len(inputs))
    if run and outputs and not inputs:  # else recorded as "nothing to compare": outputs would go unchecked
        raise ModelDirError("sample-outputs", f"has {len(outputs)} samples but there are no sample-inputs "
                                              "to run; add the inputs that give them")
    outcome = skipped_run(run, len(inputs), len(outputs))
    if outcome is None:
        start(progress, f"running {len(inputs)} sample inputs through model.onnx")
        outcome = validate.run_samples(onnx_path, inputs, outputs, interface, rtol, atol)
    return validate.Validation(interface, dict(outcome))


def _read_card(path: Path) -> Card:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(CARD_NAME, "is not UTF-8 text") from exc
    return parse_card(text)


def ingest(zoo: Workspace, scan: ModelScan, progress: Progress | None = None,
           stored: Callable[[str, int], None] | None = None) -> tuple[FileEntry, ...]:
    """Put every file in the store (and the ONNX archive, unless the directory has
    one); returns the entries, sorted. The caller holds the store's lock shared:
    gc must not remove these objects before a manifest references them.
    ``stored`` is told each object (md5, size) once it is in the store, verified."""
    by_path = scan.by_path
    start(progress, "hashing", len(scan.files), sum(f.size for f in scan.files))
    remember: list[tuple[Path, os.stat_result, Digest]] = []
    real_dir = scan.model_dir.resolve()  # once, not a walk up the path per file
    # What the stat cache knows of the directory, in one query, not one per file
    # (2,000 of them were a tenth of a small-file publish's main thread).
    known = zoo.statcache().under(real_dir)
    entries: list[FileEntry] = []
    try:
        for f in scan.files:
            entries.append(_ingest(zoo, scan, f, progress, remember, real_dir, known))
            if stored is not None:
                stored(entries[-1].md5, entries[-1].size)
    finally:
        # One transaction for the stat cache, not a commit per file (a tenth of
        # a small-file publish); what was stored before a failure is kept too.
        zoo.statcache().put_many(remember)
    if layout.ARCHIVE_NAME not in by_path and not scan.archive_skipped:
        start(progress, f"writing {layout.ARCHIVE_NAME}")
        members = {e.path: e for e in entries if e.path in (layout.ONNX_NAME, *scan.onnx_data)}
        entries.append(_archive(zoo, scan, members))
        if stored is not None:
            stored(entries[-1].md5, entries[-1].size)
    entries.sort()
    zoo.statcache().flush()
    return tuple(entries)


def _ingest(zoo: Workspace, scan: ModelScan, f: layout.ModelFile, progress: Progress | None,
            remember: list[tuple[Path, os.stat_result, Digest]], real_dir: Path, known: dict[str, Entry]) -> FileEntry:
    """Store a file: a validated one from its copy, checked against the digest
    validation saw; another straight from the model directory, opened without
    following links. Hashing and copying are skipped when nothing changed."""
    at(progress, f.relpath)
    if f.relpath in scan.copies:
        copy, digest = scan.copies[f.relpath]
        if not zoo.store.verified(digest.md5, digest):
            with open(copy, "rb") as src, zoo.store.writer(expect=digest, label=f.relpath, source="its copy") as out:
                _stream(src, out, progress)
        else:
            advance(progress, 0, digest.size)
    else:
        digest = _store_direct(zoo, scan.model_dir, f, progress, remember, real_dir, known)
    advance(progress, 1, 0)
    return FileEntry(f.relpath, f.role, digest.size, digest.sha256, digest.md5)


def _store_direct(zoo: Workspace, model_dir: Path, f: layout.ModelFile, progress: Progress | None,
                  remember: list[tuple[Path, os.stat_result, Digest]], real_dir: Path,
                  known: dict[str, Entry]) -> Digest:
    with layout.open_file(model_dir, f.origin) as src:
        st = os.fstat(src.fileno())
        real = real_dir / f.origin
        digest = fresh(known.get(str(real)), st)
        if digest is not None and zoo.store.verified(digest.md5, digest):
            advance(progress, 0, st.st_size)
            return digest
        first = src.read(_WHOLE)
        if len(first) < _WHOLE:  # the whole file in one read: stored from memory
            digest = zoo.store.add_data(first)
            advance(progress, 0, len(first))
        else:
            with zoo.store.writer(label=f.relpath) as out:
                out.write(first)
                advance(progress, 0, len(first))
                _stream(src, out, progress)
            digest = out.hasher.digest()
        if os.fstat(src.fileno()).st_mtime_ns == st.st_mtime_ns:
            remember.append((real, st, digest))
        return digest


def _stream(src: BinaryIO, out: HashingWriter, progress: Progress | None) -> None:
    while chunk := src.read(CHUNK):
        out.write(chunk)
        advance(progress, 0, len(chunk))


def _archive(zoo: Workspace, scan: ModelScan, members: dict[str, FileEntry]) -> FileEntry:
    """The generated archive, from the validated copies of model.onnx and its data."""
    cache = zoo.statcache()
    kind, key = _ARCHIVE_KIND, members[layout.ONNX_NAME].sha256
    if scan.onnx_data:
        kind = _ARCHIVE_WITH_DATA_KIND
        key = hashlib.sha256("".join(f"{e.path}\0{e.sha256}\n" for e in sorted(members.values())).encode()).hexdigest()
    digest: Digest | None = cache.get_derived(kind, key)
    if digest is None or not zoo.store.verified(digest.md5, digest):
        data = [(rel, scan.copies[rel][0]) for rel in scan.onnx_data]
        digest = zoo.store.generate(lambda out: write_onnx_archive(scan.copies[layout.ONNX_NAME][0], out, data))
        cache.put_derived(kind, key, digest)
    return FileEntry(layout.ARCHIVE_NAME, "archive", digest.size, digest.sha256, digest.md5)


def plan_version(zoo: Workspace, stub: Stub, scan: ModelScan, entries: tuple[FileEntry, ...],
                 requested: int | None, jobs: int, early: EarlyUploads | None = None) -> PublishPlan:
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
    # What the remote lacks, from the listing taken at the start when objects went up early.
    listed = early.missing(sizes) if early is not None else None
    missing = listed if listed is not None else zoo.remote().missing(sizes, jobs=jobs, sizes=sizes)
    return PublishPlan(stub, scan, entries, decision, tree_oid, tuple(sorted(missing)),
                       sum(sizes[oid] for oid in missing))
