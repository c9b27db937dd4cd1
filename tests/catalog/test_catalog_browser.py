"""The static catalog page in a real browser: Debian's chromium driven by playwright.

The page is opened from file://, as a user opens a built catalog. A missing
browser or playwright is a failure, not a skip: `.ci/install-browser` and the
`test` extra install them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.catalog.conftest import HOSTILE, STUB_BERT, STUB_YOLO, Catalog, Site
from zoo_repo.ops.demo import STUB_BASE, STUB_PRUNED

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

LATEST = [STUB_BASE, STUB_PRUNED, STUB_YOLO, STUB_BERT]


def test_the_page_lists_the_latest_version_of_every_model(catalog: Catalog) -> None:
    assert catalog.stubs() == LATEST
    assert catalog.count() == "4 models"
    assert catalog.row(STUB_BASE).get_attribute("data-version") == "v2"
    assert catalog.page.locator("#summary").inner_text() == "4 models · 5 published versions"
    catalog.page.locator("#all-versions").check()
    assert catalog.stubs() == [STUB_BASE, *LATEST]
    assert catalog.count() == "5 versions"
    assert catalog.problems == []


def test_search_and_filters_narrow_the_rows(catalog: Catalog) -> None:
    catalog.search("detector")  # a word of a description
    assert catalog.stubs() == [STUB_YOLO]
    catalog.search("SQUAD")  # a tag, whatever the case
    assert catalog.stubs() == [STUB_BERT]
    catalog.search("pruned moderate")  # every word must match
    assert catalog.stubs() == [STUB_PRUNED, STUB_BERT] and catalog.count() == "2 models"
    catalog.search("nothing-like-this")
    assert catalog.stubs() == [] and catalog.count() == "0 models"
    catalog.search("")
    catalog.page.locator("#filter-domain").select_option("nlp")
    assert catalog.stubs() == [STUB_BERT] and catalog.count() == "1 model"
    catalog.page.locator("#reset").click()
    catalog.page.locator("#filter-sparse_category").select_option("aggressive")
    assert catalog.stubs() == [STUB_YOLO]
    catalog.page.locator("#filter-sparse_category").select_option("")
    catalog.page.locator("#filter-architecture").select_option("mlp")
    catalog.page.locator("#filter-sparse_name").select_option("base")
    assert catalog.stubs() == [STUB_BASE]
    options = catalog.page.locator("#filter-dataset option").all_inner_texts()
    assert options == ["All", "coco", "squad", "synthetic_digits"]
    assert catalog.problems == []


def test_sorting_by_metric_orders_rows_by_value(catalog: Catalog) -> None:
    header = catalog.page.locator("#metric-header")
    catalog.page.locator("#sort-metric").click()
    assert catalog.stubs() == [STUB_YOLO, STUB_BERT, STUB_PRUNED, STUB_BASE]  # 40.2, 88.5, 90.1, 92.5
    assert header.get_attribute("aria-sort") == "ascending"
    catalog.page.locator("#sort-metric").click()
    assert catalog.stubs() == [STUB_BASE, STUB_PRUNED, STUB_BERT, STUB_YOLO]
    assert header.get_attribute("aria-sort") == "descending"
    metrics = catalog.page.locator("tr[data-stub] td.metric").all_inner_texts()
    assert metrics == ["92.5% top1 accuracy", "90.1% top1 accuracy", "88.5 f1", "40.2 mAP@0.5"]
    assert catalog.problems == []


def test_clicking_a_row_shows_its_card(catalog: Catalog, browser: BrowserContext, tmp_path: Path,
                                      record_property: Any) -> None:
    page = catalog.page
    catalog.row(STUB_PRUNED).click()
    assert page.locator("#pull-command").inner_text() == f"zoo pull {STUB_PRUNED}@v1"
    catalog.row(STUB_BASE).click()
    card = page.locator("#card")
    assert page.locator("#pull-command").inner_text() == f"zoo pull {STUB_BASE}@v2"
    assert card.locator("h2").inner_text() == STUB_BASE
    assert card.locator("#card-markdown h3").inner_text() == "MLP baseline"
    assert card.locator("#card-markdown strong").inner_text() == "more"
    assert card.locator("#card-markdown li").all_inner_texts() == ["random ReLU features", "ridge regression for w2"]
    assert card.locator("#card-markdown td").all_inner_texts() == ["validation", "92.5"]
    assert card.locator("details[data-role=onnx] td").first.inner_text() == "model.onnx"
    roles = card.locator("details.role").evaluate_all("ds => ds.map(d => d.dataset.role)")
    assert roles[:3] == ["card", "onnx", "archive"] and "sample-inputs" in roles
    assert "92.5%" in card.locator("table").first.inner_text()
    assert "sparse_category\nnone" in card.inner_text()
    assert page.evaluate("location.hash") == f"#{STUB_BASE}@v2"

    browser.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#copy-pull").click()
    page.locator("#copy-status:not(:empty)").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == f"zoo pull {STUB_BASE}@v2"

    path = tmp_path / "catalog.png"
    page.screenshot(path=str(path), full_page=True)
    print("screenshot:", path)
    record_property("screenshot", str(path))

    card.locator(".versions button", has_text="v1").click()  # an older version: the list shows all versions
    assert page.locator("#pull-command").inner_text() == f"zoo pull {STUB_BASE}@v1"
    assert catalog.count() == "5 versions"
    assert catalog.problems == []


def test_a_hostile_card_is_shown_as_text(catalog: Catalog) -> None:
    page = catalog.page
    catalog.row(STUB_BERT).click()
    assert page.locator("#card-description").inner_text() == HOSTILE
    assert catalog.row(STUB_BERT).locator(".desc").inner_text() == HOSTILE
    assert page.locator("img, #card script, #card b").count() == 0
    markdown = page.locator("#card-markdown")
    assert markdown.locator("h3").inner_text() == "BERT <script>alert(2)</script>"
    assert "<b>this</b>" in markdown.inner_text()
    # The javascript: link is not a link; the https one is, and nothing was fetched.
    hrefs = markdown.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.com/bert"]
    assert catalog.problems == []


def test_a_link_to_a_version_opens_its_card(catalog: Catalog, browser: BrowserContext, site: Site) -> None:
    catalog.page.goto(f"{site.html.as_uri()}#{STUB_YOLO}@v1")  # the same page: the hash changes
    assert catalog.page.locator("#pull-command").inner_text() == f"zoo pull {STUB_YOLO}@v1"
    page = browser.new_page()  # a fresh load, as from a bookmark
    try:
        page.goto(f"{site.html.as_uri()}#{STUB_BASE}@v1")
        page.wait_for_selector("body[data-ready=true]")
        assert page.locator("#pull-command").inner_text() == f"zoo pull {STUB_BASE}@v1"
        assert page.locator("#all-versions").is_checked()
        assert page.locator("tr.selected").get_attribute("data-version") == "v1"
    finally:
        page.close()
    assert catalog.problems == []
