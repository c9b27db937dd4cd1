"""The CLI's error boundary: one ``Error:`` line, a hint, the exit status, and
library parameter names shown as the command's flags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import STUB
from zoo_repo.cli.errors import flag_names
from zoo_repo.cli.state import State
from zoo_repo.errors import UsageError, ZooError


def _raising(exc: ZooError) -> Any:
    class FakeZoo:
        def pull(self, *args: Any, **kwargs: Any) -> Any:
            raise exc

    return lambda self, remote=None: FakeZoo()


def _error(message: str, hint: str | None = None, param: Any = None) -> UsageError:
    exc = UsageError(message, hint=hint)
    if param is not None:
        exc.param = param  # type: ignore[attr-defined]
    return exc


def test_a_declared_parameter_is_shown_as_the_flag(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    exc = _error("`dest=` is required when pulling from a remote URL", hint="pass `dest=` or `jobs=`",
                 param=("dest", "jobs"))
    monkeypatch.setattr(State, "zoo", _raising(exc))
    result = cli("pull", STUB)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: --dest is required when pulling from a remote URL",
        "Hint: pass --dest or --jobs",
    ]
    assert str(exc) == "`dest=` is required when pulling from a remote URL"  # API users keep the keyword


def test_without_param_the_message_is_printed_as_written(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(State, "zoo", _raising(_error("/tmp/`dest=`/x: not a zoo")))
    result = cli("pull", STUB)
    assert result.exit_code == 2
    assert result.stderr == "Error: /tmp/`dest=`/x: not a zoo\n"


def test_init_names_its_own_flag_for_branch(cli, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zoo_repo.api import Zoo

    def fake_init(*args: Any, **kwargs: Any) -> Any:
        raise _error("`branch=` 'x y' is not a valid branch name", param="branch")

    monkeypatch.setattr(Zoo, "init", fake_init)
    result = cli("init", tmp_path / "z", "--remote", tmp_path / "r")
    assert (result.exit_code, result.stderr) == (2, "Error: --initial-branch 'x y' is not a valid branch name\n")


@pytest.mark.parametrize(("text", "params", "command", "expected"), [
    ("`dest=` is required", "dest", None, "--dest is required"),
    ("`link=` 'x'; see `include=`", ("link", "include"), "pull", "--link 'x'; see --include"),
    ("`dest=` and `jobs=`", "dest", None, "--dest and `jobs=`"),  # only declared names
    ("dest is required", "dest", None, "dest is required"),  # only the exact form
    ("`dest` is required", "dest", None, "`dest` is required"),
    ("`colour=` unknown", "colour", None, "`colour=` unknown"),  # only names in the table
    ("`branch=` bad", "branch", "publish", "--branch bad"),
    ("`dest=` x", None, None, "`dest=` x"),
])
def test_flag_names(text: str, params: Any, command: str | None, expected: str) -> None:
    assert flag_names(text, params, command) == expected


def test_debug_still_raises(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(State, "zoo", _raising(_error("`dest=` is required", param="dest")))
    with pytest.raises(UsageError, match="`dest=` is required"):
        cli("--debug", "pull", STUB)
