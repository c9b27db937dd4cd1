"""Moved to :mod:`zoo_repo.cli.commands.review`; these names stay importable from here."""

from zoo_repo.cli.commands.review import check_cmd, diff_cmd, review_cmd

__all__ = ["check_cmd", "diff_cmd", "review_cmd"]
