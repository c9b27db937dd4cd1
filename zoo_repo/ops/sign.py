"""``zoo sign`` / ``zoo approve``: add a signature to a published version, as a commit.

A signature is a file in the version's directory, ``signatures/<key>-<role>.sig``
(one per signer and role: signing again adds nothing, nothing is replaced), so
a pull request shows it to reviewers. On the release branch it is then
mirrored beside the manifest on the remote (``ops.project``), for consumers
without git.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zoo_repo.core import trust as tr
from zoo_repo.core.manifest import Manifest
from zoo_repo.errors import RemoteError, SignatureError, ToolError, ZooError
from zoo_repo.repo import git
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
    from zoo_repo.model import signature
    from zoo_repo.ops import trusting

    zoo.root  # noqa: B018 - a signature is committed beside the manifest: a checkout is needed
    if role not in ("publisher", "approval", "attestation"):
        raise SignatureError(role, "is not a role; expected publisher, approval or attestation")
    ref = f"{manifest.stub}@{manifest.version_name}"
    fingerprint = signature.fingerprint(signature.public_key_of(key))
    policy = trusting.policy(zoo)
    who = policy.named(fingerprint) if policy else None
    path = zoo.version_dir(manifest.stub, manifest.version) / tr.SIGNATURES / tr.signature_name(fingerprint, role)
    rel = path.relative_to(zoo.root).as_posix()
    if path.exists() or path.is_symlink():
        return SignResult(ref, role, fingerprint, who, path, False, listed=_list(zoo, ref) if commit else False)
    _, bundle, _ = signature_for(zoo, manifest, key, role)
    if not create_exclusive(path, bundle):
        return SignResult(ref, role, fingerprint, who, path, False)
    if not commit:
        return SignResult(ref, role, fingerprint, who, path, True)
    verb = {"approval": "Approve", "publisher": "Sign", "attestation": "Attest"}[role]
    try:
        sha = git.commit(zoo.root, [rel], f"{verb} {ref} ({who or fingerprint[:19]})")
    except ToolError:
        git.unstage(zoo.root, [rel])
        path.unlink(missing_ok=True)
        raise
    return SignResult(ref, role, fingerprint, who, path, True, sha, _list(zoo, ref))


def _list(zoo: Workspace, ref: str) -> bool:
    """On the release branch, mirror the commit's signatures on the remote; whether that happened."""
    from zoo_repo.ops.project import after_commit_hint, project
    from zoo_repo.repo.release import on_release_branch

    if not on_release_branch(zoo.root):
        return False  # a branch's signatures reach consumers when it is merged and pushed
    try:
        project(zoo)
    except ZooError as exc:
        raise RemoteError(f"the signature of {ref} is committed, but consumers without git do not see it "
                          f"yet: {exc.message}", hint=after_commit_hint(exc)) from exc
    return True
