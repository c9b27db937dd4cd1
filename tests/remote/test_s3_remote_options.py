"""Git-less use names the endpoint: -o on every command with --remote, a configured
remote's options reused for its URL, lockfiles that carry the non-secret options,
`zoo doctor URL`, and unreachable endpoints named with how to set them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.core.lockfile import parse_lock


@pytest.fixture
def published(seaweed_server: weed.Seaweed, bucket: str, tmp_path: Path, model_dir: Path) -> tuple[Zoo, str]:
    """A zoo on S3 whose endpoint is known only to its .dvc/config (not the environment)."""
    url = f"s3://{bucket}/opts-{uuid.uuid4().hex[:10]}/zoo"
    zoo = Zoo.init(tmp_path / "zoo", remote=url, remote_options={"endpointurl": seaweed_server.endpoint,
                                                                 "region": "us-east-1"})
    zoo.publish(model_dir, STUB)
    return zoo, url


def test_remote_options_on_the_command_line(published: tuple[Zoo, str], seaweed_server: weed.Seaweed,
                                            tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, url = published
    monkeypatch.chdir(tmp_path)  # no checkout here: only -o names the endpoint
    opts = ("-o", f"endpointurl={seaweed_server.endpoint}", "-o", "region=us-east-1")
    listed = cli("list", "--json", "--remote", url, *opts)
    assert listed.exit_code == 0, listed.stderr
    assert STUB in listed.stdout
    pulled = cli("pull", STUB, "--remote", url, *opts, "--dest", tmp_path / "out")
    assert pulled.exit_code == 0, pulled.stderr
    assert (tmp_path / "out" / "model.onnx").is_file()
    assert cli("versions", STUB, "--remote", url, *opts).exit_code == 0
    assert cli("show", STUB, "--remote", url, *opts).exit_code == 0
    bad = cli("list", "--remote", url, "-o", "endpointurl")
    assert bad.exit_code == 2 and "expected KEY=VALUE" in bad.stderr


def test_a_configured_remotes_url_brings_its_options(published: tuple[Zoo, str], cli) -> None:  # type: ignore[no-untyped-def]
    zoo, url = published
    listed = cli("--zoo", zoo.root, "list", "--json", "--remote", url)
    assert listed.exit_code == 0, listed.stderr
    assert STUB in listed.stdout


def test_a_lockfile_carries_the_endpoint_but_no_secret(published: tuple[Zoo, str], seaweed_server: weed.Seaweed,
                                                       tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    zoo, url = published
    (zoo.root / ".dvc" / "config.local").write_text(
        f'[\'remote "origin"\']\naccess_key_id = {weed.ACCESS_KEY}\nsecret_access_key = {weed.SECRET_KEY}\n')
    lock = tmp_path / "zoo.lock"
    assert cli("--zoo", zoo.root, "lock", STUB, "-f", lock).exit_code == 0
    text = lock.read_text()
    assert parse_lock(text).remote_options == {"endpointurl": seaweed_server.endpoint, "region": "us-east-1"}
    assert weed.SECRET_KEY not in text and weed.ACCESS_KEY not in text
    monkeypatch.chdir(tmp_path)  # a consumer with only the lockfile (keys from the environment)
    pulled = cli("pull", "--locked", "-f", lock, "--dest", tmp_path / "models")
    assert pulled.exit_code == 0, pulled.stderr
    assert (tmp_path / "models" / STUB / "model.onnx").is_file()


def test_doctor_checks_a_url_outside_a_checkout(published: tuple[Zoo, str], seaweed_server: weed.Seaweed,
                                                 tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, url = published
    monkeypatch.chdir(tmp_path)
    checked = cli("doctor", url, "-o", f"endpointurl={seaweed_server.endpoint}", "-o", "region=us-east-1")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "FAIL" not in checked.stdout and seaweed_server.endpoint in checked.stdout


def test_an_unreachable_endpoint_is_named_with_how_to_set_it(bucket: str, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    got = cli("list", "--remote", f"s3://{bucket}/nothing", "-o", f"endpointurl={dead}", "-o", "region=us-east-1")
    assert got.exit_code == 1, got.stderr
    first, hint = got.stderr.splitlines()[:2]
    assert first.startswith("Error: remote s3://") and f"cannot reach the endpoint {dead}" in first
    assert "-o endpointurl=URL" in hint
    assert "Traceback" not in got.stderr


@pytest.mark.parametrize("key,value", [("credentialpath", "/etc/shadow"), ("ssl_verify", "false"),
                                       ("secret_access_key", "x"), ("configpath", "/tmp/aws")])
def test_a_crafted_lockfile_cannot_set_secrets_paths_or_weaker_checks(key: str, value: str, tmp_path: Path,
                                                                      cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    lock = tmp_path / "zoo.lock"
    lock.write_text(f"schema: 1\nremote: s3://models/zoo\nremote_options: {{{key}: '{value}'}}\nmodels:\n"
                    f"- {{stub: {STUB}, selector: v1, version: v1, digest: 'sha256:{'0' * 64}'}}\n")
    got = cli("pull", "--locked", "-f", lock, "--dest", tmp_path / "out")
    assert got.exit_code == 2, got.stderr
    assert got.stderr.splitlines()[0] == (f"Error: {lock}: remote_options may not set {key}; expected only "
                                          "account_name, allow_anonymous_login, connect_timeout, endpointurl, "
                                          "projectname, read_timeout, region")
    assert not (tmp_path / "out").exists()
