"""Signed versions: a publisher and a reviewer sign, a consumer who pinned the
maintainers pulls only what a maintainer approved, from a checkout, a lockfile
or the remote alone, and every tampering fails closed with one line.

Real EC keys, real git, a directory remote; the signatures are the real
``model_signing`` bundles (``tests/model/test_signature.py`` checks them with
the ``model_signing`` CLI both ways).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import STUB, clone
from tests.keys import Keys, make_keys
from zoo_repo import Zoo
from zoo_repo.core.trust import SIGNATURES
from zoo_repo.errors import Unsigned
from zoo_repo.model import signature


@dataclass
class Team:
    zoo: Zoo  # the maintainers' checkout, on main
    remote: Path
    alice: Keys  # a maintainer: listed in trust.yaml
    bob: Keys  # a publisher: not a maintainer
    mallory: Keys  # nobody's

    @property
    def url(self) -> str:
        return self.remote.as_uri()

    def version_dir(self, number: int) -> Path:
        return self.zoo.root / "manifests" / STUB / f"v{number}"

    def remote_signatures(self, number: int) -> Path:
        return self.remote / "zoo" / "manifests" / STUB / f"v{number}" / SIGNATURES


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def team(tmp_path: Path, model_dir: Path) -> Team:
    keys = {name: make_keys(tmp_path / "keys" / name) for name in ("alice", "bob", "mallory")}
    zoo = Zoo.init(tmp_path / "zoo", remote=str(tmp_path / "remote"))
    zoo.add_signer("alice", keys["alice"].public)
    git(zoo.root, "add", "trust.yaml")
    git(zoo.root, "commit", "-qm", "Trust alice")
    zoo.publish(model_dir, STUB, run=False, sign_key=keys["bob"].private)
    return Team(zoo, tmp_path / "remote", keys["alice"], keys["bob"], keys["mallory"])


def consumer(team: Team, tmp_path: Path, **kw: object) -> Zoo:
    return Zoo.open(team.url, cache_dir=tmp_path / "consumer-cache", trust={"alice": team.alice.public}, **kw)


def test_publish_signs_in_the_same_commit_and_the_remote_mirrors_it(team: Team) -> None:
    sigs = sorted((team.version_dir(1) / SIGNATURES).iterdir())
    assert [p.name.split("-", 1)[1] for p in sigs] == ["publisher.sig"]
    assert git(team.zoo.root, "status", "--porcelain") == ""
    assert (team.remote_signatures(1) / sigs[0].name).read_bytes() == sigs[0].read_bytes()
    seen = team.zoo.signatures(f"{STUB}@v1")
    assert [(s.role, s.problem) for s in seen] == [("publisher", "signed by a key that trust.yaml does not list")]
    team.zoo.add_signer("bob", team.bob.public)
    assert [(s.role, s.problem) for s in team.zoo.signatures(f"{STUB}@v1")] == [("publisher", None)]


def test_an_unapproved_version_is_not_placed_for_a_pinned_consumer(team: Team, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    with pytest.raises(Unsigned) as err:
        consumer(team, tmp_path).pull(STUB, dest=dest)
    assert str(err.value) == (f"{STUB}@v1 needs 1 approval by alice (trust=); found publisher signature by key "
                              f"{next((team.version_dir(1) / SIGNATURES).iterdir()).name[:16]} "
                              "(signed by a key that is not pinned)")
    assert err.value.exit_code == 2
    assert not dest.exists()


def test_after_a_maintainer_approves_the_consumer_pulls_it(team: Team, tmp_path: Path) -> None:
    result = team.zoo.approve(f"{STUB}@v1", team.alice.private)
    assert (result.added, result.listed, result.name) == (True, True, "alice")
    assert git(team.zoo.root, "log", "-1", "--format=%s").strip() == f"Approve {STUB}@v1 (alice)"
    again = team.zoo.approve(f"{STUB}@v1", team.alice.private)
    assert not again.added  # append-only: one per signer and role
    pulled = consumer(team, tmp_path).pull(STUB, dest=tmp_path / "out")
    assert pulled.signed is not None and pulled.signed.approvers == ("alice",)
    assert (tmp_path / "out" / "model.onnx").exists()


def test_a_lockfile_carries_the_maintainers_to_a_second_machine(team: Team, tmp_path: Path) -> None:
    team.zoo.approve(f"{STUB}@v1", team.alice.private)
    lock = team.zoo.lock([STUB], tmp_path / "zoo.lock")
    assert lock.trust is not None and [s.name for s in lock.trust.signers] == ["alice"]
    assert "sha256:" in (tmp_path / "zoo.lock").read_text()
    # Only the lockfile, a new cache: keys come from the remote's copy of trust.yaml,
    # trusted only because their fingerprints are the lockfile's.
    second = Zoo.open(tmp_path / "zoo.lock", cache_dir=tmp_path / "second")
    pulled = second.pull(STUB, dest=tmp_path / "out")
    assert pulled.signed is not None and pulled.signed.approvers == ("alice",)


def test_an_approval_by_an_unpinned_key_does_not_count(team: Team, tmp_path: Path) -> None:
    team.zoo.approve(f"{STUB}@v1", team.mallory.private)
    unpinned = r"approval by key [0-9a-f]{16} \(signed by a key that is not pinned\)"
    with pytest.raises(Unsigned, match=r"needs 1 approval by alice .*" + unpinned):
        consumer(team, tmp_path).pull(STUB, dest=tmp_path / "out")


def test_a_signature_copied_from_v1_to_v2_is_refused(team: Team, model_dir: Path, tmp_path: Path) -> None:
    team.zoo.approve(f"{STUB}@v1", team.alice.private)
    (model_dir / "extra.txt").write_text("a second version\n")
    team.zoo.publish(model_dir, STUB, run=False)
    approval = next((team.version_dir(1) / SIGNATURES).glob("*-approval.sig"))
    target = team.remote_signatures(2)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(approval, target / approval.name)  # an attacker with write access to the bucket
    with pytest.raises(Unsigned, match=r"predicate\.resources|names version 'v1'"):
        consumer(team, tmp_path).pull(f"{STUB}@v2", dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_policy_changed_on_the_remote_only_gives_no_trust(team: Team, tmp_path: Path) -> None:
    team.zoo.approve(f"{STUB}@v1", team.mallory.private)
    team.zoo.lock([STUB], tmp_path / "zoo.lock")  # pins alice, as the reviewed trust.yaml says
    # The bucket's trust.yaml now says mallory's key is alice's.
    remote_trust = team.remote / "zoo" / "trust.yaml"
    text = remote_trust.read_text()
    alice_pem = team.alice.public_pem.decode()
    mallory_pem = team.mallory.public_pem.decode()
    remote_trust.write_text(text.replace(alice_pem.strip().replace("\n", "\n      "),
                                         mallory_pem.strip().replace("\n", "\n      ")))
    assert mallory_pem.splitlines()[1] in remote_trust.read_text()
    second = Zoo.open(tmp_path / "zoo.lock", cache_dir=tmp_path / "second")
    with pytest.raises(Unsigned, match="needs 1 approval by alice"):
        second.pull(STUB, dest=tmp_path / "out")


def test_a_removed_signer_no_longer_counts(team: Team, tmp_path: Path) -> None:
    team.zoo.approve(f"{STUB}@v1", team.alice.private)
    carol = make_keys(tmp_path / "carol")
    # alice's key is revoked: the policy now lists carol only; the consumer re-pins from it.
    (team.zoo.root / "trust.yaml").unlink()
    team.zoo.add_signer("carol", carol.public)
    git(team.zoo.root, "commit", "-qam", "Revoke alice")
    team.zoo.lock([STUB], tmp_path / "zoo.lock")
    second = Zoo.open(tmp_path / "zoo.lock", cache_dir=tmp_path / "second")
    unpinned = r"approval by key [0-9a-f]{16} \(signed by a key that is not pinned\)"
    with pytest.raises(Unsigned, match=r"needs 1 approval by carol .*" + unpinned):
        second.pull(STUB, dest=tmp_path / "out")


def test_a_file_changed_on_the_remote_after_signing_is_refused(team: Team, tmp_path: Path) -> None:
    """Same object name, new bytes: the signature still names the old sha256, and the
    bytes are checked against it before they are placed."""
    team.zoo.approve(f"{STUB}@v1", team.alice.private)
    manifest = team.zoo.show(STUB)
    onnx = next(f for f in manifest.files if f.path == "model.onnx")
    obj = team.remote / "files" / "md5" / onnx.md5[:2] / onnx.md5[2:]
    data = bytearray(obj.read_bytes())
    data[-1] ^= 0xFF
    obj.chmod(0o644)
    obj.write_bytes(bytes(data))
    from zoo_repo.errors import IntegrityError

    with pytest.raises(IntegrityError):
        consumer(team, tmp_path).pull(STUB, dest=tmp_path / "out")
    assert not (tmp_path / "out" / "model.onnx").exists()


def test_a_checkout_whose_manifest_was_rewritten_keeps_no_signature(team: Team, tmp_path: Path) -> None:
    """A pull request that edits a signed manifest (here: a new sha256 for a file) and
    keeps its signatures: they vouch for the old manifest, so the pull is refused."""
    team.zoo.approve(f"{STUB}@v1", team.alice.private)
    pr = clone(team.zoo, tmp_path / "pr")
    manifest = pr.root / "manifests" / STUB / "v1" / "manifest.yaml"
    text = manifest.read_text()
    onnx = next(f for f in pr.show(STUB).files if f.path == "model.onnx")
    manifest.write_text(text.replace(onnx.sha256, "a" * 64))
    pinned = Zoo.open(pr.root, trust={"alice": team.alice.public})
    with pytest.raises(Unsigned, match=r"model\.onnx was signed as sha256:[0-9a-f]{64}, the manifest has sha256:a{64}"):
        pinned.pull(STUB, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_allow_unsigned_pulls_and_says_what_was_missing(team: Team, tmp_path: Path) -> None:
    pulled = consumer(team, tmp_path, allow_unsigned=True).pull(STUB, dest=tmp_path / "out")
    assert pulled.signed is not None and pulled.signed.waived is not None
    assert "needs 1 approval by alice" in pulled.signed.waived


def test_a_no_op_pull_verifies_from_the_remembered_verdict(team: Team, tmp_path: Path) -> None:
    team.zoo.approve(f"{STUB}@v1", team.alice.private)
    zoo = consumer(team, tmp_path)
    zoo.pull(STUB, dest=tmp_path / "out")
    again = consumer(team, tmp_path).pull(STUB, dest=tmp_path / "out")
    assert again.fetched_objects == 0 and again.signed is not None and again.signed.approvers == ("alice",)


def test_the_fingerprint_pinned_is_the_keys(team: Team) -> None:
    pins, where = team.zoo.pin_signer("alice", team.alice.public)
    assert pins.signers[0].fingerprint == signature.fingerprint(team.alice.public_pem)
    assert Path(where).is_file()


def test_an_approval_killed_before_its_commit_is_finished_by_the_next(team: Team, tmp_path: Path) -> None:
    """The file is there, the commit is not (the process died in between, or someone put
    a file there by hand): approving again signs anew and commits, never trusting it."""
    done = team.zoo.approve(f"{STUB}@v1", team.alice.private, commit=False)
    done.path.write_bytes(b"left half-written")
    again = team.zoo.approve(f"{STUB}@v1", team.alice.private)
    assert again.added and again.commit is not None
    assert git(team.zoo.root, "status", "--porcelain") == ""
    assert signature.read_envelope(again.path.read_bytes(), "approval").key_hint
    assert consumer(team, tmp_path).pull(STUB, dest=tmp_path / "out").signed is not None


def test_offline_the_cache_answers_only_what_was_verified(team: Team, tmp_path: Path) -> None:
    """Offline, a pinned pull is judged from the cache: an approved version pulled before
    comes again; a version whose signatures the cache lacks is refused, not admitted."""
    team.zoo.approve(f"{STUB}@v1", team.alice.private)
    consumer(team, tmp_path).pull(STUB, dest=tmp_path / "out")
    offline = consumer(team, tmp_path, offline=True)
    assert offline.pull(STUB, dest=tmp_path / "again").signed is not None
    # Someone empties the cached signatures and the remembered verdicts: offline, nothing vouches.
    shutil.rmtree(next((tmp_path / "consumer-cache").glob(f"remotes/*/manifests/{STUB}/v1/{SIGNATURES}")))
    (tmp_path / "consumer-cache" / "stat.sqlite").unlink()
    with pytest.raises(Unsigned, match="found no signature"):
        consumer(team, tmp_path, offline=True).pull(STUB, dest=tmp_path / "third")
    assert not (tmp_path / "third").exists()


def test_a_pull_request_that_trusts_its_own_key_cannot_get_it_pinned(team: Team, tmp_path: Path) -> None:
    """On a pull request's branch, trust.yaml lists mallory and mallory approves. `zoo lock`
    there still records main's signers, so the lockfile's consumer refuses the version."""
    git(team.zoo.root, "checkout", "-q", "-b", "pr")
    team.zoo.add_signer("mallory", team.mallory.public)
    git(team.zoo.root, "commit", "-qam", "Trust me")
    team.zoo.approve(f"{STUB}@v1", team.mallory.private)
    lock = team.zoo.lock([STUB], tmp_path / "zoo.lock")
    assert lock.trust is not None and [s.name for s in lock.trust.signers] == ["alice"]
    with pytest.raises(Unsigned, match="needs 1 approval by alice"):
        Zoo.open(team.zoo.root).pinned_by(tmp_path / "zoo.lock").pull_locked(tmp_path / "zoo.lock",
                                                                             dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()
