"""``zoo catalog``: CATALOG.md, catalog.json and a static HTML page."""

from __future__ import annotations

import click

from zoo_repo.cli.options import json_option, print_json, remote_option
from zoo_repo.cli.state import State, pass_state


@click.command(name="catalog")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Where to write CATALOG.md, catalog.json and catalog/index.html (default: the zoo's root).")
@click.option("--markdown", is_flag=True, help="Print the Markdown tables instead of writing files.")
@json_option("Print the files written as JSON.")
@remote_option
@pass_state
def catalog(state: State, out_dir: str | None, markdown: bool, as_json: bool, remote_url: str | None) -> None:
    """Build the catalog: CATALOG.md, catalog.json and a static catalog/index.html.

    With --remote, the catalog of that remote, for readers without a checkout:
    its pull commands say `--remote URL`.
    """
    if markdown and as_json:
        raise click.UsageError("--markdown prints Markdown; it cannot be combined with --json")
    if remote_url and not out_dir and not markdown:
        # A remote has no root to write into, and the checkout's own catalog is not this one.
        raise click.UsageError("--remote needs --out DIR: where to write the remote's catalog")
    zoo = state.zoo(remote_url)
    if markdown:
        from zoo_repo.catalog.index import render_markdown

        click.echo(render_markdown(zoo.list(deprecated=True)), nl=False)
        return
    from pathlib import Path

    from zoo_repo.catalog.files import build_catalog

    written = build_catalog(zoo, Path(out_dir) if out_dir else zoo.root)
    if as_json:
        print_json({"written": [str(p) for p in written], "up_to_date": not written})
        return
    for path in written:
        click.echo(f"wrote {path}")
    if not written:
        click.echo("catalog is up to date")


COMMANDS = (catalog,)
