"""SparseZoo's ``?recipe=`` / ``?recipe_type=`` on a published model, through
``zoo show`` and ``zoo pull``: the recipe it selects is named, a recipe that is
not there is one NotFound line naming those that are, and nothing is pulled."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import STUB, Result


@pytest.fixture
def root(cli: Callable[..., Result], model_dir: Path, tmp_path: Path) -> Path:
    # The demo model has recipes/original.md; a second recipe makes the choice matter.
    (model_dir / "recipes" / "transfer_learn.yaml").write_text("version: 1\nmodifiers: []\n")
    root = tmp_path / "myzoo"
    assert cli("init", root, "--remote", tmp_path / "remote").exit_code == 0
    pub = cli("--zoo", root, "publish", model_dir, "--stub", STUB)
    assert pub.exit_code == 0, pub.stderr
    return root


def test_show_names_the_recipe_the_query_selects(cli: Callable[..., Result], root: Path) -> None:
    shown = cli("--zoo", root, "show", f"zoo:{STUB}?recipe=original")
    assert shown.exit_code == 0, shown.stderr
    assert "  recipe           recipes/original.md" in shown.stdout.splitlines()
    by_type = json.loads(cli("--zoo", root, "show", f"{STUB}@v1?recipe_type=transfer", "--json").stdout)
    assert by_type["recipe"] == "recipes/transfer_learn.yaml"
    plain = cli("--zoo", root, "show", STUB, "--json")
    assert "recipe" not in json.loads(plain.stdout)
    assert "  recipe " not in cli("--zoo", root, "show", STUB).stdout


@pytest.mark.parametrize("query", ["?recipe=transfer", "?recipe_type=sparse"])
def test_a_recipe_that_is_not_there_is_one_line(cli: Callable[..., Result], root: Path, query: str,
                                               tmp_path: Path) -> None:
    for args in (("show", STUB + query), ("pull", STUB + query, "--dest", tmp_path / "out")):
        result = cli("--zoo", root, *args)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[0] == (
            f"Error: {STUB}@v1 has no recipe matching {query} (its recipes: original, transfer_learn)")
    assert not (tmp_path / "out").exists()  # checked before any byte moved


def test_a_malformed_query_is_one_line(cli: Callable[..., Result], root: Path) -> None:
    result = cli("--zoo", root, "show", f"{STUB}?recipe=a&recipe=b")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: invalid stub '{STUB}?recipe=a&recipe=b': query key 'recipe' is given twice; "
        "expected one recipe= or recipe_type="]


def test_pull_pulls_everything_and_names_the_recipe(cli: Callable[..., Result], root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pulled = cli("--zoo", root, "pull", f"zoo:{STUB}@v1?recipe_type=transfer", "--dest", out)
    assert pulled.exit_code == 0, pulled.stderr
    assert pulled.stdout.rstrip().endswith(f"; recipe {out / 'recipes' / 'transfer_learn.yaml'}")
    assert (out / "model.onnx").is_file() and (out / "recipes" / "original.md").is_file()
    data = json.loads(cli("--zoo", root, "pull", f"{STUB}?recipe=original", "--dest", out, "--json").stdout)
    assert data["recipe"] == str(out / "recipes" / "original.md")


def test_pull_with_include_still_brings_the_recipe(cli: Callable[..., Result], root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    data = json.loads(cli("--zoo", root, "pull", f"{STUB}?recipe=transfer_learn", "--include", "onnx",
                          "--dest", out, "--json").stdout)
    assert sorted(data["files"]) == ["model.onnx", "recipes/transfer_learn.yaml"]
    assert data["recipe"] == str(out / "recipes" / "transfer_learn.yaml")
    # An explicit --exclude still wins: the recipe is left out, and said to be.
    left = json.loads(cli("--zoo", root, "pull", f"{STUB}?recipe=transfer_learn", "--exclude", "recipes/*",
                          "--dest", tmp_path / "out2", "--json").stdout)
    assert "recipes/transfer_learn.yaml" not in left["files"] and left["recipe"] is None


def test_the_python_api_selects_the_recipe_too(root: Path, tmp_path: Path) -> None:
    from zoo_repo import Zoo

    zoo = Zoo.open(root)
    results = zoo.pull_many([f"{STUB}?recipe=original"], dest=tmp_path / "many")
    assert results[0].recipe == tmp_path / "many" / STUB / "recipes" / "original.md"
    assert zoo.pull(STUB, dest=tmp_path / "plain").recipe is None


def test_zoo_stub_prints_the_query(cli: Callable[..., Result]) -> None:
    yolo = "cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned_quant-aggressive_94"
    data = json.loads(cli("stub", f"zoo:{yolo}@v2?recipe_type=transfer", "--json").stdout)
    assert (data["sparse_category"], data["version"], data["recipe_type"]) == ("aggressive_94", "v2", "transfer")
    assert "recipe" not in data


def test_a_plan_selects_what_the_pull_would(root: Path, tmp_path: Path) -> None:
    from zoo_repo import Zoo
    from zoo_repo.errors import NotFound

    zoo = Zoo.open(root)
    plan = zoo.plan_pull(f"{STUB}?recipe=transfer_learn", dest=tmp_path / "p", include=("onnx",))
    assert sorted(f.path for f in plan.files) == ["model.onnx", "recipes/transfer_learn.yaml"]
    with pytest.raises(NotFound, match="transfer_lean"):
        zoo.plan_pull(f"{STUB}?recipe=transfer_lean", dest=tmp_path / "q")
    assert not (tmp_path / "q").exists()
