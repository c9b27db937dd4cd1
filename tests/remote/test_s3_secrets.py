"""Credentials never reach tracked files, manifests, the remote's metadata, output or errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB
from zoo_repo import Zoo


def test_credentials_stay_out_of_everything(cli, seaweed_server: weed.Seaweed, bucket: str, s3_env: dict[str, str],  # type: ignore[no-untyped-def]
                                            model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real keys only in the untracked local config; the environment holds decoys
    # that must lose to it (an explicit per-remote setting wins).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "decoy-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "decoy-secret")
    outputs = []
    init = cli("init", tmp_path / "z", "--remote", f"s3://{bucket}/secrets-test",
               "-o", f"endpointurl={seaweed_server.endpoint}", "-o", "region=us-east-1",
               "-o", f"access_key_id={weed.ACCESS_KEY}", "-o", f"secret_access_key={weed.SECRET_KEY}")
    assert init.exit_code == 0, init.stderr
    root = tmp_path / "z"
    local = (root / ".dvc" / "config.local").read_text()
    assert weed.SECRET_KEY in local and weed.SECRET_KEY not in (root / ".dvc" / "config").read_text()
    for args in (("publish", model_dir, "--stub", STUB, "--json"), ("push",), ("list", "--json"),
                 ("show", STUB, "--json"), ("doctor",), ("check", "--remote"), ("versions", STUB)):
        result = cli("--zoo", root, *args)
        assert result.exit_code == 0, (args, result.stderr)
        outputs.append(result.stdout + result.stderr)
    # A failure that involves credentials names the problem, not the secret.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "another-wrong-secret")
    (root / ".dvc" / "config.local").write_text(local.replace(weed.SECRET_KEY, "wrong-local-secret"))
    denied = cli("--zoo", root, "push")
    assert denied.exit_code == 1 and "access denied" in denied.stderr
    outputs.append(denied.stdout + denied.stderr)

    tracked = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, text=True,
                             check=True).stdout.split("\0")
    texts = [(root / p).read_bytes().decode("utf-8", "replace") for p in tracked if p]
    log = subprocess.run(["git", "-C", str(root), "log", "-p", "--all"], capture_output=True, text=True).stdout
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", weed.SECRET_KEY)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", weed.ACCESS_KEY)
    consumer = Zoo.open(f"s3://{bucket}/secrets-test",
                        remote_options={"endpointurl": seaweed_server.endpoint}, cache_dir=tmp_path / "c")
    remote = consumer.remote()
    metadata = consumer.manifest_text(STUB, 1) + "".join(remote.get_text(k) or "" for k in remote.find("zoo/index"))
    assert '"shards"' in metadata  # the listing's top was read, and searched
    for secret in (weed.SECRET_KEY, "wrong-local-secret", "another-wrong-secret", "decoy-secret"):
        for text in [*texts, log, metadata, *outputs]:
            assert secret not in text
    assert len(texts) > 5 and len(outputs) == 8
