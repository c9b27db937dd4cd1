"""docs/examples run as written: the CI workflow's steps on a pull request and
after the merge, and the pre-commit hook, against real git clones and a remote.

Each ``run:`` step is executed by bash in a fresh clone of the origin, as a
runner would, with GitHub's expressions filled in; only installing zoo and
posting the comment (no GitHub here) are left out.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import STUB
from zoo_repo import Zoo

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
SKIPPED = {"install", "post the review"}  # pip install zoo-repo; gh pr comment


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout


def steps(job: str) -> list[dict[str, Any]]:
    workflow = yaml.safe_load((EXAMPLES / "zoo-review.yml").read_text())
    found = [s for s in workflow["jobs"][job]["steps"] if "run" in s and s.get("name") not in SKIPPED]
    assert found, f"job {job} has no step to run"
    return found


def run_steps(job: str, cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Every step of ``job`` in order, stopping at the first that fails (as Actions does)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = []
    for step in steps(job):
        command = re.sub(r"\$\{\{\s*github\.base_ref\s*\}\}", "main", step["run"])
        assert "${{" not in command, command
        done.append(subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=env, capture_output=True,
                                   text=True, timeout=300))
        if done[-1].returncode != 0:
            break
    return done


class Origin:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.remote = tmp_path / "remote"
        seed = Zoo.init(tmp_path / "seed", remote=str(self.remote))
        self.path = tmp_path / "origin.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(seed.root), str(self.path)], check=True)

    def runner(self, ref: str = "main") -> Path:
        """A fresh clone at ``ref``, like actions/checkout with fetch-depth 0."""
        dest = self.tmp / f"runner-{uuid.uuid4().hex[:8]}"
        subprocess.run(["git", "clone", "-q", str(self.path), str(dest)], check=True)
        if ref != "main":
            git(dest, "checkout", "-q", "-b", ref, f"origin/{ref}")
        return dest

    def consumer_sees(self) -> dict[str, list[int]]:
        c = Zoo.open(self.remote.as_uri(), cache_dir=self.tmp / f"cache-{uuid.uuid4().hex}")
        return {str(s): c.versions(s) for s in c.stubs()}


def test_the_ci_workflow_gates_a_pull_request_and_publishes_after_the_merge(tmp_path: Path, model_dir: Path) -> None:
    origin = Origin(tmp_path)
    alice = Zoo.open(origin.runner())
    branch = alice.publish(model_dir, STUB, branch="").branch or ""
    git(alice.root, "push", "-q", "origin", branch)

    pr = origin.runner(branch)
    ran = run_steps("review", pr)
    assert [r.returncode for r in ran] == [0] * len(steps("review")), [r.stderr for r in ran]
    assert STUB in (pr / "review.md").read_text()
    assert origin.consumer_sees() == {}  # reviewed, not merged: nobody without git sees it

    git(alice.root, "checkout", "-q", "main")
    git(alice.root, "merge", "-q", "--no-ff", "-m", "Merge the reviewed v1", branch)
    git(alice.root, "push", "-q", "origin", "main")
    assert origin.consumer_sees() == {}
    ran = run_steps("push", origin.runner())
    assert [r.returncode for r in ran] == [0] * len(steps("push")), [r.stderr for r in ran]
    assert "the remote now lists main" in ran[0].stdout
    assert origin.consumer_sees() == {STUB: [1]}


def test_the_ci_gate_fails_a_pull_request_with_a_forged_metric(tmp_path: Path, model_dir: Path) -> None:
    origin = Origin(tmp_path)
    alice = Zoo.open(origin.runner())
    branch = alice.publish(model_dir, STUB, branch="").branch or ""
    git(alice.root, "checkout", "-q", branch)
    manifest = alice.manifests_dir / STUB / "v1" / "manifest.yaml"
    text = manifest.read_text()
    forged = re.sub(r"(value: )[0-9.]+", r"\g<1>99.9", text, count=1)
    assert forged != text, "the demo model's manifest records a metric"
    manifest.write_text(forged)
    git(alice.root, "commit", "-q", "-am", "Better numbers")
    git(alice.root, "push", "-q", "origin", branch)

    ran = run_steps("review", origin.runner(branch))
    gate = ran[-1]
    assert gate.returncode != 0 and "[card-fields]" in gate.stdout + gate.stderr, (gate.stdout, gate.stderr)
    assert origin.consumer_sees() == {}


def test_the_pre_commit_hook_refuses_a_rewritten_version(tmp_path: Path, model_dir: Path) -> None:
    hooks = yaml.safe_load((EXAMPLES / "pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    entry = next(h["entry"] for h in hooks if h["id"] == "zoo-check")
    origin = Origin(tmp_path)
    alice = Zoo.open(origin.runner())
    alice.publish(model_dir, STUB)
    git(alice.root, "push", "-q", "origin", "main")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", entry], cwd=alice.root, env=env, capture_output=True, text=True)

    assert hook().returncode == 0, hook().stdout
    card = alice.manifests_dir / STUB / "v1" / "model.md"
    card.write_text(card.read_text() + "\nrewritten after publishing\n")
    refused = hook()
    assert refused.returncode != 0 and "[immutable]" in refused.stdout + refused.stderr


@pytest.fixture(autouse=True)
def _outside_any_zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
