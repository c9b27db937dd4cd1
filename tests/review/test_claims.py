"""Claims in a manifest are checked, not believed: ``card-fields`` and ``validation``.

Each test publishes for real, then plays a pull request that edits what a
manifest claims (keeping its tree md5 and DVC pointer intact, as a careful
forger would), and runs the gate through the CLI as CI does.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import STUB, Result
from tests.review.helpers import edit, git, set_metric, vdir
from zoo_repo import Zoo
from zoo_repo.core.publishing import NO_SAMPLES
from zoo_repo.core.validation import describe, record_problems
from zoo_repo.review.check import check

Cli = Callable[..., Result]
RUN = "validation: {samples: 4, rtol: 0.001, atol: 1.0e-05, outputs_match: true}"
NO_RUN = "validation: {skipped: --no-run}"


def _manifest(zoo: Zoo, version: int) -> Path:
    return zoo.root / vdir(zoo, STUB, version) / "manifest.yaml"


def _commit(zoo: Zoo, why: str) -> None:
    git(zoo, "commit", "-qam", why)


@pytest.fixture
def pr(zoo: Zoo, model_dir: Path) -> Zoo:
    """v1 published (and validated) on main; a branch ``pr`` checked out for the change."""
    set_metric(model_dir, 76.1)
    zoo.publish(model_dir, STUB)
    git(zoo, "checkout", "-qb", "pr")
    return zoo


def _without_samples(model_dir: Path) -> None:
    for role in ("sample-inputs", "sample-outputs", "sample-labels"):
        shutil.rmtree(model_dir / role)


def _problem_lines(result: Result, rule: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if f": [{rule}] " in line]


# -- validation: the record ----------------------------------------------------------
def test_a_forged_sample_run_without_samples_fails_the_gate(pr: Zoo, model_dir: Path, cli: Cli) -> None:
    _without_samples(model_dir)
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB)
    edit(_manifest(pr, 2), f"validation: {{skipped: {NO_SAMPLES}}}", RUN)
    _commit(pr, "claim a sample run")
    result = cli("--zoo", pr.root, "check", "--base", "main", "--remote")
    assert result.exit_code == 1
    where = f"{vdir(pr, STUB, 2)}/manifest.yaml"
    assert _problem_lines(result, "validation") == [
        f"{where}: [validation] validation.outputs_match is true but the manifest lists no sample-inputs to run",
        f"{where}: [validation] validation.outputs_match is true but the manifest lists no sample-outputs to run",
    ]
    # Nothing else is wrong with the version: the forgery is what fails.
    assert {line.split(" [")[1].split("]")[0] for line in result.stdout.splitlines() if " [" in line} == \
        {"validation"}


def test_a_no_run_version_claiming_a_different_sample_count_fails(pr: Zoo, model_dir: Path, cli: Cli) -> None:
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB, run=False)
    edit(_manifest(pr, 2), NO_RUN, RUN.replace("samples: 4", "samples: 40"))
    _commit(pr, "claim more samples")
    result = cli("--zoo", pr.root, "check", "--base", "main")
    assert result.exit_code == 1
    where = f"{vdir(pr, STUB, 2)}/manifest.yaml"
    assert _problem_lines(result, "validation") == [
        f"{where}: [validation] validation.samples is 40 but the manifest lists 4 sample-inputs",
        f"{where}: [validation] validation.samples is 40 but the manifest lists 4 sample-outputs",
    ]


def test_records_publish_never_writes(pr: Zoo) -> None:
    m = pr.manifest(STUB, 1)
    assert record_problems(m) == []

    def problems(**validation: object) -> list[str]:
        return record_problems(dataclasses.replace(m, validation=dict(validation)))

    assert problems(samples=4, rtol=0.001, atol=1e-05, outputs_match=False) == [
        "validation.outputs_match is False: publish refuses samples that do not match, so it only ever records true"]
    assert problems(outputs_match=True, samples=4) == [
        "validation lacks rtol, atol: a sample run records samples, rtol, atol and outputs_match"]
    assert problems(skipped="trust me") == [
        "validation.skipped is 'trust me'; publish records only '--no-run' or "
        "'no sample-inputs and sample-outputs to compare'"]
    assert problems(skipped=NO_SAMPLES) == [
        f"validation.skipped is {NO_SAMPLES!r} but the manifest lists 4 sample-inputs and 4 sample-outputs, "
        "which publish runs"]
    assert problems(checked=True) == [
        "validation has checked; publish records either samples, rtol, atol and outputs_match, or skipped"]
    assert record_problems(dataclasses.replace(m, validation={})) == []  # claims nothing
    assert record_problems(dataclasses.replace(m, onnx={})) == [
        "validation is recorded but onnx is not: publish records the interface whenever it validates"]


# -- card-fields ---------------------------------------------------------------------
def test_a_forged_metric_fails_naming_both_values(pr: Zoo, model_dir: Path, cli: Cli) -> None:
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB)
    edit(_manifest(pr, 2), "value: 75.9", "value: 99.9")
    _commit(pr, "a better number")
    result = cli("--zoo", pr.root, "check", "--base", "main")
    assert result.exit_code == 1
    assert _problem_lines(result, "card-fields") == [
        f"{vdir(pr, STUB, 2)}/manifest.yaml: [card-fields] metrics[0] top1 accuracy is 99.9 in the manifest, "
        "75.9 in model.md"]


def test_forged_card_fields_and_metrics(pr: Zoo, model_dir: Path) -> None:
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB)
    where = _manifest(pr, 2)
    edit(where, "license: apache-2.0", "license: mit")
    edit(where, "split: validation}", "split: test}")
    edit(where, "  - demo\n", "")
    messages = sorted(p.message for p in check(pr, base="main").problems if p.rule == "card-fields")
    assert messages == [
        "card.license is 'mit' in the manifest, 'apache-2.0' in model.md",
        "card.tags is ['classification'] in the manifest, ['demo', 'classification'] in model.md",
        "metrics[0] is '75.9% top1 accuracy (synthetic_digits, test)' in the manifest, "
        "'75.9% top1 accuracy (synthetic_digits, validation)' in model.md",
    ]


def test_card_fields_run_in_worker_processes(pr: Zoo, model_dir: Path) -> None:
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB)
    edit(_manifest(pr, 2), "value: 75.9", "value: 99.9")
    alone, spread = check(pr, jobs=1), check(pr, jobs=2)
    assert alone == spread and {p.rule for p in spread.problems} == {"card-fields"}


# -- --deep: validation run again ----------------------------------------------------
def test_deep_reruns_a_claimed_sample_run_that_would_not_match(pr: Zoo, model_dir: Path, cli: Cli) -> None:
    out = model_dir / "sample-outputs" / "out-0000.npy"
    np.save(out, np.load(out) + 1.0)  # outputs the model does not give
    pr.publish(model_dir, STUB, run=False)  # publish does not run them, so it takes them
    edit(_manifest(pr, 2), NO_RUN, RUN)  # …and the manifest claims it did, consistently with its files
    _commit(pr, "claim a sample run")
    where = f"{vdir(pr, STUB, 2)}/manifest.yaml"

    static = cli("--zoo", pr.root, "check", "--base", "main", "--remote")
    assert static.exit_code == 0, static.stdout  # the record is one publish could write
    deep = cli("--zoo", pr.root, "check", "--base", "main", "--deep")
    assert deep.exit_code == 1
    lines = _problem_lines(deep, "validation")
    assert len(lines) == 1 and lines[0].startswith(
        f"{where}: [validation] validation.outputs_match is true in the manifest, but the samples do not match "
        "when re-run: sample-outputs/out-0000.npy: output 'output' differs from what model.onnx gives")
    assert "1 version revalidated" in deep.stdout  # only the one added since main
    assert not list((pr.root / ".zoo").glob("revalidate*"))  # the private copies are gone


def test_deep_finds_a_forged_interface(pr: Zoo, model_dir: Path) -> None:
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB)
    edit(_manifest(pr, 2), "opset: 13", "opset: 21")
    report = check(pr, base="main", deep=True)
    assert [(p.rule, p.message) for p in report.problems] == [
        ("validation", "onnx.opset is 21 in the manifest, 13 in model.onnx")]


def test_genuine_publishes_pass_everything(pr: Zoo, model_dir: Path, cli: Cli) -> None:
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB, run=False)
    _without_samples(model_dir)
    set_metric(model_dir, 75.3)
    pr.publish(model_dir, STUB)
    assert [describe(pr.manifest(STUB, n).validation) for n in (1, 2, 3)] == [
        "samples ran and matched (rtol 0.001, atol 1e-05)", "not run (--no-run)",
        f"samples skipped: {NO_SAMPLES}"]
    with_base = cli("--zoo", pr.root, "check", "--base", "main", "--deep")
    assert with_base.exit_code == 0, with_base.stdout
    assert "2 versions revalidated" in with_base.stdout
    every = check(pr, deep=True)
    assert every.ok and every.revalidated == 3
    assert not list((pr.root / ".zoo").glob("revalidate*"))  # the private copies are gone


# -- what reviewers see --------------------------------------------------------------
def test_review_and_show_print_each_versions_validation(pr: Zoo, model_dir: Path, cli: Cli) -> None:
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB, run=False)
    _without_samples(model_dir)
    set_metric(model_dir, 75.3)
    pr.publish(model_dir, STUB)
    lines = {1: "samples ran and matched (rtol 0.001, atol 1e-05)", 2: "not run (--no-run)",
             3: f"samples skipped: {NO_SAMPLES}"}
    for version, line in lines.items():
        shown = cli("--zoo", pr.root, "show", f"{STUB}@v{version}")
        assert shown.exit_code == 0 and f"  {'validation':16} {line}\n" in shown.stdout
    reviewed = cli("--zoo", pr.root, "review", "--base", "main")
    assert reviewed.exit_code == 0
    text = reviewed.stdout
    assert f"| validation | {lines[2]} |" in text and f"| validation | {lines[3]} |" in text
    assert f"| validation | {lines[1]} |" not in text  # v1 is not added since main
    assert "| validation | validation record is one publish writes (re-run with --deep) | ✅ pass |" in text


def _pack_samples(model_dir: Path) -> None:
    """Each sample folder as one .tar.gz, as a model with many samples ships them."""
    import tarfile

    for role in ("sample-inputs", "sample-outputs"):
        with tarfile.open(model_dir / f"{role}.tar.gz", "w:gz") as tar:
            for path in sorted((model_dir / role).iterdir()):
                tar.add(path, arcname=path.name)
        shutil.rmtree(model_dir / role)


def test_packed_samples_are_counted_on_the_bytes(pr: Zoo, model_dir: Path) -> None:
    _pack_samples(model_dir)
    set_metric(model_dir, 75.9)
    pr.publish(model_dir, STUB)
    assert check(pr, base="main", deep=True).ok  # a genuine publish of packed samples
    # The manifest cannot tell how many samples an archive holds; the bytes can.
    edit(_manifest(pr, 2), "samples: 4,", "samples: 3,")
    assert check(pr, base="main").ok
    report = check(pr, base="main", deep=True)
    assert [(p.path, p.rule, p.message) for p in report.problems] == [
        (f"{vdir(pr, STUB, 2)}/manifest.yaml", "validation", "validation.samples is 3 in the manifest, 4 when re-run")]


def test_deep_in_a_fresh_clone_fetches_the_bytes_it_reruns(pr: Zoo, model_dir: Path, tmp_path: Path,
                                                         cli: Cli) -> None:
    """CI's checkout has an empty store: the bytes come from the remote, verified, as `zoo fetch` brings them."""
    from tests.conftest import clone

    out = model_dir / "sample-outputs" / "out-0003.npy"
    np.save(out, np.load(out) * 2.0)
    pr.publish(model_dir, STUB, run=False)
    edit(_manifest(pr, 2), NO_RUN, RUN)
    _commit(pr, "claim a sample run")
    ci = clone(pr, tmp_path / "ci")
    onnx = next(f for f in ci.manifest(STUB, 2).files if f.path == "model.onnx")
    assert not ci.store.has(onnx.md5)
    result = cli("--zoo", ci.root, "check", "--base", "origin/main", "--deep")
    assert result.exit_code == 1
    assert [line.split(": ", 1)[0] for line in _problem_lines(result, "validation")] == [
        f"{vdir(pr, STUB, 2)}/manifest.yaml"]
    assert "sample-outputs/out-0003.npy: output 'output' differs" in result.stdout
    assert ci.store.has(onnx.md5)  # fetched into the clone's store, where `zoo pull` finds it
