"""What ``zoo list`` remembers between runs (``catalog.listing``) is a speed-up only:
a warm listing shows what the working tree holds now, and a remembered listing that
is stale, edited, forged or of another shape never makes it show anything else."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.catalog.listing import CACHE_NAME
from zoo_repo.catalog.replay import REPLAY_NAME
from zoo_repo.store.userkey import user_key

Shown = list[dict[str, Any]]


def _shown(cli: Callable[..., Any], zoo: Zoo) -> Shown:
    result = cli("--zoo", zoo.root, "list", "--json", "--all")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _settle() -> None:
    # What changed in the last two seconds is not remembered (one timestamp tick could hide a second change).
    time.sleep(2.1)


def _cache(zoo: Zoo) -> Path:
    return zoo.root / ".zoo" / CACHE_NAME


def _published(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB, run=False)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"v2")
    zoo.publish(model_dir, STUB, run=False)


def test_a_warm_listing_follows_every_change_to_the_working_tree(
        cli: Callable[..., Any], zoo: Zoo, model_dir: Path) -> None:
    _published(zoo, model_dir)
    _settle()
    first = _shown(cli, zoo)
    assert [r["version"] for r in first] == ["v2"] and _cache(zoo).is_file()
    remembered = _cache(zoo).stat().st_mtime_ns
    assert _shown(cli, zoo) == first and _cache(zoo).stat().st_mtime_ns == remembered  # nothing new to remember

    v2 = zoo.root / "manifests" / STUB / "v2"
    manifest = v2 / "manifest.yaml"
    text = manifest.read_text()
    st = manifest.stat()
    # Same size, same mtime: only the ctime and the bytes tell the change.
    edited = text.replace(first[0]["created"], first[0]["created"].replace("20", "19", 1), 1)
    assert len(edited) == len(text) and edited != text
    manifest.write_text(edited)
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _shown(cli, zoo)[0]["created"].startswith("19")

    _settle()
    _shown(cli, zoo)  # remembered again
    shutil.rmtree(v2)
    assert [r["version"] for r in _shown(cli, zoo)] == ["v1"]
    manifest.parent.mkdir()
    manifest.write_text(edited)
    (zoo.root / "manifests" / STUB / "deprecated.yaml").write_text("message: use something else\n")
    shown = _shown(cli, zoo)
    assert [r["version"] for r in shown] == ["v2"] and shown[0]["deprecated"]["message"] == "use something else"


@pytest.mark.parametrize("name", [CACHE_NAME, REPLAY_NAME])
def test_a_forged_stale_or_malformed_listing_memo_is_ignored_and_rebuilt(
        name: str, cli: Callable[..., Any], zoo: Zoo, model_dir: Path) -> None:
    _published(zoo, model_dir)
    _settle()
    truth = _shown(cli, zoo)
    path = zoo.root / ".zoo" / name
    magic, _, rest = path.read_bytes().partition(b"\n")
    magic += b"\n"
    mac_hex, _, body = rest.partition(b"\n")
    lie = body.replace(str(truth[0]["size"]).encode(), b"1")
    assert lie != body
    where = str(zoo.root / "manifests").encode()

    def mac(key: bytes, data: bytes) -> bytes:
        return hmac.new(key, magic + b"\0" + where + b"\0" + data, hashlib.sha256).hexdigest().encode()

    key = user_key()
    if name == CACHE_NAME:
        shape = b'{"c": [1, 2]}'
    else:  # the replay's own question and digest, and rows of another shape
        head, _, paths = body.partition(b"\n")
        shape = json.dumps({**json.loads(head), "rows": [[1, 2, 3]]}).encode() + b"\n" + paths
    crafted = {
        "edited body, old MAC": magic + mac_hex + b"\n" + lie,
        "MAC with another key": magic + mac(b"k" * 32, lie) + b"\n" + lie,
        "no MAC": lie,
        "not JSON": magic + mac(key, b"{") + b"\n{",
        "another shape": magic + mac(key, shape) + b"\n" + shape,
        "deep nesting": magic + mac(key, b"[" * 100_000) + b"\n" + b"[" * 100_000,
        "garbage": os.urandom(4096),
    }
    for label, data in crafted.items():
        if name == CACHE_NAME:
            (zoo.root / ".zoo" / REPLAY_NAME).unlink(missing_ok=True)  # else the replay answers, walking nothing
        path.write_bytes(data)
        assert _shown(cli, zoo) == truth, label
    path.unlink()
    (zoo.root / ".zoo" / REPLAY_NAME).unlink(missing_ok=True)
    os.mkfifo(path)  # a FIFO would block a plain read
    assert _shown(cli, zoo) == truth
    assert path.is_file() and not path.is_symlink()
    # Another checkout's listing (same user) speaks of other directories: not used here.
    other = zoo.root.parent / "other"
    shutil.copytree(zoo.root, other, symlinks=True)
    shutil.rmtree(other / "manifests" / STUB / "v2")
    assert [r["version"] for r in _shown(cli, Zoo.open(other))] == ["v1"]
