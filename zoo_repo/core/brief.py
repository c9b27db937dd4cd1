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


def _text(value: Any, optional: bool = False) -> bool:
    return (optional and value is None) or (isinstance(value, str) and len(value) <= MAX_TEXT)


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


def from_doc(raw: Any, where: str, stub: str) -> Brief:
    """The brief ``raw`` says, checked for shape and bounds; ManifestError in one line otherwise."""
    bad = f"brief of {stub[:120]!r}"
    if not isinstance(raw, dict) or set(raw) != _KEYS:
        raise ManifestError(where, f"{bad}: expected {{{', '.join(sorted(_KEYS))}}}")
    version, digest, metrics = raw["v"], raw["digest"], raw["metrics"]
    if not (_count(version) and version > 0 and isinstance(digest, str) and len(digest) == _DIGEST_LEN
            and digest.startswith("sha256:") and _text(raw["created"]) and _count(raw["size"])
            and _count(raw["nfiles"])):
        raise ManifestError(where, f"{bad}: expected v (a version number), digest (sha256:…), created "
                            f"(at most {MAX_TEXT} characters), size and nfiles (whole numbers)")
    if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
        raise ManifestError(where, f"{bad}: metrics must be a list of at most {MAX_METRICS}")
    made = []
    for metric in metrics:
        if not (isinstance(metric, list) and len(metric) == 5 and _text(metric[0])
                and all(_text(x, optional=True) for x in metric[2:])
                and isinstance(metric[1], int | float) and not isinstance(metric[1], bool)
                and math.isfinite(metric[1])):
            raise ManifestError(where, f"{bad}: a metric must be [name, finite number, unit, dataset, split], "
                                f"each text at most {MAX_TEXT} characters")
        made.append(Metric(metric[0], float(metric[1]), metric[2], metric[3], metric[4]))
    return Brief(version, digest, raw["created"], raw["size"], raw["nfiles"], tuple(made))


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
