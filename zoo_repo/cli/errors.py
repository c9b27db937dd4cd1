"""The CLI's one error boundary: a :class:`~zoo_repo.errors.ZooError` becomes
one ``Error: …`` line, an optional ``Hint: …`` line, both on stderr, and the
error's exit status; no traceback unless ``--debug`` (or ``ZOO_DEBUG``).
An ``OSError`` of the environment (a full or read-only disk, a permission, a
name too long: ``errors.os_error``) is shown the same way, naming its path, exit 1;
any other exception is a bug and keeps its traceback.

When the command was given ``--json`` (``State.json``, set by ``options.json_option``),
the error is instead one JSON object on stderr, ``{"error": message, "hint": hint
or null, "exit_code": n}``, for library errors and usage errors alike.

Parameter names become flag names
---------------------------------
A library message that names a keyword parameter of the Python API can have
the CLI show the command's flag instead. Both parts are required:

* the message (or hint) writes the parameter in backticks with a trailing
  ``=``, the keyword form: ``"`dest=` is required when pulling from a remote URL"``;
* the error declares it: ``exc.param = "dest"`` (a str, or a tuple of str).

Then ``zoo`` prints ``Error: --dest is required when pulling from a remote URL``,
while ``str(exc)`` keeps the keyword form for API users. Only declared names that
are in :data:`PARAM_FLAGS` are rewritten, only in that exact form; an error
without ``param`` prints exactly as before, so user text (paths, stubs) that
happens to contain such a form is never touched.
"""

from __future__ import annotations

import os
from typing import Any

import click

from zoo_repo.errors import ZooError, os_error

# Keyword parameters of the library -> the flag the CLI offers for them.
PARAM_FLAGS = {
    "dest": "--dest",
    "include": "--include",
    "exclude": "--exclude",
    "remote": "--remote",
    "jobs": "--jobs",
    "files": "--files",
    "link": "--link",
    "version": "--version",
    "branch": "--branch",
    "stub": "--stub",
    "workdir": "--workdir",
    "zoo": "--zoo",
    "offline": "--offline",
    "remote_options": "-o/--remote-option",
}

# Commands whose flag for a parameter is not the usual one.
COMMAND_FLAGS = {
    "init": {"branch": "--initial-branch"},
}


def flag_names(text: str, params: str | tuple[str, ...] | None, command: str | None = None) -> str:
    """``text`` with each declared parameter's `` `name=` `` replaced by its flag."""
    if not params:
        return text
    flags = {**PARAM_FLAGS, **COMMAND_FLAGS.get(command or "", {})}
    for name in (params,) if isinstance(params, str) else params:
        if name in flags:
            text = text.replace(f"`{name}=`", flags[name])
    return text


def report(exc: ZooError, command: str | None = None, as_json: bool = False) -> None:
    """Print ``exc`` as the CLI shows every library error."""
    params = getattr(exc, "param", None)
    message = flag_names(exc.message, params, command)
    hint = flag_names(exc.hint, params, command) if exc.hint else None
    if as_json:
        json_error(message, hint, exc.exit_code)
        return
    click.echo(f"Error: {message}", err=True)
    if hint:
        click.echo(f"Hint: {hint}", err=True)


def json_error(message: str, hint: str | None, exit_code: int) -> None:
    import json

    click.echo(json.dumps({"error": message, "hint": hint, "exit_code": exit_code}), err=True)


# What shells expect of a program stopped by Ctrl-C: 128 + SIGINT.
INTERRUPTED = 130


class ZooGroup(click.Group):
    """The one error boundary: a ZooError becomes one line and its exit status;
    Ctrl-C exits 130 (every write is a temp name until complete, and the temps
    are removed on the way out, so nothing partial stays behind)."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = getattr(ctx.obj, "debug", False) or os.environ.get("ZOO_DEBUG")
        try:
            return super().invoke(ctx)
        except (ZooError, OSError) as exc:
            error = exc if isinstance(exc, ZooError) else os_error(exc)
            if error is None or getattr(ctx.obj, "debug", False) or os.environ.get("ZOO_DEBUG"):
                raise
            report(error, ctx.invoked_subcommand, getattr(ctx.obj, "json", False))
            ctx.exit(error.exit_code)
        except click.ClickException as exc:  # usage errors: as JSON too when --json was given
            if not getattr(ctx.obj, "json", False):
                raise
            json_error(exc.format_message(), None, exc.exit_code)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            if debug:
                raise
            click.echo("Interrupted.", err=True)
            ctx.exit(INTERRUPTED)
