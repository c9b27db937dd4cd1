"""Crash consistency: zoo publish, push and pull killed with SIGKILL at random moments.

After every kill: a rerun succeeds, `zoo verify` and `zoo check` pass, no file
under a final name in the store, at --dest or on the remote is partial, and
every version published before is still there, whole. Seeds are printed so a
failing trial can be replayed.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import STUB, clone
from zoo_repo import Zoo
from zoo_repo.review.check import check

TRIALS = 24


def zoo_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "zoo_repo", *args]


def run_killed(cmd: list[str], delay: float) -> int | None:
    """Start ``cmd``, SIGKILL it after ``delay`` seconds; its return code if it finished first."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
        return proc.returncode
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def object_is_whole(path: Path) -> bool:
    name = path.parent.name + path.name
    return hashlib.md5(path.read_bytes()).hexdigest() == name.removesuffix(".dir")


def assert_consistent(zoo: Zoo, remote: Path, dests: dict[Path, int], published: dict[int, str]) -> None:
    report = zoo.verify()
    assert report.ok, report.problems
    assert check(zoo).ok, check(zoo).problems
    for path in (remote / "files" / "md5").rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            assert object_is_whole(path), f"partial object under its final name on the remote: {path}"
    for version, digest in published.items():  # nothing published before is lost
        assert zoo.digest(STUB, version) == digest
    for dest, version in dests.items():
        expected = {f.path: f.sha256 for f in zoo.manifest(STUB, version).files}
        for path in dest.rglob("*"):
            if path.is_file():
                rel = path.relative_to(dest).as_posix()
                assert not path.name.startswith("."), f"temp file left at --dest: {rel}"
                assert hashlib.sha256(path.read_bytes()).hexdigest() == expected[rel], f"partial file at --dest: {rel}"


def test_sigkill_at_random_moments(zoo: Zoo, model_dir: Path, remote_dir: Path, tmp_path: Path) -> None:
    (model_dir / "numpy" / "weights.bin").write_bytes(os.urandom(48 << 20))  # a window to be killed in
    zoo.publish(model_dir, STUB)
    published = {1: zoo.digest(STUB, 1)}
    consumer = clone(zoo, tmp_path / "consumer")
    master_seed = int(os.environ.get("ZOO_CRASH_SEED", time.time_ns() % 1_000_000))
    print(f"crash trials: ZOO_CRASH_SEED={master_seed}")
    outcomes: list[tuple[int, str, float, str]] = []
    dests: dict[Path, int] = {}
    spans = {"publish": 1.5, "push": 1.0, "pull": 1.0}
    for trial in range(TRIALS):
        seed = master_seed * 1000 + trial
        rng = random.Random(seed)
        op = ("publish", "push", "pull")[trial % 3]
        # Aim inside the run: its length was measured on this machine.
        delay = rng.uniform(0.2, 0.97) * spans[op]
        dest = tmp_path / f"dest{trial}"
        if op == "publish":
            (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(f"trial {trial}".encode())
            (model_dir / "numpy" / "weights.bin").write_bytes(rng.randbytes(48 << 20))
            cmd = zoo_cmd("--zoo", str(zoo.root), "publish", str(model_dir), "--stub", STUB)
        elif op == "push":
            victims = sorted(p for p in (remote_dir / "files" / "md5").rglob("*") if p.is_file())
            big = [p for p in victims if p.stat().st_size > (1 << 20)]
            for victim in rng.sample(victims, k=min(3, len(victims))) + big:
                victim.unlink(missing_ok=True)  # objects lost on the remote: push --full must restore them
            # (A plain push asks only about versions changed since the commit the remote lists.)
            cmd = zoo_cmd("--zoo", str(zoo.root), "push", "--full")
        else:
            subprocess.run(["git", "-C", str(consumer.root), "pull", "-q"], check=True)
            if consumer.store.root.joinpath("files").exists():
                shutil.rmtree(consumer.store.root / "files")
            cmd = zoo_cmd("--zoo", str(consumer.root), "pull", STUB, "--dest", str(dest))
        started = time.monotonic()
        code = run_killed(cmd, delay)
        if code is not None:  # it beat the kill: aim earlier next time
            spans[op] = min(spans[op], time.monotonic() - started)
        outcome = f"finished (exit {code})" if code is not None else "killed"
        print(f"trial {trial}: seed={seed} op={op} delay={delay:.2f}s {outcome}")
        outcomes.append((trial, op, delay, outcome))

        rerun = subprocess.run(cmd, capture_output=True, text=True)
        assert rerun.returncode == 0, f"seed {seed}: rerun of {op} failed: {rerun.stderr}"
        if op == "publish":
            for version in zoo.versions(STUB):
                published.setdefault(version, zoo.digest(STUB, version))
        if op == "pull":
            dests[dest] = consumer.resolve(STUB).version
        assert_consistent(zoo, remote_dir, {}, published)
        assert_consistent(consumer, remote_dir, dests, {})
        status = subprocess.run(["git", "-C", str(zoo.root), "status", "--porcelain"], capture_output=True, text=True)
        assert status.stdout == "", f"seed {seed}: uncommitted state after the rerun: {status.stdout}"
    killed = [o for o in outcomes if o[3] == "killed"]
    print(f"{len(outcomes)} trials, {len(killed)} killed mid-way, {len(published)} versions, nothing lost")
    assert len(killed) >= TRIALS // 2  # the test must really interrupt things
