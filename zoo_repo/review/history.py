"""How versions relate over time: a stub's run of versions, and what a base ref already published.

``check_sequence`` is pure (``contiguous``, ``duplicate``); the rest asks git,
a handful of questions per run, never one per version.
"""

from __future__ import annotations

from pathlib import Path

from zoo_repo.core.aliases import ALIASES_NAME
from zoo_repo.core.deprecation import DEPRECATION_NAME
from zoo_repo.core.manifest import MANIFEST_NAME, parse_manifest
from zoo_repo.errors import ManifestError
from zoo_repo.repo import git
from zoo_repo.review.rules import Problem
from zoo_repo.review.scan import Versions


# -- a stub's versions together -----------------------------------------------
def check_sequence(versions: Versions, contents: dict[str, bytes], problems: list[Problem]) -> None:
    """``contiguous`` and ``duplicate`` over one stub's versions (``contents``: version dir → content digest)."""
    previous = 0
    for number in sorted(versions):
        rel = versions[number][0]
        where = f"{rel}/{MANIFEST_NAME}"
        if number != previous + 1:
            gap = ", ".join(f"v{n}" for n in range(previous + 1, number))
            problems.append(Problem(
                where, "contiguous", f"{gap} missing before v{number}: versions run from v1 without gaps",
            ))
        before = versions.get(number - 1)
        this, parent = contents.get(rel), contents.get(before[0]) if before else None
        if this is not None and this == parent:
            problems.append(Problem(where, "duplicate", f"same files as v{number - 1}; publish only changed content"))
        previous = number


# -- against a base ref -------------------------------------------------------
def check_immutable(base: str, changes: list[tuple[str, str, str]]) -> list[Problem]:
    """Files under manifests/ at ``base`` that HEAD or the working tree changed or deleted
    (``changes``: ``incremental.changes_since``; a committed change wins over the working tree's)."""
    found: dict[str, tuple[str, str]] = {}
    for status, path, where in changes:
        # Additions are how a zoo grows; aliases and deprecations are meant to move.
        if status != "A" and not path.endswith(("/" + ALIASES_NAME, "/" + DEPRECATION_NAME)):
            found[path] = (status, where)
    out = []
    for path, (status, where) in sorted(found.items()):
        verb = "deleted" if status == "D" else "changed"
        out.append(Problem(
            path, "immutable",
            f"{verb} since {base} ({where}); published versions are immutable: publish a new version instead",
        ))
    return out


def objects_in_blobs(root: str, items: list[list[str]]) -> set[str]:
    """md5 of every file object the manifests ``items`` ([path, blob sha]) name, read from git.

    A manifest that does not parse is skipped (see ``check.objects_at``).
    """
    blobs = git.read_blobs(Path(root), [sha for _, sha in items])
    found: set[str] = set()
    for path, sha in items:
        try:
            manifest = parse_manifest(blobs[sha].decode("utf-8"), path)
        except (UnicodeDecodeError, ManifestError):
            continue
        found.update(f.md5 for f in manifest.files)
    return found
