"""What changed between two manifests: files, sizes, metrics, the model itself. Pure.

Works for any two manifests, of one stub or of two (a pruned model against
its dense base), so a reviewer can ask "what does this version change?" and
"how does this model differ from that one?" with the same tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zoo_repo.core.card import Metric
from zoo_repo.core.manifest import FileEntry, Manifest
from zoo_repo.core.modelfacts import FactChange, compare, summary
from zoo_repo.core.words import human_size

MINUS = "\u2212"  # a real minus sign: "−0.8" reads better than "-0.8" in a review


@dataclass(frozen=True)
class FileChange:
    """One path present on both sides with different bytes."""

    before: FileEntry
    after: FileEntry

    @property
    def path(self) -> str:
        return self.after.path

    @property
    def size_delta(self) -> int:
        return self.after.size - self.before.size


@dataclass(frozen=True)
class MetricChange:
    """One metric (by name, dataset and split) on either side; None where it is absent."""

    name: str
    dataset: str | None
    split: str | None
    unit: str | None
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        # Rounded so that 75.3 - 76.1 shows as -0.8, not -0.7999999999999972.
        return round(self.after - self.before, 9)


@dataclass(frozen=True)
class ManifestDiff:
    a: str  # "STUB@vN"
    b: str
    fields: tuple[tuple[str, str | None, str | None], ...]  # stub fields that differ: (name, a, b)
    added: tuple[FileEntry, ...]
    removed: tuple[FileEntry, ...]
    changed: tuple[FileChange, ...]
    unchanged: int
    size_a: int
    size_b: int
    metrics: tuple[MetricChange, ...]
    model: tuple[FactChange, ...] = ()  # the model facts that differ, breaking ones first

    @property
    def breaking(self) -> tuple[FactChange, ...]:
        """The changes that can break code written against ``a`` (``core.modelfacts``)."""
        return tuple(c for c in self.model if c.breaking)

    @property
    def size_delta(self) -> int:
        return self.size_b - self.size_a

    @property
    def same_files(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def differs(self) -> bool:
        """Whether anything differs: a stub field, a file's bytes, a metric
        (what ``zoo diff --exit-code`` exits 1 on)."""
        return (bool(self.fields) or not self.same_files or bool(self.model)
                or any(m.before != m.after for m in self.metrics))


def _metric_key(m: Metric) -> tuple[str, str | None, str | None]:
    return (m.name, m.dataset, m.split)


def metric_changes(a: tuple[Metric, ...], b: tuple[Metric, ...]) -> tuple[MetricChange, ...]:
    """Metrics matched by (name, dataset, split): b's order first, then those only in a."""
    before = {_metric_key(m): m for m in a}
    after = {_metric_key(m): m for m in b}
    keys = list(after) + [k for k in before if k not in after]
    out = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        unit = new.unit if new is not None else old.unit if old is not None else None
        out.append(MetricChange(
            key[0], key[1], key[2], unit,
            old.value if old is not None else None, new.value if new is not None else None,
        ))
    return tuple(out)


def diff(a: Manifest, b: Manifest) -> ManifestDiff:
    """What changes from ``a`` to ``b``; a file is changed when its path stays and its sha256 does not."""
    old = {f.path: f for f in a.files}
    new = {f.path: f for f in b.files}
    fields_a, fields_b = a.stub.fields(), b.stub.fields()
    return ManifestDiff(
        a=f"{a.stub}@{a.version_name}",
        b=f"{b.stub}@{b.version_name}",
        fields=tuple((k, fields_a[k], fields_b[k]) for k in fields_a if fields_a[k] != fields_b[k]),
        added=tuple(new[p] for p in sorted(new.keys() - old.keys())),
        removed=tuple(old[p] for p in sorted(old.keys() - new.keys())),
        changed=tuple(
            FileChange(old[p], new[p]) for p in sorted(old.keys() & new.keys())
            if old[p].sha256 != new[p].sha256
        ),
        unchanged=sum(1 for p in old.keys() & new.keys() if old[p].sha256 == new[p].sha256),
        size_a=a.size,
        size_b=b.size,
        metrics=metric_changes(a.metrics, b.metrics),
        model=compare(a.onnx, b.onnx),
    )


# -- rendering ----------------------------------------------------------------
def format_number(value: float) -> str:
    """``76.1``, ``−0.8``: shortest form, with a real minus sign."""
    return f"{value:g}".replace("-", MINUS)


def format_signed(value: float) -> str:
    """``+0.8``, ``−0.8``, ``±0``."""
    if value == 0:
        return "\u00b10"
    return ("+" if value > 0 else MINUS) + f"{abs(value):g}"


def format_bytes_delta(n: int) -> str:
    """``+1.2 KiB``, ``−60 B``, ``±0 B``."""
    if n == 0:
        return "\u00b10 B"
    return ("+" if n > 0 else MINUS) + human_size(abs(n))


def _with_unit(value: float, unit: str | None) -> str:
    text = format_number(value)
    if unit == "%":
        return text + "%"
    return f"{text} {unit}" if unit else text


def format_metric_change(m: MetricChange) -> str:
    """``top1 accuracy 76.1% → 75.3% (−0.8) [imagenet, validation]``."""
    where = ", ".join(x for x in (m.dataset, m.split) if x)
    suffix = f" [{where}]" if where else ""
    if m.before is None and m.after is not None:
        return f"{m.name} {_with_unit(m.after, m.unit)} (new){suffix}"
    if m.after is None and m.before is not None:
        return f"{m.name} {_with_unit(m.before, m.unit)} → (dropped){suffix}"
    assert m.before is not None and m.after is not None and m.delta is not None
    return (f"{m.name} {_with_unit(m.before, m.unit)} → {_with_unit(m.after, m.unit)} "
            f"({format_signed(m.delta)}){suffix}")


def render_diff_text(d: ManifestDiff) -> str:
    """The diff as plain text for a terminal, one line per file that differs."""
    lines = [f"{d.a} → {d.b}"]
    for name, left, right in d.fields:
        lines.append(f"  field {name}: {left or '-'} → {right or '-'}")
    lines.append(
        f"  files: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed, "
        f"{d.unchanged} unchanged"
    )
    lines.append(f"  size: {human_size(d.size_a)} → {human_size(d.size_b)} ({format_bytes_delta(d.size_delta)})")
    for f in d.added:
        lines.append(f"  + {f.path} ({f.role}, {human_size(f.size)})")
    for f in d.removed:
        lines.append(f"  - {f.path} ({f.role}, {human_size(f.size)})")
    for c in d.changed:
        lines.append(
            f"  ~ {c.path} ({c.after.role}): {human_size(c.before.size)} → {human_size(c.after.size)}, "
            f"sha256:{c.before.sha256[:12]}… → sha256:{c.after.sha256[:12]}…"
        )
    if d.metrics:
        lines.append("  metrics:")
        lines.extend(f"    {format_metric_change(m)}" for m in d.metrics)
    if d.model:
        lines.append(f"  model: {len(d.breaking)} breaking" + (" (code written for the first may fail on the second)"
                                                               if d.breaking else ""))
        lines.extend(f"    {'!' if c.breaking else '~'} {c.line()}" for c in d.model)
    return "\n".join(lines)


def model_markdown(m: Manifest, d: ManifestDiff | None) -> list[str]:
    """The review's model section: the facts, then what changed against the parent,
    breaking changes marked so a reviewer cannot miss them."""
    facts = summary(m.onnx)
    if not facts:
        return ["**Model:** not inspected"]
    lines = ["**Model**", "", *(f"- {label}: `{text}`" for label, text in facts)]
    if d is not None and d.model:
        lines += ["", f"**Model changes against {d.a.rsplit('@', 1)[1]}** "
                      f"({len(d.breaking)} breaking)", ""]
        lines += [f"- {'⚠️ **breaking** ' if c.breaking else ''}{c.line().removesuffix(' (breaking)')}"
                  for c in d.model]
    return lines


def _file_dict(f: FileEntry) -> dict[str, Any]:
    return {"path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256}


def diff_dict(d: ManifestDiff) -> dict[str, Any]:
    """The diff as plain data for ``--json``."""
    return {
        "a": d.a,
        "b": d.b,
        "fields": {name: {"a": left, "b": right} for name, left, right in d.fields},
        "added": [_file_dict(f) for f in d.added],
        "removed": [_file_dict(f) for f in d.removed],
        "changed": [
            {"path": c.path, "role": c.after.role, "size_a": c.before.size, "size_b": c.after.size,
             "sha256_a": c.before.sha256, "sha256_b": c.after.sha256}
            for c in d.changed
        ],
        "unchanged": d.unchanged,
        "size_a": d.size_a,
        "size_b": d.size_b,
        "size_delta": d.size_delta,
        "metrics": [
            {"name": m.name, "dataset": m.dataset, "split": m.split, "unit": m.unit,
             "a": m.before, "b": m.after, "delta": m.delta}
            for m in d.metrics
        ],
        "model": [{"what": c.what, "a": c.before, "b": c.after, "breaking": c.breaking} for c in d.model],
        "breaking": bool(d.breaking),
    }
