"""The catalog as text and as data: the spec's tables, and ``catalog.json``. Pure.

``render_markdown`` prints the spec's tables (model tag, validation metric).
``catalog_index`` and ``render_json`` make the machine-readable catalog that the
static page (``catalog_page``) embeds. Both are rebuilt by ``dvc repro``, so
the same manifests must always give the same bytes: nothing here reads a clock.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from zoo_repo.core.card import Metric, validation_metric
from zoo_repo.core.manifest import Manifest, digest_of
from zoo_repo.core.stub import Stub

CATALOG_SCHEMA = 1

# The spec's section titles; other domains get a title made from their names.
SECTION_TITLES = {
    ("cv", "classification"): "Image Classification",
    ("cv", "detection"): "Object Detection",
    ("cv", "segmentation"): "Image Segmentation",
    ("nlp", "question_answering"): "Question Answering",
    ("nlp", "text_classification"): "Text Classification",
}


def human_size(n: int) -> str:
    """A byte count as people read it: ``512 B``, ``1.5 KiB``, ``97.6 MiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def section_title(domain: str, sub_domain: str) -> str:
    """The heading of a domain's table in ``CATALOG.md``."""
    return SECTION_TITLES.get(
        (domain, sub_domain), f"{domain.upper()} {sub_domain.replace('_', ' ').title()}"
    )


@dataclass(frozen=True)
class Summary:
    """What a listing shows of one version; built from a manifest or from a catalog.json entry."""

    stub: Stub
    version: int
    created: str
    size: int
    nfiles: int
    metrics: tuple[Metric, ...]

    @property
    def version_name(self) -> str:
        return f"v{self.version}"

    @classmethod
    def of(cls, m: Manifest) -> Summary:
        return cls(m.stub, m.version, m.created, m.size, len(m.files), m.metrics)

    @classmethod
    def from_entry(cls, stub: Stub, entry: Mapping[str, Any]) -> Summary:
        metrics = tuple(Metric(x["name"], float(x["value"]) if x.get("value") is not None else math.nan,
                               x.get("unit"), x.get("dataset"), x.get("split")) for x in entry.get("metrics", []))
        return cls(stub, int(str(entry["version"])[1:]), entry["created"], int(entry["size"]),
                   int(entry["nfiles"]), metrics)


def render_markdown(manifests: Iterable[Manifest | Summary]) -> str:
    """Tables grouped by domain and sub-domain, as in the spec."""
    groups: dict[tuple[str, str], list[Manifest | Summary]] = {}
    for m in sorted(manifests, key=lambda m: str(m.stub)):
        groups.setdefault((m.stub.domain, m.stub.sub_domain), []).append(m)
    out: list[str] = []
    for (domain, sub), items in sorted(groups.items()):
        rows = [
            (
                str(m.stub),
                metric.display() if (metric := validation_metric(m.metrics)) else "",
                m.version_name,
                human_size(m.size),
                m.created[:10],
            )
            for m in items
        ]
        header = ("Model Tag", "Validation Baseline Metric", "Version", "Size", "Published")
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        out.append(f"### {section_title(domain, sub)}\n")
        out.append(_row(header, widths))
        out.append("| " + " | ".join("-" * w for w in widths) + " |")
        out.extend(_row(r, widths) for r in rows)
        out.append("")
    return "\n".join(out) if out else "(no models published yet)\n"


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


# -- catalog.json -------------------------------------------------------------


def catalog_index(
    manifests: Iterable[Manifest], cards: Mapping[tuple[str, int], str] | None = None,
    digests: Mapping[tuple[str, int], str] | None = None,
) -> dict[str, Any]:
    """The content of ``catalog.json``: every published version of every stub.

    ``cards`` maps ``(stub, version number)`` to the Markdown body of that
    version's ``model.md`` (front matter removed); versions without one get
    ``card_markdown: null``.

    Returns ``{"schema": 1, "models": [entry, ...]}``, entries sorted by stub,
    then by version number. Each entry has these keys, in this order:

    - ``stub`` (str): the canonical stub, without ``zoo:``.
    - ``version`` (str): ``"v3"``.
    - ``latest`` (bool): whether this is the highest version of its stub.
    - ``fields`` (dict): the 11 stub fields (``domain`` … ``sparse_target``), null when absent.
    - ``created`` (str), ``publisher`` (str): as in the manifest.
    - ``parent`` (str | null): the version this one follows, ``"v2"``.
    - ``size`` (int): total bytes; ``nfiles`` (int): number of files.
    - ``metrics`` (list): ``{name, value[, unit, dataset, split]}`` as in the card.
    - ``metric`` (dict | null): the validation metric (``card.validation_metric``),
      its ``metrics`` keys plus ``display`` (``"76.1% top1 accuracy"``).
    - ``card`` (dict): ``{license: str | null, description: str | null, tags: [str]}``.
    - ``tree_md5`` (str): md5 of DVC's directory listing (``<tree_md5>.dir``).
    - ``manifest_digest`` (str): ``sha256:`` of the manifest's text (from ``digests``,
      else of its canonical rendering); ``zoo list`` trusts an entry only while it matches.
    - ``files`` (list): ``{path, role, size, sha256}``, sorted by path.
    - ``card_markdown`` (str | null): the body of ``model.md``.

    A metric value that is not a finite number becomes null, since JSON has no NaN.
    """
    items = sorted(manifests, key=lambda m: (str(m.stub), m.version))
    latest: dict[str, int] = {}
    for m in items:
        latest[str(m.stub)] = max(latest.get(str(m.stub), 0), m.version)
    cards, digests = cards or {}, digests or {}
    return {
        "schema": CATALOG_SCHEMA,
        "models": [
            _entry(m, m.version == latest[str(m.stub)], cards.get((str(m.stub), m.version)),
                   digests.get((str(m.stub), m.version)))
            for m in items
        ],
    }


def render_json(index: Mapping[str, Any]) -> str:
    """``catalog.json``'s text: fixed key order, one-space indent, trailing newline.

    The key order is the one ``catalog_index`` builds (readable in a diff:
    stub and version first); the same index always gives the same bytes.
    """
    return json.dumps(index, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def _entry(m: Manifest, is_latest: bool, card_markdown: str | None, digest: str | None) -> dict[str, Any]:
    metric = validation_metric(m.metrics)
    return {
        "stub": str(m.stub),
        "version": m.version_name,
        "latest": is_latest,
        "fields": m.stub.fields(),
        "created": m.created,
        "publisher": m.publisher,
        "parent": f"v{m.parent}" if m.parent else None,
        "size": m.size,
        "nfiles": len(m.files),
        "metrics": [_metric(x) for x in m.metrics],
        "metric": {**_metric(metric), "display": metric.display()} if metric else None,
        "card": _card(m.card),
        "tree_md5": m.tree_md5,
        "manifest_digest": digest or digest_of(m.to_text()),
        "files": [
            {"path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256}
            for f in sorted(m.files)
        ],
        "card_markdown": card_markdown,
    }


def _metric(metric: Metric) -> dict[str, Any]:
    out = metric.to_dict()
    out["value"] = metric.value if math.isfinite(metric.value) else None
    return out


def _card(card: Mapping[str, Any]) -> dict[str, Any]:
    """Only the card metadata the catalog shows, with a fixed shape whatever the manifest held."""
    description, license_ = card.get("description"), card.get("license")
    return {
        "license": license_ if isinstance(license_, str) else None,
        "description": description if isinstance(description, str) else None,
        "tags": [t for t in card.get("tags") or [] if isinstance(t, str)],
    }
