"""``zoo deprecate``: retire a stub, saying why and what replaces it (``--undo`` takes it back)."""

from __future__ import annotations

import click

from zoo_repo.cli.complete import complete_ref
from zoo_repo.cli.options import json_option, print_json
from zoo_repo.cli.state import State, pass_state


@click.command(name="deprecate")
@click.argument("stub", shell_complete=complete_ref)
@click.option("-m", "--message", metavar="WHY", help="Why the stub is deprecated (one line; required unless --undo).")
@click.option("--successor", metavar="STUB", shell_complete=complete_ref,
              help="The stub to use instead; it must have a published version in this zoo.")
@click.option("--undo", is_flag=True, help="Take the deprecation back (removes manifests/STUB/deprecated.yaml).")
@click.option("--branch", is_flag=False, flag_value="", default=None, metavar="[NAME]",
              help="Commit on a new branch for review (default name: deprecate/STUB or undeprecate/STUB); "
              "the working tree and current branch stay as they are.")
@json_option("Print the result as JSON.")
@pass_state
def deprecate(state: State, stub: str, message: str | None, successor: str | None, undo: bool, branch: str | None,
              as_json: bool) -> None:
    """Deprecate STUB, committed: its versions stay pullable, but `zoo list` hides it
    (unless --all) and every pull and lock of it warns, naming the successor. On the
    release branch the remote follows at once, elsewhere once the branch is merged and pushed."""
    from zoo_repo.cli.render import WAITS

    if undo and (message is not None or successor is not None):
        raise click.UsageError("--undo takes the deprecation back; it takes no -m or --successor")
    if not undo and message is None:
        raise click.UsageError("say why with -m WHY (or take a deprecation back with --undo)")
    zoo = state.zoo()
    if undo:
        result = zoo.undeprecate(stub, branch=branch)
    else:
        assert message is not None
        result = zoo.deprecate(stub, message, successor=successor, branch=branch)
    if as_json:
        print_json({"stub": result.stub, "deprecated": result.record.to_dict() if result.record else None,
                    "commit": result.commit, "branch": result.branch, "listed": result.listed})
        return
    what = f"deprecated {result.stub}" if result.record else f"{result.stub} is no longer deprecated"
    if result.record and result.record.successor:
        what += f" (successor {result.record.successor})"
    if result.commit is None:
        what += "; already so, nothing committed"
    elif result.branch:
        what += f"; commit {result.commit[:10]} on new branch {result.branch}"
    else:
        what += f"; commit {result.commit[:10]}"
    click.echo(what + ("" if result.listed else WAITS))


COMMANDS = (deprecate,)
