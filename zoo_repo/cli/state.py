"""What every command is handed: the group's global options, and the zoo they name.

pathlib, like the library, is imported where it is used: ``zoo --help`` needs neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


class State:
    """The global options (``cli.options.global_options``), set wherever they were given."""

    def __init__(self, zoo_dir: str | None = None, quiet: bool = False, offline: bool = False,
                 debug: bool = False) -> None:
        self.zoo_dir = zoo_dir
        self.pins: str | None = None  # --pins LOCKFILE: every reference resolves through it
        self.quiet = quiet
        self.debug = debug
        self._offline = offline
        self.remote_options: dict[str, str] = {}  # -o KEY=VALUE, for --remote URL
        self.json = False  # the command got --json: errors are printed as JSON too

    @property
    def offline(self) -> bool | None:
        return self._offline or None  # None: ZOO_OFFLINE decides

    @offline.setter
    def offline(self, value: bool) -> None:
        self._offline = value

    def progress(self) -> Any:
        from zoo_repo.cli.bar import for_terminal

        return for_terminal(self.quiet)

    @contextmanager
    def progress_bar(self) -> Iterator[Any]:
        """A bar (or None) for the body; cleared when the body succeeds."""
        bar = self.progress()
        yield bar
        if bar:
            bar.finish()

    def zoo(self, remote: str | None = None) -> Any:
        """The zoo checkout, or with ``remote`` the zoo at that URL (no git needed); with
        ``--pins``, the zoo ``zoo_for_lock`` opens for that lockfile, read through its pins."""
        if self.pins:
            return self.zoo_for_lock(remote, self.pins, pinned=True)
        return self._open(remote)

    def _open(self, remote: str | None) -> Any:
        from pathlib import Path

        from zoo_repo.api import Zoo

        if remote:
            url = remote if "://" in remote else Path(remote).resolve().as_uri()
            return Zoo.open(url, remote_options=self.options_for(url), offline=self.offline)
        return Zoo.open(self.zoo_dir or ".", offline=self.offline)

    def options_for(self, url: str) -> dict[str, Any]:
        """``url``'s options: those of a remote the checkout configures with this URL
        (endpoint, region, credentials from config.local), then ``-o``, which wins."""
        from pathlib import Path

        from zoo_repo.errors import NotAZooError
        from zoo_repo.repo.config import find_root, remote_for_url

        options: dict[str, Any] = {}
        try:
            configured = remote_for_url(find_root(Path(self.zoo_dir or ".")), url)
        except NotAZooError:
            configured = None
        if configured is not None:
            options.update(configured.options)
        return {**options, **self.remote_options}

    def zoo_for_lock(self, remote: str | None, lockfile: str, *, pinned: bool = False) -> Any:
        """The zoo at ``remote``, else the checkout, else the one ``lockfile`` was made from
        (read through its pins, as ``Zoo.open`` does); ``pinned``: through its pins in any case."""
        from zoo_repo.api import Zoo

        if remote or self.in_checkout():
            zoo = self._open(remote)
            return zoo.pinned_by(lockfile) if pinned else zoo
        return Zoo.open(lockfile, remote_options=self.remote_options, offline=self.offline)

    def in_checkout(self) -> bool:
        from pathlib import Path

        from zoo_repo.errors import NotAZooError
        from zoo_repo.repo.config import find_root

        try:
            find_root(Path(self.zoo_dir or "."))
        except NotAZooError:
            return False
        return True


pass_state = click.make_pass_decorator(State)


def current_state() -> State:
    """The running command's State; a default one when a command runs on its own."""
    return click.get_current_context().find_object(State) or State(None)
