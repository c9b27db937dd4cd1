"""A team's workflow against a real remote: several publishers (git clones of one
origin), branches, review, merge, the CI push, and consumers with only a URL.

Every scenario ends by asking what a git-less consumer lists and pulls: never a
version or alias that is not on the release branch, and never a broken remote.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import STUB, tree_bytes
from tests.remote.conftest import Backend
from zoo_repo import Zoo
from zoo_repo.errors import Claimed, ProjectionMoved

pytestmark = pytest.mark.backends("dir", "s3")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout


class Team:
    def __init__(self, backend: Backend, tmp_path: Path) -> None:
        self.backend, self.tmp = backend, tmp_path
        seed = Zoo.init(tmp_path / "seed", remote=backend.url, remote_options=backend.options)
        self.origin = tmp_path / "origin.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(seed.root), str(self.origin)], check=True)

    def member(self, name: str) -> Zoo:
        """A publisher's (or CI's) fresh clone of origin: its own store, nothing shared but git and the remote."""
        dest = self.tmp / name
        subprocess.run(["git", "clone", "-q", str(self.origin), str(dest)], check=True)
        return Zoo.open(dest)

    def consumer(self) -> Zoo:
        """Someone on another machine with only the remote's URL (and, for S3, credentials)."""
        url = self.backend.url if "://" in self.backend.url else Path(self.backend.url).as_uri()
        return Zoo.open(url, remote_options=self.backend.options, cache_dir=self.tmp / f"cache-{uuid.uuid4().hex}")

    def seen(self) -> dict[str, tuple[dict[int, str], dict[str, int]]]:
        """stub → (version → manifest digest, aliases), as a consumer sees them now."""
        c = self.consumer()
        return {str(s): ({v: c.digest(s, v) for v in c.versions(s)}, c.aliases(s)) for s in c.stubs()}


def committed(zoo: Zoo, version: int) -> str:
    """The digest of a version's manifest as committed on the checkout's current branch."""
    text = git(zoo.root, "show", f"HEAD:manifests/{STUB}/v{version}/manifest.yaml")
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def pulled(team: Team, ref: str, dest: Path) -> dict[str, str]:
    result = team.consumer().pull(ref, dest=dest)
    return {p: hashlib.sha256(b).hexdigest() for p, b in tree_bytes(result.dest).items()}


def vary(model_dir: Path, text: str) -> Path:
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(text.encode())
    return model_dir


@pytest.mark.parametrize("first", ["alice", "bob"])
def test_two_publishers_of_one_stub_first_wins_and_the_other_pulls(
        backend: Backend, tmp_path: Path, model_dir: Path, first: str) -> None:
    team = Team(backend, tmp_path)
    people = {"alice": team.member("alice"), "bob": team.member("bob")}
    winner, loser = people[first], people["bob" if first == "alice" else "alice"]
    won = winner.publish(vary(model_dir, "winner"), STUB)
    assert won.listed and won.manifest.version == 1
    before = git(loser.root, "rev-parse", "HEAD")
    with pytest.raises(ProjectionMoved, match="another checkout published or tagged since"):
        loser.publish(vary(model_dir, "loser"), STUB)
    assert git(loser.root, "rev-parse", "HEAD") == before and not (loser.manifests_dir / STUB).exists()
    assert team.seen() == {STUB: ({1: committed(winner, 1)}, {})}

    git(winner.root, "push", "-q", "origin", "main")
    git(loser.root, "pull", "-q", "--no-rebase", "origin", "main")
    second = loser.publish(model_dir, STUB)
    assert second.listed and second.manifest.version == 2
    assert team.seen() == {STUB: ({1: committed(winner, 1), 2: committed(loser, 2)}, {})}
    got = pulled(team, f"{STUB}@v1", tmp_path / "out")
    assert got["sample-labels/lab-0000.npy"] == hashlib.sha256(b"winner").hexdigest()


def test_two_publishers_at_once_one_commits_the_other_is_told(
        backend: Backend, tmp_path: Path, model_dir: Path) -> None:
    team = Team(backend, tmp_path)
    people = [team.member("alice"), team.member("bob")]
    dirs = []
    for i in range(len(people)):
        d = tmp_path / f"model-{i}"
        subprocess.run(["cp", "-r", str(model_dir), str(d)], check=True)
        dirs.append(vary(d, f"publisher {i}"))
    procs = [subprocess.Popen([sys.executable, "-m", "zoo_repo", "publish", str(d), "--stub", STUB],
                              cwd=zoo.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for zoo, d in zip(people, dirs, strict=True)]
    outs = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in outs)
    assert codes == [0, 1], outs
    winner = people[[code for code, _, _ in outs].index(0)]
    _, _, err = next(o for o in outs if o[0] == 1)
    lines = err.strip().splitlines()
    assert "another checkout" in lines[0] and "Traceback" not in err, err
    loser = people[1] if winner is people[0] else people[0]
    assert git(loser.root, "log", "--format=%s").splitlines() == ["Create zoo"]
    assert not (loser.manifests_dir / STUB / "v1").exists() and loser.versions(STUB) == []
    assert team.seen() == {STUB: ({1: committed(winner, 1)}, {})}


def test_a_stale_clone_pushing_never_rolls_the_remote_back(backend: Backend, tmp_path: Path, model_dir: Path) -> None:
    team = Team(backend, tmp_path)
    alice = team.member("alice")
    alice.publish(model_dir, STUB)
    alice.tag(f"{STUB}@v1", "stable")
    git(alice.root, "push", "-q", "origin", "main")
    stale = team.member("stale")  # one step behind from here on
    alice.publish(vary(model_dir, "v2"), STUB)
    alice.tag(f"{STUB}@v2", "stable")
    git(alice.root, "push", "-q", "origin", "main")
    expected = {STUB: ({1: committed(alice, 1), 2: committed(alice, 2)}, {"stable": 2})}
    assert team.seen() == expected

    with pytest.raises(ProjectionMoved, match="does not have: another checkout published or tagged since"):
        stale.push()
    head = git(stale.root, "rev-parse", "HEAD")
    with pytest.raises(ProjectionMoved):
        stale.tag(f"{STUB}@v1", "candidate")  # refused before committing: nothing to undo
    assert git(stale.root, "rev-parse", "HEAD") == head
    assert "candidate" not in (stale.manifests_dir / STUB / "aliases.yaml").read_text()
    assert team.seen() == expected
    git(stale.root, "pull", "-q", "origin", "main")
    assert stale.push().projection is not None and not stale.push().projection.moved  # type: ignore[union-attr]
    assert team.seen() == expected


def test_branch_publish_review_merge_then_ci_push(backend: Backend, tmp_path: Path, model_dir: Path) -> None:
    from zoo_repo.review.check import check

    team = Team(backend, tmp_path)
    alice = team.member("alice")
    result = alice.publish(model_dir, STUB, branch="")
    assert result.branch == f"publish/{STUB}/v1" and not result.listed
    assert team.seen() == {}  # on a branch: objects are up (review checks them), nothing is listed
    git(alice.root, "push", "-q", "origin", result.branch)

    reviewer = team.member("reviewer")
    git(reviewer.root, "checkout", "-q", "-b", "review", f"origin/{result.branch}")
    report = check(reviewer, base="main", remote=True)
    assert report.ok, [p.line() for p in report.problems]
    git(reviewer.root, "checkout", "-q", "main")
    git(reviewer.root, "merge", "-q", "--no-ff", "-m", "Merge v1", "review")
    git(reviewer.root, "push", "-q", "origin", "main")
    assert team.seen() == {}  # merged in git; consumers see it once CI pushes

    ci = team.member("ci")  # a fresh machine: an empty store, everything on the remote already
    pushed = ci.push()
    assert pushed.objects == 0 and pushed.projection is not None and pushed.projection.added == (f"{STUB}@v1",)
    assert team.seen() == {STUB: ({1: committed(ci, 1)}, {})}
    got = pulled(team, STUB, tmp_path / "out")
    assert got == {f.path: f.sha256 for f in result.manifest.files}
    assert check(ci, remote=True).ok


def test_a_tag_on_a_branch_moves_nothing_consumers_see(backend: Backend, tmp_path: Path, model_dir: Path) -> None:
    team = Team(backend, tmp_path)
    alice = team.member("alice")
    alice.publish(model_dir, STUB)
    alice.publish(vary(model_dir, "v2"), STUB)
    alice.tag(f"{STUB}@v1", "stable")
    git(alice.root, "checkout", "-q", "-b", "throwaway")
    alice.tag(f"{STUB}@v2", "stable")
    alice.tag(f"{STUB}@v2", "candidate")
    assert alice.push().projection is None  # pushing from the branch moves nothing either: only main is
    assert team.seen()[STUB][1] == {"stable": 1}
    git(alice.root, "checkout", "-q", "main")
    git(alice.root, "branch", "-q", "-D", "throwaway")
    assert team.seen()[STUB][1] == {"stable": 1}


def test_a_discarded_no_commit_publish_is_never_listed_nor_blocks_the_next(
        backend: Backend, tmp_path: Path, model_dir: Path) -> None:
    import shutil

    team = Team(backend, tmp_path)
    alice = team.member("alice")
    phantom = alice.publish(vary(model_dir, "phantom"), STUB, commit=False)
    assert phantom.commit is None and not phantom.listed
    assert team.seen() == {}
    shutil.rmtree(alice.manifests_dir / STUB)
    real = alice.publish(vary(model_dir, "real"), STUB)
    assert real.manifest.version == 1 and real.listed
    assert team.seen() == {STUB: ({1: committed(alice, 1)}, {})}


def test_two_branches_adding_the_same_version_fail_the_gate(backend: Backend, tmp_path: Path, model_dir: Path) -> None:
    from zoo_repo.review.check import check

    team = Team(backend, tmp_path)
    alice, bob = team.member("alice"), team.member("bob")
    bob_branch = bob.publish(vary(model_dir, "bob"), STUB, branch="").branch
    alice.publish(vary(model_dir, "alice"), STUB)  # straight on main: v1 is alice's
    git(bob.root, "checkout", "-q", bob_branch or "")
    report = check(bob, base="main", remote=True)
    lines = [p.line() for p in report.problems if p.rule == "remote-version"]
    assert len(lines) == 1 and f"{STUB}/v1/manifest.yaml" in lines[0] and "another checkout" in lines[0], lines
    with pytest.raises((Claimed, ProjectionMoved), match="another checkout"):  # merged anyway: the push refuses
        git(bob.root, "checkout", "-q", "main")
        git(bob.root, "merge", "-q", bob_branch or "")
        bob.push()
    assert team.seen() == {STUB: ({1: committed(alice, 1)}, {})}


def test_doctor_says_how_the_remote_stands_to_main(backend: Backend, tmp_path: Path, model_dir: Path) -> None:
    from zoo_repo.ops.doctor import projection_check

    team = Team(backend, tmp_path)
    alice, late = team.member("alice"), team.member("late")
    assert projection_check(alice, alice.remote()).ok  # nothing published, nothing to list
    alice.publish(model_dir, STUB)
    assert projection_check(alice, alice.remote()).ok
    ahead = projection_check(late, late.remote())
    assert not ahead.ok and "this checkout has not seen" in ahead.detail and ahead.fix == "git pull"
    alice.publish(vary(model_dir, "v2"), STUB, commit=False)
    git(alice.root, "add", "manifests")
    git(alice.root, "commit", "-q", "-m", "v2 by hand")
    behind = projection_check(alice, alice.remote())
    assert not behind.ok and "is behind main" in behind.detail and behind.fix == "zoo push"
    alice.push()
    assert projection_check(alice, alice.remote()).ok


def test_tagging_again_on_main_brings_the_remote_up_to_date(backend: Backend, tmp_path: Path, model_dir: Path) -> None:
    team = Team(backend, tmp_path)
    alice = team.member("alice")
    alice.publish(model_dir, STUB)
    alice.publish(vary(model_dir, "v2"), STUB)
    aliases = alice.manifests_dir / STUB / "aliases.yaml"
    aliases.write_text("stable: v2\n")  # committed by hand: the remote does not know yet
    git(alice.root, "add", str(aliases))
    git(alice.root, "commit", "-q", "-m", "stable is v2")
    assert team.seen()[STUB][1] == {}
    alice.tag(f"{STUB}@v2", "stable")  # nothing to commit, but the remote follows main now
    assert team.seen()[STUB][1] == {"stable": 2}
    assert git(alice.root, "log", "-1", "--format=%s").strip() == "stable is v2"
