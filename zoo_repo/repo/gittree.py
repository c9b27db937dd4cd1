"""Git's tree objects and commit messages, as bytes: what ``git.commit`` needs to build
the trees along a commit's paths itself (no git runs here).

A tree object is its entries, each ``<mode> <name>\\0<raw oid>``, in git's order:
by name, a subdirectory's name compared as if it ended in ``/``. Its oid is the
repository's hash (SHA-1, or SHA-256) of ``tree <size>\\0`` and those bytes.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import re
from collections.abc import Iterable, Mapping

TREE_MODE = b"40000"
FILE_MODE = b"100644"
EXEC_MODE = b"100755"
GITLINK_MODE = b"160000"  # a submodule's commit

Entries = dict[bytes, tuple[bytes, bytes]]  # name → (mode, raw oid)


def oid_size(object_format: str) -> int:
    """Bytes in a raw object id of a repository of this object format (``rev-parse --show-object-format``)."""
    return {"sha1": 20, "sha256": 32}[object_format]


def parse_tree(body: bytes, size: int) -> Entries:
    """A tree object's entries (``size``: bytes in a raw oid)."""
    entries: Entries = {}
    pos, end = 0, len(body)
    while pos < end:
        space = body.index(b" ", pos)
        nul = body.index(b"\0", space)
        entries[body[space + 1:nul]] = (body[pos:space], body[nul + 1:nul + 1 + size])
        pos = nul + 1 + size
    return entries


def _key(name: bytes, mode: bytes) -> bytes:
    return name + b"/" if mode == TREE_MODE else name


def tree_bytes(entries: Mapping[bytes, tuple[bytes, bytes]]) -> bytes:
    """The tree object holding ``entries``, in git's order."""
    return b"".join(mode + b" " + name + b"\0" + oid
                    for name, (mode, oid) in sorted(entries.items(), key=lambda item: _key(item[0], item[1][0])))


def edit_tree(body: bytes, size: int, changes: Mapping[bytes, tuple[bytes, bytes | None]]) -> tuple[bytes, Entries]:
    """``body`` with ``changes`` made (name → its new (mode, raw oid); an oid of None drops
    the entry of that name and kind), and the entries it had under those names (of
    either kind). A zoo's tree of every architecture has tens of thousands of entries:
    one regular expression splits them (each entry's ``<mode> <name>``), the changes are
    placed by bisection, and the rest is copied as it is: no Python runs per entry."""
    heads = _pattern(size).findall(body)
    ends = list(itertools.accumulate(len(head) + 1 + size for head in heads))  # C-speed: a generator of lens
    if (ends[-1] if ends else 0) != len(body):  # not split where git would (never for a tree git wrote)
        return _edit_parsed(body, size, changes)
    offsets = [0, *ends]
    found: Entries = {}
    ops: list[tuple[int, int, bytes, bytes]] = []  # (entry index, entries replaced: 0 or 1, key, new bytes)
    for name, (mode, oid) in changes.items():
        for probe in (name, name + b"/"):  # what the tree has under this name, of either kind
            i = bisect.bisect_left(heads, probe, key=_head_key)
            if i < len(heads) and _head_key(heads[i]) == probe:
                start = offsets[i] + len(heads[i]) + 1
                found[name] = (heads[i].partition(b" ")[0], body[start:start + size])
        key = _key(name, mode)
        i = bisect.bisect_left(heads, key, key=_head_key)
        ops.append((i, 1 if i < len(heads) and _head_key(heads[i]) == key else 0, key, _entry(name, (mode, oid))))
    out: list[bytes] = []
    copied = 0
    # At one index, new entries (in key order) go before the entry that index replaces.
    for i, replaced, _, data in sorted(ops, key=lambda op: op[:3]):
        out += [body[offsets[copied]:offsets[i]], data]
        copied = max(copied, i + replaced)
    out.append(body[offsets[copied]:])
    return b"".join(out), found


def _head_key(head: bytes) -> bytes:
    """The sort key of an entry from its ``<mode> <name>``."""
    mode, _, name = head.partition(b" ")
    return name + b"/" if mode == TREE_MODE else name


@functools.lru_cache(maxsize=2)
def _pattern(size: int) -> re.Pattern[bytes]:
    return re.compile(rb"(\d+ [^\0]*)\0(?s:.{%d})" % size)


def _edit_parsed(body: bytes, size: int, changes: Mapping[bytes, tuple[bytes, bytes | None]]) -> tuple[bytes, Entries]:
    entries = parse_tree(body, size)
    had = {name: entries[name] for name in changes if name in entries}
    for name, (mode, oid) in changes.items():
        if oid is None:
            if name in entries and (entries[name][0] == TREE_MODE) == (mode == TREE_MODE):
                del entries[name]
        else:
            entries[name] = (mode, oid)
    return tree_bytes(entries), had


def _entry(name: bytes, entry: tuple[bytes, bytes | None]) -> bytes:
    mode, oid = entry
    return b"" if oid is None else mode + b" " + name + b"\0" + oid


def object_id(kind: str, body: bytes, object_format: str) -> str:
    """The hex oid git gives an object of ``kind`` with these bytes."""
    digest = hashlib.new(object_format, usedforsecurity=False)
    digest.update(b"%s %d\0" % (kind.encode(), len(body)))
    digest.update(body)
    return digest.hexdigest()


def ancestors(paths: Iterable[bytes]) -> list[bytes]:
    """Every directory that holds one of ``paths`` (repository-relative, ``/``-separated),
    the root (``b""``) included, deepest first: the order their trees are built in."""
    found = {b""}
    for path in paths:
        parts = path.split(b"/")[:-1]
        for depth in range(1, len(parts) + 1):
            found.add(b"/".join(parts[:depth]))
    return sorted(found, key=lambda d: (-(d.count(b"/") + 1 if d else 0), d))


def clean_message(message: str) -> str:
    """The message as ``git commit -m`` records it (``--cleanup=whitespace``, its default
    when no editor runs): trailing whitespace off each line, runs of blank lines made
    one, blank lines at either end dropped, one newline at the end ("" if nothing is left)."""
    lines: list[str] = []
    for line in message.split("\n"):
        line = line.rstrip(" \t\r\n")  # git's isspace: no \v or \f
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""
