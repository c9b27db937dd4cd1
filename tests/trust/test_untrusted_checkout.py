"""A checkout is data: nothing it carries (a cache file, a package named like
ours) runs code or changes what zoo reports."""

from __future__ import annotations

import json
import pickle
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import STUB, run_zoo
from zoo_repo import Zoo
from zoo_repo.review.check import check


class _Boom:
    """Unpickling this creates a marker file: proof that code from data ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_committed_stat_cache_runs_no_code_and_forges_nothing(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    real = {f.path: f.sha256 for f in manifest.files}
    marker = tmp_path / "pwned"
    db = zoo.root / ".zoo" / "stat.sqlite"
    for leftover in (db, db.with_name("stat.sqlite-wal"), db.with_name("stat.sqlite-shm")):
        leftover.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    # What an attacker commits with `git add -f .zoo/stat.sqlite`: an old-style
    # pickled entry, and an entry in today's format under the real manifest's
    # digest whose files point elsewhere, with a MAC made without the user's key.
    con.execute("create table manifests (digest text primary key, data blob)")
    import hashlib

    digest = hashlib.sha256(zoo.manifest_text(STUB, 1).encode()).hexdigest()
    con.execute("insert into manifests values (?, ?)", (digest, pickle.dumps(_Boom(marker))))
    forged = manifest.to_dict()
    forged["files"] = [dict(f, sha256="0" * 64) for f in forged["files"]]
    con.execute("create table manifest_docs (digest text primary key, doc text, mac blob)")
    con.execute("insert into manifest_docs values (?, ?, ?)", (digest, json.dumps(forged), b"\0" * 32))
    con.commit()
    con.close()

    for args in (("list", "--json"), ("show", STUB, "--json")):
        proc = run_zoo("--zoo", zoo.root, *args)
        assert proc.returncode == 0, proc.stderr
        assert not marker.exists()
    shown = json.loads(run_zoo("--zoo", zoo.root, "show", STUB, "--json").stdout)
    assert {f["path"]: f["sha256"] for f in shown["files"]} == real


def test_zoo_check_workers_never_import_a_package_committed_to_the_zoo(
        zoo: Zoo, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"v2")
    zoo.publish(model_dir, STUB)  # two versions: a share for each of two workers
    marker = tmp_path / "pwned"
    payload = f"open({str(marker)!r}, 'w').close()\n"
    (zoo.root / "zoo_repo").mkdir()
    (zoo.root / "zoo_repo" / "__init__.py").write_text(payload)
    (zoo.root / "yaml.py").write_text(payload)  # what every worker imports
    monkeypatch.chdir(zoo.root)  # where CI runs the gate: the root of the pull request's checkout
    report = check(zoo, jobs=2)  # workers, as a large zoo would use
    assert not marker.exists()
    assert report.ok and report.versions == 2
