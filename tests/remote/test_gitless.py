"""Consumers with only a URL: no git checkout, a per-user cache, the same bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import STUB, tree_bytes
from tests.remote.conftest import Backend
from zoo_repo import ManifestError, UsageError, Zoo
from zoo_repo.ops.demo import STUB_PRUNED


def _open(backend: Backend, cache: Path) -> Zoo:
    url = backend.url if "://" in backend.url else Path(backend.url).as_uri()
    return Zoo.open(url, remote_options=backend.options, cache_dir=cache)


def test_list_show_pull_without_git(remote_zoo: Zoo, backend: Backend, built_models: dict[str, Path],
                                    model_dir: Path, tmp_path: Path) -> None:
    remote_zoo.publish(built_models["base"], STUB)
    remote_zoo.publish(built_models["pruned"], STUB_PRUNED)
    (model_dir / "sample-labels" / "lab-0002.npy").write_bytes(b"v2 label")
    v2 = remote_zoo.publish(model_dir, STUB).manifest

    consumer = _open(backend, tmp_path / "cache")
    assert [str(s) for s in consumer.stubs()] == [STUB, STUB_PRUNED]
    assert consumer.versions(STUB) == [1, 2]
    assert [(str(m.stub), m.version) for m in consumer.list()] == [(STUB, 2), (STUB_PRUNED, 1)]
    assert consumer.show(STUB + "@v2") == v2

    pulled = consumer.pull(STUB + "@v2", dest=tmp_path / "out")
    got = tree_bytes(pulled.dest)
    assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == {f.path: f.sha256 for f in v2.files}
    assert got["sample-labels/lab-0002.npy"] == b"v2 label"

    # A second project on the same machine downloads nothing: the cache is shared.
    again = _open(backend, tmp_path / "cache").pull(STUB + "@v2", dest=tmp_path / "project2")
    assert again.fetched_objects == 0
    assert tree_bytes(again.dest) == got

    snapshot = consumer.pull(STUB)  # no dest: a read-only snapshot in the cache
    assert snapshot.dest.is_relative_to(tmp_path / "cache") and tree_bytes(snapshot.dest) == got
    with pytest.raises(UsageError, match="needs a zoo checkout"):
        consumer.publish(model_dir, STUB)


def test_a_tampered_manifest_is_refused(remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path) -> None:
    remote_zoo.publish(model_dir, STUB)
    key = f"zoo/manifests/{STUB}/v1/manifest.yaml"
    backend.write(key, backend.read(key).replace(b"license: apache-2.0", b"license: proprietary"))
    with pytest.raises(ManifestError, match="does not match the remote index"):
        _open(backend, tmp_path / "cache").show(STUB)


def test_push_restores_what_consumers_need(remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path) -> None:
    remote_zoo.publish(model_dir, STUB)
    before = backend.keys()
    for key in [k for k in before if k.startswith("zoo/")]:
        backend.delete(key)
    assert _open(backend, tmp_path / "c1").versions(STUB) == []
    remote_zoo.push()
    assert backend.keys() == before
    assert _open(backend, tmp_path / "c2").versions(STUB) == [1]


def test_without_an_index_the_log_is_replayed(remote_zoo: Zoo, backend: Backend, model_dir: Path,
                                              tmp_path: Path) -> None:
    remote_zoo.publish(model_dir, STUB)
    for key in [k for k in backend.keys() if k.startswith("zoo/index")]:  # the top and its shards
        backend.delete(key)
    assert [str(s) for s in _open(backend, tmp_path / "cache").stubs()] == [STUB]


@pytest.mark.backends("dir")
@pytest.mark.parametrize("damage", [b"{not json", b"\xff\xfe", b'{"schema": 1, "seq": -4, "stubs": {}}'])
def test_a_damaged_cached_listing_is_replaced_online(remote_zoo: Zoo, backend: Backend, model_dir: Path,
                                                      tmp_path: Path, damage: bytes) -> None:
    remote_zoo.publish(model_dir, STUB)
    cache = tmp_path / "cache"
    consumer = _open(backend, cache)
    assert consumer.resolve(STUB).version == 1  # the listing and v1's manifest are cached
    cached = next(cache.glob("remotes/*/zoo/index/top.json"))
    cached.write_bytes(damage)  # another program, a full disk, or someone with the cache's folder
    assert _open(backend, cache).versions(STUB) == [1]
    assert json.loads(cached.read_text())["seq"] == 1
    offline = Zoo.open(Path(backend.url).as_uri(), cache_dir=cache, offline=True)
    assert offline.versions(STUB) == [1]  # and offline use has the listing back


def test_cli_pull_and_list_by_url(cli, remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    remote_zoo.publish(model_dir, STUB)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    for key, value in backend.env.items():  # what a consumer given only the URL needs (S3: the endpoint)
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # not a checkout
    listed = cli("list", "--remote", backend.url, "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [m["stub"] for m in json.loads(listed.stdout)] == [STUB]
    pulled = cli("pull", STUB, "--remote", backend.url, "--dest", tmp_path / "out")
    assert pulled.exit_code == 0, pulled.stderr
    assert (tmp_path / "out" / "model.onnx").read_bytes() == (model_dir / "model.onnx").read_bytes()
    no_dest = cli("pull", STUB, "--remote", backend.url)
    assert no_dest.exit_code == 0 and f"to {tmp_path / 'cache'}" in no_dest.stdout, no_dest.stderr
    assert (tmp_path / "cache" / "files" / "md5").is_dir()


def test_a_directory_remote_whose_path_needs_escaping(tmp_path: Path, model_dir: Path, cli,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A path with a space and a comma, given as a path (the CLI makes it a file:// URL,
    percent-encoded) or as that URL: the same remote, not an empty one beside it."""
    remote = tmp_path / "shared models, v2" / "remote"
    zoo = Zoo.init(tmp_path / "zoo", remote=str(remote))
    zoo.publish(model_dir, STUB, run=False)
    assert "%20" in remote.as_uri() and "%2C" in remote.as_uri()
    assert [str(s) for s in Zoo.open(remote.as_uri(), cache_dir=tmp_path / "c").stubs()] == [STUB]
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    pulled = cli("pull", STUB, "--remote", remote, "--dest", tmp_path / "out")
    assert pulled.exit_code == 0, pulled.stderr
    assert (tmp_path / "out" / "model.onnx").is_file()
