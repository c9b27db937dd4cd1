"""What the versions a change adds cost the remote, without reading every manifest at the base.

``zoo review``'s "new bytes" are the added versions' objects that no version
at the base ref references. The full review parses every manifest at the base
for that; a change's review needs only to know, of the few objects its added
versions name, which the base has already: ``objindex`` names the stubs at
the base whose manifests mention them, and only those are read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from zoo_repo.core.manifest import MANIFEST_NAME, parse_manifest
from zoo_repo.errors import ToolError, ZooError
from zoo_repo.model.readfile import TEXT_LIMIT, read_text_bounded
from zoo_repo.repo import git
from zoo_repo.review.check import objects_at
from zoo_repo.review.incremental import STUB_DEPTH, base_listing
from zoo_repo.review.objindex import stubs_mentioning
from zoo_repo.review.rules import MANIFESTS

# Patterns per git grep: a change adding thousands of files must not overflow argv.
_PATTERNS = 2000


def known_objects(root: Path, candidates: Iterable[str], stubs: Collection[str], listing: dict[str, str],
                  sha: str) -> set[str]:
    """Which of ``candidates`` (object md5s) a version at commit ``sha`` references, without reading every manifest.

    The touched stubs' manifests at the base are read from ``listing`` (their
    files at the base ref); for the rest, the object index names the stubs
    whose manifests at ``sha`` mention a candidate, and only their manifests
    are parsed, from git: a hex string that merely appears in another field is
    never taken for a reference.
    """
    wanted = set(candidates)
    known = objects_at(root, listing) & wanted
    rest = sorted(wanted - known)
    if not rest:
        return known
    mentioning = stubs_mentioning(root, sha, rest)
    if mentioning is not None:
        others = mentioning - set(stubs)
        return known | (objects_at(root, base_listing(root, sha, others)) & wanted if others else set())
    return known | _grepped(root, rest, wanted, stubs)


def _grepped(root: Path, rest: list[str], wanted: set[str], stubs: Collection[str]) -> set[str]:
    """Without a key to trust an index by: ``git grep`` finds the tracked manifests that
    mention a candidate (an untouched stub's files are as at the base), and those are parsed."""
    known: set[str] = set()
    found: set[str] = set()
    for i in range(0, len(rest), _PATTERNS):
        args = ["grep", "-l", "-z", "-F", "--no-color"]
        for md5 in rest[i:i + _PATTERNS]:
            args += ["-e", md5]
        try:
            found.update(git.paths_output(root, *args, "--", f"{MANIFESTS}/*/{MANIFEST_NAME}").split("\0"))
        except ToolError:  # exit 1: no manifest mentions any; else counted as new, never understated
            continue
    for path in sorted(found):
        parts = path.split("/")
        if not path or len(parts) < STUB_DEPTH or "/".join(parts[1:STUB_DEPTH]) in stubs:
            continue
        try:
            manifest = parse_manifest(read_text_bounded(str(root / path), TEXT_LIMIT, path), path)
        except (OSError, ZooError, UnicodeDecodeError):
            continue
        known.update(f.md5 for f in manifest.files if f.md5 in wanted)
    return known
