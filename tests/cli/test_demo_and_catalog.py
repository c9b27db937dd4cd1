"""README's first command, and the catalog that dvc.yaml builds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import STUB, run_zoo
from zoo_repo import Zoo
from zoo_repo.ops.demo import STUB_PRUNED


def test_demo_publishes_and_pulls_real_models_byte_identical(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    proc = run_zoo("demo", "--workdir", workdir)
    assert proc.returncode == 0, proc.stderr
    assert "byte-identical" in proc.stdout
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| cv/")]
    assert [row.split("|")[1].strip() for row in rows] == [STUB, STUB_PRUNED]
    assert all("% top1 accuracy" in row for row in rows)
    base, pruned = (float(row.split("|")[2].split("%")[0]) for row in rows)
    assert base > 50 and pruned >= 0.99 * base  # "moderate": at least 99% of the baseline
    pulled = sorted(p.relative_to(workdir / "pulled" / "base").as_posix()
                    for p in (workdir / "pulled" / "base").rglob("*") if p.is_file())
    assert "model.onnx" in pulled and "model.onnx.tar.gz" in pulled
    # A second run starts again from nothing and gives the same models, byte for byte.
    first = (workdir / "pulled" / "base" / "model.onnx").read_bytes()
    again = run_zoo("demo", "--workdir", workdir)
    assert again.returncode == 0
    assert (workdir / "pulled" / "base" / "model.onnx").read_bytes() == first


def test_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("keep")
    proc = run_zoo("demo", "--workdir", tmp_path / "mine")
    assert proc.returncode == 2 and "was not made by `zoo demo`" in proc.stderr
    assert (tmp_path / "mine" / "precious.txt").read_text() == "keep"


def test_dvc_repro_builds_the_same_catalog_as_zoo_catalog(zoo: Zoo, model_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-m", "dvc", "repro", "--allow-missing"], cwd=zoo.root, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    built = (zoo.root / "CATALOG.md").read_text()
    assert f"| {STUB} " in built
    assert built == cli("--zoo", zoo.root, "catalog", "--markdown").stdout
    assert (zoo.root / "catalog.json").is_file() and (zoo.root / "catalog" / "index.html").is_file()
    again = subprocess.run([sys.executable, "-m", "dvc", "repro", "--allow-missing"], cwd=zoo.root,
                           capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "didn't change" in again.stdout  # nothing to do when manifests did not change
    assert cli("--zoo", zoo.root, "catalog").stdout == "catalog is up to date\n"


def test_list_reads_catalog_json_only_while_it_matches_the_manifests(zoo: Zoo, model_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    import json

    zoo.publish(model_dir, STUB)
    cli("--zoo", zoo.root, "catalog")
    catalog = zoo.root / "catalog.json"
    doc = json.loads(catalog.read_text())
    doc["models"][0]["size"] = 12345  # a marker: only the catalog says this
    catalog.write_text(json.dumps(doc))
    listed = json.loads(cli("--zoo", zoo.root, "list", "--json").stdout)
    assert listed[0]["size"] == 12345  # served from catalog.json, no manifest parsed

    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"v2")
    zoo.publish(model_dir, STUB)  # the catalog is now stale for this stub
    listed = json.loads(cli("--zoo", zoo.root, "list", "--json").stdout)
    assert listed[0]["version"] == "v2" and listed[0]["size"] == zoo.manifest(STUB, 2).size
