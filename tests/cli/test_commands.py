"""The group's command table: every family's commands reachable, each loaded only when used."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

from click.testing import CliRunner

import zoo_repo.cli.commands as commands_pkg
from zoo_repo.cli import main
from zoo_repo.cli.commands import WHERE


def test_the_table_names_every_command_of_every_family_and_nothing_else() -> None:
    defined = {}
    for info in pkgutil.iter_modules(commands_pkg.__path__):
        family = importlib.import_module(f"{commands_pkg.__name__}.{info.name}")
        for command in family.COMMANDS:
            defined[command.name] = info.name
    assert defined == WHERE


def test_help_lists_every_command_and_each_resolves_with_the_global_options() -> None:
    listed = CliRunner().invoke(main, ["--help"])
    assert listed.exit_code == 0
    for name in WHERE:
        assert f"\n  {name} " in listed.output, name
        command = main.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None and command.name == name
        opts = [o for p in command.params for o in p.opts]
        for flag in ("--zoo", "--pins", "--debug", "--quiet", "--offline"):
            assert opts.count(flag) == 1, (name, flag)  # given once, however often it is asked for
    assert main.get_command(None, "no-such-command") is None  # type: ignore[arg-type]
    unknown = CliRunner().invoke(main, ["pul"])
    assert unknown.exit_code == 2 and "No such command 'pul'" in unknown.output


def test_a_command_loads_only_its_own_family() -> None:
    code = (
        "import sys\nfrom zoo_repo.cli import main\n"
        "try:\n    main(['pull', '--help'], prog_name='zoo')\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('zoo_repo.cli.commands.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "LOADED ['pull']"
