"""The catalog shows the model itself: ONNX opset, inputs and outputs, parameters,
zero weights and quantized ops, measured at publish; in a real Chromium."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from tests.catalog.conftest import HOSTILE, Catalog, Site, open_page, write_page
from tests.catalog.test_catalog_index import A, B, manifest
from zoo_repo.catalog.index import catalog_index
from zoo_repo.ops.demo import STUB_PRUNED


def test_the_card_shows_the_measured_model(site: Site, catalog: Catalog) -> None:
    entry = next(m for m in json.loads((site.out / "catalog.json").read_text())["models"]
                 if m["stub"] == STUB_PRUNED)
    facts = entry["model"]
    assert facts["onnx"] == "IR 8, opset 13" and facts["inputs"] == ["input float32 [batch, 1, 28, 28]"]
    assert 0.45 < facts["sparsity"] < 0.55 and facts["parameters"] == 50890 and facts["quantized_ops"] == "none"
    catalog.row(STUB_PRUNED).click()
    text = catalog.page.locator("#card-model").inner_text()
    assert "opset 13" in text and "input float32 [batch, 1, 28, 28]" in text
    assert f"{facts['sparsity'] * 100:.1f}%" in text and "50,890" in text
    assert catalog.problems == []


def test_an_unmeasured_version_has_no_model_section_and_a_hostile_name_stays_text(
        tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    hostile = dataclasses.replace(manifest(A, 1), onnx={
        "ir_version": 8, "opset": 13, "inputs": [{"name": HOSTILE, "dtype": "float32", "shape": [1]}],
        "outputs": [], "sparsity": {"zeros": "lots"}})
    index = catalog_index([hostile, manifest(B, 1)])
    catalog = open_page(browser, write_page(index, tmp_path / "p.html").as_uri())
    try:
        catalog.row(A).click()
        text = catalog.page.locator("#card-model").inner_text()
        assert HOSTILE in text and "Zero weights\nnot measured" in text  # a string is no measurement
        catalog.row(B).click()
        assert catalog.page.locator("#card-model").count() == 0
        assert catalog.problems == []
    finally:
        catalog.page.close()


def test_a_deprecated_stub_is_marked_in_its_row_and_card(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    index = catalog_index([manifest(A, 1), manifest(B, 1)])
    index["models"][0]["deprecated"] = {"message": f"superseded {HOSTILE}", "successor": B}
    catalog = open_page(browser, write_page(index, tmp_path / "p.html").as_uri())
    try:
        assert catalog.row(A).locator(".badge.deprecated").inner_text() == "deprecated"
        assert catalog.row(B).locator(".badge.deprecated").count() == 0
        catalog.row(A).click()
        assert catalog.page.locator("#card-deprecated").inner_text() == (
            f"Deprecated: superseded {HOSTILE} \u2014 use {B} instead")
        catalog.row(B).click()
        assert catalog.page.locator("#card-deprecated").count() == 0
        assert catalog.problems == []
    finally:
        catalog.page.close()
