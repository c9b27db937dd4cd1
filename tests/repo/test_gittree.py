"""Tree objects edited in bytes: what git itself writes for the same entries."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from zoo_repo.repo import gittree

_NAMES = [b"a", b"a-b", b"a.b", b"a0", b"ab", b"b", b"v1", b"v10", b"v2", b"v2-x", b"z", b"\xc3\xa9t\xc3\xa9",
          b"arch000001", b"arch000002", b"mlp-784_64", b"pruned-moderate"]


def _random_entry(rng: random.Random) -> tuple[bytes, bytes]:
    mode = rng.choice([gittree.TREE_MODE, gittree.FILE_MODE, gittree.EXEC_MODE])
    # Oids holding the bytes a parser could trip on: spaces, NULs, digits.
    return mode, bytes(rng.choice([0, 32, 48, 49, 255, rng.randrange(256)]) for _ in range(20))


@pytest.mark.parametrize("seed", range(40))
def test_edit_tree_is_a_sorted_rebuild(seed: int) -> None:
    rng = random.Random(seed)
    entries = {name: _random_entry(rng) for name in rng.sample(_NAMES, rng.randrange(len(_NAMES)))}
    body = gittree.tree_bytes(entries)
    assert gittree.parse_tree(body, 20) == entries
    changes: dict[bytes, tuple[bytes, bytes | None]] = {}
    for name in rng.sample(_NAMES, rng.randrange(1, 5)):
        if name in entries and rng.random() < 0.4:
            changes[name] = (entries[name][0], None)  # dropped
        else:
            mode, oid = _random_entry(rng)
            if name in entries:
                mode = entries[name][0] if mode == gittree.TREE_MODE or entries[name][0] == gittree.TREE_MODE else mode
            changes[name] = (mode, oid)
    edited, found = gittree.edit_tree(body, 20, changes)
    expected = dict(entries)
    for name, (mode, oid) in changes.items():
        if oid is None:
            del expected[name]
        else:
            expected[name] = (mode, oid)
    assert edited == gittree.tree_bytes(expected)
    assert found == {name: entries[name] for name in changes if name in entries}
    assert gittree.edit_tree(body, 20, {}) == (body, {})


def test_tree_bytes_and_ids_are_gits(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    def blob(data: bytes) -> bytes:
        out = subprocess.run(["git", "-C", str(tmp_path), "hash-object", "-w", "--stdin"], input=data,
                             capture_output=True, check=True).stdout
        return bytes.fromhex(out.decode().strip())

    empty_tree = bytes.fromhex(gittree.object_id("tree", b"", "sha1"))
    subprocess.run(["git", "-C", str(tmp_path), "hash-object", "-w", "-t", "tree", "--stdin"], input=b"", check=True)
    entries = {name: (gittree.TREE_MODE if name.startswith(b"a") else gittree.FILE_MODE,
                      empty_tree if name.startswith(b"a") else blob(name)) for name in _NAMES}
    listing = b"".join(b"%s %s %s\t%s\0" % (mode.rjust(6, b"0"), b"tree" if mode == gittree.TREE_MODE else b"blob",
                                             oid.hex().encode(), name) for name, (mode, oid) in entries.items())
    made = subprocess.run(["git", "-C", str(tmp_path), "mktree", "-z"], input=listing, capture_output=True,
                          check=True).stdout.decode().strip()
    body = gittree.tree_bytes(entries)
    assert gittree.object_id("tree", body, "sha1") == made
    assert subprocess.run(["git", "-C", str(tmp_path), "cat-file", "tree", made], capture_output=True,
                          check=True).stdout == body


def test_ancestors_deepest_first() -> None:
    assert gittree.ancestors([b"m/a/v1/x", b"m/a/v1/s/y", b"top"]) == [b"m/a/v1/s", b"m/a/v1", b"m/a", b"m", b""]


def test_clean_message_is_git_commit_m() -> None:
    assert gittree.clean_message("\n\n  Subject  \n\n\n\nbody\t\n\n") == "  Subject\n\nbody\n"
    assert gittree.clean_message(" \n\t\n") == ""
    assert gittree.clean_message("one") == "one\n"
