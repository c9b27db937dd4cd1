"""A download that cannot be written in full fails; it never stores bytes other than those hashed.

The short write is real: the pull runs in a process whose file size limit
(RLIMIT_FSIZE, with SIGXFSZ ignored) ends inside the object's last part, so
the kernel's pwrite stores only part of it and says so in its return value.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB, clone
from zoo_repo import Zoo
from zoo_repo.remote.s3.get import PART_SIZE
from zoo_repo.remote.s3.remote import FAST_GET_MIN

LIMITED_ZOO = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
sys.argv[1:2] = []
from zoo_repo.cli import run
run()
"""


def limited_zoo(limit: int, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    # A timeout: a write that failed in a worker thread used to leave the download waiting forever.
    return subprocess.run([sys.executable, "-c", LIMITED_ZOO, str(limit), *map(str, args)],
                          capture_output=True, text=True, timeout=120)


# Where the limit falls: inside the last part (its pwrite is short), or inside
# the first (short too, and the later part's pwrite fails outright).
@pytest.mark.parametrize("room", [-2, -(5 << 20)])
def test_a_short_write_fails_the_pull_and_stores_nothing(seaweed_server: weed.Seaweed, bucket: str,
                                                         model_dir: Path, tmp_path: Path, room: int) -> None:
    # Large enough for the parallel ranged path, in two parts.
    big = os.urandom(max(FAST_GET_MIN, PART_SIZE) + (1 << 20))
    (model_dir / "numpy" / "weights.bin").write_bytes(big)
    ours = Zoo.init(tmp_path / "zoo", remote=f"s3://{bucket}/t-{uuid.uuid4().hex[:12]}/zoo",
                    remote_options={"endpointurl": seaweed_server.endpoint, "region": "us-east-1"})
    entry = next(f for f in ours.publish(model_dir, STUB).manifest.files if f.path == "numpy/weights.bin")
    theirs = clone(ours, tmp_path / "clone")

    out = tmp_path / "out"
    proc = limited_zoo(len(big) + room, "--zoo", theirs.root, "pull", STUB, "--dest", out, "--include", "framework")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    error = proc.stderr.splitlines()[0]
    assert error.startswith("Error: ") and "Traceback" not in proc.stderr
    assert error.endswith(": file too large for this file system or the file size limit"), error
    assert str(theirs.store.root) in error or str(out) in error  # the file the disk refused
    assert not theirs.store.has(entry.md5) and not theirs.store.temp_files()
    assert not (out / "numpy" / "weights.bin").exists()  # nor the copy streamed beside the download
    assert theirs.verify().ok

    # The same pull with room to write: the limit was the only obstacle.
    proc = limited_zoo(len(big), "--zoo", theirs.root, "pull", STUB, "--dest", out, "--include", "framework")
    assert proc.returncode == 0, proc.stderr
    assert hashlib.sha256((out / "numpy" / "weights.bin").read_bytes()).hexdigest() == entry.sha256
    assert theirs.store.has(entry.md5) and theirs.verify().ok
