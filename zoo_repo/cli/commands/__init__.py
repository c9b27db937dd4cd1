"""The commands of ``zoo``, one module per family; :class:`Commands` is the one
place that attaches them to the group.

Each module defines its commands with ``click.command`` and lists them in
``COMMANDS``; it imports from ``zoo_repo.cli.state`` and ``zoo_repo.cli.options``,
never from the group's module, and imports the library inside each command so
that ``zoo --help`` loads none of it. A command's module is imported only when
that command runs (or help lists it): ``zoo pull`` builds no other command's
options, which is most of what importing them all cost at start-up.
"""

from __future__ import annotations

import importlib

import click

# Command name -> the family module that defines it (tests/cli/test_commands.py
# checks this table against every family's COMMANDS).
WHERE = {
    "init": "init",
    "publish": "publish",
    "import-sparsezoo": "import_sparsezoo",
    "pull": "pull",
    "lock": "lock",
    "list": "listing", "show": "listing", "versions": "listing", "stub": "listing",
    "tag": "tag", "untag": "tag",
    "deprecate": "deprecate",
    "sign": "sign", "approve": "sign", "trust": "sign",
    "push": "maintenance", "fetch": "maintenance", "verify": "maintenance", "gc": "maintenance",
    "cache": "cache",
    "doctor": "doctor",
    "catalog": "catalog",
    "demo": "demo",
    "check": "review", "review": "review", "diff": "review",
    "completion": "completion",
}


class Commands(click.Group):
    """A group whose commands are loaded from ``WHERE`` when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *WHERE})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in WHERE:
            self.load_family(WHERE[cmd_name])
        return self.commands.get(cmd_name)

    def load_family(self, name: str) -> None:
        """Attach every command of one family module, each given the global options."""
        from zoo_repo.cli.options import global_params

        family = importlib.import_module(f"{__name__}.{name}")
        for command in family.COMMANDS:
            if command.name not in self.commands:
                command.params.extend(global_params(from_env=False, hidden=True))
                self.add_command(command)
