"""``zoo tag`` / ``zoo untag``: move an alias, as a commit; on the release branch,
also on the remote (``ops.project``), where consumers without git read it."""

from __future__ import annotations

from zoo_repo.core.aliases import ALIASES_NAME, check_alias_name, render_aliases
from zoo_repo.core.manifest import Manifest
from zoo_repo.core.stub import Stub
from zoo_repo.errors import NotFound, UsageError
from zoo_repo.ops.record import check_current, commit_record, list_on_remote
from zoo_repo.repo.workspace import Workspace


def tag(zoo: Workspace, manifest: Manifest, alias: str) -> bool:
    """Point ``alias`` at ``manifest``'s version, committed; True when consumers without
    git see it now (committed on the release branch), False when it waits for a merge and push."""
    check_alias_name(alias)
    aliases = zoo.aliases(manifest.stub)
    if aliases.get(alias) == manifest.version:
        check_current(zoo)
        return list_on_remote(zoo, "alias")  # already committed: make sure the remote says so too
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
    text = render_aliases(str(stub), aliases) if aliases else None
    return commit_record(zoo, zoo.manifests_dir / stub.path / ALIASES_NAME, text, message, "alias")[1]
