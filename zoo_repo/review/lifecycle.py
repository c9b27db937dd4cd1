"""What a change does to stubs' pointers and status, for ``zoo review`` to show a
reviewer: each alias added, moved or removed, and each deprecation record added,
changed or removed since the base ref (``core.aliases``, ``core.deprecation``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.core.aliases import ALIASES_NAME, parse_aliases
from zoo_repo.core.deprecation import DEPRECATION_NAME, Deprecation, parse_deprecation
from zoo_repo.core.stub import Stub, parse_stub
from zoo_repo.errors import ManifestError, StubError, ZooError
from zoo_repo.repo import git

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace


@dataclass(frozen=True)
class DeprecationChange:
    stub: str
    before: Deprecation | None  # None: not deprecated at the base ref
    after: Deprecation | None  # None: no longer deprecated

    def line(self) -> str:
        if self.after is None:
            return f"un-deprecates {self.stub}" + (f" (was: {self.before.message})" if self.before else "")
        successor = f" (successor {self.after.successor})" if self.after.successor else ""
        return f"deprecates {self.stub}: {self.after.message}{successor}"

    def to_dict(self) -> dict[str, Any]:
        return {"stub": self.stub, "before": self.before.to_dict() if self.before else None,
                "after": self.after.to_dict() if self.after else None}


def _current(zoo: Workspace, stubs: Collection[str] | None) -> Iterator[Stub]:
    """The stubs with a version now: all (``zoo.stubs()``), or those of ``stubs`` (a change's
    touched stubs: ``base_tree`` then lists only those, and no other stub's files moved)."""
    if stubs is None:
        yield from zoo.stubs()
        return
    for text in sorted(stubs):
        try:
            stub = parse_stub(text)
            if zoo.versions(stub):
                yield stub
        except (StubError, ZooError, OSError):
            continue


def deprecation_changes(zoo: Workspace, base_tree: dict[str, str],
                        stubs: Collection[str] | None = None) -> tuple[DeprecationChange, ...]:
    """Every stub whose deprecated.yaml says something else now than at the base ref
    (of ``stubs`` only, when given: see ``_current``)."""
    suffix = "/" + DEPRECATION_NAME
    at_base = {path: sha for path, sha in base_tree.items() if path.endswith(suffix)}
    blobs = git.read_blobs(Path(zoo.root), list(at_base.values())) if at_base else {}
    before: dict[str, Deprecation | None] = {}
    for path, sha in at_base.items():
        stub = path.removeprefix("manifests/").removesuffix(suffix)
        try:
            before[stub] = parse_deprecation(blobs[sha].decode("utf-8"), stub, path)
        except (ManifestError, UnicodeDecodeError, KeyError):
            before[stub] = None  # unreadable at base: whatever is there now counts as new
    changes = []
    for stub in sorted(set(before) | {str(s) for s in _current(zoo, stubs)}):
        try:
            now = zoo.deprecation(parse_stub(stub))
        except ZooError:
            now = None  # the checks report the broken file
        if now != before.get(stub):
            changes.append(DeprecationChange(stub, before.get(stub), now))
    return tuple(changes)


def render_deprecations(changes: tuple[DeprecationChange, ...], text: Callable[[str], str]) -> list[str]:
    """The review's section on deprecations (absent when none); ``text`` escapes for Markdown."""
    if not changes:
        return []
    return ["### Deprecations", "", *[f"- {text(c.line())}" for c in changes], ""]


@dataclass(frozen=True)
class AliasChange:
    stub: str
    alias: str
    before: int | None  # None: the alias is new
    after: int | None  # None: the alias was removed

    def line(self) -> str:
        if self.before is None:
            return f"{self.stub}@{self.alias}: added → v{self.after}"
        if self.after is None:
            return f"{self.stub}@{self.alias}: removed (was v{self.before})"
        return f"{self.stub}@{self.alias}: v{self.before} → v{self.after}"


def alias_changes(zoo: Workspace, base_tree: dict[str, str],
                  stubs: Collection[str] | None = None) -> tuple[AliasChange, ...]:
    """Every alias whose target differs between the base ref and now (of ``stubs`` only, when given)."""
    suffix = "/" + ALIASES_NAME
    at_base = {path: sha for path, sha in base_tree.items() if path.endswith(suffix)}
    blobs = git.read_blobs(Path(zoo.root), list(at_base.values())) if at_base else {}
    before: dict[str, dict[str, int]] = {}
    for path, sha in at_base.items():
        stub = path.removeprefix("manifests/").removesuffix(suffix)
        try:
            before[stub] = parse_aliases(blobs[sha].decode("utf-8"), path)
        except (ManifestError, UnicodeDecodeError, KeyError):
            before[stub] = {}  # unreadable at base: every alias now counts as added
    now: dict[str, dict[str, int]] = {}
    for current in _current(zoo, stubs):
        try:
            now[str(current)] = zoo.aliases(current)
        except ZooError:
            now[str(current)] = {}  # the checks report the broken file
    changes = []
    for stub in sorted(set(before) | set(now)):
        old, new = before.get(stub, {}), now.get(stub, {})
        for alias in sorted(set(old) | set(new)):
            if old.get(alias) != new.get(alias):
                changes.append(AliasChange(stub, alias, old.get(alias), new.get(alias)))
    return tuple(changes)


def render_aliases(changes: tuple[AliasChange, ...], text: Callable[[str], str]) -> list[str]:
    """The aliases section: which pointers this change moves (absent when none)."""
    if not changes:
        return []
    return ["### Aliases", "", *[f"- {text(c.line())}" for c in changes], ""]
