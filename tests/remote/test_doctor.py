"""`zoo doctor` on every backend: a healthy remote passes every check and leaves no probe behind.
What it names on a broken S3 remote is in test_s3_doctor.py."""

from __future__ import annotations

import json
from pathlib import Path

from tests.remote.conftest import Backend
from zoo_repo import Zoo
from zoo_repo.ops.doctor import diagnose


def test_healthy_remote_passes_every_check(cli, remote_zoo: Zoo, backend: Backend) -> None:  # type: ignore[no-untyped-def]
    result = cli("--zoo", remote_zoo.root, "doctor", "--json")
    assert result.exit_code == 0, result.stdout
    checks = json.loads(result.stdout)
    assert all(c["ok"] for c in checks)
    names = [c["name"] for c in checks]
    if backend.name == "s3":  # S3 gets the full list; every other backend the generic round trip
        assert names == ["configuration", "endpoint reachable", "credentials accepted", "bucket exists",
                         "clock skew", "put, get, delete a probe object", "consumers see the release branch",
                         "signed pulls"]
    else:
        assert names == ["configuration", "remote reachable", "put, get, delete a probe object",
                         "consumers see the release branch", "signed pulls"]
    assert not any("doctor" in k for k in backend.keys())  # the probe was deleted


def test_unknown_protocol_and_missing_backend(tmp_path: Path) -> None:
    checks = diagnose("ftp2://host/x", {})
    assert not checks[0].ok and "not supported" in checks[0].detail
