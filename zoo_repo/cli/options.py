"""Options that more than one command takes, each defined once, and JSON output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FILTERS = ("domain", "sub_domain", "architecture", "framework", "repo", "dataset", "sparse_name", "sparse_category")


def json_option(help_text: str = "Print as JSON.") -> Callable[[F], F]:
    """``--json``, passed as ``as_json``; ``help_text`` says what is printed."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def print_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, default=str))


def jobs_option(func: F) -> F:
    return click.option("-j", "--jobs", default=8, show_default=True, help="Parallel transfers.")(func)


def remote_option(func: F) -> F:
    return click.option(
        "--remote", "remote_url", metavar="URL",
        help="Read the zoo from this remote URL instead of a checkout (s3://bucket/zoo, file:///…); "
        "S3 endpoint and credentials come from the AWS environment and profiles.",
    )(func)


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
