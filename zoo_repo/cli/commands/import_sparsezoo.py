"""``zoo import-sparsezoo``: a SparseZoo download becomes a model directory ``zoo publish`` takes."""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.options import json_option, print_json
from zoo_repo.cli.state import State, pass_state


@click.command(name="import-sparsezoo")
@click.argument("source", metavar="DIR", type=click.Path())
@click.option("--stub", required=True, help="The model's stub (SparseZoo's, with or without zoo:).")
@click.option("--dest", type=click.Path(), help="Where the model directory is made (a new or empty folder; "
              "default ./ARCH-DATASET-SPARSETAG).")
@click.option("--publish", "then_publish", is_flag=True, help="Publish it as the next version of STUB right after.")
@json_option("Print what went where as JSON.")
@pass_state
def import_sparsezoo(state: State, source: str, stub: str, dest: str | None, then_publish: bool,
                     as_json: bool) -> None:
    """Turn DIR, a model as SparseZoo's client downloaded it, into a model directory:
    each file mapped to its role (training/ → FRAMEWORK/, recipe/recipe_NAME.md →
    recipes/NAME.md, sample-outputs_onnxruntime/ → sample-outputs/…); what has no
    role is kept and listed."""
    from pathlib import Path

    from zoo_repo.core.stub import parse_ref
    from zoo_repo.ops.import_sparsezoo import import_sparsezoo as run

    ref = parse_ref(stub)  # SparseZoo's stubs may carry ?recipe=: the stub is what is imported
    zoo = state.zoo() if then_publish else None  # refuse before writing when there is no zoo to publish to
    result = run(Path(source), ref.stub, Path(dest) if dest is not None else None)
    published = zoo.publish(result.dest, result.stub) if zoo is not None else None
    if as_json:
        print_json(_as_dict(result, published))
        return
    for placed in result.mapped:
        click.echo(f"{placed.source or '(written)'} -> {placed.dest} ({placed.role})")
    for placed in result.kept:
        click.echo(f"kept {placed.source} -> {placed.dest} (other: {placed.why})")
    for placed in result.skipped:
        click.echo(f"skipped {placed.source}: {placed.why}")
    for note in (*result.conflicts, *result.card_notes):
        click.echo(f"note: {note}")
    click.echo(f"imported {result.files} files to {result.dest} ({len(result.kept)} kept with role other)")
    if published is not None:
        from zoo_repo.cli.render import publish_line

        click.echo(publish_line(published))
    else:
        click.echo(f"publish with: zoo publish {result.dest} --stub {result.stub}")


def _as_dict(result: Any, published: Any) -> dict[str, Any]:
    def rows(items: Any) -> list[dict[str, str]]:
        return [{"source": p.source, "dest": p.dest, "role": p.role, **({"why": p.why} if p.why else {})}
                for p in items]

    out: dict[str, Any] = {"source": str(result.source), "dest": str(result.dest), "stub": str(result.stub),
           "mapped": rows(result.mapped), "kept": rows(result.kept), "skipped": rows(result.skipped),
           "conflicts": list(result.conflicts), "card_notes": list(result.card_notes)}
    if published is not None:
        from zoo_repo.cli.render import publish_dict

        out["published"] = publish_dict(published)
    return out


COMMANDS = (import_sparsezoo,)
