"""Committing a stub's record (``aliases.yaml``, ``deprecated.yaml``): one file,
one commit saying why; on the release branch the remote's listing follows
(``ops.project``), elsewhere the commit waits for review, a merge and ``zoo push``.

``zoo tag`` and ``zoo deprecate`` differ in what the file says, not in how it
reaches consumers, so that part is written once, here.
"""

from __future__ import annotations

from pathlib import Path

from zoo_repo.errors import RemoteError, ToolError, ZooError
from zoo_repo.model.readfile import TEXT_LIMIT, read_text_bounded
from zoo_repo.repo import git, gitcommit
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import write_text_atomic


def commit_record(zoo: Workspace, path: Path, text: str | None, message: str, what: str) -> tuple[str, bool]:
    """Write ``text`` at ``path`` (None: remove it) and commit exactly that file; the commit,
    and True when consumers without git see it now. A failing commit (a hook) puts the file back as it was.
    ``what`` names the change in the error when the listing cannot follow ("alias")."""
    rel = path.relative_to(zoo.root).as_posix()
    previous = read_text_bounded(str(path), TEXT_LIMIT, rel) if path.exists() else None
    check_current(zoo)
    if text is not None:
        write_text_atomic(path, text)
    else:
        path.unlink(missing_ok=True)
    try:
        sha = gitcommit.commit(zoo.root, [rel], message)
    except ToolError:
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            write_text_atomic(path, previous)
        git.unstage(zoo.root, [rel])
        raise
    return sha, list_on_remote(zoo, what)


def check_current(zoo: Workspace) -> None:
    """On the release branch, refuse before committing when the remote is ahead of it or beside it."""
    from zoo_repo.ops.project import check_can_move
    from zoo_repo.remote import meta
    from zoo_repo.repo.release import on_release_branch, release_of

    if on_release_branch(zoo.root):
        check_can_move(zoo, meta.read_head(zoo.remote()), release_of(zoo.root))


def list_on_remote(zoo: Workspace, what: str) -> bool:
    """On the release branch, move the remote's projection to the commit just made; whether it moved."""
    from zoo_repo.ops.project import after_commit_hint, project
    from zoo_repo.repo.release import on_release_branch

    if not on_release_branch(zoo.root):
        return False  # a branch's records reach consumers when it is merged and pushed
    try:
        project(zoo)
    except ZooError as exc:
        raise RemoteError(f"committed the {what}, but consumers without git do not see that yet: {exc.message}",
                          hint=after_commit_hint(exc)) from exc
    return True
