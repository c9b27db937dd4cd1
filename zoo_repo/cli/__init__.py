"""The ``zoo`` command. Parses arguments, calls zoo_repo, prints the result.

Only this package imports click, and nothing here does work of its own. Heavy
modules (dvc, fsspec, onnx) are imported by the library calls that need them,
so ``zoo --help`` stays fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from zoo_repo.errors import ZooError

ROLE_HELP = "card, onnx, archive, framework, recipes, sample-originals, sample-inputs, sample-outputs, sample-labels, other"


class ZooGroup(click.Group):
    """The one error boundary: a ZooError becomes one line and its exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as exc:
            if ctx.params.get("debug") or os.environ.get("ZOO_DEBUG"):
                raise
            click.echo(f"Error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            ctx.exit(exc.exit_code)


class State:
    def __init__(self, zoo_dir: str | None, quiet: bool = False, offline: bool = False) -> None:
        self.zoo_dir = zoo_dir
        self.quiet = quiet
        self.offline = offline or None  # None: ZOO_OFFLINE decides

    def progress(self) -> Any:
        from zoo_repo.cli.bar import for_terminal

        return for_terminal(self.quiet)

    def zoo(self, remote: str | None = None) -> Any:
        """The zoo checkout, or with ``remote`` the zoo at that URL (no git needed)."""
        from zoo_repo.api import Zoo

        if remote:
            url = remote if "://" in remote else Path(remote).resolve().as_uri()
            return Zoo.open(url, offline=self.offline)
        return Zoo.open(self.zoo_dir or ".", offline=self.offline)


def remote_option(func: Any) -> Any:
    return click.option(
        "--remote", "remote_url", metavar="URL",
        help="Read the zoo from this remote URL instead of a checkout (s3://bucket/zoo, file:///…); "
        "S3 endpoint and credentials come from the AWS environment and profiles.",
    )(func)


pass_state = click.make_pass_decorator(State)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--zoo", "zoo_dir", envvar="ZOO_DIR", metavar="DIR",
              help="The zoo checkout (default: the current directory or a parent).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.option("--offline", is_flag=True, help="Use only what is cached; never touch the network (also ZOO_OFFLINE=1).")
@click.version_option(package_name="zoo-repo")
@click.pass_context
def main(ctx: click.Context, zoo_dir: str | None, debug: bool, quiet: bool, offline: bool) -> None:
    """A git-native model zoo: publish models under SparseZoo stubs, pull them back byte for byte."""
    ctx.obj = State(zoo_dir, quiet, offline)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--remote", required=True, metavar="URL", help="Where objects go: a directory or fsspec URL.")
@click.option("-o", "--remote-option", "options", multiple=True, metavar="KEY=VALUE",
              help="A DVC remote option, e.g. endpointurl=http://host:8333 or region=eu-west-1. "
              "Secrets (access_key_id, …) are kept in the untracked .dvc/config.local.")
@click.option("-b", "--initial-branch", "branch", default="main", show_default=True, metavar="NAME",
              help="The first branch of a new git repository.")
def init(directory: str, remote: str, options: tuple[str, ...], branch: str) -> None:
    """Create a zoo in DIRECTORY: git repo, DVC repo, store, manifests, remote."""
    from zoo_repo.api import Zoo

    parsed = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--remote-option")
        parsed[key.strip()] = value.strip()
    zoo = Zoo.init(directory, remote=remote, remote_options=parsed, branch=branch)
    click.echo(f"Created zoo at {zoo.root} (remote: {zoo.remote_config().url})")


@main.command()
@click.argument("model_dir", type=click.Path())
@click.option("--stub", required=True, help="The model's stub.")
@click.option("-m", "--message", help="Commit message (default names stub, version and size).")
@click.option("--no-commit", is_flag=True, help="Write the version but leave committing to you.")
@click.option("--branch", is_flag=False, flag_value="", default=None, metavar="[NAME]",
              help="Commit on a new branch for review (default name: publish/STUB/vN); "
              "the working tree and current branch stay as they are.")
@click.option("--version", "version", metavar="vN",
              help="Publish as exactly this version: refused if it exists with other content or is not next.")
@click.option("--no-run", is_flag=True,
              help="Do not run sample-inputs through model.onnx (the manifest records that it was skipped).")
@click.option("--rtol", type=float, default=1e-3, show_default=True, help="Relative tolerance for sample outputs.")
@click.option("--atol", type=float, default=1e-5, show_default=True, help="Absolute tolerance for sample outputs.")
@click.option("-j", "--jobs", default=8, show_default=True, help="Parallel transfers.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def publish(state: State, model_dir: str, stub: str, message: str | None, no_commit: bool,
            branch: str | None, version: str | None, no_run: bool, rtol: float, atol: float, jobs: int,
            as_json: bool) -> None:
    """Publish MODEL_DIR as the next version of STUB."""
    from zoo_repo.core.stub import version_number

    number = None
    if version is not None:
        number = version_number(version)
        if number is None:
            raise click.BadParameter(f"{version!r}: expected vN (N >= 1)", param_hint="--version")
    from zoo_repo.cli import render

    if branch is not None and no_commit:
        raise click.UsageError("--branch commits; it cannot be combined with --no-commit")
    bar = state.progress()
    result = state.zoo().publish(model_dir, stub, message=message, commit=not no_commit, jobs=jobs,
                                 branch=branch, progress=bar, run=not no_run, rtol=rtol, atol=atol,
                                 version=number)
    if bar:
        bar.finish()
    if as_json:
        _print_json(render.publish_dict(result))
    else:
        click.echo(render.publish_line(result))


@main.command()
@click.argument("refs", nargs=-1, metavar="STUB[@SELECTOR]...")
@click.option("--dest", type=click.Path(file_okay=False),
              help="Where to put the files (default in a checkout: manifests/STUB/VERSION/model, as dvc pull "
              "does). With --locked, each model goes to DEST/STUB.")
@click.option("--include", multiple=True, metavar="ROLE", help=f"Only these roles: {ROLE_HELP}.")
@click.option("--files", "globs", multiple=True, metavar="GLOB", help="Only files whose path matches (repeatable).")
@click.option("--link", type=click.Choice(["copy", "reflink", "hardlink", "symlink"]), default="reflink",
              show_default=True, help="How files at --dest relate to the cache (reflink falls back to copy; "
              "hardlinks and symlinks are read-only).")
@click.option("--locked", is_flag=True, help="Pull exactly what the lockfile pins (see `zoo lock`).")
@click.option("-f", "--lockfile", default="zoo.lock", show_default=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite destination files that differ.")
@click.option("-j", "--jobs", default=8, show_default=True, help="Parallel transfers.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@remote_option
@pass_state
def pull(state: State, refs: tuple[str, ...], dest: str | None, include: tuple[str, ...], globs: tuple[str, ...],
         link: str, locked: bool, lockfile: str, force: bool, jobs: int, as_json: bool,
         remote_url: str | None) -> None:
    """Pull models' files, verified, to a directory."""
    from zoo_repo.cli import render

    kw: dict[str, Any] = {"include": include, "files": globs, "link": link, "force": force, "jobs": jobs}
    bar = state.progress()
    if locked:
        if refs:
            raise click.UsageError("--locked pulls what the lockfile pins; name no STUB with it")
        zoo = state.zoo(remote_url) if remote_url or _in_checkout(state) else _zoo_of_lock(state, lockfile)
        results = zoo.pull_locked(lockfile, dest=dest, progress=bar, **kw)
    else:
        if len(refs) != 1:
            raise click.UsageError("name one STUB[@SELECTOR] (or use --locked)")
        results = [state.zoo(remote_url).pull(refs[0], dest=dest, progress=bar, **kw)]
    if bar:
        bar.finish()
    if as_json:
        _print_json([render.pull_dict(r) for r in results] if locked else render.pull_dict(results[0]))
    else:
        for result in results:
            click.echo(render.pull_line(result))


def _in_checkout(state: State) -> bool:
    from zoo_repo.errors import NotAZooError
    from zoo_repo.repo.config import find_root

    try:
        find_root(Path(state.zoo_dir or "."))
    except NotAZooError:
        return False
    return True


def _zoo_of_lock(state: State, lockfile: str) -> Any:
    from zoo_repo.api import Zoo

    return Zoo.open(lockfile, offline=state.offline)


@main.command()
@click.argument("refs", nargs=-1, metavar="STUB[@SELECTOR]...")
@click.option("-f", "--lockfile", default="zoo.lock", show_default=True, type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True, help="Exit 1 when a pin is behind what its selector names now.")
@click.option("--upgrade", is_flag=True, help="Re-resolve every pin's selector and rewrite the lockfile.")
@remote_option
@pass_state
def lock(state: State, refs: tuple[str, ...], lockfile: str, check: bool, upgrade: bool,
         remote_url: str | None) -> None:
    """Pin models to exact versions and manifest digests in a lockfile."""
    from zoo_repo.ops.lock import read_lock, stale_pins

    zoo = state.zoo(remote_url) if remote_url or _in_checkout(state) else _zoo_of_lock(state, lockfile)
    if check or upgrade:
        if refs:
            raise click.UsageError("--check and --upgrade work on the whole lockfile; name no STUB")
        current = read_lock(Path(lockfile))
        stale = stale_pins(zoo, current)
        if upgrade:
            zoo.lock([f"{p.stub}@{p.selector}" for p in current.pins], lockfile)
            for s in stale:
                click.echo(f"upgraded {s.line()}")
            return
        for s in stale:
            click.echo(f"stale: {s.line()}")
        if stale:
            click.echo("run `zoo lock --upgrade` to move the pins", err=True)
            raise click.exceptions.Exit(1)
        click.echo(f"{lockfile}: {len(current.pins)} pins, all current")
        return
    if not refs:
        raise click.UsageError("name at least one STUB[@SELECTOR] to lock")
    new = zoo.lock(refs, lockfile)
    for p in new.pins:
        click.echo(f"locked {p.stub}@{p.selector} -> v{p.version} {p.digest[:19]}")


_FILTERS = ("domain", "sub_domain", "architecture", "framework", "repo", "dataset", "sparse_name", "sparse_category")


def _filter_options(func: Any) -> Any:
    for name in reversed(_FILTERS):
        func = click.option(f"--{name.replace('_', '-')}", name, help=f"Only models with this {name}.")(func)
    return func


@main.command(name="list")
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@remote_option
@pass_state
def list_(state: State, as_json: bool, remote_url: str | None, **filters: str | None) -> None:
    """List published models (latest version of each), as the spec's tables."""
    from zoo_repo.catalog.index import render_markdown
    from zoo_repo.cli import render

    manifests = state.zoo(remote_url).summaries(**filters)
    if as_json:
        _print_json([render.summary_dict(m) for m in manifests])
    else:
        click.echo(render_markdown(manifests), nl=False)


@main.command()
@click.argument("ref", metavar="STUB[@VERSION]")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@remote_option
@pass_state
def show(state: State, ref: str, as_json: bool, remote_url: str | None) -> None:
    """Show one version: fields, card, metrics, files by role."""
    from zoo_repo.cli import render

    manifest = state.zoo(remote_url).show(ref)
    if as_json:
        _print_json(manifest.to_dict())
    else:
        click.echo(render.show_text(manifest))


@main.command()
@click.argument("stub")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@remote_option
@pass_state
def versions(state: State, stub: str, as_json: bool, remote_url: str | None) -> None:
    """List the versions of STUB."""
    from zoo_repo.cli import render

    zoo = state.zoo(remote_url)
    manifests = [zoo.manifest(stub, v) for v in zoo.versions(stub)]
    if not manifests:
        from zoo_repo.errors import NotFound

        raise NotFound(f"{stub} is not published in this zoo", hint="see `zoo list`")
    from zoo_repo.core.aliases import by_version

    tags = by_version(zoo.aliases(stub))
    rows = [(m, ["latest"] * (m is manifests[-1]) + tags.get(m.version, []), zoo.digest(m.stub, m.version))
            for m in manifests]
    if as_json:
        _print_json([{**render.summary_dict(m), "aliases": a, "digest": d} for m, a, d in rows])
    else:
        click.echo(render.versions_text(rows))


@main.command()
@click.argument("ref", metavar="STUB[@VERSION]")
@click.option("--json", "as_json", is_flag=True, help="Print the fields as JSON.")
def stub(ref: str, as_json: bool) -> None:
    """Parse a stub and print its fields."""
    from zoo_repo.core.stub import parse_ref

    parsed = parse_ref(ref)
    data = {**parsed.stub.fields(), "stub": str(parsed.stub), "version": parsed.selector}
    if as_json:
        _print_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key:16} {'' if value is None else value}")


@main.command()
@click.argument("ref", metavar="STUB@VERSION")
@click.argument("alias")
@pass_state
def tag(state: State, ref: str, alias: str) -> None:
    """Point ALIAS (e.g. stable) at a version; committed, and mirrored on the remote."""
    manifest = state.zoo().tag(ref, alias)
    click.echo(f"{manifest.stub}@{alias} -> {manifest.version_name}")


@main.command()
@click.argument("stub")
@click.argument("alias")
@pass_state
def untag(state: State, stub: str, alias: str) -> None:
    """Remove ALIAS from STUB."""
    number = state.zoo().untag(stub, alias)
    click.echo(f"removed {stub}@{alias} (was v{number})")


@main.command()
@click.option("-j", "--jobs", default=8, show_default=True, help="Parallel transfers.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def push(state: State, jobs: int, as_json: bool) -> None:
    """Upload every object the manifests reference that the remote lacks."""
    bar = state.progress()
    result = state.zoo().push(jobs=jobs, progress=bar)
    if bar:
        bar.finish()
    _transfer_out(result, "uploaded", as_json)
    if result.missing:
        raise click.exceptions.Exit(1)


@main.command()
@click.argument("refs", nargs=-1, metavar="[STUB[@VERSION]]...")
@click.option("-j", "--jobs", default=8, show_default=True, help="Parallel transfers.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def fetch(state: State, refs: tuple[str, ...], jobs: int, as_json: bool) -> None:
    """Download objects into the store (all versions, or the ones named)."""
    bar = state.progress()
    result = state.zoo().fetch(refs, jobs=jobs, progress=bar)
    if bar:
        bar.finish()
    _transfer_out(result, "fetched", as_json)


def _transfer_out(result: Any, verb: str, as_json: bool) -> None:
    from zoo_repo.catalog.index import human_size

    if as_json:
        _print_json({"objects": result.objects, "bytes": result.bytes, "missing": list(result.missing)})
        return
    click.echo(f"{verb} {result.objects} objects ({human_size(result.bytes)})")
    for label in result.missing:
        click.echo(f"Error: {label}: in neither the store nor the remote", err=True)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_state
def verify(state: State, as_json: bool) -> None:
    """Check every manifest, and every stored object against its digests."""
    report = state.zoo().verify()
    if as_json:
        _print_json({"manifests": report.manifests, "objects": report.objects, "problems": list(report.problems)})
    else:
        for problem in report.problems:
            click.echo(f"Error: {problem}", err=True)
        click.echo(f"verified {report.manifests} manifests, {report.objects} objects: "
                   + ("ok" if report.ok else f"{len(report.problems)} problems"))
    if not report.ok:
        raise click.exceptions.Exit(1)


@main.command()
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option("--lock", "lockfiles", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="Also keep what this lockfile pins (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@pass_state
def gc(state: State, dry_run: bool, lockfiles: tuple[str, ...], as_json: bool) -> None:
    """Remove store objects that no manifest (on any branch) or given lockfile references."""
    from zoo_repo.catalog.index import human_size

    plan = state.zoo().plan_gc(lockfiles)
    if not dry_run:
        plan.execute()
    if as_json:
        _print_json({"dry_run": dry_run, "objects": list(plan.objects),
                     "temp_files": [str(p) for p in plan.temp_files], "bytes": plan.bytes})
        return
    verb = "would remove" if dry_run else "removed"
    for oid in plan.objects:
        click.echo(f"{verb} md5:{oid}")
    click.echo(f"{verb} {len(plan.objects)} objects and {len(plan.temp_files)} temp files "
               f"({human_size(plan.bytes)})")


@main.group()
def cache() -> None:
    """The per-user cache that pulls by URL or lockfile go through."""


@cache.command(name="ls")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def cache_ls(as_json: bool) -> None:
    """Size per stub and version, and the total."""
    from zoo_repo.catalog.index import human_size
    from zoo_repo.repo.sources import default_cache_dir
    from zoo_repo.store.usercache import scan

    report = scan(default_cache_dir())
    rows = sorted(report.versions, key=lambda v: (str(v.manifest.stub), v.manifest.version))
    if as_json:
        _print_json({"root": str(report.root), "total_bytes": report.total_bytes, "objects": report.total_objects,
                     "versions": [{"stub": str(v.manifest.stub), "version": v.manifest.version_name,
                                   "bytes": v.present, "last_used": v.last_used} for v in rows]})
        return
    for v in rows:
        click.echo(f"{human_size(v.present):>10}  {v.manifest.stub}@{v.manifest.version_name}")
    click.echo(f"{human_size(report.total_bytes):>10}  total ({report.total_objects} objects in {report.root})")


@cache.command(name="prune")
@click.option("--keep-latest", type=click.IntRange(min=0), help="Keep the N latest cached versions of each stub.")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0), metavar="DAYS",
              help="Forget versions not pulled for DAYS days.")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def cache_prune(keep_latest: int | None, older_than: float | None, dry_run: bool) -> None:
    """Forget cached versions, and remove objects no remaining version needs."""
    from zoo_repo.catalog.index import human_size
    from zoo_repo.repo.sources import default_cache_dir
    from zoo_repo.store.usercache import plan_prune, scan

    plan = plan_prune(scan(default_cache_dir()), keep_latest, older_than)
    if not dry_run:
        plan.execute()
    verb = "would remove" if dry_run else "removed"
    for v in plan.drop_versions:
        click.echo(f"{verb} {v.manifest.stub}@{v.manifest.version_name}")
    click.echo(f"{verb} {len(plan.drop_objects)} objects ({human_size(plan.bytes)})")


@main.command()
@click.argument("name", required=False, metavar="[REMOTE]")
@click.option("--url", help="Check this URL instead of a configured remote (uses its DVC options if any).")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
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
        _print_json([vars(c) for c in checks])
    else:
        for c in checks:
            click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
            if c.fix:
                click.echo(f"     fix: {c.fix}")
    if not all(c.ok for c in checks):
        raise click.exceptions.Exit(1)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Where to write CATALOG.md, catalog.json and catalog/index.html (default: the zoo's root).")
@click.option("--markdown", is_flag=True, help="Print the Markdown tables instead of writing files.")
@pass_state
def catalog(state: State, out_dir: str | None, markdown: bool) -> None:
    """Build the catalog: CATALOG.md, catalog.json and a static catalog/index.html."""
    zoo = state.zoo()
    if markdown:
        from zoo_repo.catalog.index import render_markdown

        click.echo(render_markdown(zoo.list()), nl=False)
        return
    from zoo_repo.catalog.files import build_catalog

    written = build_catalog(zoo, Path(out_dir) if out_dir else zoo.root)
    for path in written:
        click.echo(f"wrote {path}")
    if not written:
        click.echo("catalog is up to date")


@main.command()
@click.option("--workdir", type=click.Path(file_okay=False), default="zoo-demo", show_default=True,
              help="Where the demo zoo, remote, clone and pulled models go.")
def demo(workdir: str) -> None:
    """Build two small ONNX models, publish them, pull them from a fresh clone."""
    from zoo_repo.cli import render
    from zoo_repo.ops.demo import run_demo

    click.echo(render.demo_text(run_demo(Path(workdir))))



# The review gate lives in its own module; attached here so `zoo --help` lists it.
from zoo_repo.cli.review import check_cmd, diff_cmd, review_cmd  # noqa: E402

main.add_command(check_cmd)
main.add_command(review_cmd)
main.add_command(diff_cmd)


def run() -> None:  # console-script entry point
    main(prog_name="zoo")


if __name__ == "__main__":  # pragma: no cover
    run()
