"""What a publish makes, decided over values. Pure: no I/O.

``zoo_repo.ops.publishplan`` reads the model directory, the store and the
published versions; these functions decide from what it found: how the sample
run is recorded, which version number the content gets (or that it is already
published), and the manifest that names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from zoo_repo.core.card import Card
from zoo_repo.core.manifest import MAX_MANIFEST_BYTES, FileEntry, Manifest
from zoo_repo.core.stub import Stub
from zoo_repo.errors import ModelDirError, UsageError

# How a manifest records that the sample run was skipped on request. The
# value is part of the manifest format (it names the command-line flag, as it
# always has), not a message.
SKIPPED_ON_REQUEST = "--no-run"
# Likewise the reason recorded when the model directory has nothing to compare.
NO_SAMPLES = "no sample-inputs and sample-outputs to compare"
# Why a run's outputs were not compared: the inputs ran (the model executes), but
# there was nothing to compare them with. Part of the manifest format too.
NOT_COMPARED = "no sample-outputs"
CARD_FIELDS = ("license", "description", "tags")  # the card's metadata a manifest carries


def skipped_run(run: bool, inputs: int, outputs: int) -> dict[str, object] | None:
    """The validation record of a sample run that does not happen; None when it runs."""
    if not run:
        return {"skipped": SKIPPED_ON_REQUEST}
    if not inputs:  # inputs without outputs still run: that proves the model executes
        return {"skipped": NO_SAMPLES}
    return None


def check_labels(labels: int, inputs: int) -> None:
    """Sample labels, when there are any, go one to one with the sample inputs."""
    if labels and labels != inputs:
        raise ModelDirError("sample-labels", f"has {labels} labels for {inputs} sample-inputs")


def content_key(entries: Iterable[FileEntry]) -> tuple[tuple[str, str], ...]:
    """What makes two versions the same content (see ``Manifest.content_key``)."""
    return tuple(sorted((e.path, e.sha256) for e in entries))


@dataclass(frozen=True)
class VersionPlan:
    """The version a publish makes, or (``existing``) the published one whose
    content it equals, when nothing new is written."""

    version: int
    parent: int | None
    existing: Manifest | None = None
    finish: bool = False  # existing is the latest: complete a publish of it that was interrupted

    @property
    def unchanged(self) -> bool:
        return self.existing is not None


def decide_version(stub: Stub, versions: Sequence[int], requested: int | None,
                   content: tuple[tuple[str, str], ...], held: Manifest | None,
                   latest: Manifest | None) -> VersionPlan:
    """The version for ``content``: ``requested`` if given, else the next.

    ``held`` is the published ``requested`` version (when it exists), ``latest``
    the latest version (needed only when ``requested`` is not published).
    Versions are immutable: a requested version that exists with other content,
    or that is not the next one, is refused.
    """
    if requested is not None and requested in versions:
        if held is not None and held.content_key() == content:
            return VersionPlan(held.version, held.parent, existing=held)
        raise UsageError(
            f"{stub}@v{requested} is already published with different content; versions are immutable",
            hint="publish without `version=` to make the next version",
            param="version",
        )
    following = latest.version + 1 if latest else 1
    if requested is not None and requested != following:
        raise UsageError(f"`version=` v{requested}: the next version of {stub} is v{following}", param="version")
    if latest is not None and latest.content_key() == content:
        return VersionPlan(latest.version, latest.parent, existing=latest, finish=True)
    return VersionPlan(following, latest.version if latest else None)


def new_manifest(stub: Stub, version: VersionPlan, entries: Sequence[FileEntry], tree_oid: str, *,
                 created: str, publisher: str, message: str | None, card: Card,
                 onnx: dict[str, Any], run: dict[str, Any]) -> Manifest:
    """The manifest of the new version ``version`` plans."""
    return Manifest(
        stub=stub,
        version=version.version,
        created=created,
        publisher=publisher,
        files=tuple(entries),
        tree_md5=tree_oid.removesuffix(".dir"),
        parent=version.parent,
        message=message,
        card={k: v for k, v in card.metadata.items() if k in CARD_FIELDS},
        metrics=card.metrics,
        onnx=onnx,
        validation=run,
    )


# What the manifest's stamp (date, publisher, version numbers) may add to the
# rehearsal below: the publisher's git identity is not known yet.
_STAMP_ROOM = 64 << 10
# A file's line besides its path and role: keys, size, digests, punctuation.
_LINE_ROOM = 256


def check_fits(stub: Stub, files: Sequence[tuple[str, str]], card: Card, onnx: dict[str, Any],
               run: dict[str, Any], message: str | None) -> None:
    """Refuse a model whose manifest readers would refuse as too large: the
    manifest is rendered with the widest digests and sizes, before anything is stored."""
    entries = [FileEntry(path, role, 10**15, "f" * 64, "f" * 32) for path, role in files]
    if not any(path == "model.onnx.tar.gz" for path, _ in files):
        entries.append(FileEntry("model.onnx.tar.gz", "archive", 10**15, "f" * 64, "f" * 32))

    def rendered(entries: Sequence[FileEntry]) -> int:
        rehearsal = new_manifest(stub, VersionPlan(1, None), list(entries), "f" * 32, created="", publisher="",
                                 message=message, card=card, onnx=onnx, run=run)
        return len(rehearsal.to_text().encode("utf-8")) + _STAMP_ROOM

    # Rendering thousands of file lines costs a third of a second; a bound on
    # each (its fixed text, and every character of path and role escaped as
    # YAML's longest escape, \UXXXXXXXX) settles all but manifests near the cap.
    bound = rendered(entries[:1]) + sum(_LINE_ROOM + 10 * (len(f.path) + len(f.role)) for f in entries[1:])
    size = bound if bound <= MAX_MANIFEST_BYTES else rendered(entries)
    if size > MAX_MANIFEST_BYTES:
        raise ModelDirError(f"{len(files):,} files", f"their manifest would be about {size >> 20} MiB; readers "
                                                     f"accept at most {MAX_MANIFEST_BYTES >> 20} MiB: bundle small "
                                                     "files into a .tar.gz (sample folders can be one)")
