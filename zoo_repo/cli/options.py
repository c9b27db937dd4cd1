"""Options that more than one command takes, each defined once, and JSON output."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FILTERS = ("domain", "sub_domain", "architecture", "framework", "repo", "dataset", "sparse_name", "sparse_category")


def json_option(help_text: str = "Print as JSON.") -> Callable[[F], F]:
    """``--json``, passed as ``as_json``; ``help_text`` says what is printed. Given, it
    is also recorded on the State, so that an error is printed as JSON too (``cli.errors``)."""
    return click.option("--json", "as_json", is_flag=True, help=help_text, callback=_json_to_state)


def _json_to_state(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    from zoo_repo.cli.state import State

    if value:
        ctx.ensure_object(State).json = True
    return value


def print_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, default=str))


def print_json_list(items: Iterable[Any]) -> None:
    """``print_json(list(items))``'s very bytes, an item at a time: a listing of 20,000 stubs
    is 15 MB of JSON, which json's indenting encoder would hold as millions of pieces at once."""
    import json

    first = True
    for item in items:  # json escapes every newline inside a string: each one here is indentation
        click.echo(("[\n  " if first else ",\n  ") + json.dumps(item, indent=2, default=str).replace("\n", "\n  "),
                   nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def jobs_option(func: F) -> F:
    return click.option("-j", "--jobs", default=8, show_default=True, help="Parallel transfers.")(func)


def remote_option(func: F) -> F:
    """``--remote URL`` (passed as ``remote_url``) and its ``-o/--remote-option KEY=VALUE``
    (kept on the State: see ``State.zoo``)."""
    func = click.option(
        "-o", "--remote-option", "remote_options", multiple=True, metavar="KEY=VALUE", expose_value=False,
        callback=_remote_options,
        help="An option of the --remote URL, by DVC's names: endpointurl=http://host:8333, region=…, "
        "profile=…, ssl_verify=false. A URL configured in the checkout brings its own options.",
    )(func)
    return click.option(
        "--remote", "remote_url", metavar="URL",
        help="Read the zoo from this remote URL instead of a checkout (s3://bucket/zoo, file:///…); "
        "S3 endpoint and credentials come from -o, a remote configured with this URL, "
        "or the AWS environment and profiles.",
    )(func)


def parse_key_values(items: tuple[str, ...], flag: str) -> dict[str, str]:
    parsed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint=flag)
        parsed[key.strip()] = value.strip()
    return parsed


def _remote_options(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    from zoo_repo.cli.state import State

    if value:
        ctx.ensure_object(State).remote_options.update(parse_key_values(value, "--remote-option"))


def lockfile_option(func: F) -> F:
    return click.option("-f", "--lockfile", default="zoo.lock", show_default=True,
                        type=click.Path(dir_okay=False))(func)


def dry_run_option(func: F) -> F:
    return click.option("--dry-run", is_flag=True, help="Only say what would be removed.")(func)


def filter_options(func: F) -> F:
    """``--domain``, ``--sub-domain``, …: one per stub field that ``zoo list`` filters on."""
    for name in reversed(FILTERS):
        func = click.option(f"--{name.replace('_', '-')}", name, help=f"Only models with this {name}.")(func)
    return func


def _to_state(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Record a global option on the State, wherever on the line it was given."""
    from zoo_repo.cli.state import State

    if value is None or value is False:
        return  # not given here: what the group (or the environment) said stands
    setattr(ctx.ensure_object(State), param.name or "", value)


def global_params(*, from_env: bool = True, hidden: bool = False) -> list[click.Option]:
    """``--zoo``, ``--pins``, ``--debug``, ``-q/--quiet``, ``--offline``, defined once: the
    group takes them, and so does every command (``hidden`` there), so they work before
    and after the subcommand, as with git and dvc. The environment (``ZOO_DIR``,
    ``ZOO_PINS``) is read once, by the group (``from_env``)."""
    common: dict[str, Any] = {"expose_value": False, "callback": _to_state, "hidden": hidden}
    flag: dict[str, Any] = {**common, "is_flag": True, "default": None}
    return [
        click.Option(["--zoo", "zoo_dir"], envvar="ZOO_DIR" if from_env else None, metavar="DIR", **common,
                     help="The zoo checkout (default: the current directory or a parent)."),
        # Not --lock nor --lockfile: gc's --lock and pull's and lock's -f/--lockfile take those names.
        click.Option(["--pins", "pins"], envvar="ZOO_PINS" if from_env else None, metavar="LOCKFILE",
                     type=click.Path(dir_okay=False), **common,
                     help="Read through this lockfile's pins (also ZOO_PINS): every STUB[@SELECTOR] must "
                     "name the version it pins (by its pinned selector, vN or digest prefix), else exit 2; "
                     "list shows only the pinned versions. Outside a checkout, without --remote, it opens "
                     "the remote the lockfile names."),
        click.Option(["--debug"], **flag, help="Show tracebacks."),
        click.Option(["-q", "--quiet"], **flag, help="No progress bars."),
        click.Option(["--offline"], **flag,
                     help="Use only what is cached; never touch the network (also ZOO_OFFLINE=1)."),
    ]


def global_options(func: F) -> F:
    """The group's global options (see ``global_params``)."""
    params = getattr(func, "__click_params__", [])
    params.extend(reversed(global_params()))  # click reverses decorator order
    func.__click_params__ = params  # type: ignore[attr-defined]
    return func
