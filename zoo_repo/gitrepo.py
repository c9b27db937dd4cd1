"""The one module that runs git."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .errors import ToolError


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
        )
    except FileNotFoundError as exc:
        raise ToolError("git is not installed or not on PATH") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ToolError(f"git {args[0]} failed: {detail[-1] if detail else proc.returncode}")
    return proc.stdout


def is_repo(root: Path) -> bool:
    try:
        return git(root, "rev-parse", "--is-inside-work-tree").strip() == "true"
    except ToolError:
        return False


def init(root: Path) -> None:
    git(root, "init", "-q")


def identity(root: Path) -> tuple[str, str]:
    """The publisher: git's user.name/email, else the login name on this host."""

    def get(key: str) -> str:
        try:
            return git(root, "config", key).strip()
        except ToolError:
            return ""

    name, email = get("user.name"), get("user.email")
    if not name:
        name = getpass.getuser()
    if not email:
        email = f"{getpass.getuser()}@{socket.gethostname()}"
    return name, email


def commit(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly ``paths`` (other staged changes stay staged); returns the sha."""
    name, email = identity(root)
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    git(root, "add", "--", *paths)
    git(root, "commit", "-q", "-m", message, "--only", "--", *paths, env=env)
    return git(root, "rev-parse", "HEAD").strip()


def unstage(root: Path, paths: Sequence[str]) -> None:
    """Take paths out of the index again; quiet if they were never added."""
    try:
        git(root, "reset", "-q", "--", *paths)
    except ToolError:
        pass
