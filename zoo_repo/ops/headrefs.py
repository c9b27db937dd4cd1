"""What the manifests of a commit name, remembered, and carried forward by git's diff.

``zoo gc`` keeps every object the manifests of HEAD (and of every branch) name.
At 100,000 versions, even remembered per manifest (``ops.wanted``), that is
100,000 lookups, MAC checks and shape checks on every run. So the names of the
last commit gc asked about are remembered whole, per manifest path (its blob id
and the names it references), in the per-user statcache; the next commit is
reached from it through the manifests git's diff says changed, and only those
are looked up (or read from git and parsed). A commit's manifests are a pure
function of its id, so what is remembered holds in any clone that has both
commits; it carries a MAC under the user's key like every statcache document,
and its shape is checked again all the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from zoo_repo.ops.wanted import Refs, refs_of, remember, remembered

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace

KIND = "commit-names"
_KEY = "head"  # one document: the last commit asked about
_BATCH = 1024  # manifests read from git at once
_REBUILD_SHARE, _REBUILD_MIN = 4, 64  # past this many changed manifests, list the commit afresh
# The document's text: a line a manifest, "path<TAB>blob id<TAB>names, space-separated".
# One string (not 100,000 lists) keeps a zoo of that size's gc in a small machine's memory.
_LINE = re.compile(r"[^\t\n]+\t[0-9a-f]{40,64}\t(?:[0-9a-f]{32}(?:\.dir)?(?: [0-9a-f]{32}(?:\.dir)?)*)?")
Files = dict[str, tuple[str, str | None]]  # path → (blob id, its names space-separated; None: not known yet)


def blob_refs(zoo: Workspace, blobs: Mapping[str, str]) -> Iterator[tuple[str, Refs]]:
    """(blob id, ``Refs``) of each manifest blob of ``blobs`` (blob id → where, for errors):
    remembered (``ops.wanted``), else read from git and parsed (ManifestError if it does not)."""
    from zoo_repo.core.manifest import parse_manifest
    from zoo_repo.repo import git

    names = sorted(blobs)
    for start in range(0, len(names), _BATCH):
        chunk = names[start:start + _BATCH]
        known = remembered(zoo, chunk)
        parsed = [(sha, refs_of(parse_manifest(data.decode("utf-8"), blobs[sha])))
                  for sha, data in git.read_blobs(zoo.root, [s for s in chunk if s not in known]).items()]
        remember(zoo, parsed)
        yield from known.items()
        yield from parsed


def commit_names(zoo: Workspace, commit: str) -> tuple[set[str], set[str]]:
    """(every object name, every blob id) of the manifests under manifests/ at ``commit``."""
    from zoo_repo.repo import git

    memo = _files_of(zoo.statcache().get_doc(KIND, _KEY))
    files = _reached(zoo, memo, commit)
    if files is None:
        files = {path: (sha, None) for path, sha in git.tree_files(zoo.root, commit, "manifests")
                 if path.endswith("/manifest.yaml")}
    unknown = {sha: f"{path} (at {commit[:10]})" for path, (sha, names) in files.items() if names is None}
    if unknown:
        found = {sha: " ".join(refs.names()) for sha, refs in blob_refs(zoo, unknown)}
        for path, (sha, names) in files.items():
            if names is None:
                files[path] = (sha, found[sha])
    if (memo is None or memo[0] != commit) and not any("\t" in p or "\n" in p for p in files):
        text = "".join(f"{path}\t{sha}\t{names}\n" for path, (sha, names) in files.items())
        zoo.statcache().put_doc(KIND, _KEY, {"c": commit, "t": text})
    every: set[str] = set()
    for _, names in files.values():
        every.update((names or "").split())
    return every, {sha for sha, _ in files.values()}


def _reached(zoo: Workspace, memo: tuple[str, Files] | None, commit: str) -> Files | None:
    """The remembered files, moved to ``commit`` by git's diff; None to list it afresh."""
    from zoo_repo.errors import ToolError
    from zoo_repo.repo import git

    if memo is None:
        return None
    was, files = memo
    if was == commit:
        return files
    if not git.has_commit(zoo.root, was):
        return None
    try:
        changed = git.changed_blobs(zoo.root, was, commit, "manifests")
    except ToolError:
        return None
    if len(changed) > max(_REBUILD_MIN, len(files) // _REBUILD_SHARE):
        return None
    for path, sha in changed.items():
        if sha is None or not path.endswith("/manifest.yaml"):
            files.pop(path, None)
        else:
            files[path] = (sha, None)
    return files


def _files_of(doc: Any) -> tuple[str, Files] | None:
    """The document ``commit_names`` wrote, checked for shape; None if it is not one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("c"), str) or not isinstance(doc.get("t"), str):
        return None
    lines = doc["t"].split("\n")
    if lines.pop() != "":
        return None
    files: Files = {}
    match = _LINE.fullmatch
    for line in lines:
        if match(line) is None:
            return None
        path, sha, names = line.split("\t")
        files[path] = (sha, names)
    return doc["c"], files
