"""A version's signature files checked against a set of keys, with no zoo around them.

``ops.trusting`` judges a pull with a workspace at hand; the review gate
(``review.signed``) and the catalog sit below ops and read bytes from git or a
checkout themselves, so what they need of it lives here: a policy text with
each signer's fingerprint filled in, and each signature file checked with the
key its hint names. The rules are the same: a bundle is verified only with a
key whose hint it carries, its signed role must be the one its file name says,
and a file made with none of the keys is ``unknown`` (shown, never counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from zoo_repo.core import trust as tr
from zoo_repo.core.manifest import Manifest
from zoo_repo.errors import ManifestError, SignatureError

if TYPE_CHECKING:
    from zoo_repo.model.signature import Verified

NOT_LISTED = "signed by a key that trust.yaml does not list"


def policy_from_text(text: str, where: str = tr.TRUST_NAME) -> tr.Trust:
    """``trust.yaml``'s text parsed, each signer with its key's fingerprint; raises
    ManifestError (the file) or SignatureError (a key that does not load)."""
    from zoo_repo.model import signature

    parsed = tr.parse_policy(text, where)
    signers: list[tr.Signer] = []
    for s in parsed.signers:
        try:
            fingerprint = signature.fingerprint((s.key or "").encode())
        except SignatureError as exc:
            raise SignatureError(where, f"signers.{s.name}.key: {exc.problem}") from None
        twin = next((t.name for t in signers if t.fingerprint == fingerprint), None)
        if twin is not None:  # one key, two names: its approval would count twice, or a lockfile refuses it
            raise ManifestError(where, f"signers.{s.name}.key: is also the key of {twin}; one key, one signer")
        signers.append(replace(s, fingerprint=fingerprint))
    return replace(parsed, signers=tuple(signers))


def keys_of(trust: tr.Trust) -> dict[str, bytes]:
    """fingerprint → PEM for every signer of a policy read by ``policy_from_text``."""
    return {s.fingerprint: s.key.encode() for s in trust.signers if s.fingerprint and s.key}


def examine(files: Sequence[tuple[str, bytes]], manifest: Manifest, digest: str, keys: dict[str, bytes],
            unknown: str = NOT_LISTED) -> list[tr.Seen]:
    """Each signature file (name, bytes) of ``manifest``'s version, checked with the key
    its hint names (a bundle without a hint: each key in turn)."""
    seen = []
    for name, data in files:
        named = tr.role_in_name(name)
        signer, verified, problem = verifying_key(data, name, manifest, digest, keys, unknown)
        if verified is None:
            seen.append(tr.Seen(name, signer, named, problem, unknown=problem == unknown))
        elif verified.role != named:  # the name is not signed; what it claims must be what is
            seen.append(tr.Seen(name, signer, verified.role, f"is named as {named} but signed as {verified.role}"))
        else:
            seen.append(tr.Seen(name, signer, verified.role))
    return seen


def verifying_key(data: bytes, where: str, manifest: Manifest, digest: str, keys: dict[str, bytes],
                  unknown: str) -> tuple[str | None, Verified | None, str]:
    """(fingerprint, verified, "") for the key among ``keys`` that the bundle verifies
    with for this version; else (the one key tried or None, None, why). A key is tried
    only if the bundle's hint names it (a bundle without a hint: each key in turn);
    ``unknown`` is why when no key could be tried."""
    from zoo_repo.model import signature

    try:
        envelope = signature.read_envelope(data, where)
    except SignatureError as exc:
        return None, None, exc.problem
    hints = {signature.key_hint(pem): fp for fp, pem in keys.items()}
    if envelope.key_hint:
        candidates = [hints[envelope.key_hint]] if envelope.key_hint in hints else []
    else:
        candidates = list(keys)
    problem = unknown
    for fp in candidates:
        try:
            return fp, signature.verify(data, manifest, digest, keys[fp]), ""
        except SignatureError as exc:
            problem = exc.problem
    return (candidates[0] if len(candidates) == 1 else None), None, problem
