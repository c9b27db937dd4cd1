"""The model card, ``model.md``: YAML front matter then Markdown. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zoo_repo.core import yamltext
from zoo_repo.core.stub import FIELDS, Stub
from zoo_repo.errors import CardError

CARD_NAME = "model.md"
_METRIC_KEYS = ("name", "value", "unit", "dataset", "split")
# Units a metric may carry; none at all is fine too (mAP@0.5 42.7, F1 88.5).
KNOWN_UNITS = ("%", "ratio", "ms", "s", "us", "fps", "items/s", "images/s", "samples/s", "tokens/s",
               "B", "KB", "MB", "GB", "KiB", "MiB", "GiB", "x", "points", "dB")


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str | None = None
    dataset: str | None = None
    split: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "value": self.value}
        for key in ("unit", "dataset", "split"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def display(self) -> str:
        """As the spec's tables print it: ``76.1% top1 accuracy``, ``42.7 mAP@0.5``."""
        value = f"{self.value:g}"
        if self.unit == "%":
            return f"{value}% {self.name}"
        return f"{value} {self.unit} {self.name}" if self.unit else f"{value} {self.name}"


@dataclass(frozen=True)
class Card:
    """What publishing needs from ``model.md``: its metadata and its metrics."""

    metadata: dict[str, Any]
    metrics: tuple[Metric, ...] = ()
    body: str = field(default="", repr=False)

    @property
    def license(self) -> str | None:
        return self.metadata.get("license")

    @property
    def description(self) -> str | None:
        return self.metadata.get("description")

    @property
    def tags(self) -> list[str]:
        return list(self.metadata.get("tags") or [])

    def validation_metric(self) -> Metric | None:
        return validation_metric(self.metrics)


def validation_metric(metrics: Sequence[Metric]) -> Metric | None:
    """The metric the catalog shows: the first on a validation split, else the first."""
    for metric in metrics:
        if metric.split in (None, "validation", "val"):
            return metric
    return metrics[0] if metrics else None


def parse_card(text: str, path: str = CARD_NAME) -> Card:
    """Parse a model card, or raise CardError naming what is wrong."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise CardError(path, "expected YAML front matter: a first line '---', metadata, then '---'")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "..."))
    except StopIteration:
        raise CardError(path, "front matter is not closed by a '---' line") from None
    try:
        meta = yamltext.load("\n".join(lines[1:end])) or {}
    except yamltext.YamlProblem as exc:
        raise CardError(path, f"front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise CardError(path, "front matter must be a mapping of keys to values")
    metrics = tuple(parse_metric(path, i, m) for i, m in enumerate(_list(path, meta, "metrics")))
    for key in ("license", "description"):
        if key in meta and not isinstance(meta[key], str):
            raise CardError(path, f"{key!r} must be a string")
    tags = _list(path, meta, "tags")
    if not all(isinstance(t, str) for t in tags):
        raise CardError(path, "'tags' must be a list of strings")
    for key in FIELDS:
        if key in meta and meta[key] is not None and not isinstance(meta[key], str):
            raise CardError(path, f"{key!r} must be a string")
    return Card(metadata=meta, metrics=metrics, body="\n".join(lines[end + 1:]))


def _list(path: str, meta: dict[str, Any], key: str) -> list[Any]:
    value = meta.get(key) or []
    if not isinstance(value, list):
        raise CardError(path, f"{key!r} must be a list")
    return value


def parse_metric(path: str, index: int, raw: Any) -> Metric:
    """One ``metrics`` item of a card (or of a manifest, which carries the card's), checked."""
    where = f"metrics[{index}]"
    if not isinstance(raw, dict):
        raise CardError(path, f"{where} must be a mapping with name and value")
    unknown = sorted(set(raw) - set(_METRIC_KEYS))
    if unknown:
        raise CardError(path, f"{where} has unknown key {unknown[0]!r}; expected {', '.join(_METRIC_KEYS)}")
    name, value = raw.get("name"), raw.get("value")
    if not isinstance(name, str) or not name:
        raise CardError(path, f"{where}.name must be a non-empty string")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CardError(path, f"{where}.value must be a number, got {value!r}")
    for key in ("unit", "dataset", "split"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise CardError(path, f"{where}.{key} must be a string")
    if raw.get("unit") is not None and raw["unit"] not in KNOWN_UNITS:
        raise CardError(path, f"{where}.unit {raw['unit']!r} is not a known unit; expected one of "
                              + ", ".join(KNOWN_UNITS) + " (or no unit)")
    if isinstance(value, float) and value != value:
        raise CardError(path, f"{where}.value must be a number, got NaN")
    return Metric(name, float(value), raw.get("unit"), raw.get("dataset"), raw.get("split"))


def check_stub_agrees(card: Card, stub: Stub, path: str = CARD_NAME) -> None:
    """The card may repeat the stub's fields; where it does they must match."""
    expected = stub.fields()
    for key in FIELDS:
        if key in card.metadata and card.metadata[key] != expected[key]:
            raise CardError(
                path,
                f"{key} is {card.metadata[key]!r} in the card but {expected[key]!r} in `stub=` {stub}",
                param="stub",
            )
