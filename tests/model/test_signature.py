"""Signed versions: zoo's OMS signature and the real ``model_signing`` tool accept each other's.

Real EC P-256 keys made here, the real ``model_signing`` CLI as a process, a
version published and pulled by zoo: what a user's own ``model_signing verify``
sees. Also the refusals, each one line naming what failed.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import STUB, hermetic_home
from tests.keys import Keys, make_keys
from zoo_repo import Zoo
from zoo_repo.core import signing as statement
from zoo_repo.core.manifest import Manifest, digest_of
from zoo_repo.core.stub import parse_stub
from zoo_repo.errors import SignatureError
from zoo_repo.model import signature


@dataclasses.dataclass(frozen=True)
class Version:
    manifest: Manifest
    digest: str
    pulled: Path  # the version's files, as `zoo pull` places them


def model_signing(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "model_signing", *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys") / "signer")


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys") / "stranger")


@pytest.fixture(scope="module")
def version(tmp_path_factory: pytest.TempPathFactory, built_models: dict[str, Path]) -> Iterator[Version]:
    """The demo model published once and pulled into a directory of its own."""
    base = tmp_path_factory.mktemp("signed")
    with hermetic_home(base / "home"):
        zoo = Zoo.init(base / "zoo", remote=str(base / "remote"))
        shutil.copytree(built_models["base"], base / "model")
        zoo.publish(base / "model", STUB, run=False)
        pulled = zoo.pull(f"{STUB}@v1", dest=base / "pulled" / "resnet")
        yield Version(pulled.manifest, pulled.digest, pulled.dest)


@pytest.fixture(scope="module")
def zoo_bundle(version: Version, keys: Keys) -> bytes:
    return signature.sign(version.manifest, version.digest, keys.private)


def payload_of(bundle: bytes) -> dict[str, object]:
    envelope = json.loads(bundle)["dsseEnvelope"]
    doc: dict[str, object] = json.loads(base64.b64decode(envelope["payload"]))
    return doc


# -- interop, both ways ----------------------------------------------------

def test_model_signing_verifies_a_version_zoo_signed(version: Version, keys: Keys, zoo_bundle: bytes,
                                                     tmp_path: Path) -> None:
    sig = tmp_path / "model.sig"
    sig.write_bytes(zoo_bundle)
    done = model_signing("verify", "key", "--public_key", keys.public, "--signature", sig, version.pulled)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Verification succeeded" in done.stdout


def test_zoo_signs_what_model_signing_would_plus_the_binding(version: Version, keys: Keys, zoo_bundle: bytes,
                                                             tmp_path: Path) -> None:
    sig = tmp_path / "model.sig"
    done = model_signing("sign", "key", "--private_key", keys.private, "--signature", sig, version.pulled)
    assert done.returncode == 0, done.stdout + done.stderr
    theirs, ours = payload_of(sig.read_bytes()), payload_of(zoo_bundle)
    assert theirs["predicate"]["resources"] == ours["predicate"]["resources"]  # type: ignore[index]
    assert theirs["subject"][0]["digest"] == ours["subject"][0]["digest"]  # type: ignore[index]
    assert sorted(theirs["predicate"]["serialization"]["ignore_paths"]) == list(statement.IGNORE_PATHS)  # type: ignore[index]
    assert ours["predicate"]["zoo"] == {  # type: ignore[index]
        "type": statement.BINDING_TYPE, "stub": STUB, "version": "v1", "manifest": version.digest,
        "role": "publisher"}
    assert "zoo" not in theirs["predicate"]  # type: ignore[operator]


def test_zoo_accepts_model_signing_signature_as_unbound(version: Version, keys: Keys, tmp_path: Path) -> None:
    sig = tmp_path / "model.sig"
    done = model_signing("sign", "key", "--private_key", keys.private, "--signature", sig, version.pulled)
    assert done.returncode == 0, done.stdout + done.stderr
    verified = signature.verify(sig.read_bytes(), version.manifest, version.digest, keys.public_pem)
    assert verified.bound is False
    assert verified.signer == signature.fingerprint(keys.public_pem)


def test_zoo_verifies_its_own_signature_as_bound(version: Version, keys: Keys, zoo_bundle: bytes) -> None:
    verified = signature.verify(zoo_bundle, version.manifest, version.digest, keys.public_pem)
    assert verified.bound is True
    assert verified.nfiles == len(version.manifest.files)
    assert verified.signer.startswith("sha256:") and len(verified.signer) == 71
    assert verified.root_digest == "sha256:" + payload_of(zoo_bundle)["subject"][0]["digest"]["sha256"]  # type: ignore[index]


def test_verify_reads_no_model_file(version: Version, keys: Keys, zoo_bundle: bytes, tmp_path: Path) -> None:
    """The manifest's digests are the ones checked: the files need not be there at all."""
    gone = dataclasses.replace(version.manifest)
    moved = tmp_path / "moved"
    shutil.move(str(version.pulled), moved)
    try:
        assert signature.verify(zoo_bundle, gone, version.digest, keys.public_pem).bound
    finally:
        shutil.move(str(moved), version.pulled)


def test_fingerprint_is_of_the_der_key_not_its_pem_text(keys: Keys) -> None:
    assert signature.fingerprint(keys.public_pem) == signature.fingerprint(b"\n" + keys.public_pem + b"\n")


# -- refusals: one line naming what failed ---------------------------------

def refusal(bundle: bytes, manifest: Manifest, digest: str, public_pem: bytes) -> str:
    with pytest.raises(SignatureError) as caught:
        signature.verify(bundle, manifest, digest, public_pem)
    message = caught.value.message
    assert "\n" not in message
    return message


def test_a_changed_file_digest_is_named(version: Version, keys: Keys, zoo_bundle: bytes) -> None:
    first, *rest = version.manifest.files
    changed = dataclasses.replace(version.manifest, files=(dataclasses.replace(first, sha256="0" * 64), *rest))
    message = refusal(zoo_bundle, changed, version.digest, keys.public_pem)
    assert f"predicate.resources: {first.path} was signed as sha256:{first.sha256}" in message
    assert "sha256:" + "0" * 64 in message


def test_a_missing_or_extra_file_is_named(version: Version, keys: Keys, zoo_bundle: bytes) -> None:
    first, *rest = version.manifest.files
    fewer = dataclasses.replace(version.manifest, files=tuple(rest))
    assert f"{first.path} is signed but not in the manifest" in refusal(zoo_bundle, fewer, version.digest,
                                                                      keys.public_pem)
    extra = dataclasses.replace(first, path="extra.bin", sha256="1" * 64, md5="2" * 32)
    more = dataclasses.replace(version.manifest, files=(*version.manifest.files, extra))
    assert "extra.bin is in the manifest but not signed" in refusal(zoo_bundle, more, version.digest,
                                                                    keys.public_pem)


def test_a_signature_of_v1_is_not_one_of_v2(version: Version, keys: Keys, zoo_bundle: bytes) -> None:
    v2 = dataclasses.replace(version.manifest, version=2, parent=1)
    message = refusal(zoo_bundle, v2, digest_of(v2.to_text()), keys.public_pem)
    assert "predicate.zoo.version: the signature names version 'v1', this is v2" in message
    assert "(and 1 more)" in message  # the manifest digest differs too
    same_version_other_text = refusal(zoo_bundle, version.manifest, "sha256:" + "3" * 64, keys.public_pem)
    assert f"predicate.zoo.manifest: the signature names manifest digest {version.digest!r}" in same_version_other_text


def test_a_signature_of_one_stub_is_not_one_of_another(version: Version, keys: Keys, zoo_bundle: bytes) -> None:
    other = dataclasses.replace(version.manifest, stub=parse_stub(STUB.replace("base", "pruned50", 1)
                                                                  if "base" in STUB else STUB + "-other"))
    message = refusal(zoo_bundle, other, version.digest, keys.public_pem)
    assert message.startswith(f"signature of {other.stub}@v1: predicate.zoo.stub: the signature names stub {STUB!r}")


def test_an_unrelated_key_is_refused(version: Version, other_keys: Keys, zoo_bundle: bytes) -> None:
    assert "signed by another key" in refusal(zoo_bundle, version.manifest, version.digest, other_keys.public_pem)


def test_a_bundle_without_key_hint_and_another_key_has_a_bad_signature(version: Version, other_keys: Keys,
                                                                       zoo_bundle: bytes) -> None:
    doc = json.loads(zoo_bundle)
    del doc["verificationMaterial"]["publicKey"]["hint"]
    message = refusal(json.dumps(doc).encode(), version.manifest, version.digest, other_keys.public_pem)
    assert "bad signature" in message


def test_a_changed_payload_has_a_bad_signature(version: Version, keys: Keys, zoo_bundle: bytes) -> None:
    doc = json.loads(zoo_bundle)
    payload = payload_of(zoo_bundle)
    payload["predicate"]["zoo"]["version"] = "v2"  # type: ignore[index]
    doc["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    assert "bad signature" in refusal(json.dumps(doc).encode(), version.manifest, version.digest, keys.public_pem)


@pytest.mark.parametrize(("mangle", "expected"), [
    (lambda b: b"not json at all", "is not JSON"),
    (lambda b: b[: len(b) // 2], "is not JSON"),
    (lambda b: b"[]", "is not a Sigstore bundle"),
    (lambda b: json.dumps({**json.loads(b), "mediaType": "text/plain"}).encode(),
     "bundle media type is 'text/plain'"),
    (lambda b: json.dumps({k: v for k, v in json.loads(b).items() if k != "dsseEnvelope"}).encode(),
     "holds no DSSE envelope"),
])
def test_a_corrupt_bundle_is_refused(version: Version, keys: Keys, zoo_bundle: bytes, mangle: object,
                                     expected: str) -> None:
    assert callable(mangle)
    assert expected in refusal(mangle(zoo_bundle), version.manifest, version.digest, keys.public_pem)


def test_a_wrong_payload_type_is_refused(version: Version, keys: Keys, zoo_bundle: bytes) -> None:
    """Not declared an in-toto statement: refused by its type, as model_signing refuses it.

    DSSE signs the type with the payload, so the signature would fail too; the type
    is checked first, which names what is wrong."""
    doc = json.loads(zoo_bundle)
    doc["dsseEnvelope"]["payloadType"] = "application/json"
    message = refusal(json.dumps(doc).encode(), version.manifest, version.digest, keys.public_pem)
    assert "payload type is 'application/json', expected application/vnd.in-toto+json" in message


def test_signing_refuses_a_key_that_is_not_an_ec_private_key(version: Version, keys: Keys) -> None:
    with pytest.raises(SignatureError, match="not an unencrypted PEM private key"):
        signature.sign(version.manifest, version.digest, keys.public)


def test_verify_refuses_a_public_key_that_is_not_pem(version: Version, zoo_bundle: bytes) -> None:
    with pytest.raises(SignatureError, match="public key: not a PEM public key"):
        signature.verify(zoo_bundle, version.manifest, version.digest, b"hello")
