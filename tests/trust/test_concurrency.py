"""Several publishers at once, and explicit versions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.review.check import check


def test_two_processes_publishing_one_stub_get_two_versions(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    dirs = []
    for i in range(2):
        d = tmp_path / f"m{i}"
        shutil.copytree(model_dir, d)
        (d / "sample-labels" / "lab-0000.npy").write_bytes(f"publisher {i}".encode())
        dirs.append(d)
    procs = [subprocess.Popen([sys.executable, "-m", "zoo_repo", "--zoo", str(zoo.root), "publish", str(d),
                               "--stub", STUB], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for d in dirs]
    outs = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert [rc for _, _, rc in outs] == [0, 0], [err for _, err, _ in outs]
    assert zoo.versions(STUB) == [1, 2]
    labels = {next(f.sha256 for f in zoo.manifest(STUB, v).files if f.path == "sample-labels/lab-0000.npy")
              for v in (1, 2)}
    assert len(labels) == 2  # neither publish was lost or mixed into the other
    assert check(zoo).ok and zoo.verify().ok
    log = subprocess.run(["git", "-C", str(zoo.root), "log", "--format=%s"], capture_output=True, text=True).stdout
    assert log.count(f"Publish {STUB}@v") == 2


def test_explicit_versions(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--version", "v1").exit_code == 0
    same = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--version", "v1")
    assert same.exit_code == 0 and same.stdout.startswith("unchanged")
    (model_dir / "sample-labels" / "lab-0001.npy").write_bytes(b"other")
    clash = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--version", "v1")
    assert clash.exit_code == 2
    assert clash.stderr.splitlines()[0] == (
        f"Error: {STUB}@v1 is already published with different content; versions are immutable")
    skip = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--version", "v3")
    assert skip.exit_code == 2 and "the next version of" in skip.stderr and "is v2" in skip.stderr
    bad = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--version", "2")
    assert bad.exit_code == 2 and "expected vN" in bad.stderr
    assert zoo.versions(STUB) == [1]
