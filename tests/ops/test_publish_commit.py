"""A publish's commit costs what it touches (``repo.gitcommit.commit`` builds it from the trees
along the version's path), and leaves git exactly as `git add` + `git commit --only`
would: the index up to date, other staged work staged, a concurrent commit kept, and
a killed publish nothing a later commit by the user could lose or half-record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.repo import gitcommit


@pytest.fixture
def plumbed(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """What each commit's plumbing returned (None: it left the commit to `git commit`)."""
    made: list[str | None] = []
    plumbing = gitcommit._commit_touched
    monkeypatch.setattr(gitcommit, "_commit_touched", lambda *a: made.append(plumbing(*a)) or made[-1])
    return made


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def _version_files(version: int) -> list[str]:
    return [f"manifests/{STUB}/v{version}/{name}" for name in ("manifest.yaml", "model.dvc", "model.md")]


def _hook(zoo: Zoo, name: str, body: str) -> Path:
    hook = zoo.root / ".git" / "hooks" / name
    hook.write_text("#!/bin/sh\n" + body)
    hook.chmod(0o755)
    return hook


def test_publish_commits_the_version_alone_and_leaves_status_clean(cli, zoo: Zoo, model_dir: Path,  # type: ignore[no-untyped-def]
                                                                   plumbed: list[str | None]) -> None:
    result = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB)
    assert result.exit_code == 0, result.stderr
    assert plumbed == [_git(zoo.root, "rev-parse", "HEAD").strip()]
    assert _git(zoo.root, "status", "--porcelain") == ""
    assert _git(zoo.root, "diff-files") == ""  # the index has the files' stat data: nothing to refresh
    assert _git(zoo.root, "log", "-1", "--name-status", "--format=").split() == \
        [w for f in _version_files(1) for w in ("A", f)]
    subject, author = _git(zoo.root, "log", "-1", "--format=%s%n%an <%ae>").splitlines()
    assert subject.startswith(f"Publish {STUB}@v1 (") and author == "Test Publisher <publisher@example.com>"
    assert _git(zoo.root, "reflog", "-1", "--format=%gs").strip() == f"commit: {subject}"
    assert _git(zoo.root, "fsck", "--no-dangling") == ""
    # The user's next commit records only what they change.
    (zoo.root / "notes.txt").write_text("mine\n")
    _git(zoo.root, "add", "notes.txt")
    _git(zoo.root, "commit", "-q", "-m", "notes")
    assert _git(zoo.root, "log", "-1", "--name-status", "--format=").split() == ["A", "notes.txt"]
    assert zoo.versions(STUB) == [1] and zoo.verify().ok


def test_unrelated_staged_and_unstaged_changes_stay_as_they_were(zoo: Zoo, model_dir: Path,
                                                                 plumbed: list[str | None]) -> None:
    (zoo.root / "notes.txt").write_text("staged\n")
    _git(zoo.root, "add", "notes.txt")
    with open(zoo.root / ".gitignore", "a") as f:
        f.write("# edited, not staged\n")
    zoo.publish(model_dir, STUB)
    assert plumbed and plumbed[0] is not None
    assert _git(zoo.root, "log", "-1", "--name-only", "--format=").split() == _version_files(1)
    assert _git(zoo.root, "diff", "--cached", "--name-status").split() == ["A", "notes.txt"]
    assert _git(zoo.root, "diff", "--name-only").split() == [".gitignore"]
    assert sorted(_git(zoo.root, "status", "--porcelain").splitlines()) == [" M .gitignore", "A  notes.txt"]


def test_a_commit_landing_meanwhile_is_built_upon_not_lost(zoo: Zoo, model_dir: Path,
                                                           plumbed: list[str | None]) -> None:
    """Another commit lands after the version is staged and before HEAD moves (the
    post-index-change hook runs in that gap): the version goes on top of it."""
    (zoo.root / "theirs.txt").write_text("theirs\n")
    marker = zoo.root.parent / "landed"
    _hook(zoo, "post-index-change",
          f'[ -e "{marker}" ] && exit 0\ntouch "{marker}"\n'
          'git add theirs.txt && git commit -q -m "their commit" -- theirs.txt\n')
    result = zoo.publish(model_dir, STUB)
    assert marker.exists() and plumbed == [result.commit]
    assert _git(zoo.root, "log", "-2", "--format=%s").splitlines()[1] == "their commit"
    assert _git(zoo.root, "rev-parse", "HEAD").strip() == result.commit
    assert _git(zoo.root, "log", "-1", "--name-only", "--format=").split() == _version_files(1)
    assert "theirs.txt" in _git(zoo.root, "ls-tree", "--name-only", "HEAD")
    assert _git(zoo.root, "status", "--porcelain") == ""
    assert zoo.versions(STUB) == [1] and zoo.verify().ok


def test_a_commit_of_the_staged_version_meanwhile_is_the_publish(zoo: Zoo, model_dir: Path,
                                                                 plumbed: list[str | None]) -> None:
    """The user commits everything staged in that gap, the version with it: nothing is
    committed twice or taken back, and the publish reports the commit that holds it."""
    marker = zoo.root.parent / "landed"
    _hook(zoo, "post-index-change", f'[ -e "{marker}" ] && exit 0\ntouch "{marker}"\ngit commit -q -m "all of it"\n')
    result = zoo.publish(model_dir, STUB)
    assert marker.exists() and plumbed == [result.commit]
    assert _git(zoo.root, "log", "-1", "--format=%s").strip() == "all of it"
    assert _git(zoo.root, "rev-parse", "HEAD").strip() == result.commit
    assert _git(zoo.root, "log", "-1", "--name-only", "--format=").split() == _version_files(1)
    assert _git(zoo.root, "status", "--porcelain") == ""
    assert zoo.versions(STUB) == [1]


def test_a_killed_publish_commits_nothing_and_the_next_one_finishes_it(zoo: Zoo, model_dir: Path) -> None:
    """Killed once the version is staged and before HEAD moves: no commit, no lock left,
    the version staged whole (as after `git add`); publishing again commits it."""
    head = _git(zoo.root, "rev-parse", "HEAD").strip()
    marker = zoo.root.parent / "staged"
    hook = _hook(zoo, "post-index-change", f'touch "{marker}"\nsleep 60\n')
    proc = subprocess.Popen([sys.executable, "-m", "zoo_repo", "publish", str(model_dir), "--stub", STUB],
                            cwd=zoo.root, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the publish ended before staging its version"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    hook.unlink()
    assert _git(zoo.root, "rev-parse", "HEAD").strip() == head
    assert not (zoo.root / ".git" / "index.lock").exists()
    assert sorted(_git(zoo.root, "status", "--porcelain").splitlines()) == [f"A  {f}" for f in _version_files(1)]
    again = Zoo.open(zoo.root).publish(model_dir, STUB)
    assert not again.created and again.manifest.version == 1
    assert _git(zoo.root, "log", "-1", "--name-only", "--format=").split() == _version_files(1)
    assert _git(zoo.root, "status", "--porcelain") == ""
    assert Zoo.open(zoo.root).verify().ok


def test_a_zoo_with_commit_hooks_gets_git_commit_itself(zoo: Zoo, model_dir: Path,
                                                        plumbed: list[str | None]) -> None:
    """The hooks `git commit` runs still run: such a commit is left to the porcelain."""
    log = zoo.root.parent / "hooks.log"
    for name in ("pre-commit", "commit-msg", "post-commit"):
        _hook(zoo, name, f'echo {name} >> "{log}"\n')
    zoo.publish(model_dir, STUB)
    assert plumbed == [None]
    assert log.read_text().split() == ["pre-commit", "commit-msg", "post-commit"]
    assert _git(zoo.root, "log", "-1", "--name-only", "--format=").split() == _version_files(1)
    assert _git(zoo.root, "status", "--porcelain") == ""
