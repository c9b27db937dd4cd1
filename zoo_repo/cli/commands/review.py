"""``zoo check``, ``zoo review``, ``zoo diff``: the review gate's commands.

Each gets the zoo from the group's State (a default one when run on its own),
calls one library function and prints what it returns.
"""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.complete import complete_ref
from zoo_repo.cli.options import json_option, print_json
from zoo_repo.cli.state import current_state
from zoo_repo.core.words import count


def _zoo() -> Any:
    return current_state().zoo()


_full_option = click.option(
    "--full", is_flag=True,
    help="With --base, read every version (a nightly job), not only the stubs the change touches.")
_committed_option = click.option(
    "--committed", is_flag=True,
    help="With --base, judge HEAD's commits since REF, not uncommitted or untracked files: for CI's fresh "
         "checkout, where they are the same, and a stat of every file and a walk of every directory cheaper.")
_require_option = click.option(
    "--require-signatures", is_flag=True,
    help="Every version added since --base (every version, without it) must be approved as trust.yaml "
         "at --base requires (without --base, the working tree's).")


@click.command(name="check")
@click.option("--base", metavar="REF",
              help="A git ref (e.g. origin/main): files there must be unchanged, versions only added.")
@click.option("--remote", is_flag=True, help="Also check that the remote holds every object, at its size.")
@click.option("--deep", is_flag=True, help="Download every object and check its digest, and run the versions' "
              "validation again on those bytes (implies --remote).")
@_require_option
@_full_option
@_committed_option
@json_option("Print the report as JSON.")
def check_cmd(base: str | None, remote: bool, deep: bool, require_signatures: bool, full: bool, committed: bool,
              as_json: bool) -> None:
    """Check every version's manifest, card, DVC pointer and signatures; exit 1 on any problem.
    With --base, only the stubs the change touches are read: the same verdict, at its cost."""
    from zoo_repo.review.check import check

    report = check(_zoo(), base=base, remote=remote or deep, deep=deep, require_signatures=require_signatures,
                   full=full, committed=committed)
    if as_json:
        print_json({
            "ok": report.ok,
            "versions": report.versions,
            "stubs": report.stubs,
            "objects": report.objects,
            "revalidated": report.revalidated,
            "base": report.base,
            "scope": report.scope,
            "added": list(report.added),
            "rules": list(report.rules),
            "require_signatures": report.require_signatures,
            "problems": [{"path": p.path, "rule": p.rule, "message": p.message} for p in report.problems],
            "warnings": [{"path": p.path, "rule": p.rule, "message": p.message} for p in report.warnings],
        })
    else:
        for problem in report.problems:
            click.echo(problem.line())
        for warning in report.warnings:  # on stderr: CI output that greps problems stays as it was
            click.echo(f"warning: {warning.line()}", err=True)
        click.echo(_summary(report))
    if not report.ok:
        raise click.exceptions.Exit(1)


def _summary(report: Any) -> str:
    touched = " touched" if report.scope == "touched" else ""
    parts = [f"checked {count(report.versions, 'version')} of {count(report.stubs, 'stub')}{touched}"]
    if report.base is not None:
        parts.append(f"{len(report.added)} added since {report.base}")
    if "remote-missing" in report.rules:
        parts.append(count(report.objects, "remote object") + (" hashed" if "remote-digest" in report.rules else ""))
    if "remote-digest" in report.rules:
        parts.append(f"{count(report.revalidated, 'version')} revalidated")
    verdict = "ok" if report.ok else count(len(report.problems), "problem")
    return ", ".join(parts) + ": " + verdict + (f" ({count(len(report.warnings), 'warning')})"
                                                if report.warnings else "")


@click.command(name="review")
@click.option("--base", required=True, metavar="REF", help="The git ref the change is reviewed against.")
@click.option("--remote", is_flag=True, help="Also run the remote checks on the added versions.")
@click.option("--deep", is_flag=True, help="Download and hash the added versions' objects (implies --remote).")
@_require_option
@_full_option
@_committed_option
@json_option("Print the review as JSON.")
def review_cmd(base: str, remote: bool, deep: bool, require_signatures: bool, full: bool, committed: bool,
               as_json: bool) -> None:
    """Summarise the versions added since REF as Markdown for a pull-request comment."""
    from zoo_repo.review.report import render_review_markdown, review, review_dict

    result = review(_zoo(), base, remote=remote or deep, deep=deep, require_signatures=require_signatures,
                    full=full, committed=committed)
    if as_json:
        print_json(review_dict(result))
    else:
        click.echo(render_review_markdown(result), nl=False)


@click.command(name="diff")
@click.argument("a", metavar="STUB@A", shell_complete=complete_ref)
@click.argument("b", metavar="STUB@B", shell_complete=complete_ref)
@json_option("Print the difference as JSON.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when the versions differ, 0 when they are identical "
              "(as `git diff --exit-code`).")
def diff_cmd(a: str, b: str, as_json: bool, exit_code: bool) -> None:
    """Show what changes from one version to another (of one stub or two)."""
    from zoo_repo.review.diff import diff, diff_dict, render_diff_text

    zoo = _zoo()
    result = diff(zoo.resolve(a), zoo.resolve(b))
    if as_json:
        print_json(diff_dict(result))
    else:
        click.echo(render_diff_text(result))
    if exit_code and result.differs:
        raise click.exceptions.Exit(1)


COMMANDS = (check_cmd, review_cmd, diff_cmd)
