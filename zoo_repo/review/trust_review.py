"""What ``zoo review`` says about signing: each added version's signatures, and a
change to trust.yaml, which must be impossible to miss.

A change to trust.yaml changes who may vouch for every later version, so the
review puts it first, names the signers it adds, removes or re-keys (same name,
another key) and the approvals it now asks for. The change does not judge its own
pull request: ``zoo check`` reads the policy at the base ref.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo_repo.core import trust as tr
from zoo_repo.errors import ManifestError, NotRegularFile, SignatureError, TooLarge
from zoo_repo.model.readfile import TEXT_LIMIT, read_bounded
from zoo_repo.repo import git

_MARK = {True: "✅", False: "❌", None: "➖"}  # valid, refused, not checked (a key the policy does not list)


@dataclass(frozen=True)
class TrustChange:
    """How trust.yaml differs between the base ref and the working tree."""

    added: tuple[str, ...] = ()  # signers now listed that were not
    removed: tuple[str, ...] = ()
    rekeyed: tuple[str, ...] = ()  # same name, another key's fingerprint
    approvals: tuple[int | None, int | None] = (None, None)  # before, after (None: no policy)
    created: bool = False  # there was none at base
    deleted: bool = False  # there is none now
    problem: str | None = None  # the new trust.yaml does not parse (the trust rule refuses it)

    def summary(self) -> str:
        """One line naming everything that changes."""
        if self.created:
            parts = [f"added: it now names signers {', '.join(self.added) or 'none'}"]
        elif self.deleted:
            parts = ["deleted: no signer is listed any more"]
        else:
            parts = ["changed"]
            parts += [f"{what}: {', '.join(names)}" for what, names in
                      (("signers added", self.added), ("removed", self.removed), ("re-keyed", self.rekeyed))
                      if names]
        before, after = self.approvals
        if before != after and before is not None and after is not None:
            parts.append(f"approvals {before} → {after}")
        elif after is not None and self.created:
            parts.append(f"{after} approval{'s' if after > 1 else ''} required")
        if self.problem:
            parts.append(f"and it does not parse ({self.problem})")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        before, after = self.approvals
        return {"added": list(self.added), "removed": list(self.removed), "rekeyed": list(self.rekeyed),
                "approvals_before": before, "approvals_after": after, "created": self.created,
                "deleted": self.deleted, "problem": self.problem, "summary": self.summary()}


def trust_change(root: Path, sha: str) -> TrustChange | None:
    """None when trust.yaml is the same at commit ``sha`` and in the working tree."""
    blob = git.ls_tree(root, sha, tr.TRUST_NAME).get(tr.TRUST_NAME)
    before_raw = git.read_blobs(root, [blob])[blob] if blob else None
    try:
        after_raw: bytes | None = read_bounded(str(root / tr.TRUST_NAME), TEXT_LIMIT, tr.TRUST_NAME)
    except FileNotFoundError:
        after_raw = None
    except (NotRegularFile, TooLarge) as exc:  # not a file a reader would take: that too is a change
        return TrustChange(deleted=before_raw is not None, problem=exc.message)
    if before_raw == after_raw:
        return None
    before, _ = _policy(before_raw)
    after, problem = _policy(after_raw)
    old = {s.name: s.fingerprint for s in before.signers} if before else {}
    new = {s.name: s.fingerprint for s in after.signers} if after else {}
    return TrustChange(
        added=tuple(sorted(set(new) - set(old))),
        removed=tuple(sorted(set(old) - set(new))),
        rekeyed=tuple(sorted(n for n in set(old) & set(new) if old[n] != new[n])),
        approvals=(before.approvals if before else None, after.approvals if after else None),
        created=before_raw is None, deleted=after_raw is None, problem=problem,
    )


def _policy(raw: bytes | None) -> tuple[tr.Trust | None, str | None]:
    if raw is None:
        return None, None
    from zoo_repo.model.vouch import policy_from_text

    try:
        return policy_from_text(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, "is not UTF-8 text"
    except (ManifestError, SignatureError) as exc:
        return None, exc.problem


def signature_line(policy: tr.Trust | None, s: tr.Seen) -> str:
    """One signature for the review: a mark, then who signed it as what, or its problem."""
    mark = _MARK[None if s.unknown else s.problem is None]
    return f"{mark} {tr.describe(policy or tr.Trust(()), s)}"


def render_trust_change(change: TrustChange | None, base: str) -> list[str]:
    """The flagged lines at the top of the review (none when trust.yaml is unchanged)."""
    if change is None:
        return []
    summary = change.summary().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return [f"> ⚠️ **trust.yaml {summary}.** This changes who may approve every later version; "
            f"this pull request itself is judged by trust.yaml at `{base}`.", ""]
