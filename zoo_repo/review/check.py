"""``zoo check``: the review gate. Is every published version well formed, and
does a change since a base ref only add versions?

One walk over ``manifests/`` reads each version's three files once; git is
asked a handful of questions per run (never per version), so a zoo of ten
thousand versions checks in seconds. Each problem names the file it is about
and a short rule id, so CI output and review comments point at a line to fix.
The rules and their ids are listed in ``zoo_repo.review.rules``.

This module runs the pieces in order; each lives in its own module:

    rules         the rule table, ``Problem``, the per-version rules (pure)
    scan          the walk over manifests/, reading each version's files
    history       a stub's run of versions; immutability against a base ref
    incremental   what a change since a base ref touches: with a base, only that is read
    remote_check  the objects on the remote
    claims        what a manifest claims against what it is derived from (card-fields, validation)
    revalidate    with ``deep``, the validation re-run on the remote's bytes
    advice        the rules zoo.yaml sets to warn (or fail, or not run)
    workers       spreading the per-version work over processes
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.core.aliases import ALIASES_NAME
from zoo_repo.core.deprecation import DEPRECATION_NAME
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest
from zoo_repo.core.trust import Seen, Trust
from zoo_repo.errors import ManifestError
from zoo_repo.repo import git
from zoo_repo.review.advice import DEFAULT, settings_at
from zoo_repo.review.history import check_immutable, check_sequence
from zoo_repo.review.incremental import Scope, base_listing, change_since, changes_since
from zoo_repo.review.remote_check import check_listing, check_remote
from zoo_repo.review.revalidate import revalidate
from zoo_repo.review.rules import (
    ADVICE_RULES,
    MANIFESTS,
    REMOTE_RULES,
    RULE_HELP,
    RULES,
    STATIC_RULES,
    VERSION_FILES,
    Problem,
    is_manifest_path,
)
from zoo_repo.review.scan import scan_layout
from zoo_repo.review.signed import SIGNED_RULE, base_policy, check_required, check_signatures, working_policy
from zoo_repo.review.workers import check_versions, manifest_objects

_READ_AT_BASE = tuple(f"/{name}" for name in (MANIFEST_NAME, ALIASES_NAME, DEPRECATION_NAME))

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace

__all__ = [
    "MANIFESTS",
    "REMOTE_RULES",
    "RULES",
    "RULE_HELP",
    "STATIC_RULES",
    "VERSION_FILES",
    "CheckReport",
    "CheckRun",
    "Problem",
    "check",
    "is_manifest_path",
    "objects_at",
    "run_check",
]


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found, and how much it looked at."""

    problems: tuple[Problem, ...]
    versions: int  # version directories found
    stubs: int  # stub directories found
    objects: int = 0  # distinct remote objects checked
    revalidated: int = 0  # versions whose validation ``deep`` ran again
    base: str | None = None
    added: tuple[str, ...] = ()  # version directories absent at ``base``, e.g. manifests/<stub>/v2
    require_signatures: bool = False
    rules: tuple[str, ...] = STATIC_RULES  # the rules that ran
    # "full": every version was read; "touched": only the stubs a change since base touches.
    scope: str = "full"
    warnings: tuple[Problem, ...] = ()  # what the advisory rules set to "warn" found: shown, not failing

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_under(self, prefix: str) -> tuple[Problem, ...]:
        """The problems about files inside directory ``prefix`` (e.g. one version)."""
        start = prefix.rstrip("/") + "/"
        return tuple(p for p in self.problems if p.path.startswith(start))


@dataclass(frozen=True)
class CheckRun:
    """A report plus what the run read, for ``review`` to build on without reading twice."""

    report: CheckReport
    # version dir → parsed manifest, for the versions added since base (every
    # version when checking the remote, or requiring signatures, without a
    # base); others are not kept.
    manifests: dict[str, Manifest] = field(repr=False)
    base_tree: dict[str, str] = field(repr=False)  # path → blob sha under manifests/ at base
    # The policy the signing rules judged by (trust.yaml at base, else the working
    # tree's), and each signed version's signatures as checked against it.
    policy: Trust | None = field(default=None, repr=False)
    signatures: dict[str, list[Seen]] = field(default_factory=dict, repr=False)
    # The stubs a change since base touches, all that was read; None: everything was.
    stubs: frozenset[str] | None = field(default=None, repr=False)


def check(
    zoo: Workspace, base: str | None = None, remote: bool = False, deep: bool = False, *, jobs: int | None = None,
    require_signatures: bool = False, full: bool = False, committed: bool = False,
) -> CheckReport:
    """Run every rule over ``zoo``'s manifests; see ``zoo_repo.review.rules`` for the rules.

    With ``base`` (a git ref), files under manifests/ that exist there must be
    unchanged now, and only versions added since ``base`` are checked against
    the remote (older ones passed this gate when they were added). Without
    it, ``remote`` checks every version. ``deep`` (which implies ``remote``)
    also downloads every object and checks its digest, and runs the same
    versions' validation again on their bytes (``review.revalidate``).
    ``jobs`` caps the processes that parse manifests (default: one per CPU,
    used only for large zoos). ``require_signatures`` adds the ``signed`` rule:
    every version added since ``base`` (every version, without one) meets
    trust.yaml as ``base`` has it (without a base, the working tree's).

    With ``base``, only the stubs the change touches are read (``incremental``):
    the problems are the full check's about what the change touches, and the
    version counts are of those stubs. ``full`` reads every version anyway (a
    nightly job). ``committed`` judges HEAD's commits since ``base`` and not the
    working tree's changes (uncommitted or untracked files), where the checkout
    is HEAD's (CI): finding those costs a stat of every file and a walk of every
    directory.
    """
    return run_check(zoo, base, remote, deep, jobs=jobs, require_signatures=require_signatures, full=full,
                     committed=committed).report


def run_check(
    zoo: Workspace, base: str | None = None, remote: bool = False, deep: bool = False, *, jobs: int | None = None,
    require_signatures: bool = False, full: bool = False, committed: bool = False,
) -> CheckRun:
    """``check``, also returning the parsed manifests and the base ref's listing
    (with a base and not ``full``: of the touched stubs only)."""
    remote = remote or deep
    root = Path(zoo.root)
    problems: list[Problem] = []
    rules = list(STATIC_RULES)
    # The base ref first (a bad ref fails before any work): it says what the change
    # touches, hence what to scan (all of it with ``full``), and which versions are new.
    sha: str | None = None
    scope: Scope | None = None
    if base is not None:
        rules.append("immutable")
        sha = git.resolve_commit(root, base)
        if not full:
            scope = change_since(root, sha, worktree=not committed)
    layout = scan_layout(root / MANIFESTS, problems, scope)
    # The touched stubs: the diff's, and any found inside an untracked directory.
    stubs = None if scope is None else scope.stubs | {str(stub) for stub in layout}
    all_versions = [rel for versions in layout.values() for rel, _ in versions.values()]

    base_tree: dict[str, str] = {}
    added: tuple[str, ...] = ()
    if base is not None and sha is not None:
        # Of a full listing, only what the review reads: manifests, aliases, deprecations
        # (at 100,000 versions the cards and .dvc files are 200,000 more entries).
        base_tree = ({p: blob for p, blob in git.tree_files(root, sha, MANIFESTS) if p.endswith(_READ_AT_BASE)}
                     if stubs is None else base_listing(root, sha, stubs))
        changes = list(scope.changes) if scope is not None else changes_since(root, sha, worktree=not committed)
        problems.extend(check_immutable(base, changes))
        at_base = {path.rsplit("/", 1)[0] for path in base_tree if is_manifest_path(path)}
        added = tuple(sorted(rel for rel in all_versions if rel not in at_base))
    try:  # the base's settings: a change must not turn off the rules that judge it
        settings = settings_at(root, base, sha)
    except (ManifestError, UnicodeDecodeError) as exc:
        problems.append(Problem("zoo.yaml", "settings", getattr(exc, "problem", str(exc))))
        settings = DEFAULT
    # Without a base, the remote rules and the signed rule judge every version: keep them all.
    # (Advice runs on each manifest as it is parsed: it needs none kept.)
    judge_all = base is None and (remote or require_signatures)
    keep: frozenset[str] | None = None if judge_all else frozenset(added)

    tasks = ((str(stub), number, rel, names)  # a generator: at 100,000 versions a list of them is 10 MB
             for stub, versions in layout.items() for number, (rel, names) in versions.items())
    advice = (settings, None if base is None else frozenset(added)) if settings.active else None
    contents, manifests, version_problems, warnings = check_versions(root, tasks, keep, jobs, advice)
    problems.extend(version_problems)
    for versions in layout.values():
        check_sequence(versions, contents, problems)

    # The policy in force comes from the base ref: a change must not rewrite its own gate.
    policy = working_policy(root, problems)
    if base is not None and sha is not None:
        policy = base_policy(root, base, sha, problems)
    signatures = check_signatures(root, (entry for versions in layout.values() for entry in versions.values()),
                                  manifests, policy, problems)
    if require_signatures:
        rules.append(SIGNED_RULE)
        check_required(policy, base, added if base is not None else sorted(manifests), manifests, signatures,
                       problems)

    rules.append("settings")
    rules.extend(rule for rule in ADVICE_RULES if settings.levels.get(rule) != "off")

    objects = revalidated = 0
    if remote:
        rules.extend(REMOTE_RULES + (("remote-digest",) if deep else ()))
        checked = [manifests[rel] for rel in sorted(manifests)]
        objects = check_remote(zoo.remote(), checked, deep, problems)
        check_listing(root, zoo.remote(), manifests, problems)
        if deep:  # after the remote rules: a version whose objects they refused is not re-run
            revalidated = revalidate(zoo, checked, problems)

    report = CheckReport(
        problems=tuple(sorted(set(problems))),
        versions=len(all_versions),
        stubs=len(layout),
        objects=objects,
        revalidated=revalidated,
        base=base,
        added=added,
        require_signatures=require_signatures,
        rules=tuple(rules),
        warnings=tuple(sorted(set(warnings))),
        scope="full" if scope is None else "touched",
    )
    return CheckRun(report, manifests, base_tree, policy, signatures, stubs)


def objects_at(root: Path, tree: dict[str, str], jobs: int | None = None) -> set[str]:
    """md5 of every file object the manifests in ``tree`` reference.

    ``tree`` is a git listing (path → blob sha, as ``git.ls_tree`` gives
    it); the manifests are read from git, not the working tree. One that
    does not parse is skipped: what it names then counts as absent, which
    overstates what is new and never understates it.
    """
    items = sorted([path, sha] for path, sha in tree.items() if is_manifest_path(path))
    return manifest_objects(root, items, jobs)
