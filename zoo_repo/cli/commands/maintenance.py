"""``zoo push``, ``zoo fetch``, ``zoo verify``, ``zoo gc``: the store and the remote."""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.complete import complete_ref
from zoo_repo.cli.options import dry_run_option, jobs_option, json_option, print_json
from zoo_repo.cli.state import State, pass_state
from zoo_repo.core.words import count


@click.command(name="push")
@jobs_option
@click.option("--full", is_flag=True,
              help="Ask the remote about every version's objects, not only those of versions "
                   "changed since the commit it lists (after objects were lost there).")
@json_option("Print the result as JSON.")
@pass_state
def push(state: State, jobs: int, full: bool, as_json: bool) -> None:
    """Upload every object the manifests reference that the remote lacks; on the release
    branch, then make the remote list what it has (the step CI runs after a merge).
    Versions unchanged since the commit the remote lists had their objects there when
    it listed them, so only the others are looked at, unless --full."""
    from zoo_repo.cli.render import push_lines

    with state.progress_bar() as bar:
        result = state.zoo().push(jobs=jobs, progress=bar, full=full)
    if as_json:
        p = result.projection
        print_json({"objects": result.objects, "bytes": result.bytes, "missing": list(result.missing),
                    "projection": None if p is None else {"branch": p.branch, "commit": p.commit, "before": p.before,
                                                          "added": list(p.added), "aliases": list(p.aliases)}})
    else:
        for line in push_lines(result):
            click.echo(line)
        for label in result.missing:
            click.echo(f"Error: {label}: in neither the store nor the remote", err=True)
    if result.missing:
        raise click.exceptions.Exit(1)


@click.command(name="fetch")
@click.argument("refs", nargs=-1, metavar="[STUB[@VERSION]]...", shell_complete=complete_ref)
@jobs_option
@json_option("Print the result as JSON.")
@pass_state
def fetch(state: State, refs: tuple[str, ...], jobs: int, as_json: bool) -> None:
    """Download objects into the store (all versions, or the ones named)."""
    with state.progress_bar() as bar:
        result = state.zoo().fetch(refs, jobs=jobs, progress=bar)
    _transfer_out(result, "fetched", as_json)


def _transfer_out(result: Any, verb: str, as_json: bool) -> None:
    from zoo_repo.core.words import human_size

    if as_json:
        print_json({"objects": result.objects, "bytes": result.bytes, "missing": list(result.missing)})
        return
    click.echo(f"{verb} {count(result.objects, 'object')} ({human_size(result.bytes)})")
    for label in result.missing:
        click.echo(f"Error: {label}: in neither the store nor the remote", err=True)


@click.command(name="verify")
@click.option("--repair", is_flag=True, help="Fetch corrupt objects again from the remote (removing those it "
              "cannot supply, so the next pull fetches them).")
@jobs_option
@json_option("Print the report as JSON.")
@pass_state
def verify(state: State, repair: bool, jobs: int, as_json: bool) -> None:
    """Check every manifest, and every stored object against its digests (hashing each).

    Exit status 1 when something is wrong (with --repair: when something could
    not be repaired)."""
    report = state.zoo().verify(repair=repair, jobs=jobs)
    if as_json:
        print_json({"manifests": report.manifests, "objects": report.objects, "problems": list(report.problems),
                    "repaired": list(report.repaired)})
    else:
        for line in report.repaired:
            click.echo(f"repaired {line}")
        for problem in report.problems:
            click.echo(f"Error: {problem}", err=True)
        click.echo(f"verified {count(report.manifests, 'manifest')}, {count(report.objects, 'object')}: "
                   + ("ok" if report.ok else count(len(report.problems), "problem"))
                   + (f", {len(report.repaired)} repaired" if report.repaired else ""))
    if not report.ok:
        raise click.exceptions.Exit(1)


@click.command(name="gc")
@dry_run_option
@click.option("--lock", "lockfiles", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="Also keep what this lockfile pins (repeatable).")
@json_option("Print the plan as JSON.")
@pass_state
def gc(state: State, dry_run: bool, lockfiles: tuple[str, ...], as_json: bool) -> None:
    """Remove store objects that no manifest (on any branch) or given lockfile references."""
    from zoo_repo.core.words import human_size

    plan = state.zoo().plan_gc(lockfiles)
    if not dry_run:
        plan.execute()
    if as_json:
        print_json({"dry_run": dry_run, "objects": list(plan.objects),
                    "temp_files": [str(p) for p in plan.temp_files], "bytes": plan.bytes})
        return
    verb = "would remove" if dry_run else "removed"
    for oid in plan.objects:
        click.echo(f"{verb} md5:{oid}")
    click.echo(f"{verb} {count(len(plan.objects), 'object')} and {count(len(plan.temp_files), 'temp file')} "
               f"({human_size(plan.bytes)})")


COMMANDS = (push, fetch, verify, gc)
