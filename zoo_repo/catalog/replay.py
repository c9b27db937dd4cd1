"""A warm ``zoo list`` replayed: the stats the last listing made, made again.

The walk of ``catalog.listing`` decides everything from what it stats (each
directory on the way to a stub, each stub's latest manifest, its deprecated.yaml
and aliases.yaml) and from files whose fingerprint it took as it read them. So
when every one of those stats, in the same order, gives what it gave then (mtime,
ctime, inode, size and type; or the same error), the walk would give the same
rows: they are replayed from the last walk, and nothing is walked. That costs one
stat per path and no Python per directory beyond it, and the rows are rebuilt
while the stats run (``lstat`` lets go of the interpreter).

A walk that saw anything change in the last two seconds (``listing._RACY_NS``) is
not recorded: a second change within one timestamp tick would not move an mtime.
The record is kept beside the listing cache, behind the same kind of MAC
(``store.signed``): a copy from a clone or an edited one is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from zoo_repo.store import signed

REPLAY_NAME = "list-replay"
_MAGIC = b"zoo-list-replay 1\n"
_LIMIT = 256 << 20
_MASK = (1 << 63) - 1  # an inode number may not fit a signed 64-bit slot
T = TypeVar("T")


class Probe:
    """The stats one walk makes, in order: each path (after ``base``) and what it gave."""

    def __init__(self, base: str, since: int) -> None:
        self.base, self.since = base, since
        self.paths: list[str] = []
        self.outcomes = array("q")
        self.racy = False

    def stat(self, path: str) -> os.stat_result:
        """``os.stat`` of the base, ``os.lstat`` of anything else, as the walk asks; recorded."""
        self.paths.append(path[len(self.base):])
        try:
            st = os.stat(path) if path == self.base else os.lstat(path)
        except OSError as exc:
            self.outcomes.extend(_failed(exc))
            raise
        if st.st_mtime_ns >= self.since or st.st_ctime_ns >= self.since:
            self.racy = True
        self.outcomes.extend(_answer(st))
        return st


def _answer(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return st.st_mtime_ns, st.st_ctime_ns, st.st_ino & _MASK, st.st_size, st.st_mode


def _failed(exc: OSError) -> tuple[int, int, int, int, int]:
    return 0, 0, 0, exc.errno or 0, 0  # mode 0: no file has it


def _digest(outcomes: array[int]) -> str:
    return hashlib.sha256(outcomes.tobytes()).hexdigest()


def _restat(base: str, paths: Iterable[str], out: list[str]) -> None:
    """The digest of what ``Probe.stat`` would record of ``paths`` now (into ``out``)."""
    outcomes = array("q")
    extend, lstat = outcomes.extend, os.lstat
    for rel in paths:
        try:
            extend(_answer(lstat(base + rel) if rel else os.stat(base)))
        except OSError as exc:
            extend(_failed(exc))
    out.append(_digest(outcomes))


def record(path: Path, key: bytes, where: str, query: str, probe: Probe, rows: Any) -> None:
    """Keep ``rows`` (JSON-able) as what the walk ``probe`` watched found, for ``query``."""
    if probe.racy:
        try:
            path.unlink(missing_ok=True)  # what it recorded is older still: not worth re-stating
        except OSError:
            pass  # a read-only checkout
        return
    head = json.dumps({"q": query, "d": _digest(probe.outcomes), "rows": rows}, separators=(",", ":"))
    body = head.encode("utf-8", "surrogateescape") + b"\n" + "\0".join(probe.paths).encode("utf-8", "surrogateescape")
    signed.keep(path, key, _MAGIC, where, body, _LIMIT)


def replay(path: Path, key: bytes, where: str, query: str, rebuild: Callable[[Any], T]) -> T | None:
    """The rows recorded for ``query``, rebuilt by ``rebuild``, if every stat gives what it
    gave when they were recorded; else None (and the listing walks)."""
    body = signed.read(path, key, _MAGIC, where, _LIMIT)
    if body is None:
        return None
    head, _, tail = body.partition(b"\n")
    try:
        doc = json.loads(head)
        if not isinstance(doc, dict) or doc.get("q") != query or not isinstance(doc.get("d"), str):
            return None
        paths = tail.decode("utf-8", "surrogateescape").split("\0")
        found: list[str] = []
        stats = threading.Thread(target=_restat, args=(where, paths, found), daemon=True)
        stats.start()
        try:
            rows = rebuild(doc.get("rows"))
        finally:
            stats.join()
    except (ValueError, RecursionError, TypeError, KeyError, IndexError, AttributeError):
        return None
    return rows if found == [doc["d"]] else None
