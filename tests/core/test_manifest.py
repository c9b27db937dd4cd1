"""Manifests: one line per file, round trips, and what the schema refuses."""

from __future__ import annotations

import pytest

from tests.core.conftest import STUB, sample_manifest
from zoo_repo import ManifestError, parse_manifest


def test_manifest_text_round_trips_with_one_line_per_file() -> None:
    m = sample_manifest()
    text = m.to_text()
    back = parse_manifest(text)
    assert back.to_text() == text
    assert back.stub == STUB and back.version == 2 and back.parent == 1
    assert back.content_key() == m.content_key()
    file_lines = [line for line in text.splitlines() if line.startswith("- {path:")]
    assert [line.split(",")[0] for line in file_lines] == ["- {path: model.md", "- {path: model.onnx"]
    assert back.metrics[0].display() == "62.1 mAP@0.5"


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "a//b", "./a", "C:/x", "a\\b", ""])
def test_manifest_paths_that_escape_the_model_are_refused(bad: str) -> None:
    text = sample_manifest().to_text().replace("path: model.onnx", f"path: '{bad}'")
    with pytest.raises(ManifestError, match="file path"):
        parse_manifest(text)


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("schema: 1", "schema: 9", "schema is 9"),
        ("version: v2", "version: two", "is not vN"),
        ("parent: v1", "parent: v5", "not an earlier version"),
        ("role: onnx", "role: weights", "role 'weights'"),
        ("size: 10,", "size: -1,", "size must be a non-negative integer"),
        ("domain: cv", "domain: nlp", "fields do not match"),
        ("sha256: " + "a" * 64, "sha256: xyz", "sha256 must be"),
    ],
)
def test_manifest_schema_violations(old: str, new: str, fragment: str) -> None:
    text = sample_manifest().to_text()
    assert old in text
    with pytest.raises(ManifestError, match=fragment.replace("(", r"\(")):
        parse_manifest(text.replace(old, new, 1))
