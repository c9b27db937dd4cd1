"""``zoo sign`` / ``zoo approve``: add a signature to a published version, as a commit.

A signature is a file in the version's directory, ``signatures/<key>-<role>.sig``
(one per signer and role: signing again adds nothing, nothing is replaced), so
a pull request shows it to reviewers. On the release branch it is then
mirrored beside the manifest on the remote (``ops.project``), for consumers
without git.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from zoo_repo.core import trust as tr
from zoo_repo.core.manifest import Manifest
from zoo_repo.errors import SignatureError, ToolError
from zoo_repo.ops.record import list_on_remote
from zoo_repo.repo import git, gitcommit
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import create_exclusive


@dataclass(frozen=True)
class SignResult:
    ref: str
    role: str
    signer: str  # the key's fingerprint
    name: str | None  # the signer's name in trust.yaml, if it lists the key
    path: Path  # the signature file
    added: bool  # False: this signer's signature of this role was there already
    commit: str | None = None
    listed: bool = False  # mirrored on the remote for consumers without git


def signature_for(zoo: Workspace, manifest: Manifest, key: str | Path, role: str,
                  digest: str | None = None) -> tuple[str, bytes, str]:
    """(file name, bundle, fingerprint) of ``key``'s signature of ``manifest``, checked
    against the key's own public half before it is kept."""
    from zoo_repo.model import signature

    public = signature.public_key_of(key)
    digest = digest or zoo.digest(manifest.stub, manifest.version)
    bundle = signature.sign(manifest, digest, key, role)
    signature.verify(bundle, manifest, digest, public)  # never keep a signature that does not verify
    fingerprint = signature.fingerprint(public)
    return tr.signature_name(fingerprint, role), bundle, fingerprint


def sign(zoo: Workspace, manifest: Manifest, key: str | Path, role: str = "publisher",
         commit: bool = True) -> SignResult:
    """Sign ``manifest``'s version with ``key`` as ``role``; committed unless told not to,
    and on the release branch mirrored on the remote."""
    return sign_many(zoo, [manifest], key, role, commit)[0]


def sign_many(zoo: Workspace, manifests: Sequence[Manifest], key: str | Path, role: str = "publisher",
              commit: bool = True) -> list[SignResult]:
    """Sign each version with ``key`` as ``role``, in one commit (and one move of the
    remote's listing): an after-merge CI job approves everything a merge added at once."""
    from zoo_repo.model import signature
    from zoo_repo.ops import trusting

    zoo.root  # noqa: B018 - a signature is committed beside the manifest: a checkout is needed
    if role not in ("publisher", "approval", "attestation"):
        raise SignatureError(role, "is not a role; expected publisher, approval or attestation")
    fingerprint = signature.fingerprint(signature.public_key_of(key))
    policy = trusting.policy(zoo)
    who = policy.named(fingerprint) if policy else None
    results: list[SignResult] = []
    written: list[Path] = []
    try:
        for manifest in manifests:
            ref = f"{manifest.stub}@{manifest.version_name}"
            folder = zoo.version_dir(manifest.stub, manifest.version) / tr.SIGNATURES
            path = folder / tr.signature_name(fingerprint, role)
            if path.exists() or path.is_symlink():
                if not commit or git.is_tracked(zoo.root, path.relative_to(zoo.root).as_posix()):
                    results.append(SignResult(ref, role, fingerprint, who, path, False))
                    continue
                # Not committed: left by a run killed before its commit, or put there by
                # hand. It is replaced by a signature made now, never taken on trust.
                path.unlink()
            _, bundle, _ = signature_for(zoo, manifest, key, role)
            added = create_exclusive(path, bundle)
            if added:
                written.append(path)
            results.append(SignResult(ref, role, fingerprint, who, path, added))
    except BaseException:
        for path in written:  # all or nothing: no half-signed batch is left to commit by hand
            path.unlink(missing_ok=True)
        raise
    if not commit:
        return results
    if written:
        rels = [p.relative_to(zoo.root).as_posix() for p in written]
        verb = {"approval": "Approve", "publisher": "Sign", "attestation": "Attest"}[role]
        what = results[0].ref if len(written) == 1 else f"{len(written)} versions"
        try:
            sha: str | None = gitcommit.commit(zoo.root, rels, f"{verb} {what} ({who or fingerprint[:19]})")
        except ToolError:
            git.unstage(zoo.root, rels)
            for path in written:
                path.unlink(missing_ok=True)
            raise
    else:
        sha = None
    listed = list_on_remote(zoo, "signatures of " + (results[0].ref if len(results) == 1
                                                       else f"{len(results)} versions"))
    return [replace(r, commit=sha if r.added else None, listed=listed) for r in results]


def added_since(zoo: Workspace, base: str) -> list[Manifest]:
    """The versions of the checkout that ``base`` (a git ref) does not have: what a
    merge (or a pull request) added, for ``zoo approve --since``."""
    from zoo_repo.core.manifest import MANIFEST_NAME

    sha = git.resolve_commit(zoo.root, base)
    at_base = set(git.ls_tree(zoo.root, sha, "manifests"))
    found = []
    for stub in zoo.stubs():
        for number in zoo.versions(stub):
            if f"manifests/{stub}/v{number}/{MANIFEST_NAME}" not in at_base:
                found.append(zoo.manifest(stub, number))
    return found


def attach(zoo: Workspace, manifest: Manifest, bundle_path: str | Path, commit: bool = True) -> SignResult:
    """Add a signature made elsewhere — ``model_signing sign key`` over a pulled copy of
    the version, say — once it verifies for this version with a key the zoo's
    trust.yaml or the pins know. Kept under its signer and its signed role (``files``
    for a file-set signature, which names no version and so never counts as an
    approval)."""
    from zoo_repo.core.trust import signature_limit
    from zoo_repo.model import vouch
    from zoo_repo.model.readfile import read_bounded
    from zoo_repo.ops import trusting

    ref = f"{manifest.stub}@{manifest.version_name}"
    where = str(bundle_path)
    text = zoo.manifest_text(manifest.stub, manifest.version)
    try:
        data = read_bounded(where, signature_limit(len(text.encode("utf-8"))), where)
    except FileNotFoundError:
        raise SignatureError(where, "no such signature file") from None
    known = trusting.known_signers(zoo)
    keys = trusting.keys_for(zoo, known)
    fingerprint, verified, problem = vouch.verifying_key(
        data, where, manifest, zoo.digest(manifest.stub, manifest.version), keys,
        "was signed by a key that neither trust.yaml nor your pins list")
    if fingerprint is None or verified is None:
        raise SignatureError(where, problem, hint="add the signer's public key first: `zoo trust add NAME KEYFILE`")
    path = zoo.version_dir(manifest.stub, manifest.version) / tr.SIGNATURES / \
        tr.signature_name(fingerprint, verified.role)
    who = known.named(fingerprint)
    if path.exists() and git.is_tracked(zoo.root, path.relative_to(zoo.root).as_posix()):
        return SignResult(ref, verified.role, fingerprint, who, path, False)
    path.unlink(missing_ok=True)
    create_exclusive(path, data)
    if not commit:
        return SignResult(ref, verified.role, fingerprint, who, path, True)
    rel = path.relative_to(zoo.root).as_posix()
    try:
        sha = gitcommit.commit(zoo.root, [rel],
                               f"Attach a {verified.role} signature of {ref} ({who or fingerprint[:19]})")
    except ToolError:
        git.unstage(zoo.root, [rel])
        path.unlink(missing_ok=True)
        raise
    listed = list_on_remote(zoo, f"signatures of {ref}")
    return SignResult(ref, verified.role, fingerprint, who, path, True, sha, listed)
