"""``zoo deprecate``: retire a stub on purpose, naming why and its successor.

The record is ``manifests/<stub>/deprecated.yaml`` (``core.deprecation``),
committed like an alias (``ops.record``): on the release branch the remote's
listing follows at once, so consumers without git see it; on another branch,
or with ``branch=``, it is a commit for review that reaches them once merged
and pushed. Nothing is deleted: the stub's versions stay pullable (lockfiles
pinning them keep working), and every pull and lock of it warns.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo_repo.core.deprecation import DEPRECATION_NAME, Deprecation, make, render_deprecation
from zoo_repo.core.stub import Stub, parse_stub
from zoo_repo.errors import NotFound, UsageError, ZooError
from zoo_repo.ops.record import check_current, commit_record, list_on_remote
from zoo_repo.repo import git
from zoo_repo.repo.workspace import Workspace


@dataclass(frozen=True)
class DeprecateResult:
    """What ``deprecate`` or ``undeprecate`` did to ``stub``."""

    stub: str
    record: Deprecation | None  # the stub's record now (None: not deprecated)
    before: Deprecation | None
    commit: str | None = None  # the commit made; None when the record already said so
    branch: str | None = None  # the new branch committed on, for review
    listed: bool = False  # consumers without git see it now (committed on the release branch, projected)


def deprecate(zoo: Workspace, stub: Stub, message: str, successor: str | None = None, *,
              branch: str | None = None) -> DeprecateResult:
    """Deprecate ``stub`` because ``message``, pointing at ``successor`` (a stub with a
    published version); ``branch`` (``""``: ``deprecate/<stub>``) commits on a new branch."""
    record = make(str(stub), message, successor)
    _check_published(zoo, stub, "")
    if record.successor is not None:
        _check_published(zoo, parse_stub(record.successor), "successor ")
    before = _current(zoo, stub)
    why = f"Deprecate {stub}: {record.message}" + (f" (successor {record.successor})" if record.successor else "")
    return _change(zoo, stub, before, record, why, branch, "deprecate")


def undeprecate(zoo: Workspace, stub: Stub, *, branch: str | None = None) -> DeprecateResult:
    """Take ``stub``'s deprecation back (its record removed, committed as ``deprecate`` commits)."""
    path = zoo.manifests_dir / stub.path / DEPRECATION_NAME
    if not path.exists() and not path.is_symlink():
        raise NotFound(f"{stub} is not deprecated")
    before = _current(zoo, stub)
    why = f"Un-deprecate {stub}" + (f" (was: {before.message})" if before else "")
    return _change(zoo, stub, before, None, why, branch, "undeprecate")


def _change(zoo: Workspace, stub: Stub, before: Deprecation | None, record: Deprecation | None, why: str,
            branch: str | None, verb: str) -> DeprecateResult:
    path = zoo.manifests_dir / stub.path / DEPRECATION_NAME
    text = render_deprecation(str(stub), record) if record is not None else None
    if branch is not None:
        name = branch or f"{verb}/{stub}"
        rel = path.relative_to(zoo.root).as_posix()
        sha = git.commit_to_new_branch(zoo.root, name, {rel: text.encode("utf-8") if text else None}, why)
        return DeprecateResult(str(stub), record, before, sha, name)
    if record is not None and record == before:
        check_current(zoo)  # already committed: make sure the remote says so too
        return DeprecateResult(str(stub), record, before, None, None, list_on_remote(zoo, "deprecation"))
    sha, listed = commit_record(zoo, path, text, why, "deprecation")
    return DeprecateResult(str(stub), record, before, sha, None, listed)


def _current(zoo: Workspace, stub: Stub) -> Deprecation | None:
    """The record there is; a broken one counts as none (replacing or removing it is the fix)."""
    try:
        return zoo.deprecation(stub)
    except ZooError:
        return None


def _check_published(zoo: Workspace, stub: Stub, role: str) -> None:
    if not zoo.versions(stub):
        raise UsageError(f"{role}{stub} has no published version in this zoo", hint="see `zoo list --all`")
