"""``zoo cache ls``, ``zoo cache verify``, ``zoo cache prune``, ``zoo cache rm``: the per-user cache."""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.complete import complete_ref
from zoo_repo.cli.options import dry_run_option, json_option, print_json
from zoo_repo.core.words import count


@click.group(name="cache")
def cache() -> None:
    """The per-user cache that pulls by URL or lockfile go through."""


@cache.command(name="ls")
@json_option("Print as JSON.")
def cache_ls(as_json: bool) -> None:
    """Size per stub and version, and the total."""
    from zoo_repo.core.words import human_size
    from zoo_repo.store.usercache import default_cache_dir, scan

    report = scan(default_cache_dir())
    rows = sorted(report.versions, key=lambda v: (str(v.manifest.stub), v.manifest.version))
    if as_json:
        print_json({"root": str(report.root), "total_bytes": report.total_bytes, "objects": report.total_objects,
                    "versions": [{"stub": str(v.manifest.stub), "version": v.manifest.version_name,
                                  "bytes": v.present, "last_used": v.last_used} for v in rows],
                    "stale_temps": {"count": len(report.stale_temps), "bytes": report.stale_bytes}})
        return
    for v in rows:
        click.echo(f"{human_size(v.present):>10}  {v.manifest.stub}@{v.manifest.version_name}")
    objects = count(report.total_objects, "object")
    click.echo(f"{human_size(report.total_bytes):>10}  total ({objects} in {report.root})")
    if report.stale_temps:
        click.echo(f"{human_size(report.stale_bytes):>10}  in {count(len(report.stale_temps), 'stale temp file')} "
                   "left by killed pulls (`zoo cache prune` removes them)")


@cache.command(name="verify")
@click.option("--repair", is_flag=True, help="Remove corrupt objects, so the next pull fetches them again.")
@json_option("Print the report as JSON.")
def cache_verify(repair: bool, as_json: bool) -> None:
    """Hash every cached object against its name and the cached manifests.

    Exit status 1 when a corrupt object is found and not removed (without --repair)."""
    from zoo_repo.store.usercache import default_cache_dir, verify_cache

    report = verify_cache(default_cache_dir(), repair)
    if as_json:
        print_json({"root": str(report.root), "objects": report.objects, "corrupt": list(report.corrupt),
                    "removed": report.removed and bool(report.corrupt)})
    else:
        for line in report.corrupt:
            if report.removed:
                click.echo(f"removed {line}")
            else:
                click.echo(f"Error: {line}", err=True)
        click.echo(f"verified {count(report.objects, 'object')} in {report.root}: "
                   + ("ok" if not report.corrupt else count(len(report.corrupt), "corrupt object")
                      + (", removed (the next pull fetches them)" if report.removed else "")))
        if report.corrupt and not report.removed:
            click.echo("Hint: run `zoo cache verify --repair` to remove them; the next pull fetches good copies",
                       err=True)
    if not report.ok:
        raise click.exceptions.Exit(1)


@cache.command(name="prune")
@click.option("--keep-latest", type=click.IntRange(min=0), help="Keep the N latest cached versions of each stub.")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0), metavar="DAYS",
              help="Forget versions not pulled for DAYS days.")
@dry_run_option
@json_option("Print what is (or would be) removed as JSON.")
def cache_prune(keep_latest: int | None, older_than: float | None, dry_run: bool, as_json: bool) -> None:
    """Forget cached versions, and remove objects no remaining version needs."""
    from zoo_repo.store.usercache import default_cache_dir, plan_prune, scan

    _carry_out(plan_prune(scan(default_cache_dir()), keep_latest, older_than), dry_run, as_json)


@cache.command(name="rm")
@click.argument("ref", metavar="STUB[@SELECTOR]", shell_complete=complete_ref)
@dry_run_option
@json_option("Print what is (or would be) removed as JSON.")
def cache_rm(ref: str, dry_run: bool, as_json: bool) -> None:
    """Forget STUB's cached versions (or the one SELECTOR names): manifests and snapshots,
    then the objects no remaining cached version names."""
    from zoo_repo.store.usercache import default_cache_dir, plan_remove, scan

    _carry_out(plan_remove(scan(default_cache_dir()), ref), dry_run, as_json)


def _carry_out(plan: Any, dry_run: bool, as_json: bool) -> None:
    """Execute ``plan`` (unless ``dry_run``) and say what it removed."""
    from zoo_repo.core.words import human_size

    if not dry_run:
        plan.execute()
    if as_json:
        print_json({"dry_run": dry_run, "versions": [f"{v.manifest.stub}@{v.manifest.version_name}"
                                                     for v in plan.drop_versions],
                    "objects": list(plan.drop_objects), "temp_files": [str(p) for p in plan.temp_files],
                    "bytes": plan.bytes})
        return
    verb = "would remove" if dry_run else "removed"
    for v in plan.drop_versions:
        click.echo(f"{verb} {v.manifest.stub}@{v.manifest.version_name}")
    temps = f" and {count(len(plan.temp_files), 'stale temp file')}" if plan.temp_files else ""
    click.echo(f"{verb} {count(len(plan.drop_objects), 'object')}{temps} ({human_size(plan.bytes)})")


COMMANDS = (cache,)
