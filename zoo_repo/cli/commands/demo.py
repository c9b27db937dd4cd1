"""``zoo demo``: publish two small models and pull them back, end to end."""

from __future__ import annotations

import click


@click.command(name="demo")
@click.option("--workdir", type=click.Path(file_okay=False), default="zoo-demo", show_default=True,
              help="Where the demo zoo, remote, clone and pulled models go.")
def demo(workdir: str) -> None:
    """Build two small ONNX models, publish them, pull them from a fresh clone."""
    from pathlib import Path

    from zoo_repo.cli.render import demo_text
    from zoo_repo.ops.demo import run_demo

    click.echo(demo_text(run_demo(Path(workdir))))


COMMANDS = (demo,)
