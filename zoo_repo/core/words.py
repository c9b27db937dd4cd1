"""Counts as people write them: ``1 file``, ``2 files``. Pure."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: ``count(1, "object")`` is ``1 object``;
    ``plural`` for nouns that do not just take an ``s`` (``count(2, "temp file")``)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"
