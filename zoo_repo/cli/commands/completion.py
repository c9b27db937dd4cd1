"""``zoo completion bash|zsh|fish``: the shell's completion script."""

from __future__ import annotations

import click

COMPLETE_VAR = "_ZOO_COMPLETE"  # click's: _ZOO_COMPLETE=bash_source zoo prints the same script


@click.command(name="completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print SHELL's completion script. Load it with, e.g.,
    `eval "$(zoo completion bash)"` in ~/.bashrc, `eval "$(zoo completion zsh)"` in ~/.zshrc,
    or `zoo completion fish > ~/.config/fish/completions/zoo.fish`.

    Stubs complete from the zoo checkout, `STUB@` completes versions and aliases
    (zsh and fish; bash splits words at `@`), --include completes roles."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the Choice only offers shells click knows
        raise click.BadParameter(shell, param_hint="SHELL")
    click.echo(cls(ctx.find_root().command, {}, "zoo", COMPLETE_VAR).source())


COMMANDS = (completion,)
