"""The release branch, read from git: where it is, how it relates to the remote's
projection, and what moving the projection to it would add.

Everything is read from commits, never from the working tree: what reaches
consumers is what was committed on the release branch, not what a checkout
happens to hold (an uncommitted version, a half-merged aliases.yaml).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from zoo_repo.core.aliases import ALIASES_NAME, parse_aliases
from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.deprecation import DEPRECATION_NAME, Deprecation, parse_deprecation
from zoo_repo.core.manifest import MANIFEST_NAME, digest_of
from zoo_repo.core.projection import Move, Projection, apply, dangling
from zoo_repo.core.stub import parse_stub, version_number
from zoo_repo.core.trust import SIGNATURES, TRUST_NAME, is_signature_name
from zoo_repo.errors import ManifestError, StubError, UsageError
from zoo_repo.repo import git
from zoo_repo.repo.config import release_branch

MANIFESTS = "manifests"
Relation = Literal["same", "behind", "ahead", "diverged", "unknown", "new"]
RELATION_WORDS = {
    "same": "matches {branch}",
    "behind": "is behind {branch}: `zoo push` moves it forward",
    "ahead": "is ahead of this checkout's {branch}: run `git pull`",
    "diverged": "is on another line of history than this checkout's {branch}: run `git pull` (merge), then `zoo push`",
    "unknown": "is at a commit this checkout has not seen: run `git pull`",
    "new": "was not made from git yet: `zoo push` on {branch} makes it",
}


@dataclass(frozen=True)
class Release:
    branch: str
    commit: str | None  # None: no such local branch (yet)


@dataclass(frozen=True)
class NewVersion:
    """A version the move adds: its manifest's digest, and where git keeps its manifest
    and card (read by ``version_texts``, a batch at a time: a move of 100,000 versions
    does not hold them all)."""

    stub: str
    version: int
    digest: str
    manifest_blob: str
    card_blob: str

    @property
    def ref(self) -> str:
        return f"{self.stub}@v{self.version}"


@dataclass(frozen=True)
class NewSignature:
    stub: str
    version: int
    name: str  # the file's name under signatures/
    text: str


@dataclass(frozen=True)
class MovePlan:
    """The next move of the projection, the versions it adds (their texts, from git),
    and the signature files the branch added since the view's commit (mirrored for
    git-less consumers; each one's validity is for their pins to judge)."""

    move: Move
    versions: tuple[NewVersion, ...]
    view: Projection  # what the view becomes
    signatures: tuple[NewSignature, ...] = ()
    trust_text: str | None = None  # the branch's trust.yaml, when it has one
    # Successors named by the move's deprecations that the view, read in part, does
    # not cover: the plan is to be made again with their shards read too.
    unseen: tuple[str, ...] = ()


def release_of(root: Path) -> Release:
    branch = release_branch(root)
    return Release(branch, git.branch_commit(root, branch))


def on_release_branch(root: Path) -> bool:
    """Whether HEAD is the release branch, so that a commit made now is a release."""
    return git.current_branch(root) == release_branch(root)


def relation(root: Path, projected: str | None, commit: str) -> Relation:
    """How the projection's commit stands to ``commit`` (the release branch's)."""
    if projected is None:
        return "new"
    if projected == commit:
        return "same"
    if not git.has_commit(root, projected):
        return "unknown"
    if git.is_ancestor(root, projected, commit):
        return "behind"
    return "ahead" if git.is_ancestor(root, commit, projected) else "diverged"


def touched_stubs(root: Path, view: Projection, release: Release) -> set[str] | None:
    """The stubs whose entries a move from ``view`` to the release branch can change
    (a view read in part needs only their shards); None: any (a view not made from git)."""
    if release.commit is None or view.commit == release.commit:
        return set()
    if view.commit is None or not git.has_commit(root, view.commit):
        return None
    found: set[str] = set()
    # The same diff ``plan_move`` reads next (asked of git once).
    for path in git.changed_blobs(root, view.commit, release.commit, MANIFESTS):
        parts = path.split("/")
        if len(parts) >= 9 and parts[0] == MANIFESTS:  # manifests/<stub: 7 parts>/…
            found.add("/".join(parts[1:8]))
    return found


def plan_move(root: Path, view: Projection, release: Release) -> MovePlan:
    """What the release branch's commit adds to ``view``: new versions (their
    manifests as committed) and every stub whose aliases.yaml or deprecated.yaml says otherwise.

    UsageError when the branch changed or removed a version the view lists
    (versions are immutable), or an alias names a version it does not have.
    """
    if release.commit is None:
        raise UsageError(f"this zoo has no local branch {release.branch!r} (its release branch, in zoo.yaml)",
                         hint=f"git fetch, then `git checkout {release.branch}`")
    incremental = view.commit is not None and git.has_commit(root, view.commit)
    if not incremental and view.shards is not None:
        raise ValueError("a view not made from git is planned from whole")
    if incremental:
        assert view.commit is not None
        # What changed, with its blobs, from one diff: a move costs what it adds, not the zoo's size.
        changed = {p: sha for p, sha in git.changed_blobs(root, view.commit, release.commit, MANIFESTS).items()
                   if _wanted_file(p)}
        touched = set(changed)
        tree = {p: sha for p, sha in changed.items() if sha is not None}
        cards = [c for p in tree if (c := _card_path(p)) and c not in tree]
        tree.update(git.blobs_at(root, release.commit, cards))  # a card older than the view's commit
    else:
        tree = {p: sha for p, sha in git.tree_files(root, release.commit, MANIFESTS) if _wanted_file(p)}
        touched = set(tree)
    added: dict[str, dict[str, str]] = {}
    versions: list[NewVersion] = []
    records = sorted(p for p in touched if _record_of(p) is not None)
    new_manifests = sorted(p for p in touched if _version_of(p) is not None)
    signed = sorted(p for p in touched if p in tree and _signature_of(p) is not None)
    trust = git.ls_tree(root, release.commit, TRUST_NAME).get(TRUST_NAME)
    blobs = git.read_blobs(root, [tree[p] for p in records if p in tree] +
                           [tree[p] for p in signed] + ([trust] if trust else []))
    alias_moves: dict[str, dict[str, int]] = {}
    deprecations: dict[str, Deprecation | None] = {}
    for path, data in _manifests(root, tree, records, new_manifests, blobs):
        record = _record_of(path)
        if record is not None:
            stub, name = record
            if name == ALIASES_NAME:
                now = parse_aliases(_text(data, path), path) if data is not None else {}
                if now != view.aliases.get(stub, {}):
                    alias_moves[stub] = now
            else:
                said = parse_deprecation(_text(data, path), stub, path) if data is not None else None
                if said != view.deprecated.get(stub):
                    deprecations[stub] = said
            continue
        stub, number = _version_of(path) or ("", 0)
        had = view.digest(stub, number)
        if data is None:
            if had is not None:
                raise _rewritten(release, path, "removes")
            continue
        digest = digest_of(_text(data, path))
        if had is not None:
            if had != digest:
                raise _rewritten(release, path, "changes")
            continue
        card = tree.get(_card_path(path) or "")
        if card is None:
            raise ManifestError(path, f"has no {CARD_NAME} beside it at {release.branch} ({release.commit[:10]})")
        added.setdefault(stub, {})[f"v{number}"] = digest
        versions.append(NewVersion(stub, number, digest, tree[path], card))
    if not incremental:  # a view never made from git: stubs it has aliases for but the branch has none
        for stub in set(view.aliases) - {p[len(MANIFESTS) + 1:-len(ALIASES_NAME) - 1]
                                          for p in tree if p.endswith("/" + ALIASES_NAME)}:
            alias_moves[stub] = {}
        kept = {p[len(MANIFESTS) + 1:-len(DEPRECATION_NAME) - 1] for p in tree if p.endswith("/" + DEPRECATION_NAME)}
        for stub in set(view.deprecated) - kept:
            deprecations[stub] = None
    move = Move(view.seq + 1, release.commit, release.branch, added, alias_moves, deprecations)
    new_view = apply(view, move)
    bad = dangling(new_view)
    if bad:
        raise UsageError(f"{bad[0]}: the alias names a version that is not on {release.branch} "
                         f"({release.commit[:10]})", hint="fix aliases.yaml on the release branch (`zoo check`)")
    # Only the move's own deprecations: versions are never taken away, so a successor
    # that had versions still has them.
    successors = {s: d.successor for s, d in move.deprecated.items() if d is not None and d.successor}
    unseen = tuple(sorted({n for n in successors.values() if not new_view.covers(n)}))
    orphan = sorted(s for s, n in successors.items() if new_view.covers(n) and not new_view.numbers(n))
    if orphan:
        raise UsageError(f"{orphan[0]}: deprecated.yaml names successor {new_view.deprecated[orphan[0]].successor}, "
                         f"which has no version on {release.branch} ({release.commit[:10]})",
                         hint="fix deprecated.yaml on the release branch (`zoo check`)")
    signatures = tuple(NewSignature(*(_signature_of(p) or ("", 0, "")), _text(blobs.get(tree[p]), p)) for p in signed)
    return MovePlan(move, tuple(sorted(versions, key=lambda v: (v.stub, v.version))), new_view, signatures,
                    _text(blobs.get(trust), TRUST_NAME) if trust else None, unseen)


_BATCH = 1024  # manifests read from git at once while planning, or while projecting (``version_texts``)


def _manifests(root: Path, tree: dict[str, str], records: list[str], manifests: list[str],
               blobs: dict[str, bytes]) -> Iterator[tuple[str, bytes | None]]:
    """(path, bytes at the release commit; None: not there) of each record (read
    already, in ``blobs``), then of each manifest, read ``_BATCH`` at a time: the
    caller keeps only a digest of each."""
    for path in records:
        yield path, blobs.get(tree.get(path, ""))
    for start in range(0, len(manifests), _BATCH):
        batch = manifests[start:start + _BATCH]
        read = git.read_blobs(root, [tree[p] for p in batch if p in tree])
        for path in batch:
            yield path, read.get(tree.get(path, ""))


def version_texts(root: Path, versions: Sequence[NewVersion]) -> Iterator[tuple[NewVersion, str, str]]:
    """Each version with its manifest's and card's text, read from git ``_BATCH`` at a time."""
    for start in range(0, len(versions), _BATCH):
        batch = versions[start:start + _BATCH]
        blobs = git.read_blobs(root, [b for v in batch for b in (v.manifest_blob, v.card_blob)])
        for v in batch:
            where = f"{MANIFESTS}/{v.stub}/v{v.version}"
            text = _text(blobs[v.manifest_blob], where)
            if digest_of(text) != v.digest:  # the blob is named by its content: only a damaged repository
                raise ManifestError(f"{where}/{MANIFEST_NAME}", "changed while it was being projected")
            yield v, text, _text(blobs[v.card_blob], where)


def _wanted_file(path: str) -> bool:
    """Whether a whole-tree plan reads ``path`` (the DVC pointers, a third of the files, it does not)."""
    return path.endswith(("/" + MANIFEST_NAME, "/" + CARD_NAME, "/" + ALIASES_NAME, "/" + DEPRECATION_NAME)) \
        or f"/{SIGNATURES}/" in path


def _record_of(path: str) -> tuple[str, str] | None:
    """(stub, name) for ``manifests/<stub>/aliases.yaml`` or ``…/deprecated.yaml``."""
    name = path.rsplit("/", 1)[-1]
    if not path.startswith(MANIFESTS + "/") or name not in (ALIASES_NAME, DEPRECATION_NAME):
        return None
    stub = path[len(MANIFESTS) + 1:-len(name) - 1]
    _check_stub(stub, path)
    return stub, name


def _signature_of(path: str) -> tuple[str, int, str] | None:
    """(stub, N, name) for ``manifests/<stub>/vN/signatures/<name>``."""
    parts = path.split("/")
    if len(parts) != 11 or parts[0] != MANIFESTS or parts[-2] != SIGNATURES or not is_signature_name(parts[-1]):
        return None
    number = version_number(parts[-3])
    if number is None:
        return None
    stub = "/".join(parts[1:-3])
    _check_stub(stub, path)
    return stub, number, parts[-1]


def _version_of(path: str) -> tuple[str, int] | None:
    """(stub, N) for ``manifests/<stub>/vN/manifest.yaml``."""
    parts = path.split("/")
    if len(parts) != 10 or parts[0] != MANIFESTS or parts[-1] != MANIFEST_NAME:
        return None
    number = version_number(parts[-2])
    stub = "/".join(parts[1:-2])
    if number is None:
        return None
    _check_stub(stub, path)
    return stub, number


def _check_stub(stub: str, path: str) -> None:
    try:
        parse_stub(stub)
    except StubError as exc:
        raise ManifestError(path, exc.message) from exc


def _card_path(path: str) -> str | None:
    return path[: -len(MANIFEST_NAME)] + CARD_NAME if path.endswith("/" + MANIFEST_NAME) else None


def _text(data: bytes | None, path: str) -> str:
    try:
        return (data or b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(path, "is not UTF-8 text") from exc


def _rewritten(release: Release, path: str, how: str) -> UsageError:
    return UsageError(f"{path}: {release.branch} ({release.commit and release.commit[:10]}) {how} a version the "
                      "remote already lists; published versions are immutable",
                      hint="restore the file as it was published (see `zoo check --base`), then `zoo push`")
