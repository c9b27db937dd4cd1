"""`zoo doctor` against a broken S3 remote (a real server): each failure named, with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import seaweed as weed
from zoo_repo import Zoo
from zoo_repo.ops.doctor import diagnose


def test_wrong_credentials_are_named(seaweed_server: weed.Seaweed, bucket: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_cli_exit_status_and_fix_line(cli, tmp_path: Path, s3_env: dict[str, str],  # type: ignore[no-untyped-def]
                                      seaweed_server: weed.Seaweed) -> None:
    zoo = Zoo.init(tmp_path / "z", remote="s3://absent-bucket-zoo/p",
                   remote_options={"endpointurl": seaweed_server.endpoint})
    result = cli("--zoo", zoo.root, "doctor")
    assert result.exit_code == 1
    assert "FAIL bucket exists: bucket 'absent-bucket-zoo' does not exist" in result.stdout
    assert "     fix: create it" in result.stdout
