"""``zoo check``'s worker processes: large zoos spread their parsing over CPUs.

Parsing YAML is most of a check's cost. Past ``PARALLEL_MIN`` items a job is
cut into interleaved shares, each run by a fresh interpreter that reads its
share as JSON on stdin and writes the result as JSON on stdout (manifests as
their plain data, checked against the schema again on arrival). Nothing is
unpickled: a worker's output is built from what a pull request contains, and
the worker starts outside the checkout (its own package first on the path, the
working directory elsewhere), so a ``zoo_repo/`` committed to the zoo is
never imported. A job is one of two kinds, run by the same code here or in a worker:

    versions   the per-version rules (``scan.check_chunk``)
    objects    the objects named by manifests read from git (``history.objects_in_blobs``)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from zoo_repo.core.manifest import Manifest, manifest_from_doc
from zoo_repo.review.advice import Settings
from zoo_repo.review.history import objects_in_blobs
from zoo_repo.review.rules import Problem
from zoo_repo.review.scan import Advice, Outcome, Task, check_chunk

# Past this many items, spread a job over worker processes (one costs ~0.2 s
# to start, a manifest ~0.5 ms to parse).
PARALLEL_MIN = 2000


def check_versions(root: Path, tasks: Iterable[Task], keep: frozenset[str] | None, jobs: int | None,
                   advice: Advice | None = None) -> Outcome:
    """``scan.check_chunk`` over all ``tasks``, spread over workers when there are many."""
    ordered: dict[frozenset[str], list[str]] = {}  # one list per distinct set of names, shared
    items = [[stub, number, rel, ordered.setdefault(names, sorted(names))] for stub, number, rel, names in tasks]
    contents: dict[str, bytes] = {}
    manifests: dict[str, Manifest] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    arg = {"keep": None if keep is None else sorted(keep),
           "advice": None if advice is None else
           [advice[0].to_doc(), None if advice[1] is None else sorted(advice[1])]}
    for digests, found, trouble, warned in _spread("versions", root, items, arg, jobs):
        contents.update(digests)
        manifests.update(found)
        problems.extend(trouble)
        warnings.extend(warned)
    return contents, manifests, problems, warnings


def manifest_objects(root: Path, items: list[list[str]], jobs: int | None) -> set[str]:
    """``history.objects_in_blobs`` over all ``items``, spread over workers when there are many."""
    found: set[str] = set()
    for part in _spread("objects", root, items, None, jobs):
        found.update(part)
    return found


def _workers(jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    try:
        return min(8, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return min(8, os.cpu_count() or 1)


def _run_job(job: dict[str, Any]) -> Any:
    """One share of the work; the same code in this process or in a worker."""
    if job["kind"] == "versions":
        tasks = [(stub, number, rel, frozenset(names)) for stub, number, rel, names in job["items"]]
        keep, advice = job["arg"]["keep"], job["arg"]["advice"]
        return check_chunk(job["root"], tasks, None if keep is None else frozenset(keep),
                           None if advice is None else
                           (Settings.from_doc(advice[0]), None if advice[1] is None else frozenset(advice[1])))
    if job["kind"] == "objects":
        return objects_in_blobs(job["root"], job["items"])
    raise ValueError(f"unknown job kind {job['kind']!r}")


def _encode(kind: str, result: Any) -> Any:
    """A job's result as JSON-able data."""
    if kind == "versions":
        digests, manifests, problems, warnings = result
        return {"digests": {rel: d.hex() for rel, d in digests.items()},
                "manifests": {rel: m.to_dict() for rel, m in manifests.items()},
                "problems": [[p.path, p.rule, p.message] for p in problems],
                "warnings": [[p.path, p.rule, p.message] for p in warnings]}
    return sorted(result)


def _decode(kind: str, data: Any) -> Any:
    """The result ``_encode`` wrote, rebuilt (and manifests checked) in this process."""
    if kind == "versions":
        return ({rel: bytes.fromhex(d) for rel, d in data["digests"].items()},
                {rel: manifest_from_doc(doc, rel) for rel, doc in data["manifests"].items()},
                [Problem(*p) for p in data["problems"]], [Problem(*p) for p in data["warnings"]])
    return set(data)


def _spread(kind: str, root: Path, items: list[Any], arg: Any, jobs: int | None) -> list[Any]:
    """Run job ``kind`` over ``items``: here when few, else in shares over worker processes."""
    workers = min(_workers(jobs), len(items))
    if workers <= 1 or not sys.executable or (jobs is None and len(items) < PARALLEL_MIN):
        return [_run_job({"kind": kind, "root": str(root), "items": items, "arg": arg})]
    # Interleaved, so every worker gets a share of the large and the small stubs.
    jobs_ = [{"kind": kind, "root": str(root), "items": items[i::workers], "arg": arg} for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:  # threads only wait on the workers' pipes
        return list(pool.map(_run_worker, jobs_))


# A fresh interpreter that imports only zoo_repo. multiprocessing's "spawn"
# would re-run the caller's __main__ (breaking scripts without a main guard,
# and stdin or notebook callers); "fork" is unsafe in a process with threads.
# ``-I`` keeps the working directory (and PYTHON* variables) off the path; the
# worker gets exactly this process's import path instead, minus the working
# directory: a pull request can put ``yaml.py`` or ``zoo_repo/`` at the root of
# the checkout that CI runs the gate in.
_WORKER = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
           "from zoo_repo.review.workers import worker_main; worker_main()")


# The directory holding the zoo_repo package this process runs.
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]


def _import_path() -> list[str]:
    cwd = os.getcwd()
    path = [p for p in sys.path if p and os.path.abspath(p) != cwd]
    return [str(_PACKAGE_PARENT), *path]


def _run_worker(job: dict[str, Any]) -> Any:
    proc = subprocess.run([sys.executable, "-I", "-c", _WORKER, json.dumps(_import_path())],
                          input=json.dumps(job).encode(), cwd=_PACKAGE_PARENT, capture_output=True, check=False)
    if proc.returncode != 0:
        # Not a user error: the worker runs this module's own code.
        raise RuntimeError(f"check worker failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    try:
        return _decode(job["kind"], json.loads(proc.stdout))
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"check worker sent a result that does not parse: {exc}") from exc


def worker_main() -> None:
    """Entry point of a worker process: a job as JSON on stdin, its result as JSON on stdout."""
    job = json.load(sys.stdin)
    json.dump(_encode(job["kind"], _run_job(job)), sys.stdout, separators=(",", ":"))
