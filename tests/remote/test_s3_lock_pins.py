"""A lockfile alone reaches an S3 remote and honours its pins: the endpoint and region
come from the lockfile (written by `zoo lock`), the keys from the environment, and
no AWS_ENDPOINT_URL is set. The same world as tests/ops/test_lock_pins.py, on SeaweedFS."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB, hermetic_env, tree_bytes
from zoo_repo import Zoo
from zoo_repo.core.lockfile import parse_lock
from zoo_repo.errors import NotPinned

LABEL = "sample-labels/lab-0000.npy"


def test_the_lockfile_alone_reaches_s3_and_pulls_the_pinned_version(
        seaweed_server: weed.Seaweed, bucket: str, model_dir: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"s3://{bucket}/pins-{uuid.uuid4().hex[:10]}/zoo"
    zoo = Zoo.init(tmp_path / "zoo", remote=url, remote_options={"endpointurl": seaweed_server.endpoint,
                                                                 "region": "us-east-1"})
    for n in (1, 2, 3):
        (model_dir / LABEL).write_bytes(f"v{n}".encode())
        zoo.publish(model_dir, STUB, run=False)
    zoo.tag(f"{STUB}@v2", "stable")
    lockfile = tmp_path / "zoo.lock"
    assert cli("--zoo", zoo.root, "lock", f"{STUB}@stable", "-f", lockfile).exit_code == 0
    zoo.tag(f"{STUB}@v3", "stable")
    (model_dir / LABEL).write_bytes(b"v4")
    zoo.publish(model_dir, STUB, run=False)

    text = lockfile.read_text()
    lock = parse_lock(text)
    assert lock.remote == url
    assert lock.remote_options == {"endpointurl": seaweed_server.endpoint, "region": "us-east-1"}
    assert weed.SECRET_KEY not in text and weed.ACCESS_KEY not in text

    # The second machine: its own home and cache, the lockfile, AWS keys in the environment.
    for var, value in hermetic_env(tmp_path / "home2").items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache2"))
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(lockfile, project / "zoo.lock")
    monkeypatch.chdir(project)
    assert "AWS_ENDPOINT_URL" not in os.environ and "AWS_ENDPOINT_URL_S3" not in os.environ
    assert os.environ["AWS_ACCESS_KEY_ID"] == weed.ACCESS_KEY

    pinned = Zoo.open("zoo.lock")
    pulled = pinned.pull(f"zoo:{STUB}@stable", dest=project / "m")
    assert pulled.manifest.version == 2 and tree_bytes(project / "m")[LABEL] == b"v2"
    with pytest.raises(NotPinned, match=f"zoo.lock pins {STUB}@stable \\(v2\\), not @latest"):
        pinned.resolve(STUB)

    got = cli("--pins", "zoo.lock", "pull", f"{STUB}@stable", "--dest", project / "cli")
    assert got.exit_code == 0, got.stderr
    assert tree_bytes(project / "cli")[LABEL] == b"v2"
    refused = cli("--pins", "zoo.lock", "pull", f"{STUB}@v4", "--dest", project / "v4")
    assert refused.exit_code == 2 and refused.stderr.splitlines()[0] == (
        f"Error: {STUB}@v4: zoo.lock pins {STUB}@stable (v2), not @v4; a lockfile pins one version per stub")
    assert not (project / "v4").exists()
