"""What the manifests of a commit name, remembered, and carried forward by git's diff.

``zoo gc`` keeps every object the manifests of HEAD (and of every branch) name.
At 100,000 versions, even remembered per manifest (``ops.wanted``), that is
100,000 lookups, MAC checks and shape checks on every run. So the names of the
last commit gc asked about are remembered whole, per manifest path (its blob id
and the names it references), in ``.zoo/head-names``; the next commit is
reached from it through the manifests git's diff says changed, and only those
are looked up (or read from git and parsed). The file carries a MAC under the
user's key over the checkout's path and its bytes (``store.signed``): one that
came with a clone, was edited or is another checkout's is ignored and built
again; its shape is checked all the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from zoo_repo.ops.wanted import Refs, refs_of, remember, remembered
from zoo_repo.repo.workspace import STATE
from zoo_repo.store import signed
from zoo_repo.store.userkey import user_key

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace

NAME = "head-names"  # in .zoo/: the last commit asked about
_MAGIC = b"zoo-head-names 1\n"
_LIMIT = 512 << 20
_COMMIT = re.compile(r"[0-9a-f]{40,64}")
_BATCH = 1024  # manifests read from git at once
_REBUILD_SHARE, _REBUILD_MIN = 4, 64  # past this many changed manifests, list the commit afresh
# After the commit's line, a line a manifest: "path<TAB>blob id<TAB>names, space-separated".
# One string (not 100,000 lists) keeps a zoo of that size's gc in a small machine's memory.
_LINE = re.compile(r"[^\t\n]+\t[0-9a-f]{40,64}\t(?:[0-9a-f]{32}(?:\.dir)?(?: [0-9a-f]{32}(?:\.dir)?)*)?")
Files = dict[str, tuple[str, str | None]]  # path → (blob id, its names space-separated; None: not known yet)


def blob_refs(zoo: Workspace, blobs: Mapping[str, str]) -> Iterator[tuple[str, Refs]]:
    """(blob id, ``Refs``) of each manifest blob of ``blobs`` (blob id → where, for errors;
    asked only of one that does not parse): remembered (``ops.wanted``), else read from
    git and parsed (ManifestError if it does not)."""
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

    try:
        key: bytes | None = user_key()
    except OSError:  # no writable cache directory: nothing is remembered
        key = None
    path = zoo.root / STATE / NAME
    where = str(zoo.root.resolve())
    memo = _files_of(signed.read(path, key, _MAGIC, where, _LIMIT)) if key else None
    files = _reached(zoo, memo, commit)
    if files is None:
        files = {p: (sha, None) for p, sha in git.tree_files(zoo.root, commit, "manifests")
                 if p.endswith("/manifest.yaml")}
    unknown = _Where({sha: p for p, (sha, names) in files.items() if names is None}, commit)
    if unknown:
        found = {sha: " ".join(refs.names()) for sha, refs in blob_refs(zoo, unknown)}
        for p, (sha, names) in files.items():
            if names is None:
                files[p] = (sha, found[sha])
    if key and (memo is None or memo[0] != commit) and not any("\t" in p or "\n" in p for p in files):
        body = "".join([f"{commit}\n", *(f"{p}\t{sha}\t{names}\n" for p, (sha, names) in files.items())])
        signed.keep(path, key, _MAGIC, where, body.encode("utf-8", "surrogateescape"), _LIMIT)
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


class _Where(dict[str, str]):
    """blob id → where it is, spelt only when asked (for an error): 100,000 labels are not made."""

    def __init__(self, paths: dict[str, str], commit: str) -> None:
        super().__init__(paths)
        self.commit = commit

    def __getitem__(self, sha: str) -> str:
        return f"{super().__getitem__(sha)} (at {self.commit[:10]})"


def _files_of(body: bytes | None) -> tuple[str, Files] | None:
    """The file ``commit_names`` wrote, checked for shape; None if it is not one."""
    if body is None:
        return None
    lines = body.decode("utf-8", "surrogateescape").split("\n")
    commit = lines.pop(0)
    if lines.pop() != "" or _COMMIT.fullmatch(commit) is None:
        return None
    files: Files = {}
    match = _LINE.fullmatch
    for line in lines:
        if match(line) is None:
            return None
        path, sha, names = line.split("\t")
        files[path] = (sha, names)
    return commit, files
