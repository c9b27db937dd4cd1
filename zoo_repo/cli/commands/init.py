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

    zoo = Zoo.init(directory, remote=remote, remote_options=_key_values(options), branch=branch)
    click.echo(f"Created zoo at {zoo.root} (remote: {zoo.remote_config().url})")


def _key_values(options: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--remote-option")
        parsed[key.strip()] = value.strip()
    return parsed


COMMANDS = (init,)
