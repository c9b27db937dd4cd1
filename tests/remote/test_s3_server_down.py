"""The S3 server dies in the middle of a push and of a pull (the real SeaweedFS, SIGKILLed).

The command fails with one clear line after bounded retries; once the server
is back, a rerun completes and moves only what is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests import seaweed as weed
from tests.conftest import STUB, clone
from tests.remote.conftest import s3_client
from zoo_repo import Zoo


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the transfer never started"
        time.sleep(0.02)


def _zoo(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "zoo_repo", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_server_dies_mid_push_and_mid_pull(s3_env: dict[str, str], model_dir: Path, tmp_path: Path) -> None:
    server = weed.start(tmp_path / "weed")
    try:
        s3_client(server.endpoint).create_bucket(Bucket="outage")
        zoo = Zoo.init(tmp_path / "zoo", remote="s3://outage/zoo",
                       remote_options={"endpointurl": server.endpoint, "region": "us-east-1",
                                       "connect_timeout": "2", "read_timeout": "5"})
        for i in range(6):
            (model_dir / "numpy" / f"shard-{i}.bin").write_bytes(os.urandom(12 << 20))

        def uploaded() -> int:
            try:
                page = s3_client(server.endpoint).list_objects_v2(Bucket="outage", Prefix="zoo/files/")
            except Exception:  # noqa: BLE001 - not up yet
                return 0
            return int(page.get("KeyCount", 0))

        push = _zoo("--zoo", str(zoo.root), "publish", str(model_dir), "--stub", STUB, "--json")
        _wait_for(lambda: uploaded() >= 3)
        server.stop()
        started = time.monotonic()
        out, err = push.communicate(timeout=180)
        waited = time.monotonic() - started
        assert push.returncode == 1, (out, err)
        error = json.loads(err)  # --json: the error is a JSON object on stderr
        assert error["error"].startswith("remote s3://outage/zoo: ") and error["exit_code"] == 1
        assert zoo.versions(STUB) == []  # no manifest names objects the remote may lack
        print(f"publish failed {waited:.1f}s after the server died: {error['error']}")

        server = weed.start(tmp_path / "weed", ports=server.grpc_ports)
        total = len({f.name for f in model_dir.rglob("*") if f.is_file()})
        rerun = subprocess.run([sys.executable, "-m", "zoo_repo", "--zoo", str(zoo.root), "publish",
                                str(model_dir), "--stub", STUB, "--json"], capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        result = json.loads(rerun.stdout)
        assert result["version"] == "v1" and 0 < result["uploaded_objects"] < total + 2
        print(f"rerun uploaded {result['uploaded_objects']} objects of {total + 2}")

        consumer = clone(zoo, tmp_path / "consumer")
        pull = _zoo("--zoo", str(consumer.root), "pull", STUB, "--dest", str(tmp_path / "out"))
        _wait_for(lambda: len(list(consumer.store.oids())) >= 2)
        server.stop()
        out, err = pull.communicate(timeout=180)
        assert pull.returncode == 1, (out, err)
        assert err.startswith("Error: remote s3://outage/zoo") and "Traceback" not in err
        have = len(list(consumer.store.oids()))
        assert not (tmp_path / "out").exists()  # files are placed only once every object is verified

        server = weed.start(tmp_path / "weed", ports=server.grpc_ports)
        again = subprocess.run([sys.executable, "-m", "zoo_repo", "--zoo", str(consumer.root), "pull", STUB,
                                "--dest", str(tmp_path / "out"), "--json"], capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        fetched = json.loads(again.stdout)["fetched_objects"]
        manifest = zoo.manifest(STUB, 1)
        assert fetched == len({f.md5 for f in manifest.files}) - have  # only what was missing
        assert consumer.verify().ok
    finally:
        server.stop()
