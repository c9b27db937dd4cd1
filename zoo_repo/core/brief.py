"""What a listing shows of a stub's latest version, carried in the remote's index. Pure.

``zoo list --remote`` shows each stub's latest version: its number, when it was
published, its size, its file count and its card's metrics. Reading 20,000
manifests for that costs a minute cold; so the projection's writer (``ops.project``),
which holds each manifest it lists, writes this brief of it into the move and the
shard beside the version's digest, and a listing reads the shards alone.

A brief names the digest of the manifest it was made from, and is used only for
the version the view lists at exactly that digest as the stub's latest: a brief
left behind by a newer version (written by a zoo that wrote none, or replayed
from the log past the top) is not shown, the manifest is read instead. A brief
that disagrees with its own file's entries is refused, as crafted. It is no more
trusted than the digest beside it, in the same content-addressed shard: whoever
could write one could write the other. ``zoo show`` and ``zoo pull`` read the
manifest itself, checked against that digest.

Its size is bounded field by field (``MAX_METRICS``, ``MAX_TEXT``): a manifest
with more is listed from the manifest, never from a cut brief.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoo_repo.core.card import Metric
from zoo_repo.errors import ManifestError

if TYPE_CHECKING:
    from zoo_repo.core.manifest import Manifest

MAX_METRICS = 8
MAX_TEXT = 64  # characters of a metric's name, unit, dataset or split, and of ``created``
# A brief is then at most ~2.7 kB of JSON (a real one ~150 bytes): a 16 MiB shard
# holds ~6,000 stubs even if every brief were that large.
_DIGEST_LEN = len("sha256:") + 64
_KEYS = {"v", "digest", "created", "size", "nfiles", "metrics"}


@dataclass(frozen=True)
class Brief:
    """A listing's row of one version: the manifest with ``digest`` says all of this."""

    version: int
    digest: str
    created: str
    size: int
    nfiles: int
    metrics: tuple[Metric, ...]

    def to_doc(self) -> dict[str, Any]:
        return {"v": self.version, "digest": self.digest, "created": self.created, "size": self.size,
                "nfiles": self.nfiles, "metrics": [[m.name, m.value, m.unit, m.dataset, m.split] for m in self.metrics]}


def of_manifest(manifest: Manifest, digest: str) -> Brief | None:
    """The brief of ``manifest`` (whose text has ``digest``); None when it does not fit the
    bounds, or a metric is not a finite number (JSON has none): such a stub is listed from its manifest."""
    brief = Brief(manifest.version, digest, manifest.created, manifest.size, len(manifest.files), manifest.metrics)
    try:
        return from_doc(brief.to_doc(), "", str(manifest.stub))
    except ManifestError:
        return None


def from_doc(raw: Any, where: str, stub: str) -> Brief:
    """The brief ``raw`` says, checked for shape and bounds; ManifestError in one line otherwise."""
    # Plain type tests, inline: a listing of 20,000 stubs checks 20,000 briefs.
    if type(raw) is not dict or raw.keys() != _KEYS:
        raise ManifestError(where, f"brief of {stub[:120]!r}: expected {{{', '.join(sorted(_KEYS))}}}")
    version, digest, created, size, nfiles = raw["v"], raw["digest"], raw["created"], raw["size"], raw["nfiles"]
    if not (type(version) is int and version > 0 and type(digest) is str and len(digest) == _DIGEST_LEN
            and digest.startswith("sha256:") and type(created) is str and len(created) <= MAX_TEXT
            and type(size) is int and size >= 0 and type(nfiles) is int and nfiles >= 0):
        raise ManifestError(where, f"brief of {stub[:120]!r}: expected v (a version number), digest (sha256:…), "
                            f"created (at most {MAX_TEXT} characters), size and nfiles (whole numbers)")
    metrics = raw["metrics"]
    if type(metrics) is not list or len(metrics) > MAX_METRICS:
        raise ManifestError(where, f"brief of {stub[:120]!r}: metrics must be a list of at most {MAX_METRICS}")
    return Brief(version, digest, created, size, nfiles, tuple(_metric(m, where, stub) for m in metrics))


def _metric(raw: Any, where: str, stub: str) -> Metric:
    if type(raw) is list and len(raw) == 5:
        name, value, unit, dataset, split = raw
        if type(name) is str and len(name) <= MAX_TEXT and type(value) in (int, float) and math.isfinite(value) \
                and all(x is None or (type(x) is str and len(x) <= MAX_TEXT) for x in (unit, dataset, split)):
            return Metric(name, float(value), unit, dataset, split)
    raise ManifestError(where, f"brief of {stub[:120]!r}: a metric must be [name, finite number, unit, dataset, "
                        f"split], each text at most {MAX_TEXT} characters")


def from_docs(raw: Any, where: str) -> dict[str, Brief]:
    """stub → brief, as a shard or a move holds them (absent in files written before briefs)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ManifestError(where, "latest must map stubs to briefs of their latest version")
    return {str(stub): from_doc(doc, where, str(stub)) for stub, doc in raw.items()}


def fits(brief: Brief, versions: dict[str, str] | None) -> bool:
    """Whether ``brief`` is of the latest of ``versions`` (name → digest), at that digest."""
    # Names are vN, checked when the file was parsed (``projection._versions``).
    if not versions or versions.get(f"v{brief.version}") != brief.digest:
        return False
    return max(int(name[1:]) for name in versions) == brief.version
