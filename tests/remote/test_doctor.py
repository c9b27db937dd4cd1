"""`zoo doctor` against a real S3 server and a directory: each failure named, with its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.remote.conftest import RemoteSpec
from zoo_repo import Zoo
from zoo_repo.ops.doctor import diagnose


def test_healthy_remote_passes_every_check(cli, remote_zoo: Zoo, remote: RemoteSpec) -> None:  # type: ignore[no-untyped-def]
    result = cli("--zoo", remote_zoo.root, "doctor", "--json")
    assert result.exit_code == 0, result.stdout
    checks = json.loads(result.stdout)
    assert all(c["ok"] for c in checks)
    names = [c["name"] for c in checks]
    if remote.kind == "s3":
        assert names == ["configuration", "endpoint reachable", "credentials accepted", "bucket exists",
                         "clock skew", "put, get, delete a probe object"]
    else:
        assert names == ["configuration", "remote reachable", "put, get, delete a probe object"]
    assert not any("doctor" in k for k in remote.keys())  # the probe was deleted


def test_wrong_credentials_are_named(seaweed_server: weed.Seaweed, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    checks = diagnose(f"s3://{bucket}/doctor", {"endpointurl": seaweed_server.endpoint})
    failed = checks[-1]
    assert [c.ok for c in checks] == [True, True, False]
    assert failed.name == "credentials accepted" and "access denied" in failed.detail
    assert failed.fix and "credentials" in failed.fix


def test_missing_bucket_is_named_with_the_fix(seaweed_server: weed.Seaweed, s3_env: dict[str, str]) -> None:
    checks = diagnose("s3://no-such-bucket-zoo/x", {"endpointurl": seaweed_server.endpoint})
    assert checks[-1].name == "bucket exists" and not checks[-1].ok
    assert "aws s3 mb s3://no-such-bucket-zoo" in (checks[-1].fix or "")


def test_unreachable_endpoint_is_named(s3_env: dict[str, str]) -> None:
    from tests.seaweed import free_ports

    port = free_ports(1)[0]
    checks = diagnose("s3://bucket/x", {"endpointurl": f"http://127.0.0.1:{port}", "connect_timeout": "2"})
    assert checks[-1].name == "endpoint reachable" and not checks[-1].ok
    assert "endpointurl" in (checks[-1].fix or "")


def test_cli_exit_status_and_fix_line(cli, tmp_path: Path, s3_env: dict[str, str], seaweed_server: weed.Seaweed) -> None:  # type: ignore[no-untyped-def]
    zoo = Zoo.init(tmp_path / "z", remote="s3://absent-bucket-zoo/p",
                   remote_options={"endpointurl": seaweed_server.endpoint})
    result = cli("--zoo", zoo.root, "doctor")
    assert result.exit_code == 1
    assert "FAIL bucket exists: bucket 'absent-bucket-zoo' does not exist" in result.stdout
    assert "     fix: create it" in result.stdout


def test_unknown_protocol_and_missing_backend(tmp_path: Path) -> None:
    checks = diagnose("ftp2://host/x", {})
    assert not checks[0].ok and "not supported" in checks[0].detail
