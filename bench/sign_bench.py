"""What signatures cost: publish with and without ``--sign-key``, and git-less pulls,
cold and no-op, with and without pinned signers (``zoo trust add``), as whole
``zoo`` processes on one directory remote, median of N runs.

    .venv/bin/python bench/sign_bench.py            # the demo model, 1,000 and 5,000 small files
    .venv/bin/python bench/sign_bench.py --quick    # the demo model and 1,000 files, 3 runs

Verifying is one ECDSA check per signature plus comparing the signed statement
with the manifest (no model file is read), so its cost follows the number of
files, not their size; the files here are small on purpose.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.keys import make_keys  # noqa: E402
from zoo_repo.ops.demo import STUB_BASE, build_model_dir  # noqa: E402


def run(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "zoo_repo", *args], env=env, cwd=cwd, capture_output=True,
                          text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"zoo {' '.join(args)} failed:\n{done.stderr}")
    return took


def small_files(dest: Path, n: int) -> Path:
    """The demo model plus ``n`` small files (other role): many files, little data."""
    build_model_dir(dest, STUB_BASE)
    extra = dest / "extra"
    extra.mkdir()
    for i in range(n):
        (extra / f"f{i:05d}.bin").write_bytes(os.urandom(256))
    return dest


def env_for(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n")
    return {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1", "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_CONFIG_HOME": str(home / "config"), "DVC_NO_ANALYTICS": "1"}


# Run in a fresh process: what judging one version costs inside a pull, by part.
_IN_PROCESS = r"""
import sys, time
from pathlib import Path
t = time.perf_counter()
import cryptography.hazmat.primitives.asymmetric.ec, cryptography.hazmat.primitives.serialization
t_import = time.perf_counter() - t
from zoo_repo import Zoo
from zoo_repo.ops.trusting import require
url, pub, stub, cache = sys.argv[1:5]
zoo = Zoo.open(url, cache_dir=Path(cache), trust={"alice": pub})
manifest = zoo.resolve(stub)
zoo.signature_files(manifest.stub, manifest.version)  # the remote's listing and GETs, not measured here
t = time.perf_counter(); require(zoo, manifest); t_cold = time.perf_counter() - t
t = time.perf_counter(); require(zoo, manifest); t_warm = time.perf_counter() - t
print(t_import, t_cold, t_warm)
"""


def in_process(url: str, pub: Path, cache: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(cryptography import, first judgement, remembered judgement), seconds."""
    done = subprocess.run([sys.executable, "-c", _IN_PROCESS, url, str(pub), STUB_BASE, str(cache)], env=env,
                          capture_output=True, text=True, check=True, cwd=ROOT)
    a, b, c = (float(x) for x in done.stdout.split())
    return a, b, c


def case(work: Path, name: str, model: Path, reps: int) -> dict[str, float]:
    base = work / name
    keys = {who: make_keys(base / "keys" / who) for who in ("alice", "bob")}
    env = env_for(base / "publisher")
    remote = base / "remote"
    times: dict[str, list[float]] = {k: [] for k in ("publish", "publish --sign-key", "cold", "cold pinned",
                                                      "no-op", "no-op pinned", "import", "judge", "remembered")}
    for i in range(reps):
        for signed in (False, True):
            zoo = base / f"zoo-{i}-{signed}"
            run(["init", str(zoo), "--remote", str(base / f"r-{i}-{signed}")], env, base)
            extra = ["--sign-key", str(keys["bob"].private)] if signed else []
            times["publish --sign-key" if signed else "publish"].append(
                run(["publish", str(model), "--stub", STUB_BASE, "--no-run", *extra], env, zoo))
    zoo = base / "zoo"
    run(["init", str(zoo), "--remote", str(remote)], env, base)
    run(["publish", str(model), "--stub", STUB_BASE, "--no-run", "--sign-key", str(keys["bob"].private)], env, zoo)
    run(["approve", f"{STUB_BASE}@v1", "--key", str(keys["alice"].private)], env, zoo)
    url = remote.as_uri()
    for i in range(reps):
        for pinned in (False, True):
            consumer = env_for(base / f"consumer-{i}-{pinned}")
            if pinned:
                run(["trust", "add", "alice", str(keys["alice"].public), "--remote", url], consumer, base)
            out = base / f"out-{i}-{pinned}"
            label = " pinned" if pinned else ""
            times["cold" + label].append(run(["pull", STUB_BASE, "--remote", url, "--dest", str(out)], consumer, base))
            times["no-op" + label].append(run(["pull", STUB_BASE, "--remote", url, "--dest", str(out)], consumer,
                                              base))
        parts = in_process(url, keys["alice"].public, base / f"judge-cache-{i}", env_for(base / f"judge-{i}"))
        for key, value in zip(("import", "judge", "remembered"), parts, strict=True):
            times[key].append(value)
    shutil.rmtree(base, ignore_errors=True)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int)
    args = parser.parse_args()
    reps = args.reps or (3 if args.quick else 5)
    sizes = (1000,) if args.quick else (1000, 5000)
    work = Path(tempfile.mkdtemp(prefix="zoo-sign-bench-"))
    models = {"demo (17 files)": build_model_dir(work / "models" / "demo", STUB_BASE).path}
    for n in sizes:
        models[f"{n + 17:,} files"] = small_files(work / "models" / f"n{n}", n)
    print(f"median of {reps} whole `zoo` processes, seconds; directory remote at {work}")
    print("| model | publish | publish --sign-key | cold pull | cold pull, pinned | no-op pull | no-op, pinned "
          "| in a pull: import cryptography | judge (verify + compare) | remembered verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, model in models.items():
        t = case(work, f"case{len(name)}-{name.split()[0].replace(',', '')}", Path(model), reps)
        print(f"| {name} | {t['publish']:.3f} | {t['publish --sign-key']:.3f} | {t['cold']:.3f} | "
              f"{t['cold pinned']:.3f} | {t['no-op']:.3f} | {t['no-op pinned']:.3f} | "
              f"{t['import'] * 1e3:.1f} ms | {t['judge'] * 1e3:.1f} ms | {t['remembered'] * 1e3:.2f} ms |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
