"""build_catalog: the three files, from a real zoo, written only when they change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.catalog.conftest import SPECS, STUB_YOLO, Site, card_text
from zoo_repo import Zoo
from zoo_repo.catalog.files import build_catalog
from zoo_repo.catalog.index import render_markdown
from zoo_repo.ops.demo import STUB_BASE


def _mtimes(paths: list[Path]) -> list[int]:
    return [p.stat().st_mtime_ns for p in paths]


def test_the_catalog_has_three_files_built_from_every_version(site: Site) -> None:
    out = site.out
    assert site.written == [out / "CATALOG.md", out / "catalog.json", out / "catalog" / "index.html"]
    assert (out / "CATALOG.md").read_text(encoding="utf-8") == render_markdown(site.zoo.list())
    index = json.loads((out / "catalog.json").read_text(encoding="utf-8"))
    assert [(m["stub"], m["version"]) for m in index["models"]] == sorted(
        [(str(m.stub), m.version_name) for m in site.zoo.all_manifests()]
    )
    # The card's Markdown body, without its front matter.
    bodies = {(m["stub"], m["version"]): m["card_markdown"] for m in index["models"]}
    assert bodies[(SPECS[1].stub, "v2")] == SPECS[1].body.rstrip("\n")
    assert all(body and not body.startswith("---") for body in bodies.values())
    assert "<title>Model zoo catalog</title>" in (out / "catalog" / "index.html").read_text(encoding="utf-8")


def test_an_unchanged_zoo_rewrites_nothing(site: Site) -> None:
    before = _mtimes(site.written)
    assert build_catalog(site.zoo, site.out) == []
    assert _mtimes(site.written) == before
    assert not [p.name for p in site.out.rglob("*") if ".tmp-" in p.name]


def test_a_new_version_rewrites_what_it_changes(site: Site, built_models: dict[str, Path], tmp_path: Path) -> None:
    model = tmp_path / "yolo-v2"
    shutil.copytree(built_models["pruned"], model)
    (model / "model.md").write_text(card_text(SPECS[3]), encoding="utf-8")
    site.zoo.publish(model, STUB_YOLO)
    assert build_catalog(site.zoo, site.out) == site.written
    index = json.loads((site.out / "catalog.json").read_text(encoding="utf-8"))
    yolo = [(m["version"], m["latest"]) for m in index["models"] if m["stub"] == STUB_YOLO]
    assert yolo == [("v1", False), ("v2", True)]


def test_an_empty_zoo_still_gets_a_catalog(zoo: Zoo, tmp_path: Path) -> None:
    written = build_catalog(zoo, tmp_path / "out")
    assert len(written) == 3
    assert json.loads(written[1].read_text(encoding="utf-8")) == {"schema": 1, "remote": None, "models": []}


def test_the_catalog_carries_aliases_and_what_publish_validated(site: Site) -> None:
    index = json.loads((site.out / "catalog.json").read_text(encoding="utf-8"))
    entries = {(m["stub"], m["version"]): m for m in index["models"]}
    assert entries[(STUB_BASE, "v1")]["aliases"] == ["stable"]
    assert entries[(STUB_BASE, "v2")]["aliases"] == ["latest"]
    base = entries[(STUB_BASE, "v2")]["validation"]
    assert (base["status"], base["checker"], base["outputs_match"]) == ("validated", True, True)
    assert base["samples"] and base["opset"]
    yolo = entries[(STUB_YOLO, "v1")]["validation"]
    assert (yolo["status"], yolo["outputs_match"], yolo["skipped"]) == ("checked", False, "--no-run")
    # Built in the checkout: its readers pull through the checkout's own remote.
    assert index["remote"] is None
    assert entries[(STUB_BASE, "v2")]["pull"] == f"zoo pull {STUB_BASE}@v2"


def test_a_catalog_built_from_the_remote_tells_readers_to_pull_from_it(
        site: Site, remote_dir: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no checkout around: a git-less reader's machine
    url = remote_dir.as_uri()
    refused = cli("catalog", "--remote", url)  # a remote has no root to write into
    assert refused.exit_code == 2 and "--remote needs --out DIR" in refused.stderr
    result = cli("catalog", "--remote", url, "--out", tmp_path / "public", "--json")
    assert result.exit_code == 0, result.stderr
    index = json.loads((tmp_path / "public" / "catalog.json").read_text(encoding="utf-8"))
    assert index["remote"] == url
    entries = {(m["stub"], m["version"]): m for m in index["models"]}
    assert entries[(STUB_BASE, "v2")]["pull"] == f"zoo pull {STUB_BASE}@v2 --remote {url}"
    assert entries[(STUB_BASE, "v1")]["aliases"] == ["stable"]  # aliases are on the remote too
    ours = json.loads((site.out / "catalog.json").read_text(encoding="utf-8"))
    assert [(m["stub"], m["version"], m["manifest_digest"]) for m in index["models"]] == \
        [(m["stub"], m["version"], m["manifest_digest"]) for m in ours["models"]]
