"""Large S3 objects move in parts: parallel ranged GETs down, each part verified as it
lands; parallel multipart uploads up. Thresholds are lowered so that a few MiB make
several parts and ordering across parts matters."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import STUB, clone
from tests.remote.conftest import Backend
from zoo_repo import IntegrityError, Zoo
from zoo_repo.store.objects import oid_relpath

pytestmark = pytest.mark.backends("s3")


def test_large_objects_come_in_verified_parts(remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The parallel ranged-GET path, with small parts so that ordering across parts matters."""
    import os

    from zoo_repo.remote.s3 import get as fastget
    from zoo_repo.remote.s3 import remote as remote_module

    monkeypatch.setattr(remote_module, "FAST_GET_MIN", 1 << 20)
    monkeypatch.setattr(fastget, "PART_SIZE", 256 << 10)
    # Parts stream in several slices, and are hashed back in reads that cross part boundaries.
    monkeypatch.setattr(fastget, "SLICE", 64 << 10)
    monkeypatch.setattr(fastget, "HASH_SLICE", 100_000)
    big = os.urandom(3 << 20) + b"tail"
    (model_dir / "numpy" / "weights.bin").write_bytes(big)
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    entry = next(f for f in manifest.files if f.path == "numpy/weights.bin")

    theirs = clone(remote_zoo, tmp_path / "clone")
    pulled = theirs.pull(STUB, dest=tmp_path / "out", include=("framework",))
    assert (pulled.dest / "numpy" / "weights.bin").read_bytes() == big

    corrupt = bytearray(big)
    corrupt[(2 << 20) + 7] ^= 0x55  # in a middle part
    backend.write(oid_relpath(entry.md5), bytes(corrupt))
    other = clone(remote_zoo, tmp_path / "clone2")
    with pytest.raises(IntegrityError, match="numpy/weights.bin: sha256 mismatch"):
        other.pull(STUB, dest=tmp_path / "out2", include=("framework",))
    assert not other.store.has(entry.md5) and not other.store.temp_files()
    assert not (tmp_path / "out2").exists()  # nor any copy streamed beside the download


def test_large_uploads_go_up_in_parts(remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The multipart path (S3), with parts small enough that there are several."""
    import os

    from zoo_repo.remote.s3 import put as fastput
    from zoo_repo.remote.s3 import remote as remote_module

    monkeypatch.setattr(remote_module, "FAST_PUT_MIN", 6 << 20)
    monkeypatch.setattr(fastput, "PART_SIZE", 5 << 20)
    big = os.urandom((12 << 20) + 123)
    (model_dir / "numpy" / "weights.bin").write_bytes(big)
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    entry = next(f for f in manifest.files if f.path == "numpy/weights.bin")
    assert hashlib.sha256(backend.read(oid_relpath(entry.md5))).hexdigest() == entry.sha256
    pulled = clone(remote_zoo, tmp_path / "clone").pull(STUB, dest=tmp_path / "out", include=("framework",))
    assert (pulled.dest / "numpy" / "weights.bin").read_bytes() == big
