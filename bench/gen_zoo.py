"""Fabricate a zoo of N published versions, then time ``zoo check`` on it.

The versions are well formed (manifest.yaml, model.md, model.dvc agree, as a
real publish writes them) but no objects exist, so no remote is needed: this
measures the gate's own cost, not storage. Everything lands in one git commit.

    python bench/gen_zoo.py /tmp/zoo-10k --versions 10000 --per-stub 5 --time
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
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


def _digest(seed: str) -> tuple[str, str]:
    data = seed.encode()
    return hashlib.sha256(data).hexdigest(), hashlib.md5(data, usedforsecurity=False).hexdigest()


def _card(stub_index: int, version: int) -> str:
    top1 = 70 + (stub_index % 7) + version / 10
    return (
        "---\nlicense: apache-2.0\ndescription: A fabricated model for benchmarks.\n"
        f"metrics:\n  - {{name: top1 accuracy, value: {top1:.1f}, unit: '%', dataset: imagenet, split: validation}}\n"
        f"---\n# Model {stub_index} v{version}\n"
    )


def write_version(root: Path, stub_index: int, version: int) -> None:
    """One version directory: the three files a publish writes, mutually consistent."""
    stub = parse_stub(f"cv/classification/arch{stub_index:06d}/pytorch/sparseml/imagenet/pruned-moderate")
    card = _card(stub_index, version)
    entries = []
    for path, role in _FILES:
        if path == "model.md":
            data = card.encode()
            sha, md5 = hashlib.sha256(data).hexdigest(), hashlib.md5(data, usedforsecurity=False).hexdigest()
            size = len(data)
        else:
            # Files other than the graph repeat across versions, as they do in a real zoo.
            sha, md5 = _digest(f"{stub_index}/{path}/{version if role == 'onnx' else 0}")
            size = 1000 + len(path) * 997
        entries.append(FileEntry(path, role, size, sha, md5))
    entries.sort()
    tree = hashlib.md5(dvc.tree_bytes((e.path, e.md5) for e in entries), usedforsecurity=False).hexdigest()
    manifest = Manifest(
        stub=stub, version=version, created="2024-01-01T00:00:00Z", publisher="Bench <bench@example.com>",
        files=tuple(entries), tree_md5=tree, parent=version - 1 or None,
        card={"license": "apache-2.0", "description": "A fabricated model for benchmarks."},
        metrics=(Metric("top1 accuracy", round(70 + (stub_index % 7) + version / 10, 1), "%", "imagenet",
                        "validation"),),
    )
    vdir = root / "manifests" / stub.path / f"v{version}"
    vdir.mkdir(parents=True)
    (vdir / "manifest.yaml").write_text(manifest.to_text())
    (vdir / "model.md").write_text(card)
    (vdir / "model.dvc").write_text(dvc.pointer_text(tree, manifest.size, len(entries)))


def generate(root: Path, versions: int, per_stub: int) -> None:
    """A zoo at ``root`` (replaced) with ``versions`` versions, ``per_stub`` per stub, one commit."""
    if root.exists():
        shutil.rmtree(root)
    (root / "manifests").mkdir(parents=True)
    (root / "zoo.yaml").write_text("format: 1\n")
    (root / "manifests" / ".gitkeep").write_text("")
    for i in range(versions):
        write_version(root, i // per_stub, i % per_stub + 1)
    env = ["-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), *env, "commit", "-q", "-m", "Fabricated zoo"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--per-stub", type=int, default=5)
    parser.add_argument("--time", action="store_true", help="then time `check` (best of --repeat runs)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    generate(args.root, args.versions, args.per_stub)
    print(f"generated {args.versions} versions in {time.perf_counter() - started:.1f}s at {args.root}")
    if not args.time:
        return
    from zoo_repo.api import Zoo
    from zoo_repo.review.check import check

    zoo = Zoo.open(args.root)
    # jobs=1: one process; None: the default (worker processes, one per CPU, for large zoos).
    for label, base, jobs in (("check", None, None), ("check --base HEAD", "HEAD", None),
                              ("check, one process", None, 1)):
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = check(zoo, base=base, jobs=jobs)
            times.append(time.perf_counter() - started)
        assert report.ok, report.problems[:5]
        print(f"{label}: {report.versions} versions, {report.stubs} stubs, {len(report.problems)} problems; "
              f"best {min(times):.2f}s, worst {max(times):.2f}s of {args.repeat}")


if __name__ == "__main__":
    main()
