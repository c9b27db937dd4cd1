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


def steps(job: str, workflow_file: str = "zoo-review.yml") -> list[dict[str, Any]]:
    workflow = yaml.safe_load((EXAMPLES / workflow_file).read_text())
    found = [s for s in workflow["jobs"][job]["steps"] if "run" in s and s.get("name") not in SKIPPED]
    assert found, f"job {job} has no step to run"
    return found


def run_steps(job: str, cwd: Path, workflow_file: str = "zoo-review.yml",
              github: dict[str, str] | None = None) -> list[subprocess.CompletedProcess[str]]:
    """Every step of ``job`` in order, stopping at the first that fails (as Actions does).
    ``github`` fills ``${{ … }}`` expressions (``github.base_ref`` is main); a step's
    ``env:`` is set with them filled in too."""
    values = {"github.base_ref": "main", **(github or {})}

    def filled(text: str) -> str:
        out = re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), text)
        assert "${{" not in out, out
        return out

    temp = cwd.parent / f"{cwd.name}-temp"  # what Actions gives each job as RUNNER_TEMP
    temp.mkdir(exist_ok=True)
    base = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "RUNNER_TEMP": str(temp)}
    done = []
    for step in steps(job, workflow_file):
        env = {**base, **{k: filled(str(v)) for k, v in (step.get("env") or {}).items()}}
        done.append(subprocess.run(["bash", "-e", "-c", filled(step["run"])], cwd=cwd, env=env,
                                   capture_output=True, text=True, timeout=300))
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


def test_the_release_workflow_approves_what_a_merge_added(tmp_path: Path, model_dir: Path) -> None:
    """docs/examples/zoo-signed-release.yml: after a merge, CI approves with the release
    key, commits the approvals to main, lists the versions; a consumer who pinned the
    release key then pulls them, and nothing before."""
    from tests.keys import make_keys
    from zoo_repo.errors import Unsigned

    release = make_keys(tmp_path / "release")
    origin = Origin(tmp_path)
    maintainer = Zoo.open(origin.runner())
    maintainer.add_signer("release", release.public)
    git(maintainer.root, "add", "trust.yaml")
    git(maintainer.root, "commit", "-qm", "Trust the release key")
    before = git(maintainer.root, "rev-parse", "HEAD").strip()
    git(maintainer.root, "push", "-q", "origin", "main")
    branch = maintainer.publish(model_dir, STUB, branch="").branch or ""
    git(maintainer.root, "merge", "-q", "--no-ff", "-m", "Merge v1", branch)
    git(maintainer.root, "push", "-q", "origin", "main")

    secrets = {"github.event.before": before, "secrets.ZOO_RELEASE_KEY": release.private.read_text().strip(),
               "secrets.AWS_ACCESS_KEY_ID": "", "secrets.AWS_SECRET_ACCESS_KEY": ""}
    runner = origin.runner()
    ran = run_steps("release", runner, "zoo-signed-release.yml", secrets)
    assert [r.returncode for r in ran] == [0] * len(steps("release", "zoo-signed-release.yml")), \
        [r.stdout + r.stderr for r in ran]
    assert f"{STUB}@v1 approved by release" in ran[1].stdout
    assert not list(runner.parent.glob(f"{runner.name}-temp/*"))  # the key file is gone
    log = git(origin.runner(), "log", "-1", "--format=%s", "main").strip()
    assert log == f"Approve {STUB}@v1 (release)"

    pinned = Zoo.open(origin.remote.as_uri(), cache_dir=tmp_path / "consumer", trust={"release": release.public})
    assert pinned.pull(STUB, dest=tmp_path / "out").signed is not None
    other = make_keys(tmp_path / "other")
    with pytest.raises(Unsigned):
        Zoo.open(origin.remote.as_uri(), cache_dir=tmp_path / "c2", trust={"x": other.public}).pull(
            STUB, dest=tmp_path / "no")


@pytest.fixture(autouse=True)
def _outside_any_zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
