"""``zoo pull``: models' files, verified, to a directory."""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.complete import complete_ref, complete_role
from zoo_repo.cli.options import jobs_option, json_option, lockfile_option, print_json, remote_option
from zoo_repo.cli.state import State, pass_state

ROLE_HELP = ("card, onnx, archive, framework, recipes, sample-originals, sample-inputs, sample-outputs, "
             "sample-labels, other")


@click.command(name="pull")
@click.argument("refs", nargs=-1, metavar="STUB[@SELECTOR][?recipe=NAME]...", shell_complete=complete_ref)
@click.option("--dest", type=click.Path(file_okay=False),
              help="Where to put the files (default in a checkout: manifests/STUB/VERSION/model, as dvc pull "
              "does). With one STUB, DEST is the model's directory; with several STUBs or --locked, "
              "each model goes to DEST/STUB.")
@click.option("--include", multiple=True, metavar="ROLE|GLOB", shell_complete=complete_role,
              help=f"Only these files (repeatable): a role name selects that role ({ROLE_HELP}); "
              "anything else is a glob on the file's path, as huggingface's --include.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Leave out files whose path matches (repeatable).")
@click.option("--files", "globs", multiple=True, metavar="GLOB", help="Only files whose path matches (repeatable).")
@click.option("--link", type=click.Choice(["copy", "reflink", "hardlink", "symlink"]), default="reflink",
              show_default=True, help="How files at --dest relate to the cache (reflink falls back to copy; "
              "hardlinks and symlinks are read-only views of the cache's object: an edit through one is "
              "detected, and the next pull fetches the object again).")
@click.option("--locked", is_flag=True, help="Pull exactly what the lockfile pins (see `zoo lock`); with "
              "STUBs, only those, each of which must name the version the lockfile pins (as with --pins).")
@lockfile_option
@click.option("--force", is_flag=True, help="Overwrite destination files that differ (each one is hashed "
              "unless this user's stat cache vouches for it unchanged).")
@click.option("--allow-unsigned", is_flag=True, help="Pull versions that lack the approvals your pinned signers "
              "must give (`zoo trust`, a lockfile's trust:); each one is named on stderr.")
@jobs_option
@json_option("Print the result as JSON.")
@remote_option
@pass_state
def pull(state: State, refs: tuple[str, ...], dest: str | None, include: tuple[str, ...], exclude: tuple[str, ...],
         globs: tuple[str, ...], link: str, locked: bool, lockfile: str, force: bool, allow_unsigned: bool,
         jobs: int, as_json: bool, remote_url: str | None) -> None:
    """Pull models' files, verified, to a directory: one STUB's to --dest, several
    STUBs' (or the lockfile's, with --locked) each to DEST/STUB.

    With --locked and STUBs, or with --pins, every STUB[@SELECTOR] resolves through
    the lockfile: it must name the pinned version (its pinned selector, vN or digest
    prefix) and that version's manifest must still have the pinned digest, else
    nothing is pulled (exit 2).

    SparseZoo's ?recipe=NAME (or ?recipe_type=NAME) on a STUB narrows nothing: the
    recipe must exist (else nothing is pulled), it is pulled even with --include,
    and the printed line (JSON: "recipe") names its path."""
    from zoo_repo.cli.render import pull_dict, pull_line

    kw: dict[str, Any] = {"include": include, "exclude": exclude, "files": globs, "link": link, "force": force,
                          "jobs": jobs}
    if allow_unsigned:
        click.echo("warning: --allow-unsigned: versions without the approvals your pins require are pulled "
                   "anyway", err=True)
    with state.progress_bar() as bar:
        if locked and not refs:
            zoo = state.zoo_for_lock(remote_url, lockfile)
            zoo.allow_unsigned = allow_unsigned
            results = zoo.pull_locked(lockfile, dest=dest, progress=bar, **kw)
        else:
            if not refs:
                raise click.UsageError("name at least one STUB[@SELECTOR] (or use --locked)")
            zoo = state.zoo_for_lock(remote_url, lockfile, pinned=True) if locked else state.zoo(remote_url)
            zoo.allow_unsigned = allow_unsigned
            if len(refs) == 1:
                results = [zoo.pull(refs[0], dest=dest, progress=bar, **kw)]
            else:
                results = zoo.pull_many(refs, dest=dest, progress=bar, **kw)
    for result in results:
        if result.signed is not None and result.signed.waived:
            click.echo(f"warning: --allow-unsigned: pulled {result.signed.waived}", err=True)
        if result.deprecated is not None:
            click.echo(result.deprecated.warning(result.stub), err=True)
    if as_json:
        print_json(pull_dict(results[0]) if len(refs) == 1 else [pull_dict(r) for r in results])
    else:
        for result in results:
            click.echo(pull_line(result))


COMMANDS = (pull,)
