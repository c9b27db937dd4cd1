"""The pure mapping of a SparseZoo download onto the spec's model directory."""

from __future__ import annotations

import pytest

from zoo_repo.core.card import check_stub_agrees, parse_card
from zoo_repo.core.stub import parse_stub
from zoo_repo.errors import ModelDirError
from zoo_repo.model.layout import classify
from zoo_repo.model.sparsezoo import fill_card, plan_import, recipe_name

STUB = parse_stub("cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/pruned95_quant-none")
DOWNLOAD = [
    "model.md", "model.onnx", "model.onnx.tar.gz", "deployment/model.onnx", "deployment/config.json",
    "deployment/tokenizer.json", "training/model.pth", "training/recipe.yaml", "onnx/model.11.onnx",
    "onnx/model.14.onnx", "recipe/recipe_original.md", "recipe/recipe_transfer_learn.md", "recipe.md",
    "sample-inputs/inp-0000.npz", "sample-inputs/notes.txt", "sample-inputs.tar.gz",
    "sample-outputs/out-0000.npz", "sample-outputs_onnxruntime/out-0000.npz",
    "sample-outputs_deepsparse/out-0000.npz", "sample_labels/lab-0000.npy", "sample-originals.tar.gz",
    "benchmarks.yaml", "eval.yaml", "metrics.yaml", "analysis.yaml", "logs/train.log",
]


def test_each_file_goes_where_the_spec_puts_it() -> None:
    plan = plan_import(DOWNLOAD, "pytorch", same=lambda a, b: True)
    mapped = {p.source: (p.dest, p.role) for p in plan.mapped}
    assert mapped == {
        "model.md": ("model.md", "card"),
        "model.onnx": ("model.onnx", "onnx"),
        "training/model.pth": ("pytorch/model.pth", "framework"),
        "training/recipe.yaml": ("pytorch/recipe.yaml", "framework"),
        "recipe/recipe_original.md": ("recipes/original.md", "recipes"),
        "recipe/recipe_transfer_learn.md": ("recipes/transfer_learn.md", "recipes"),
        "sample-inputs/inp-0000.npz": ("sample-inputs/inp-0000.npz", "sample-inputs"),
        "sample-outputs_onnxruntime/out-0000.npz": ("sample-outputs/out-0000.npz", "sample-outputs"),
        "sample_labels/lab-0000.npy": ("sample-labels/lab-0000.npy", "sample-labels"),
        "sample-originals.tar.gz": ("sample-originals.tar.gz", "sample-originals"),
    }
    kept = {p.source: p.dest for p in plan.kept}
    assert kept == {
        "analysis.yaml": "analysis.yaml", "benchmarks.yaml": "benchmarks.yaml", "eval.yaml": "eval.yaml",
        "metrics.yaml": "metrics.yaml", "logs/train.log": "logs/train.log",
        "deployment/config.json": "deployment/config.json", "deployment/model.onnx": "deployment/model.onnx",
        "deployment/tokenizer.json": "deployment/tokenizer.json",
        "onnx/model.11.onnx": "onnx/model.11.onnx", "onnx/model.14.onnx": "onnx/model.14.onnx",
        "recipe.md": "recipe.md",  # lost recipes/original.md to recipe/recipe_original.md
        "sample-outputs_deepsparse/out-0000.npz": "sample-outputs_deepsparse/out-0000.npz",
        # a role's other sources, and what the scanner would refuse in a sample folder, under sparsezoo/
        "sample-inputs.tar.gz": "sparsezoo/sample-inputs.tar.gz",
        "sample-inputs/notes.txt": "sparsezoo/sample-inputs/notes.txt",
        "sample-outputs/out-0000.npz": "sparsezoo/sample-outputs/out-0000.npz",
    }
    assert all(classify(p.dest, "pytorch") == "other" for p in plan.kept)
    assert all(classify(p.dest, "pytorch") == p.role for p in plan.mapped)
    assert [p.source for p in plan.skipped] == ["model.onnx.tar.gz"]
    assert plan.conflicts == ("recipe.md and recipe/recipe_original.md both map to recipes/original.md "
                              "(same bytes): recipe/recipe_original.md wins, recipe.md is kept",)


def test_deployment_graph_is_the_model_when_there_is_no_top_level_one() -> None:
    plan = plan_import(["model.md", "deployment/model.onnx", "deployment/config.json"], "pytorch")
    assert {p.dest: p.source for p in plan.mapped}["model.onnx"] == "deployment/model.onnx"
    assert "deployment/model.onnx" in {p.dest for p in plan.kept}  # deployment/ stays whole


def test_a_differing_deployment_graph_is_kept_and_said() -> None:
    plan = plan_import(["model.md", "model.onnx", "deployment/model.onnx"], "pytorch", same=lambda a, b: False)
    assert {p.dest: p.source for p in plan.mapped}["model.onnx"] == "model.onnx"
    assert plan.conflicts and "deployment/model.onnx differs from model.onnx" in plan.conflicts[0]


def test_outputs_fall_back_to_the_frameworks_and_tarballs() -> None:
    plan = plan_import(["model.onnx", "model.md", "sample-outputs.tar.gz", "sample_inputs.tar.gz"], "pytorch")
    assert {p.source: p.dest for p in plan.mapped} == {
        "model.onnx": "model.onnx", "model.md": "model.md",
        "sample-outputs.tar.gz": "sample-outputs.tar.gz", "sample_inputs.tar.gz": "sample-inputs.tar.gz"}


@pytest.mark.parametrize(("name", "want"), [
    ("recipe_original.md", "original.md"), ("recipe.md", "original.md"),
    ("recipe_transfer_learn.md", "transfer_learn.md"), ("recipe_transfer-classification.yaml",
                                                        "transfer-classification.yaml"),
    ("original.md", "original.md"), ("notes.txt", None),
])
def test_recipe_names(name: str, want: str | None) -> None:
    assert recipe_name(name) == want


@pytest.mark.parametrize("files", [
    ["README.txt"], ["model.md", "recipe/recipe.md"],  # no graph
    ["model.onnx", "weights.bin"],  # a bare graph is no SparseZoo download
])
def test_not_a_download_is_refused(files: list[str]) -> None:
    with pytest.raises(ModelDirError, match="is not a SparseZoo download"):
        plan_import(files, "pytorch")


@pytest.mark.parametrize("bad", ["../model.onnx", "a/../b", "/etc/passwd", "a//b", "./x"])
def test_names_that_leave_the_download_are_refused(bad: str) -> None:
    with pytest.raises(ModelDirError, match="not a plain relative path"):
        plan_import(["model.md", "model.onnx", bad], "pytorch")


def test_card_gets_the_stub_and_keeps_what_sparsezoo_wrote() -> None:
    text = ("---\ndomain: cv\nsub_architecture: 50\nframework: torch\ntags: [a, 1]\n"
            "display_name: ResNet\nmetrics: 76.1\nsparse_tag: pruned-moderate\n---\n# ResNet-50\n")
    out, notes = fill_card(text, STUB)
    card = parse_card(out)
    check_stub_agrees(card, STUB)  # what publish checks
    assert card.metadata["sub_architecture"] == "50" and card.metadata["framework"] == "pytorch"
    assert card.metadata["sparsezoo"] == {"framework": "torch", "sparse_tag": "pruned-moderate", "tags": ["a", 1],
                                          "metrics": 76.1}
    assert card.metadata["display_name"] == "ResNet" and card.body.strip() == "# ResNet-50"
    assert len(notes) == 4
    assert "sparse_tag" not in parse_card(fill_card("---\nsparse_tag: pruned95_quant-none\n---\n", STUB)[0]) \
        .metadata.get("sparsezoo", {})


def test_card_without_front_matter_or_without_a_card() -> None:
    out, notes = fill_card("# Just Markdown\n", STUB)
    assert parse_card(out).metadata["sparse_name"] == "pruned95_quant" and "# Just Markdown" in out
    assert notes == ("model.md had no YAML front matter: one was added",)
    out, _ = fill_card(None, STUB)
    check_stub_agrees(parse_card(out), STUB)
