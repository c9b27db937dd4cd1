"""The statement a signature of a version vouches for: OpenSSF Model Signing v1.0. Pure.

``model_signing`` signs a directory as an in-toto Statement v1 whose predicate
(``https://model_signing/signature/v1.0``) lists every file as a resource
``{name, algorithm: sha256, digest}``, in path order, and whose one subject
carries a root digest: sha256 over the resources' raw digests, in that order.
A manifest already holds each file's path and sha256 (verified when the bytes
were), so zoo builds the same statement from the manifest without reading a
file, and a pulled directory verifies with ``model_signing verify key``.

The statement alone names a set of files, not what zoo published: a signature
of ``stub@v1`` would vouch just as well for ``other-stub@v7`` holding the same
bytes. So zoo adds a binding, ``predicate.zoo``, naming the stub, the version,
the manifest's digest and the signer's role (``publisher``, ``approval``,
``attestation``): a publisher's signature of a version that was never merged
cannot be passed off as an approval of it. OMS v1.0 says verifiers ignore predicate fields
they do not know, and ``model_signing`` 1.1 does (its verifier reads only
``serialization`` and ``resources``; the subject's name is informative), so the
binding costs no interoperability. A statement without one (signed by the
``model_signing`` tool over a pulled directory) vouches for the file set only:
``check_statement`` accepts it and ``is_bound`` says so, for a policy to decide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from zoo_repo.core.manifest import Manifest

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
PAYLOAD_TYPE = "application/vnd.in-toto+json"  # the DSSE envelope's payloadType
BINDING_FIELD = "zoo"
BINDING_TYPE = "zoo-repo/binding/v1"
# What ``model_signing`` records when it hashes a directory with its defaults:
# git's files are never part of a model. It writes them from a set, in no fixed
# order; zoo writes them sorted, and no verifier compares the order.
IGNORE_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
# Only this serialization can be checked against a manifest: one sha256 per file.
_METHOD, _HASH = "files", "sha256"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# What a signature says its signer did. An approval means "passed review and
# the gate"; only approvals count towards a policy's requirement.
ROLES = ("publisher", "approval", "attestation")
FILES_ONLY = "files"  # the role shown for a statement without binding: it vouches for bytes only
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


def path_order(path: str) -> tuple[str, ...]:
    """The order ``model_signing`` lists resources in: by ``PurePosixPath``, which
    compares a path's parts, not its text (``a/b`` sorts before ``a-b``)."""
    return tuple(path.split("/"))


def root_digest(digests: list[str]) -> str:
    """The subject's digest (hex): sha256 over the resources' raw digests, in order,
    as ``model_signing``'s ``Payload`` computes it."""
    hasher = hashlib.sha256()
    for hex_digest in digests:
        hasher.update(bytes.fromhex(hex_digest))
    return hasher.hexdigest()


def binding_for(manifest: Manifest, manifest_digest: str, role: str) -> dict[str, str]:
    """What zoo published under the file set: the stub, the version, the manifest, and what the signer did."""
    return {"type": BINDING_TYPE, "stub": str(manifest.stub), "version": manifest.version_name,
            "manifest": manifest_digest, "role": role}


def statement_for(manifest: Manifest, manifest_digest: str, role: str = "publisher") -> dict[str, Any]:
    """The OMS v1.0 statement over ``manifest``'s files, bound to its stub, version,
    ``manifest_digest`` (``sha256:<hex>`` of the manifest's text) and ``role``.

    Everything but ``predicate.zoo`` is what ``model_signing`` writes for a
    directory holding exactly these files; the subject's name, which it takes
    from the directory's name, is ``stub@vN``.
    """
    if not _DIGEST.fullmatch(manifest_digest):
        raise ValueError(f"manifest_digest must be sha256:<64 hex>, got {manifest_digest!r}")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    files = sorted(manifest.files, key=lambda f: path_order(f.path))
    resources = [{"name": f.path, "algorithm": _HASH, "digest": f.sha256} for f in files]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"{manifest.stub}@{manifest.version_name}",
                     "digest": {"sha256": root_digest([f.sha256 for f in files])}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": {"method": _METHOD, "hash_type": _HASH, "allow_symlinks": False,
                              "ignore_paths": list(IGNORE_PATHS)},
            "resources": resources,
            BINDING_FIELD: binding_for(manifest, manifest_digest, role),
        },
    }


def is_bound(statement: Any) -> bool:
    """Whether the statement carries zoo's binding (``check_statement`` says if it is right)."""
    predicate = statement.get("predicate") if isinstance(statement, dict) else None
    return isinstance(predicate, dict) and BINDING_FIELD in predicate


def role_of(statement: Any) -> str:
    """The signed role of a statement ``check_statement`` accepted; ``files`` when unbound."""
    if not is_bound(statement):
        return FILES_ONLY
    return str(statement["predicate"][BINDING_FIELD]["role"])


def check_statement(statement: Any, manifest: Manifest, manifest_digest: str) -> list[str]:
    """What stops ``statement`` vouching for ``manifest``: one line per problem,
    each naming the field; empty when it vouches for exactly the manifest's files
    (and, if it carries a binding, for this stub, version and manifest digest).

    ``statement`` is untrusted data (the parsed DSSE payload): any shape is met
    with a problem, never an exception.
    """
    if not isinstance(statement, dict):
        return [f"statement: expected a JSON object, got {type(statement).__name__}"]
    problems = []
    if statement.get("_type") != STATEMENT_TYPE:
        problems.append(f"_type: is {statement.get('_type')!r}, expected {STATEMENT_TYPE}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        problems.append(f"predicateType: is {statement.get('predicateType')!r}, expected {PREDICATE_TYPE}")
    predicate = statement.get("predicate")
    if not isinstance(predicate, dict):
        return [*problems, "predicate: missing or not an object"]
    problems += _check_serialization(predicate.get("serialization"))
    signed, resource_problems = _resources(predicate.get("resources"))
    problems += resource_problems
    if resource_problems:
        return problems
    problems += _check_subject(statement.get("subject"), [digest for _, digest in signed])
    problems += _check_files(dict(signed), manifest)
    if BINDING_FIELD in predicate:
        problems += _check_binding(predicate[BINDING_FIELD], binding_for(manifest, manifest_digest, ""))
    return problems


def _check_serialization(serialization: Any) -> list[str]:
    if not isinstance(serialization, dict):
        return ["predicate.serialization: missing or not an object"]
    problems = []
    if serialization.get("method") != _METHOD:
        problems.append(f"predicate.serialization.method: is {serialization.get('method')!r}; "
                        f"only {_METHOD!r} (one digest per file) can be checked against a manifest")
    if serialization.get("hash_type") != _HASH:
        problems.append(f"predicate.serialization.hash_type: is {serialization.get('hash_type')!r}; "
                        f"a manifest records {_HASH}")
    return problems


def _resources(raw: Any) -> tuple[list[tuple[str, str]], list[str]]:
    """The signed (path, sha256) pairs in their signed order, or the problems."""
    if not isinstance(raw, list):
        return [], ["predicate.resources: missing or not a list"]
    signed: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"predicate.resources[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return [], [f"{where}: expected an object with a string name"]
        name, digest = item["name"], item.get("digest")
        if item.get("algorithm") != _HASH or not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            return [], [f"{where} ({name}): expected algorithm sha256 and a 64-hex digest"]
        if name in seen:
            return [], [f"{where} ({name}): listed twice"]
        seen.add(name)
        signed.append((name, digest))
    return signed, []


def _check_subject(subject: Any, digests: list[str]) -> list[str]:
    if not isinstance(subject, list) or len(subject) != 1 or not isinstance(subject[0], dict):
        return ["subject: expected exactly one subject"]
    digest = subject[0].get("digest")
    claimed = digest.get("sha256") if isinstance(digest, dict) else None
    actual = root_digest(digests)
    if claimed != actual:
        return [f"subject[0].digest.sha256: is {claimed!r}, but the resources hash to {actual}"]
    return []


def _check_files(signed: dict[str, str], manifest: Manifest) -> list[str]:
    """Both ways: every manifest file signed with its sha256, nothing else signed."""
    problems = []
    ours = {f.path: f.sha256 for f in manifest.files}
    for path in sorted(ours.keys() | signed.keys(), key=path_order):
        if path not in signed:
            problems.append(f"predicate.resources: {path} is in the manifest but not signed")
        elif path not in ours:
            problems.append(f"predicate.resources: {path} is signed but not in the manifest")
        elif signed[path] != ours[path]:
            problems.append(f"predicate.resources: {path} was signed as sha256:{signed[path]}, "
                            f"the manifest has sha256:{ours[path]}")
    return problems


def _check_binding(raw: Any, expected: dict[str, str]) -> list[str]:
    where = f"predicate.{BINDING_FIELD}"
    if not isinstance(raw, dict):
        return [f"{where}: expected an object"]
    if raw.get("type") != BINDING_TYPE:
        return [f"{where}.type: is {raw.get('type')!r}, expected {BINDING_TYPE}"]
    labels = {"stub": "stub", "version": "version", "manifest": "manifest digest"}
    problems = [f"{where}.{key}: the signature names {labels[key]} {raw.get(key)!r}, this is {value}"
                for key, value in expected.items() if key in labels and raw.get(key) != value]
    if raw.get("role") not in ROLES:
        problems.append(f"{where}.role: is {raw.get('role')!r}, expected one of {', '.join(ROLES)}")
    return problems


# -- the envelope ---------------------------------------------------------------
@dataclass(frozen=True)
class Envelope:
    """The parts of a Sigstore bundle a key signature is checked by: the DSSE
    envelope's payload type, payload and (first) signature, and the key hint
    (``sha256`` hex of the signer's PEM public key, as ``model_signing`` writes it)."""

    payload_type: str
    payload: bytes
    signature: bytes
    key_hint: str


def parse_bundle(data: bytes) -> Envelope:
    """The envelope of a Sigstore bundle signed by a key (``model_signing sign key``
    writes one); ValueError naming the field that is wrong. ``data`` is untrusted."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"is not JSON ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise ValueError("is not a Sigstore bundle (expected a JSON object)")
    if doc.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise ValueError(f"bundle media type is {doc.get('mediaType')!r}, expected {BUNDLE_MEDIA_TYPE}")
    material = doc.get("verificationMaterial")
    if not isinstance(material, dict):
        raise ValueError("is not a Sigstore bundle (no verificationMaterial object)")
    key = material.get("publicKey")
    if not isinstance(key, dict):
        raise ValueError("the bundle is signed by a certificate, not by a key" if "certificate" in material
                         or "x509CertificateChain" in material else "verificationMaterial.publicKey is missing")
    hint = key.get("hint") or ""
    envelope = doc.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        raise ValueError("the bundle holds no DSSE envelope")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures or not isinstance(signatures[0], dict):
        raise ValueError("the bundle holds no DSSE envelope signature")
    payload_type = envelope.get("payloadType")
    if not isinstance(hint, str) or not isinstance(payload_type, str):
        raise ValueError("publicKey.hint and dsseEnvelope.payloadType must be strings")
    return Envelope(payload_type, _b64(envelope.get("payload"), "dsseEnvelope.payload"),
                    _b64(signatures[0].get("sig"), "dsseEnvelope.signatures[0].sig"), hint)


def _b64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{field}: is not base64") from None


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1's pre-authentication encoding: the bytes a DSSE signature is over
    (secure-systems-lab/dsse protocol.md; ``model_signing`` computes the same)."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
