"""zoo's own S3 HTTP layer (presigned SigV4 URLs over pooled ``http.client``
connections) against the libraries that could replace it: urllib3 (the same
URLs through its pool) and obstore (Rust object_store: signing and HTTP in
Rust). Each does the same work in one process, 8 threads, on one SeaweedFS:

- **1 GiB by ranged GETs**: 16 MiB ranges, each read whole into memory and
  written to its place in one file with ``pwrite`` (no hash: the verification
  is zoo's, the same whichever client brings the bytes);
- **2,000 small objects** (32 KiB each) read whole into memory, and 2,000
  more PUT from memory: a request per object, signing included (a small-file
  publish sends each object loose; its pulls read packs, by ranges).

Timed in-process after every client's imports; client CPU from ``os.times()``
(all threads), the server's from ``/proc``. Medians of ``--reps``.

    .venv/bin/python bench/http_clients.py [--reps 3] [--workdir /tmp/zoo-http-clients]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pull_cpu import cpu_of

from tests import seaweed

BUCKET, REGION = "bench", "us-east-1"
BIG, PART, THREADS = 1 << 30, 16 << 20, 8
SMALL_COUNT, SMALL_SIZE = 2000, 32 << 10


def fill(store: object, work: Path) -> list[str]:
    """The 1 GiB object and the small ones, put with obstore (not measured)."""
    import obstore

    big = work / "big"
    with open(big, "wb") as fh:
        for _ in range(BIG // (64 << 20)):
            fh.write(os.urandom(64 << 20))
    obstore.put(store, "big", big)  # type: ignore[arg-type]
    big.unlink()
    keys = [f"small/{i:04d}" for i in range(SMALL_COUNT)]
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda k: obstore.put(store, k, os.urandom(SMALL_SIZE)), keys))  # type: ignore[arg-type]
    return keys


Client = tuple[Callable[[int, int, int], None], Callable[[], int], Callable[[str], None]]


def clients(endpoint: str, keys: list[str], bodies: list[bytes]) -> dict[str, Client]:
    """name -> (get one range of the big object into an fd at its offset, get every
    small object, put every body under a prefix)."""
    import obstore
    import urllib3
    from obstore.store import S3Store

    from zoo_repo.remote.s3 import get, put, sign

    def presigned(paths: list[str], method: str = "GET") -> list[str]:
        return sign.presign_many(endpoint, REGION, seaweed.ACCESS_KEY, seaweed.SECRET_KEY, None, method,
                                 [f"{BUCKET}/{p}" for p in paths], {})

    def putting(send: Callable[[str, bytes], object]) -> Callable[[str], None]:
        def run(prefix: str) -> None:
            urls = presigned([f"{prefix}/{i:04d}" for i in range(len(bodies))], "PUT")
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(send, urls, bodies))
        return run

    def pooled(fetch: Callable[[str], bytes]) -> Callable[[], int]:
        def run() -> int:
            with ThreadPoolExecutor(THREADS) as pool:
                return sum(map(len, pool.map(fetch, presigned(keys))))
        return run

    def zoo_range(fd: int, start: int, end: int) -> None:
        os.pwrite(fd, get.fetch(presigned(["big"])[0], start, end), start)

    http = urllib3.PoolManager(maxsize=THREADS, retries=False)

    def urllib3_range(fd: int, start: int, end: int) -> None:
        reply = http.request("GET", presigned(["big"])[0], headers={"Range": f"bytes={start}-{end - 1}"})
        os.pwrite(fd, reply.data, start)

    store = S3Store(BUCKET, endpoint=endpoint, region=REGION, access_key_id=seaweed.ACCESS_KEY,
                    secret_access_key=seaweed.SECRET_KEY, client_options={"allow_http": True})

    def obstore_range(fd: int, start: int, end: int) -> None:
        os.pwrite(fd, obstore.get_range(store, "big", start=start, end=end), start)

    def obstore_small() -> int:
        with ThreadPoolExecutor(THREADS) as pool:
            return sum(pool.map(lambda k: len(obstore.get(store, k).bytes()), keys))

    def obstore_put(prefix: str) -> None:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda i: obstore.put(store, f"{prefix}/{i:04d}", bodies[i]), range(len(bodies))))

    def urllib3_put(url: str, body: bytes) -> None:
        if http.request("PUT", url, body=body).status != 200:
            raise OSError(f"PUT {url}")

    return {
        "zoo (presigned, pooled http.client)": (zoo_range, pooled(get.fetch), putting(put.Sender().put)),
        "urllib3 (same URLs, its pool)": (urllib3_range, pooled(lambda url: http.request("GET", url).data),
                                          putting(urllib3_put)),
        "obstore 0.12 (S3Store)": (obstore_range, obstore_small, obstore_put),
    }


Sample = tuple[float, float, float]  # wall, client CPU, server CPU (seconds)


def measure(server_pid: int, work: Callable[[], object]) -> tuple[Sample, object]:
    """The seconds ``work()`` took, and what it returned."""
    os.sync()
    s0, c0, t = cpu_of(server_pid), os.times(), time.perf_counter()
    result = work()
    c1 = os.times()
    return (time.perf_counter() - t, c1.user - c0.user + c1.system - c0.system, cpu_of(server_pid) - s0), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "zoo-http-clients")
    args = parser.parse_args()
    from obstore.store import S3Store

    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    server = seaweed.start(work / "seaweed")
    try:
        import botocore.session

        botocore.session.Session().create_client(
            "s3", endpoint_url=server.endpoint, region_name=REGION, aws_access_key_id=seaweed.ACCESS_KEY,
            aws_secret_access_key=seaweed.SECRET_KEY).create_bucket(Bucket=BUCKET)
        keys = fill(S3Store(BUCKET, endpoint=server.endpoint, region=REGION, access_key_id=seaweed.ACCESS_KEY,
                            secret_access_key=seaweed.SECRET_KEY, client_options={"allow_http": True}), work)
        bodies = [os.urandom(SMALL_SIZE) for _ in range(SMALL_COUNT)]
        ranges = [(start, min(start + PART, BIG)) for start in range(0, BIG, PART)]
        rows: dict[str, list[Sample]] = {}
        for rep in range(args.reps):
            named = list(clients(server.endpoint, keys, bodies).items())
            # Each repetition starts with another client: the server's cost per request
            # drifts over a run (its volumes grow), which a fixed order would pin on one.
            named = named[rep % len(named):] + named[:rep % len(named)]
            for n, (name, (get_range, get_small, put_small)) in enumerate(named):
                out = work / f"out-{rep}-{n}"
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                try:
                    def big(fd: int = fd, get_range: Callable[[int, int, int], None] = get_range) -> None:
                        with ThreadPoolExecutor(THREADS) as pool:
                            list(pool.map(lambda r: get_range(fd, *r), ranges))
                    sample = measure(server.process.pid, big)[0]
                    rows.setdefault(f"1 GiB GET, 16 MiB ranges | {name}", []).append(sample)
                finally:
                    os.close(fd)
                if out.stat().st_size != BIG:
                    sys.exit(f"{name}: wrote {out.stat().st_size} bytes of {BIG}")
                out.unlink()
                sample, got = measure(server.process.pid, get_small)
                if got != SMALL_COUNT * SMALL_SIZE:
                    sys.exit(f"{name}: read {got} bytes of {SMALL_COUNT * SMALL_SIZE}")
                rows.setdefault(f"2,000 × 32 KiB GET | {name}", []).append(sample)
                prefix = f"put/{rep}/{n}"
                rows.setdefault(f"2,000 × 32 KiB PUT | {name}", []).append(
                    measure(server.process.pid, functools.partial(put_small, prefix))[0])
        print(f"{args.reps} repetitions (each starting with another client), medians; "
              f"{THREADS} threads in one process\n")
        print("| case | client | wall s | client CPU s | server CPU s |\n| --- | --- | --- | --- | --- |")
        for label, samples in sorted(rows.items(), key=lambda kv: kv[0].split(" | ")[0]):
            wall, mine, theirs = (statistics.median(s[i] for s in samples) for i in range(3))
            print(f"| {label} | {wall:.2f} | {mine:.2f} | {theirs:.2f} |")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
