"""Running the real ``zoo`` process under watch: its exit status and output, how
long it took and the most memory it held (``os.wait4``'s rusage of that one
child, not of every child the test run ever had), killed if it outlives a
generous deadline. What every hostile or faulty case then asserts lives here once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Generous on purpose: a case that goes wrong reads /dev/zero for ever or fills
# memory, which these catch at once; they are not a benchmark.
DEADLINE = 120.0  # seconds before the process is killed (and the case fails)
MAX_SECONDS = 60.0
MAX_RSS_MIB = 600.0


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str
    seconds: float
    rss_mib: float
    killed: bool


def run_watched(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None,
                deadline: float = DEADLINE, prefix: Sequence[str] = (),
                preexec: Callable[[], None] | None = None) -> Ran:
    """``zoo ARGS`` as a user runs it (``prefix`` goes before the interpreter, e.g. setpriv)."""
    cmd = [*prefix, sys.executable, "-m", "zoo_repo", *[str(a) for a in args]]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=out, stderr=err,
                                preexec_fn=preexec, start_new_session=True)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            os.killpg(proc.pid, 9)

        timer = threading.Timer(deadline, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Ran(proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                   seconds, usage.ru_maxrss / 1024, killed.is_set())


def assert_bounded(ran: Ran, max_seconds: float = MAX_SECONDS) -> None:
    assert not ran.killed, f"killed after {DEADLINE:.0f}s: {ran.stderr[-2000:]}"
    assert ran.seconds < max_seconds, f"took {ran.seconds:.1f}s: {ran.stderr[-2000:]}"
    assert ran.rss_mib < MAX_RSS_MIB, f"held {ran.rss_mib:.0f} MiB"


def assert_one_line(ran: Ran, codes: tuple[int, ...], fragment: str, max_seconds: float = MAX_SECONDS) -> str:
    """Refused as users are told: one ``Error:`` line (and Hint: lines), no traceback, in bounded time and memory."""
    assert_bounded(ran, max_seconds)
    assert ran.code in codes, (ran.code, ran.stdout[-2000:], ran.stderr[-2000:])
    assert "Traceback" not in ran.stderr, ran.stderr
    lines = [line for line in ran.stderr.splitlines() if line.strip() and not line.startswith("Hint: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), ran.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


def assert_nothing_at(dest: Path) -> None:
    """A refused pull leaves no file at its destination (folders it made are gone too)."""
    found = [p for p in dest.rglob("*") if not p.is_dir()] if dest.is_dir() else []
    assert not found, found


def tree_digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
