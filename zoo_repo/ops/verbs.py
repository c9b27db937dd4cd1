"""The ``Zoo`` façade's verbs for signatures and trust (``zoo sign``, ``approve``, ``trust``)
and for a stub's lifecycle (``zoo deprecate``): mixins, so ``api.Zoo`` stays one class
and each family lives beside the others here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.core.stub import Ref, Stub
from zoo_repo.repo.workspace import Workspace, as_stub

if TYPE_CHECKING:
    from zoo_repo.core.trust import Seen, Trust
    from zoo_repo.ops.deprecate import DeprecateResult
    from zoo_repo.ops.sign import SignResult

PathLike = str | os.PathLike[str]


class SigningVerbs(Workspace):
    def sign(self, ref: Ref | Stub | str, key: PathLike, *, role: str = "publisher",
             commit: bool = True) -> SignResult:
        """Add ``key``'s signature (``role``: publisher, approval or attestation) to the
        version ``ref`` names, committed; on the release branch also put on the remote."""
        from zoo_repo.ops.sign import sign

        return sign(self, self.resolve(ref), Path(key), role=role, commit=commit)

    def approve(self, ref: Ref | Stub | str, key: PathLike, *, commit: bool = True) -> SignResult:
        """Sign the version as approved: it passed review and the gate (``sign`` with role approval)."""
        return self.sign(ref, key, role="approval", commit=commit)

    def approve_added(self, base: str, key: PathLike, *, commit: bool = True) -> list[SignResult]:
        """Approve every version added since the git ref ``base``, in one commit: the
        after-merge CI job, with a release key, once the gate passed."""
        from zoo_repo.ops.sign import added_since, sign_many

        return sign_many(self, added_since(self, base), Path(key), "approval", commit)

    def attach_signature(self, ref: Ref | Stub | str, bundle: PathLike, *, commit: bool = True) -> SignResult:
        """Add a signature made elsewhere (``model_signing sign key`` over a pulled copy)
        to the version ``ref`` names, once it verifies with a key the zoo or the pins know."""
        from zoo_repo.ops.sign import attach

        return attach(self, self.resolve(ref), Path(bundle), commit=commit)

    def signatures(self, ref: Ref | Stub | str) -> list[Seen]:
        """The version's signatures, each checked against the zoo's trust.yaml (and the
        pins in force): who signed, as what, and whether it is valid."""
        from zoo_repo.ops.trusting import report

        return report(self, self.resolve(ref))

    def add_signer(self, name: str, key: PathLike, *, approvals: int | None = None) -> Trust:
        """Add signer ``name`` (public key file ``key``) to the checkout's trust.yaml, and
        set how many approvals a version needs; written for review, not committed."""
        from zoo_repo.ops.trusting import add_to_policy

        return add_to_policy(self, name, os.fspath(key), approvals)

    def pin_signer(self, name: str, key: PathLike, *, approvals: int | None = None,
                   every_remote: bool = False) -> tuple[Trust, str]:
        """Pin signer ``name`` for this zoo's remote in the user's config (``zoo trust add``):
        from then on every pull from it needs their approval. Returns the pins and the file."""
        from zoo_repo.ops.trusting import pin_signer

        return pin_signer(self, name, os.fspath(key), approvals, every_remote)

    def remove_signer(self, name: str) -> Trust | None:
        """Remove signer ``name`` from trust.yaml (written for review); the policy left."""
        from zoo_repo.ops.trusting import remove_from_policy

        return remove_from_policy(self, name)

    def unpin_signer(self, name: str, *, every_remote: bool = False) -> tuple[Trust | None, str]:
        """Remove the user's pin of signer ``name`` for this zoo's remote; (pins left, the file)."""
        from zoo_repo.ops.trusting import unpin_signer

        return unpin_signer(self, name, every_remote)

    def trust_in_force(self) -> list[Trust]:
        """Every set of pins a pull from this zoo must meet (``trust=`` or the lockfile's,
        then the user's own, which are a floor); empty when nothing is verified."""
        from zoo_repo.ops.trusting import requirements

        return requirements(self)

    def policy(self) -> Trust | None:
        """The zoo's trust.yaml, each signer with its key's fingerprint; None without one."""
        from zoo_repo.ops.trusting import policy

        return policy(self)


class LifecycleVerbs(Workspace):
    def deprecate(self, stub: Stub | str, message: str, *, successor: Stub | str | None = None,
                  branch: str | None = None) -> DeprecateResult:
        """Deprecate ``stub`` (``message`` says why; ``successor``, a stub with a published
        version, what to use instead), committed; on the release branch the remote follows,
        so git-less consumers see it; ``branch`` (``""``: ``deprecate/<stub>``) commits on a
        new branch for review instead. Its versions stay pullable; pulls and ``lock`` warn."""
        from zoo_repo.ops.deprecate import deprecate

        return deprecate(self, as_stub(stub), message, None if successor is None else str(successor), branch=branch)

    def undeprecate(self, stub: Stub | str, *, branch: str | None = None) -> DeprecateResult:
        """Take ``stub``'s deprecation back, committed as ``deprecate`` commits."""
        from zoo_repo.ops.deprecate import undeprecate

        return undeprecate(self, as_stub(stub), branch=branch)

    def _listed(self, stub: Stub, filters: object) -> bool:
        """Whether ``list`` shows ``stub``: a deprecated one only when ``filters.deprecated`` asks for it."""
        return bool(getattr(filters, "deprecated", False)) or self.deprecation(stub) is None
