"""Which stubs at a commit mention an object, so a review reads only those.

``zoo review``'s "new bytes" needs, of the few objects a change's added
versions name, those a version at the base ref already references. Asking
that of every manifest at the base (``git grep``) reads them all: 2.6 s at
100,000 versions, whatever the change. This index maps each 32-hex token in
the text of every manifest at one commit to the stubs whose manifests hold it;
a lookup names the few stubs to read, and their manifests are then parsed from
git as the full review parses them, so a token that sits in another field is
never taken for a reference. An md5 a manifest references is in its text, as
``git grep -F`` assumes too.

It lives in ``.zoo/objects.idx`` for one commit, the last base asked about.
Another base is reached from it through the manifests ``git diff-tree``
names between the two commits, so a base that moved by a merge costs what the
merge changed; the first build reads every manifest once. The file carries an
HMAC made with the user's key over the checkout's path and its contents
(commit included): one that came with a clone, was edited, or belongs to
another checkout is ignored and built again, never believed.

Layout after the magic line and the MAC: the commit, then the stub names
(one a line), a blank line, then sorted 20-byte records: md5 (16 bytes) and
the stub's line number (4 bytes, big-endian).
"""

from __future__ import annotations

import bisect
import os
import re
import subprocess
import tempfile
from binascii import unhexlify
from collections.abc import Iterable, Iterator
from pathlib import Path

from zoo_repo.errors import ToolError
from zoo_repo.repo import git
from zoo_repo.repo.workspace import STATE
from zoo_repo.review.incremental import base_listing
from zoo_repo.review.rules import MANIFESTS, is_manifest_path
from zoo_repo.store import signed
from zoo_repo.store.userkey import user_key

NAME = "objects.idx"
_MAGIC = b"zoo-objects 1\n"
_RECORD = 20
_LIMIT = 512 << 20  # 20 bytes per (object, stub): far more than 10 million versions' worth
# Whole runs of hex (scanned from the left, a match is a maximal run), of which those of
# 32 are tokens: no lookaround, which costs a retry at every digit of every sha256.
_HEX_RUN = re.compile(rb"[0-9a-f]{32,}")
# Past this share of stubs changed between the remembered commit and the base, build afresh.
_REBUILD_SHARE, _REBUILD_MIN = 4, 64


class _Index:
    """One commit's index, as read from (or about to be written to) the file."""

    def __init__(self, commit: str, stubs: list[str], records: bytes) -> None:
        self.commit = commit
        self.stubs = stubs
        self.records = memoryview(records)

    def lookup(self, md5s: Iterable[str]) -> set[str]:
        """The stubs whose manifests mention any of ``md5s``."""
        count = len(self.records) // _RECORD
        keys = _Keys(self.records, count)
        found: set[str] = set()
        for md5 in md5s:
            try:
                key = bytes.fromhex(md5)
            except ValueError:
                continue
            if len(key) != 16:
                continue
            i = bisect.bisect_left(keys, key)
            while i < count and keys[i] == key:
                at = i * _RECORD + 16
                stub = int.from_bytes(self.records[at:at + 4], "big")
                if stub < len(self.stubs):
                    found.add(self.stubs[stub])
                i += 1
        return found

    def body(self) -> bytes:
        names = "".join(f"{s}\n" for s in self.stubs).encode("utf-8", "surrogateescape")
        return self.commit.encode("ascii") + b"\n" + names + b"\n" + bytes(self.records)


class _Keys:
    """The records' md5s as a sequence, for ``bisect`` without decoding every record."""

    def __init__(self, records: memoryview, count: int) -> None:
        self._records, self._count = records, count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> bytes:
        return bytes(self._records[i * _RECORD:i * _RECORD + 16])


def stubs_mentioning(root: Path, commit: str, md5s: Iterable[str]) -> set[str] | None:
    """The stubs (manifests/-relative) whose manifests at ``commit`` mention any of ``md5s``:
    a superset of those that reference one. None when there is no key to trust an index by."""
    try:
        key = user_key()
    except OSError:  # no writable cache directory: nothing is remembered
        return None
    path = root / STATE / NAME
    where = str(root.resolve())
    index = _load(path, key, where)
    if index is None or index.commit != commit:
        index = _reach(root, index, commit)
        signed.keep(path, key, _MAGIC, where, index.body(), _LIMIT)  # read-only: the answer stands, unremembered
    return index.lookup(md5s)


def _load(path: Path, key: bytes, where: str) -> _Index | None:
    """The remembered index, or None if absent, too large, not this user's or malformed."""
    body = signed.read(path, key, _MAGIC, where, _LIMIT)
    if body is None:
        return None
    commit, _, rest = body.partition(b"\n")
    names, sep, records = rest.partition(b"\n\n") if not rest.startswith(b"\n") else (b"", b"\n", rest[1:])
    if not sep or len(records) % _RECORD:
        return None
    stubs = names.decode("utf-8", "surrogateescape").split("\n") if names else []
    return _Index(commit.decode("ascii", "replace"), stubs, records)


def _reach(root: Path, old: _Index | None, commit: str) -> _Index:
    """The index at ``commit``: ``old``'s, updated by what changed since its commit, or built afresh."""
    if old is not None:
        try:
            out = git.paths_output(root, "diff-tree", "-r", "-z", "--no-renames", "--relative", "--name-only",
                                   old.commit, commit, "--", MANIFESTS)
        except ToolError:  # the remembered commit is gone (a rewritten history): start again
            out = None
        if out is not None:
            changed = {"/".join(p.split("/")[1:8]) for p in out.split("\0") if is_manifest_path(p)}
            if len(changed) <= max(_REBUILD_MIN, len(old.stubs) // _REBUILD_SHARE):
                return _update(root, old, commit, changed)
    return _build(root, commit, _all_manifests(root, commit), [], [])


def _update(root: Path, old: _Index, commit: str, changed: set[str]) -> _Index:
    if not changed:
        return _Index(commit, old.stubs, bytes(old.records))
    gone = {i for i, s in enumerate(old.stubs) if s in changed}
    kept = [bytes(old.records[i:i + _RECORD]) for i in range(0, len(old.records), _RECORD)
            if int.from_bytes(old.records[i + 16:i + _RECORD], "big") not in gone]
    listing = base_listing(root, commit, changed)
    items = sorted((p, sha) for p, sha in listing.items() if is_manifest_path(p))
    return _build(root, commit, items, list(old.stubs), kept)


def _all_manifests(root: Path, commit: str) -> list[tuple[str, str]]:
    """(path, blob sha) of every manifest at ``commit``, without listing the other files in Python."""
    empty = git.git(root, "hash-object", "-t", "tree", os.devnull).strip()  # sha-1 or sha-256, as the repository
    out = git.paths_output(root, "diff-tree", "-r", "-z", "--no-renames", "--relative", empty, commit, "--",
                           f"{MANIFESTS}/*/manifest.yaml")
    fields = out.split("\0")
    items = []
    for i in range(0, len(fields) - 1, 2):
        meta, path = fields[i], fields[i + 1]
        parts = meta.split(" ")
        if is_manifest_path(path) and len(parts) >= 4 and parts[1] != "160000":
            items.append((path, parts[3]))
    return items


def _build(root: Path, commit: str, items: list[tuple[str, str]], stubs: list[str], records: list[bytes]) -> _Index:
    """``records`` and ``stubs`` with the tokens of the manifests ``items`` (path, blob sha, sorted, so a
    stub's manifests come together) added: each (token, stub) once, as its versions share most objects."""
    ids = {s: i for i, s in enumerate(stubs)}
    current, found = "", set[bytes]()

    def flush() -> None:
        if current not in ids:
            ids[current] = len(stubs)
            stubs.append(current)
        tail = ids[current].to_bytes(4, "big")
        records.extend(unhexlify(t) + tail for t in found)

    for path, data in _blobs(root, items):
        stub = "/".join(path.split("/")[1:8])
        if stub != current:
            if found:
                flush()
            current, found = stub, set()
        found.update(t for t in _HEX_RUN.findall(data) if len(t) == 32)
    if found:
        flush()
    records.sort()
    return _Index(commit, stubs, b"".join(records))


def _blobs(root: Path, items: list[tuple[str, str]]) -> Iterator[tuple[str, bytes]]:
    """(path, contents) of each blob, streamed by one ``git cat-file --batch``: the manifests
    of 100,000 versions are hundreds of megabytes, never held at once."""
    if not items:
        return
    with tempfile.TemporaryFile() as shas:
        shas.write("".join(f"{sha}\n" for _, sha in items).encode("ascii"))
        shas.seek(0)
        proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"], stdin=shas,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            for path, _ in items:
                header = proc.stdout.readline().split(b" ")
                if len(header) != 3:  # "<sha> missing": nothing to read of it
                    continue
                yield path, proc.stdout.read(int(header[2]) + 1)  # with git's newline after it: not hex
        finally:
            proc.stdout.close()
            proc.kill()
            proc.wait()
