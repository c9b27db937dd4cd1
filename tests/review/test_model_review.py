"""A reviewer sees what changed in the model itself: `zoo diff` and `zoo review`
flag interface changes that break consumers, and `zoo check` warns (or fails,
as zoo.yaml at the base ref says) when a stub's sparse name is not what was measured."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest

from tests.conftest import STUB, Result
from tests.review.helpers import edit, git, vdir
from zoo_repo import Zoo
from zoo_repo.core.modelfacts import compare
from zoo_repo.review.check import check
from zoo_repo.review.report import render_review_markdown, review

Cli = Callable[..., Result]
PRUNED_NAMED = STUB.replace("base-none", "pruned-moderate")


def _retag(model_dir: Path, name: str, category: str) -> None:
    card = model_dir / "model.md"
    text = re.sub(r"sparse_name: \S+", f"sparse_name: {name}", card.read_text())
    card.write_text(re.sub(r"sparse_category: \S+", f"sparse_category: {category}", text))


def _edit_graph(model_dir: Path, change: Callable[[onnx.ModelProto], None]) -> None:
    path = model_dir / "model.onnx"
    model = onnx.load(str(path))
    change(model)
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


def _fix_batch(model: onnx.ModelProto) -> None:
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1  # the samples have batch 1: they still run


def test_diff_flags_a_fixed_batch_as_breaking(cli: Cli, zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    _edit_graph(model_dir, _fix_batch)
    zoo.publish(model_dir, STUB)
    out = cli("--zoo", zoo.root, "diff", f"{STUB}@v1", f"{STUB}@v2")
    assert out.exit_code == 0, out.stderr
    assert "  model: 1 breaking (code written for the first may fail on the second)" in out.stdout
    assert "    ! input 'input' shape: [batch, 1, 28, 28] → [1, 1, 28, 28] (breaking)" in out.stdout
    data = json.loads(cli("--zoo", zoo.root, "diff", f"{STUB}@v1", f"{STUB}@v2", "--json").stdout)
    assert data["breaking"] is True
    assert data["model"] == [{"what": "input 'input' shape", "a": "[batch, 1, 28, 28]", "b": "[1, 1, 28, 28]",
                              "breaking": True}]


def test_review_marks_a_renamed_input_and_a_raised_opset(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    git(zoo, "checkout", "-qb", "pr")

    def rename_and_raise(model: onnx.ModelProto) -> None:
        model.graph.input[0].name = "pixels"
        model.graph.node[0].input[0] = "pixels"
        model.opset_import[0].version = 17

    _edit_graph(model_dir, rename_and_raise)
    zoo.publish(model_dir, STUB)
    r = review(zoo, base="main")
    (added,) = r.added
    assert added.changes is not None
    assert [(c.what, c.breaking) for c in added.changes.breaking] == [
        ("input 'input'", True), ("input 'pixels'", True), ("opset", True)]
    text = render_review_markdown(r)
    assert f"### `{STUB}@v2` ⚠️ breaking model change" in text
    assert "**Model changes against v1** (3 breaking)" in text
    assert "- ⚠️ **breaking** input 'pixels': (none) → pixels float32 [batch, 1, 28, 28]" in text
    assert "- ⚠️ **breaking** opset: 13 → 17" in text
    assert "- input: `pixels float32 [batch, 1, 28, 28]`" in text


def test_a_pruned_successor_changes_facts_without_breaking(cli: Cli, zoo: Zoo, model_dir: Path,
                                                           built_models: dict[str, Path], tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    pruned = Path(shutil.copytree(built_models["pruned"], tmp_path / "pruned"))
    _retag(pruned, "base", "none")
    zoo.publish(pruned, STUB)
    out = cli("--zoo", zoo.root, "diff", f"{STUB}@v1", f"{STUB}@v2")
    assert "  model: 0 breaking" in out.stdout
    assert re.search(r"    ~ zero weights: [0-9.]+% → 49\.[0-9]% *$", out.stdout, re.M)
    assert "(breaking)" not in out.stdout


@pytest.mark.parametrize(("a", "b", "breaking"), [
    ({"inputs": [{"name": "x", "dtype": "float32", "shape": [1, 3]}]},
     {"inputs": [{"name": "x", "dtype": "float32", "shape": ["n", 3]}]}, False),  # an input made dynamic
    ({"outputs": [{"name": "y", "dtype": "float32", "shape": [1, 3]}]},
     {"outputs": [{"name": "y", "dtype": "float32", "shape": ["n", 3]}]}, True),  # an output made dynamic
    ({"outputs": [{"name": "y", "dtype": "float32", "shape": [1]}]},
     {"outputs": [{"name": "y", "dtype": "float32", "shape": [1]}, {"name": "z", "dtype": "int64", "shape": [1]}]},
     False),  # a new output
    ({"inputs": [{"name": "a", "shape": [1]}, {"name": "b", "shape": [1]}]},
     {"inputs": [{"name": "b", "shape": [1]}, {"name": "a", "shape": [1]}]}, True),  # positional callers break
    ({"inputs": [{"name": "x", "dtype": "float32", "shape": [1]}]},
     {"inputs": [{"name": "x", "dtype": "float16", "shape": [1]}]}, True),
    ({"opset": 13, "opsets": {"ai.onnx": 13}}, {"opset": 11, "opsets": {"ai.onnx": 11}}, False),  # lowered
    ({"opset": 13, "opsets": {"ai.onnx": 13}},
     {"opset": 13, "opsets": {"ai.onnx": 13, "com.microsoft": 1}}, True),  # needs contrib ops
    ({"parameters": 10, "sparsity": {"zeros": 0.0}}, {"parameters": 8, "sparsity": {"zeros": 0.2}}, False),
])
def test_what_breaks_a_consumer(a: dict, b: dict, breaking: bool) -> None:  # type: ignore[type-arg]
    changes = compare(a, b)
    assert changes, "a difference must be reported"
    assert any(c.breaking for c in changes) is breaking


def test_versions_published_before_facts_compare_without_noise() -> None:
    old = {"ir_version": 8, "opset": 13, "inputs": [], "outputs": []}
    assert compare(old, {**old, "parameters": 5, "sparsity": {"zeros": 0.5}})[0].before is None
    assert compare({}, old) == ()  # a side never inspected says nothing


# -- zoo check: the sparse name against what was measured ------------------------------
def test_a_dense_model_named_pruned_warns_and_passes(cli: Cli, zoo: Zoo, model_dir: Path) -> None:
    _retag(model_dir, "pruned", "moderate")
    zoo.publish(model_dir, PRUNED_NAMED)
    out = cli("--zoo", zoo.root, "check")
    assert out.exit_code == 0, out.stdout
    where = f"{vdir(zoo, PRUNED_NAMED, 1)}/manifest.yaml"
    share = zoo.show(PRUNED_NAMED).onnx["sparsity"]["zeros"]
    assert share < 0.1
    assert (f"warning: {where}: [sparse-name] sparse name 'pruned' says pruned, but {share * 100:.1f}% of the "
            "weights are zero (expected at least 10.0%)") in out.stderr.splitlines()
    assert out.stdout.rstrip().endswith(": ok (1 warning)")
    data = json.loads(cli("--zoo", zoo.root, "check", "--json").stdout)
    assert data["ok"] is True and [w["rule"] for w in data["warnings"]] == ["sparse-name"]


def test_a_real_sparsezoo_target_is_advice_not_refusal(cli: Cli, zoo: Zoo, model_dir: Path) -> None:
    stub = STUB.replace("base-none", "base-none-vnni")
    zoo.publish(model_dir, stub)
    out = cli("--zoo", zoo.root, "check")
    assert out.exit_code == 0
    assert ("[stub-tokens] sparse_target 'vnni' is not one the spec lists (known: disk, edge, deepsparse, gpu)"
            in out.stderr)


def test_zoo_yaml_at_the_base_makes_it_an_error_a_pull_request_cannot_undo(cli: Cli, zoo: Zoo,
                                                                            model_dir: Path) -> None:
    (zoo.root / "zoo.yaml").write_text((zoo.root / "zoo.yaml").read_text()
                                       + "check:\n  sparse-name: error\n  stub-tokens: off\n")
    git(zoo, "commit", "-qam", "the zoo refuses misnamed sparse models")
    git(zoo, "checkout", "-qb", "pr")
    _retag(model_dir, "pruned", "moderate")
    zoo.publish(model_dir, PRUNED_NAMED)
    edit(zoo.root / "zoo.yaml", "sparse-name: error", "sparse-name: off")
    git(zoo, "commit", "-qam", "turn the gate off")
    out = cli("--zoo", zoo.root, "check", "--base", "main")
    assert out.exit_code == 1
    assert f"{vdir(zoo, PRUNED_NAMED, 1)}/manifest.yaml: [sparse-name] sparse name 'pruned' says pruned" \
        in out.stdout
    # The working tree's settings apply without a base: this clone turned it off.
    assert cli("--zoo", zoo.root, "check").exit_code == 0


def test_a_bad_check_setting_is_named(cli: Cli, zoo: Zoo) -> None:
    (zoo.root / "zoo.yaml").write_text((zoo.root / "zoo.yaml").read_text() + "check:\n  sparse-name: loud\n")
    out = cli("--zoo", zoo.root, "check")
    assert out.exit_code == 1
    assert "zoo.yaml: [settings] check.sparse-name is 'loud'; expected one of off, warn, error" in out.stdout
    (zoo.root / "zoo.yaml").write_text("format: 1\ncheck:\n  pruned-min-zeros: 2\n")
    assert "check.pruned-min-zeros is 2; expected a fraction from 0 to 1" in cli("--zoo", zoo.root, "check").stdout


def test_review_shows_the_warning_in_its_checks(zoo: Zoo, model_dir: Path) -> None:
    git(zoo, "checkout", "-qb", "pr")
    _retag(model_dir, "pruned95", "moderate")
    stub = STUB.replace("base-none", "pruned95-moderate")
    zoo.publish(model_dir, stub)
    text = render_review_markdown(review(zoo, base="main"))
    assert ("| sparse-name | the sparse name agrees with the measured sparsity and quantized ops (advice) | "
            "⚠️ warn: sparse name 'pruned95' says pruned95, but ") in text
    assert "of the weights are zero (expected at least 90.0%) |" in text


def test_deep_finds_forged_sparsity(zoo: Zoo, model_dir: Path, built_models: dict[str, Path]) -> None:
    zoo.publish(model_dir, STUB)
    git(zoo, "checkout", "-qb", "pr")
    zoo.publish(built_models["pruned"], PRUNED_NAMED)
    manifest = zoo.root / vdir(zoo, PRUNED_NAMED, 1) / "manifest.yaml"
    text = manifest.read_text()
    forged = re.sub(r"(  sparsity:\n    zeros: )[0-9.]+", r"\g<1>0.95", text)
    assert forged != text
    manifest.write_text(forged)
    report = check(zoo, base="main", deep=True)
    assert [p.rule for p in report.problems] == ["validation"]
    assert report.problems[0].message.startswith("onnx.sparsity is {'zeros': 0.95,")


def test_advice_runs_where_the_manifests_are_parsed(zoo: Zoo, model_dir: Path,
                                                    built_models: dict[str, Path]) -> None:
    """In worker processes too (a large zoo's full check), with the same findings."""
    _retag(model_dir, "pruned", "moderate")
    zoo.publish(model_dir, PRUNED_NAMED)
    zoo.publish(built_models["base"], STUB.replace("base-none", "base-none-vnni"))
    here, spread = check(zoo), check(zoo, jobs=2)
    assert sorted(w.rule for w in here.warnings) == ["sparse-name", "stub-tokens"]
    assert spread.warnings == here.warnings and spread.problems == here.problems == ()
