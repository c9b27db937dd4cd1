"""Stamps are written in batches; none is lost when the process ends without closing the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from zoo_repo.store.digest import Digest
from zoo_repo.store.stamps import BATCH, NAME, Stamps
from zoo_repo.store.statcache import StatCache

KEY = b"k" * 32


def _object(root: Path, name: str) -> tuple[os.stat_result, Digest]:
    path = root / name
    path.write_bytes(name.encode())
    return path.stat(), Digest("a" * 64, name, path.stat().st_size)


def test_a_stamp_held_in_memory_vouches_at_once_and_only_for_the_same_file(tmp_path: Path) -> None:
    stamps = Stamps(tmp_path, KEY)
    st, got = _object(tmp_path, "0" * 32)
    stamps.put("0" * 32, st, got)
    assert stamps.fresh("0" * 32, st, got) == got
    (tmp_path / ("0" * 32)).write_bytes(b"edited!!!!")  # another size and mtime
    assert stamps.fresh("0" * 32, (tmp_path / ("0" * 32)).stat(), got) is None
    stamps.forget("0" * 32)
    stamps.flush()
    assert StatCache(tmp_path / NAME, KEY).get("0" * 32, st) is None


def test_a_full_batch_is_written_without_waiting_for_the_end(tmp_path: Path) -> None:
    stamps = Stamps(tmp_path, KEY)
    entries = [(f"{i:032x}", *_object(tmp_path, f"{i:032x}")) for i in range(BATCH)]
    for oid, st, got in entries:
        stamps.put(oid, st, got)
    other = StatCache(tmp_path / NAME, KEY)  # another reader: sees only what was written
    assert all(other.get(oid, st) is not None for oid, st, _ in entries)


def test_stamps_are_written_when_the_process_ends_without_closing(tmp_path: Path) -> None:
    code = (
        "import os, sys; from pathlib import Path\n"
        "from zoo_repo.store.stamps import Stamps; from zoo_repo.store.digest import Digest\n"
        "root = Path(sys.argv[1]); p = root / ('1' * 32); p.write_bytes(b'x')\n"
        f"Stamps(root, {KEY!r}).put('1' * 32, p.stat(), Digest('b' * 64, '1' * 32, 1))\n"
        "sys.exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    st = (tmp_path / ("1" * 32)).stat()
    assert StatCache(tmp_path / NAME, KEY).get("1" * 32, st) == Digest("b" * 64, "1" * 32, 1)
