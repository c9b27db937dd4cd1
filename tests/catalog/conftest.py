"""A small published zoo for the catalog tests: four models, five versions, one hostile card.

STUB_BASE@v1 is also ``stable``; STUB_YOLO was published without running its samples.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from zoo_repo import Zoo
from zoo_repo.catalog.files import build_catalog
from zoo_repo.catalog.page import render_html
from zoo_repo.ops.demo import STUB_BASE, STUB_PRUNED

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Dialog, Error, Page, Request

STUB_YOLO = "cv/detection/yolo_v3-spp/pytorch/ultralytics/coco/pruned-aggressive"
STUB_BERT = "nlp/question_answering/bert-base_uncased/pytorch/huggingface/squad/pruned_quant-moderate"
HOSTILE = "</script><img src=x onerror=alert(1)>"
HOSTILE_BODY = """\
# BERT <script>alert(2)</script>

<img src=x onerror=alert(3)> is text here, and so is <b>this</b>.

[run me](javascript:alert(4)) and [the docs](https://example.com/bert)
"""


@dataclass(frozen=True)
class Spec:
    """One version to publish: which built model it copies, and the card it gets."""

    stub: str
    source: str
    description: str
    tags: tuple[str, ...]
    metric: tuple[str, float, str | None]
    body: str
    run: bool = True  # run the sample inputs at publish


SPECS = (
    Spec(STUB_BASE, "base", "Two-layer perceptron, dense baseline.", ("demo", "classification"),
         ("top1 accuracy", 91.5, "%"), "# MLP baseline\n\nThe first fit.\n"),
    Spec(STUB_BASE, "base", "Two-layer perceptron, dense baseline, refit.", ("demo", "classification"),
         ("top1 accuracy", 92.5, "%"),
         "# MLP baseline\n\nRefit with **more** data and _less_ noise.\n\n"
         "## Training\n\n- random ReLU features\n- ridge regression for `w2`\n\n"
         "| split | top1 |\n| --- | --- |\n| validation | 92.5 |\n"),
    Spec(STUB_PRUNED, "pruned", "Two-layer perceptron with half of w1 pruned.", ("demo", "sparse"),
         ("top1 accuracy", 90.1, "%"), "# MLP pruned\n\nHalf of the first layer is zero.\n"),
    Spec(STUB_YOLO, "base", "YOLOv3-SPP object detector, pruned aggressively.", ("detection",),
         ("mAP@0.5", 40.2, None), "# YOLOv3\n\nA detector.\n", run=False),
    Spec(STUB_BERT, "base", HOSTILE, ("qa", "squad"), ("f1", 88.5, None), HOSTILE_BODY),
)


def card_text(spec: Spec) -> str:
    """A model.md without stub fields (they are optional), so one model directory serves any stub."""
    name, value, unit = spec.metric
    metric = f"{{name: {json.dumps(name)}, value: {value}, split: validation"
    metric += f", unit: {json.dumps(unit)}}}" if unit else "}"
    return (
        "---\nlicense: apache-2.0\n"
        f"description: {json.dumps(spec.description)}\n"
        f"tags: {json.dumps(list(spec.tags))}\n"
        f"metrics:\n  - {metric}\n---\n{spec.body}"
    )


@dataclass(frozen=True)
class Site:
    zoo: Zoo
    out: Path
    written: list[Path]

    @property
    def html(self) -> Path:
        return self.out / "catalog" / "index.html"


@pytest.fixture
def published(zoo: Zoo, built_models: dict[str, Path], tmp_path: Path) -> Zoo:
    """``zoo`` with every version in SPECS published, in order, and STUB_BASE@v1 tagged ``stable``."""
    for i, spec in enumerate(SPECS):
        model = tmp_path / f"model-{i}"
        shutil.copytree(built_models[spec.source], model)
        (model / "model.md").write_text(card_text(spec), encoding="utf-8")
        zoo.publish(model, spec.stub, run=spec.run)
    zoo.tag(f"{STUB_BASE}@v1", "stable")
    return zoo


@pytest.fixture
def site(published: Zoo, tmp_path: Path) -> Site:
    """The catalog of ``published``, built into a fresh directory."""
    out = tmp_path / "site"
    return Site(published, out, build_catalog(published, out))


# -- the page in a real browser -------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One headless chromium for the module, with a fresh profile and home of its own."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install-browser (Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[test]'")
    home = tmp_path_factory.mktemp("chromium-home")
    # The profile goes through playwright's user_data_dir, which it passes as --user-data-dir.
    env: dict[str, str | float | bool] = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=ARGS, env=env, viewport={"width": 1400, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class Catalog:
    """The page, plus everything it did that a clean page does not: errors, dialogs, requests."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def stubs(self) -> list[str]:
        rows: list[str] = self.page.locator("tr[data-stub]").evaluate_all("rows => rows.map(r => r.dataset.stub)")
        return rows

    def count(self) -> str:
        return self.page.locator("#count").inner_text()

    def search(self, text: str) -> None:
        self.page.locator("#search").fill(text)

    def row(self, stub: str) -> Any:
        return self.page.locator(f'tr[data-stub="{stub}"]')

    def watch(self) -> None:
        """Record what a clean page never does: log errors, raise, open dialogs, fetch."""
        self.page.on("console", self._console)
        self.page.on("pageerror", self._page_error)
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _page_error(self, error: Error) -> None:
        self.problems.append(f"page error: {error}")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        if not request.url.startswith(("file://", "data:")):
            self.problems.append(f"request: {request.url}")


@pytest.fixture
def catalog(site: Site, browser: BrowserContext) -> Iterator[Catalog]:
    """The published zoo's page, open in a new tab."""
    result = open_page(browser, site.html.as_uri())
    try:
        yield result
    finally:
        result.page.close()


def open_page(browser: BrowserContext, url: str, width: int = 1400) -> Catalog:
    """A new tab at ``url``, ``width`` pixels wide, watched, once the page is ready."""
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    result = Catalog(page)
    result.watch()
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return result


def write_page(index: Mapping[str, Any], path: Path) -> Path:
    """The page for ``index`` (``catalog_index``'s value), written to ``path``."""
    path.write_text(render_html(index), encoding="utf-8")
    return path
