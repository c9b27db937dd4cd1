"""Signing a version and checking a signature of one, with an EC key: the adapter
to ``model_signing`` (OpenSSF Model Signing).

A signature is a Sigstore bundle, the file ``model_signing sign key`` writes:
a DSSE envelope over the statement of ``core.signing``, signed by an EC private
key (P-256, P-384 or P-521) and checked with its public key. The statement is
built from the manifest, so neither signing nor verifying reads a model file:
the manifest's sha256 values are the ones the bytes were verified against.

Signing goes through ``model_signing``'s key signer; verifying needs only
``cryptography`` (see ``verify``). Both are imported by the functions that use
them: ``zoo --help`` loads neither. Their errors become one
:class:`SignatureError` line here, at the edge.
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
# The hash each curve signs with, as model_signing (and Sigstore's specs) pair them.
_HASHES = {"secp256r1": "SHA256", "secp384r1": "SHA384", "secp521r1": "SHA512"}


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
    role: str = "publisher"  # the signed role; ``files`` when unbound


def fingerprint(public_key_pem: bytes) -> str:
    """``sha256:<hex>`` of the key's DER SubjectPublicKeyInfo: the same key gives
    the same fingerprint whatever its PEM's line breaks or comments."""
    return _fingerprint(_load_public_key(public_key_pem))


def sign(manifest: Manifest, manifest_digest: str, private_key_pem_path: str | Path,
         role: str = "publisher") -> bytes:
    """The Sigstore bundle (JSON bytes) signing ``manifest``'s files, bound to its
    stub, version, ``manifest_digest`` and ``role``, with the unencrypted PKCS#8 or
    SEC1 EC private key in the PEM file ``private_key_pem_path``."""
    _require_model_signing()
    key = _private_key(private_key_pem_path)
    from cryptography.hazmat.primitives.asymmetric import ec
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement as intoto
    from in_toto_attestation.v1 import statement_pb2
    from model_signing._signing import sign_ec_key as ec_key
    from model_signing._signing import sign_sigstore_pb as sigstore_pb
    from model_signing._signing import signing

    class _Signer(ec_key.Signer):
        """model_signing's key signer, given the key zoo read (bounded, no symlink) itself."""

        def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
            self._private_key = private_key

    # model_signing's Payload hashes a directory's manifest; this one is built from
    # zoo's, with the binding, and handed over in the shape its signer reads.
    payload = signing.Payload.__new__(signing.Payload)
    pb = json_format.ParseDict(statement.statement_for(manifest, manifest_digest, role), statement_pb2.Statement())
    payload.statement = intoto.Statement.copy_from_pb(pb)
    signature = _Signer(key).sign(payload)
    assert isinstance(signature, sigstore_pb.Signature)  # what a key signer returns
    return signature.bundle.to_json().encode("utf-8")


def public_key_of(private_key_pem_path: str | Path) -> bytes:
    """The PEM public key of a signing key file: checks the key before any work is done."""
    return _pem(_private_key(private_key_pem_path).public_key())


def _private_key(path: str | Path) -> Any:
    """An unencrypted EC private key on a supported curve, read (bounded, no symlink) from ``path``."""
    where = str(path)
    try:
        pem = read_bounded(where, KEY_LIMIT, where)
    except FileNotFoundError:
        raise SignatureError(where, "no such key file") from None
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError as exc:
        raise SignatureError("cryptography", "is not installed", hint=INSTALL_HINT) from exc
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:  # TypeError: encrypted, and no password given
        raise SignatureError(where, f"not an unencrypted PEM private key ({_first_line(exc)})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SignatureError(where, f"is a {type(key).__name__.lstrip('_')}; an EC private key is needed")
    if key.curve.name not in _HASHES:
        raise SignatureError(where, f"is on curve {key.curve.name}; expected P-256, P-384 or P-521")
    return key


def verify(bundle_bytes: bytes, manifest: Manifest, manifest_digest: str, public_key_pem: bytes) -> Verified:
    """Check that the bundle is signed by ``public_key_pem``'s key and vouches for
    exactly ``manifest``'s files (and, if it carries zoo's binding, for this stub,
    version and ``manifest_digest``); raise :class:`SignatureError` otherwise.

    No model file is read: the bundle is checked against the manifest's digests.
    ``model_signing``'s own key verifier is the DSSE encoding plus one ECDSA check
    by ``cryptography``; this is the same check without importing ``model_signing``
    (600 ms of imports, against 40 ms), so a pull verifies in milliseconds.
    """
    where = f"signature of {manifest.stub}@{manifest.version_name}"
    public_key = _load_public_key(public_key_pem)
    envelope = read_envelope(bundle_bytes, where)
    if envelope.payload_type != statement.PAYLOAD_TYPE:
        raise SignatureError(where, f"payload type is {envelope.payload_type!r}, expected {statement.PAYLOAD_TYPE}")
    _check_envelope(envelope, public_key, where)
    try:
        doc = json.loads(envelope.payload)
    except (ValueError, RecursionError) as exc:  # signed, yet not JSON: made by something else than a model signer
        raise SignatureError(where, f"the signed payload is not JSON ({_first_line(exc)})") from exc
    problems = statement.check_statement(doc, manifest, manifest_digest)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SignatureError(where, problems[0] + more, problems=tuple(problems))
    return Verified(signer=_fingerprint(public_key), bound=statement.is_bound(doc),
                    root_digest="sha256:" + doc["subject"][0]["digest"]["sha256"], nfiles=len(manifest.files),
                    role=statement.role_of(doc))


def read_envelope(bundle_bytes: bytes, where: str) -> statement.Envelope:
    """The bundle's envelope (bounded, parsed as untrusted data), or one SignatureError line."""
    if len(bundle_bytes) > BUNDLE_LIMIT:
        raise SignatureError(where, f"is larger than {BUNDLE_LIMIT} bytes, more than any signature needs")
    try:
        return statement.parse_bundle(bundle_bytes)
    except ValueError as exc:
        raise SignatureError(where, str(exc)) from None


def key_hint(public_key_pem: bytes) -> str:
    """What ``model_signing`` writes as the bundle's key hint: sha256 hex of the canonical PEM."""
    return hashlib.sha256(_pem(_load_public_key(public_key_pem))).hexdigest()


def _check_envelope(envelope: statement.Envelope, public_key: EllipticCurvePublicKey, where: str) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    # A bundle without the hint (written by model_signing before 1.0): the signature alone decides.
    if envelope.key_hint and envelope.key_hint != hashlib.sha256(_pem(public_key)).hexdigest():
        raise SignatureError(where, "signed by another key: the bundle's key hint is not the given key's")
    try:
        public_key.verify(envelope.signature, statement.pae(envelope.payload_type, envelope.payload),
                          ec.ECDSA(getattr(hashes, _HASHES[public_key.curve.name])()))
    except InvalidSignature:
        raise SignatureError(where, "bad signature: the envelope was not signed by this key, "
                                    "or was changed after signing") from None


def _require_model_signing() -> None:
    """The install hint, where the signing extra is missing."""
    import importlib.util

    if importlib.util.find_spec("model_signing") is None:
        raise SignatureError("model_signing", "is not installed", hint=INSTALL_HINT)


def _load_public_key(pem: bytes) -> EllipticCurvePublicKey:
    """An EC public key on a curve ``model_signing`` supports, or one SignatureError line."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError as exc:
        raise SignatureError("cryptography", "is not installed", hint=INSTALL_HINT) from exc
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as exc:  # the latter: a key of an algorithm or curve unknown here
        raise SignatureError("public key", f"not a PEM public key ({_first_line(exc)})") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureError("public key", f"is a {type(key).__name__.lstrip('_')}; an EC public key is needed")
    if key.curve.name not in _HASHES:
        raise SignatureError("public key", f"is on curve {key.curve.name}; expected P-256, P-384 or P-521")
    return key


def _fingerprint(key: EllipticCurvePublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _pem(key: EllipticCurvePublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
