"""One suite, every remote: a directory and a real S3 server (SeaweedFS)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STUB, clone, tree_bytes
from tests.remote.conftest import RemoteSpec
from zoo_repo import IntegrityError, ObjectMissing, Zoo
from zoo_repo.remote.base import Remote
from zoo_repo.store.objects import oid_relpath


def test_publish_then_pull_in_a_fresh_clone(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path, tmp_path: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    expected = {oid_relpath(f.md5) for f in manifest.files} | {oid_relpath(manifest.tree_md5 + ".dir")}
    keys = remote.keys()
    assert {k for k in keys if k.startswith("files/")} == expected
    meta = {f"zoo/manifests/{STUB}/v1/manifest.yaml", f"zoo/manifests/{STUB}/v1/model.md", "zoo/index.json"}
    if remote.kind == "s3":  # small objects are also packed for fast pulls; a directory needs no packs
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


def test_inventory_by_listing_and_by_head_agree(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path) -> None:
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


def test_temp_names_are_never_objects(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    oid = manifest.files[0].md5
    remote.write(f"files/md5/{oid[:2]}/.{oid[2:]}.tmp-abandoned", b"partial")
    remote.write(f"files/md5/{oid[:2]}/{'0' * 30}.partial", b"junk")
    assert set(remote_zoo.remote().inventory({f.md5 for f in manifest.files} | {"0" * 32})) == {
        f.md5 for f in manifest.files}


def test_corrupt_and_missing_objects(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path, tmp_path: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    for key in [k for k in remote.keys() if k.startswith("packs/")]:
        remote.delete(key)  # the loose path; packs have their own test
    onnx = next(f for f in manifest.files if f.path == "model.onnx")
    card = next(f for f in manifest.files if f.path == "model.md")
    data = bytearray(remote.read(oid_relpath(onnx.md5)))
    data[-1] ^= 1
    remote.write(oid_relpath(onnx.md5), bytes(data))

    theirs = clone(remote_zoo, tmp_path / "clone")
    with pytest.raises(IntegrityError, match="model.onnx: sha256 mismatch"):
        theirs.pull(STUB, dest=tmp_path / "out", include=("onnx",))
    assert not theirs.store.has(onnx.md5) and not theirs.store.temp_files()
    assert not (tmp_path / "out").exists()

    remote.delete(oid_relpath(card.md5))
    with pytest.raises(ObjectMissing, match="model.md: object md5:"):
        theirs.pull(STUB, dest=tmp_path / "out2", include=("card",))
    assert not (tmp_path / "out2").exists()


def test_push_is_idempotent_and_restores_deleted_objects(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    before = remote.keys()
    assert remote_zoo.push().objects == 0
    assert remote.keys() == before
    remote.delete(oid_relpath(manifest.files[0].md5))
    assert remote_zoo.push().objects == 1
    assert remote.keys() == before


def test_read_bytes_and_size(remote_zoo: Zoo, model_dir: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    rem: Remote = remote_zoo.remote()
    card = next(f for f in manifest.files if f.path == "model.md")
    assert rem.read_bytes(card.md5) == (model_dir / "model.md").read_bytes()
    assert rem.size(card.md5) == card.size
    assert rem.size("0" * 32) is None


def test_large_objects_come_in_verified_parts(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The parallel ranged-GET path, with small parts so that ordering across parts matters."""
    import os

    from zoo_repo.remote.s3 import get as fastget
    from zoo_repo.remote.s3 import remote as remote_module

    monkeypatch.setattr(remote_module, "FAST_GET_MIN", 1 << 20)
    monkeypatch.setattr(fastget, "PART_SIZE", 256 << 10)
    big = os.urandom(3 << 20) + b"tail"
    (model_dir / "numpy" / "weights.bin").write_bytes(big)
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    entry = next(f for f in manifest.files if f.path == "numpy/weights.bin")

    theirs = clone(remote_zoo, tmp_path / "clone")
    pulled = theirs.pull(STUB, dest=tmp_path / "out", include=("framework",))
    assert (pulled.dest / "numpy" / "weights.bin").read_bytes() == big

    corrupt = bytearray(big)
    corrupt[(2 << 20) + 7] ^= 0x55  # in a middle part
    remote.write(oid_relpath(entry.md5), bytes(corrupt))
    other = clone(remote_zoo, tmp_path / "clone2")
    with pytest.raises(IntegrityError, match="numpy/weights.bin: sha256 mismatch"):
        other.pull(STUB, dest=tmp_path / "out2", include=("framework",))
    assert not other.store.has(entry.md5) and not other.store.temp_files()
    assert not (tmp_path / "out2").exists()  # nor any copy streamed beside the download


def test_packs_hold_only_new_small_objects_and_fall_back_to_loose(
    remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path, tmp_path: Path
) -> None:
    if remote.kind != "s3":
        pytest.skip("directory remotes need no packs")
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
    index = packs.parse_locator(remote.read(f"packs/{new_packs.pop()}.idx").decode())
    assert set(index) == new  # the v2 pack holds exactly the two new objects

    theirs = clone(remote_zoo, tmp_path / "clone")
    got = tree_bytes(theirs.pull(STUB, dest=tmp_path / "out").dest)
    assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == {f.path: f.sha256 for f in v2.files}

    # A damaged pack costs speed, not correctness: its objects come loose.
    pack_keys = [k for k in remote.keys() if k.endswith(".pack")]
    for key in pack_keys:
        remote.write(key, bytes(len(remote.read(key))))
    other = clone(remote_zoo, tmp_path / "clone2")
    got2 = tree_bytes(other.pull(STUB, dest=tmp_path / "out2").dest)
    assert got2 == got


def test_push_replaces_a_truncated_object(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path) -> None:
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    onnx = next(f for f in manifest.files if f.path == "model.onnx")
    remote.write(oid_relpath(onnx.md5), remote.read(oid_relpath(onnx.md5))[:100])  # an interrupted copy
    assert remote_zoo.push().objects == 1
    assert hashlib.sha256(remote.read(oid_relpath(onnx.md5))).hexdigest() == onnx.sha256


def test_missing_backend_names_the_extra(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    for url, extra in (("gs://bucket/zoo", "gcs"), ("az://container/zoo", "azure")):
        result = cli("list", "--remote", url)
        assert result.exit_code == 1
        assert f"pip install 'zoo-repo[{extra}]'" in result.stderr


def test_large_uploads_go_up_in_parts(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The multipart path (S3), with parts small enough that there are several."""
    import os

    from zoo_repo.remote.s3 import put as fastput
    from zoo_repo.remote.s3 import remote as remote_module

    monkeypatch.setattr(remote_module, "FAST_PUT_MIN", 6 << 20)
    monkeypatch.setattr(fastput, "PART_SIZE", 5 << 20)
    big = os.urandom((12 << 20) + 123)
    (model_dir / "numpy" / "weights.bin").write_bytes(big)
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    entry = next(f for f in manifest.files if f.path == "numpy/weights.bin")
    assert hashlib.sha256(remote.read(oid_relpath(entry.md5))).hexdigest() == entry.sha256
    pulled = clone(remote_zoo, tmp_path / "clone").pull(STUB, dest=tmp_path / "out", include=("framework",))
    assert (pulled.dest / "numpy" / "weights.bin").read_bytes() == big


def test_wrong_credentials_fail_in_one_line(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch, cli) -> None:  # type: ignore[no-untyped-def]
    if remote.kind != "s3":
        pytest.skip("a directory has no credentials")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    result = cli("--zoo", remote_zoo.root, "publish", model_dir, "--stub", STUB)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: remote s3://") and "access denied" in result.stderr
    assert "Traceback" not in result.stderr
    assert remote_zoo.versions(STUB) == []
    assert "wrong-secret" not in result.stderr


def test_metadata_create_never_replaces(remote_zoo: Zoo, remote: RemoteSpec) -> None:
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
    with pytest.raises(RemoteError, match=f"the remote already has a different {STUB}@v2"):
        other.publish(model_dir, STUB)
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


def test_a_refused_pull_leaves_no_file_behind(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, cli) -> None:  # type: ignore[no-untyped-def]
    if remote.kind != "s3":
        pytest.skip("a directory has no credentials")
    remote_zoo.publish(model_dir, STUB)
    theirs = clone(remote_zoo, tmp_path / "clone")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    result = cli("--zoo", theirs.root, "pull", STUB, "--dest", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: remote s3://") and "access denied" in result.stderr
    assert "Traceback" not in result.stderr and "wrong-secret" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert list(theirs.store.oids()) == []


def _pull_reporting_s3_modules(root: Path, dest: Path, env: dict[str, str] | None = None) -> list[str]:
    code = ("import sys; from zoo_repo import Zoo; "
            "Zoo.open(sys.argv[1]).pull(sys.argv[2], dest=sys.argv[3]); "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'s3fs', 'aiobotocore', 'botocore'})))")
    proc = subprocess.run([sys.executable, "-c", code, str(root), STUB, str(dest)], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_pulls_from_s3_sign_reads_without_loading_s3fs(remote_zoo: Zoo, remote: RemoteSpec, model_dir: Path,
                                                        tmp_path: Path) -> None:
    """Reads need a signature, not s3fs's asynchronous stack (a quarter of a second to import): with
    the endpoint, region and keys given outright, not even botocore. An addressing style chosen in
    the AWS config file is botocore's to apply."""
    if remote.kind != "s3":
        pytest.skip("S3 only")
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    want = {f.path: f.sha256 for f in manifest.files}
    theirs = clone(remote_zoo, tmp_path / "clone")
    assert _pull_reporting_s3_modules(theirs.root, tmp_path / "out") == []
    assert {p: hashlib.sha256(b).hexdigest() for p, b in tree_bytes(tmp_path / "out").items()} == want

    config = tmp_path / "aws-config"
    config.write_text("[default]\ns3 =\n    addressing_style = path\n")
    other = clone(remote_zoo, tmp_path / "clone2")
    env = {**os.environ, "AWS_CONFIG_FILE": str(config)}
    assert _pull_reporting_s3_modules(other.root, tmp_path / "out2", env) == ["botocore"]
    assert {p: hashlib.sha256(b).hexdigest() for p, b in tree_bytes(tmp_path / "out2").items()} == want
