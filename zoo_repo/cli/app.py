"""The ``zoo`` group: its global options, the State they make, its commands."""

from __future__ import annotations

import click

from zoo_repo.cli.commands import Commands
from zoo_repo.cli.errors import ZooGroup
from zoo_repo.cli.options import global_options
from zoo_repo.cli.state import State


class Group(ZooGroup, Commands):
    """The error boundary of ``ZooGroup`` over the lazily loaded ``Commands``."""


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@global_options
@click.version_option(package_name="zoo-repo")
@click.pass_context
def main(ctx: click.Context) -> None:
    """A git-native model zoo: publish models under SparseZoo stubs, pull them back byte for byte.

    The options below may also follow the command (`zoo pull STUB --offline`).
    """
    ctx.ensure_object(State)


def run() -> None:  # console-script entry point
    main(prog_name="zoo")
