"""What a change since a base ref touches, so ``zoo check --base`` costs what it changes.

A full check walks all of manifests/ and parses every version: seconds on a zoo
of 100,000 versions, though a pull request adds one. Every rule but one is about
a single stub (its versions, their sequence and signatures, its aliases.yaml and
deprecated.yaml), about one file outside any stub (``layout``), or about the
files at the root (trust.yaml, zoo.yaml, always read). A stub no path of the
change lies in is byte for byte what it was at the base ref, so each of those
rules says of it what it said there: only the touched stubs need judging. The
one rule that looks across stubs, a deprecation's successor "has a version",
asks the disk about that one stub (``published``); a change can only make
an untouched successor unpublished by deleting files, which ``immutable``
refuses. ``immutable`` itself comes straight from git's diff.

The change is everything the working tree holds that the base does not, as the
full check reads the working tree: paths git's diff names (base against HEAD,
HEAD against the working tree) and files git does not track (a pre-commit run).
Finding those two costs a stat of every tracked file and a walk of every
directory (1.2 s and 2.1 s at 100,000 versions, asked of git at once, so
they overlap), the only costs that follow the zoo's size; ``worktree=False``
(``--committed``) judges HEAD's commits alone, for CI, whose fresh checkout
is HEAD: then a change costs what it touches.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from zoo_repo.core.stub import Stub, parse_stub, version_number
from zoo_repo.errors import StubError
from zoo_repo.repo import git
from zoo_repo.review.rules import MANIFESTS

# manifests/ + the stub's seven components: deeper paths belong to that stub.
STUB_DEPTH = 8
# Pathspecs per git call: a change touching thousands of stubs must not overflow argv.
_CHUNK = 500
Change = tuple[str, str, str]  # git status letter, path, "committed" or "uncommitted"


@dataclass(frozen=True)
class Scope:
    """The paths under manifests/ a change touches, and what a check of it reads."""

    paths: frozenset[str]  # touched paths (files, or untracked directories), as git names them
    changes: tuple[Change, ...] = ()  # git's diff since base (``changes_since``), for ``immutable``
    stubs: frozenset[str] = field(init=False)  # the stub directories they lie in, manifests/-relative
    # Each directory on the way to a touched path → the names in it that lead there.
    _ways: dict[str, frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        stubs: set[str] = set()
        ways: dict[str, set[str]] = {}
        for path in self.paths:
            parts = path.split("/")
            if len(parts) >= STUB_DEPTH:
                stubs.add("/".join(parts[1:STUB_DEPTH]))
            for i in range(1, len(parts)):
                ways.setdefault("/".join(parts[:i]), set()).add(parts[i])
        object.__setattr__(self, "stubs", frozenset(stubs))
        object.__setattr__(self, "_ways", {where: frozenset(names) for where, names in ways.items()})

    def children(self, directory: str) -> frozenset[str] | None:
        """The names in ``directory`` (under manifests/) the scan must look at: those on the
        way to a touched path, or None (all) inside a touched directory. The walk lists a
        directory of 20,000 stubs once, and judges only the entries these names pick; a
        stub directory on the way is scanned whole, as its rules judge its versions together."""
        parts = directory.split("/")
        if any("/".join(parts[:i]) in self.paths for i in range(1, len(parts) + 1)):
            return None
        return self._ways.get(directory, frozenset())

    def touches(self, path: str) -> bool:
        """Is a problem about ``path`` one the change can have caused? (Files outside manifests/
        are always read: trust.yaml, zoo.yaml.) The full report restricted by this is the incremental one."""
        if not path.startswith(MANIFESTS + "/"):
            return True
        parts = path.split("/")
        if len(parts) >= STUB_DEPTH and "/".join(parts[1:STUB_DEPTH]) in self.stubs:
            return True
        return any("/".join(parts[:i]) in self.paths for i in range(1, len(parts) + 1))


def changes_since(root: Path, sha: str, worktree: bool = True) -> list[Change]:
    """(status, path, "uncommitted" or "committed") of every file under manifests/ that
    the working tree (unless not ``worktree``), then HEAD, has other than commit ``sha``.

    The working tree is compared with HEAD, not with ``sha``: git compares a tree
    that is not HEAD's with the working tree file by file (17 s at 100,000
    versions, against 0.9 s from HEAD). The same verdicts come out: a path the
    working tree changes but HEAD does not is one HEAD has as at ``sha``, so its
    status against either is the same; a path HEAD changes is "committed",
    whatever the working tree does to it.
    """
    return _changes(root, sha, worktree)[0]


def _changes(root: Path, sha: str, worktree: bool, untracked: bool = False) -> tuple[list[Change], list[str]]:
    """``changes_since``, and (with ``untracked``) the untracked paths under manifests/.

    The three questions are git's, each a process of its own: asked at once, the
    stat of every tracked file and the walk of every directory overlap.
    """
    asks: list[Callable[[], list[tuple[str, str]]]] = [
        lambda: git.changed_paths(root, sha, MANIFESTS, "HEAD")]
    if worktree:
        asks.append(lambda: git.changed_paths(root, "HEAD", MANIFESTS, None))
    if untracked:
        # With --directory, a new directory is one entry: everything under it is touched.
        asks.append(lambda: [("?", p.rstrip("/")) for p in git.paths_output(
            root, "ls-files", "--others", "--directory", "-z", "--", MANIFESTS).split("\0") if p])
    with ThreadPoolExecutor(len(asks)) as pool:
        answers = [future.result() for future in [pool.submit(ask) for ask in asks]]
    committed = [(status, path, "committed") for status, path in answers[0]]
    if not worktree:
        return committed, []
    # A path HEAD changes is judged by that alone: added at HEAD, it is absent at
    # ``sha``, so no edit of the working tree makes it changed since ``sha``.
    seen = {path for _, path, _ in committed}
    changes = [(status, path, "uncommitted") for status, path in answers[1] if path not in seen] + committed
    return changes, [path for _, path in answers[2]] if untracked else []


def change_since(root: Path, sha: str, worktree: bool = True) -> Scope:
    """What HEAD and (with ``worktree``) the working tree change under manifests/ since commit ``sha``:
    with it, files git does not track too, as the full check reads them."""
    changes, untracked = _changes(root, sha, worktree, untracked=worktree)
    return Scope(frozenset({path for _, path, _ in changes} | set(untracked)), tuple(changes))


def stubs_changed_since(root: Path, sha: str) -> tuple[set[str], list[str]]:
    """The stub directories (manifests/-relative) whose files HEAD or the working tree
    change since commit ``sha``, and the untracked directories above the stubs (every
    stub under one is new). Only the stubs are kept: a first push changes every file."""
    changes, untracked = _changes(root, sha, True, untracked=True)
    stubs = {"/".join(parts[1:STUB_DEPTH]) for _, path, _ in changes if len(parts := path.split("/")) >= STUB_DEPTH}
    above = []
    for path in untracked:
        parts = path.split("/")
        if len(parts) >= STUB_DEPTH:
            stubs.add("/".join(parts[1:STUB_DEPTH]))
        else:
            above.append("/".join(parts[1:]))
    return stubs, above


def base_listing(root: Path, sha: str, stubs: Collection[str]) -> dict[str, str]:
    """path → blob sha at ``sha`` of every file in the stub directories ``stubs`` (as ``git.ls_tree``)."""
    found: dict[str, str] = {}
    ordered = sorted(stubs)
    for i in range(0, len(ordered), _CHUNK):
        specs = [f":(literal){MANIFESTS}/{stub}/" for stub in ordered[i:i + _CHUNK]]
        out = git.paths_output(root, "ls-tree", "-r", "-z", sha, "--", *specs)
        for record in out.split("\0"):
            meta, _, path = record.partition("\t")
            if record and meta.split(" ")[1] == "blob":
                found[path] = meta.split(" ")[2]
    return found


def published(manifests: Path, stub: str, found: Mapping[Stub, object]) -> bool:
    """Would the full scan find ``stub`` with a version? Asked only of stubs outside the scope,
    by the same tests the walk makes: real directories all the way, canonical, a vN inside."""
    try:
        parsed = parse_stub(stub)
    except StubError:
        return False
    if parsed in found:
        return True
    if str(parsed) != stub:
        return False
    path = manifests
    for part in stub.split("/"):
        path = path / part
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return False
        except OSError:
            return False
    try:
        with os.scandir(path) as entries:
            return any(e.is_dir(follow_symlinks=False) and version_number(e.name) is not None for e in entries)
    except OSError:
        return False
