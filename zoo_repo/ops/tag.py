"""``zoo tag`` / ``zoo untag``: move an alias, as a commit; on the release branch,
also on the remote (``ops.project``), where consumers without git read it."""

from __future__ import annotations

from zoo_repo.core.aliases import ALIASES_NAME, check_alias_name, render_aliases
from zoo_repo.core.manifest import Manifest
from zoo_repo.core.stub import Stub
from zoo_repo.errors import NotFound, RemoteError, ToolError, UsageError, ZooError
from zoo_repo.model.readfile import TEXT_LIMIT, read_text_bounded
from zoo_repo.repo import git
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import write_text_atomic


def tag(zoo: Workspace, manifest: Manifest, alias: str) -> bool:
    """Point ``alias`` at ``manifest``'s version, committed; True when consumers without
    git see it now (committed on the release branch), False when it waits for a merge and push."""
    check_alias_name(alias)
    aliases = zoo.aliases(manifest.stub)
    if aliases.get(alias) == manifest.version:
        _check_current(zoo)
        return _list(zoo)  # already committed: make sure the remote says so too
    before = aliases.get(alias)
    aliases[alias] = manifest.version
    moved = f" (was v{before})" if before else ""
    return _write(zoo, manifest.stub, aliases, f"Tag {manifest.stub}@{manifest.version_name} as {alias}{moved}")


def untag(zoo: Workspace, stub: Stub, alias: str) -> int:
    aliases = zoo.aliases(stub)
    if alias not in aliases:
        raise NotFound(f"{stub} has no alias {alias!r}")
    number = aliases.pop(alias)
    _write(zoo, stub, aliases, f"Untag {alias} from {stub} (was v{number})")
    return number


def _write(zoo: Workspace, stub: Stub, aliases: dict[str, int], message: str) -> bool:
    if not zoo.versions(stub):
        raise UsageError(f"{stub} is not published in this zoo")
    path = zoo.manifests_dir / stub.path / ALIASES_NAME
    rel = path.relative_to(zoo.root).as_posix()
    previous = read_text_bounded(str(path), TEXT_LIMIT, rel) if path.exists() else None
    _check_current(zoo)
    if aliases:
        write_text_atomic(path, render_aliases(str(stub), aliases))
    else:
        path.unlink(missing_ok=True)
    try:
        git.commit(zoo.root, [rel], message)
    except ToolError:
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            write_text_atomic(path, previous)
        git.unstage(zoo.root, [rel])
        raise
    return _list(zoo)


def _check_current(zoo: Workspace) -> None:
    """On the release branch, refuse before committing when the remote is ahead of it or beside it."""
    from zoo_repo.ops.project import check_can_move
    from zoo_repo.remote import meta
    from zoo_repo.repo.release import on_release_branch, release_of

    if on_release_branch(zoo.root):
        check_can_move(zoo, meta.read_view(zoo.remote()), release_of(zoo.root))


def _list(zoo: Workspace) -> bool:
    """On the release branch, move the remote's projection to the commit just made; whether it moved."""
    from zoo_repo.ops.project import after_commit_hint, project
    from zoo_repo.repo.release import on_release_branch

    if not on_release_branch(zoo.root):
        return False  # a branch's aliases reach consumers when it is merged and pushed
    try:
        project(zoo)
    except ZooError as exc:
        raise RemoteError(f"the alias is committed, but consumers without git do not see it yet: {exc.message}",
                          hint=after_commit_hint(exc)) from exc
    return True
