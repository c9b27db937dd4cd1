"""The environment fails: endpoints that never answer or die mid-transfer, a full
disk, a file size limit, a read-only or forbidden destination, names too long,
files where folders go; a checkout whose metadata files are FIFOs or links to
/dev/zero. Every case is one `Error:` line (Hint: lines allowed), exit 1 or 2,
no traceback, nothing at the destination, in bounded time and memory: the real
`zoo` process, watched (``bounded``). Faults are made for real: a tmpfs (as
root), RLIMIT_FSIZE, capabilities dropped with setpriv, SeaweedFS SIGKILLed."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB, hermetic_home
from tests.remote.conftest import s3_client
from tests.trust.bounded import (
    Ran,
    assert_bounded,
    assert_nothing_at,
    assert_one_line,
    run_watched,
    tree_digests,
)
from zoo_repo import Zoo

ROOT = os.geteuid() == 0


# -- endpoints that never answer ------------------------------------------------------


@contextlib.contextmanager
def black_hole(backlog: int = 64, fill: bool = False) -> Iterator[int]:
    """A loopback port that accepts connections (or, with ``fill``, accepts none: its one
    queue slot is taken) and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0 if fill else backlog)
    held: list[socket.socket] = []
    stop = threading.Event()
    if fill:  # Linux drops further SYNs once the queue of a backlog-0 socket holds one: connects time out
        first = socket.create_connection(server.getsockname(), timeout=5)
        held.append(first)

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    if not fill:
        thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        if not fill:
            thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    for key, value in {**weed.s3_env(), "AWS_CONFIG_FILE": str(empty),
                       "AWS_SHARED_CREDENTIALS_FILE": str(empty)}.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)


def _pull_s3(tmp_path: Path, port: int, *options: str) -> Ran:
    return run_watched("pull", STUB, "--remote", "s3://bucket/zoo", "-o", f"endpointurl=http://127.0.0.1:{port}",
                       *options, "--dest", tmp_path / "dest", cwd=tmp_path,
                       env={"ZOO_CACHE_DIR": str(tmp_path / "cache")})


@pytest.mark.usefixtures("aws_env")
def test_s3_black_hole_fails_within_its_read_timeout(tmp_path: Path) -> None:
    with black_hole() as port:
        ran = _pull_s3(tmp_path, port, "-o", "read_timeout=2", "-o", "connect_timeout=2")
    line = assert_one_line(ran, (1,), f"http://127.0.0.1:{port} accepted the connection but sent no answer for 2 s",
                           max_seconds=15)
    assert "(read timeout)" in line and "-o read_timeout=SECONDS" in ran.stderr
    print(f"black hole, read_timeout=2: failed after {ran.seconds:.1f} s")
    assert_nothing_at(tmp_path / "dest")


@pytest.mark.usefixtures("aws_env")
def test_s3_black_hole_with_the_default_timeouts(tmp_path: Path) -> None:
    with black_hole() as port:
        ran = _pull_s3(tmp_path, port)
    assert_one_line(ran, (1,), "sent no answer for 10 s (read timeout)", max_seconds=50)
    print(f"black hole, default timeouts: failed after {ran.seconds:.1f} s")
    assert_nothing_at(tmp_path / "dest")


@pytest.mark.usefixtures("aws_env")
def test_s3_endpoint_that_accepts_no_connection(tmp_path: Path) -> None:
    with black_hole(fill=True) as port:
        ran = _pull_s3(tmp_path, port, "-o", "connect_timeout=1")
    line = assert_one_line(ran, (1,), f"no connection to http://127.0.0.1:{port} within 1 s (connect timeout)",
                           max_seconds=15)
    assert line and "-o connect_timeout=SECONDS" in ran.stderr


@pytest.mark.usefixtures("aws_env")
def test_s3_nothing_listening(tmp_path: Path) -> None:
    port = weed.free_ports(1)[0]
    ran = _pull_s3(tmp_path, port)
    assert_one_line(ran, (1,), "cannot reach the endpoint", max_seconds=15)


def test_http_black_hole(tmp_path: Path) -> None:
    with black_hole() as port:
        ran = run_watched("list", "--remote", f"http://127.0.0.1:{port}/zoo", "-o", "read_timeout=2", cwd=tmp_path,
                          env={"ZOO_CACHE_DIR": str(tmp_path / "cache")})
    assert_one_line(ran, (1,), f"remote http://127.0.0.1:{port}/zoo: ", max_seconds=15)
    assert "read timeout" in ran.stderr or "timed out" in ran.stderr, ran.stderr


def test_a_timeout_that_is_not_a_number(tmp_path: Path) -> None:
    ran = run_watched("list", "--remote", "http://127.0.0.1:9/zoo", "-o", "read_timeout=soon", cwd=tmp_path,
                      env={"ZOO_CACHE_DIR": str(tmp_path / "cache")})
    assert_one_line(ran, (1,), "read_timeout='soon' is not a number of seconds")


# -- a directory remote, and the local disk failing ------------------------------------------


@pytest.fixture(scope="module")
def remote(built_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The base model published once to a directory remote: (remote, path → sha256)."""
    base = tmp_path_factory.mktemp("faults")
    with hermetic_home(base / "home"):
        zoo = Zoo.init(base / "zoo", remote=str(base / "remote"))
        manifest = zoo.publish(built_models["base"], STUB).manifest
    return base / "remote", {f.path: f.sha256 for f in manifest.files}


def _pull(remote: Path, dest: Path, cwd: Path, cache: Path | None = None, **kw: object) -> Ran:
    return run_watched("pull", STUB, "--remote", remote, "--dest", dest, cwd=cwd,
                       env={"ZOO_CACHE_DIR": str(cache or cwd / "cache")}, **kw)  # type: ignore[arg-type]


@contextlib.contextmanager
def tmpfs(where: Path, size: str, read_only: bool = False) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _no_partial_file(dest: Path, published: dict[str, str]) -> None:
    """No temp name left, and whatever file is at ``dest`` holds exactly its published bytes."""
    got = tree_digests(dest) if dest.is_dir() else {}
    assert all(published.get(path) == digest for path, digest in got.items()), got


def _full_disk(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> Path:
    """Pull to a destination on a disk too small for the model: the refusal, and the destination."""
    if ROOT:
        with tmpfs(tmp_path / "small", "256k") as small:
            ran = _pull(remote[0], small / "dest", tmp_path)
            line = assert_one_line(ran, (1,), "no space left on the device")
            assert str(small / "dest") in line and ".tmp-" not in line
            shutil.copytree(small / "dest", tmp_path / "left", dirs_exist_ok=True) if (small / "dest").exists() \
                else None
    else:  # without root no tmpfs: the same refusal made by a file size limit
        ran = _pull(remote[0], tmp_path / "left", tmp_path, file_size_limit=64 << 10)
        assert_one_line(ran, (1,), "file too large")
    return tmp_path / "left"


def test_full_disk_at_the_destination(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    _no_partial_file(_full_disk(remote, tmp_path), remote[1])


def test_full_disk_leaves_nothing_at_the_destination(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    assert_nothing_at(_full_disk(remote, tmp_path))


def test_full_disk_in_the_cache(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    if not ROOT:
        pytest.skip("needs a tmpfs (root)")  # the file size limit case covers the same writes
    with tmpfs(tmp_path / "small", "256k") as small:
        ran = _pull(remote[0], tmp_path / "dest", tmp_path, cache=small / "cache")
    assert_one_line(ran, (1,), "no space left on the device")
    assert_nothing_at(tmp_path / "dest")


def test_file_size_limit(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    ran = _pull(remote[0], tmp_path / "dest", tmp_path, file_size_limit=64 << 10)
    assert_one_line(ran, (1,), "file too large for this file system or the file size limit")
    assert_nothing_at(tmp_path / "dest")
    again = _pull(remote[0], tmp_path / "dest", tmp_path)  # the limit lifted, the same pull completes
    assert again.code == 0, again.stderr
    assert tree_digests(tmp_path / "dest") == remote[1]


def test_read_only_destination(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    if ROOT:
        with tmpfs(tmp_path / "ro", "1m", read_only=True) as ro:
            ran = _pull(remote[0], ro / "dest", tmp_path)
            line = assert_one_line(ran, (1,), "the file system is read-only")
            assert str(ro / "dest") in line
    else:
        (tmp_path / "ro").mkdir(mode=0o555)
        ran = _pull(remote[0], tmp_path / "ro" / "dest", tmp_path)
        assert_one_line(ran, (1,), "permission denied")


def _unprivileged() -> list[str]:
    """Run as root without the capabilities that override file permissions (else as is)."""
    if ROOT and shutil.which("setpriv"):
        return ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return []


def test_permission_denied_at_the_destination(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    (tmp_path / "cache").mkdir()
    ran = _pull(remote[0], locked / "dest", tmp_path, prefix=_unprivileged())
    line = assert_one_line(ran, (1,), "permission denied")
    assert str(locked) in line
    assert not (locked / "dest").exists()


def test_permission_denied_on_the_remote(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    copy = tmp_path / "remote"
    shutil.copytree(remote[0], copy)
    index = copy / "zoo" / "index" / "top.json"
    index.chmod(0o000)
    ran = run_watched("list", "--remote", copy, cwd=tmp_path, env={"ZOO_CACHE_DIR": str(tmp_path / "cache")},
                      prefix=_unprivileged())
    line = assert_one_line(ran, (1,), "permission denied")
    assert "top.json" in line


def test_name_too_long(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    ran = _pull(remote[0], tmp_path / ("d" * 300), tmp_path)
    assert_one_line(ran, (1,), "is too long for the file system")
    assert list(tmp_path.glob("ddd*")) == []


def test_a_very_deep_destination(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["deep" * 25] * 45)  # 4,500 characters: past PATH_MAX
    ran = _pull(remote[0], deep, tmp_path)
    assert_one_line(ran, (1,), "is too long for the file system")
    assert not (tmp_path / ("deep" * 25)).exists()


def test_destination_under_a_file(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a file, not a folder")
    ran = _pull(remote[0], tmp_path / "plain" / "dest", tmp_path)
    assert_one_line(ran, (1, 2), "plain")
    assert (tmp_path / "plain").read_text() == "a file, not a folder"


def test_a_file_that_became_a_folder(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    (dest / "model.onnx").mkdir(parents=True)  # the earlier version's file is a folder here
    ran = _pull(remote[0], dest, tmp_path)
    assert_one_line(ran, (1, 2), "model.onnx")
    assert [p.name for p in dest.iterdir()] == ["model.onnx"] and (dest / "model.onnx").is_dir()


def test_a_symlink_loop_on_the_remote(remote: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    copy = tmp_path / "remote"
    shutil.copytree(remote[0], copy)
    folder = sorted((copy / "files" / "md5").iterdir())[0]
    shutil.rmtree(folder)
    os.symlink(folder, folder)  # ELOOP for the objects under it
    ran = _pull(copy, tmp_path / "dest", tmp_path)
    assert_one_line(ran, (1, 2), "symbolic link")
    assert_nothing_at(tmp_path / "dest")


# -- the S3 server dies mid-pull ------------------------------------------------------


@pytest.mark.usefixtures("aws_env")
def test_s3_server_killed_mid_pull(built_models: dict[str, Path], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    server = weed.start(tmp_path / "weed")
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        s3_client(server.endpoint).create_bucket(Bucket="dies")
        model = tmp_path / "model"
        shutil.copytree(built_models["base"], model)
        for i in range(4):
            (model / "numpy" / f"shard-{i}.bin").write_bytes(os.urandom(12 << 20))
        zoo = Zoo.init(tmp_path / "zoo", remote="s3://dies/zoo",
                       remote_options={"endpointurl": server.endpoint, "region": "us-east-1"})
        published = {f.path: f.sha256 for f in zoo.publish(model, STUB).manifest.files}
        cache, dest = tmp_path / "cache", tmp_path / "dest"
        result: list[Ran] = []
        pulling = threading.Thread(target=lambda: result.append(run_watched(
            "pull", STUB, "--remote", "s3://dies/zoo", "-o", "read_timeout=3", "-o", "connect_timeout=2",
            "--dest", dest, cwd=tmp_path, env={"ZOO_CACHE_DIR": str(cache)})))
        pulling.start()
        deadline = time.monotonic() + 60
        while not any(p.is_file() and p.stat().st_size > (1 << 20) for p in cache.rglob("*")):
            assert time.monotonic() < deadline and pulling.is_alive(), "the download never started"
            time.sleep(0.02)
        server.stop()
        pulling.join()
        assert_one_line(result[0], (1,), "remote s3://dies/zoo: ", max_seconds=60)
        assert_nothing_at(dest)

        server = weed.start(tmp_path / "weed", ports=server.grpc_ports)
        again = run_watched("pull", STUB, "--remote", "s3://dies/zoo", "--dest", dest, cwd=tmp_path,
                            env={"ZOO_CACHE_DIR": str(cache)})
        assert_bounded(again)
        assert again.code == 0, again.stderr
        assert tree_digests(dest) == published
    finally:
        server.stop()


# -- a checkout whose metadata files are not files ------------------------------------------


@pytest.fixture
def checkout(built_models: dict[str, Path], tmp_path: Path) -> Zoo:
    zoo = Zoo.init(tmp_path / "zoo", remote=str(tmp_path / "remote"))
    zoo.publish(built_models["base"], STUB)
    zoo.tag(f"{STUB}@v1", "prod")
    return zoo


def _spoil(zoo: Zoo, rel: str, kind: str) -> str:
    path = zoo.root / "manifests" / STUB / rel
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink("/dev/zero", path)
    return f"manifests/{STUB}/{rel}"


@pytest.mark.parametrize("kind", ["fifo", "zero"])
@pytest.mark.parametrize("name", ["v1/manifest.yaml", "v1/model.md", "aliases.yaml"])
def test_check_refuses_special_files(checkout: Zoo, tmp_path: Path, name: str, kind: str) -> None:
    rel = _spoil(checkout, name, kind)
    ran = run_watched("--zoo", checkout.root, "check", cwd=tmp_path)
    assert_bounded(ran)
    assert ran.code in (1, 2) and "Traceback" not in ran.stderr, ran.stderr
    assert rel in ran.stdout + ran.stderr


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_list_refuses_a_special_manifest(checkout: Zoo, tmp_path: Path, kind: str) -> None:
    rel = _spoil(checkout, "v1/manifest.yaml", kind)
    ran = run_watched("--zoo", checkout.root, "list", cwd=tmp_path)
    assert_one_line(ran, (2,), f"{rel}: is not a regular file")


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_show_refuses_special_aliases(checkout: Zoo, tmp_path: Path, kind: str) -> None:
    rel = _spoil(checkout, "aliases.yaml", kind)
    ran = run_watched("--zoo", checkout.root, "show", f"{STUB}@prod", cwd=tmp_path)
    assert_one_line(ran, (2,), f"{rel}: is not a regular file")


def test_review_refuses_a_special_manifest(checkout: Zoo, tmp_path: Path) -> None:
    subprocess.run(["git", "-C", str(checkout.root), "checkout", "-q", "-b", "pr"], check=True)
    rel = _spoil(checkout, "v1/manifest.yaml", "fifo")
    ran = run_watched("--zoo", checkout.root, "review", "--base", "main", cwd=tmp_path)
    assert_bounded(ran)  # a review is a report (exit 0): the refusal is one of its lines
    assert ran.code == 0 and "Traceback" not in ran.stderr, ran.stderr
    assert f"`{rel}`: [layout] is not a regular file (a FIFO)" in ran.stdout


# -- a sample archive that inflates a thousandfold ---------------------------------------


def _zeros_tar_gz(path: Path, member: str, size: int) -> None:
    import io
    import tarfile

    class Zeros(io.RawIOBase):
        def __init__(self, left: int) -> None:
            self.left = left

        def readable(self) -> bool:
            return True

        def readinto(self, buf: bytearray) -> int:  # type: ignore[override]
            n = min(len(buf), self.left)
            buf[:n] = bytes(n)
            self.left -= n
            return n

    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = size
        tar.addfile(info, io.BufferedReader(Zeros(size)))


def test_a_sample_archive_bomb_is_refused_in_bounded_memory(built_models: dict[str, Path], tmp_path: Path) -> None:
    zoo = Zoo.init(tmp_path / "zoo", remote=str(tmp_path / "remote"))
    model = tmp_path / "model"
    shutil.copytree(built_models["base"], model)
    shutil.rmtree(model / "sample-inputs")
    _zeros_tar_gz(model / "sample-inputs.tar.gz", "inp-0000.npy", 300 << 20)  # about 300 KB of gzip
    assert (model / "sample-inputs.tar.gz").stat().st_size < 1 << 20
    ran = run_watched("--zoo", zoo.root, "publish", model, "--stub", STUB, cwd=tmp_path)
    assert_one_line(ran, (2,), "sample-inputs.tar.gz: member 'inp-0000.npy' inflates to 314572800 bytes")
    # A publish with onnx loaded peaks near 100 MiB; holding the inflated 300 MiB
    # member would add all of it.
    assert ran.rss_mib < 250, ran.rss_mib
    assert zoo.versions(STUB) == []


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_lockfile_that_is_not_a_file(checkout: Zoo, tmp_path: Path, kind: str) -> None:
    lockfile = tmp_path / "zoo.lock"
    os.mkfifo(lockfile) if kind == "fifo" else os.symlink("/dev/zero", lockfile)
    ran = run_watched("--zoo", checkout.root, "pull", "--locked", "--lockfile", lockfile, "--dest", tmp_path / "dest",
                      cwd=tmp_path)
    assert_one_line(ran, (2,), f"{lockfile}: is not a regular file")
    assert_nothing_at(tmp_path / "dest")
