"""Counts and sizes as people write them: ``1 file``, ``2 files``, ``97.6 MiB``. Pure."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: ``count(1, "object")`` is ``1 object``;
    ``plural`` for nouns that do not just take an ``s`` (``count(2, "temp file")``)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def human_size(n: int) -> str:
    """A byte count as people read it: ``512 B``, ``1.5 KiB``, ``97.6 MiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
