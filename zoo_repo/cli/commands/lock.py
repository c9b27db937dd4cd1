"""``zoo lock``: pin models to exact versions and digests in a lockfile."""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.complete import complete_ref
from zoo_repo.cli.options import json_option, lockfile_option, print_json, remote_option
from zoo_repo.cli.state import State, pass_state


@click.command(name="lock")
@click.argument("refs", nargs=-1, metavar="STUB[@SELECTOR]...", shell_complete=complete_ref)
@lockfile_option
@click.option("--check", is_flag=True, help="Exit 1 when a pin is behind what its selector names now.")
@click.option("--upgrade", is_flag=True, help="Re-resolve every pin's selector and rewrite the lockfile.")
@json_option("Print the pins (with --check or --upgrade: the stale ones) as JSON.")
@remote_option
@pass_state
def lock(state: State, refs: tuple[str, ...], lockfile: str, check: bool, upgrade: bool, as_json: bool,
         remote_url: str | None) -> None:
    """Pin models to exact versions and manifest digests in a lockfile."""
    zoo = state.zoo_for_lock(remote_url, lockfile)
    if check or upgrade:
        if refs:
            raise click.UsageError("--check and --upgrade work on the whole lockfile; name no STUB")
        _check_or_upgrade(zoo, lockfile, upgrade, as_json)
        return
    if not refs:
        raise click.UsageError("name at least one STUB[@SELECTOR] to lock")
    new = zoo.lock(refs, lockfile)
    _warn_deprecated(zoo, [p.stub for p in new.pins])
    if as_json:
        print_json({"lockfile": lockfile, "pins": [_pin_dict(p) for p in new.pins]})
        return
    for p in new.pins:
        click.echo(f"locked {p.stub}@{p.selector} -> v{p.version} {p.digest[:19]}")


def _warn_deprecated(zoo: Any, stubs: list[str]) -> None:
    """A lockfile may pin a deprecated stub (its versions stay pullable), but not silently."""
    for stub in stubs:
        record = zoo.deprecation(stub)
        if record is not None:
            click.echo(record.warning(stub), err=True)


def _pin_dict(pin: Any) -> dict[str, Any]:
    return {"stub": pin.stub, "selector": pin.selector, "version": f"v{pin.version}", "digest": pin.digest}


def _check_or_upgrade(zoo: Any, lockfile: str, upgrade: bool, as_json: bool) -> None:
    """``--upgrade``: re-lock every pin; ``--check``: exit 1 when a pin is stale."""
    from pathlib import Path

    from zoo_repo.core.words import count
    from zoo_repo.ops.lock import read_lock, stale_pins

    current = read_lock(Path(lockfile))
    stale = stale_pins(zoo, current)
    if upgrade:
        zoo.lock([f"{p.stub}@{p.selector}" for p in current.pins], lockfile)
    _warn_deprecated(zoo, [p.stub for p in current.pins])
    if as_json:
        print_json({"lockfile": lockfile, "pins": len(current.pins), "upgraded": upgrade,
                    "stale": [{**_pin_dict(s.pin), "now": f"v{s.now}"} for s in stale]})
    else:
        for s in stale:
            click.echo(f"upgraded {s.line()}" if upgrade else f"stale: {s.line()}")
        if not upgrade and not stale:
            click.echo(f"{lockfile}: {count(len(current.pins), 'pin')}, all current")
    if stale and not upgrade:
        if not as_json:
            click.echo("run `zoo lock --upgrade` to move the pins", err=True)
        raise click.exceptions.Exit(1)


COMMANDS = (lock,)
