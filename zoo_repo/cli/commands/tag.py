"""``zoo tag``, ``zoo untag``: aliases such as ``stable`` that point at a version."""

from __future__ import annotations

import click

from zoo_repo.cli.complete import complete_ref
from zoo_repo.cli.options import json_option, print_json
from zoo_repo.cli.state import State, pass_state


@click.command(name="tag")
@click.argument("ref", metavar="STUB@VERSION", shell_complete=complete_ref)
@click.argument("alias")
@json_option("Print the result as JSON.")
@pass_state
def tag(state: State, ref: str, alias: str, as_json: bool) -> None:
    """Point ALIAS (e.g. stable) at a version; committed, and mirrored on the remote."""
    manifest = state.zoo().tag(ref, alias)
    if as_json:
        print_json({"stub": str(manifest.stub), "alias": alias, "version": manifest.version_name})
    else:
        click.echo(f"{manifest.stub}@{alias} -> {manifest.version_name}")


@click.command(name="untag")
@click.argument("stub", shell_complete=complete_ref)
@click.argument("alias")
@json_option("Print the result as JSON.")
@pass_state
def untag(state: State, stub: str, alias: str, as_json: bool) -> None:
    """Remove ALIAS from STUB."""
    number = state.zoo().untag(stub, alias)
    if as_json:
        print_json({"stub": stub, "alias": alias, "was": f"v{number}"})
    else:
        click.echo(f"removed {stub}@{alias} (was v{number})")


COMMANDS = (tag, untag)
