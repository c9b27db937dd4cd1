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
    """Point ALIAS (e.g. stable) at a version, committed; on the release branch the
    remote follows at once, elsewhere once the branch is merged and pushed."""
    from zoo_repo.cli.render import WAITS
    from zoo_repo.repo.release import on_release_branch

    zoo = state.zoo()
    manifest = zoo.tag(ref, alias)
    listed = on_release_branch(zoo.root)
    if as_json:
        print_json({"stub": str(manifest.stub), "alias": alias, "version": manifest.version_name, "listed": listed})
    else:
        click.echo(f"{manifest.stub}@{alias} -> {manifest.version_name}" + ("" if listed else WAITS))


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
