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

Its size is bounded field by field (``MAX_METRICS``, ``MAX_TEXT``, ``MAX_NUMBER``):
a manifest with more (or with text beyond printable ASCII) is listed from the
manifest, never from a cut brief.
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
MAX_TEXT = 64  # printable ASCII characters of a metric's name, unit, dataset or split, and of ``created``
MAX_NUMBER = 1 << 63  # v, size, nfiles
# A brief is then at most ~5 kB of JSON (no text escapes to more than twice its length;
# a real one is ~285 bytes): a 16 MiB shard holds ~3,000 stubs even if every brief were
# that large, ~800,000 in all.
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
    if not (type(version) is int and 0 < version < MAX_NUMBER and type(digest) is str
            and len(digest) == _DIGEST_LEN and digest.startswith("sha256:") and _text(created)
            and type(size) is int and 0 <= size < MAX_NUMBER and type(nfiles) is int and 0 <= nfiles < MAX_NUMBER):
        raise ManifestError(where, f"brief of {stub[:120]!r}: expected v (a version number), digest (sha256:…), "
                            f"created (at most {MAX_TEXT} printable ASCII characters), size and nfiles "
                            "(whole numbers below 2**63)")
    metrics = raw["metrics"]
    if type(metrics) is not list or len(metrics) > MAX_METRICS:
        raise ManifestError(where, f"brief of {stub[:120]!r}: metrics must be a list of at most {MAX_METRICS}")
    return Brief(version, digest, created, size, nfiles, tuple(_metric(m, where, stub) for m in metrics))


def _metric(raw: Any, where: str, stub: str) -> Metric:
    if type(raw) is list and len(raw) == 5:
        name, value, unit, dataset, split = raw
        if _text(name) and type(value) in (int, float) and math.isfinite(value) \
                and all(x is None or _text(x) for x in (unit, dataset, split)):
            return Metric(name, float(value), unit, dataset, split)
    raise ManifestError(where, f"brief of {stub[:120]!r}: a metric must be [name, finite number, unit, dataset, "
                        f"split], each text at most {MAX_TEXT} printable ASCII characters")


def _text(value: Any) -> bool:
    # ASCII and printable: JSON escapes no such character to more than two.
    return type(value) is str and len(value) <= MAX_TEXT and value.isascii() and value.isprintable()


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
