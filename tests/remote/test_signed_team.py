"""Signed versions through a team's real workflow, on every kind of remote: a
publisher signs on a branch, a reviewer approves in the pull request or CI
approves after the merge with a release key, CI pushes, and a consumer on
another machine (only the URL, or only a lockfile) who pinned the maintainers
pulls exactly what they approved. Whatever the bucket is made to hold after
that, the consumer fails closed with one line and nothing placed.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import STUB
from tests.keys import Keys, make_keys
from tests.remote.conftest import Backend
from zoo_repo import Zoo
from zoo_repo.core.trust import SIGNATURES
from zoo_repo.errors import Unsigned

pytestmark = pytest.mark.backends("dir", "s3", "gcs", "azure")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout


class Team:
    def __init__(self, backend: Backend, tmp_path: Path, maintainers: dict[str, Keys]) -> None:
        self.backend, self.tmp = backend, tmp_path
        seed = Zoo.init(tmp_path / "seed", remote=backend.url, remote_options=backend.options)
        for name, keys in maintainers.items():
            seed.add_signer(name, keys.public)
        git(seed.root, "add", "trust.yaml")
        git(seed.root, "commit", "-qm", "Trust the maintainers")
        self.origin = tmp_path / "origin.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(seed.root), str(self.origin)], check=True)

    def member(self, name: str) -> Zoo:
        dest = self.tmp / name
        subprocess.run(["git", "clone", "-q", str(self.origin), str(dest)], check=True)
        return Zoo.open(dest)

    @property
    def url(self) -> str:
        return self.backend.url if "://" in self.backend.url else Path(self.backend.url).as_uri()

    def consumer(self, **trust: Keys) -> Zoo:
        """Another machine: the URL, credentials, its own cache, and the signers it pinned."""
        return Zoo.open(self.url, remote_options=self.backend.options, cache_dir=self.tmp / f"c-{uuid.uuid4().hex}",
                        trust={name: keys.public for name, keys in trust.items()})


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Keys]:
    return {name: make_keys(tmp_path / "keys" / name) for name in ("alice", "release", "bob", "mallory")}


def sig_keys(backend: Backend, version: int) -> list[str]:
    prefix = f"zoo/manifests/{STUB}/v{version}/{SIGNATURES}/"
    return sorted(k for k in backend.keys() if k.startswith(prefix))


def test_approved_in_the_pull_request_then_pushed_the_consumer_pulls_it(
        backend: Backend, tmp_path: Path, model_dir: Path, keys: dict[str, Keys]) -> None:
    team = Team(backend, tmp_path, {"alice": keys["alice"]})
    bob = team.member("bob")
    published = bob.publish(model_dir, STUB, branch="", run=False, sign_key=keys["bob"].private)
    git(bob.root, "push", "-q", "origin", published.branch)

    alice = team.member("alice")  # the reviewer: checks out the pull request, approves it there
    git(alice.root, "checkout", "-q", "-b", "review", f"origin/{published.branch}")
    approved = alice.approve(f"{STUB}@v1", keys["alice"].private)
    assert approved.added and approved.name == "alice" and not approved.listed  # a branch: nothing listed
    git(alice.root, "checkout", "-q", "main")
    git(alice.root, "merge", "-q", "--no-ff", "-m", "Merge v1", "review")
    git(alice.root, "push", "-q", "origin", "main")
    assert sig_keys(backend, 1) == []  # merged in git; mirrored once CI pushes

    ci = team.member("ci")
    ci.push()
    assert len(sig_keys(backend, 1)) == 2  # the publisher's and the approval, beside the manifest
    pulled = team.consumer(alice=keys["alice"]).pull(STUB, dest=tmp_path / "out")
    assert pulled.signed is not None and pulled.signed.approvers == ("alice",)

    with pytest.raises(Unsigned, match="needs 1 approval by mallory"):
        team.consumer(mallory=keys["mallory"]).pull(STUB, dest=tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()


def test_ci_approves_what_the_merge_added_with_a_release_key(
        backend: Backend, tmp_path: Path, model_dir: Path, keys: dict[str, Keys]) -> None:
    team = Team(backend, tmp_path, {"release": keys["release"]})
    bob = team.member("bob")
    before = git(bob.root, "rev-parse", "HEAD").strip()
    bob.publish(model_dir, STUB, run=False)  # straight to main: listed, but not yet approved
    git(bob.root, "push", "-q", "origin", "main")
    with pytest.raises(Unsigned):
        team.consumer(release=keys["release"]).pull(STUB, dest=tmp_path / "early")

    ci = team.member("ci")  # after the merge: the gate passed, CI approves what it added
    results = ci.approve_added(before, keys["release"].private)
    assert [(r.ref, r.added, r.listed) for r in results] == [(f"{STUB}@v1", True, True)]
    git(ci.root, "push", "-q", "origin", "main")
    assert ci.approve_added(before, keys["release"].private)[0].added is False  # again: nothing new

    lock = ci.lock([STUB], tmp_path / "zoo.lock")
    assert lock.trust is not None and [s.name for s in lock.trust.signers] == ["release"]
    second = Zoo.open(tmp_path / "zoo.lock", remote_options=backend.options, cache_dir=tmp_path / "second")
    pulled = second.pull(STUB, dest=tmp_path / "out")
    assert pulled.signed is not None and pulled.signed.approvers == ("release",)


def test_a_bucket_that_loses_or_gains_signatures_fails_closed(
        backend: Backend, tmp_path: Path, model_dir: Path, keys: dict[str, Keys]) -> None:
    team = Team(backend, tmp_path, {"alice": keys["alice"]})
    alice = team.member("alice")
    alice.publish(model_dir, STUB, run=False, sign_key=keys["alice"].private)
    alice.approve(f"{STUB}@v1", keys["alice"].private)
    git(alice.root, "push", "-q", "origin", "main")
    [publisher, approval] = sorted(sig_keys(backend, 1), key=lambda k: "approval" in k)
    assert "approval" in approval

    # Someone with write access to the bucket, but no maintainer's key:
    backend.objects.delete(approval)  # takes the approval away,
    mallory = make_keys(tmp_path / "m2")
    mallory_approves = team.member("mallory")  # and adds one of their own, named like a real one
    bundle = mallory_approves.approve(f"{STUB}@v1", mallory.private, commit=False).path.read_bytes()
    backend.objects.write(approval.rsplit("/", 1)[0] + "/" + Path(approval).name, bundle)
    with pytest.raises(Unsigned) as err:
        team.consumer(alice=keys["alice"]).pull(STUB, dest=tmp_path / "out")
    assert "needs 1 approval by alice" in str(err.value)
    assert not (tmp_path / "out").exists()
