"""The review gate on signatures: ``zoo check``'s trust, signature, signed and immutable
rules, and what ``zoo review`` shows, for pull requests a maintainer must judge.

Real EC keys (``tests.keys``), real git, a directory remote. The base ref is the
maintainers' main; each pull request is a clone that adds a version.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import STUB, clone
from tests.keys import Keys, make_keys
from tests.review.helpers import git
from zoo_repo import Zoo
from zoo_repo.core.trust import SIGNATURES
from zoo_repo.review.check import check
from zoo_repo.review.report import render_review_markdown, review, review_dict


@dataclass
class Team:
    main: Zoo  # trust.yaml lists alice; v1 published by bob and approved by alice
    base: str  # main's HEAD
    alice: Keys
    bob: Keys
    mallory: Keys
    model_dir: Path

    def pull_request(self, where: Path) -> Zoo:
        """A clone adding v2, signed by its publisher (bob), committed."""
        pr = clone(self.main, where)
        (self.model_dir / "extra.txt").write_text(f"v2 of {where.name}\n")
        pr.publish(self.model_dir, STUB, run=False, sign_key=self.bob.private)
        return pr


def sigs(zoo: Zoo, number: int) -> Path:
    return zoo.root / "manifests" / STUB / f"v{number}" / SIGNATURES


@pytest.fixture
def team(tmp_path: Path, model_dir: Path) -> Team:
    keys = {name: make_keys(tmp_path / "keys" / name) for name in ("alice", "bob", "mallory")}
    main = Zoo.init(tmp_path / "main", remote=str(tmp_path / "remote"))
    main.add_signer("alice", keys["alice"].public)
    git(main, "add", "trust.yaml")
    git(main, "commit", "-qm", "Trust alice")
    main.publish(model_dir, STUB, run=False, sign_key=keys["bob"].private)
    main.approve(f"{STUB}@v1", keys["alice"].private)
    return Team(main, git(main, "rev-parse", "HEAD"), keys["alice"], keys["bob"], keys["mallory"], model_dir)


def problems(zoo: Zoo, **kw: object) -> list[tuple[str, str]]:
    return [(p.rule, p.path) for p in check(zoo, **kw).problems]  # type: ignore[arg-type]


def test_an_approved_version_passes_and_review_names_its_signers(team: Team, tmp_path: Path) -> None:
    pr = team.pull_request(tmp_path / "pr")
    pr.approve(f"{STUB}@v2", team.alice.private)
    assert check(pr, base=team.base, require_signatures=True).ok
    assert check(team.main, require_signatures=True).ok  # no base: every version, by the working tree's policy
    result = review(pr, team.base, require_signatures=True)
    assert result.trust is None
    text = render_review_markdown(result)
    assert "- ✅ approval by alice" in text
    assert "- ➖ publisher signature by key " in text
    assert f"(signed by a key that trust.yaml at {team.base} does not list)" in text
    assert "| signed | approved as trust.yaml at the base ref requires (--require-signatures) | ✅ pass |" in text
    data = review_dict(result)
    assert data["trust_change"] is None
    assert sorted((s["role"], s["name"], s["valid"]) for s in data["added"][0]["signatures"]) == [
        ("approval", "alice", True), ("publisher", None, False)]


def test_an_unapproved_version_fails_only_when_signatures_are_required(team: Team, tmp_path: Path) -> None:
    pr = team.pull_request(tmp_path / "pr")
    assert check(pr, base=team.base).ok  # a publisher signature by an unlisted key is no problem
    report = check(pr, base=team.base, require_signatures=True)
    v2 = f"manifests/{STUB}/v2"
    assert [(p.path, p.rule) for p in report.problems] == [(f"{v2}/{SIGNATURES}", "signed")]
    assert report.problems[0].message.startswith(
        f"{STUB}@v2 needs 1 approval by alice (trust.yaml at {team.base}); found publisher signature by key ")


def test_a_signature_copied_from_v1_fails_the_signature_rule(team: Team, tmp_path: Path) -> None:
    pr = team.pull_request(tmp_path / "pr")
    approval = next(sigs(pr, 1).glob("*-approval.sig"))
    shutil.copy(approval, sigs(pr, 2) / approval.name)
    git(pr, "add", "-A")
    git(pr, "commit", "-qm", "Claim alice approved v2")
    report = check(pr, base=team.base, require_signatures=True)
    where = f"manifests/{STUB}/v2/{SIGNATURES}/{approval.name}"
    assert ("signature", where) in [(p.rule, p.path) for p in report.problems]
    assert "signed" in {p.rule for p in report.problems}  # and it does not count as an approval


def test_a_forged_signature_fails_and_an_unparseable_one_too(team: Team, tmp_path: Path) -> None:
    pr = team.pull_request(tmp_path / "pr")
    pr.approve(f"{STUB}@v2", team.alice.private)
    approval = next(sigs(pr, 2).glob("*-approval.sig"))
    doc = json.loads(approval.read_bytes())
    envelope = doc["dsseEnvelope"]
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[-1] ^= 0x01  # still an ECDSA signature's shape, no longer alice's
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    approval.write_text(json.dumps(doc))
    (sigs(pr, 2) / ("0" * 16 + "-attestation.sig")).write_text("not a bundle")
    found = {(p.rule, p.path.rsplit("/", 1)[1]): p.message for p in check(pr, base=team.base).problems}
    assert found[("signature", approval.name)].startswith("bad signature")
    assert ("signature", "0" * 16 + "-attestation.sig") in found


def test_a_pull_request_that_trusts_its_own_key_is_judged_by_the_base_policy(team: Team, tmp_path: Path) -> None:
    pr = team.pull_request(tmp_path / "pr")
    pr.add_signer("mallory", team.mallory.public)
    pr.approve(f"{STUB}@v2", team.mallory.private, commit=False)
    git(pr, "add", "-A")
    git(pr, "commit", "-qm", "Trust mallory, who approves v2")
    report = check(pr, base=team.base, require_signatures=True)
    assert [p.rule for p in report.problems] == ["signed"]
    assert "needs 1 approval by alice (trust.yaml at " in report.problems[0].message
    assert check(pr, require_signatures=True).ok  # by its own trust.yaml it would pass: hence the base ref

    result = review(pr, team.base, require_signatures=True)
    assert result.trust is not None and result.trust.added == ("mallory",)
    lines = render_review_markdown(result).splitlines()
    assert lines[2].startswith("> ⚠️ **trust.yaml changed; signers added: mallory.**")
    assert f"judged by trust.yaml at `{team.base}`" in lines[2]
    assert "- ➖ approval by key " in "\n".join(lines)  # mallory's key is nobody's at base
    change = review_dict(result)["trust_change"]
    assert (change["added"], change["removed"], change["rekeyed"]) == (["mallory"], [], [])


def test_review_names_a_re_keyed_signer_and_a_new_approval_count(team: Team, tmp_path: Path) -> None:
    pr = clone(team.main, tmp_path / "pr")
    pr.add_signer("alice", team.mallory.public)  # same name, another key
    pr.add_signer("bob", team.bob.public, approvals=2)
    change = review(pr, team.base).trust
    assert change is not None
    assert (change.added, change.removed, change.rekeyed, change.approvals) == (("bob",), (), ("alice",), (1, 2))
    assert change.summary() == "changed; signers added: bob; re-keyed: alice; approvals 1 → 2"
    (pr.root / "trust.yaml").unlink()
    gone = review(pr, team.base).trust
    assert gone is not None and gone.removed == ("alice",) and gone.summary().startswith("deleted")


def test_a_changed_or_removed_signature_file_fails_immutable(team: Team, tmp_path: Path) -> None:
    pr = clone(team.main, tmp_path / "pr")
    approval, publisher = sorted(sigs(pr, 1).iterdir())
    approval.write_bytes(approval.read_bytes() + b" ")
    publisher.unlink()
    found = {(p.rule, p.path) for p in check(pr, base=team.base).problems}
    rel = f"manifests/{STUB}/v1/{SIGNATURES}"
    assert {("immutable", f"{rel}/{approval.name}"), ("immutable", f"{rel}/{publisher.name}")} <= found


def test_trust_yaml_must_parse_and_its_keys_load(team: Team, tmp_path: Path) -> None:
    trust = team.main.root / "trust.yaml"
    trust.write_text(trust.read_text().replace("approvals: 1", "approvals: 0"))
    assert [(p.path, p.rule) for p in check(team.main).problems] == [("trust.yaml", "trust")]
    pem = team.alice.public_pem.decode().splitlines()
    text = trust.read_text().replace("approvals: 0", "approvals: 1").replace(pem[1], "A" * len(pem[1]))
    trust.write_text(text)
    found = check(team.main).problems
    assert [(p.rule, p.message.split(":")[0]) for p in found] == [("trust", "signers.alice.key")]


def test_signatures_required_without_a_policy_is_one_problem(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB, run=False)
    report = check(zoo, require_signatures=True)
    assert [(p.path, p.rule) for p in report.problems] == [("trust.yaml", "signed")]
    assert "is required by --require-signatures" in report.problems[0].message
    base = git(zoo, "rev-parse", "HEAD~1")
    added = review(zoo, base, require_signatures=True).added[0]
    assert next(r for r in added.rules if r.rule == "signed").status == "fail"


def test_the_cli_gate_and_show(cli, team: Team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pr = team.pull_request(tmp_path / "pr")
    failed = cli("--zoo", pr.root, "check", "--base", team.base, "--require-signatures")
    assert failed.exit_code == 1
    assert failed.stdout.splitlines()[0].startswith(f"manifests/{STUB}/v2/{SIGNATURES}: [signed] {STUB}@v2 needs")
    assert cli("--zoo", pr.root, "check", "--base", team.base).exit_code == 0
    data = json.loads(cli("--zoo", pr.root, "review", "--base", team.base, "--require-signatures", "--json").stdout)
    assert data["added"][0]["checks"]["signed"]["status"] == "fail"

    shown = cli("--zoo", team.main.root, "show", f"{STUB}@v1")
    signed = [line.split(None, 1)[1] for line in shown.stdout.splitlines() if line.strip().startswith("signed ")]
    bob_file = next(sigs(team.main, 1).glob("*-publisher.sig")).name
    assert sorted(signed) == sorted(["approval by alice ✓", f"publisher signature by key {bob_file[:16]} "
                                     "(signed by a key that trust.yaml does not list)"])
    doc = json.loads(cli("--zoo", team.main.root, "show", f"{STUB}@v1", "--json").stdout)
    by_role = {s["role"]: s for s in doc["signatures"]}
    assert set(by_role["approval"]) == {"file", "role", "signer", "name", "valid", "problem"}
    assert (by_role["approval"]["name"], by_role["approval"]["valid"]) == ("alice", True)
    assert (by_role["publisher"]["name"], by_role["publisher"]["valid"]) == (None, False)


def test_the_catalog_names_who_approved_each_version(team: Team, tmp_path: Path) -> None:
    from zoo_repo.catalog.files import build_catalog

    build_catalog(team.main, tmp_path / "site")
    entry = json.loads((tmp_path / "site" / "catalog.json").read_text())["models"][0]
    assert entry["approved_by"] == ["alice"]
    subprocess.run(["git", "-C", str(team.main.root), "rm", "-q", "trust.yaml"], check=True)
    build_catalog(team.main, tmp_path / "bare")  # no policy: nobody is named
    assert json.loads((tmp_path / "bare" / "catalog.json").read_text())["models"][0]["approved_by"] == []
