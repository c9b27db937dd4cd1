"""The catalog page as people expect it, in a real Chromium: aliases and validation shown, a pull
command that works for the reader, long words wrapped, every column sorted, the state in the URL,
and a phone-sized window that still reaches everything.

Pages built from a published zoo (``catalog``) or, where the shape of the data matters more than
its origin, from ``catalog_index`` over hand-made manifests (``write_page``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.catalog.conftest import STUB_YOLO, Catalog, Site, open_page, write_page
from tests.catalog.test_catalog_index import SAMPLE, A, B, manifest
from zoo_repo import parse_stub
from zoo_repo.catalog.index import catalog_index
from zoo_repo.core.card import Metric
from zoo_repo.core.manifest import FileEntry
from zoo_repo.ops.demo import STUB_BASE

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

PHONE, DESKTOP = 420, 1400
# The stub grammar stops a component at 100 characters; the page must not rely on that.
LONG = dataclasses.replace(parse_stub(A), architecture="a" * 200)
LONG_STUB = str(LONG)
CHECKER, MATCH = "samples ran and matched (rtol 0.001, atol 1e-05)", "outputs match"


@pytest.fixture
def opened(browser: BrowserContext) -> Iterator[Callable[..., Catalog]]:
    """Open pages (closed after the test): ``opened(url, width=…)``."""
    pages: list[Catalog] = []

    def open_(url: str, width: int = DESKTOP) -> Catalog:
        pages.append(open_page(browser, url, width))
        return pages[-1]

    yield open_
    for catalog in pages:
        catalog.page.close()


def _index(site: Site) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = json.loads((site.out / "catalog.json").read_text(encoding="utf-8"))["models"]
    return models


def _widths(catalog: Catalog) -> dict[str, int]:
    widths: dict[str, int] = catalog.page.evaluate(
        """() => ({viewport: window.innerWidth, page: document.documentElement.scrollWidth,
                   body: document.body.scrollWidth, table: document.getElementById('models').scrollWidth,
                   list: document.querySelector('.list').scrollWidth,
                   card: document.getElementById('card').scrollWidth})""")
    return widths


def _fits(catalog: Catalog) -> None:
    """Nothing wider than the window: the page does not scroll sideways, nor the table in its box."""
    w = _widths(catalog)
    assert max(w["page"], w["body"], w["table"], w["list"], w["card"]) <= w["viewport"], w


# -- aliases and validation ---------------------------------------------------


def test_aliases_and_validation_are_shown_for_each_version(catalog: Catalog) -> None:
    page = catalog.page
    catalog.page.locator("#all-versions").check()
    badges = catalog.page.locator("tr[data-stub] td.version .badge")
    by_row = page.locator("tr[data-stub]").evaluate_all(
        "rows => rows.map(r => [r.dataset.version, [...r.querySelectorAll('.badge')].map(b => b.textContent)])")
    assert by_row[:2] == [["v1", ["stable"]], ["v2", ["latest"]]] and badges.count() == 5
    page.locator(f'tr[data-stub="{STUB_BASE}"][data-version="v1"]').click()
    assert page.locator("#card .badges .badge").all_inner_texts()[:2] == ["v1", "stable"]
    validation = page.locator("#card-validation")
    assert validation.inner_text() == CHECKER and validation.get_attribute("data-status") == "validated"
    assert "passed (opset" in page.locator("#card").inner_text()
    catalog.row(STUB_YOLO).click()  # published with run=False
    assert validation.inner_text() == "not run (--no-run)"
    assert "not run: --no-run" in page.locator("#card").inner_text()
    assert catalog.problems == []


def test_a_version_without_a_validation_record_says_not_validated(tmp_path: Path,
                                                                   opened: Callable[..., Catalog]) -> None:
    checked = dataclasses.replace(manifest(A, 1), onnx={"opset": 13},
                                  validation={"samples": 2, "rtol": 0.001, "atol": 1e-05, "outputs_match": True})
    index = catalog_index([checked, manifest(B, 1)], approved_by={(A, 1): ["alice", "<b>bob</b>"]})
    catalog = opened(write_page(index, tmp_path / "p.html").as_uri())
    catalog.row(B).click()
    assert catalog.page.locator("#card-validation").inner_text() == "not validated"
    assert catalog.page.locator("#card-approved").count() == 0
    catalog.row(A).click()
    assert catalog.page.locator("#card-validation").inner_text() == CHECKER
    assert catalog.page.locator("#card-approved").inner_text() == "approved by alice, <b>bob</b>"  # text, not markup
    assert "outputs match on 2 samples (rtol 0.001, atol 0.00001)" in catalog.page.locator("#card").inner_text()
    assert catalog.problems == []


# -- the pull command -----------------------------------------------------------


def test_a_remote_catalog_offers_a_pull_command_with_the_remote(
        site: Site, remote_dir: Path, tmp_path: Path, cli: Any, browser: BrowserContext,
        opened: Callable[..., Catalog], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = remote_dir.as_uri()
    assert cli("catalog", "--remote", url, "--out", tmp_path / "public").exit_code == 0
    catalog = opened((tmp_path / "public" / "catalog" / "index.html").as_uri())
    catalog.row(STUB_BASE).click()
    expected = f"zoo pull {STUB_BASE}@v2 --remote {url}"
    assert catalog.page.locator("#pull-command").inner_text() == expected
    browser.grant_permissions(["clipboard-read", "clipboard-write"])
    catalog.page.locator("#copy-pull").click()
    catalog.page.locator("#copy-status:not(:empty)").wait_for()
    assert catalog.page.evaluate("navigator.clipboard.readText()") == expected
    assert catalog.problems == []


def test_the_pull_command_shows_the_quoted_command(tmp_path: Path, opened: Callable[..., Catalog]) -> None:
    index = catalog_index([manifest(A, 1)], remote="s3://models/my zoo", remote_options={"endpointurl": "http://h:9000"})
    catalog = opened(write_page(index, tmp_path / "p.html").as_uri())
    catalog.row(A).click()
    assert catalog.page.locator("#pull-command").inner_text() == \
        f"zoo pull {A}@v1 --remote 's3://models/my zoo' -o endpointurl=http://h:9000"
    assert catalog.problems == []


# -- long words ------------------------------------------------------------------


def _long_index() -> dict[str, Any]:
    long = dataclasses.replace(
        manifest(A, 1), stub=LONG,
        card={"license": "l" * 150, "description": "x" * 300, "tags": ["t" * 200]},
        metrics=(Metric("m" * 150, 1.0, "u" * 80, "d" * 120, "validation"),),
        files=(FileEntry("p" * 200 + "/model.onnx", "onnx", 1, "a" * 64, "b" * 32),),
    )
    return catalog_index([long, *SAMPLE], {(LONG_STUB, 1): "# " + "h" * 250 + "\n\n" + "w" * 400 + "\n"})


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_long_words_wrap_instead_of_widening_the_page(width: int, tmp_path: Path,
                                                      opened: Callable[..., Catalog]) -> None:
    catalog = opened(write_page(_long_index(), tmp_path / "p.html").as_uri(), width)
    _fits(catalog)
    catalog.row(LONG_STUB).click()  # the card, with the long stub, license, tag, metric and file path
    _fits(catalog)
    assert catalog.page.locator("#card h2").inner_text().replace("\n", "") == LONG_STUB
    assert catalog.problems == []


# -- sorting ---------------------------------------------------------------------

KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "model": lambda m: m["stub"],
    "version": lambda m: int(m["version"][1:]),
    "metric": lambda m: m["metric"]["value"],
    "size": lambda m: m["size"],
    "published": lambda m: m["created"],
}


def _order(catalog: Catalog) -> list[tuple[str, str]]:
    rows: list[list[str]] = catalog.page.locator("tr[data-stub]").evaluate_all(
        "rows => rows.map(r => [r.dataset.stub, r.dataset.version])")
    return [(stub, version) for stub, version in rows]


def _sorts(catalog: Catalog) -> dict[str, str]:
    sorts: dict[str, str] = catalog.page.locator("th[data-sort]").evaluate_all(
        "ths => Object.fromEntries(ths.map(th => [th.dataset.sort, th.getAttribute('aria-sort')]))")
    return sorts


@pytest.mark.parametrize("key", list(KEYS))
def test_every_column_sorts_both_ways(key: str, catalog: Catalog, site: Site) -> None:
    catalog.page.locator("#all-versions").check()
    models = _index(site)
    # Python's sort is stable in reverse too: ties keep stub order both ways, as on the page.
    ascending = [(m["stub"], m["version"]) for m in sorted(models, key=KEYS[key])]
    descending = [(m["stub"], m["version"]) for m in sorted(models, key=KEYS[key], reverse=True)]
    catalog.page.locator(f"#sort-{key}").click()
    assert _order(catalog) == ascending
    assert _sorts(catalog) == {k: "ascending" if k == key else "none" for k in KEYS}
    catalog.page.locator(f"#sort-{key}").click()
    assert _order(catalog) == descending
    assert _sorts(catalog)[key] == "descending"
    assert catalog.problems == []


def test_numbers_sort_as_numbers_and_text_as_text(tmp_path: Path, opened: Callable[..., Catalog]) -> None:
    sized = [dataclasses.replace(m, files=(FileEntry("f", "onnx", size, "a" * 64, "b" * 32),))
             for m, size in zip(SAMPLE, (900, 10_000, 2_000, 30), strict=True)]  # B v1, A v10, A v2, A v1
    catalog = opened(write_page(catalog_index(sized), tmp_path / "p.html").as_uri() + "?all=1")
    catalog.page.locator("#sort-version").click()
    assert _order(catalog) == [(A, "v1"), (B, "v1"), (A, "v2"), (A, "v10")]  # not "v10" before "v2"
    catalog.page.locator("#sort-size").click()
    assert _order(catalog) == [(A, "v1"), (B, "v1"), (A, "v2"), (A, "v10")]  # 30, 900, 2000, 10000
    catalog.page.locator("#sort-model").click()
    catalog.page.locator("#sort-model").click()
    assert _order(catalog) == [(B, "v1"), (A, "v1"), (A, "v2"), (A, "v10")]
    assert catalog.problems == []


# -- the URL -----------------------------------------------------------------------


def test_search_filters_and_sort_live_in_the_url(catalog: Catalog, site: Site,
                                                 opened: Callable[..., Catalog]) -> None:
    page = catalog.page
    catalog.search("pruned")
    page.locator("#filter-domain").select_option("cv")
    page.locator("#all-versions").check()
    page.locator("#sort-size").click()
    page.locator("#sort-size").click()
    query = page.evaluate("location.search")
    assert query == "?q=pruned&domain=cv&all=1&sort=size&dir=desc"
    shown = _order(catalog)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#search").input_value() == "pruned"
    assert page.locator("#filter-domain").input_value() == "cv"
    assert page.locator("#all-versions").is_checked()
    assert _sorts(catalog)["size"] == "descending" and _order(catalog) == shown
    # Clearing the filters takes them out of the URL; the sort stays, and an open card goes in the hash.
    page.locator("#reset").click()
    catalog.row(STUB_YOLO).click()
    assert page.evaluate("location.search + location.hash") == f"?all=1&sort=size&dir=desc#{STUB_YOLO}@v1"
    # A shared link: a fresh tab opens with the same list and card.
    other = opened(f"{site.html.as_uri()}?q=detector&sort=metric&dir=asc#{STUB_YOLO}@v1")
    assert other.stubs() == [STUB_YOLO] and _sorts(other)["metric"] == "ascending"
    assert other.page.locator("#pull-command").inner_text() == f"zoo pull {STUB_YOLO}@v1"
    assert catalog.problems == [] and other.problems == []


def test_a_stale_or_crafted_query_is_ignored(site: Site, opened: Callable[..., Catalog]) -> None:
    catalog = opened(f"{site.html.as_uri()}?domain=no-such&sort=constructor&dir=sideways&q=%3Cimg%20src%3Dx%3E")
    assert catalog.page.locator("#filter-domain").input_value() == ""
    assert catalog.page.locator("#search").input_value() == "<img src=x>"
    assert set(_sorts(catalog).values()) == {"none"} and catalog.page.locator("img").count() == 0
    assert catalog.page.evaluate("location.search") == "?q=%3Cimg+src%3Dx%3E"
    assert catalog.problems == []


# -- a phone ------------------------------------------------------------------------


def test_a_phone_sized_window_reaches_every_control(site: Site, opened: Callable[..., Catalog]) -> None:
    catalog = opened(site.html.as_uri(), PHONE)
    page = catalog.page
    _fits(catalog)
    for selector in ("#search", "#filter-domain", "#filter-sparse_category", "#all-versions", "#reset",
                     "#sort-by", "#sort-dir", f'tr[data-stub="{STUB_BASE}"]'):
        box = page.locator(selector).bounding_box()
        assert box is not None and page.locator(selector).is_visible(), selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, (selector, box)
    # The column headers give way to the sort box, which drives the same sort.
    page.locator("#sort-by").select_option("size")
    page.locator("#sort-dir").click()
    models = {m["stub"]: m for m in _index(site) if m["latest"]}
    assert catalog.stubs() == sorted(models, key=lambda s: models[s]["size"], reverse=True)
    assert page.evaluate("location.search") == "?sort=size&dir=desc"
    catalog.row(STUB_BASE).click()
    for selector in ("#pull-command", "#copy-pull", "#card-validation"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE, (selector, box)
    _fits(catalog)
    assert catalog.problems == []


# -- hostile text ------------------------------------------------------------------

INJECT = "<script>document.title='pwned'</script>\"><img src=x onerror=\"document.title='pwned'\">"


def test_hostile_text_anywhere_in_a_manifest_is_shown_literally_and_never_runs(
        tmp_path: Path, opened: Callable[..., Catalog]) -> None:
    hostile = dataclasses.replace(
        manifest(A, 1, description=INJECT), onnx={"opset": 13}, validation={"skipped": INJECT},
        card={"license": INJECT, "description": INJECT, "tags": [INJECT]},
        metrics=(Metric(INJECT, 1.0, INJECT, INJECT, INJECT),),
        files=(FileEntry(INJECT, "onnx", 1, "a" * 64, "b" * 32),),
    )
    index = catalog_index([hostile], {(A, 1): f"# {INJECT}\n\n{INJECT}\n\n| {INJECT} |\n| --- |\n| {INJECT} |\n"})
    catalog = opened(write_page(index, tmp_path / "p.html").as_uri() + "?q=" + "%3Cscript%3E")
    page = catalog.page
    assert catalog.stubs() == [A]  # the search for "<script>" matched the description as text
    assert catalog.row(A).locator(".desc").inner_text() == INJECT
    catalog.row(A).click()
    assert page.locator("#card-description").inner_text() == INJECT
    assert page.locator("#card ul.tags li").inner_text() == INJECT
    assert page.locator("#card-validation").inner_text() == f"samples skipped: {INJECT}"
    assert page.locator("#card-markdown h3").inner_text() == INJECT
    card = page.locator("#card").inner_text()
    assert card.count(INJECT) >= 8  # license, description, tag, markdown, metric name/unit/dataset/split, file
    assert page.locator("img, #card script, #rows script").count() == 0
    assert page.locator("script").count() == 2  # the data block and the page's own code
    assert page.evaluate("document.title") == "Model zoo catalog"
    assert catalog.problems == []
