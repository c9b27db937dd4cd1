"""Who may vouch for a zoo's versions, and whether a version's signatures meet it. Pure.

A zoo's reviewed policy is ``trust.yaml`` at its root, in git::

    # trust.yaml: who signs this zoo's versions, and what a version needs.
    schema: 1
    signers:
      alice:
        key: |
          -----BEGIN PUBLIC KEY-----
          …
    require:
      approvals: 1

A consumer's *pins* have the same shape with fingerprints instead of keys (a
lockfile's ``trust:``, the user's ``zoo trust add``, ``Zoo.open(trust=)``):
they are what a pull is judged by, never a policy the remote hands over. A key
from anywhere (the checkout, the remote's copy of trust.yaml) is used only for
a signer whose pinned fingerprint it has.

A version meets a ``Trust`` when ``approvals`` distinct signers it names made a
valid approval of exactly this version (``core.signing``'s binding: stub,
version, manifest digest, role). Publisher signatures and attestations are
shown, never counted: a publisher's signature of a pull request that was never
merged must not pass for a reviewed version, and a signature of the file set
alone (``model_signing sign``) names no version, so it could be replayed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zoo_repo.core import yamltext
from zoo_repo.errors import ManifestError

TRUST_NAME = "trust.yaml"
SIGNATURES = "signatures"  # a version directory's folder of signature files
SIGNATURE_SUFFIX = ".sig"
SCHEMA = 1
APPROVAL = "approval"
MAX_SIGNATURES = 64  # per version: far above any real review, and a bound on what a pull reads
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
_FILE = re.compile(r"[0-9a-f]{16}-(publisher|approval|attestation|files)\.sig")
_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?")


@dataclass(frozen=True)
class Signer:
    """A named signer: by public key (PEM text) in a policy, by fingerprint in pins."""

    name: str
    fingerprint: str | None = None  # sha256:<hex> of the key's DER SubjectPublicKeyInfo
    key: str | None = None


@dataclass(frozen=True)
class Trust:
    """Signers, and how many of them must approve a version."""

    signers: tuple[Signer, ...]
    approvals: int = 1
    where: str = field(default=TRUST_NAME, compare=False)  # where it was read, for messages

    def named(self, fingerprint: str | None) -> str | None:
        return next((s.name for s in self.signers if s.fingerprint == fingerprint), None)

    def names(self) -> str:
        return ", ".join(s.name for s in self.signers) or "nobody"


@dataclass(frozen=True)
class Seen:
    """One signature file of a version, as checked: valid (``problem`` None) or not."""

    file: str  # its name under signatures/
    signer: str | None  # the fingerprint it verified with
    role: str | None  # the signed role (``files`` when it names no version); else as its name says
    problem: str | None = None
    unknown: bool = False  # made with a key none of the signers has: not checked, does not count


def signature_limit(manifest_bytes: int) -> int:
    """The most bytes one signature of a version may hold: a bundle restates the
    manifest's paths and digests (base64 inside JSON), so it is bounded by what the
    manifest declares, not by a fixed cap that a crafted file could fill."""
    return 64 * 1024 + 3 * manifest_bytes


def signature_name(fingerprint: str, role: str) -> str:
    """The file a signer's signature of one role is kept in: one per signer and role,
    so signing again adds nothing and nothing is ever replaced."""
    return f"{fingerprint.removeprefix('sha256:')[:16]}-{role}{SIGNATURE_SUFFIX}"


def is_signature_name(name: str) -> bool:
    return _FILE.fullmatch(name) is not None


def role_in_name(name: str) -> str | None:
    match = _FILE.fullmatch(name)
    return match.group(1) if match else None


# -- reading and writing ------------------------------------------------------
def parse_policy(text: str, where: str = TRUST_NAME) -> Trust:
    """A zoo's ``trust.yaml``: signers by name and PEM public key, and what a version needs."""
    doc = _load(text, where)
    raw = doc.get("signers")
    if not isinstance(raw, dict):
        raise ManifestError(where, "expected 'signers:' mapping names to {key: <PEM public key>}")
    signers = []
    for name, entry in raw.items():
        _check_name(name, where)
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, str) or not _PEM.fullmatch(key.strip() + "\n"):
            raise ManifestError(where, f"signers.{name}.key: expected a PEM public key "
                                       "(-----BEGIN PUBLIC KEY----- …)")
        signers.append(Signer(name, key=key.strip() + "\n"))
    return Trust(tuple(signers), _approvals(doc, where, len(signers)), where)


def render_policy(trust: Trust) -> str:
    doc = {"schema": SCHEMA,
           "signers": {s.name: {"key": s.key or ""} for s in trust.signers},
           "require": {"approvals": trust.approvals}}
    return ("# trust.yaml: who signs this zoo's versions, and what a version needs. Changes are\n"
            "# reviewed like any other: `zoo review` flags them.\n" + yamltext.dump(doc))


def pins_from_doc(raw: Any, where: str) -> Trust:
    """Pins as a lockfile or the user's config holds them: ``{approvals, signers: {name: fingerprint}}``."""
    if not isinstance(raw, dict) or not isinstance(raw.get("signers"), dict) or not raw["signers"]:
        raise ManifestError(where, "trust: expected {approvals: N, signers: {NAME: sha256:…}}")
    signers = []
    for name, value in raw["signers"].items():
        _check_name(name, where)
        fingerprint = value.get("fingerprint") if isinstance(value, dict) else value
        key = value.get("key") if isinstance(value, dict) else None
        if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint):
            raise ManifestError(where, f"trust.signers.{name}: expected a key fingerprint sha256:<64 hex>")
        if key is not None and (not isinstance(key, str) or not _PEM.fullmatch(key.strip() + "\n")):
            raise ManifestError(where, f"trust.signers.{name}.key: expected a PEM public key")
        signers.append(Signer(name, fingerprint, key.strip() + "\n" if key else None))
    if len({s.fingerprint for s in signers}) != len(signers):
        raise ManifestError(where, "trust.signers: one key is pinned under two names")
    return Trust(tuple(signers), _approvals(raw, where, len(signers)), where)


def pins_to_doc(trust: Trust, keys: bool = False) -> dict[str, Any]:
    """The doc ``pins_from_doc`` reads; with ``keys``, each signer's key too (the user's config)."""
    signers: dict[str, Any] = {}
    for s in sorted(trust.signers, key=lambda s: s.name):
        signers[s.name] = {"fingerprint": s.fingerprint, "key": s.key} \
            if keys and s.key else s.fingerprint
    return {"approvals": trust.approvals, "signers": signers}


def with_signer(trust: Trust, signer: Signer) -> Trust:
    """``trust`` with ``signer`` added, or replacing the one of that name."""
    kept = tuple(s for s in trust.signers if s.name != signer.name and s.fingerprint != signer.fingerprint)
    return replace(trust, signers=(*kept, signer))


def _load(text: str, where: str) -> dict[str, Any]:
    try:
        doc = yamltext.load(text)
    except yamltext.YamlProblem as exc:
        raise ManifestError(where, str(exc)) from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ManifestError(where, f"expected a zoo trust file (schema: {SCHEMA}, signers: …, require: …)")
    return doc


def _check_name(name: object, where: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ManifestError(where, f"signer name {name!r}: expected lowercase letters, digits, '.', '_' or '-'")


def _approvals(doc: dict[str, Any], where: str, nsigners: int) -> int:
    require = doc.get("require", {"approvals": 1})
    raw = require.get("approvals") if isinstance(require, dict) else doc.get("approvals")
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ManifestError(where, f"approvals: is {raw!r}; expected a whole number of at least 1 "
                                   "(a consumer who wants nothing checked pins nothing)")
    if raw > nsigners:
        raise ManifestError(where, f"approvals: {raw} needed, but only {nsigners} signer(s) listed")
    return raw


# -- judging ------------------------------------------------------------------
def approvers(trust: Trust, seen: Iterable[Seen]) -> list[str]:
    """The names of the signers in ``trust`` whose valid approval ``seen`` holds, in order."""
    names: list[str] = []
    for s in seen:
        name = trust.named(s.signer)
        if s.problem is None and s.role == APPROVAL and name is not None and name not in names:
            names.append(name)
    return names


def describe(trust: Trust, s: Seen) -> str:
    """One signature, for a line: ``approval by alice``, ``publisher signature by key 0fcc276c73598374
    (signed by a key that is not pinned)``, or the file and its problem."""
    what = {"approval": "approval", "files": "file-set signature"}.get(s.role or "", f"{s.role} signature")
    if s.unknown:
        return f"{what} by key {s.file[:16]} ({s.problem})"
    if s.problem is not None:
        return f"{SIGNATURES}/{s.file}: {s.problem}"
    return f"{what} by {trust.named(s.signer) or (s.signer or '?')[:23] + '…'}"


def judge(trust: Trust, ref: str, seen: Sequence[Seen]) -> str | None:
    """None when ``ref``'s signatures meet ``trust``; else the one line saying who was
    expected and what was found."""
    found = approvers(trust, seen)
    if len(found) >= trust.approvals:
        return None
    need = f"{trust.approvals} approval{'s' if trust.approvals > 1 else ''}"
    what = "; ".join(describe(trust, s) for s in seen) if seen else "no signature"
    return f"{ref} needs {need} by {trust.names()} ({trust.where}); found {what}"


def seen_dict(trust: Trust, s: Seen) -> dict[str, Any]:
    """One signature as plain data (``zoo show --json``, ``zoo review --json``): the
    file, its role, the key's fingerprint and its signer's name (None when not listed)."""
    return {"file": s.file, "role": s.role, "signer": s.signer, "name": trust.named(s.signer) if s.signer else None,
            "valid": s.problem is None, "problem": s.problem}
