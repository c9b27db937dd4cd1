"""``zoo doctor``: check a remote end to end."""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.options import json_option, print_json
from zoo_repo.cli.state import State, pass_state


@click.command(name="doctor")
@click.argument("name", required=False, metavar="[REMOTE|URL]")
@click.option("--url", help="Check this URL instead of a configured remote (same as giving the URL).")
@click.option("-o", "--remote-option", "remote_options", multiple=True, metavar="KEY=VALUE",
              help="An option of the URL, by DVC's names (endpointurl=…, region=…).")
@json_option("Print the checks as JSON.")
@pass_state
def doctor(state: State, name: str | None, url: str | None, remote_options: tuple[str, ...], as_json: bool) -> None:
    """Check a remote (the zoo's default, one it names, or any URL) end to end and say
    how to fix what fails; outside a checkout, give the URL."""
    from zoo_repo.cli.options import parse_key_values
    from zoo_repo.ops.doctor import diagnose

    if name and "://" in name:
        url, name = name, None
    options: dict[str, Any]
    zoo = None
    if url:
        state.remote_options.update(parse_key_values(remote_options, "--remote-option"))
        options = state.options_for(url)
        zoo = state.zoo(url)  # opened, not contacted: whose signatures its pulls need
    else:
        zoo = state.zoo()
        conf = zoo.remote_config(name)
        url, options = conf.url, {**conf.options, **parse_key_values(remote_options, "--remote-option")}
    checks = diagnose(url, options, zoo if name is None else None)
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
