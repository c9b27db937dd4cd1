"""Publish and pull through every backend: a directory (as a path and as a file:// URL)
and a real S3 server (SeaweedFS). See conftest.py for the backends and how to add one."""

from __future__ import annotations

import hashlib
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STUB, clone, tree_bytes
from tests.remote.conftest import Backend
from zoo_repo import IntegrityError, ObjectMissing, Zoo
from zoo_repo.core.projection import shard_of
from zoo_repo.remote.base import Remote
from zoo_repo.store.objects import oid_relpath


def test_publish_then_pull_in_a_fresh_clone(remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    expected = {oid_relpath(f.md5) for f in manifest.files} | {oid_relpath(manifest.tree_md5 + ".dir")}
    keys = backend.keys()
    assert {k for k in keys if k.startswith("files/")} == expected
    # The listing: the log's one move, the index's top and the one shard holding STUB.
    (shard,) = (k for k in keys if k.startswith("zoo/index/") and k != "zoo/index/top.json")
    assert shard.startswith(f"zoo/index/{shard_of(STUB)}/")
    meta = {f"zoo/manifests/{STUB}/v1/manifest.yaml", f"zoo/manifests/{STUB}/v1/model.md", "zoo/index/top.json",
            shard, "zoo/projection/0000000001.json"}
    if backend.capabilities.packs:  # small objects are also packed for fast pulls; a directory needs no packs
        meta.add(f"zoo/manifests/{STUB}/v1/objects.json")
        assert len([k for k in keys if k.startswith("packs/")]) == 2  # one pack and its index
    assert {k for k in keys if k.startswith("zoo/")} == meta

    theirs = clone(remote_zoo, tmp_path / "clone")
    pulled = theirs.pull(STUB, dest=tmp_path / "out")
    got = tree_bytes(pulled.dest)
    for f in manifest.files:
        assert hashlib.sha256(got[f.path]).hexdigest() == f.sha256
    assert {k: v for k, v in got.items() if k != "model.onnx.tar.gz"} == tree_bytes(model_dir)


def test_plain_dvc_pull_works_on_the_same_remote(remote_zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    theirs = clone(remote_zoo, tmp_path / "clone")
    proc = subprocess.run([sys.executable, "-m", "dvc", "pull"], cwd=theirs.root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    got = tree_bytes(theirs.version_dir(manifest.stub, 1) / "model")
    assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == {f.path: f.sha256 for f in manifest.files}


def test_inventory_by_listing_and_by_head_agree(remote_zoo: Zoo, backend: Backend, model_dir: Path) -> None:
    for i in range(80):
        (model_dir / "sample-originals").mkdir(exist_ok=True)
        (model_dir / "sample-originals" / f"{i:03d}.bin").write_bytes(f"sample {i}".encode())
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    rem = remote_zoo.remote()
    oids = {f.md5 for f in manifest.files}
    absent = {hashlib.md5(f"absent {i}".encode()).hexdigest() for i in range(3)}
    listed = rem.inventory(oids | absent)  # > 64 objects: one listing
    assert len(oids) > 64 and set(listed) == oids
    assert listed == {f.md5: f.size for f in manifest.files}
    few = set(list(oids)[:5]) | absent
    assert rem.inventory(few) == {o: listed[o] for o in few - absent}  # HEAD each
    assert rem.missing(few) == absent


def test_temp_names_are_never_objects(remote_zoo: Zoo, backend: Backend, model_dir: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    oid = manifest.files[0].md5
    backend.write(f"files/md5/{oid[:2]}/.{oid[2:]}.tmp-abandoned", b"partial")
    backend.write(f"files/md5/{oid[:2]}/{'0' * 30}.partial", b"junk")
    assert set(remote_zoo.remote().inventory({f.md5 for f in manifest.files} | {"0" * 32})) == {
        f.md5 for f in manifest.files}


def test_corrupt_and_missing_objects(remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    for key in [k for k in backend.keys() if k.startswith("packs/")]:
        backend.delete(key)  # the loose path; packs have their own test
    onnx = next(f for f in manifest.files if f.path == "model.onnx")
    card = next(f for f in manifest.files if f.path == "model.md")
    data = bytearray(backend.read(oid_relpath(onnx.md5)))
    data[-1] ^= 1
    backend.write(oid_relpath(onnx.md5), bytes(data))

    theirs = clone(remote_zoo, tmp_path / "clone")
    with pytest.raises(IntegrityError, match="model.onnx: sha256 mismatch"):
        theirs.pull(STUB, dest=tmp_path / "out", include=("onnx",))
    assert not theirs.store.has(onnx.md5) and not theirs.store.temp_files()
    assert not (tmp_path / "out").exists()

    backend.delete(oid_relpath(card.md5))
    with pytest.raises(ObjectMissing, match="model.md: object md5:"):
        theirs.pull(STUB, dest=tmp_path / "out2", include=("card",))
    assert not (tmp_path / "out2").exists()


def test_push_is_idempotent_and_restores_deleted_objects(remote_zoo: Zoo, backend: Backend, model_dir: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    before = backend.keys()
    assert remote_zoo.push().objects == 0
    assert backend.keys() == before
    backend.delete(oid_relpath(manifest.files[0].md5))
    assert remote_zoo.push().objects == 0  # listed at the remote's commit: not asked about again
    assert remote_zoo.push(full=True).objects == 1
    assert backend.keys() == before


def test_read_bytes_and_size(remote_zoo: Zoo, model_dir: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    rem: Remote = remote_zoo.remote()
    card = next(f for f in manifest.files if f.path == "model.md")
    assert rem.read_bytes(card.md5) == (model_dir / "model.md").read_bytes()
    assert rem.size(card.md5) == card.size
    assert rem.size("0" * 32) is None


@pytest.mark.requires("packs")
def test_packs_hold_only_new_small_objects_and_fall_back_to_loose(
    remote_zoo: Zoo, backend: Backend, model_dir: Path, tmp_path: Path
) -> None:
    from zoo_repo.core import packs
    from zoo_repo.remote import meta as remote_meta

    v1 = remote_zoo.publish(model_dir, STUB).manifest
    (model_dir / "sample-labels" / "lab-0003.npy").write_bytes(b"new label")
    (model_dir / "sample-labels" / "lab-0002.npy").write_bytes(b"another new label")
    v2 = remote_zoo.publish(model_dir, STUB).manifest
    rem = remote_zoo.remote()
    loc1 = remote_meta.read_locator(rem, STUB, 1)
    loc2 = remote_meta.read_locator(rem, STUB, 2)
    small = {f.md5 for f in v2.files if f.size < packs.SMALL}
    assert set(loc2) == small  # every small object of v2 is located, old ones through v1's packs
    new = {f.md5 for f in v2.files} - {f.md5 for f in v1.files}
    new_packs = {loc2[o].pack for o in new}
    assert len(new_packs) == 1 and not new_packs & {s.pack for s in loc1.values()}
    index = packs.parse_locator(backend.read(f"packs/{new_packs.pop()}.idx").decode())
    assert set(index) == new  # the v2 pack holds exactly the two new objects

    theirs = clone(remote_zoo, tmp_path / "clone")
    got = tree_bytes(theirs.pull(STUB, dest=tmp_path / "out").dest)
    assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == {f.path: f.sha256 for f in v2.files}

    # A damaged pack costs speed, not correctness: its objects come loose.
    pack_keys = [k for k in backend.keys() if k.endswith(".pack")]
    for key in pack_keys:
        backend.write(key, bytes(len(backend.read(key))))
    other = clone(remote_zoo, tmp_path / "clone2")
    got2 = tree_bytes(other.pull(STUB, dest=tmp_path / "out2").dest)
    assert got2 == got


def test_push_replaces_a_truncated_object(remote_zoo: Zoo, backend: Backend, model_dir: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    onnx = next(f for f in manifest.files if f.path == "model.onnx")
    backend.write(oid_relpath(onnx.md5), backend.read(oid_relpath(onnx.md5))[:100])  # an interrupted copy
    assert remote_zoo.push(full=True).objects == 1  # (a listed version's objects: asked about with --full)
    assert hashlib.sha256(backend.read(oid_relpath(onnx.md5))).hexdigest() == onnx.sha256


def test_missing_backend_names_the_extra(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    registry = importlib.import_module("fsspec.registry")  # the module (fsspec.registry is a mapping)

    # The test extra installs gcsfs and adlfs (the emulator backends): take them away.
    for module in ("gcsfs", "adlfs"):
        monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    for proto in ("gs", "gcs", "az", "abfs", "abfss"):
        monkeypatch.delitem(registry._registry, proto, raising=False)
    for url, extra in (("gs://bucket/zoo", "gcs"), ("az://container/zoo", "azure")):
        result = cli("list", "--remote", url)
        assert result.exit_code == 1
        assert f"pip install 'zoo-repo[{extra}]'" in result.stderr


def test_metadata_create_never_replaces(remote_zoo: Zoo, backend: Backend) -> None:
    rem = remote_zoo.remote()
    assert rem.create_text("zoo/probe/one.yaml", "first\n") is True
    assert rem.create_text("zoo/probe/one.yaml", "second\n") is False
    assert rem.get_text("zoo/probe/one.yaml") == "first\n"


def test_two_checkouts_racing_for_one_version(remote_zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    from zoo_repo import RemoteError

    remote_zoo.publish(model_dir, STUB)
    other = clone(remote_zoo, tmp_path / "other")
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"ours")
    remote_zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"theirs")
    with pytest.raises(RemoteError, match="another checkout published or tagged since"):
        other.publish(model_dir, STUB)  # behind the remote's listing: refused before anything is written
    assert other.versions(STUB) == [1] and not (other.manifests_dir / STUB / "v2").exists()
    theirs = Zoo.open(remote_zoo.remote().url if "://" in remote_zoo.remote().url else
                      Path(remote_zoo.remote().url).as_uri(),
                      remote_options=remote_zoo.remote_config().options, cache_dir=tmp_path / "cache")
    label = next(f for f in theirs.manifest(STUB, 2).files if f.path == "sample-labels/lab-0000.npy")
    assert label.sha256 == hashlib.sha256(b"ours").hexdigest()  # the first publisher's v2 stands


@pytest.mark.parametrize("link", ["copy", "reflink", "hardlink"])
def test_every_link_mode_places_verified_bytes(remote_zoo: Zoo, model_dir: Path, tmp_path: Path, link: str) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    theirs = clone(remote_zoo, tmp_path / "clone")
    pulled = theirs.pull(STUB, dest=tmp_path / "out", link=link)
    got = tree_bytes(pulled.dest)
    assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == {f.path: f.sha256 for f in manifest.files}
    assert theirs.verify().ok  # the store holds every object too, not only the destination
    if link != "hardlink":  # copies are the user's to change: the store keeps its own bytes
        label = pulled.dest / "sample-labels" / "lab-0000.npy"
        label.write_bytes(b"edited")
        assert theirs.verify().ok
        assert not list(pulled.dest.rglob(".*.tmp-*"))


@pytest.mark.requires("credentials")
def test_a_refused_push_changes_nothing_and_a_rerun_completes(remote_zoo: Zoo, backend: Backend, model_dir: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch, cli) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    lost = oid_relpath(manifest.files[0].md5)
    before = backend.keys()
    backend.delete(lost)
    with monkeypatch.context() as denied:
        for key, value in backend.deny.items():
            denied.setenv(key, value)
        result = cli("--zoo", remote_zoo.root, "push", "--full")  # (a listed version's object: --full asks)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: remote ") and "access denied" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(value in result.stderr for value in backend.deny.values())
    assert backend.keys() == before - {lost}
    assert remote_zoo.push(full=True).objects == 1
    assert backend.keys() == before
