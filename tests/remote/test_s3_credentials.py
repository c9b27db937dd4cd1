"""Where S3 credentials come from (remote options, then the environment, then profile files),
and wrong ones refused in one line that keeps no secret and leaves nothing behind."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB, clone, tree_bytes
from zoo_repo import RemoteError, Zoo


def test_keys_from_a_named_profile_publish_and_pull_without_git(
    seaweed_server: weed.Seaweed, bucket: str, s3_env: dict[str, str], model_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(f"[team]\naws_access_key_id = {weed.ACCESS_KEY}\n"
                           f"aws_secret_access_key = {weed.SECRET_KEY}\n"
                           "[other]\naws_access_key_id = someone-else\naws_secret_access_key = not-ours\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "team")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    url = f"s3://{bucket}/profile-{uuid.uuid4().hex[:8]}"
    options = {"endpointurl": seaweed_server.endpoint, "region": "us-east-1"}
    manifest = Zoo.init(tmp_path / "zoo", remote=url, remote_options=options).publish(model_dir, STUB).manifest

    consumer = Zoo.open(url, remote_options=options, cache_dir=tmp_path / "cache")
    got = tree_bytes(consumer.pull(STUB, dest=tmp_path / "out").dest)
    assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == {f.path: f.sha256 for f in manifest.files}

    monkeypatch.setenv("AWS_PROFILE", "other")
    with pytest.raises(RemoteError, match="access denied"):
        Zoo.open(url, remote_options=options, cache_dir=tmp_path / "cache2").pull(STUB, dest=tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


@pytest.mark.backends("s3")
def test_wrong_credentials_fail_in_one_line(remote_zoo: Zoo, model_dir: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch, cli) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    result = cli("--zoo", remote_zoo.root, "publish", model_dir, "--stub", STUB)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: remote s3://") and "access denied" in result.stderr
    assert "Traceback" not in result.stderr
    assert remote_zoo.versions(STUB) == []
    assert "wrong-secret" not in result.stderr


@pytest.mark.backends("s3")
def test_a_refused_pull_leaves_no_file_behind(remote_zoo: Zoo, model_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch, cli) -> None:
    remote_zoo.publish(model_dir, STUB)
    theirs = clone(remote_zoo, tmp_path / "clone")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    result = cli("--zoo", theirs.root, "pull", STUB, "--dest", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: remote s3://") and "access denied" in result.stderr
    assert "Traceback" not in result.stderr and "wrong-secret" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert list(theirs.store.oids()) == []
