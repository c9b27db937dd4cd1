"""A publish of many small files sends them while it is still storing the rest
(``remote.early``), and its order holds whatever goes wrong: a model refused by
validation sends nothing at all; an upload the server refuses stops the others
at once; a server killed mid-publish leaves no version, a rerun after its
restart completes, and `zoo pull` and `dvc pull` get the exact bytes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB, clone, tree_bytes
from tests.remote.conftest import s3_client
from tests.remote.test_s3_direct import LAUGHS, Proxy, _add_small_files, _options, _url
from zoo_repo import Zoo
from zoo_repo.remote.s3.remote import small_jobs
from zoo_repo.remote.transfer import PACK_JOBS


@pytest.fixture
def front(seaweed_server: weed.Seaweed, bucket: str) -> Iterator[Proxy]:
    """The proxy of ``test_s3_direct`` in front of the session's server: counts and refuses PUTs."""
    made = Proxy(seaweed_server.endpoint)
    yield made
    made.close()


def _publish(zoo: Zoo, model_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zoo_repo", "--zoo", str(zoo.root), "publish", str(model_dir),
                           "--stub", STUB, *extra], capture_output=True, text=True, timeout=600)


def _one_line_error(proc: subprocess.CompletedProcess[str], status: int) -> str:
    assert proc.returncode == status, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("Error: ") and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def _nothing_committed(zoo: Zoo) -> None:
    assert zoo.versions(STUB) == []
    assert not list((zoo.root / "manifests").rglob("manifest.yaml"))
    log = subprocess.run(["git", "log", "--format=%s"], cwd=zoo.root, capture_output=True, text=True, check=True)
    assert "Publish" not in log.stdout


def test_a_model_refused_by_validation_sends_nothing(front: Proxy, bucket: str, model_dir: Path,
                                                     tmp_path: Path) -> None:
    """Uploads begin only once the model is validated: a refused one puts nothing on the remote."""
    _add_small_files(model_dir, 300)  # past the listing threshold: the early uploads are armed
    (model_dir / "model.onnx").write_bytes(b"\x08\x07not a graph" * 100)
    zoo = Zoo.init(tmp_path / "zoo", remote=_url(bucket), remote_options=_options(front.url))
    front.puts = 0
    line = _one_line_error(_publish(zoo, model_dir), 2)
    assert "model.onnx" in line
    assert front.puts == 0
    _nothing_committed(zoo)


def test_an_upload_the_server_refuses_stops_the_others_at_once(front: Proxy, seaweed_server: weed.Seaweed,
                                                               bucket: str, model_dir: Path, tmp_path: Path) -> None:
    _add_small_files(model_dir, 400)
    zoo = Zoo.init(tmp_path / "zoo", remote=_url(bucket), remote_options=_options(front.url))
    front.refuse, front.puts = 403, 0
    line = _one_line_error(_publish(zoo, model_dir, "--jobs", "2"), 1)
    assert line.startswith("Error: remote s3://")
    # What was already in flight when the first refusal came, not one PUT per file.
    assert 0 < front.puts <= 2 * small_jobs(2) + PACK_JOBS, front.puts
    _nothing_committed(zoo)
    files = zoo.remote().root.split("/", 1)[1] + "/files/"
    assert not s3_client(seaweed_server.endpoint).list_objects_v2(Bucket=bucket, Prefix=files).get("KeyCount")

    front.refuse = 0  # the same publish, the server willing again: it completes
    done = _publish(zoo, model_dir, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == "v1"


def test_a_crafted_listing_taken_during_the_scan_stops_the_publish(front: Proxy, bucket: str, model_dir: Path,
                                                                   tmp_path: Path) -> None:
    """The listing fetched beside the scan is read as warily as any: refused in one
    line, and nothing is sent on its word."""
    _add_small_files(model_dir, 300)
    zoo = Zoo.init(tmp_path / "zoo", remote=_url(bucket), remote_options=_options(front.url))
    front.craft, front.puts = (lambda query: LAUGHS), 0
    line = _one_line_error(_publish(zoo, model_dir), 1)
    assert "DTD" in line, line
    assert front.puts == 0
    _nothing_committed(zoo)


def test_a_server_killed_mid_publish_of_small_files(s3_env: dict[str, str], model_dir: Path,
                                                    tmp_path: Path) -> None:
    server = weed.start(tmp_path / "weed")
    try:
        s3_client(server.endpoint).create_bucket(Bucket="early")
        zoo = Zoo.init(tmp_path / "zoo", remote="s3://early/zoo",
                       remote_options={"endpointurl": server.endpoint, "region": "us-east-1",
                                       "connect_timeout": "2", "read_timeout": "5"})
        for i in range(2000):
            (model_dir / "sample-originals").mkdir(exist_ok=True)
            (model_dir / "sample-originals" / f"img-{i:04d}.bin").write_bytes(os.urandom(4096 + i))

        def uploaded() -> int:
            try:
                page = s3_client(server.endpoint).list_objects_v2(Bucket="early", Prefix="zoo/files/")
            except Exception:  # noqa: BLE001 - not up yet
                return 0
            return int(page.get("KeyCount", 0))

        push = subprocess.Popen([sys.executable, "-m", "zoo_repo", "--zoo", str(zoo.root), "publish",
                                 str(model_dir), "--stub", STUB], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 120
        while uploaded() < 20:
            assert push.poll() is None and time.monotonic() < deadline, "the uploads never started"
            time.sleep(0.01)
        server.stop()
        started = time.monotonic()
        out, err = push.communicate(timeout=180)
        waited = time.monotonic() - started
        line = _one_line_error(subprocess.CompletedProcess(push.args, push.returncode, out, err), 1)
        assert line.startswith("Error: remote s3://early/zoo"), line
        assert waited < 90, f"{waited:.0f} s to notice the server was gone"
        _nothing_committed(zoo)
        assert not zoo.store.temp_files()  # nothing half-written in the store

        server = weed.start(tmp_path / "weed", ports=server.grpc_ports)
        assert uploaded() > 0
        assert not [k["Key"] for k in s3_client(server.endpoint).list_objects_v2(Bucket="early", Prefix="zoo/")
                    .get("Contents", []) if not k["Key"].startswith(("zoo/files/", "zoo/packs/"))]  # no index
        rerun = _publish(zoo, model_dir, "--json")
        assert rerun.returncode == 0, rerun.stderr
        result = json.loads(rerun.stdout)
        manifest = zoo.manifest(STUB, 1)
        total = len({f.md5 for f in manifest.files}) + 1  # and the .dir listing
        assert result["version"] == "v1" and 0 < result["uploaded_objects"] < total  # what the remote held is reused
        want = {f.path: f.sha256 for f in manifest.files}

        consumer = clone(zoo, tmp_path / "consumer")
        pulled = subprocess.run([sys.executable, "-m", "zoo_repo", "--zoo", str(consumer.root), "pull", STUB,
                                 "--dest", str(tmp_path / "out")], capture_output=True, text=True)
        assert pulled.returncode == 0, pulled.stderr
        got = tree_bytes(tmp_path / "out")
        assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items() if p in want} == want

        theirs = clone(zoo, tmp_path / "dvc-consumer")
        dvc = subprocess.run([sys.executable, "-m", "dvc", "pull"], cwd=theirs.root, capture_output=True, text=True)
        assert dvc.returncode == 0, dvc.stderr + dvc.stdout
        got = tree_bytes(theirs.version_dir(manifest.stub, 1) / "model")
        assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == want
    finally:
        server.stop()
