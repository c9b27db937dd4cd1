"""Reproducible pulls: lockfiles, the shared cache, offline mode, partial pulls, the Python API."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STUB, tree_bytes
from zoo_repo import NotFound, Offline, Zoo, ZooError
from zoo_repo.ops.demo import STUB_PRUNED


@pytest.fixture
def published(zoo: Zoo, built_models: dict[str, Path]) -> Zoo:
    zoo.publish(built_models["base"], STUB)
    zoo.publish(built_models["pruned"], STUB_PRUNED)
    zoo.tag(f"{STUB}@v1", "stable")
    return zoo


def sha(tree: dict[str, bytes]) -> dict[str, str]:
    return {p: hashlib.sha256(b).hexdigest() for p, b in tree.items()}


def test_lock_then_pull_on_two_machines_gives_the_same_bytes(cli, published: Zoo, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    lockfile = tmp_path / "project" / "zoo.lock"
    lockfile.parent.mkdir()
    result = cli("--zoo", published.root, "lock", f"zoo:{STUB}@stable", STUB_PRUNED, "-f", lockfile)
    assert result.exit_code == 0, result.stderr
    text = lockfile.read_text()
    assert "selector: stable" in text and "version: v1" in text and "digest: 'sha256:" in text
    assert f"remote: {published.remote_url}" in text

    trees = []
    for machine in ("a", "b"):  # no checkout: the lockfile names the remote; separate caches
        monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / machine / "cache"))
        monkeypatch.chdir(lockfile.parent)
        out = tmp_path / machine / "models"
        pulled = cli("pull", "--locked", "--dest", out, "--json")
        assert pulled.exit_code == 0, pulled.stderr
        assert {r["stub"] for r in json.loads(pulled.stdout)} == {STUB, STUB_PRUNED}
        trees.append(tree_bytes(out))
    assert trees[0] == trees[1] and len(trees[0]) > 20


def test_lock_check_and_upgrade(cli, published: Zoo, model_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lockfile = tmp_path / "zoo.lock"
    published.lock([STUB, f"{STUB_PRUNED}@v1"], lockfile)
    ok = cli("--zoo", published.root, "lock", "--check", "-f", lockfile)
    assert ok.exit_code == 0 and "all current" in ok.stdout
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"newer")
    published.publish(model_dir, STUB)
    stale = cli("--zoo", published.root, "lock", "--check", "-f", lockfile)
    assert stale.exit_code == 1
    assert stale.stdout == f"stale: {STUB}@latest: locked v1, now v2\n"  # the @v1 pin is never stale
    up = cli("--zoo", published.root, "lock", "--upgrade", "-f", lockfile)
    assert up.exit_code == 0 and f"upgraded {STUB}@latest: locked v1, now v2" in up.stdout
    assert cli("--zoo", published.root, "lock", "--check", "-f", lockfile).exit_code == 0


def test_a_rewritten_or_missing_pin_stops_the_pull_before_any_byte(published: Zoo, tmp_path: Path) -> None:
    lockfile = tmp_path / "zoo.lock"
    published.lock([STUB_PRUNED, STUB], lockfile)
    good = lockfile.read_text()
    digest = published.digest(STUB, 1)
    lockfile.write_text(good.replace(digest, "sha256:" + "0" * 64))
    with pytest.raises(ZooError, match="zoo.lock pins sha256:0000"):
        published.pull_locked(lockfile, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # the pruned model, pinned fine, was not pulled either
    lockfile.write_text(good.replace("version: v1, digest: '" + digest, "version: v7, digest: '" + digest))
    with pytest.raises(NotFound, match="v7 is pinned in .*zoo.lock but no longer exists"):
        published.pull_locked(lockfile, dest=tmp_path / "out")


def test_offline_uses_the_cache_and_names_what_is_missing(cli, published: Zoo, remote_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    url = remote_dir.as_uri()
    assert cli("pull", f"{STUB}@stable", "--remote", url, "--dest", tmp_path / "first").exit_code == 0
    shutil.move(remote_dir, tmp_path / "remote-away")  # the network is gone

    monkeypatch.setenv("ZOO_OFFLINE", "1")
    again = cli("pull", f"{STUB}@stable", "--remote", url, "--dest", tmp_path / "second")
    assert again.exit_code == 0, again.stderr
    assert tree_bytes(tmp_path / "second") == tree_bytes(tmp_path / "first")
    listed = cli("list", "--remote", url, "--json")
    assert [m["stub"] for m in json.loads(listed.stdout)] == [STUB]  # only what the cache knows
    missing = cli("pull", STUB_PRUNED, "--remote", url, "--dest", tmp_path / "third")
    assert missing.exit_code in (1, 2)
    assert missing.stderr.startswith("Error: ") and ("offline" in missing.stderr or "not published" in missing.stderr)
    assert not (tmp_path / "third").exists()


def test_offline_reports_missing_objects(published: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Zoo.open(remote_dir.as_uri(), cache_dir=cache).pull(STUB, dest=tmp_path / "a", include=("card",))
    offline = Zoo.open(remote_dir.as_uri(), cache_dir=cache, offline=True)
    with pytest.raises(Offline, match=f"offline: {STUB}@v1: .* are not in the cache"):
        offline.pull(STUB, dest=tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_partial_pulls_fetch_only_what_is_asked(published: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    consumer = Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache")
    result = consumer.pull(STUB, dest=tmp_path / "out", files=("sample-inputs/*", "model.md"))
    assert sorted(f.path for f in result.files) == ["model.md"] + [f"sample-inputs/inp-000{i}.npy" for i in range(4)]
    assert result.fetched_objects == 5
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()) \
        == sorted(f.path for f in result.files)
    both = consumer.pull(STUB, dest=tmp_path / "out2", include=("recipes", "onnx"), files=("recipes",))
    assert [f.path for f in both.files] == ["recipes/original.md"]
    with pytest.raises(ZooError, match="`files=` 'weights/\\*' matches no file"):
        consumer.pull(STUB, dest=tmp_path / "out3", files=("weights/*",))


def test_python_api_gives_paths_by_role(published: Zoo, tmp_path: Path) -> None:
    lockfile = tmp_path / "zoo.lock"
    published.lock([f"{STUB}@stable", STUB_PRUNED], lockfile)  # search sees only what is pinned
    zoo = Zoo.open(lockfile, cache_dir=tmp_path / "cache")
    model = zoo.pull(f"zoo:{STUB}@stable", dest=tmp_path / "m")
    assert model.onnx_path == tmp_path / "m" / "model.onnx" and model.onnx_path.is_file()
    assert model.recipes["original"].read_text().startswith("---")
    assert [p.name for p in model.sample_inputs] == [f"inp-000{i}.npy" for i in range(4)]
    assert model.card.metrics[0].name == "top1 accuracy"
    assert model.version == "v1" and model.digest == published.digest(STUB, 1)
    found = [str(m.stub) for m in zoo.search(domain="cv", sparse_name="pruned")]
    assert found == [STUB_PRUNED]
    assert [str(m.stub) for m in zoo.search("perceptron", dataset="synthetic_digits")] == [STUB, STUB_PRUNED]


def test_cache_ls_and_prune(cli, published: Zoo, model_dir: Path, remote_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                            monkeypatch: pytest.MonkeyPatch) -> None:
    (model_dir / "numpy" / "only-in-v2.bin").write_bytes(os.urandom(4096))
    only_v1 = (model_dir / "recipes" / "original.md").read_bytes()
    (model_dir / "recipes" / "original.md").write_text("---\nversion: 2\n---\n")
    published.publish(model_dir, STUB)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    for ref, out in ((f"{STUB}@v1", "one"), (f"{STUB}@v2", "two"), (STUB_PRUNED, "three")):
        assert cli("pull", ref, "--remote", remote_dir.as_uri(), "--dest", tmp_path / out).exit_code == 0
    listing = json.loads(cli("cache", "ls", "--json").stdout)
    assert sorted((v["stub"], v["version"]) for v in listing["versions"]) == [
        (STUB, "v1"), (STUB, "v2"), (STUB_PRUNED, "v1")]
    assert all(v["bytes"] > 0 for v in listing["versions"]) and listing["total_bytes"] > 0

    dry = cli("cache", "prune", "--keep-latest", "1", "--dry-run")
    assert dry.stdout.startswith(f"would remove {STUB}@v1\n")
    cli("cache", "prune", "--keep-latest", "1")
    after = json.loads(cli("cache", "ls", "--json").stdout)
    assert sorted((v["stub"], v["version"]) for v in after["versions"]) == [(STUB, "v2"), (STUB_PRUNED, "v1")]
    # v2 still pulls from the cache alone; objects only v1 used are gone.
    offline = Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache", offline=True)
    assert offline.pull(f"{STUB}@v2", dest=tmp_path / "again").fetched_objects == 0
    assert after["total_bytes"] == listing["total_bytes"] - len(only_v1)  # the one object only v1 used


def test_parallel_processes_share_one_cache(published: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from zoo_repo import Zoo\n"
        "z = Zoo.open(sys.argv[1], cache_dir=Path(sys.argv[2]))\n"
        "r = z.pull(sys.argv[3], dest=Path(sys.argv[4]))\n"
        "print(r.fetched_objects)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, remote_dir.as_uri(), str(tmp_path / "cache"), STUB,
                               str(tmp_path / f"out{i}")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(8)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert all(rc == 0 for _, _, rc in results), [err for _, err, rc in results if rc]
    manifest = published.manifest(STUB, 1)
    expected = {f.path: f.sha256 for f in manifest.files}
    for i in range(8):
        assert sha(tree_bytes(tmp_path / f"out{i}")) == expected
    cache = Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache")
    assert not cache.store.temp_files()
    for oid in cache.store.oids():
        cache.store.check(oid)  # every object is whole and named by its md5
