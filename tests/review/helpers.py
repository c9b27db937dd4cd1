"""Helpers for the review-gate tests: where a version's files are, and editing them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from zoo_repo import Zoo


def vdir(zoo: Zoo, stub: str, version: int) -> str:
    """A version directory relative to the zoo root, as problems name it."""
    return f"manifests/{stub}/v{version}"


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a file (published files are plain text, writable by the owner)."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def set_metric(model_dir: Path, value: float) -> None:
    """Give the card's first metric a known value."""
    card = model_dir / "model.md"
    card.write_text(re.sub(r"value: [0-9.]+", f"value: {value}", card.read_text(), count=1))


def git(zoo: Zoo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(zoo.root), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def rules_at(report_problems: tuple, path: str) -> set[str]:  # type: ignore[type-arg]
    return {p.rule for p in report_problems if p.path == path}
