"""``zoo list``, ``zoo show``, ``zoo versions``, ``zoo stub``: read the zoo, print it."""

from __future__ import annotations

import click

from zoo_repo.cli.complete import complete_ref
from zoo_repo.cli.options import filter_options, json_option, print_json, print_json_list, remote_option
from zoo_repo.cli.state import State, pass_state


@click.command(name="list")
@filter_options
@click.option("--all", "show_all", is_flag=True, help="Also deprecated stubs (`zoo deprecate`), marked as such.")
@json_option("Print as JSON.")
@remote_option
@pass_state
# pass_state hands ``state`` positionally; saying so lets mypy fit it to the decorator despite **filters.
def list_(state: State, /, show_all: bool, as_json: bool, remote_url: str | None, **filters: str | None) -> None:
    """List published models (latest version of each), as the spec's tables; with --json,
    each with its aliases (alias -> version, `latest` included) and its deprecation.
    Deprecated stubs are left out unless --all."""
    from zoo_repo.catalog.index import render_markdown
    from zoo_repo.cli.render import summary_dict

    zoo = state.zoo(remote_url)
    rows = zoo.listing(deprecated=True, aliases=as_json, **filters)
    retired = {str(r.summary.stub): r.deprecation for r in rows if r.deprecation is not None}
    everything = [row for row in rows if show_all or row.deprecation is None]
    manifests = [row.summary for row in everything]
    if zoo.from_cache_only:
        click.echo("offline: only what the cache holds; the remote may have more", err=True)
    if as_json:
        from zoo_repo.core.aliases import named_versions

        print_json_list({**summary_dict(r.summary), "aliases": named_versions(r.aliases or {}, r.summary.version),
                         "deprecated": r.deprecation.to_dict() if r.deprecation else None} for r in everything)
        return
    click.echo(render_markdown(manifests), nl=False)
    if show_all:
        for stub, record in sorted(retired.items()):
            click.echo(record.warning(stub).removeprefix("warning: "))
    elif retired:
        from zoo_repo.core.words import count

        click.echo(f"({count(len(retired), 'deprecated stub')} not shown: `zoo list --all` lists them)", err=True)


@click.command(name="show")
@click.argument("ref", metavar="STUB[@VERSION][?recipe=NAME]", shell_complete=complete_ref)
@json_option("Print the manifest as JSON.")
@remote_option
@pass_state
def show(state: State, ref: str, as_json: bool, remote_url: str | None) -> None:
    """Show one version: fields, card, metrics, signatures, files by role.

    With SparseZoo's ?recipe=NAME (the recipe file whose stem is NAME) or
    ?recipe_type=NAME (whose stem starts with NAME), also the recipe that selects
    (JSON: "recipe"); none matching is an error naming the recipes there are."""
    from zoo_repo.cli.render import show_text, signed_line
    from zoo_repo.core.recipes import select_recipe
    from zoo_repo.core.stub import parse_ref
    from zoo_repo.core.trust import seen_dict
    from zoo_repo.ops.trusting import known_signers

    zoo = state.zoo(remote_url)
    manifest = zoo.show(ref)
    chosen = select_recipe(manifest, parse_ref(ref))
    ref = f"{manifest.stub}@{manifest.version_name}"  # the version shown, whatever alias named it
    seen, known = zoo.signatures(ref), known_signers(zoo)
    deprecated = zoo.deprecation(manifest.stub)
    if as_json:
        extra = {"recipe": chosen.path} if chosen else {}
        print_json({**manifest.to_dict(), **extra, "signatures": [seen_dict(known, s) for s in seen],
                    "deprecated": deprecated.to_dict() if deprecated else None})
    else:
        click.echo(show_text(manifest, [signed_line(known, s) for s in seen], recipe=chosen.path if chosen else None,
                             deprecated=deprecated))


@click.command(name="versions")
@click.argument("stub", shell_complete=complete_ref)
@json_option("Print as JSON.")
@remote_option
@pass_state
def versions(state: State, stub: str, as_json: bool, remote_url: str | None) -> None:
    """List the versions of STUB."""
    from zoo_repo.cli.render import summary_dict, versions_text

    zoo = state.zoo(remote_url)
    manifests = [zoo.manifest(stub, v) for v in zoo.versions(stub)]
    if not manifests:
        from zoo_repo.errors import NotFound, Offline

        if zoo.from_cache_only:
            raise Offline(f"{stub}: its versions are")
        raise NotFound(f"{stub} is not published in this zoo", hint="see `zoo list`")
    if zoo.from_cache_only:
        click.echo("offline: only the versions the cache holds; the remote may have more", err=True)
    from zoo_repo.core.aliases import by_version

    tags = by_version(zoo.aliases(stub))
    rows = [(m, ["latest"] * (m is manifests[-1]) + tags.get(m.version, []), zoo.digest(m.stub, m.version))
            for m in manifests]
    if as_json:
        print_json([{**summary_dict(m), "aliases": a, "digest": d} for m, a, d in rows])
    else:
        click.echo(versions_text(rows))


@click.command(name="stub")
@click.argument("ref", metavar="STUB[@VERSION][?recipe=NAME]")
@json_option("Print the fields as JSON.")
def stub(ref: str, as_json: bool) -> None:
    """Parse a stub and print its fields (and its ?recipe= or ?recipe_type=, if any)."""
    from zoo_repo.core.stub import parse_ref

    parsed = parse_ref(ref)
    data = {**parsed.stub.fields(), "stub": str(parsed.stub), "version": parsed.selector}
    data.update({k: v for k, v in (("recipe", parsed.recipe), ("recipe_type", parsed.recipe_type)) if v})
    if as_json:
        print_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key:16} {'' if value is None else value}")


COMMANDS = (list_, show, versions, stub)
