"""A hostile remote, seen by consumers that have only its URL (`zoo pull STUB
--remote URL --dest D`, `zoo list --remote URL`): crafted indexes, manifests,
locators and objects, special files and symlinks where files should be, sizes
that lie. Each case ends with exactly the published bytes (exit 0), or with
one `Error:` line, exit 1 or 2, no traceback, nothing at the destination, in
bounded time and memory (the real process, watched: ``bounded``)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB, hermetic_home, old_form
from tests.remote.conftest import S3Objects, seaweed_server, session_bucket  # noqa: F401 - fixtures
from tests.trust.bounded import assert_bounded, assert_nothing_at, assert_one_line, run_watched, tree_digests
from zoo_repo import Zoo
from zoo_repo.core.manifest import digest_of

V1 = f"zoo/manifests/{STUB}/v1"
MANIFEST = f"{V1}/manifest.yaml"
INDEX = "zoo/index.json"


@dataclass(frozen=True)
class Published:
    """What the honest publisher put on the remote: the files' sha256 and the objects' keys."""

    sha256: dict[str, str]  # model path → sha256
    keys: dict[str, str]  # model path → files/md5/ab/cdef…
    sizes: dict[str, int]


def _publish(model: Path, zoo_dir: Path, remote: str, options: dict[str, str] | None = None) -> Published:
    zoo = Zoo.init(zoo_dir, remote=remote, remote_options=options)
    manifest = zoo.publish(model, STUB).manifest
    old_form(remote, options)  # the cases craft zoo/index.json (tests/remote/test_sharded_index.py: the shards)
    return Published({f.path: f.sha256 for f in manifest.files},
                     {f.path: f"files/md5/{f.md5[:2]}/{f.md5[2:]}" for f in manifest.files},
                     {f.path: f.size for f in manifest.files})


# -- a directory remote ----------------------------------------------------------


@pytest.fixture(scope="module")
def published_dir(built_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Published]:
    """One honest publish to a directory remote per module; each case gets a copy to spoil."""
    base = tmp_path_factory.mktemp("honest")
    with hermetic_home(base / "home"):
        published = _publish(built_models["base"], base / "zoo", str(base / "remote"))
    return base / "remote", published


@dataclass
class DirRemote:
    root: Path
    published: Published

    def path(self, key: str) -> Path:
        return self.root / key

    def replace(self, key: str, make: Callable[[Path], object]) -> None:
        """Put something else at ``key``: ``make`` creates it at the given path."""
        path = self.path(key)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.chmod(0o644)
            path.unlink()
        make(path)

    def object_key(self, model_path: str = "model.onnx") -> str:
        return self.published.keys[model_path]

    def manifest_edit(self, old: str, new: str) -> None:
        """A crafted manifest, and an index that vouches for it (the remote is the attacker's)."""
        text = self.path(MANIFEST).read_text()
        assert old in text, old
        self.write_manifest(text.replace(old, new, 1))

    def write_manifest(self, text: str) -> None:
        self.replace(MANIFEST, lambda p: p.write_text(text))
        index = json.loads(self.path(INDEX).read_text())
        index["stubs"][STUB]["v1"] = digest_of(text)
        self.path(INDEX).write_text(json.dumps(index))


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _zero_device(path: Path) -> None:
    # A character device with /dev/zero's numbers, made in the remote itself.
    os.mknod(path, 0o644 | 0o020000, os.makedev(1, 5))


def _link(target: str) -> Callable[[Path], object]:
    return lambda path: os.symlink(target, path)


def _sparse(size: int) -> Callable[[Path], object]:
    def make(path: Path) -> None:
        with open(path, "wb") as fh:
            fh.truncate(size)
    return make


def _text(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(text)


def _on(key: str | Callable[[DirRemote], str], make: Callable[[Path], object]) -> Callable[[DirRemote], None]:
    return lambda r: r.replace(key(r) if callable(key) else key, make)


def _object(make: Callable[[Path], object]) -> Callable[[DirRemote], None]:
    return _on(lambda r: r.object_key(), make)


def _appended(r: DirRemote) -> None:
    data = r.path(r.object_key()).read_bytes()
    r.replace(r.object_key(), lambda p: p.write_bytes(data + b"\0" * 4096))


def _truncated(r: DirRemote) -> None:
    data = r.path(r.object_key()).read_bytes()
    r.replace(r.object_key(), lambda p: p.write_bytes(data[: len(data) // 2]))


def resized(text: str, path: str, new: Callable[[int], int]) -> str:
    """The manifest with file ``path`` declared ``new(size)`` bytes long, and its total to match."""
    import re

    line = re.search(rf"^- {{path: {re.escape(path)}, role: \w[\w-]*, size: (\d+),", text, re.M)
    total = re.search(r"^size: (\d+)$", text, re.M)
    assert line and total, text[:2000]
    old = int(line.group(1))
    text = text[:line.start(1)] + str(new(old)) + text[line.end(1):]
    total = re.search(r"^size: (\d+)$", text, re.M)
    assert total
    return text[:total.start(1)] + str(int(total.group(1)) - old + new(old)) + text[total.end(1):]


def _declared(path: str, new: Callable[[int], int]) -> Callable[[DirRemote], None]:
    return lambda r: r.write_manifest(resized(r.path(MANIFEST).read_text(), path, new))


def _nothing(r: DirRemote) -> None:
    pass


def _remove_deep(top: Path) -> None:
    """Remove a chain of nested folders from the bottom up: shutil.rmtree (and so pytest's
    cleanup of old temp dirs) recurses once per level and fails past about a thousand."""
    chain = [top]
    while (chain[-1] / "a").is_dir():
        chain.append(chain[-1] / "a")
    for folder in reversed(chain):
        shutil.rmtree(folder, ignore_errors=True)


def _deep_manifests(r: DirRemote) -> None:
    folder = r.path(f"zoo/manifests/{STUB}")
    for _ in range(1500):  # deeper than Python's recursion limit, shorter than PATH_MAX on the way down
        folder = folder / "a"
        os.mkdir(folder)
    (folder / "manifest.yaml").write_text("schema: 1\n")


def _log(at: int, **fields: object) -> Callable[[DirRemote], None]:
    """Append a crafted move to the projection's log at ``at``, past the one the honest publish made."""
    def attack(r: DirRemote) -> None:
        doc = {"schema": 1, "seq": at, "commit": "f" * 40, "branch": "main", "added": {}, "aliases": {}}
        r.path(f"zoo/projection/{at:010d}.json").write_text(json.dumps({**doc, **fields}))
    return attack


def _endless_log(r: DirRemote) -> None:
    index = json.loads(r.path(INDEX).read_text())
    index["seq"] = 1  # readers follow the log from there, and it goes on and on
    r.path(INDEX).write_text(json.dumps(index))
    for at in range(2, 10_003):  # each a well-formed move that adds nothing
        _log(at)(r)


PULL, LIST = "pull", "list"

# name, what the attacker does, which command, the exit status (0: the published bytes), the error's fragment
DIR_CASES: list[tuple[str, Callable[[DirRemote], None], str, int, str]] = [
    ("honest remote", _nothing, PULL, 0, ""),
    ("index FIFO", _on(INDEX, _fifo), LIST, 2, "zoo/index.json: is not a regular file (a FIFO)"),
    ("index -> /dev/zero", _on(INDEX, _link("/dev/zero")), LIST, 2, "index.json: is not a regular file (a symbolic"),
    ("index device", _on(INDEX, _zero_device), LIST, 2, "index.json: is not a regular file (a character device)"),
    ("index -> outside", _on(INDEX, _link("/etc/passwd")), LIST, 2, "is not a regular file (a symbolic link)"),
    ("index folder", _on(INDEX, lambda p: p.mkdir()), LIST, 2, "index.json: is not a regular file (a folder)"),
    ("index oversized", _on(INDEX, _sparse((64 << 20) + 1)), LIST, 2, "index.json: is larger than 67108864 bytes"),
    ("index not JSON", _on(INDEX, _text('{"schema": 1, "stubs": {')), LIST, 2, "zoo/index.json: is not JSON"),
    ("index wrong types", _on(INDEX, _text('{"schema": 1, "stubs": [1, 2]}')), LIST, 2, "expected {'schema': 1"),
    ("index pull FIFO", _on(INDEX, _fifo), PULL, 2, "index.json: is not a regular file (a FIFO)"),
    ("manifest FIFO", _on(MANIFEST, _fifo), PULL, 2, "v1/manifest.yaml: is not a regular file (a FIFO)"),
    ("manifest -> /dev/zero", _on(MANIFEST, _link("/dev/zero")), PULL, 2,
     "manifest.yaml: is not a regular file (a symbolic link)"),
    ("manifest device", _on(MANIFEST, _zero_device), PULL, 2, "manifest.yaml: is not a regular file (a character"),
    ("manifest oversized", _on(MANIFEST, _sparse((16 << 20) + 1)), PULL, 2,
     "manifest.yaml: is larger than 16777216 bytes"),
    ("manifest truncated", lambda r: r.write_manifest(r.path(MANIFEST).read_text()[:700]), PULL, 2, "manifest.yaml"),
    ("manifest wrong type", lambda r: r.manifest_edit("role: onnx, size: ", "role: onnx, size: big, was: "), PULL, 2,
     "size must be a non-negative integer"),
    ("manifest not in index", _on(MANIFEST, _text("schema: 1\n")), PULL, 2, "does not match the remote index"),
    ("manifest huge size", _declared("model.onnx", lambda s: 10**15), PULL, 1, "model.onnx: size mismatch"),
    ("manifest size one short", _declared("model.onnx", lambda s: s - 1), PULL, 1, "model.onnx: size mismatch"),
    ("object FIFO", _object(_fifo), PULL, 2, "(model.onnx): is not a regular file (a FIFO)"),
    ("object device", _object(_zero_device), PULL, 2, "(model.onnx): is not a regular file (a character device)"),
    ("object -> /dev/zero", _object(_link("/dev/zero")), PULL, 2, "(model.onnx): is not a regular file (a symbolic"),
    ("object -> outside", _object(_link("/etc/hostname")), PULL, 2, "is not a regular file (a symbolic link)"),
    ("object folder", _object(lambda p: p.mkdir()), PULL, 2, "(model.onnx): is not a regular file (a folder)"),
    ("object larger", _appended, PULL, 1, "model.onnx: size mismatch"),
    ("object truncated", _truncated, PULL, 1, "model.onnx: "),
    ("object sparse 1 GiB", _object(_sparse(1 << 30)), PULL, 1, "model.onnx: size mismatch"),
    # Consumers read the listing (index and log), never walk zoo/manifests/: nesting there is not read.
    ("manifests nested 1500 deep", _deep_manifests, PULL, 0, ""),
    ("card FIFO", _on(f"{V1}/model.md", _fifo), PULL, 0, ""),  # a pull reads no card: the bytes are the manifest's
    # The projection's log: a move may only add versions and move aliases; anything else is refused.
    ("log rewrites v1", _log(2, added={STUB: {"v1": "sha256:" + "0" * 64}}), PULL, 2,
     f"0000000002.json: {STUB}@v1: the remote lists sha256:"),
    ("log seq mismatch", _log(2, seq=7), PULL, 2, "0000000002.json: says seq 7"),
    ("log not JSON", _on("zoo/projection/0000000002.json", _text("{")), LIST, 2, "0000000002.json: is not JSON"),
    ("log FIFO", _on("zoo/projection/0000000002.json", _fifo), LIST, 2, "is not a regular file (a FIFO)"),
    ("log alias bad name", _log(2, aliases={STUB: {"../x": 1}}), PULL, 2, "alias '../x' is not valid"),
    ("log alias to nothing", _log(2, aliases={STUB: {"stable": 9}}), "pull-stable", 2, "v9 does not exist"),
    ("log adds unclaimed v2", _log(2, added={STUB: {"v2": "sha256:" + "1" * 64}}), PULL, 2,
     "v2 is listed but its manifest.yaml is missing"),
    ("log endless", _endless_log, LIST, 2, "is more than 10000 moves behind its log"),
]


@pytest.mark.parametrize(("name", "attack", "command", "code", "fragment"), DIR_CASES, ids=[c[0] for c in DIR_CASES])
def test_hostile_directory_remote(published_dir: tuple[Path, Published], tmp_path: Path, name: str,
                                  attack: Callable[[DirRemote], None], command: str, code: int,
                                  fragment: str) -> None:
    honest, published = published_dir
    remote = DirRemote(tmp_path / "remote", published)
    shutil.copytree(honest, remote.root, symlinks=True)
    attack(remote)
    dest = tmp_path / "dest"
    ref = f"{STUB}@stable" if command == "pull-stable" else STUB
    args = ["pull", ref, "--remote", remote.root, "--dest", dest] if command != LIST else \
        ["list", "--remote", remote.root]
    try:
        ran = run_watched(*args, cwd=tmp_path, env={"ZOO_CACHE_DIR": str(tmp_path / "cache")})
    finally:
        _remove_deep(remote.path(f"zoo/manifests/{STUB}/a"))
    if code == 0:
        assert_bounded(ran)
        assert ran.code == 0, ran.stderr
        if command == PULL:
            assert tree_digests(dest) == published.sha256
        return
    assert_one_line(ran, (code,), fragment)
    assert_nothing_at(dest)


def test_the_corpus_is_large_enough() -> None:
    assert len(DIR_CASES) + len(S3_CASES) >= 30


# -- S3 (the real SeaweedFS) ---------------------------------------------------------


@pytest.fixture
def s3_remote(seaweed_server: weed.Seaweed, session_bucket: str, built_models: dict[str, Path],  # noqa: F811
              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, S3Objects, Published, Path]]:
    """The base model, with one extra file large enough for parallel ranged GETs, published to a fresh prefix."""
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    for key, value in {**weed.s3_env(), "AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty),
                       "AWS_ENDPOINT_URL": seaweed_server.endpoint}.items():
        monkeypatch.setenv(key, value)
    model = tmp_path / "model"
    shutil.copytree(built_models["base"], model)
    (model / "numpy" / "large.bin").write_bytes(os.urandom(9 << 20))
    prefix = f"t-{uuid.uuid4().hex[:12]}/zoo"
    url = f"s3://{session_bucket}/{prefix}"
    published = _publish(model, tmp_path / "zoo", url, {"endpointurl": seaweed_server.endpoint,
                                                         "region": "us-east-1"})
    yield url, S3Objects(seaweed_server.endpoint, session_bucket, prefix), published, model


def _s3_manifest(objects: S3Objects, edit: Callable[[str], str]) -> None:
    text = edit(objects.read(MANIFEST).decode())
    objects.write(MANIFEST, text.encode())
    index = json.loads(objects.read(INDEX))
    index["stubs"][STUB]["v1"] = digest_of(text)
    objects.write(INDEX, json.dumps(index).encode())


def _s3_size(path: str, new: Callable[[int], int]) -> Callable[[S3Objects, Published], None]:
    return lambda objects, p: _s3_manifest(objects, lambda text: resized(text, path, new))


def _s3_append(path: str) -> Callable[[S3Objects, Published], None]:
    def edit(objects: S3Objects, p: Published) -> None:
        key = p.keys[path]
        objects.write(key, objects.read(key) + b"\0" * 100_000)
    return edit


def _s3_locator(doc: object) -> Callable[[S3Objects, Published], None]:
    return lambda objects, p: objects.write(f"{V1}/objects.json", json.dumps(doc).encode())


def _s3_huge_slots(objects: S3Objects, p: Published) -> None:
    doc = json.loads(objects.read(f"{V1}/objects.json"))
    for slot in doc["objects"].values():
        slot[2] = 10**15
    objects.write(f"{V1}/objects.json", json.dumps(doc).encode())


def _s3_spoil_packs(objects: S3Objects, p: Published) -> None:
    for key in objects.keys():
        if key.endswith(".pack"):
            objects.write(key, b"\0" * len(objects.read(key)))


def _both(*attacks: Callable[[S3Objects, Published], None]) -> Callable[[S3Objects, Published], None]:
    return lambda objects, p: [attack(objects, p) for attack in attacks] and None


S3_CASES: list[tuple[str, Callable[[S3Objects, Published], None], int, str]] = [
    ("s3 loose object larger, its pack serves it", _s3_append("model.onnx"), 0, ""),
    ("s3 object larger (whole GET)", _both(_s3_spoil_packs, _s3_append("model.onnx")), 1,
     "model.onnx: size mismatch"),
    ("s3 object larger (ranged GETs)", _s3_append("numpy/large.bin"), 1, "numpy/large.bin: size mismatch"),
    ("s3 huge declared size", _s3_size("numpy/large.bin", lambda s: 10**15), 1, "numpy/large.bin: size mismatch"),
    ("s3 huge declared small file", _s3_size("model.onnx", lambda s: 10**15), 1, "model.onnx: size mismatch"),
    ("s3 declared one short", _s3_size("numpy/large.bin", lambda s: s - 1), 1, "numpy/large.bin: size mismatch"),
    ("s3 manifest oversized", lambda o, p: o.write(MANIFEST, b"#" * ((16 << 20) + 1)), 2,
     "is larger than 16777216 bytes"),
    ("s3 index wrong types", lambda o, p: o.write(INDEX, b'{"schema": 1, "stubs": 7}'), 2, "expected {'schema': 1"),
    ("s3 locator wrong types", _s3_locator({"schema": 1, "objects": {"x": "y", "0" * 32: [1, 2, 3]}}), 0, ""),
    ("s3 locator not JSON", lambda o, p: o.write(f"{V1}/objects.json", b"\xff{"), 0, ""),
    ("s3 locator huge slots", _s3_huge_slots, 0, ""),
    ("s3 packs spoiled", _s3_spoil_packs, 0, ""),
]


@pytest.mark.parametrize(("name", "attack", "code", "fragment"), S3_CASES, ids=[c[0] for c in S3_CASES])
def test_hostile_s3_remote(s3_remote: tuple[str, S3Objects, Published, Path], tmp_path: Path, name: str,
                           attack: Callable[[S3Objects, Published], None], code: int, fragment: str) -> None:
    url, objects, published, _ = s3_remote
    attack(objects, published)
    dest = tmp_path / "dest"
    ran = run_watched("pull", STUB, "--remote", url, "--dest", dest, cwd=tmp_path,
                      env={"ZOO_CACHE_DIR": str(tmp_path / "cache")})
    if code == 0:
        assert_bounded(ran)
        assert ran.code == 0, ran.stderr
        assert tree_digests(dest) == published.sha256
        return
    assert_one_line(ran, (code,), fragment)
    assert_nothing_at(dest)


def test_s3_list_of_a_crafted_index(s3_remote: tuple[str, S3Objects, Published, Path], tmp_path: Path) -> None:
    url, objects, _, _ = s3_remote
    objects.write(INDEX, b'{"schema": 1, "stubs": {' + b'"x": {}, ' * 10 + b'"y": [}}')
    ran = run_watched("list", "--remote", url, cwd=tmp_path, env={"ZOO_CACHE_DIR": str(tmp_path / "cache")})
    assert_one_line(ran, (2,), "zoo/index.json: is not JSON")
