"""The ``validation`` rule and ``--deep`` on the newer sample records: inputs run
without outputs to compare, and the ONNX Model Zoo's test_data_set_N/ layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.conftest import STUB
from tests.model.test_onnx_samples import _add_model
from tests.review.helpers import edit, git, set_metric, vdir
from zoo_repo import Zoo
from zoo_repo.review.check import check


def test_genuine_inputs_only_and_test_data_set_publishes_pass_deep(zoo: Zoo, model_dir: Path) -> None:
    shutil.rmtree(model_dir / "sample-outputs")
    zoo.publish(model_dir, STUB)
    _add_model(model_dir)
    set_metric(model_dir, 75.9)
    zoo.publish(model_dir, STUB)
    assert zoo.manifest(STUB, 2).validation["samples"] == 2
    report = check(zoo, deep=True)
    assert report.ok, report.problems
    assert report.revalidated == 2


def test_deep_reruns_inputs_claimed_to_have_run(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    git(zoo, "checkout", "-qb", "pr")  # a pull request that forges its record
    shutil.rmtree(model_dir / "sample-outputs")
    np.save(model_dir / "sample-inputs" / "inp-0001.npy", np.zeros((1, 3), np.float32))  # does not run
    set_metric(model_dir, 75.9)
    zoo.publish(model_dir, STUB, run=False)
    manifest = zoo.root / vdir(zoo, STUB, 2) / "manifest.yaml"
    edit(manifest, "validation: {skipped: --no-run}", "validation: {samples: 4, not_compared: no sample-outputs}")
    git(zoo, "commit", "-qam", "claim the inputs ran")
    assert check(zoo, base="main", remote=True).ok  # the record is one publish could write beside these files
    problems = check(zoo, base="main", deep=True).problems
    assert [(p.rule, p.message.split(": sample-inputs/")[0]) for p in problems] == [
        ("validation", "validation says the sample inputs ran, but they do not when re-run")]
