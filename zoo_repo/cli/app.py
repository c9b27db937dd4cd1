"""The ``zoo`` group: its global options, the State they make, its commands."""

from __future__ import annotations

import click

from zoo_repo.cli.commands import register
from zoo_repo.cli.errors import ZooGroup
from zoo_repo.cli.state import State


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--zoo", "zoo_dir", envvar="ZOO_DIR", metavar="DIR",
              help="The zoo checkout (default: the current directory or a parent).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option("--offline", is_flag=True, help="Use only what is cached; never touch the network (also ZOO_OFFLINE=1).")
@click.version_option(package_name="zoo-repo")
@click.pass_context
def main(ctx: click.Context, zoo_dir: str | None, debug: bool, quiet: bool, offline: bool) -> None:
    """A git-native model zoo: publish models under SparseZoo stubs, pull them back byte for byte."""
    ctx.obj = State(zoo_dir, quiet, offline)


register(main)


def run() -> None:  # console-script entry point
    main(prog_name="zoo")
