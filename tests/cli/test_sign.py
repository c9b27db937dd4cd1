"""``zoo sign``, ``zoo approve``, ``zoo trust``, ``publish --sign-key`` and pulls judged by
pins, as a team uses them from the command line: a maintainer's policy, a publisher,
a reviewer, and a consumer who pinned the maintainer."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import STUB, Result, run_zoo
from tests.keys import Keys, make_keys


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Keys]:
    return {name: make_keys(tmp_path / "keys" / name) for name in ("alice", "bob")}


@pytest.fixture
def team(tmp_path: Path, model_dir: Path, keys: dict[str, Keys], cli: Callable[..., Result],
         monkeypatch: pytest.MonkeyPatch) -> Path:
    """A zoo whose trust.yaml names alice, with v1 published and signed by bob."""
    root = tmp_path / "zoo"
    assert cli("init", root, "--remote", tmp_path / "remote").exit_code == 0
    monkeypatch.chdir(root)
    added = cli("trust", "add", "alice", keys["alice"].public, "--policy")
    assert added.exit_code == 0, added.stderr
    assert added.stdout.startswith("trust.yaml: 1 approval of alice (sha256:")
    subprocess.run(["git", "add", "trust.yaml"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "Trust alice"], cwd=root, check=True)
    done = cli("publish", model_dir, "--stub", STUB, "--no-run", "--sign-key", keys["bob"].private)
    assert done.exit_code == 0, done.stderr
    return root


def test_a_pinned_consumer_is_refused_an_unapproved_version_then_pulls_it_approved(
        team: Path, tmp_path: Path, keys: dict[str, Keys], cli: Callable[..., Result]) -> None:
    url = (tmp_path / "remote").as_uri()
    pinned = cli("trust", "add", "alice", keys["alice"].public, "--remote", url)
    assert pinned.exit_code == 0 and "pinned for" in pinned.stdout
    out = tmp_path / "out"
    refused = run_zoo("pull", STUB, "--remote", url, "--dest", out, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"Error: {STUB}@v1 needs 1 approval by alice (")
    assert "publisher signature by key" in refused.stderr and "Traceback" not in refused.stderr
    assert not out.exists()

    approved = cli("approve", f"{STUB}@v1", "--key", keys["alice"].private)
    assert approved.exit_code == 0 and approved.stdout == f"{STUB}@v1 approved by alice\n"
    pulled = run_zoo("pull", STUB, "--remote", url, "--dest", out, "--json", cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["signed"] == {"approved_by": ["alice"], "waived": None}
    assert (out / "model.onnx").is_file()


def test_allow_unsigned_is_printed_on_every_use(team: Path, tmp_path: Path, keys: dict[str, Keys],
                                                cli: Callable[..., Result]) -> None:
    url = (tmp_path / "remote").as_uri()
    cli("trust", "add", "alice", keys["alice"].public, "--remote", url)
    done = run_zoo("pull", STUB, "--remote", url, "--dest", tmp_path / "out", "--allow-unsigned", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: --allow-unsigned")]
    assert len(warnings) == 2 and f"pulled {STUB}@v1 needs 1 approval by alice" in warnings[1]


def test_a_lockfile_alone_pulls_only_approved_versions(team: Path, tmp_path: Path, keys: dict[str, Keys],
                                                       cli: Callable[..., Result]) -> None:
    assert cli("lock", STUB).exit_code == 0
    lock = (team / "zoo.lock").read_text()
    assert "trust:" in lock and "alice: sha256:" in lock
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "zoo.lock").write_text(lock)
    refused = run_zoo("pull", "--locked", "--dest", elsewhere / "models", cwd=elsewhere)
    assert refused.returncode == 2 and "needs 1 approval by alice" in refused.stderr
    assert not (elsewhere / "models").exists()
    cli("approve", f"{STUB}@v1", "--key", keys["alice"].private)
    pulled = run_zoo("pull", "--locked", "--dest", elsewhere / "models", cwd=elsewhere)
    assert pulled.returncode == 0, pulled.stderr
    assert "approved by alice" in pulled.stdout


def test_signing_twice_adds_nothing_and_sign_records_an_attestation(team: Path, keys: dict[str, Keys],
                                                                    cli: Callable[..., Result]) -> None:
    again = cli("sign", f"{STUB}@v1", "--key", keys["bob"].private)
    assert again.exit_code == 0 and "already carries" in again.stdout
    attested = cli("sign", f"{STUB}@v1", "--key", keys["alice"].private, "--role", "attestation", "--json")
    doc = json.loads(attested.stdout)
    assert (doc["role"], doc["name"], doc["added"], doc["listed"]) == ("attestation", "alice", True, True)
    listed = json.loads(cli("trust", "list", "--json").stdout)
    assert listed["policy"]["signers"][0]["name"] == "alice" and listed["pins"] == []
    cli("trust", "add", "alice", keys["alice"].public)
    cli("lock", STUB)
    shown = cli("--pins", "zoo.lock", "trust", "list").stdout.splitlines()
    assert [line.split(" (sha256")[0] for line in shown[:2]] == ["pulls need: 1 approval of alice"] * 2
    assert "zoo.lock" in shown[0] and "trust.yaml for" in shown[1]  # the lockfile's, then the user's floor


@pytest.mark.parametrize(("content", "expected"), [
    (b"not a key\n", "not an unencrypted PEM private key"),
    (None, "no such key file"),
])
def test_a_bad_key_is_one_line_and_changes_nothing(team: Path, tmp_path: Path, content: bytes | None,
                                                    expected: str) -> None:
    key = tmp_path / "bad.pem"
    if content is not None:
        key.write_bytes(content)
    before = subprocess.run(["git", "rev-parse", "HEAD"], cwd=team, capture_output=True, text=True).stdout
    done = run_zoo("approve", f"{STUB}@v1", "--key", key, cwd=team)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == f"Error: {key}: {expected}" or \
        done.stderr.startswith(f"Error: {key}: {expected}")
    assert "Traceback" not in done.stderr
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=team, capture_output=True, text=True).stdout == before
    assert subprocess.run(["git", "status", "--porcelain"], cwd=team, capture_output=True, text=True).stdout == ""


def test_a_public_key_is_no_signing_key(team: Path, keys: dict[str, Keys], cli: Callable[..., Result],
                                        model_dir: Path) -> None:
    (model_dir / "more.txt").write_text("v2\n")
    done = run_zoo("publish", model_dir, "--stub", STUB, "--no-run", "--sign-key", keys["alice"].public, cwd=team)
    assert done.returncode == 2 and "not an unencrypted PEM private key" in done.stderr
    assert not (team / "manifests" / STUB / "v2").exists()


def test_doctor_says_whose_approvals_pulls_need(team: Path, tmp_path: Path, keys: dict[str, Keys],
                                                cli: Callable[..., Result]) -> None:
    unpinned = cli("doctor", "--json")
    check = next(c for c in json.loads(unpinned.stdout) if c["name"] == "signed pulls")
    assert check["ok"] and "no signers pinned" in check["detail"] and "zoo trust add" in check["fix"]
    cli("trust", "add", "alice", keys["alice"].public)
    pinned = next(c for c in json.loads(cli("doctor", "--json").stdout) if c["name"] == "signed pulls")
    assert pinned["ok"] and pinned["detail"].startswith("pulls need 1 approval by alice (")
    # A lockfile pinning a signer whose key nobody has: every pull would fail closed; doctor says why.
    lock = (team / "zoo.lock")
    cli("lock", STUB)
    text = lock.read_text().replace("alice: ", "carol: ")
    fingerprint = text.split("carol: ", 1)[1].split("\n", 1)[0]
    lock.write_text(text.replace(fingerprint, "sha256:" + "ab" * 32))
    broken = run_zoo("--pins", lock, "doctor", "--json", cwd=team)
    check = next(c for c in json.loads(broken.stdout) if c["name"] == "signed pulls")
    assert not check["ok"] and "no key was found for carol" in check["detail"]


def test_a_model_signing_signature_of_a_pulled_copy_is_attached_and_never_approves(
        team: Path, tmp_path: Path, keys: dict[str, Keys], cli: Callable[..., Result]) -> None:
    """Interop the other way round: alice signs a pulled copy with the model_signing CLI;
    zoo checks it against the manifest, keeps it as a file-set signature, shows it, and a
    pull pinned to alice still needs her approval (a file-set signature names no version)."""
    pulled = tmp_path / "pulled"
    assert cli("pull", STUB, "--dest", pulled).exit_code == 0
    bundle = tmp_path / "model.sig"
    made = subprocess.run([sys.executable, "-m", "model_signing", "sign", "key", "--private_key",
                           str(keys["alice"].private), "--signature", str(bundle), str(pulled)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    attached = cli("sign", f"{STUB}@v1", "--signature", bundle, "--json")
    assert attached.exit_code == 0, attached.stderr
    doc = json.loads(attached.stdout)
    assert (doc["role"], doc["name"], doc["added"]) == ("files", "alice", True)
    shown = json.loads(cli("show", f"{STUB}@v1", "--json").stdout)["signatures"]
    assert {(s["role"], s["name"], s["valid"]) for s in shown} >= {("files", "alice", True)}
    cli("trust", "add", "alice", keys["alice"].public)
    refused = run_zoo("pull", STUB, "--dest", tmp_path / "out", cwd=team)
    assert refused.returncode == 2 and "file-set signature by alice" in refused.stderr

    # A signature of other bytes (a file changed after pulling) is refused, and nothing is added.
    (pulled / "model.md").write_text("changed\n")
    subprocess.run([sys.executable, "-m", "model_signing", "sign", "key", "--private_key",
                    str(keys["alice"].private), "--signature", str(bundle), str(pulled)], check=True,
                   capture_output=True, timeout=120)
    before = subprocess.run(["git", "rev-parse", "HEAD"], cwd=team, capture_output=True, text=True).stdout
    bad = run_zoo("sign", f"{STUB}@v1", "--signature", bundle, cwd=team)
    assert bad.returncode == 2 and "model.md was signed as sha256:" in bad.stderr
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=team, capture_output=True, text=True).stdout == before


def test_the_users_pins_are_a_floor_under_any_lockfile(team: Path, tmp_path: Path, keys: dict[str, Keys],
                                                       cli: Callable[..., Result]) -> None:
    """A lockfile (a project's, or one a pull request edited) that trusts bob cannot lift
    the user's own pin of alice: bob's signature satisfies it, alice's pin still refuses."""
    cli("lock", STUB)
    lock = team / "zoo.lock"
    bob = subprocess.run([sys.executable, "-c", "import sys; from zoo_repo.model import signature; "
                          "print(signature.fingerprint(open(sys.argv[1], 'rb').read()))", keys["bob"].public],
                         capture_output=True, text=True, check=True).stdout.strip()
    text = lock.read_text()
    alice = text.split("alice: ", 1)[1].split("\n", 1)[0]
    lock.write_text(text.replace(f"alice: {alice}", f"bob: '{bob}'"))
    cli("trust", "add", "bob", keys["bob"].public, "--policy")  # a key source for bob's pin
    cli("sign", f"{STUB}@v1", "--key", keys["bob"].private, "--role", "attestation")
    cli("approve", f"{STUB}@v1", "--key", keys["bob"].private)
    assert run_zoo("pull", "--locked", "--dest", tmp_path / "ok", cwd=team).returncode == 0
    cli("trust", "add", "alice", keys["alice"].public)
    refused = run_zoo("pull", "--locked", "--dest", tmp_path / "no", cwd=team)
    assert refused.returncode == 2 and "needs 1 approval by alice" in refused.stderr
    assert not (tmp_path / "no").exists()


def test_pins_follow_the_remote_whatever_its_spelling(tmp_path: Path, model_dir: Path, keys: dict[str, Keys],
                                                      cli: Callable[..., Result],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Pinned in the checkout (a plain path with a space), honoured for `--remote PATH`,
    `file://` with %20 and `file://localhost/`: the same remote, the same pins."""
    remote = tmp_path / "team models" / "remote"
    root = tmp_path / "zoo"
    cli("init", root, "--remote", remote)
    monkeypatch.chdir(root)
    assert cli("publish", model_dir, "--stub", STUB, "--no-run").exit_code == 0
    assert cli("trust", "add", "alice", keys["alice"].public).exit_code == 0
    for spelling in (str(remote), remote.as_uri(), "file://localhost" + remote.as_posix()):
        done = run_zoo("pull", STUB, "--remote", spelling, "--dest", tmp_path / "out", cwd=tmp_path)
        assert done.returncode == 2 and "needs 1 approval by alice" in done.stderr, (spelling, done.stderr)


def test_pinned_for_every_remote_a_redirected_checkout_still_needs_approval(
        team: Path, tmp_path: Path, keys: dict[str, Keys], cli: Callable[..., Result]) -> None:
    """A pull request repoints .dvc/config at another bucket holding the same versions:
    pins for the old remote do not follow, pins for every remote do."""
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "remote", moved)
    cli("trust", "add", "alice", keys["alice"].public)
    config = team / ".dvc" / "config"
    config.write_text(config.read_text().replace(str(tmp_path / "remote"), str(moved)))
    store = team / "store"
    shutil.rmtree(store)
    store.mkdir()
    assert run_zoo("pull", STUB, "--dest", tmp_path / "a", cwd=team).returncode == 0  # escaped the pin
    assert cli("trust", "add", "alice", keys["alice"].public, "--all-remotes").exit_code == 0
    refused = run_zoo("pull", STUB, "--dest", tmp_path / "b", cwd=team)
    assert refused.returncode == 2 and "needs 1 approval by alice" in refused.stderr


def test_a_pin_the_reader_would_refuse_is_never_saved(team: Path, keys: dict[str, Keys],
                                                      cli: Callable[..., Result]) -> None:
    done = run_zoo("trust", "add", "Alice Smith", keys["alice"].public, cwd=team)
    assert done.returncode == 2 and "signer name 'Alice Smith'" in done.stderr
    assert cli("trust", "list").exit_code == 0  # the file (if any) still reads
    assert run_zoo("pull", STUB, "--dest", team.parent / "out", cwd=team).returncode == 0
