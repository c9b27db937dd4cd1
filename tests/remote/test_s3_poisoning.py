"""The per-user cache is shared by every remote, and large S3 downloads are
checked against sha256 only: a hostile S3 remote can store bytes under the md5
another remote's manifest names. They are never handed out for that other
remote: its manifest's sha256 is not the one they were verified against."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.conftest import STUB, old_form, tree_bytes
from tests.remote.conftest import Backend
from zoo_repo import Zoo
from zoo_repo.store.objects import Store, oid_relpath

pytestmark = pytest.mark.backends("s3")

WEIGHTS = "numpy/weights.bin"


def test_bytes_a_hostile_s3_remote_planted_are_not_handed_out_for_another_remote(
        remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo_repo.remote.s3 import remote as remote_module

    monkeypatch.setattr(remote_module, "FAST_GET_MIN", 1 << 20)  # the md5-less parallel download
    for key, value in backend.env.items():
        monkeypatch.setenv(key, value)
    big = os.urandom(3 << 20)
    (model_dir / "numpy" / "weights.bin").write_bytes(big)
    manifest = remote_zoo.publish(model_dir, STUB).manifest  # remote A (S3), honest so far
    honest = Zoo.init(tmp_path / "zoo-b", remote=str(tmp_path / "remote-b"))
    assert honest.publish(model_dir, STUB).manifest.files == manifest.files  # remote B (a directory)
    entry = next(f for f in manifest.files if f.path == WEIGHTS)

    # A turns hostile: other bytes under B's md5, and a manifest vouching for them.
    evil = bytearray(big)
    evil[12345] ^= 0xFF
    backend.write(oid_relpath(entry.md5), bytes(evil))
    key = f"zoo/manifests/{STUB}/v1/manifest.yaml"
    backend.write(key, backend.read(key).replace(entry.sha256.encode(), hashlib.sha256(evil).hexdigest().encode()))
    old_form(backend.url, backend.options)  # its listing in one file, to forge
    index = json.loads(backend.read("zoo/index.json"))  # A's listing vouches for its forged manifest
    index["stubs"][STUB]["v1"] = "sha256:" + hashlib.sha256(backend.read(key)).hexdigest()
    backend.write("zoo/index.json", json.dumps(index).encode())

    cache = tmp_path / "cache"
    from_a = Zoo.open(backend.url, remote_options=backend.options, cache_dir=cache).pull(
        STUB, dest=tmp_path / "from-a", include=("framework",))
    assert (from_a.dest / WEIGHTS).read_bytes() == evil  # what A's own manifest says
    assert Store(cache).path(entry.md5).read_bytes() == evil  # planted under B's md5

    from_b = Zoo.open((tmp_path / "remote-b").as_uri(), cache_dir=cache).pull(STUB, dest=tmp_path / "from-b")
    assert {p: hashlib.sha256(b).hexdigest() for p, b in tree_bytes(from_b.dest).items()} == \
        {f.path: f.sha256 for f in manifest.files}
    assert (from_b.dest / WEIGHTS).read_bytes() == big
