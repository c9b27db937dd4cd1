"""``zoo publish``: a model directory becomes the next version of a stub."""

from __future__ import annotations

import click

from zoo_repo.cli.options import jobs_option, json_option, print_json
from zoo_repo.cli.state import State, pass_state


@click.command(name="publish")
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
@click.option("--sign-key", type=click.Path(dir_okay=False), metavar="KEY",
              help="Sign the version as its publisher with this EC private key (PEM), in the same commit.")
@jobs_option
@json_option("Print the result as JSON.")
@pass_state
def publish(state: State, model_dir: str, stub: str, message: str | None, no_commit: bool,
            branch: str | None, version: str | None, no_run: bool, rtol: float, atol: float, sign_key: str | None,
            jobs: int, as_json: bool) -> None:
    """Publish MODEL_DIR as the next version of STUB."""
    number = _version_number(version)
    from zoo_repo.cli.render import publish_dict, publish_line

    if branch is not None and no_commit:
        raise click.UsageError("--branch commits; it cannot be combined with --no-commit")
    with state.progress_bar() as bar:
        result = state.zoo().publish(model_dir, stub, message=message, commit=not no_commit, jobs=jobs,
                                     branch=branch, progress=bar, run=not no_run, rtol=rtol, atol=atol,
                                     version=number, sign_key=sign_key)
    if as_json:
        print_json(publish_dict(result))
    else:
        click.echo(publish_line(result))


def _version_number(version: str | None) -> int | None:
    """``--version vN`` as N; None when not given."""
    if version is None:
        return None
    from zoo_repo.core.stub import version_number

    number = version_number(version)
    if number is None:
        raise click.BadParameter(f"{version!r}: expected vN (N >= 1)", param_hint="--version")
    return number


COMMANDS = (publish,)
