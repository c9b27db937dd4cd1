"""catalog_index, render_json, render_markdown and render_html: pure values in, text out."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from tests.core.conftest import STUB, sample_manifest
from zoo_repo import parse_stub
from zoo_repo.catalog.index import catalog_index, render_json, render_markdown
from zoo_repo.catalog.page import render_html
from zoo_repo.core.card import Metric
from zoo_repo.core.manifest import FileEntry, Manifest

A = "cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/pruned-moderate"
B = "nlp/question_answering/bert-base/pytorch/huggingface/squad/base-none"
HOSTILE = "</script><img src=x onerror=alert(1)>"
ENTRY_KEYS = [
    "stub", "version", "latest", "aliases", "fields", "created", "publisher", "parent", "size", "nfiles",
    "metrics", "metric", "validation", "model", "approved_by", "card", "tree_md5", "manifest_digest", "pull", "files",
    "card_markdown",
]


def manifest(stub: str, version: int, description: str = "A model.", value: float = 75.0) -> Manifest:
    files = (
        FileEntry("model.onnx", "onnx", 2048, "a" * 64, "b" * 32),
        FileEntry("model.md", "card", 100, "c" * 64, "d" * 32),
        FileEntry("recipes/r.md", "recipes", 10, "e" * 64, "f" * 32),
    )
    metrics = (
        Metric("latency", 3.0, "ms", split="test"),
        Metric("top1 accuracy", value, "%", "imagenet", "validation"),
    )
    return Manifest(
        parse_stub(stub), version, f"2026-01-0{version % 9 + 1}T00:00:00Z", "P <p@example.com>", files,
        "0" * 32, parent=version - 1 or None, card={"license": "mit", "description": description,
                                                   "tags": ["x"], "extra": "not shown"},
        metrics=metrics,
    )


SAMPLE = [manifest(B, 1), manifest(A, 10), manifest(A, 2), manifest(A, 1)]


def test_every_version_of_every_stub_in_stub_then_version_order() -> None:
    models = catalog_index(SAMPLE)["models"]
    assert [(m["stub"], m["version"], m["latest"]) for m in models] == [
        (A, "v1", False), (A, "v2", False), (A, "v10", True), (B, "v1", True),
    ]


def test_an_entry_has_the_documented_keys_and_values() -> None:
    index = catalog_index(SAMPLE, {(A, 2): "# Card\n\nBody.\n"})
    assert index["schema"] == 1 and list(index) == ["schema", "remote", "models"]
    entry = index["models"][1]
    assert list(entry) == ENTRY_KEYS
    assert entry["fields"] == parse_stub(A).fields() and len(entry["fields"]) == 11
    assert entry["parent"] == "v1" and index["models"][0]["parent"] is None
    assert (entry["size"], entry["nfiles"]) == (2158, 3)
    assert entry["metric"] == {"name": "top1 accuracy", "value": 75.0, "unit": "%", "dataset": "imagenet",
                               "split": "validation", "display": "75% top1 accuracy"}
    assert entry["metrics"][0] == {"name": "latency", "value": 3.0, "unit": "ms", "split": "test"}
    assert entry["card"] == {"license": "mit", "description": "A model.", "tags": ["x"]}
    assert entry["tree_md5"] == "0" * 32
    assert [f["path"] for f in entry["files"]] == ["model.md", "model.onnx", "recipes/r.md"]
    assert entry["files"][1] == {"path": "model.onnx", "role": "onnx", "size": 2048, "sha256": "a" * 64}
    assert entry["card_markdown"] == "# Card\n\nBody.\n"
    assert index["models"][0]["card_markdown"] is None


def test_a_version_without_metrics_or_card_metadata_still_has_every_key() -> None:
    bare = Manifest(parse_stub(B), 1, "2026-01-01T00:00:00Z", "P", (), "1" * 32)
    entry = catalog_index([bare])["models"][0]
    assert list(entry) == ENTRY_KEYS
    assert entry["metric"] is None and entry["metrics"] == [] and entry["files"] == []
    assert entry["card"] == {"license": None, "description": None, "tags": []}


def test_json_is_byte_identical_for_the_same_manifests() -> None:
    first = render_json(catalog_index(SAMPLE, {(B, 1): "body"}))
    again = render_json(catalog_index(list(reversed(SAMPLE)), {(B, 1): "body"}))
    assert first == again
    assert first.endswith("}\n") and not first.endswith("\n\n")
    assert json.loads(first) == catalog_index(SAMPLE, {(B, 1): "body"})
    assert render_html(json.loads(first)) == render_html(json.loads(again))


def test_a_metric_that_is_not_a_number_becomes_null() -> None:
    odd = Manifest(parse_stub(B), 1, "2026-01-01T00:00:00Z", "P", (), "1" * 32,
                   metrics=(Metric("f1", float("nan")),))
    entry = json.loads(render_json(catalog_index([odd])))["models"][0]
    assert entry["metrics"] == [{"name": "f1", "value": None}]
    assert entry["metric"]["value"] is None


def test_an_empty_zoo_gives_an_empty_catalog() -> None:
    index = catalog_index([])
    assert render_json(index) == '{\n "schema": 1,\n "remote": null,\n "models": []\n}\n'
    assert "<table" in render_html(index)


def _scripts(page: str) -> list[tuple[str, str]]:
    return re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.DOTALL)


def test_hostile_text_stays_inside_the_data_block() -> None:
    index = catalog_index([manifest(B, 1, description=HOSTILE)], {(B, 1): "<!-- <script>" + HOSTILE})
    page = render_html(index)
    assert HOSTILE not in page and "<img" not in page and "<!--" not in page
    # Exactly the page's own two scripts: the data block could not close early or open another.
    assert page.lower().count("<script") == page.lower().count("</script") == 2
    (data_attrs, data), (code_attrs, code) = _scripts(page)
    assert 'type="application/json"' in data_attrs and code_attrs == ""
    assert json.loads(data) == index
    assert "innerHTML" not in code and "eval(" not in code


def test_the_page_is_self_contained_and_its_policy_admits_only_its_own_code() -> None:
    page = render_html(catalog_index(SAMPLE))
    assert "://" not in page  # no CDN, no web font, no remote anything
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None and "default-src &#x27;none&#x27;" in policy.group(1)
    code = _scripts(page)[1][1]
    style = re.search(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    assert style is not None
    for source in (code, style.group(1)):
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"sha256-{digest}" in policy.group(1)


def test_the_page_has_the_controls_tests_and_people_rely_on() -> None:
    page = render_html(catalog_index(SAMPLE))
    for element_id in ("search", "filter-domain", "filter-architecture", "filter-dataset", "filter-sparse_name",
                       "filter-sparse_category", "count", "card", "sort-metric", "all-versions", "rows"):
        assert f'id="{element_id}"' in page
        if element_id.startswith(("search", "filter-")):
            assert f'<label for="{element_id}">' in page


def test_catalog_renders_the_spec_table() -> None:
    text = render_markdown([sample_manifest()])
    assert text.startswith("### Object Detection\n")
    row = next(line for line in text.splitlines() if str(STUB) in line)
    assert "62.1 mAP@0.5" in row and "v2" in row
