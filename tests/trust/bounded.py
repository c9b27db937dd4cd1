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
from collections.abc import Sequence
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


# The process that runs zoo is forked from this small interpreter, not from the
# test run: a child forked from a large pytest process starts with its resident
# pages (and Linux carries that high-water mark across exec), so its peak RSS
# would be the test run's. Limits are set here too, in a fresh process, not in a
# preexec hook running inside the forked test run.
_TRAMPOLINE = """
import os, resource, signal, sys
report, fsize, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
if fsize >= 0:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # stays ignored across exec: a write past it fails (EFBIG)
    hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, hard))  # the soft limit: this process lifts it again
pid = os.fork()
if pid == 0:
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
if fsize >= 0:
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # to write the report
with open(report, "w") as fh:
    fh.write(str(usage.ru_maxrss))
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_watched(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None,
                deadline: float = DEADLINE, prefix: Sequence[str] = (), file_size_limit: int | None = None) -> Ran:
    """``zoo ARGS`` as a user runs it (``prefix`` goes before the interpreter, e.g.
    setpriv); ``file_size_limit``: RLIMIT_FSIZE in bytes, for a disk that refuses writes."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as report:
        cmd = [*prefix, sys.executable, "-c", _TRAMPOLINE, report.name,
               str(-1 if file_size_limit is None else file_size_limit),
               sys.executable, "-m", "zoo_repo", *[str(a) for a in args]]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=out, stderr=err,
                                start_new_session=True)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            os.killpg(proc.pid, 9)

        timer = threading.Timer(deadline, kill)
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        rss_kib = report.read().strip()
        return Ran(proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                   seconds, int(rss_kib) / 1024 if rss_kib else 0.0, killed.is_set())


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
