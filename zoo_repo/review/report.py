"""``zoo review``: what a pull request adds to the zoo, as a comment a reviewer reads.

``review()`` gathers the facts (it runs ``check``, reads the base ref's
manifests through git); ``render_review_markdown()`` and ``review_dict()``
are pure and only turn them into text or data.

"New bytes" is what the added versions cost the remote: the sizes of their
file objects that no version present at the base ref references, each object
counted once however many versions or paths name it (a version's small
``.dir`` listing is not counted). It is computed from the
manifests at the base ref, not by listing the remote, so it is the same for
every reviewer and needs no credentials.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.core.manifest import ROLES, Manifest
from zoo_repo.core.trust import TRUST_NAME, Seen, Trust, seen_dict
from zoo_repo.core.validation import describe
from zoo_repo.core.words import count, human_size
from zoo_repo.errors import ZooError
from zoo_repo.repo import git
from zoo_repo.review.check import MANIFESTS, RULE_HELP, RULES, Problem, objects_at, run_check
from zoo_repo.review.diff import (
    ManifestDiff,
    diff,
    diff_dict,
    format_bytes_delta,
    format_metric_change,
    model_markdown,
)
from zoo_repo.review.lifecycle import (
    AliasChange,
    DeprecationChange,
    alias_changes,
    deprecation_changes,
    render_aliases,
    render_deprecations,
)
from zoo_repo.review.newbytes import known_objects
from zoo_repo.review.trust_review import TrustChange, render_trust_change, signature_line, trust_change

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace

# A pull-request comment has a size limit (65,536 characters on GitHub): a
# role with many files is summarised, and long lists are cut.
_MAX_LISTED = 10
_MAX_WARNINGS = 50


@dataclass(frozen=True)
class RuleResult:
    """One check rule's verdict on one added version."""

    rule: str
    status: str  # "pass", "fail", "warn" (advice) or "not run"
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class AddedVersion:
    """One version present now and absent at the base ref."""

    path: str  # manifests/<stub>/vN
    manifest: Manifest | None  # None when it does not parse (the checks say why)
    changes: ManifestDiff | None  # against its parent, when both parse
    new_objects: int
    new_bytes: int
    rules: tuple[RuleResult, ...]
    signatures: tuple[Seen, ...] = ()  # as checked against the policy in force

    @property
    def ref(self) -> str:
        if self.manifest is not None:
            return f"{self.manifest.stub}@{self.manifest.version_name}"
        stub, _, version = self.path.removeprefix(MANIFESTS + "/").rpartition("/")
        return f"{stub}@{version}"

    @property
    def ok(self) -> bool:
        return all(r.status != "fail" for r in self.rules)


@dataclass(frozen=True)
class Review:
    """Everything ``zoo review`` shows, as data."""

    base: str
    added: tuple[AddedVersion, ...]
    warnings: tuple[Problem, ...]  # everything `zoo check --base` refuses, added versions or not
    rules: tuple[str, ...]  # the check rules that ran
    versions: int  # versions in the zoo now
    aliases: tuple[AliasChange, ...] = ()  # aliases added, moved or removed since base
    policy: Trust | None = None  # trust.yaml at base: what names the signers
    trust: TrustChange | None = None  # how trust.yaml differs from base's (None: it does not)
    deprecations: tuple[DeprecationChange, ...] = ()  # stubs deprecated, changed or un-deprecated since base

    @property
    def new_objects(self) -> int:
        return sum(a.new_objects for a in self.added)

    @property
    def new_bytes(self) -> int:
        return sum(a.new_bytes for a in self.added)

    @property
    def ok(self) -> bool:
        return not self.warnings


def review(zoo: Workspace, base: str, *, remote: bool = False, deep: bool = False,
           require_signatures: bool = False, full: bool = False, committed: bool = False) -> Review:
    """The versions added since ``base`` (a git ref), their cost, changes, checks and signatures.
    Reads only what the change touches (``check`` says what ``full`` and ``committed`` change)."""
    run = run_check(zoo, base=base, remote=remote, deep=deep, require_signatures=require_signatures, full=full,
                    committed=committed)
    report = run.report
    stubs = run.stubs
    sha = git.resolve_commit(Path(zoo.root), base)
    if stubs is None:
        known = objects_at(Path(zoo.root), run.base_tree)
    else:  # only the added versions' objects matter: ask git which of them the base references
        wanted = {f.md5 for rel in report.added if rel in run.manifests for f in run.manifests[rel].files}
        known = known_objects(Path(zoo.root), wanted, stubs, run.base_tree, sha)
    # No policy to require signatures by fails every added version, though its one line is about trust.yaml.
    unsigned = tuple(p for p in report.problems if p.rule == "signed" and p.path == TRUST_NAME)
    added = []
    for path in report.added:
        manifest = run.manifests.get(path)
        parent = _parent(zoo, manifest) if manifest is not None else None
        new_objects, new_bytes = _count_new(manifest, known)
        added.append(AddedVersion(
            path=path,
            manifest=manifest,
            changes=diff(parent, manifest) if manifest is not None and parent is not None else None,
            new_objects=new_objects,
            new_bytes=new_bytes,
            rules=_rule_results(report.rules, report.problems_under(path) + unsigned,
                                tuple(w for w in report.warnings if w.path.startswith(path + "/"))),
            signatures=tuple(run.signatures.get(path, ())),
        ))
    aliases = alias_changes(zoo, run.base_tree, stubs)
    change = trust_change(Path(zoo.root), sha)
    return Review(base, tuple(added), report.problems, report.rules, report.versions, aliases, run.policy, change,
                  deprecation_changes(zoo, run.base_tree, stubs))


def _parent(zoo: Workspace, manifest: Manifest) -> Manifest | None:
    if manifest.version <= 1:
        return None
    try:
        return zoo.manifest(manifest.stub, manifest.version - 1)
    except ZooError:  # missing or broken: the checks report it
        return None


def _count_new(manifest: Manifest | None, known: set[str]) -> tuple[int, int]:
    """Objects and bytes this version adds; ``known`` grows so later versions do not count them again."""
    if manifest is None:
        return 0, 0
    objects = size = 0
    for f in manifest.files:
        if f.md5 not in known:
            known.add(f.md5)
            objects += 1
            size += f.size
    return objects, size


def _rule_results(ran: tuple[str, ...], problems: tuple[Problem, ...],
                  warned: tuple[Problem, ...] = ()) -> tuple[RuleResult, ...]:
    results = []
    for rule in RULES:
        if rule in ("trust", "settings"):
            continue  # about trust.yaml or zoo.yaml, not a version: their problems are among the warnings
        mine = tuple(p for p in problems if p.rule == rule)
        advice = tuple(p for p in warned if p.rule == rule)
        status = "not run" if rule not in ran else ("fail" if mine else "warn" if advice else "pass")
        mine = mine or advice
        results.append(RuleResult(rule, status, mine))
    return tuple(results)


# -- rendering (pure) -----------------------------------------------------------
def _text(text: str) -> str:
    """Plain text for Markdown: ``<email>`` or ``<stub>`` would otherwise be read as HTML and vanish."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    """Table cells may not hold a pipe or a line break either."""
    return _text(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"`` {text} ``"


def _fields_table(m: Manifest, added: AddedVersion) -> list[str]:
    rows: list[tuple[str, str]] = [(k, v) for k, v in m.stub.fields().items() if v is not None]
    rows.append(("parent", f"v{m.parent}" if m.parent else "none"))
    rows += [("created", m.created), ("publisher", m.publisher)]
    if m.message:
        rows.append(("message", m.message))
    for key in ("license", "description"):
        if m.card.get(key):
            rows.append((key, str(m.card[key])))
    if m.card.get("tags"):
        rows.append(("tags", ", ".join(str(t) for t in m.card["tags"])))
    rows.append(("validation", describe(m.validation)))  # as the manifest records it; the checks judge it
    rows.append(("size", f"{human_size(m.size)} in {count(len(m.files), 'file')}"))
    rows.append(("new bytes", f"{human_size(added.new_bytes)} in {count(added.new_objects, 'object')} (after dedup)"))
    return ["| field | value |", "| --- | --- |", *(f"| {k} | {_cell(v)} |" for k, v in rows)]


def _files_table(m: Manifest) -> list[str]:
    lines = ["| role | files | size |", "| --- | --- | ---: |"]
    for role in ROLES:
        files = m.by_role(role)
        if not files:
            continue
        if len(files) == 1:
            names = _code(files[0].path)
        elif len(files) <= 3:
            names = ", ".join(_code(f.path) for f in files)
        else:
            names = count(len(files), "file")
        lines.append(f"| {role} | {_cell(names)} | {human_size(sum(f.size for f in files))} |")
    return lines


def _changes(d: ManifestDiff, parent: str) -> list[str]:
    lines = [
        (f"**Changes against {parent}:** {len(d.changed)} changed, {len(d.added)} added, "
        f"{len(d.removed)} removed, {d.unchanged} unchanged ({format_bytes_delta(d.size_delta)})"),
        "",
    ]
    items = ([f"- changed {_code(c.path)} ({c.after.role}): {human_size(c.before.size)} → "
              f"{human_size(c.after.size)}" for c in d.changed]
             + [f"- added {_code(f.path)} ({f.role}, {human_size(f.size)})" for f in d.added]
             + [f"- removed {_code(f.path)} ({f.role}, {human_size(f.size)})" for f in d.removed])
    lines += items[:_MAX_LISTED]
    if len(items) > _MAX_LISTED:
        lines.append(f"- … and {len(items) - _MAX_LISTED} more (`zoo diff` lists them all)")
    return lines


def _metrics(a: AddedVersion) -> list[str]:
    m = a.manifest
    assert m is not None
    if not m.metrics:
        return ["**Metrics:** none in the card"]
    if a.changes is None:  # no parent to compare with: the values as the card states them
        shown = [metric.display() + _where(metric.dataset, metric.split) for metric in m.metrics]
        return ["**Metrics**", "", *(f"- {_text(line)}" for line in shown)]
    return [f"**Metrics** (against v{m.version - 1})", "",
            *(f"- {_text(format_metric_change(change))}" for change in a.changes.metrics)]


def _where(dataset: str | None, split: str | None) -> str:
    where = ", ".join(x for x in (dataset, split) if x)
    return f" [{where}]" if where else ""


_MARK = {"pass": "✅ pass", "fail": "❌ fail", "warn": "⚠️ warn", "not run": "➖ not run"}
_HOW_TO_RUN = {"remote-missing": "--remote", "remote-size": "--remote", "remote-digest": "--deep",
               "signed": "--require-signatures"}


def _checks_table(results: Iterable[RuleResult]) -> list[str]:
    lines = ["| rule | checks | result |", "| --- | --- | --- |"]
    for r in results:
        result = _MARK[r.status]
        if r.status in ("fail", "warn"):
            result += ": " + "; ".join(p.message for p in r.problems)
        elif r.status == "not run" and r.rule in _HOW_TO_RUN:
            result += f" (needs {_HOW_TO_RUN[r.rule]})"
        lines.append(f"| {r.rule} | {_cell(RULE_HELP[r.rule])} | {_cell(result)} |")
    return lines


def _signatures(a: AddedVersion, policy: Trust | None) -> list[str]:
    if not a.signatures:
        return ["**Signatures:** none"]
    return ["**Signatures**", "", *(f"- {_text(signature_line(policy, s))}" for s in a.signatures)]


def _render_version(a: AddedVersion, policy: Trust | None) -> list[str]:
    warn = " ⚠️ breaking model change" if a.changes is not None and a.changes.breaking else ""
    lines = [f"### {_code(a.ref)}{warn}", ""]
    if a.manifest is None:
        lines += ["The manifest does not parse, so there is nothing to show; see the checks.", ""]
    else:
        lines += [*_fields_table(a.manifest, a), "", "**Files by role**", "", *_files_table(a.manifest), ""]
        if a.changes is not None:
            lines += [*_changes(a.changes, f"v{a.manifest.version - 1}"), ""]
        lines += [*_metrics(a), "", *model_markdown(a.manifest, a.changes), ""]
    lines += [*_signatures(a, policy), ""]
    lines += ["**Checks**", "", *_checks_table(a.rules), ""]
    return lines


def render_review_markdown(r: Review) -> str:
    """The review as Markdown for a pull-request comment."""
    lines = [f"## Model zoo review: {count(len(r.added), 'version')} added since {_code(r.base)}", ""]
    lines += render_trust_change(r.trust, r.base)  # first: who may approve is changing
    if r.added:
        lines += [(f"New bytes for the remote after deduplication: **{human_size(r.new_bytes)}** "
                  f"in {count(r.new_objects, 'object')}."), ""]
    else:
        lines += ["No versions added.", ""]
    for added in r.added:
        lines += _render_version(added, r.policy)
    lines += render_aliases(r.aliases, _text) + render_deprecations(r.deprecations, _text)
    lines += ["### Warnings", ""]
    if r.warnings:
        lines.append(f"`zoo check --base {r.base}` refuses "
                     f"{count(len(r.warnings), 'problem')}:")
        lines.append("")
        lines += [f"- {_code(p.path)}: [{p.rule}] {_text(p.message)}" for p in r.warnings[:_MAX_WARNINGS]]
        if len(r.warnings) > _MAX_WARNINGS:
            lines.append(f"- … and {len(r.warnings) - _MAX_WARNINGS} more (`zoo check --base {r.base}` lists them all)")
    else:
        lines.append(f"None: `zoo check --base {r.base}` passes ({count(r.versions, 'version')} checked).")
    return "\n".join(lines) + "\n"


def _problem_dict(p: Problem) -> dict[str, str]:
    return {"path": p.path, "rule": p.rule, "message": p.message}


def review_dict(r: Review) -> dict[str, Any]:
    """The review as plain data for ``--json``."""
    return {
        "base": r.base,
        "ok": r.ok,
        "trust_change": r.trust.to_dict() if r.trust is not None else None,
        "versions": r.versions,
        "new_objects": r.new_objects,
        "new_bytes": r.new_bytes,
        "added": [
            {
                "path": a.path,
                "ref": a.ref,
                "manifest": a.manifest.to_dict() if a.manifest is not None else None,
                "new_objects": a.new_objects,
                "new_bytes": a.new_bytes,
                "changes": diff_dict(a.changes) if a.changes is not None else None,
                "checks": {res.rule: {"status": res.status, "problems": [_problem_dict(p) for p in res.problems]}
                           for res in a.rules},
                "signatures": [seen_dict(r.policy or Trust(()), s) for s in a.signatures],
            }
            for a in r.added
        ],
        "aliases": [{"stub": c.stub, "alias": c.alias,
                     "before": f"v{c.before}" if c.before else None,
                     "after": f"v{c.after}" if c.after else None} for c in r.aliases],
        "deprecations": [c.to_dict() for c in r.deprecations],
        "warnings": [_problem_dict(p) for p in r.warnings],
    }
