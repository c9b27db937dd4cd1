"""``zoo init``: create a zoo."""

from __future__ import annotations

import click


@click.command(name="init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--remote", required=True, metavar="URL", help="Where objects go: a directory or fsspec URL.")
@click.option("-o", "--remote-option", "options", multiple=True, metavar="KEY=VALUE",
              help="A DVC remote option, e.g. endpointurl=http://host:8333 or region=eu-west-1. "
              "Secrets (access_key_id, …) are kept in the untracked .dvc/config.local.")
@click.option("-b", "--initial-branch", "branch", default="main", show_default=True, metavar="NAME",
              help="The first branch of a new git repository.")
def init(directory: str, remote: str, options: tuple[str, ...], branch: str) -> None:
    """Create a zoo in DIRECTORY: git repo, DVC repo, store, manifests, remote."""
    from zoo_repo.api import Zoo
    from zoo_repo.cli.options import parse_key_values

    zoo = Zoo.init(directory, remote=remote, remote_options=parse_key_values(options, "--remote-option"),
                   branch=branch)
    click.echo(f"Created zoo at {zoo.root} (remote: {zoo.remote_config().url})")


COMMANDS = (init,)
