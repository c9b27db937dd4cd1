"""Remembers what is costly to recompute: digests of unchanged files, and parsed manifests.

Keyed by absolute path (or, for the store's verification stamps, by object
id) and checked against (size, mtime_ns, inode, ctime_ns): if any differs,
the file is hashed again. Derived objects (the generated
``model.onnx.tar.gz``) are remembered by the digest of their source, so a
re-publish of an unchanged 1 GB model neither rehashes nor recompresses it.
Parsed manifests are kept as JSON under the sha256 of their text: parsing
YAML in Python is most of the cost of listing or checking a large zoo, and
the same text always parses to the same data. JSON, not pickle: this file
can come with a clone, and reading it must never run code.

Every row carries an HMAC made with the user's key (``userkey.user_key``), so
rows that this user did not write (a ``stat.sqlite`` committed to the zoo with
``git add -f``) are ignored: a forged row could otherwise vouch for bytes that
were never hashed. Without a key nothing is remembered. A file that sqlite
cannot read (truncated, overwritten, not a database) is moved aside to
``NAME.corrupt`` and a new one is started: it is a cache, losing it costs a
rehash, and a pull must not fail on it.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import random
import sqlite3
import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from zoo_repo.core.retry import retrying
from zoo_repo.store.digest import Digest

T = TypeVar("T")

# The tables of earlier releases (rows without a MAC) are dropped: nothing in
# them can be told apart from a forgery.
_SCHEMA = """
drop table if exists stat;
drop table if exists manifests;
drop table if exists derived;
create table if not exists file_stat (
  path text primary key, size integer, mtime_ns integer, inode integer, ctime_ns integer,
  sha256 text, md5 text, mac blob);
create table if not exists manifest_docs (digest text primary key, doc text, mac blob);
create table if not exists derived_docs (
  kind text, source text, sha256 text, md5 text, size integer, mac blob, primary key (kind, source));
"""


Entry = tuple[int, int, int, int, str, str]  # size, mtime_ns, inode, ctime_ns, sha256, md5


def fresh(entry: Entry | None, st: os.stat_result) -> Digest | None:
    """The entry's digest if the file is unchanged since (same size, times and inode)."""
    if entry and tuple(entry[:4]) == (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns):
        return Digest(entry[4], entry[5], st.st_size)
    return None


_PUT = "insert or replace into file_stat values (?, ?, ?, ?, ?, ?, ?, ?)"
_COLUMNS = "path, size, mtime_ns, inode, ctime_ns, sha256, md5, mac"


_DOC_BATCH = 500  # keys in one query: under sqlite's 999 bound variables of old builds


def _select_docs(keys: list[str], db: sqlite3.Connection) -> list[Any]:
    marks = ",".join("?" * len(keys))
    return db.execute(f"select digest, doc, mac from manifest_docs where digest in ({marks})", keys).fetchall()


def _doc_key(kind: str, key: str) -> str:
    """Documents share one table; manifests keep the bare digest they always had."""
    return key if kind == "manifest" else f"{kind}:{key}"


def _busy(exc: BaseException) -> bool:
    """sqlite's "database is locked"/"busy": another process's turn, not damage."""
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class StatCache:
    def __init__(self, db_path: Path, key: bytes | None = None) -> None:
        """``key``: the user's secret (none: nothing is remembered or believed)."""
        self._key = key
        self._path = db_path
        self._mutex = threading.Lock()  # one connection, shared by a pull's download threads
        with contextlib.suppress(OSError):  # a read-only place: see _reopen
            db_path.parent.mkdir(parents=True, exist_ok=True)
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise
            return self._reopen()

    def _reopen(self) -> sqlite3.Connection:
        """A new file in place of a damaged one; where none can be written (a
        read-only store), a database in memory: remembered for this process only."""
        self._move_aside()
        try:
            return self._connect()
        except (OSError, sqlite3.DatabaseError):
            db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            db.executescript(_SCHEMA)
            return db

    def _connect(self) -> sqlite3.Connection:
        # Autocommit: no write transaction stays open, so other zoo processes
        # sharing this file never wait on us. A cache: losing the last writes
        # to a crash only costs a rehash, so no sync to disk on every write.
        db = sqlite3.connect(self._path, timeout=30, check_same_thread=False, isolation_level=None)

        def setup() -> None:
            # A rollback journal, not WAL: WAL maps its -shm index into memory, and
            # on a full disk (or past a file size limit) touching that mapping kills
            # the process with SIGBUS instead of failing a write. Writes are single
            # autocommit rows, so the journal costs ~15 µs a row and readers wait
            # milliseconds at most.
            db.execute("pragma journal_mode=truncate")
            db.execute("pragma mmap_size=0")  # nor the database itself, whatever sqlite's build defaults to
            db.execute("pragma synchronous=off")
            db.executescript(_SCHEMA)

        # Switching journal modes needs a moment alone with the file (a file another
        # version left in WAL mode); processes that open it at the same time wait their
        # turn rather than fail.
        try:
            retrying(setup, attempts=100, transient=_busy, delay=lambda _: 0.05 + random.random() * 0.05)
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self) -> None:
        """Keep the unreadable file for a post-mortem, out of the way of a new one."""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.replace(f"{self._path}{suffix}", f"{self._path}.corrupt{suffix}")

    def _run(self, work: Callable[[sqlite3.Connection], T], default: T) -> T:
        """``work`` on the database; if sqlite finds it damaged, start a new one and
        answer ``default`` (what an empty cache would say)."""
        with self._mutex:
            try:
                return work(self._db)
            except sqlite3.DatabaseError as exc:
                if _busy(exc):
                    raise
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = self._reopen()
                return default

    def flush(self) -> None:
        """Kept for callers that batch; every write is already committed."""

    def close(self) -> None:
        with self._mutex:
            self._db.close()

    # -- file digests ------------------------------------------------------
    def get(self, path: str | Path, st: os.stat_result) -> Digest | None:
        if self._key is None:
            return None
        row = self._run(lambda db: db.execute(f"select {_COLUMNS} from file_stat where path = ?",
                                              (str(path),)).fetchone(), None)
        return fresh(self._checked(row), st)

    def under(self, folder: str | Path) -> dict[str, Entry]:
        """Every entry below ``folder``, in one query: for a pull that checks each of its files."""
        if self._key is None:
            return {}
        prefix = str(folder).rstrip("/") + "/"
        rows: list[Any] = self._run(lambda db: db.execute(
            f"select {_COLUMNS} from file_stat where path >= ? and path < ?",
            (prefix, prefix[:-1] + "0"),  # "0" is the character after "/"
        ).fetchall(), [])
        out = {}
        for row in rows:
            entry = self._checked(row)
            if entry is not None:
                out[row[0]] = entry
        return out

    def put(self, path: str | Path, st: os.stat_result, digest: Digest) -> None:
        if self._key is not None:
            row = self._row(path, st, digest)
            self._run(lambda db: db.execute(_PUT, row), None)

    def put_many(self, entries: Sequence[tuple[str | Path, os.stat_result, Digest]]) -> None:
        """Remember many files at once: one short transaction, not one per file."""
        if self._key is None or not entries:
            return
        rows = [self._row(*entry) for entry in entries]
        self._write_many(_PUT, rows)

    def _write_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """``sql`` for each row, in one short transaction: not one per row."""

        def work(db: sqlite3.Connection) -> None:
            db.execute("begin")
            try:
                db.executemany(sql, rows)
            except BaseException:
                db.execute("rollback")
                raise
            db.execute("commit")

        self._run(work, None)

    def forget(self, path: str | Path) -> None:
        self._run(lambda db: db.execute("delete from file_stat where path = ?", (str(path),)), None)

    def _row(self, path: str | Path, st: os.stat_result, digest: Digest) -> tuple[Any, ...]:
        fields = (str(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, digest.sha256, digest.md5)
        return (*fields, self._mac("file", *fields))

    def _checked(self, row: Sequence[Any] | None) -> Entry | None:
        """The row's entry if this user's key made its MAC; None for a forged or foreign row."""
        if row is None or not isinstance(row[-1], bytes):
            return None
        if not hmac.compare_digest(row[-1], self._mac("file", *row[:-1])):
            return None
        size, mtime_ns, inode, ctime_ns, sha256, md5 = row[1:-1]
        return (size, mtime_ns, inode, ctime_ns, sha256, md5)

    # -- parsed manifests --------------------------------------------------
    def get_manifest(self, digest: str) -> Any:
        """The plain data (as JSON loads it) of the manifest whose text has this
        sha256, if this user cached it; None otherwise."""
        return self.get_doc("manifest", digest)

    def put_manifest(self, digest: str, doc: Any) -> None:
        self.put_doc("manifest", digest, doc)

    def get_doc(self, kind: str, key: str) -> Any:
        """A JSON document this user stored under ``kind`` and ``key``; None when absent
        or not authenticated by this user's key."""
        return self.get_docs(kind, [key]).get(key)

    def get_docs(self, kind: str, keys: Sequence[str]) -> dict[str, Any]:
        """key → document of each of ``keys`` this user stored under ``kind`` (absent,
        forged and unreadable ones left out), asked a few hundred at a time."""
        if self._key is None:
            return {}
        found: dict[str, Any] = {}
        for start in range(0, len(keys), _DOC_BATCH):
            chunk = {_doc_key(kind, key): key for key in keys[start:start + _DOC_BATCH]}
            rows: list[Any] = self._run(partial(_select_docs, list(chunk)), [])
            for stored, text, mac in rows:
                key = chunk.get(stored)
                if key is None or not isinstance(text, str) or not isinstance(mac, bytes):
                    continue
                if not hmac.compare_digest(mac, self._mac(kind, key, text)):
                    continue  # not written by this user: work it out again
                try:
                    found[key] = json.loads(text)
                except ValueError:
                    continue
        return found

    def put_doc(self, kind: str, key: str, doc: Any) -> None:
        self.put_docs(kind, [(key, doc)])

    def put_docs(self, kind: str, docs: Sequence[tuple[str, Any]]) -> None:
        """Remember many documents in one short transaction."""
        if self._key is None or not docs:
            return
        rows = []
        for key, doc in docs:
            text = json.dumps(doc, separators=(",", ":"))
            rows.append((_doc_key(kind, key), text, self._mac(kind, key, text)))
        self._write_many("insert or replace into manifest_docs values (?, ?, ?)", rows)

    # -- derived objects ---------------------------------------------------
    def get_derived(self, kind: str, source: str) -> Digest | None:
        if self._key is None:
            return None
        row = self._run(lambda db: db.execute(
            "select sha256, md5, size, mac from derived_docs where kind = ? and source = ?", (kind, source)
        ).fetchone(), None)
        if row is None or not isinstance(row[3], bytes):
            return None
        if not hmac.compare_digest(row[3], self._mac("derived", kind, source, *row[:3])):
            return None
        return Digest(row[0], row[1], row[2])

    def put_derived(self, kind: str, source: str, digest: Digest) -> None:
        if self._key is None:
            return
        mac = self._mac("derived", kind, source, digest.sha256, digest.md5, digest.size)
        self._run(lambda db: db.execute("insert or replace into derived_docs values (?, ?, ?, ?, ?, ?)",
                                        (kind, source, digest.sha256, digest.md5, digest.size, mac)), None)

    def _mac(self, kind: str, *fields: object) -> bytes:
        assert self._key is not None
        text = "\0".join([kind, *(str(f) for f in fields)])
        # hmac.digest: one C call; hmac.new builds a Python object per row, and a
        # pull of thousands of files checks a row for each.
        return hmac.digest(self._key, text.encode("utf-8", "surrogateescape"), "sha256")
