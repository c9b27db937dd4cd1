"""Signing a version and checking a signature of one, with an EC key: the adapter
to ``model_signing`` (OpenSSF Model Signing).

A signature is a Sigstore bundle, the file ``model_signing sign key`` writes:
a DSSE envelope over the statement of ``core.signing``, signed by an EC private
key (P-256, P-384 or P-521) and checked with its public key. The statement is
built from the manifest, so neither signing nor verifying reads a model file:
the manifest's sha256 values are the ones the bytes were verified against.

``model_signing``, ``sigstore_models`` and ``cryptography`` are imported by the
functions that use them: ``zoo --help`` loads none of them. Their errors become
one :class:`SignatureError` line here, at the edge.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.core import signing as statement
from zoo_repo.core.manifest import Manifest
from zoo_repo.errors import SignatureError
from zoo_repo.model.readfile import read_bounded

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

# A PEM key is a few hundred bytes, a bundle a few hundred per file signed; a
# manifest's 16 MiB cap bounds the files, so a bundle may be about twice that.
KEY_LIMIT = 64 << 10
BUNDLE_LIMIT = 32 << 20
INSTALL_HINT = "install the signing extra: pip install 'zoo-repo[sign]'"


@dataclass(frozen=True)
class Verified:
    """A signature that vouches for a version's files.

    ``signer`` is the key's fingerprint (``sha256:`` of its DER
    SubjectPublicKeyInfo); ``bound`` is False for a signature of the file set
    only (made by the ``model_signing`` tool, say), which names no stub, version
    or manifest: a policy may refuse it. ``root_digest`` is the subject's digest.
    """

    signer: str
    bound: bool
    root_digest: str
    nfiles: int


def fingerprint(public_key_pem: bytes) -> str:
    """``sha256:<hex>`` of the key's DER SubjectPublicKeyInfo: the same key gives
    the same fingerprint whatever its PEM's line breaks or comments."""
    return _fingerprint(_load_public_key(public_key_pem))


def sign(manifest: Manifest, manifest_digest: str, private_key_pem_path: str | Path) -> bytes:
    """The Sigstore bundle (JSON bytes) signing ``manifest``'s files, bound to its
    stub, version and ``manifest_digest``, with the unencrypted PKCS#8 or SEC1
    EC private key in the PEM file ``private_key_pem_path``."""
    where = str(private_key_pem_path)
    pem = read_bounded(where, KEY_LIMIT, where)
    _require_model_signing()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement as intoto
    from in_toto_attestation.v1 import statement_pb2
    from model_signing._signing import sign_ec_key as ec_key
    from model_signing._signing import sign_sigstore_pb as sigstore_pb
    from model_signing._signing import signing

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:  # TypeError: encrypted, and no password given
        raise SignatureError(where, f"not an unencrypted PEM private key ({_first_line(exc)})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SignatureError(where, f"is a {type(key).__name__.lstrip('_')}; an EC private key is needed")

    class _Signer(ec_key.Signer):
        """model_signing's key signer, given the key zoo read (bounded, no symlink) itself."""

        def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
            self._private_key = private_key

    try:
        ec_key._check_supported_ec_key(key.public_key())
    except ValueError as exc:
        raise SignatureError(where, _first_line(exc)) from exc
    # model_signing's Payload hashes a directory's manifest; this one is built from
    # zoo's, with the binding, and handed over in the shape its signer reads.
    payload = signing.Payload.__new__(signing.Payload)
    pb = json_format.ParseDict(statement.statement_for(manifest, manifest_digest), statement_pb2.Statement())
    payload.statement = intoto.Statement.copy_from_pb(pb)
    signature = _Signer(key).sign(payload)
    assert isinstance(signature, sigstore_pb.Signature)  # what a key signer returns
    return signature.bundle.to_json().encode("utf-8")


def verify(bundle_bytes: bytes, manifest: Manifest, manifest_digest: str, public_key_pem: bytes) -> Verified:
    """Check that the bundle is signed by ``public_key_pem``'s key and vouches for
    exactly ``manifest``'s files (and, if it carries zoo's binding, for this stub,
    version and ``manifest_digest``); raise :class:`SignatureError` otherwise.

    No model file is read: the bundle is checked against the manifest's digests.
    """
    where = f"signature of {manifest.stub}@{manifest.version_name}"
    public_key = _load_public_key(public_key_pem)
    bundle = _parse_bundle(bundle_bytes, where)
    payload_type, payload = _verified_content(bundle, public_key, where)
    if payload_type != statement.PAYLOAD_TYPE:
        raise SignatureError(where, f"payload type is {payload_type!r}, expected {statement.PAYLOAD_TYPE}")
    try:
        doc = json.loads(payload)
    except ValueError as exc:  # signed, yet not JSON: made by something else than a model signer
        raise SignatureError(where, f"the signed payload is not JSON ({_first_line(exc)})") from exc
    problems = statement.check_statement(doc, manifest, manifest_digest)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SignatureError(where, problems[0] + more, problems=tuple(problems))
    return Verified(signer=_fingerprint(public_key), bound=statement.is_bound(doc),
                    root_digest="sha256:" + doc["subject"][0]["digest"]["sha256"], nfiles=len(manifest.files))


def _require_model_signing() -> None:
    """The install hint, where the signing extra is missing."""
    import importlib.util

    if importlib.util.find_spec("model_signing") is None:
        raise SignatureError("model_signing", "is not installed", hint=INSTALL_HINT)


def _load_public_key(pem: bytes) -> EllipticCurvePublicKey:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError as exc:
        raise SignatureError("cryptography", "is not installed", hint=INSTALL_HINT) from exc
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise SignatureError("public key", f"not a PEM public key ({_first_line(exc)})") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureError("public key", f"is a {type(key).__name__.lstrip('_')}; an EC public key is needed")
    return key


def _fingerprint(key: EllipticCurvePublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _parse_bundle(data: bytes, where: str) -> Any:
    """The bundle, read as ``model_signing``'s ``Signature.read`` reads the file
    (its adjustments for bundles written by its older versions included)."""
    if len(data) > BUNDLE_LIMIT:
        raise SignatureError(where, f"is larger than {BUNDLE_LIMIT} bytes, more than any signature needs")
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise SignatureError(where, f"is not JSON ({_first_line(exc)})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("verificationMaterial"), dict):
        raise SignatureError(where, "is not a Sigstore bundle (no verificationMaterial object)")
    material = doc["verificationMaterial"]
    material.setdefault("tlogEntries", [])
    if isinstance(material.get("publicKey"), dict):
        material["publicKey"].setdefault("hint", None)
        for key in ("rawBytes", "keyDetails"):
            material["publicKey"].pop(key, None)
    _require_model_signing()
    from model_signing._signing import sign_sigstore_pb as sigstore_pb
    from pydantic import ValidationError
    from sigstore_models.bundle import v1 as bundle_pb

    try:
        return sigstore_pb.Signature(bundle_pb.Bundle.from_dict(doc))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "bundle"
        raise SignatureError(where, f"is not a Sigstore bundle: {field}: {first['msg']}") from exc


def _verified_content(signature: Any, public_key: EllipticCurvePublicKey, where: str) -> tuple[str, bytes]:
    """The envelope's payload type and payload, once its signature checks with the key."""
    from cryptography.exceptions import InvalidSignature
    from model_signing._signing import sign_ec_key as ec_key
    from model_signing._signing import sign_sigstore_pb as sigstore_pb

    bundle = signature.bundle
    if bundle.media_type != sigstore_pb._BUNDLE_MEDIA_TYPE:
        raise SignatureError(where, f"bundle media type is {bundle.media_type!r}, "
                                    f"expected {sigstore_pb._BUNDLE_MEDIA_TYPE}")
    if bundle.dsse_envelope is None or not bundle.dsse_envelope.signatures:
        raise SignatureError(where, "the bundle holds no DSSE envelope signature")
    material = bundle.verification_material.public_key
    if material is None:
        raise SignatureError(where, "the bundle is signed by a certificate, not by a key")

    class _Verifier(ec_key.Verifier):
        def __init__(self, key: EllipticCurvePublicKey) -> None:
            self._public_key = key

    verifier = _Verifier(public_key)
    # model_signing prints a warning for a bundle without the key hint (its
    # versions before 1.0); the signature alone decides then, as it does there.
    if not material.hint:
        material.hint = hashlib.sha256(_pem(public_key)).hexdigest()
    try:
        result: tuple[str, bytes] = verifier._verify_signed_content(signature)
    except InvalidSignature as exc:
        raise SignatureError(where, "bad signature: the envelope was not signed by this key, "
                                    "or was changed after signing") from exc
    except ValueError as exc:
        if "Key mismatch" in str(exc):
            raise SignatureError(where, "signed by another key: the bundle's key hint is not "
                                        "the given key's") from exc
        raise SignatureError(where, _first_line(exc)) from exc
    return result


def _pem(key: EllipticCurvePublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
