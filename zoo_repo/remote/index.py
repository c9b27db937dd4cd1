"""Reading and writing the remote's sharded view (``core.shards``) and its log.

A reader of some stubs reads the top, the shards that hold them (in
parallel, bounded, each checked against the top's digest) and the log past
the top, applied to what it read. A writer also reads the shards the log past
the top touched: its top must list them as they are at its own seq, or an
entry another writer's move added would be lost from the shards (the log
keeps it, but readers start from the top).

A remote written before shards has only ``zoo/index.json`` (the whole view):
it is read whole, as before, and the first move a new writer makes writes
every shard and the top. ``zoo/index.json`` is not written any more: a zoo
from before shards still reads such a remote correctly, from that file and
the log past it (slower as the log grows, until ``meta.MAX_REPLAY`` moves).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from zoo_repo.core import projection, shards
from zoo_repo.core.projection import Move, Projection, touched
from zoo_repo.core.shards import SHARD_LIMIT, TOP_LIMIT, Top
from zoo_repo.errors import ManifestError, NotRegularFile, RemoteError, ZooError
from zoo_repo.model.readfile import read_bounded

PREFIX = "zoo"
INDEX = f"{PREFIX}/index.json"  # the whole view, as written before shards
SHARDS = f"{PREFIX}/index"
TOP = f"{SHARDS}/top.json"
PROJECTION = f"{PREFIX}/projection"
# How far a reader follows the log past the top: each writer rewrites it right
# after its move, so a real one lags by a move or two (or replays from scratch
# when it was lost); a crafted endless log must not keep a reader asking.
MAX_REPLAY = 10_000
JOBS = 8
Wanted = Iterable[str] | Callable[[Projection], Iterable[str] | None] | None


class Files(Protocol):
    """What reading needs: a remote, or the cache of one (``Cached``, ``CacheFiles``)."""

    url: str

    def get_bytes(self, rel: str, limit: int | None = None) -> bytes | None: ...


class Writer(Files, Protocol):
    def put_text(self, rel: str, text: str) -> None: ...
    def create_text(self, rel: str, text: str) -> bool: ...


@dataclass(frozen=True)
class State:
    """What was read: ``view`` (in part when ``view.shards`` says so), the top it
    started from (None: a remote of the old form, or an empty one), the log past
    it, and the shards those moves touched (which the top does not show yet)."""

    view: Projection
    top: Top | None
    moves: tuple[Move, ...]
    dirty: frozenset[str]
    missing_ok: bool = False
    # Every shard read, by digest, as parsed (before the log): a refresh parses again
    # none of those the new top still names.
    parts: dict[str, Projection] = field(default_factory=dict)


def move_key(seq: int) -> str:
    return f"{PROJECTION}/{seq:010d}.json"


def shard_key(name: str, digest: str) -> str:
    return f"{SHARDS}/{shards.shard_path(name, digest)}"


def read_state(files: Files, stubs: Wanted = None, *, writing: bool = False, missing_ok: bool = False,
               parts: dict[str, Projection] | None = None) -> State:
    """The view for ``stubs`` (None: every stub; a callable is given the head of
    the log — seq, commit, no entries — and answers which). ``writing``: also the
    shards the log past the top touched. ``missing_ok``: a shard the top names
    but ``files`` lacks counts as empty (an offline cache holds what was read)."""
    top = read_top(files)
    if top is None:
        return _old_form(files)
    moves = read_log(files, top.seq)
    last = moves[-1] if moves else None
    head = Projection(top.seq if last is None else last.seq, top.commit if last is None else last.commit,
                      top.branch if last is None else last.branch, shards=frozenset())
    want = stubs(head) if callable(stubs) else stubs
    dirty = shards.names_of(stub for m in moves for stub in touched(m))
    names = None if want is None else shards.names_of(want) | (dirty if writing else frozenset())
    return _assemble(files, State(Projection(), top, moves, dirty, missing_ok, parts or {}), names)


def widen(files: Files, state: State, stubs: Iterable[str] | None) -> State:
    """``state`` with the shards of ``stubs`` (None: all) read too, from the same
    top (whose shards cannot change under it). Only the new shards are read and
    the log replayed on them; their entries join the view's own dicts, so a
    widened state replaces the one it came from."""
    have = state.view.shards
    if have is None or state.top is None:
        return state
    names = frozenset(state.top.shards) | have if stubs is None else have | shards.names_of(stubs)
    new = names - have
    if not new:
        return state
    part = _assemble(files, state, new).view
    view = state.view
    view.versions.update(part.versions)
    view.aliases.update(part.aliases)
    view.deprecated.update(part.deprecated)
    view.latest.update(part.latest)
    covered = None if stubs is None else names
    return State(Projection(view.seq, view.commit, view.branch, view.versions, view.aliases, view.deprecated,
                            covered, view.latest), state.top, state.moves, state.dirty, state.missing_ok, state.parts)


def refresh(files: Files, state: State) -> State:
    """What ``state`` covers, as the remote has it now: the top and the log asked
    again, and only shards whose digest changed read again (from ``files``, which
    with a cache serves unchanged ones locally)."""
    if state.top is not None:
        top = read_top(files)
        if top == state.top and read_move(files, state.view.seq + 1) is None:
            return state  # nothing moved: two small reads
    names = state.view.shards
    return read_state(files, None if names is None else _stubs_of(state.view), missing_ok=state.missing_ok,
                      parts=state.parts)


def _stubs_of(view: Projection) -> list[str]:
    return [*view.versions, *view.aliases, *view.deprecated]


def _assemble(files: Files, state: State, names: frozenset[str] | None) -> State:
    assert state.top is not None
    top = state.top
    wanted = sorted(top.shards) if names is None else sorted(n for n in names if n in top.shards)
    view = shards.merge(top, read_shards(files, top, wanted, state.missing_ok, state.parts), names)
    for move in state.moves:
        view = _apply(files, view, move)
    return State(view, top, state.moves, state.dirty, state.missing_ok, state.parts)


def _old_form(files: Files) -> State:
    data = files.get_bytes(INDEX)
    where = f"remote {files.url}: {INDEX}"
    view = projection.parse_view(_text(data, where), where) if data is not None else Projection()
    moves = read_log(files, view.seq, INDEX)
    for move in moves:
        view = _apply(files, view, move)
    return State(view, None, moves, frozenset())


def read_top(files: Files) -> Top | None:
    data = files.get_bytes(TOP, limit=TOP_LIMIT)
    where = f"remote {files.url}: {TOP}"
    return shards.parse_top(_text(data, where), where) if data is not None else None


def read_log(files: Files, after: int, start: str = TOP) -> tuple[Move, ...]:
    """The moves past seq ``after`` (where ``start`` left off), up to the first one the log does not have."""
    moves: list[Move] = []
    for seq in range(after + 1, after + 1 + MAX_REPLAY):
        move = read_move(files, seq)
        if move is None:
            return tuple(moves)
        moves.append(move)
    raise ManifestError(f"remote {files.url}: {start}", f"is more than {MAX_REPLAY} moves behind its log; a real "
                        "one is a move or two behind (`zoo push` on the release branch writes it anew)")


def read_move(files: Files, seq: int) -> Move | None:
    data = files.get_bytes(move_key(seq))
    if data is None:
        return None
    where = f"remote {files.url}: {move_key(seq)}"
    move = projection.parse_move(_text(data, where), where)
    if move.seq != seq:
        raise ManifestError(where, f"says seq {move.seq}")
    return move


def read_shards(files: Files, top: Top, names: list[str], missing_ok: bool = False,
                parts: dict[str, Projection] | None = None) -> list[Projection]:
    """The shards ``names`` of ``top``, read in parallel (bounded), each verified
    against the top; those in ``parts`` (by digest) are taken from there, and those read are added."""
    known = {} if parts is None else parts

    def one(name: str) -> Projection | None:
        if top.shards[name] in known:
            return known[top.shards[name]]
        key = shard_key(name, top.shards[name])
        where = f"remote {files.url}: {key}"
        data = files.get_bytes(key, limit=SHARD_LIMIT)
        if data is None:
            if missing_ok:
                return None
            raise ManifestError(f"remote {files.url}: {TOP}", f"names shard {key}, which is not there "
                                "(`zoo push` on the release branch writes the index anew)")
        actual = shards.digest_of(data)
        if actual != top.shards[name]:
            raise ManifestError(where, f"has digest {actual}; {TOP} names {top.shards[name]}")
        part = shards.parse_shard(_text(data, where), where, name)
        known[top.shards[name]] = part
        return part

    if len(names) <= 1:
        found = [one(n) for n in names]
    else:
        with ThreadPoolExecutor(max_workers=min(JOBS, len(names))) as pool:
            found = list(pool.map(one, names))
    return [p for p in found if p is not None]


def _apply(files: Files, view: Projection, move: Move) -> Projection:
    try:
        return projection.apply(view, move)
    except projection.Rewrite as exc:  # only a crafted log does this: the writer checks first
        raise ManifestError(f"remote {files.url}: {move_key(move.seq)}", str(exc)) from exc


def _text(data: bytes | None, where: str) -> str:
    try:
        return (data or b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(where, "is not UTF-8 text") from exc


# -- writing ---------------------------------------------------------------------
def write_move(remote: Writer, state: State, move: Move) -> Projection | None:
    """Take the next step of the log; None when another writer took it first (the
    caller reads again and decides anew). Then the shards it changed, then the top."""
    missed = sorted(s for s in touched(move) if not state.view.covers(s))
    if missed or (state.view.shards is not None and not state.dirty <= state.view.shards):
        raise ValueError(f"the view read does not cover what the move changes ({missed[:1]})")
    new = projection.apply(state.view, move)
    if not remote.create_text(move_key(move.seq), projection.render_move(move)):
        return None
    write_index(remote, state, new, touched(move))
    return new


def write_index(remote: Writer, state: State, new: Projection, changed: Iterable[str]) -> None:
    """The shards ``new`` changed since the top ``state`` read, then a top at ``new.seq``
    (unless the remote's is further already: a slow writer does not put an old one back)."""
    if state.top is None:  # the old form, or nothing yet: every shard anew
        names = sorted(shards.names_of([*new.versions, *new.aliases, *new.deprecated]))
        listed: dict[str, str] = {}
    else:
        names = sorted(state.dirty | shards.names_of(changed))
        listed = dict(state.top.shards)

    def one(name: str) -> tuple[str, str | None]:
        text = shards.render_shard(new, name)
        if text is None:
            return name, None
        digest = shards.digest_of(text.encode("utf-8"))
        if listed.get(name) != digest:
            remote.put_text(shard_key(name, digest), text)
        return name, digest

    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        for name, digest in pool.map(one, names):
            if digest is None:
                listed.pop(name, None)
            else:
                listed[name] = digest
    try:
        current = read_top(remote)
    except (ManifestError, RemoteError):
        current = None  # a damaged top is replaced
    if current is None or current.seq < new.seq:
        remote.put_text(TOP, shards.render_top(Top(new.seq, new.commit, new.branch, listed)))


# -- the per-user cache of a remote's index --------------------------------------
class CacheFiles:
    """A remote's index files as a consumer's cache keeps them (same relative
    paths; the old single view at ``index.json``), read up to each file's cap."""

    def __init__(self, root: Path, url: str) -> None:
        self.root, self.url = root, url

    def path(self, rel: str) -> Path:
        return self.root / ("index.json" if rel == INDEX else rel)

    def get_bytes(self, rel: str, limit: int | None = None) -> bytes | None:
        from zoo_repo.remote.base import meta_limit

        try:
            return read_bounded(str(self.path(rel)), meta_limit(rel) if limit is None else limit, str(self.path(rel)))
        except (FileNotFoundError, NotADirectoryError, NotRegularFile):
            return None


class Cached:
    """A remote read through its consumer's cache: shards and moves, created once
    and never changed, come from the cache when it has them (a shard is checked
    against the top all the same); the top and ``index.json`` are asked anew and
    kept for offline use, never replaced by one that is further behind."""

    def __init__(self, remote: Files, cache: CacheFiles) -> None:
        self.remote, self.cache, self.url = remote, cache, remote.url

    def get_bytes(self, rel: str, limit: int | None = None) -> bytes | None:
        from zoo_repo.store.atomic import write_bytes_atomic

        fixed = rel.startswith(PROJECTION + "/") or (rel.startswith(SHARDS + "/") and rel != TOP)
        if fixed:
            kept = self.cache.get_bytes(rel, limit)
            if kept is not None:
                return kept
        data = self.remote.get_bytes(rel, limit)
        if data is not None and (fixed or self._ahead(rel, data)):
            write_bytes_atomic(self.cache.path(rel), data)
        return data

    def _ahead(self, rel: str, data: bytes) -> bool:
        """Whether ``data`` (a top or an old index) differs from the cached one and has
        come at least as far (the same bytes are not written again: a top is asked often)."""
        try:
            kept = self.cache.get_bytes(rel)
        except (ZooError, OSError):
            return True  # a damaged copy is simply replaced
        if kept == data:
            return False
        try:
            new = self._seq(rel, data)
        except (ManifestError, UnicodeDecodeError):
            return False
        try:
            return kept is None or self._seq(rel, kept) <= new
        except (ManifestError, UnicodeDecodeError):
            return True

    @staticmethod
    def _seq(rel: str, data: bytes) -> int:
        text = data.decode("utf-8")
        return shards.parse_top(text, rel).seq if rel == TOP else projection.parse_view(text, rel).seq
