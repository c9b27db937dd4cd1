"""Remotes to run the same conformance suite on: a directory and a real S3 server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import seaweed as weed
from zoo_repo import Zoo


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



class RemoteSpec:
    """A remote under test: its URL, DVC options, and a way to reach its raw objects."""

    def __init__(self, kind: str, url: str, options: dict[str, str], endpoint: str | None = None,
                 bucket: str | None = None, root: Path | None = None, prefix: str = "") -> None:
        self.kind, self.url, self.options = kind, url, options
        self.endpoint, self.bucket, self.root, self.prefix = endpoint, bucket, root, prefix

    def keys(self) -> set[str]:
        """Every object key under the remote, relative to its root."""
        if self.root is not None:
            return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()} \
                if self.root.exists() else set()
        client = s3_client(self.endpoint or "")
        keys: set[str] = set()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/"):
            keys |= {obj["Key"].removeprefix(f"{self.prefix}/") for obj in page.get("Contents", [])}
        return keys

    def write(self, key: str, data: bytes) -> None:
        if self.root is not None:
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                path.chmod(0o644)
            path.write_bytes(data)
        else:
            s3_client(self.endpoint or "").put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def read(self, key: str) -> bytes:
        if self.root is not None:
            return (self.root / key).read_bytes()
        body = s3_client(self.endpoint or "").get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")["Body"]
        return bytes(body.read())

    def delete(self, key: str) -> None:
        if self.root is not None:
            (self.root / key).unlink()
        else:
            s3_client(self.endpoint or "").delete_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")


@pytest.fixture(params=["file", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> RemoteSpec:
    if request.param == "file":
        root = tmp_path / "remote"
        return RemoteSpec("file", str(root), {}, root=root)
    server: weed.Seaweed = request.getfixturevalue("seaweed_server")
    name: str = request.getfixturevalue("bucket")
    prefix = f"t-{uuid.uuid4().hex[:12]}/zoo"  # fresh per test: deleted prefixes linger in listings
    return RemoteSpec("s3", f"s3://{name}/{prefix}", {"endpointurl": server.endpoint, "region": "us-east-1"},
                      endpoint=server.endpoint, bucket=name, prefix=prefix)


@pytest.fixture
def remote_zoo(remote: RemoteSpec, tmp_path: Path) -> Zoo:
    return Zoo.init(tmp_path / "zoo", remote=remote.url, remote_options=remote.options)
