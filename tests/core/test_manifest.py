from __future__ import annotations

import io

import pytest

from zoo_repo import CardError, ManifestError, parse_card, parse_manifest, parse_stub
from zoo_repo.catalog.index import render_markdown
from zoo_repo.core.card import check_stub_agrees
from zoo_repo.core.manifest import FileEntry, Manifest
from zoo_repo.model.archive import write_onnx_archive

STUB = parse_stub("cv/detection/yolo_v3-spp/pytorch/ultralytics/coco/pruned-aggressive")
CARD = """---
domain: cv
architecture: yolo_v3
metrics:
  - {name: mAP@0.5, value: 62.1, dataset: coco, split: validation}
  - {name: latency, value: 3, unit: ms}
license: apache-2.0
tags: [detection]
---
# YOLO
"""


def test_card_metadata_and_metrics() -> None:
    card = parse_card(CARD)
    assert card.license == "apache-2.0"
    assert card.tags == ["detection"]
    assert [m.name for m in card.metrics] == ["mAP@0.5", "latency"]
    assert card.validation_metric().display() == "62.1 mAP@0.5"
    check_stub_agrees(card, STUB)


def test_card_fields_must_agree_with_the_stub() -> None:
    card = parse_card(CARD.replace("architecture: yolo_v3", "architecture: yolo_v5"))
    with pytest.raises(CardError, match="architecture is 'yolo_v5' in the card but 'yolo_v3'"):
        check_stub_agrees(card, STUB)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("# no front matter\n", "expected YAML front matter"),
        ("---\nlicense: x\n", "not closed"),
        ("---\n- a\n- b\n---\n", "must be a mapping"),
        ("---\nlicense: a\nlicense: b\n---\n", "duplicate key 'license'"),
        ("---\na: &x [1]\nb: *x\n---\n", "aliases are not allowed"),
        ("---\nmetrics: {name: x}\n---\n", "'metrics' must be a list"),
        ("---\nmetrics:\n  - {name: top1, value: high}\n---\n", "metrics[0].value must be a number"),
        ("---\nmetrics:\n  - {value: 1}\n---\n", "metrics[0].name must be a non-empty string"),
        ("---\nmetrics:\n  - {name: a, value: 1, colour: red}\n---\n", "unknown key 'colour'"),
        ("---\nlicense: [1]\n---\n", "'license' must be a string"),
        ("---\nkey: [unclosed\n---\n", "front matter: line"),
    ],
)
def test_bad_cards_are_refused_with_one_line(text: str, fragment: str) -> None:
    with pytest.raises(CardError) as info:
        parse_card(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def _manifest() -> Manifest:
    files = (
        FileEntry("model.onnx", "onnx", 10, "a" * 64, "b" * 32),
        FileEntry("model.md", "card", 5, "c" * 64, "d" * 32),
    )
    card = parse_card(CARD)
    return Manifest(STUB, 2, "2026-01-02T03:04:05Z", "P <p@x>", files, "e" * 32, parent=1,
                    card={"license": "apache-2.0"}, metrics=card.metrics)


def test_manifest_text_round_trips_with_one_line_per_file() -> None:
    m = _manifest()
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
    text = _manifest().to_text().replace("path: model.onnx", f"path: '{bad}'")
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
    text = _manifest().to_text()
    assert old in text
    with pytest.raises(ManifestError, match=fragment.replace("(", r"\(")):
        parse_manifest(text.replace(old, new, 1))


def test_archive_is_deterministic(tmp_path) -> None:  # type: ignore[no-untyped-def]
    onnx_file = tmp_path / "model.onnx"
    onnx_file.write_bytes(b"\x08\x07" * 5000)
    first, second = io.BytesIO(), io.BytesIO()
    write_onnx_archive(onnx_file, first)
    onnx_file.touch()  # a new mtime must not change the bytes
    write_onnx_archive(onnx_file, second)
    assert first.getvalue() == second.getvalue()
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(first.getvalue())) as tar:
        assert tar.getnames() == ["model.onnx"]
        assert tar.extractfile("model.onnx").read() == onnx_file.read_bytes()  # type: ignore[union-attr]


def test_catalog_renders_the_spec_table() -> None:
    text = render_markdown([_manifest()])
    assert text.startswith("### Object Detection\n")
    row = next(line for line in text.splitlines() if str(STUB) in line)
    assert "62.1 mAP@0.5" in row and "v2" in row
