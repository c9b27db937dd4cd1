"""The latest version of every stub in a checkout, remembered between runs.

``zoo list`` reads the working tree: which stubs exist, each one's newest
version, that version's manifest, its deprecated.yaml and aliases.yaml. Parsing
20,000 manifests costs tens of seconds; this module remembers, per directory and
per file it read, what it found there, under the stat fingerprint (mtime, ctime,
inode, size) the object had when it was read. A later listing stats each
directory on the way and each file it would read; where the fingerprint is
unchanged, so is what is in it (a directory's mtime moves whenever an entry is
added, removed or renamed), and only what changed is read again. So a warm listing
costs a stat per directory, not a parse per stub.

The remembered listing is only a speed-up and never a source: the file carries an
HMAC made with the user's key (``store.userkey``), which lives outside every
checkout, so a ``.zoo/list-cache.json`` that came with a clone, or was edited, is
ignored and rebuilt; its size is bounded and its shape checked before use.
Nothing is remembered about an entry changed in the last two seconds before the
listing began (a second change within one timestamp tick would not move its
mtime), nor about anything but regular files and real directories: a FIFO or a
symlink is read, and refused, the way the uncached path reads it.

The walk makes the same tests as ``CheckoutSource.stubs``/``versions``, in the same
order, so the rows and the first error are those of the uncached listing.
"""

from __future__ import annotations

import json
import math
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.catalog.index import Summary
from zoo_repo.catalog.replay import REPLAY_NAME, Probe, record, replay
from zoo_repo.core.aliases import ALIASES_NAME
from zoo_repo.core.card import Metric
from zoo_repo.core.deprecation import DEPRECATION_NAME, Deprecation, from_doc
from zoo_repo.core.manifest import MANIFEST_NAME
from zoo_repo.core.stub import Stub, parse_stub, stub_from_parts, version_number
from zoo_repo.errors import UsageError, ZooError
from zoo_repo.store import signed
from zoo_repo.store.userkey import user_key

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace

CACHE_NAME = "list-cache.json"
_MAGIC = b"zoo-list-cache 2\n"
_LIMIT = 256 << 20  # bytes: 20,000 stubs take about 15 MB
_RACY_NS = 2_000_000_000  # coarse timestamps (2 s on FAT and some network filesystems)
_STUB_DEPTH = 7
_STUB_FIELDS = ("s", "k", "vs", "dep", "ali", "m", "d", "a")
_TEXT = (str, type(None))


@dataclass(frozen=True)
class Listed:
    """One stub as ``zoo list`` shows it: its latest version, and whether and why it is deprecated."""

    summary: Summary
    deprecation: Deprecation | None
    aliases: dict[str, int] | None  # None unless asked for


def load(path: Path, key: bytes, where: str) -> dict[str, Any]:
    """The remembered tree, or an empty one if the file is absent, too large, not this user's or malformed."""
    body = signed.read(path, key, _MAGIC, where, _LIMIT)
    if body is None:
        return {}
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def save(path: Path, key: bytes, where: str, doc: dict[str, Any]) -> None:
    signed.keep(path, key, _MAGIC, where, json.dumps(doc, separators=(",", ":")).encode("utf-8", "surrogateescape"),
                _LIMIT)


def _summary_doc(s: Summary) -> list[Any]:
    metrics = [[m.name, None if math.isnan(m.value) else m.value, m.unit, m.dataset, m.split] for m in s.metrics]
    return [s.created, s.size, s.nfiles, metrics]


def _summary_of(stub: Stub, version: int, doc: Any) -> Summary | None:
    try:
        created, size, nfiles, metrics = doc
        made = tuple(Metric(n, math.nan if v is None else float(v), u, d, sp) for n, v, u, d, sp in metrics)
        if not (isinstance(created, str) and type(size) is int and type(nfiles) is int):
            return None
        if not all(isinstance(x, _TEXT) for m in made for x in (m.name, m.unit, m.dataset, m.split)):
            return None
        return Summary(stub, version, created, size, nfiles, made)
    except (TypeError, ValueError):
        return None


class _Walk:
    """One listing: the tree it remembers (``tree``), built beside the one it was given (``old``).

    A directory's node is ``{"s": fingerprint, "c": {name: node}}``; a stub directory's
    ``{"s": …, "k": 1 (its path is a stub's canonical spelling), "vs": version numbers, newest first,
    "dep"/"ali": whether deprecated.yaml/aliases.yaml are there, "m"/"d"/"a": [fingerprint, …]
    of its latest manifest's summary, its deprecation, its aliases}``.
    """

    def __init__(self, zoo: Workspace, old: dict[str, Any], summarize: Callable[[Stub, int], Summary]) -> None:
        self.zoo, self.old, self.summarize = zoo, old, summarize
        self.tree: dict[str, Any] = {}
        self.base = str(zoo.manifests_dir)
        self.since = time.time_ns() - _RACY_NS  # what changed after this is not remembered
        self.changed = False
        self.probe = Probe(self.base, self.since)  # every stat, for the next listing to replay

    def fingerprint(self, st: os.stat_result) -> str | None:
        """What to remember an object by; None if it changed too recently to be told apart from a next change."""
        mtime, ctime = st.st_mtime_ns, st.st_ctime_ns
        if mtime >= self.since or ctime >= self.since:
            return None
        return f"{mtime:x}.{ctime - mtime:x}.{st.st_ino:x}.{st.st_size:x}"

    def unchanged(self, path: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
        """Is the directory at ``path`` as ``old`` remembers it? Its fingerprint goes into ``new``;
        OSError (NotADirectoryError for anything but a real directory) if it is gone."""
        st = self.probe.stat(path)
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(path)
        fingerprint = self.fingerprint(st)
        if fingerprint:
            new["s"] = fingerprint
        if fingerprint is not None and old.get("s") == fingerprint:
            return True
        self.changed = True
        return False

    def stubs(self) -> list[tuple[str, Stub, dict[str, Any], dict[str, Any]]]:
        """(canonical text, stub, old node, new node) of every stub directory ``CheckoutSource.stubs`` walks."""
        found: list[tuple[str, Stub, dict[str, Any], dict[str, Any]]] = []

        def walk(path: str, parts: list[str], old: dict[str, Any], new: dict[str, Any]) -> None:
            try:
                if self.unchanged(path, old, new) and isinstance(old.get("c"), dict):
                    names = list(old["c"])
                else:
                    names = sorted(e.name for e in os.scandir(path)
                                   if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))
            except OSError:
                return
            children: dict[str, Any] = {}
            new["c"] = children
            last = len(parts) == _STUB_DEPTH - 1
            remembered = old.get("c")
            if not isinstance(remembered, dict):
                remembered = {}
            for name in names:
                child: dict[str, Any] = {}
                children[name] = child
                before = remembered.get(name)
                if not isinstance(before, dict):
                    before = {}
                if not last:
                    walk(f"{path}/{name}", [*parts, name], before, child)
                    continue
                # The node is keyed by this very name: "k" says it parsed, to a stub spelt as its path.
                text = "/".join((*parts, name))
                if before.get("k") == 1:
                    stub = stub_from_parts([*parts, name])
                else:
                    try:
                        stub = parse_stub(text)
                    except UsageError:
                        continue
                    if str(stub) != text:  # read by its canonical path, as CheckoutSource does; not remembered
                        found.append((str(stub), stub, {}, {}))
                        continue
                    self.changed = True
                child["k"] = 1
                found.append((text, stub, before, child))

        walk(self.base, [], self.old, self.tree)
        return found

    def latest(self, text: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[int, os.stat_result] | None:
        """``versions(stub)[-1]`` and its manifest's lstat (None: no version), stating from the top down."""
        path = f"{self.base}/{text}"
        try:
            if self.unchanged(path, old, new) and isinstance(old.get("vs"), list):
                numbers, new["dep"], new["ali"] = old["vs"], old.get("dep"), old.get("ali")
            else:
                names = os.listdir(path)
                numbers = sorted((n for n in map(version_number, names) if n is not None), reverse=True)
                new.update(dep=DEPRECATION_NAME in names, ali=ALIASES_NAME in names)
        except OSError:
            return None
        new["vs"] = numbers
        for number in numbers:
            try:
                st = self.probe.stat(f"{path}/v{number}/{MANIFEST_NAME}")
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                return number, st
        return None

    def remembered(self, old: dict[str, Any], field: str, path: str) -> tuple[os.stat_result | None, Any]:
        """(the file's lstat, what ``old`` remembers of it if it is a regular file with the same fingerprint)."""
        try:
            st = self.probe.stat(path)
        except OSError:
            return None, None
        entry = old.get(field)
        if stat.S_ISREG(st.st_mode) and isinstance(entry, list) and len(entry) == 2 and \
                entry[0] == self.fingerprint(st):
            return st, entry[1]
        return st, None

    def remember(self, new: dict[str, Any], field: str, st: os.stat_result | None, value: Any) -> None:
        self.changed = True
        if st is not None and stat.S_ISREG(st.st_mode) and (fingerprint := self.fingerprint(st)):
            new[field] = [fingerprint, value]

    def deprecation(self, text: str, stub: Stub, old: dict[str, Any], new: dict[str, Any]) -> Deprecation | None:
        if not new.get("dep"):
            return None
        st, doc = self.remembered(old, "d", f"{self.base}/{text}/{DEPRECATION_NAME}")
        if doc is not None:
            try:
                record = from_doc(doc, text, f"manifests/{text}/{DEPRECATION_NAME}")
                new["d"] = old["d"]
                return record
            except ZooError:
                pass
        found = self.zoo.deprecation(stub)
        if found is not None:
            self.remember(new, "d", st, found.to_dict())
        return found

    def aliases(self, text: str, stub: Stub, old: dict[str, Any], new: dict[str, Any]) -> dict[str, int]:
        if not new.get("ali"):
            return {}
        st, doc = self.remembered(old, "a", f"{self.base}/{text}/{ALIASES_NAME}")
        if isinstance(doc, dict) and all(isinstance(k, str) and type(v) is int for k, v in doc.items()):
            new["a"] = old["a"]
            return dict(doc)
        found = self.zoo.aliases(stub)
        self.remember(new, "a", st, found)
        return found

    def summary(self, stub: Stub, latest: tuple[int, os.stat_result], old: dict[str, Any],
                new: dict[str, Any]) -> Summary:
        version, st = latest
        entry = old.get("m")
        if stat.S_ISREG(st.st_mode) and isinstance(entry, list) and len(entry) == 3 and entry[1] == version \
                and entry[0] == self.fingerprint(st) and (cached := _summary_of(stub, version, entry[2])):
            new["m"] = entry
            return cached
        found = self.summarize(stub, version)
        self.changed = True
        if stat.S_ISREG(st.st_mode) and (fingerprint := self.fingerprint(st)):
            new["m"] = [fingerprint, version, _summary_doc(found)]
        return found


def _carry(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Keep what this listing did not look at (filtered out, aliases not asked for): checked when next used."""
    for field in _STUB_FIELDS:
        if field in old and field not in new:
            new[field] = old[field]


def _rows(walk: _Walk, keep: Callable[[Stub], bool], deprecated: bool, with_aliases: bool) -> list[Listed]:
    rows = []
    for text, stub, old, new in sorted(walk.stubs(), key=lambda found: found[0]):
        if not keep(stub):
            _carry(old, new)
            continue
        latest = walk.latest(text, old, new)
        if latest is None:
            continue
        if deprecated:  # the uncached order: summaries first, their deprecation afterwards
            summary = walk.summary(stub, latest, old, new)
            record = walk.deprecation(text, stub, old, new)
        else:  # the filter reads the deprecation first
            record = walk.deprecation(text, stub, old, new)
            if record is not None:
                _carry(old, new)
                continue
            summary = walk.summary(stub, latest, old, new)
        aliases = walk.aliases(text, stub, old, new) if with_aliases else None
        _carry(old, new)
        rows.append(Listed(summary, record, aliases))
    return rows


def _row_docs(rows: list[Listed]) -> list[Any]:
    return [[str(r.summary.stub), r.summary.version, _summary_doc(r.summary),
             r.deprecation.to_dict() if r.deprecation else None, r.aliases] for r in rows]


def _rows_of(docs: Any) -> list[Listed]:
    """The rows ``_row_docs`` wrote; TypeError/ValueError if they are of another shape."""
    rows = []
    for text, version, summary_doc, deprecation, aliases in docs:
        stub = stub_from_parts(text.split("/"))
        summary = _summary_of(stub, version, summary_doc)
        if summary is None or type(version) is not int or not (aliases is None or isinstance(aliases, dict)):
            raise ValueError(text)
        record = None if deprecation is None else from_doc(deprecation, text, f"manifests/{text}/{DEPRECATION_NAME}")
        rows.append(Listed(summary, record, aliases))
    return rows


def latest_versions(zoo: Workspace, cache: Path, keep: Callable[[Stub], bool], deprecated: bool,
                    with_aliases: bool, summarize: Callable[[Stub, int], Summary], query: str = "") -> list[Listed]:
    """Each stub ``keep`` accepts that has a version, with its latest version (``summarize``
    reads one), taken from ``cache`` where unchanged; a deprecated stub only with
    ``deprecated``, as ``Zoo.summaries`` and ``zoo list`` read them. ``query`` names
    ``keep`` (the filters): the last listing of the same query is replayed
    (``catalog.replay``) if nothing it looked at changed."""
    try:
        key: bytes | None = user_key()
    except OSError:  # no writable cache directory: nothing is remembered
        key = None
    where = str(zoo.manifests_dir)
    question = json.dumps([query, deprecated, with_aliases])
    replayed = replay(cache.with_name(REPLAY_NAME), key, where, question, _replayable) if key else None
    if replayed is not None:
        return replayed
    walk = _Walk(zoo, load(cache, key, where) if key else {}, summarize)
    try:
        rows = _rows(walk, keep, deprecated, with_aliases)
    except ZooError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError):  # a remembered tree of another shape
        walk = _Walk(zoo, {}, summarize)
        rows = _rows(walk, keep, deprecated, with_aliases)
    zoo.flush()
    if key and (walk.changed or not walk.old):
        save(cache, key, where, walk.tree)
    if key:
        record(cache.with_name(REPLAY_NAME), key, where, question, walk.probe, _row_docs(rows))
    return rows


def _replayable(docs: Any) -> list[Listed]:
    try:
        return _rows_of(docs)
    except ZooError as exc:
        raise ValueError(exc.message) from exc
