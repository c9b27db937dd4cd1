"""``zoo doctor``: check a remote end to end."""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.options import json_option, print_json
from zoo_repo.cli.state import State, pass_state


@click.command(name="doctor")
@click.argument("name", required=False, metavar="[REMOTE]")
@click.option("--url", help="Check this URL instead of a configured remote (uses its DVC options if any).")
@json_option("Print the checks as JSON.")
@pass_state
def doctor(state: State, name: str | None, url: str | None, as_json: bool) -> None:
    """Check a remote end to end and say how to fix what fails."""
    from zoo_repo.ops.doctor import diagnose

    if url:
        options: dict[str, Any] = {}
    else:
        conf = state.zoo().remote_config(name)
        url, options = conf.url, conf.options
    checks = diagnose(url, options)
    if as_json:
        print_json([vars(c) for c in checks])
    else:
        for c in checks:
            click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
            if c.fix:
                click.echo(f"     fix: {c.fix}")
    if not all(c.ok for c in checks):
        raise click.exceptions.Exit(1)


COMMANDS = (doctor,)
