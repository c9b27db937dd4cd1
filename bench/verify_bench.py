"""What verifying objects before handing them out costs a pull: one 1 GiB model
from a local-directory remote, timed with two checkouts of zoo side by side.

    python bench/verify_bench.py --old /tmp/zoo-old --new . [--size-mib 1024] [--reps 3]

``--old`` and ``--new`` are source trees of zoo_repo (put first on PYTHONPATH
of each measured process). For each, the model is published once into a fresh
zoo (old and new write the same objects), then, per repetition (old and new
interleaved, alternating which goes first), in a fresh ``git clone``:

  fresh      ``zoo pull STUB --dest A`` with an empty store (download, verify, place)
  no-op      the same pull again (every destination file already in place)
  warm       ``zoo pull STUB --dest B``: store full, a second destination (copy)
  hardlink   ``zoo pull STUB --dest C --link hardlink``
  unstamped  (new only) ``warm`` after the store's stamps were deleted: every
             object is hashed again before it is handed out

Wall time of each whole process (start-up included), median of the repetitions,
after ``sync`` so no process pays for another's writeback.
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

STUB = "cv/classification/mlp-784_64/numpy/zoo_demo/synthetic_digits/base-none"


def _env(work: Path, src: Path) -> dict[str, str]:
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n"
                                     "[init]\n\tdefaultBranch = main\n")
    return {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1", "XDG_CACHE_HOME": str(home / "cache"), "DVC_NO_ANALYTICS": "1",
            "PYTHONPATH": str(src.resolve())}


def _zoo(env: dict[str, str], *args: str | Path) -> float:
    subprocess.run(["sync"], check=True)
    start = time.perf_counter()
    # cwd: `python -m` puts it first on sys.path, ahead of PYTHONPATH: never a source tree.
    subprocess.run([sys.executable, "-m", "zoo_repo", *map(str, args)], env=env, cwd=env["HOME"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _model(base: Path, size_mib: int) -> Path:
    """The demo model with a large framework file of random (incompressible) bytes."""
    done = base / "model"
    if (done / "pytorch" / "model.pth").exists() and (done / "pytorch" / "model.pth").stat().st_size == size_mib << 20:
        return done
    from zoo_repo.ops.demo import build_model_dir

    shutil.rmtree(done, ignore_errors=True)
    build_model_dir(done, STUB)
    (done / "pytorch").mkdir(exist_ok=True)
    with open(done / "pytorch" / "model.pth", "wb") as fh:
        for _ in range(size_mib):
            fh.write(os.urandom(1 << 20))
    return done


def setup(label: str, src: Path, work: Path, model: Path) -> tuple[dict[str, str], Path, Path]:
    """A zoo with the model published, by this source tree."""
    work = work / label
    shutil.rmtree(work, ignore_errors=True)
    env = _env(work, src)
    origin = work / "origin"
    _zoo(env, "init", origin, "--remote", work / "remote")
    _zoo(env, "--zoo", origin, "publish", model, "--stub", STUB)
    return env, work, origin


def repetition(env: dict[str, str], work: Path, origin: Path, rep: int, times: dict[str, list[float]]) -> None:
    clone = work / f"clone{rep}"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, env=env)
    z = ("--zoo", clone, "pull", STUB)
    times.setdefault("fresh", []).append(_zoo(env, *z, "--dest", work / f"a{rep}"))
    times.setdefault("no-op", []).append(_zoo(env, *z, "--dest", work / f"a{rep}"))
    times.setdefault("warm", []).append(_zoo(env, *z, "--dest", work / f"b{rep}"))
    times.setdefault("hardlink", []).append(_zoo(env, *z, "--dest", work / f"c{rep}", "--link", "hardlink"))
    stamps = list((clone / "store").glob(".zoo-stamps.sqlite*"))
    if stamps:
        for path in stamps:
            path.unlink()
        times.setdefault("unstamped", []).append(_zoo(env, *z, "--dest", work / f"d{rep}"))
    for leftover in (clone, work / f"a{rep}", work / f"b{rep}", work / f"c{rep}", work / f"d{rep}"):
        shutil.rmtree(leftover, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument("--new", type=Path, required=True)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "zoo-verify-bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    model = _model(args.workdir, args.size_mib)
    zoos = {label: setup(label, src, args.workdir, model) for label, src in (("old", args.old), ("new", args.new))}
    results: dict[str, dict[str, list[float]]] = {label: {} for label in zoos}
    for rep in range(args.reps):  # interleaved: a machine that slows down mid-run charges both alike
        for label in (("old", "new") if rep % 2 == 0 else ("new", "old")):
            repetition(*zoos[label], rep, results[label])
    for _, work, _ in zoos.values():
        shutil.rmtree(work, ignore_errors=True)
    print(f"pull of a {args.size_mib} MiB model from a directory remote, median (min-max) of {args.reps}, seconds")
    print(f"{'case':<10} {'old':>18} {'new':>18}")
    for case in ("fresh", "no-op", "warm", "hardlink", "unstamped"):
        cells = [f"{statistics.median(r[case]):6.2f} ({min(r[case]):.2f}-{max(r[case]):.2f})" if case in r
                 else "-" for r in results.values()]
        print(f"{case:<10} {cells[0]:>18} {cells[1]:>18}")


if __name__ == "__main__":
    main()
