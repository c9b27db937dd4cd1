"""The remote's projection of the release branch: what git-less consumers see. Pure.

A consumer without git reads the zoo from its remote: which stubs, which
versions (each by its manifest digest), which aliases and which stubs are
deprecated (``core.deprecation``). That view is a
*projection* of the zoo's release branch at one commit, and it only moves
forward along that branch's history. It is kept as a log of moves::

    zoo/projection/0000000007.json   one move: seq, commit, what it added (created, never replaced)
    zoo/index/top.json, zoo/index/…  the view at some seq, in shards (``core.shards``): a cache of the log
    zoo/index.json                   the whole view in one file, as remotes before shards have it

A move is created-if-absent at the next sequence number, so of two writers
racing from the same view one wins and the other starts again from the new
one; the index may lag (a slow writer can put an older top back), so a
reader follows the log past it. A view may be read in part (``Projection.shards``).
Nothing here does I/O: ``remote.meta`` and ``remote.index`` read and write these
files, ``ops.project`` decides the moves.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from zoo_repo.core import brief
from zoo_repo.core.aliases import check_alias_name
from zoo_repo.core.brief import Brief
from zoo_repo.core.deprecation import Deprecation, from_doc
from zoo_repo.core.stub import parse_stub, version_number
from zoo_repo.errors import ManifestError, StubError, UsageError

SCHEMA = 1
_NAME, _DIGEST = re.compile(r"v[1-9][0-9]*"), re.compile(r"sha256:")  # what version_number and a digest start with
T = TypeVar("T")
Versions = dict[str, dict[str, str]]  # stub → version name → manifest digest
Aliases = dict[str, dict[str, int]]  # stub → alias → version number
Deprecations = dict[str, Deprecation]  # stub → why it is deprecated
Briefs = dict[str, Brief]  # stub → what a listing shows of its latest version (``core.brief``)


def shard_of(stub: str) -> str:
    """The shard a stub's entries live in (``core.shards``): two hex digits of its sha256."""
    return hashlib.sha256(stub.encode("utf-8")).hexdigest()[:2]


@dataclass(frozen=True)
class Projection:
    """The view at ``seq`` (0: nothing projected yet), made from ``commit`` of ``branch``.

    ``shards``: the shards (``shard_of``) this view holds, when it was read in
    part (a consumer of one stub reads one shard); None: all of them. ``latest``:
    the briefs of stubs' latest versions, each only while it fits them (``brief.fits``).
    """

    seq: int = 0
    commit: str | None = None
    branch: str | None = None
    versions: Versions = field(default_factory=dict)
    aliases: Aliases = field(default_factory=dict)
    deprecated: Deprecations = field(default_factory=dict)
    shards: frozenset[str] | None = None
    latest: Briefs = field(default_factory=dict)

    def brief_of(self, stub: str) -> Brief | None:
        """The brief of ``stub``'s latest version, if the view has one that fits it."""
        found = self.latest.get(stub)
        return found if found is not None and brief.fits(found, self.versions.get(stub)) else None

    def covers(self, stub: str) -> bool:
        return self.shards is None or shard_of(stub) in self.shards

    def digest(self, stub: str, version: int) -> str | None:
        return self.versions.get(stub, {}).get(f"v{version}")

    def numbers(self, stub: str) -> list[int]:
        found = (version_number(name) for name in self.versions.get(stub, {}))
        return sorted(n for n in found if n is not None)

    def count(self) -> int:
        return sum(len(v) for v in self.versions.values())


@dataclass(frozen=True)
class Move:
    """One step of the log: from ``seq - 1`` to ``seq``, made from ``commit``.

    ``aliases`` holds every stub whose aliases changed, with the whole new set
    (empty: all removed), so applying a move needs nothing but the view before it;
    ``deprecated`` likewise holds every stub whose record changed, with the new
    record (None: no longer deprecated). ``latest``: briefs of versions it adds
    (a move written before briefs has none: those stubs are listed from their manifests).
    """

    seq: int
    commit: str
    branch: str
    added: Versions = field(default_factory=dict)
    aliases: Aliases = field(default_factory=dict)
    deprecated: dict[str, Deprecation | None] = field(default_factory=dict)
    latest: Briefs = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.added and not self.aliases and not self.deprecated


class Rewrite(ValueError):
    """A move would change a version the view already has: versions are immutable."""

    def __init__(self, stub: str, name: str, had: str, new: str) -> None:
        super().__init__(f"{stub}@{name}: the remote lists {had}, the release branch has {new}")
        self.stub, self.name, self.had, self.new = stub, name, had, new


def apply(view: Projection, move: Move) -> Projection:
    """The view after ``move``; Rewrite if it would change a listed version.
    A view read in part takes only what the move says of the stubs it covers."""
    if move.seq != view.seq + 1:
        raise ValueError(f"move {move.seq} does not follow view {view.seq}")
    if view.shards is not None:
        move = Move(move.seq, move.commit, move.branch, _within(view, move.added), _within(view, move.aliases),
                    _within(view, move.deprecated), _within(view, move.latest))
    versions = {stub: dict(vs) for stub, vs in view.versions.items()}
    for stub, added in move.added.items():
        have = versions.setdefault(stub, {})
        for name, digest in added.items():
            if have.get(name, digest) != digest:
                raise Rewrite(stub, name, have[name], digest)
            have[name] = digest
    aliases = {stub: dict(a) for stub, a in view.aliases.items()}
    for stub, now in move.aliases.items():
        if now:
            aliases[stub] = dict(now)
        else:
            aliases.pop(stub, None)
    deprecated = dict(view.deprecated)
    for stub, record in move.deprecated.items():
        if record is not None:
            deprecated[stub] = record
        else:
            deprecated.pop(stub, None)
    latest = dict(view.latest)
    for stub in move.added:  # a brief is of the latest version: one the move passed is dropped
        if stub in latest and not brief.fits(latest[stub], versions[stub]):
            del latest[stub]
    latest.update((stub, b) for stub, b in move.latest.items() if brief.fits(b, versions.get(stub)))
    return Projection(move.seq, move.commit, move.branch, versions, aliases, deprecated, view.shards, latest)


def _within(view: Projection, entries: dict[str, T]) -> dict[str, T]:
    return {stub: value for stub, value in entries.items() if view.covers(stub)}


def touched(move: Move) -> set[str]:
    """The stubs a move says anything of."""
    return {*move.added, *move.aliases, *move.deprecated}


def dangling(view: Projection) -> list[str]:
    """Aliases that name a version the view does not list, as ``stub@alias -> vN``."""
    return [f"{stub}@{name} -> v{number}"
            for stub, names in sorted(view.aliases.items()) for name, number in sorted(names.items())
            if view.digest(stub, number) is None]


# -- text forms -------------------------------------------------------------
def render_view(view: Projection) -> str:
    doc: dict[str, Any] = {"schema": SCHEMA, "seq": view.seq, "branch": view.branch, "commit": view.commit,
                           "stubs": _sorted_versions(view.versions),
                           "aliases": {s: dict(sorted(a.items())) for s, a in sorted(view.aliases.items()) if a},
                           "deprecated": {s: d.to_dict() for s, d in sorted(view.deprecated.items())}}
    return json.dumps(doc, indent=1) + "\n"


def parse_view(text: str, where: str) -> Projection:
    """A view; also the index a remote written before projections kept (seq 0, no commit)."""
    doc = _load(text, where)
    stubs = doc.get("stubs")
    if doc.get("schema") != SCHEMA or not isinstance(stubs, dict):
        raise ManifestError(where, f"expected {{'schema': {SCHEMA}, 'stubs': {{…}}}}")
    return Projection(_seq(doc, where, allow_zero=True), _opt_str(doc, "commit", where),
                      _opt_str(doc, "branch", where), _versions(stubs, where), _aliases(doc.get("aliases"), where),
                      {s: d for s, d in _deprecated(doc.get("deprecated"), where).items() if d is not None})


def render_move(move: Move) -> str:
    doc = {"schema": SCHEMA, "seq": move.seq, "branch": move.branch, "commit": move.commit,
           "added": _sorted_versions(move.added),
           "aliases": {s: dict(sorted(a.items())) for s, a in sorted(move.aliases.items())},
           "deprecated": {s: d and d.to_dict() for s, d in sorted(move.deprecated.items())}}
    if move.latest:  # a move without briefs keeps the bytes it had before them
        doc["latest"] = {s: b.to_doc() for s, b in sorted(move.latest.items())}
    return json.dumps(doc, indent=1) + "\n"


def parse_move(text: str, where: str) -> Move:
    doc = _load(text, where)
    commit, branch = _opt_str(doc, "commit", where), _opt_str(doc, "branch", where)
    if doc.get("schema") != SCHEMA or not commit or not branch or not isinstance(doc.get("added"), dict):
        raise ManifestError(where, f"expected a projection move (schema: {SCHEMA}, seq, commit, branch, added)")
    added = _versions(doc["added"], where)
    return Move(_seq(doc, where, allow_zero=False), commit, branch, added,
                _aliases(doc.get("aliases"), where, allow_empty=True), _deprecated(doc.get("deprecated"), where),
                _briefs(doc.get("latest"), where, added, "adds"))


def _load(text: str, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than json allows
        raise ManifestError(where, f"is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ManifestError(where, "expected a JSON object")
    return doc


def _seq(doc: dict[str, Any], where: str, *, allow_zero: bool) -> int:
    seq = doc.get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < (0 if allow_zero else 1):
        raise ManifestError(where, f"seq is {seq!r}; expected a whole number of at least {0 if allow_zero else 1}")
    return seq


def _opt_str(doc: dict[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise ManifestError(where, f"{key} must be a string")
    return value


def _versions(raw: dict[str, Any], where: str) -> Versions:
    out: Versions = {}
    for stub, versions in raw.items():
        try:  # regexes mapped in C: a listing of 100,000 versions checks each (TypeError: not text)
            ok = isinstance(versions, dict) and all(map(_NAME.fullmatch, versions)) \
                and all(map(_DIGEST.match, versions.values()))
        except TypeError:
            ok = False
        if not ok:
            raise ManifestError(where, f"{stub}: expected vN: sha256:… entries")
        out[str(stub)] = dict(versions)
    return out


def _aliases(raw: Any, where: str, allow_empty: bool = False) -> Aliases:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ManifestError(where, "aliases must map stubs to {alias: version number}")
    out: Aliases = {}
    for stub, names in raw.items():
        if not isinstance(names, dict) or (not names and not allow_empty) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v > 0
                for k, v in names.items()):
            raise ManifestError(where, f"aliases of {stub}: expected alias: version number")
        for name in names:
            try:
                check_alias_name(name)
            except UsageError as exc:
                raise ManifestError(where, f"aliases of {stub}: {exc.message}") from exc
        out[str(stub)] = dict(names)
    return out


def _deprecated(raw: Any, where: str) -> dict[str, Deprecation | None]:
    """Stub → record (None, in a move: no longer deprecated); absent in files written
    before deprecations were projected, which therefore deprecate nothing."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ManifestError(where, "deprecated must map stubs to {message, successor}")
    out: dict[str, Deprecation | None] = {}
    for stub, record in raw.items():
        try:
            if str(parse_stub(stub)) != stub:
                raise ManifestError(where, f"deprecated: {stub[:80]!r} is not a stub's canonical spelling")
        except StubError as exc:
            raise ManifestError(where, f"deprecated: {exc.message}") from exc
        out[stub] = None if record is None else from_doc(record, stub, f"{where}: deprecated {stub}")
    return out


def _briefs(raw: Any, where: str, versions: Versions, says: str) -> Briefs:
    """The briefs in a move or a shard, each of the newest version that file ``says`` of its
    stub, at the digest it gives; anything else is crafted (a writer makes briefs only so)."""
    found = brief.from_docs(raw, where)
    for stub, b in found.items():
        listed = versions.get(stub) or {}
        if not brief.fits(b, listed):
            newest = max(listed, key=lambda name: version_number(name) or 0) if listed else None
            it = f"{newest} at {listed[newest][:19]}…" if newest else "no version"
            raise ManifestError(where, f"brief of {stub[:120]!r} is of v{b.version} at {b.digest[:19]}…; "
                                f"the newest version it {says} of that stub is {it}")
    return found


def _sorted_versions(versions: Versions) -> Versions:
    return {stub: dict(sorted(vs.items(), key=lambda kv: version_number(kv[0]) or 0))
            for stub, vs in sorted(versions.items())}
