"""An integrity error names where the bad bytes are, and the repair that fits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import STUB, clone
from zoo_repo import IntegrityError, Zoo
from zoo_repo.store.objects import oid_relpath


def flip_a_byte(path: Path) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    path.chmod(0o444)


def test_verify_says_a_store_object_is_corrupt_and_how_to_repair_it(
    cli, zoo: Zoo, model_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    victim = zoo.store.path(next(f.md5 for f in manifest.files if f.path == "model.onnx"))
    flip_a_byte(victim)

    result = cli("--zoo", zoo.root, "verify")
    assert result.exit_code == 1
    [problem] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert problem.startswith(f"Error: {victim}: md5 mismatch in the store: ")
    assert "the stored object is corrupt" in problem
    assert f"`rm -f {victim}`" in problem and "`zoo fetch`" in problem
    assert "the download was discarded" not in problem and "zoo push" not in problem
    assert json.loads(cli("--zoo", zoo.root, "verify", "--json").stdout)["problems"] == [problem[len("Error: "):]]

    # The repair it names works.
    victim.unlink()
    assert cli("--zoo", zoo.root, "fetch").exit_code == 0
    assert cli("--zoo", zoo.root, "verify").exit_code == 0


def test_a_corrupt_download_still_blames_the_remote(zoo: Zoo, model_dir: Path, remote_dir: Path,
                                                    tmp_path: Path) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    onnx = next(f for f in manifest.files if f.path == "model.onnx")
    flip_a_byte(remote_dir / oid_relpath(onnx.md5))

    with pytest.raises(IntegrityError) as info:
        clone(zoo, tmp_path / "clone").pull(STUB, dest=tmp_path / "out")
    assert info.value.message.startswith(f"model.onnx: sha256 mismatch from remote {zoo.remote().url}: ")
    assert info.value.message.endswith("; the download was discarded")
    assert info.value.hint == ("the copy on the remote is corrupt: run `zoo push` from a machine "
                               "whose store holds the good object, then pull again")
    assert not info.value.stored
