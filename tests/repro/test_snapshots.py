"""Pulls without a destination and without a checkout: snapshots in the per-user cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import Zoo


def test_snapshots_are_shared_and_pruned_with_their_version(zoo: Zoo, model_dir: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"v2")
    zoo.publish(model_dir, STUB)
    url = (zoo.root.parent / "remote").as_uri()
    first = json.loads(cli("pull", f"{STUB}@v1", "--remote", url, "--json").stdout)
    second = json.loads(cli("pull", f"{STUB}@v2", "--remote", url, "--json").stdout)
    v1, v2 = Path(first["dest"]), Path(second["dest"])
    assert v1 != v2 and (v1 / "model.onnx").samefile(v2 / "model.onnx")  # one object, two snapshots
    again = json.loads(cli("pull", f"{STUB}@v1", "--remote", url, "--json").stdout)
    assert again["dest"] == first["dest"] and again["fetched_objects"] == 0
    assert cli("cache", "prune", "--keep-latest", "1").exit_code == 0
    assert not v1.exists() and (v2 / "model.onnx").is_file()
