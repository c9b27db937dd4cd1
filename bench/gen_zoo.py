"""Fabricate a zoo of N published versions, then time the review gate on it.

The versions are well formed (manifest.yaml, model.md, model.dvc agree, as a
real publish writes them) but no objects exist, so no remote is needed: this
measures the gate's own cost, not storage. Everything lands in one git commit
on ``main``, written by ``git fast-import`` and checked out by git (100,000
versions in well under a minute); with ``--time`` a branch ``pr`` then adds one
version, as a pull request would, and every gate command is timed on it.

    python bench/gen_zoo.py /tmp/zoo-100k --versions 100000 --time
    python bench/gen_zoo.py /tmp/zoo-quick --quick --time
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from zoo_repo.core.card import Metric
from zoo_repo.core.manifest import FileEntry, Manifest
from zoo_repo.core.stub import parse_stub
from zoo_repo.repo import dvc

# Roughly a real model directory: card, graph, archive, framework file, recipe, samples.
_FILES = (
    ("model.md", "card"),
    ("model.onnx", "onnx"),
    ("model.onnx.tar.gz", "archive"),
    ("pytorch/model.pth", "framework"),
    ("recipes/original.md", "recipes"),
    ("sample-inputs.tar.gz", "sample-inputs"),
    ("sample-outputs.tar.gz", "sample-outputs"),
    ("sample-labels.tar.gz", "sample-labels"),
)
COLD_LIST = "zoo list (cold: nothing remembered)"
PUBLISH = "zoo publish next version of a small model"
_GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com"]


def _stub_text(stub_index: int) -> str:
    return f"cv/classification/arch{stub_index:06d}/pytorch/sparseml/imagenet/pruned-moderate"


def _digest(data: bytes) -> tuple[str, str]:
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data, usedforsecurity=False).hexdigest()


def _card(stub_index: int, version: int) -> str:
    # Fixed width: every stub's card has the same size, so one rendered
    # template per (stub_index % 7, version) serves every stub (``_Templates``).
    top1 = 70 + (stub_index % 7) + version / 10
    return (
        "---\nlicense: apache-2.0\ndescription: A fabricated model for benchmarks.\n"
        f"metrics:\n  - {{name: top1 accuracy, value: {top1:.1f}, unit: '%', dataset: imagenet, split: validation}}\n"
        f"---\n# Model {stub_index:06d} v{version}\n"
    )


def _entries(stub_index: int, version: int) -> tuple[list[FileEntry], str]:
    """The version's file entries and their DVC tree md5 (hashing only, no YAML)."""
    entries = []
    for path, role in _FILES:
        if path == "model.md":
            data = _card(stub_index, version).encode()
            size = len(data)
        else:
            # Files other than the graph repeat across versions, as they do in a real zoo.
            data = f"{stub_index}/{path}/{version if role == 'onnx' else 0}".encode()
            size = 1000 + len(path) * 997
        sha, md5 = _digest(data)
        entries.append(FileEntry(path, role, size, sha, md5))
    entries.sort()
    tree = hashlib.md5(dvc.tree_bytes((e.path, e.md5) for e in entries), usedforsecurity=False).hexdigest()
    return entries, tree


def render_version(stub_index: int, version: int) -> dict[str, bytes]:
    """One version's three files (name → bytes), as a publish writes them: mutually consistent."""
    stub = parse_stub(_stub_text(stub_index))
    entries, tree = _entries(stub_index, version)
    manifest = Manifest(
        stub=stub, version=version, created="2024-01-01T00:00:00Z", publisher="Bench <bench@example.com>",
        files=tuple(entries), tree_md5=tree, parent=version - 1 or None,
        card={"license": "apache-2.0", "description": "A fabricated model for benchmarks."},
        metrics=(Metric("top1 accuracy", round(70 + (stub_index % 7) + version / 10, 1), "%", "imagenet",
                        "validation"),),
    )
    return {"manifest.yaml": manifest.to_text().encode(), "model.md": _card(stub_index, version).encode(),
            "model.dvc": dvc.pointer_text(tree, manifest.size, len(entries)).encode()}


def version_dir(stub_index: int, version: int) -> str:
    return f"manifests/{_stub_text(stub_index)}/v{version}"


def write_version(root: Path, stub_index: int, version: int) -> None:
    """One version directory in the working tree (``render_version``'s files)."""
    vdir = root / version_dir(stub_index, version)
    vdir.mkdir(parents=True)
    for name, data in render_version(stub_index, version).items():
        (vdir / name).write_bytes(data)


class _Templates:
    """``render_version`` without YAML per version: dumping a manifest costs ~1 ms,
    100 s for 100,000. A version differs from the same (stub_index % 7, version)
    template only in fixed-width strings (the arch name, hex digests), swapped in."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], tuple[dict[str, bytes], list[str]]] = {}

    @staticmethod
    def _keys(stub_index: int, version: int) -> list[str]:
        entries, tree = _entries(stub_index, version)
        return [f"arch{stub_index:06d}", f"Model {stub_index:06d}", tree,
                *(digest for e in entries for digest in (e.sha256, e.md5))]

    def render(self, stub_index: int, version: int) -> dict[str, bytes]:
        key = (stub_index % 7, version)
        if key not in self._cache:
            self._cache[key] = (render_version(*key), self._keys(*key))
        files, old = self._cache[key]
        new = self._keys(stub_index, version)
        out = {}
        for name, data in files.items():
            text = data.decode()
            for a, b in zip(old, new, strict=True):
                text = text.replace(a, b)
            out[name] = text.encode()
        return out


def bench_dir(root: Path) -> Path:
    """Beside the zoo: its remote, the small model, and the empty zoo (and its remote) to compare with."""
    return root.parent / f"{root.name}-bench"


def generate(root: Path, versions: int, per_stub: int, remote: bool | str = False) -> None:
    """A zoo at ``root`` (replaced) with ``versions`` versions, ``per_stub`` per stub, one commit on main.

    ``remote``: the zoo is made by ``zoo init`` with a directory remote and has the small
    demo model published (a real version, objects and all) before the fabricated commit,
    and the remote's projection is moved to that commit (``project_fabricated``): a zoo
    whose remote is up to date, where a publish does what it does every day.
    ``remote="unprojected"``: the remote holds the versions' objects but lists none of them
    (``fabricate_objects``), as a zoo's remote does before its first `zoo push`.
    """
    if root.exists():
        shutil.rmtree(root)
    if remote:
        shutil.rmtree(bench_dir(root), ignore_errors=True)
        _real_zoo(root, bench_dir(root) / "remote")
    else:
        root.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    templates = _Templates()
    for i in (0, 8, 123_457):  # the templates must say exactly what a full render says
        assert templates.render(i, 2) == render_version(i, 2), i
    proc = subprocess.Popen([*_GIT, "-C", str(root), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = proc.stdin
    message = b"Fabricated zoo"
    out.write(b"commit refs/heads/main\ncommitter Bench <bench@example.com> 1704067200 +0000\n"
              b"data %d\n%s\n" % (len(message), message))
    if remote:
        out.write(b"from refs/heads/main^0\n")

    def put(path: str, data: bytes) -> None:
        out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))

    if not remote:
        put("zoo.yaml", b"format: 1\n")
        put("manifests/.gitkeep", b"")
    for i in range(versions):
        stub_index, version = i // per_stub, i % per_stub + 1
        for name, data in templates.render(stub_index, version).items():
            put(f"{version_dir(stub_index, version)}/{name}", data)
    out.write(b"\n")
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard", "main"], check=True)
    if remote == "unprojected":
        fabricate_objects(bench_dir(root) / "remote", versions, per_stub)
    elif remote:
        project_fabricated(root, bench_dir(root) / "remote", versions, per_stub, templates)


def fabricate_objects(remote_dir: Path, versions: int, per_stub: int) -> None:
    """Every object the fabricated versions name, on the remote, as sparse files of the
    size their manifests say (a remote checks names and sizes, never reads them), so that
    the first `zoo push` projects every version, as it would after `dvc remote add`."""
    made: set[str] = set()
    for i in range(versions):
        stub_index, version = i // per_stub, i % per_stub + 1
        entries, tree = _entries(stub_index, version)
        for oid, size in [*((e.md5, e.size) for e in entries), (tree + ".dir", 0)]:
            if oid in made:
                continue
            made.add(oid)
            path = remote_dir / "files" / "md5" / oid[:2] / oid[2:]
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                f.truncate(size)


def _real_zoo(root: Path, remote: Path) -> None:
    """``zoo init`` with a directory remote, and the small demo model published into it (v1)."""
    from zoo_repo import Zoo
    from zoo_repo.ops.demo import STUB_BASE, build_model_dir

    model = bench_dir(root) / "model"
    if not model.exists():
        build_model_dir(model)
    zoo = Zoo.init(root, str(remote))
    zoo.publish(model, STUB_BASE)


def project_fabricated(root: Path, remote_dir: Path, versions: int, per_stub: int, templates: _Templates) -> None:
    """The remote's projection moved to main's fabricated commit, as `zoo push` would leave it
    (one move listing every fabricated version), with each stub's latest manifest and card
    on the remote (what a listing reads; the fabricated versions have no objects to upload)."""
    from zoo_repo.core.projection import Move
    from zoo_repo.remote import index, meta, open_remote

    remote = open_remote(str(remote_dir))
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "main"], capture_output=True, text=True,
                            check=True).stdout.strip()
    state = index.read_state(remote, writing=True)
    added: dict[str, dict[str, str]] = {}
    for i in range(versions):
        stub_index, version = i // per_stub, i % per_stub + 1
        files = templates.render(stub_index, version)
        if version == per_stub or i == versions - 1:
            vdir = remote_dir / meta.PREFIX / "manifests" / _stub_text(stub_index) / f"v{version}"
            vdir.mkdir(parents=True, exist_ok=True)
            (vdir / "manifest.yaml").write_bytes(files["manifest.yaml"])
            (vdir / "model.md").write_bytes(files["model.md"])
        digest = "sha256:" + hashlib.sha256(files["manifest.yaml"]).hexdigest()
        added.setdefault(_stub_text(stub_index), {})[f"v{version}"] = digest
    move = Move(state.view.seq + 1, commit, state.view.branch or "main", added)
    if meta.write_move(remote, state, move) is None:
        raise SystemExit("the remote's log moved meanwhile")


def _empty_zoo(root: Path) -> Path:
    """The zoo to compare with: made as ``--remote`` makes the big one, without the fabricated versions."""
    empty = bench_dir(root) / "empty"
    if not (empty / "zoo.yaml").exists():
        shutil.rmtree(empty, ignore_errors=True)
        shutil.rmtree(bench_dir(root) / "empty-remote", ignore_errors=True)
        _real_zoo(empty, bench_dir(root) / "empty-remote")
    return empty


# -- timing ---------------------------------------------------------------------
def _timed(root: Path, *args: str) -> tuple[float, float, int, str]:
    """Run ``zoo ARGS`` in ``root`` as its own process: (seconds, peak RSS in MiB, exit code, last line)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "zoo_repo", *args], cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    # RUSAGE_CHILDREN's maxrss is the largest child so far: each command runs in a fresh
    # process of its own, measured by a fresh python (``_measure``) so earlier ones do not mask it.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    return seconds, rss, proc.returncode, lines[-1][:100] if lines else ""


def _measure(root: Path, args: list[str]) -> tuple[float, float, int, str]:
    """``_timed`` in a fresh interpreter, so RUSAGE_CHILDREN holds this command alone."""
    code = ("import sys, json; sys.path.insert(0, sys.argv[1]); import gen_zoo; from pathlib import Path; "
            "print(json.dumps(gen_zoo._timed(Path(sys.argv[2]), *sys.argv[3:])))")
    proc = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(root), *args],
                          capture_output=True, text=True, check=True)
    import json

    seconds, rss, rc, line = json.loads(proc.stdout)
    return seconds, rss, rc, line


def add_one_version(root: Path, per_stub: int) -> str:
    """On a branch ``pr`` off main, the next version of stub 0, committed: a pull request's change."""
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "-B", "pr", "main"], check=True)
    write_version(root, 0, per_stub + 1)
    subprocess.run(["git", "-C", str(root), "add", "manifests"], check=True)
    subprocess.run([*_GIT, "-C", str(root), "commit", "-q", "-m", "Add one version"], check=True)
    return version_dir(0, per_stub + 1)


def time_commands(root: Path, per_stub: int, repeat: int, skip_full: bool = False, only: str | None = None) -> None:
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "main"], check=True)
    cases: list[tuple[str, list[str], bool]] = [
        # Cold: what `zoo list` remembers (.zoo/list-cache.json, .zoo/list-replay) is removed before each run.
        (COLD_LIST, ["list"], False),
        ("zoo list (warm)", ["list"], False),
        ("zoo check (full)", ["check"], False),
        ("zoo check --base HEAD (no change)", ["check", "--base", "HEAD"], False),
        ("zoo check --base HEAD --committed (no change)", ["check", "--base", "HEAD", "--committed"], False),
        ("zoo check --base main (one added)", ["check", "--base", "main"], True),
        ("zoo check --base main --committed (one added)", ["check", "--base", "main", "--committed"], True),
        ("zoo check --base main --full (one added)", ["check", "--base", "main", "--full"], True),
        ("zoo review --base main (one added)", ["review", "--base", "main"], True),
        ("zoo review --base main --committed (one added)", ["review", "--base", "main", "--committed"], True),
        # The first after generation parses every manifest; the next finds them remembered.
        ("zoo gc --dry-run", ["gc", "--dry-run"], False),
    ]
    rows = []
    for label, args, on_pr in cases:
        if skip_full and (args == ["check"] or "--full" in args) or only and only not in label:
            continue
        if on_pr and subprocess.run(["git", "-C", str(root), "rev-parse", "-q", "--verify", "pr"],
                                    capture_output=True).returncode != 0:
            add_one_version(root, per_stub)
        subprocess.run(["git", "-C", str(root), "checkout", "-q", "pr" if on_pr else "main"], check=True)

        def run(label: str = label, args: list[str] = args) -> tuple[float, float, int, str]:
            if label == COLD_LIST:  # nothing remembered: neither the tree nor the last listing to replay
                (root / ".zoo" / "list-cache.json").unlink(missing_ok=True)
                (root / ".zoo" / "list-replay").unlink(missing_ok=True)
            return _measure(root, args)

        if label == "zoo list (warm)":
            run()  # the listing to remember
        runs = [run()]
        while len(runs) < repeat and runs[0][0] < 30:  # a run of minutes says enough once
            runs.append(run())
        best = min(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        rows.append((label, best, max(r[0] for r in runs), rss, runs[-1][2], runs[-1][3]))
        print(f"  {label}: best {best:.2f}s, exit {runs[-1][2]}", file=sys.stderr)
    if (only is None or only in PUBLISH) and (bench_dir(root) / "model").exists():
        rows.extend(time_publish(root, repeat))
    print(f"\n| command | best s | worst s (of up to {repeat}) | peak RSS MiB | exit | says |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, best, worst, rss, rc, line in rows:
        print(f"| `{label}` | {best:.2f} | {worst:.2f} | {rss:.0f} | {rc} | {line.replace('|', '/')} |")
    print(f"\nload: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


def time_publish(root: Path, repeat: int) -> list[tuple[str, float, float, float, int, str]]:
    """``zoo publish`` of the small model's next version, into the empty zoo and into this
    one, alternately (best of ``repeat`` each): the same model, the same kind of remote."""
    from zoo_repo.ops.demo import STUB_BASE

    subprocess.run(["git", "-C", str(root), "checkout", "-q", "main"], check=True)
    model = bench_dir(root) / "model"
    zoos = {f"{PUBLISH} (empty zoo)": _empty_zoo(root), f"{PUBLISH} (this zoo)": root}
    runs: dict[str, list[tuple[float, float, int, str]]] = {label: [] for label in zoos}
    for _ in range(repeat):
        for label, zoo in zoos.items():
            (model / "extra.txt").write_text(f"{time.time_ns()}\n")  # a new version every time
            runs[label].append(_measure(zoo, ["publish", str(model), "--stub", STUB_BASE]))
            print(f"  {label}: {runs[label][-1][0]:.2f}s, exit {runs[label][-1][2]}", file=sys.stderr)
    return [(label, min(r[0] for r in rs), max(r[0] for r in rs), max(r[1] for r in rs), rs[-1][2], rs[-1][3])
            for label, rs in runs.items()]


QUICK = 2_000  # versions of a --quick run


def size_arguments(parser: argparse.ArgumentParser, quick: str = f"{QUICK:,} versions: a smoke run") -> None:
    """ROOT, --versions, --per-stub and --quick, as every generator here takes them."""
    parser.add_argument("root", type=Path)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--per-stub", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help=quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size_arguments(parser)
    parser.add_argument("--time", action="store_true", help="then time every gate command (best of --repeat)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="time the zoo already at ROOT, do not generate")
    parser.add_argument("--skip-full", action="store_true", help="leave out the full checks (minutes at 100,000)")
    parser.add_argument("--only", metavar="TEXT", help="time only the commands whose label contains TEXT")
    parser.add_argument("--remote", action="store_true",
                        help="a real zoo with a directory remote projected at the fabricated commit (times publish)")
    parser.add_argument("--first-push", action="store_true",
                        help="a real zoo whose remote holds every object and lists nothing; time `zoo push` twice")
    args = parser.parse_args()
    versions = QUICK if args.quick else args.versions

    if not args.reuse:
        started = time.perf_counter()
        generate(args.root, versions, args.per_stub, "unprojected" if args.first_push else args.remote)
        print(f"generated {versions} versions in {time.perf_counter() - started:.1f}s at {args.root}")
    if args.first_push:
        seconds, rss, rc, line = _measure(args.root, ["push"])
        print(f"| `zoo push` (first projection of {versions} versions) | {seconds:.2f} | {rss:.0f} | {rc} | {line} |")
        # Then the push of every day: the remote holds and lists everything already; what
        # it asks about is what changed since the commit listed (--full: every object).
        for label, extra in (("again: nothing to send or list", []), ("again, --full", ["--full"])):
            seconds, rss, rc, line = _measure(args.root, ["push", *extra])
            print(f"| `zoo push` ({label}) | {seconds:.2f} | {rss:.0f} | {rc} | {line} |")
    if args.time:
        time_commands(args.root, args.per_stub, args.repeat, args.skip_full, args.only)


if __name__ == "__main__":
    main()
