"""Signature files are untrusted input: a checkout, a pull request or a bucket can
make them anything. Each crafted case fails closed (the version counts as
unapproved) with one line, never hangs, never reads more than the manifest
bounds, and never lets a cached verdict stand in for a check.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import STUB, run_zoo
from tests.keys import Keys, make_keys
from zoo_repo import Zoo
from zoo_repo.core.trust import MAX_SIGNATURES, SIGNATURES, signature_limit
from zoo_repo.errors import Unsigned
from zoo_repo.model import signature


@pytest.fixture
def alice(tmp_path: Path) -> Keys:
    return make_keys(tmp_path / "alice")


@pytest.fixture
def signed(zoo: Zoo, model_dir: Path, alice: Keys) -> Zoo:
    """v1 published and approved by alice (the consumer pins her)."""
    zoo.publish(model_dir, STUB, run=False)
    zoo.approve(f"{STUB}@v1", alice.private)
    return zoo


def approval_of(zoo: Zoo) -> Path:
    return next((zoo.root / "manifests" / STUB / "v1" / SIGNATURES).glob("*-approval.sig"))


def pinned(zoo: Zoo, alice: Keys) -> Zoo:
    return Zoo.open(zoo.root, trust={"alice": alice.public})


def refused(zoo: Zoo, alice: Keys, dest: Path) -> str:
    with pytest.raises(Unsigned) as err:
        pinned(zoo, alice).pull(STUB, dest=dest)
    assert not dest.exists()
    assert "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("mangle", [
    lambda b: b"",
    lambda b: b"[" * 50_000,  # deep nesting, under the size cap: a RecursionError would be a traceback
    lambda b: b"\xff\xfe not utf-8",
    lambda b: json.dumps({**json.loads(b), "dsseEnvelope": {**json.loads(b)["dsseEnvelope"],
                                                            "payload": "!!! not base64"}}).encode(),
    lambda b: json.dumps({**json.loads(b), "dsseEnvelope": {**json.loads(b)["dsseEnvelope"],
                                                            "signatures": [{"sig": base64.b64encode(b"x" * 70)
                                                                            .decode()}]}}).encode(),
    lambda b: json.dumps({**json.loads(b), "verificationMaterial": {"x509CertificateChain": {}}}).encode(),
], ids=["empty", "nested", "binary", "bad-base64", "bad-signature", "certificate"])
def test_a_mangled_approval_counts_for_nothing(signed: Zoo, alice: Keys, tmp_path: Path, mangle: object) -> None:
    path = approval_of(signed)
    assert callable(mangle)
    path.write_bytes(mangle(path.read_bytes()))
    line = refused(signed, alice, tmp_path / "out")
    assert f"{SIGNATURES}/{path.name}:" in line or "by key" in line


def test_a_fifo_or_a_link_to_dev_zero_is_no_signature_and_never_blocks(signed: Zoo, alice: Keys,
                                                                      tmp_path: Path) -> None:
    path = approval_of(signed)
    path.unlink()
    os.mkfifo(path)  # a read would block forever
    assert "found no signature" in refused(signed, alice, tmp_path / "a")
    path.unlink()
    path.symlink_to("/dev/zero")  # a read would never end
    assert "found no signature" in refused(signed, alice, tmp_path / "b")


def test_a_signature_larger_than_its_manifest_bounds_is_not_read(signed: Zoo, alice: Keys, tmp_path: Path) -> None:
    path = approval_of(signed)
    limit = signature_limit(len(signed.manifest_text(STUB, 1).encode()))
    path.write_bytes(path.read_bytes() + b" " * limit)
    assert "found no signature" in refused(signed, alice, tmp_path / "out")


def test_a_remote_with_thousands_of_signature_files_is_read_only_up_to_the_cap(
        signed: Zoo, alice: Keys, tmp_path: Path) -> None:
    signed.push()
    folder = Path(signed.remote_config().url) / "zoo" / "manifests" / STUB / "v1" / SIGNATURES
    real = sorted(folder.iterdir())
    for i in range(MAX_SIGNATURES * 3):
        (folder / f"{i:016x}-approval.sig").write_bytes(b"{}")  # sorts before the real ones
    consumer = Zoo.open(Path(signed.remote_config().url).as_uri(), cache_dir=tmp_path / "c",
                        trust={"alice": alice.public})
    with pytest.raises(Unsigned) as err:
        consumer.pull(STUB, dest=tmp_path / "out")
    assert len(str(err.value).split("; ")) <= MAX_SIGNATURES + 1
    assert real  # the real approval is there, but past the cap: a flooded bucket denies, never admits


def test_a_committed_cache_cannot_forge_a_verdict(signed: Zoo, alice: Keys, tmp_path: Path) -> None:
    """The stat cache a checkout carries (``git add -f .zoo/``) holds a verdict for the
    unapproved state, MAC'd with another user's key: it is not believed."""
    approval_of(signed).unlink()  # now unapproved
    db = signed.root / ".zoo" / "stat.sqlite"
    con = sqlite3.connect(db)
    rows = con.execute("select digest from manifest_docs where digest like 'signed:%'").fetchall()
    for (key,) in rows:
        con.execute("update manifest_docs set doc = ?, mac = ? where digest = ?", ('["alice"]', b"\0" * 32, key))
    con.execute("insert or replace into manifest_docs values (?, ?, ?)", ("signed:" + "0" * 64, '["alice"]', b"x"))
    con.commit()
    con.close()
    refused(signed, alice, tmp_path / "out")


def test_a_renamed_publisher_signature_is_no_approval(zoo: Zoo, model_dir: Path, alice: Keys,
                                                      tmp_path: Path) -> None:
    """alice's publisher signature, renamed to an approval's file name: the role is signed."""
    zoo.publish(model_dir, STUB, run=False, sign_key=alice.private)
    folder = zoo.root / "manifests" / STUB / "v1" / SIGNATURES
    publisher = next(folder.glob("*-publisher.sig"))
    publisher.rename(folder / publisher.name.replace("publisher", "approval"))
    line = refused(zoo, alice, tmp_path / "out")
    assert "is named as approval but signed as publisher" in line


def test_a_key_pinned_by_fingerprint_needs_that_key(signed: Zoo, alice: Keys, tmp_path: Path) -> None:
    """A pull request's trust.yaml gives another key under alice's name. The consumer
    pinned alice's fingerprint only, so that key is never used: her approval has no
    key to be checked with, and the version is refused, not admitted."""
    from zoo_repo.core.trust import Signer, Trust

    other = make_keys(tmp_path / "other")
    signed.add_signer("alice", other.public)
    fingerprint_only = Trust((Signer("alice", signature.fingerprint(alice.public_pem)),), 1, "zoo.lock")
    consumer = Zoo.open(signed.root, trust=fingerprint_only)
    with pytest.raises(Unsigned, match=r"approval by key [0-9a-f]{16} \(signed by a key that is not pinned\)"):
        consumer.pull(STUB, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_cli_names_the_version_and_the_signer_and_exits_2(signed: Zoo, alice: Keys, tmp_path: Path) -> None:
    approval_of(signed).unlink()
    proc = run_zoo("trust", "add", "alice", alice.public, cwd=signed.root)
    assert proc.returncode == 0, proc.stderr
    proc = run_zoo("pull", STUB, "--dest", tmp_path / "out", cwd=signed.root)
    assert proc.returncode == 2
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"Error: {STUB}@v1 needs 1 approval by alice") and "found no signature" in first
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def unknown_curve_key() -> bytes:
    """A well-formed PEM public key on a curve no library knows (cryptography raises
    UnsupportedAlgorithm for it, not ValueError)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    der = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # The curve's OID, P-256 (1.2.840.10045.3.1.7), becomes 1.2.840.10045.3.1.15.
    der = der.replace(bytes.fromhex("2a8648ce3d030107"), bytes.fromhex("2a8648ce3d03010f"))
    return b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"


def test_a_key_on_an_unknown_curve_is_one_line_everywhere(signed: Zoo, alice: Keys, tmp_path: Path) -> None:
    """In the remote's copy of trust.yaml (a bucket writer's), a pull request's trust.yaml,
    or a key file given to `zoo trust add`: one line, never a traceback."""
    weird = tmp_path / "weird.pem"
    weird.write_bytes(unknown_curve_key())
    added = run_zoo("trust", "add", "eve", weird, cwd=signed.root)
    assert added.returncode == 2 and "is not supported" in added.stderr and "Traceback" not in added.stderr
    policy = signed.root / "trust.yaml"
    signed.add_signer("alice", alice.public)
    text = policy.read_text()
    pem = unknown_curve_key().decode().strip().replace("\n", "\n      ")
    policy.write_text(text.replace("require:", f"  eve:\n    key: |\n      {pem}\nrequire:"))
    checked = run_zoo("check", cwd=signed.root)
    assert checked.returncode != 0 and "[trust]" in checked.stdout + checked.stderr
    assert "Traceback" not in checked.stdout + checked.stderr
    remote_trust = Path(signed.remote_config().url) / "zoo" / "trust.yaml"
    remote_trust.parent.mkdir(parents=True, exist_ok=True)
    remote_trust.write_text(policy.read_text())
    from zoo_repo.core.trust import Signer, Trust

    pins = Trust((Signer("alice", signature.fingerprint(alice.public_pem)),), 1, "zoo.lock")
    consumer = Zoo.open(Path(signed.remote_config().url).as_uri(), cache_dir=tmp_path / "c", trust=pins)
    with pytest.raises(Unsigned):  # the crafted copy gives no key: refused in one line, not a crash
        consumer.pull(STUB, dest=tmp_path / "out")


def test_one_key_under_two_names_is_refused_by_the_policy(signed: Zoo, alice: Keys) -> None:
    signed.add_signer("alice", alice.public)
    text = (signed.root / "trust.yaml").read_text()
    (signed.root / "trust.yaml").write_text(text.replace(
        "require:", "  alias:\n    key: |\n      " + alice.public_pem.decode().strip().replace("\n", "\n      ")
        + "\nrequire:"))
    checked = run_zoo("check", cwd=signed.root)
    assert "[trust]" in checked.stdout and "is also the key of alice" in checked.stdout
