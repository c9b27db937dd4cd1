"""The signing rules of ``zoo check``: ``trust``, ``signature`` and (asked for) ``signed``.

The policy a change is judged by is trust.yaml **at the base ref** when there is
one: a pull request that adds its own key to trust.yaml and signs with it must
not pass its own gate. Without a base, the working tree's trust.yaml is the
policy. Signatures by keys the policy does not list are no problem here (anyone
may sign; ``zoo review`` shows them); a signature by a listed key must verify
for exactly its version, since a forged or copied one is a claim by that signer.

Signatures are checked only once cryptography is needed: a zoo without
signature files never imports it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from zoo_repo.core import trust as tr
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest, digest_of, parse_manifest
from zoo_repo.errors import ManifestError, NotRegularFile, SignatureError, TooLarge
from zoo_repo.model.readfile import TEXT_LIMIT, read_bounded
from zoo_repo.repo import git
from zoo_repo.review.rules import Problem

SIGNED_RULE = "signed"


@dataclass(frozen=True)
class Signatures:
    """What the signing rules saw: the policy in force, and each checked version's signatures."""

    policy: tr.Trust | None  # trust.yaml at base (with one), else the working tree's; None: none usable
    seen: dict[str, list[tr.Seen]] = field(default_factory=dict)  # version dir → its signatures


def working_policy(root: Path, problems: list[Problem]) -> tr.Trust | None:
    """``trust``: the working tree's trust.yaml parses and its keys load (None when absent or refused)."""
    try:
        raw = read_bounded(str(root / tr.TRUST_NAME), TEXT_LIMIT, tr.TRUST_NAME)
    except FileNotFoundError:
        return None
    except (NotRegularFile, TooLarge) as exc:
        problems.append(Problem(tr.TRUST_NAME, "trust", exc.message.removeprefix(f"{exc.path}: ")))
        return None
    return _parse(raw, None, problems)


def base_policy(root: Path, base: str, sha: str, problems: list[Problem]) -> tr.Trust | None:
    """trust.yaml as the base ref has it: the policy a change is judged by."""
    sha_of = git.ls_tree(root, sha, tr.TRUST_NAME).get(tr.TRUST_NAME)
    if sha_of is None:
        return None
    return _parse(git.read_blobs(root, [sha_of])[sha_of], base, problems)


def _parse(raw: bytes, base: str | None, problems: list[Problem]) -> tr.Trust | None:
    """The policy in ``raw`` (trust.yaml at ``base``, or the working tree's), or None and a ``trust`` problem."""
    from zoo_repo.model.vouch import policy_from_text

    where = tr.TRUST_NAME if base is None else f"{tr.TRUST_NAME} at {base}"
    try:
        return policy_from_text(raw.decode("utf-8"), where)
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except (ManifestError, SignatureError) as exc:
        problem = exc.problem
    problems.append(Problem(tr.TRUST_NAME, "trust", problem if base is None else f"at {base}: {problem}"))
    return None


def check_signatures(root: Path, versions: Iterable[tuple[str, frozenset[str]]], manifests: Mapping[str, Manifest],
                     policy: tr.Trust | None, problems: list[Problem]) -> dict[str, list[tr.Seen]]:
    """``signature`` over every version with a signatures/ folder (``versions``: version
    dir and the names inside it); returns each one's signatures as checked."""
    from zoo_repo.model.vouch import examine, keys_of

    keys = keys_of(policy) if policy is not None else {}
    # Say which trust.yaml: at base, a key the pull request adds to its own is still nobody's.
    unknown = f"signed by a key that {policy.where if policy else tr.TRUST_NAME} does not list"
    seen: dict[str, list[tr.Seen]] = {}
    for rel, names in versions:
        if tr.SIGNATURES not in names:
            continue
        parsed = _manifest(root, rel, manifests.get(rel))
        if parsed is None:
            continue  # the schema rule says why; a signature of nothing is not checked
        manifest, text = parsed
        limit = tr.signature_limit(len(text.encode("utf-8")))
        files = _signature_files(root / rel / tr.SIGNATURES, limit, rel)
        seen[rel] = examine(files, manifest, digest_of(text), keys, unknown)
        for s in seen[rel]:
            if s.problem is not None and not s.unknown:
                problems.append(Problem(f"{rel}/{tr.SIGNATURES}/{s.file}", "signature", s.problem))
    return seen


def check_required(policy: tr.Trust | None, base: str | None, targets: Iterable[str],
                   manifests: Mapping[str, Manifest], seen: Mapping[str, list[tr.Seen]],
                   problems: list[Problem]) -> None:
    """``signed``: every version in ``targets`` meets the policy in force."""
    targets = list(targets)
    if policy is None:
        at = f" at {base}" if base is not None else ""
        problems.append(Problem(tr.TRUST_NAME, SIGNED_RULE,
                                f"is required by --require-signatures, but there is none{at} that parses "
                                "(expected signers: and require: approvals:)"))
        return
    for rel in targets:
        manifest = manifests.get(rel)
        if manifest is None:
            continue  # does not parse: the schema rule refuses it already
        ref = f"{manifest.stub}@{manifest.version_name}"
        problem = tr.judge(policy, ref, seen.get(rel, []))
        if problem is not None:
            problems.append(Problem(f"{rel}/{tr.SIGNATURES}", SIGNED_RULE, problem))


def _manifest(root: Path, rel: str, known: Manifest | None) -> tuple[Manifest, str] | None:
    """The version's manifest and its text (its digest is of that text, as the workspace computes it)."""
    where = f"{rel}/{MANIFEST_NAME}"
    try:
        text = read_bounded(str(root / where), TEXT_LIMIT, where).decode("utf-8")
        return (known or parse_manifest(text, where)), text
    except (OSError, NotRegularFile, TooLarge, UnicodeDecodeError, ManifestError):
        return None


def _signature_files(folder: Path, limit: int, rel: str) -> list[tuple[str, bytes]]:
    """The folder's signature files, as a pull reads them (anything else is ``layout``'s)."""
    try:
        names = sorted(n for n in os.listdir(folder) if tr.is_signature_name(n))[:tr.MAX_SIGNATURES]
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        try:
            found.append((name, read_bounded(str(folder / name), limit, f"{rel}/{tr.SIGNATURES}/{name}")))
        except (OSError, NotRegularFile, TooLarge):
            continue  # layout refuses a FIFO or a link; too large is no signature a pull reads
    return found
