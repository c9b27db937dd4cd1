"""Fabricate a remote listing N versions, then time git-less consumers and a publish on it.

A real zoo publishes one small demo model to a local-directory remote; then
N fabricated versions (``gen_zoo``'s, N / per-stub stubs) join the remote's
projection as one more move, each stub's latest manifest written beside it
(what ``zoo list --remote`` reads), and the view is written in the form
asked for: ``old`` (one ``zoo/index.json``, as zoo wrote before sharding) or
``sharded`` (``zoo/index/top.json`` and its shards, the move and the shards
carrying each stub's brief of its latest version, as a publisher writes them;
``--bare``: without, as zoo wrote them before briefs, so a listing reads the
manifests). Timed, each as its own
process with a fresh cache (cold) and again (warm): ``zoo list --remote``,
``zoo pull --remote`` of the small model, and ``zoo publish`` of its next
version (whose cost beyond an empty remote's is the index update).

    python bench/gen_remote.py /tmp/remote-100k --versions 100000 --form sharded
    python bench/gen_remote.py /tmp/remote-quick --quick
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import gen_zoo

from zoo_repo import Zoo
from zoo_repo.core.projection import Move, render_move, render_view
from zoo_repo.ops.demo import STUB_BASE, build_model_dir
from zoo_repo.remote import meta, open_remote


def _put_version(root: Path, stub_index: int, version: int, templates: gen_zoo._Templates | None = None,
                 briefs: dict[str, Any] | None = None) -> str:
    """A fabricated version's manifest and card on the remote; its manifest digest.
    ``briefs``: where to put the brief a publisher's move carries of it (``core.brief``)."""
    files = (templates or gen_zoo._Templates()).render(stub_index, version)
    vdir = root / "remote" / meta.PREFIX / "manifests" / gen_zoo._stub_text(stub_index) / f"v{version}"
    vdir.mkdir(parents=True, exist_ok=True)
    (vdir / "manifest.yaml").write_bytes(files["manifest.yaml"])
    (vdir / "model.md").write_bytes(files["model.md"])
    digest = "sha256:" + hashlib.sha256(files["manifest.yaml"]).hexdigest()
    if briefs is not None:
        from zoo_repo.core import brief
        from zoo_repo.core.manifest import parse_manifest

        made = brief.of_manifest(parse_manifest(files["manifest.yaml"].decode("utf-8")), digest)
        if made is not None:
            briefs[gen_zoo._stub_text(stub_index)] = made
    return digest


def generate(root: Path, versions: int, per_stub: int, form: str, bare: bool = False) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    zoo = Zoo.init(root / "zoo", str(root / "remote"))
    build_model_dir(root / "model")
    zoo.publish(root / "model", STUB_BASE)
    remote = open_remote(str(root / "remote"))
    view = meta.read_view(remote)
    templates = gen_zoo._Templates()
    added: dict[str, dict[str, str]] = {}
    # Briefs only where a zoo that writes them would (sharded): the old form predates them.
    briefs: dict[str, Any] | None = {} if form == "sharded" and not bare else None
    for i in range(versions):
        stub_index, version = i // per_stub, i % per_stub + 1
        stub = gen_zoo._stub_text(stub_index)
        if version == per_stub or i == versions - 1:  # the latest: what a listing reads
            digest = _put_version(root, stub_index, version, templates, briefs)
        else:
            digest = "sha256:" + hashlib.sha256(templates.render(stub_index, version)["manifest.yaml"]).hexdigest()
        added.setdefault(stub, {})[f"v{version}"] = digest
    assert view.commit and view.branch
    move = Move(view.seq + 1, view.commit, view.branch, added, latest=briefs or {})  # same commit: git is as it was
    if form == "old":
        from zoo_repo.core.projection import apply

        remote.create_text(meta.move_key(move.seq), render_move(move))
        for stale in ("index",):  # a remote written before sharding has no top
            shutil.rmtree(root / "remote" / meta.PREFIX / stale, ignore_errors=True)
        remote.put_text(meta.INDEX, render_view(apply(view, move)))
    else:
        from zoo_repo.remote import index

        state = index.read_state(remote, writing=True)
        if meta.write_move(remote, state, move) is None:
            raise SystemExit("the log moved meanwhile")


_TIMEOUT = 200


def _run(cwd: Path, cache: Path, args: list[str]) -> tuple[float, float, int, str]:
    """``zoo ARGS`` as its own process under GNU time: (seconds, peak RSS MiB, exit, last line)."""
    env = {**os.environ, "ZOO_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    # Its own session, so that a command past the timeout goes with GNU time, not beside it.
    with subprocess.Popen(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "zoo_repo", *args], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True) as proc:
        try:
            out, err_text = proc.communicate(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return time.perf_counter() - started, 0.0, -1, f"killed after {_TIMEOUT} s"
    seconds = time.perf_counter() - started
    err = err_text.strip().splitlines()
    rss = int(err[-1]) / 1024 if err and err[-1].isdigit() else 0.0
    lines = (out.strip() or "\n".join(err[:-1])).splitlines()
    return seconds, rss, proc.returncode, lines[-1][:90] if lines else ""


def time_commands(root: Path) -> None:
    url = (root / "remote").as_uri()
    work = root / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    index_bytes = sum(p.stat().st_size for p in (root / "remote" / meta.PREFIX).rglob("*.json")
                      if "projection" not in p.parts)
    rows = []
    for label, args, cache in (
            ("list --remote (cold cache)", ["list", "--remote", url], "c1"),
            ("list --remote (warm)", ["list", "--remote", url], "c1"),
            ("list --remote --json (warm)", ["list", "--remote", url, "--json"], "c1"),
            ("pull --remote small model (cold cache)", ["pull", "--remote", url, STUB_BASE, "--dest", "d1"], "c2"),
            ("pull --remote small model (warm)", ["pull", "--remote", url, STUB_BASE, "--dest", "d2"], "c2"),
            ("versions --remote small model (fresh cache)", ["versions", "--remote", url, STUB_BASE], "c3")):
        seconds, rss, rc, line = _run(work, work / cache, args)
        rows.append((label, seconds, rss, rc, line if rc else ""))
        print(f"  {label}: {seconds:.2f}s", file=sys.stderr)
    (root / "model" / "extra.txt").write_text(f"{time.time()}\n")  # a new version on every run
    seconds, rss, rc, line = _run(root / "zoo", work / "c4", ["publish", str(root / "model"), "--stub", STUB_BASE])
    rows.append(("publish next version of small model", seconds, rss, rc, line if rc else ""))
    print(f"\nindex files (top, shards or index.json): {index_bytes / 1e6:.1f} MB")
    print("\n| command | s | peak RSS MiB | exit | says |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, seconds, rss, rc, line in rows:
        print(f"| `zoo {label}` | {seconds:.2f} | {rss:.0f} | {rc} | {line.replace('|', '/')} |")
    print(f"\nload: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def time_index(root: Path, repeat: int = 3) -> None:
    """The index alone, in this process (best of ``repeat``): what a reader of one stub,
    a full listing and a writer of one version pay, against the one-file form's costs."""
    from zoo_repo.core.projection import parse_view
    from zoo_repo.remote import index

    remote = open_remote(str(root / "remote"))
    one = gen_zoo._stub_text(7)
    rows = []

    def best(label: str, work: Callable[[], object]) -> None:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        rows.append((label, min(times)))

    cache = root / "work" / "index-cache"

    def cold(stubs: list[str] | None) -> Callable[[], object]:
        def run() -> object:
            shutil.rmtree(cache, ignore_errors=True)
            return index.read_state(index.Cached(remote, index.CacheFiles(cache, remote.url)), stubs)
        return run

    best("read one stub's entries, cold cache", cold([one]))
    best("read one stub's entries, warm cache",
         lambda: index.read_state(index.Cached(remote, index.CacheFiles(cache, remote.url)), [one]))
    best("read every entry, cold cache", cold(None))
    best("read every entry, warm cache",
         lambda: index.read_state(index.Cached(remote, index.CacheFiles(cache, remote.url)), None))
    if index.read_top(remote) is None:  # the one-file form: what a writer before shards did
        def old_write() -> None:
            view = parse_view(remote.get_text(index.INDEX) or "", "index")
            remote.put_text(index.INDEX, render_view(view))
        best("write the index after one move (whole index.json)", old_write)
    else:
        counter = iter(range(10**6, 10**7))

        def new_write() -> None:
            stub_index = next(counter)
            stub, digest = gen_zoo._stub_text(stub_index), _put_version(root, stub_index, 1)
            state = index.read_state(remote, [stub], writing=True)
            move = Move(state.view.seq + 1, state.view.commit or "", state.view.branch or "", {stub: {"v1": digest}})
            assert index.write_move(remote, state, move) is not None
        best("read + write the index for one move (top, one shard)", new_write)
    print("\n| index step (in process, best of 3) | s |")
    print("| --- | ---: |")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    gen_zoo.size_arguments(parser)
    parser.add_argument("--form", choices=("old", "sharded"), default="sharded")
    parser.add_argument("--bare", action="store_true",
                        help="sharded, without briefs (as a zoo before them wrote it): listed from manifests")
    parser.add_argument("--reuse", action="store_true", help="time the remote already at ROOT")
    parser.add_argument("--index-only", action="store_true", help="time only the index's reads and writes")
    parser.add_argument("--commands-only", action="store_true", help="time only the commands (any zoo-repo)")
    args = parser.parse_args()
    versions = gen_zoo.QUICK if args.quick else args.versions
    if not args.reuse:
        started = time.perf_counter()
        generate(args.root, versions, args.per_stub, args.form, args.bare)
        print(json.dumps({"versions": versions, "form": args.form,
                          "seconds": round(time.perf_counter() - started, 1)}))
    if not args.index_only:
        time_commands(args.root)
    if not args.commands_only:
        time_index(args.root)


if __name__ == "__main__":
    main()
