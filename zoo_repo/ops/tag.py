"""``zoo tag`` / ``zoo untag``: move an alias, as a commit and on the remote."""

from __future__ import annotations

from zoo_repo.core.aliases import ALIASES_NAME, check_alias_name, render_aliases
from zoo_repo.core.manifest import Manifest
from zoo_repo.core.stub import Stub
from zoo_repo.errors import NotFound, RemoteError, ToolError, UsageError, ZooError
from zoo_repo.model.readfile import TEXT_LIMIT, read_text_bounded
from zoo_repo.repo import git
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import write_text_atomic


def tag(zoo: Workspace, manifest: Manifest, alias: str) -> None:
    check_alias_name(alias)
    aliases = zoo.aliases(manifest.stub)
    if aliases.get(alias) == manifest.version:
        return  # already there: nothing to commit
    before = aliases.get(alias)
    aliases[alias] = manifest.version
    moved = f" (was v{before})" if before else ""
    _write(zoo, manifest.stub, aliases, f"Tag {manifest.stub}@{manifest.version_name} as {alias}{moved}")


def untag(zoo: Workspace, stub: Stub, alias: str) -> int:
    aliases = zoo.aliases(stub)
    if alias not in aliases:
        raise NotFound(f"{stub} has no alias {alias!r}")
    number = aliases.pop(alias)
    _write(zoo, stub, aliases, f"Untag {alias} from {stub} (was v{number})")
    return number


def _write(zoo: Workspace, stub: Stub, aliases: dict[str, int], message: str) -> None:
    if not zoo.versions(stub):
        raise UsageError(f"{stub} is not published in this zoo")
    path = zoo.manifests_dir / stub.path / ALIASES_NAME
    rel = path.relative_to(zoo.root).as_posix()
    previous = read_text_bounded(str(path), TEXT_LIMIT, rel) if path.exists() else None
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
    publish_aliases(zoo, stub)


def publish_aliases(zoo: Workspace, stub: Stub) -> None:
    """Mirror a stub's aliases file on the remote, for consumers without git."""
    from zoo_repo.remote.meta import PREFIX

    remote = zoo.remote()
    key = f"{PREFIX}/manifests/{stub}/{ALIASES_NAME}"
    path = zoo.manifests_dir / stub.path / ALIASES_NAME
    try:
        if path.exists():
            remote.put_text(key, read_text_bounded(str(path), TEXT_LIMIT))
        else:
            remote.delete(key)
    except ZooError as exc:
        raise RemoteError(f"the alias is committed, but the remote was not updated: {exc.message}",
                          hint="run `zoo push` once the remote is reachable") from exc

