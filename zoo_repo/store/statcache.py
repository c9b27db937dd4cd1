"""Remembers what is costly to recompute: digests of unchanged files, and parsed manifests.

Keyed by absolute path and checked against (size, mtime_ns, inode, ctime_ns):
if any differs, the file is hashed again. Derived objects (the generated
``model.onnx.tar.gz``) are remembered by the digest of their source, so a
re-publish of an unchanged 1 GB model neither rehashes nor recompresses it.
Parsed manifests are kept as JSON under the sha256 of their text: parsing
YAML in Python is most of the cost of listing or checking a large zoo, and
the same text always parses to the same data. JSON, not pickle: this file
can come with a clone, and reading it must never run code. Each manifest
entry carries an HMAC made with the user's key (``usercache.user_key``), so
entries that this user did not write are ignored; the caller checks the data
against the manifest schema again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zoo_repo.core.retry import retrying
from zoo_repo.store.digest import Digest

_SCHEMA = """
create table if not exists stat (
  path text primary key, size integer, mtime_ns integer, inode integer, ctime_ns integer,
  sha256 text, md5 text);
drop table if exists manifests;
create table if not exists manifest_docs (digest text primary key, doc text, mac blob);
create table if not exists derived (
  kind text, source text, sha256 text, md5 text, size integer, primary key (kind, source));
"""


Entry = tuple[int, int, int, int, str, str]  # size, mtime_ns, inode, ctime_ns, sha256, md5


def fresh(entry: Entry | None, st: os.stat_result) -> Digest | None:
    """The entry's digest if the file is unchanged since (same size, times and inode)."""
    if entry and tuple(entry[:4]) == (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns):
        return Digest(entry[4], entry[5], st.st_size)
    return None


_PUT = "insert or replace into stat values (?, ?, ?, ?, ?, ?, ?)"


def _row(path: str | Path, st: os.stat_result, digest: Digest) -> tuple[Any, ...]:
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, digest.sha256, digest.md5)


class StatCache:
    def __init__(self, db_path: Path, key: bytes | None = None) -> None:
        """``key``: the user's secret for manifest entries (none: they are not cached)."""
        self._key = key
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: no write transaction stays open, so other zoo processes
        # sharing this file never wait on us. A cache: losing the last writes
        # to a crash only costs a rehash, so no sync to disk on every write.
        self._db = sqlite3.connect(db_path, timeout=30, check_same_thread=False, isolation_level=None)
        # Switching to WAL needs a moment alone with the file; processes that
        # open it at the same time wait their turn rather than fail.
        retrying(self._setup, attempts=100, transient=lambda exc: isinstance(exc, sqlite3.OperationalError),
                 delay=lambda _: 0.05 + random.random() * 0.05)

    def _setup(self) -> None:
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=off")
        self._db.executescript(_SCHEMA)

    def flush(self) -> None:
        """Kept for callers that batch; every write is already committed."""

    def close(self) -> None:
        self._db.close()

    def get(self, path: str | Path, st: os.stat_result) -> Digest | None:
        row = self._db.execute(
            "select size, mtime_ns, inode, ctime_ns, sha256, md5 from stat where path = ?",
            (str(path),),
        ).fetchone()
        return fresh(row, st)

    def under(self, folder: str | Path) -> dict[str, Entry]:
        """Every entry below ``folder``, in one query: for a pull that checks each of its files."""
        prefix = str(folder).rstrip("/") + "/"
        rows = self._db.execute(
            "select path, size, mtime_ns, inode, ctime_ns, sha256, md5 from stat where path >= ? and path < ?",
            (prefix, prefix[:-1] + "0"),  # "0" is the character after "/"
        )
        return {row[0]: tuple(row[1:]) for row in rows}

    def put(self, path: str | Path, st: os.stat_result, digest: Digest) -> None:
        self._db.execute(_PUT, _row(path, st, digest))

    def put_many(self, entries: Sequence[tuple[str | Path, os.stat_result, Digest]]) -> None:
        """Remember many files at once: one short transaction, not one per file."""
        self._db.execute("begin")
        try:
            self._db.executemany(_PUT, [_row(*entry) for entry in entries])
        except BaseException:
            self._db.execute("rollback")
            raise
        self._db.execute("commit")

    def get_manifest(self, digest: str) -> Any:
        """The plain data (as JSON loads it) of the manifest whose text has this
        sha256, if this user cached it; None otherwise."""
        if self._key is None:
            return None
        row = self._db.execute("select doc, mac from manifest_docs where digest = ?", (digest,)).fetchone()
        if row is None or not isinstance(row[0], str) or not isinstance(row[1], bytes):
            return None
        if not hmac.compare_digest(row[1], self._mac(digest, row[0])):
            return None  # not written by this user: parse the manifest again
        try:
            return json.loads(row[0])
        except ValueError:
            return None

    def put_manifest(self, digest: str, doc: Any) -> None:
        if self._key is None:
            return
        text = json.dumps(doc, separators=(",", ":"))
        self._db.execute("insert or replace into manifest_docs values (?, ?, ?)",
                         (digest, text, self._mac(digest, text)))

    def _mac(self, digest: str, doc: str) -> bytes:
        assert self._key is not None
        return hmac.new(self._key, f"{digest}\0{doc}".encode(), hashlib.sha256).digest()

    def get_derived(self, kind: str, source: str) -> Digest | None:
        row = self._db.execute(
            "select sha256, md5, size from derived where kind = ? and source = ?", (kind, source)
        ).fetchone()
        return Digest(row[0], row[1], row[2]) if row else None

    def put_derived(self, kind: str, source: str, digest: Digest) -> None:
        self._db.execute(
            "insert or replace into derived values (?, ?, ?, ?, ?)",
            (kind, source, digest.sha256, digest.md5, digest.size),
        )
