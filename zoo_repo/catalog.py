"""The catalog as text: the spec's tables (model tag, validation metric). Pure."""

from __future__ import annotations

from collections.abc import Iterable

from .card import validation_metric
from .manifest import Manifest

# The spec's section titles; other domains get a title made from their names.
SECTION_TITLES = {
    ("cv", "classification"): "Image Classification",
    ("cv", "detection"): "Object Detection",
    ("cv", "segmentation"): "Image Segmentation",
    ("nlp", "question_answering"): "Question Answering",
    ("nlp", "text_classification"): "Text Classification",
}


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def section_title(domain: str, sub_domain: str) -> str:
    return SECTION_TITLES.get(
        (domain, sub_domain), f"{domain.upper()} {sub_domain.replace('_', ' ').title()}"
    )


def render_markdown(manifests: Iterable[Manifest]) -> str:
    """Tables grouped by domain and sub-domain, as in the spec."""
    groups: dict[tuple[str, str], list[Manifest]] = {}
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
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
