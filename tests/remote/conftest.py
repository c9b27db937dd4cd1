"""The remote conformance suite: one set of tests, run on every backend.

As fsspec's abstract test suites run once per filesystem, every test in this
folder that asks for the ``backend`` fixture runs once per registered backend
(``test_x[dir]``, ``test_x[file-url]``, ``test_x[s3]``):

- ``test_interface.py`` holds the ``Remote`` interface to its contract: text
  files, exclusive creates, uploads that appear whole or not at all,
  inventories, find, delete, verified downloads, ranged reads, hashing, and
  missing objects as ``ObjectMissing``;
- ``test_conformance.py`` publishes and pulls through the remote;
- ``test_gitless.py`` and ``test_doctor.py`` are what consumers given only a
  URL, and ``zoo doctor``, see of it.

What only one backend does lives in its own files, ``test_<backend>_*.py``
(``test_s3_*.py``: ranged and multipart transfers in parts, presigned reads,
signing, credentials and secrets, TLS, short writes, doctor's S3 checks, a
server that dies; ``test_http.py``: the read-only https:// remote, which
cannot be published to and so is not a suite backend). Such a file either asks for the backend's server
fixtures directly (``seaweed_server``, ``bucket``) or marks its tests
``@pytest.mark.backends("s3")`` to get ``backend`` and ``remote_zoo`` for that
backend alone. A scenario that needs a capability is marked
``@pytest.mark.requires("packs")``: it runs on the backends that have it and
is not generated for the others, so a run shows no skips.

The backend fixture interface
-----------------------------
A backend fixture returns a ``Backend``, fresh for each test (its own
directory, or its own prefix in a session-wide bucket):

- ``url``, ``options``: the remote as zoo is given it (``zoo init --remote URL
  -o KEY=VALUE``; options use DVC's names);
- ``objects``: a ``RawObjects`` that reaches the stored files without zoo, to
  corrupt or remove them behind its back: ``keys()``, ``read(key)`` (raises
  FileNotFoundError when absent), ``write(key, data)``, ``delete(key)``, keys
  relative to the remote's root (``files/md5/ab/cdef…``, ``zoo/index.json``).
  ``Backend.keys/read/write/delete`` are shorthands for them;
- ``env``: what a consumer given only the URL needs in its environment
  (S3: the endpoint, ``AWS_ENDPOINT_URL``);
- ``deny``: with ``credentials``, environment variables under which the
  backend refuses zoo's requests (wrong keys);
- ``capabilities``, declared where the fixture is registered (``Capabilities``):
  ``packs`` (publish packs small objects), ``credentials`` (requests are
  signed), ``listable`` (one listing gives the inventory),
  ``exclusive_create`` (of racing ``create_text`` calls exactly one wins).
  ``test_interface.py`` checks them against what the remote reports.

Adding a backend (GCS, Azure…)
------------------------------
Write one fixture and register it; nothing else changes::

    @register_backend("gcs", packs=True, exclusive_create=True)
    def gcs_backend(fake_gcs: str, tmp_path: Path) -> Backend:
        import gcsfs

        fs = gcsfs.GCSFileSystem(endpoint_url=fake_gcs, token="anon")
        root = f"zoo-test/t-{uuid.uuid4().hex[:12]}"
        return Backend(f"gs://{root}", {"endpointurl": fake_gcs}, FsspecObjects(fs, root))

``fake_gcs`` is a session fixture beside it that starts an emulator, as
``seaweed_server`` starts SeaweedFS (Azure alike: Azurite, ``adlfs``,
``az://``). ``FsspecObjects`` reaches the raw objects of any fsspec
filesystem. Declare only what the backend does: ``exclusive_create`` stays
False while its ``create_text`` is fsspec's check-then-write, and
``credentials=True`` needs a ``deny`` environment (an emulator that checks no
keys has none). Every backend-neutral test then also runs as ``test_x[gcs]``;
GCS-only scenarios go in ``test_gcs_*.py`` with
``pytestmark = pytest.mark.backends("gcs")``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests import emulators as emu
from tests import seaweed as weed
from zoo_repo import Zoo

# -- the backend interface -----------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, as the suite needs to know it before running anything."""

    packs: bool = False  # publish also packs small objects (packs/*.pack, objects.json); a directory does not
    credentials: bool = False  # requests carry credentials, which the server checks (then ``deny`` is set)
    listable: bool = True  # one listing gives the inventory (Remote.listable)
    exclusive_create: bool = False  # create_text is atomic: of racing writers exactly one wins


class RawObjects(Protocol):
    """The stored files, reached without zoo; keys are relative to the remote's root."""

    def keys(self) -> set[str]: ...

    def read(self, key: str) -> bytes: ...  # FileNotFoundError when absent

    def write(self, key: str, data: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Backend:
    """A remote under test. Fixtures give the first four fields; ``name`` and
    ``capabilities`` come from the registration."""

    url: str
    options: dict[str, str]
    objects: RawObjects
    env: dict[str, str] = field(default_factory=dict)
    deny: dict[str, str] = field(default_factory=dict)
    name: str = ""
    capabilities: Capabilities = Capabilities()

    def keys(self) -> set[str]:
        """Every file under the remote, relative to its root."""
        return self.objects.keys()

    def read(self, key: str) -> bytes:
        return self.objects.read(key)

    def write(self, key: str, data: bytes) -> None:
        self.objects.write(key, data)

    def delete(self, key: str) -> None:
        self.objects.delete(key)


# name → (fixture name, capabilities), in registration order: the order of test ids.
BACKENDS: dict[str, tuple[str, Capabilities]] = {}


def register_backend(name: str, **capabilities: bool) -> Callable[[Callable[..., Backend]], Any]:
    """Make ``fn`` a fixture and run the backend-neutral suite on what it returns."""
    caps = Capabilities(**capabilities)

    def register(fn: Callable[..., Backend]) -> Any:
        BACKENDS[name] = (fn.__name__, caps)
        return pytest.fixture(fn)

    return register


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires(*capabilities): run only on backends that have them all")
    config.addinivalue_line("markers", "backends(*names): run only on the named backends")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One instance of a ``backend`` test per backend that has what it ``requires``."""
    if "backend" not in metafunc.fixturenames:
        return
    needs = [need for mark in metafunc.definition.iter_markers("requires") for need in mark.args]
    only = {name for mark in metafunc.definition.iter_markers("backends") for name in mark.args}
    if unknown := only - set(BACKENDS):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: no backend named {sorted(unknown)}")
    names = [name for name, (_, caps) in BACKENDS.items()
             if all(getattr(caps, need) for need in needs) and (not only or name in only)]
    metafunc.parametrize("backend", names, indirect=True)


# gcsfs and the Azure SDK hand aiohttp uploads over 1 MiB as bytes, which aiohttp warns of (a
# ResourceWarning, ignored outside tests): not zoo's to change.
AIOHTTP_LARGE_BODY = pytest.mark.filterwarnings("ignore:Sending a large body directly with raw bytes:ResourceWarning")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") in ("gcs", "azure"):
            item.add_marker(AIOHTTP_LARGE_BODY)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture, caps = BACKENDS[request.param]
    made: Backend = request.getfixturevalue(fixture)
    if caps.credentials and not made.deny:
        raise pytest.UsageError(f"backend {request.param} has credentials but no `deny` environment")
    return dataclasses.replace(made, name=request.param, capabilities=caps)


@pytest.fixture
def remote_zoo(backend: Backend, tmp_path: Path) -> Zoo:
    """A zoo checkout publishing to the backend."""
    return Zoo.init(tmp_path / "zoo", remote=backend.url, remote_options=backend.options)


# -- raw access ----------------------------------------------------------------


class PathObjects:
    """A directory remote's files, by plain file operations."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def keys(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()} \
            if self.root.exists() else set()

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o644)
        path.write_bytes(data)

    def delete(self, key: str) -> None:
        (self.root / key).unlink()


class FsspecObjects:
    """Any fsspec filesystem's files under ``root`` (a path, or ``bucket/prefix``)."""

    def __init__(self, fs: Any, root: str) -> None:
        self.fs, self.root = fs, root.rstrip("/")

    def keys(self) -> set[str]:
        try:
            found = self.fs.find(self.root)
        except FileNotFoundError:
            return set()
        return {path[len(self.root) + 1:] for path in found}

    def read(self, key: str) -> bytes:
        return bytes(self.fs.cat_file(f"{self.root}/{key}"))

    def write(self, key: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.root}/{key}", data)

    def delete(self, key: str) -> None:
        self.fs.rm_file(f"{self.root}/{key}")


class S3Objects:
    """An S3 prefix's objects, by botocore requests of its own (not zoo's)."""

    def __init__(self, endpoint: str, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = s3_client(endpoint), bucket, prefix

    def keys(self) -> set[str]:
        keys: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=f"{self.prefix}/"):
            keys |= {obj["Key"].removeprefix(f"{self.prefix}/") for obj in page.get("Contents", [])}
        return keys

    def read(self, key: str) -> bytes:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")["Body"]
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(key) from exc
        return bytes(body.read())

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")


# -- the backends ----------------------------------------------------------------


@register_backend("dir", exclusive_create=True)
def dir_backend(remote_dir: Path) -> Backend:
    """A directory, given as a plain path."""
    return Backend(str(remote_dir), {}, PathObjects(remote_dir))


@register_backend("file-url", exclusive_create=True)
def file_url_backend(tmp_path: Path) -> Backend:
    """A directory, given as a file:// URL (its files reached through fsspec, as other backends' are)."""
    from fsspec.implementations.local import LocalFileSystem

    root = tmp_path / "remote"
    return Backend(root.as_uri(), {}, FsspecObjects(LocalFileSystem(auto_mkdir=True), root.as_posix()))


@register_backend("s3", packs=True, credentials=True, exclusive_create=True)
def s3_backend(seaweed_server: weed.Seaweed, bucket: str) -> Backend:
    """A prefix in a bucket of a real S3 server (SeaweedFS), signatures enforced."""
    prefix = f"t-{uuid.uuid4().hex[:12]}/zoo"  # fresh per test: deleted prefixes linger in listings
    return Backend(f"s3://{bucket}/{prefix}", {"endpointurl": seaweed_server.endpoint, "region": "us-east-1"},
                   S3Objects(seaweed_server.endpoint, bucket, prefix),
                   env={"AWS_ENDPOINT_URL": seaweed_server.endpoint},
                   deny={"AWS_SECRET_ACCESS_KEY": "wrong-secret"})


@register_backend("gcs", packs=True, exclusive_create=True)
def gcs_backend(fake_gcs: str) -> Backend:
    """A prefix in a bucket of fake-gcs-server, reached anonymously (it checks no credentials)."""
    root = f"{GCS_BUCKET}/t-{uuid.uuid4().hex[:12]}/zoo"
    return Backend(f"gs://{root}", {"endpointurl": fake_gcs, "allow_anonymous_login": "true"},
                   FsspecObjects(emu.gcs_fs(fake_gcs), root),
                   env={"STORAGE_EMULATOR_HOST": fake_gcs})


@register_backend("azure", packs=True, exclusive_create=True)
def azure_backend(azurite: str, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """A prefix in a container of Azurite, Shared Key signatures checked.

    The publisher's connection string is an option (a secret: ``.dvc/config.local``);
    a clone, ``dvc pull`` in it and a consumer given only the URL have none, and
    read it from the environment, as adlfs and dvc-azure do."""
    root = f"{AZURE_CONTAINER}/t-{uuid.uuid4().hex[:12]}/zoo"
    conn = emu.azure_connection_string(azurite)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    # azure://, as DVC spells it (dvc-azure reads no az:// URL); zoo takes both.
    return Backend(f"azure://{root}", {"connection_string": conn}, FsspecObjects(azure_fs(azurite), root),
                   env={"AZURE_STORAGE_CONNECTION_STRING": conn})


GCS_BUCKET = "zoo-test"
AZURE_CONTAINER = "zoo-test"


# -- the S3 server ----------------------------------------------------------------


@pytest.fixture(scope="session")
def seaweed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[weed.Seaweed]:
    server = weed.start(tmp_path_factory.mktemp("seaweed"))
    yield server
    server.stop()


@pytest.fixture
def s3_env(seaweed_server: weed.Seaweed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Credentials in the environment, profile files empty: nothing of the host leaks in."""
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    env = {**weed.s3_env(), "AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return env


def s3_client(endpoint: str) -> Any:
    import botocore.session

    return botocore.session.Session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=weed.ACCESS_KEY, aws_secret_access_key=weed.SECRET_KEY,
    )


@pytest.fixture(scope="session")
def session_bucket(seaweed_server: weed.Seaweed) -> str:
    # One bucket for the session: each SeaweedFS bucket takes volumes of its own.
    name = f"zoo-{uuid.uuid4().hex[:12]}"
    s3_client(seaweed_server.endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(session_bucket: str, s3_env: dict[str, str]) -> str:
    return session_bucket


# -- the GCS and Azure emulators ---------------------------------------------------


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """fake-gcs-server's endpoint, with one bucket ``zoo-test`` for the session."""
    server = emu.start_gcs(tmp_path_factory.mktemp("fake-gcs"))
    emu.gcs_fs(server.endpoint).mkdir(GCS_BUCKET)  # type: ignore[attr-defined]
    yield server.endpoint
    server.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's blob endpoint (``http://127.0.0.1:PORT/devstoreaccount1``), with one container."""
    server = emu.start_azurite(tmp_path_factory.mktemp("azurite"))
    azure_fs(server.endpoint).mkdir(AZURE_CONTAINER)
    yield server.endpoint
    server.stop()


def azure_fs(endpoint: str) -> Any:
    import adlfs

    return adlfs.AzureBlobFileSystem(connection_string=emu.azure_connection_string(endpoint),
                                     skip_instance_cache=True)
