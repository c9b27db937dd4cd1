"""Presigned reads: URLs signed in-process are accepted by a real S3 server (an endpoint
spelled in capitals included), and pulls sign their reads without loading s3fs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import seaweed as weed
from tests.conftest import STUB, clone, tree_bytes
from tests.remote.conftest import s3_client
from zoo_repo import Zoo
from zoo_repo.remote.s3 import get
from zoo_repo.remote.s3.sign import presign_get


def test_upper_case_endpoint_signs_the_host_that_is_sent(seaweed_server: weed.Seaweed, bucket: str) -> None:
    s3_client(seaweed_server.endpoint).put_object(Bucket=bucket, Key="presign/host.bin", Body=b"signed as sent")
    port = seaweed_server.endpoint.rsplit(":", 1)[1]
    for endpoint in (f"HTTP://LOCALHOST:{port}", f"http://LocalHost:{port}/", f"http://127.0.0.1:{port}/"):
        url = presign_get(endpoint, "us-east-1", weed.ACCESS_KEY, weed.SECRET_KEY, None,
                          f"{bucket}/presign/host.bin")
        assert get.fetch(url) == b"signed as sent", endpoint


def _pull_reporting_s3_modules(root: Path, dest: Path, env: dict[str, str] | None = None) -> list[str]:
    code = ("import sys; from zoo_repo import Zoo; "
            "Zoo.open(sys.argv[1]).pull(sys.argv[2], dest=sys.argv[3]); "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'s3fs', 'aiobotocore', 'botocore'})))")
    proc = subprocess.run([sys.executable, "-c", code, str(root), STUB, str(dest)], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.backends("s3")
def test_pulls_from_s3_sign_reads_without_loading_s3fs(remote_zoo: Zoo, model_dir: Path,
                                                        tmp_path: Path) -> None:
    """Reads need a signature, not s3fs's asynchronous stack (a quarter of a second to import): with
    the endpoint, region and keys given outright, not even botocore. An addressing style chosen in
    the AWS config file is botocore's to apply."""
    manifest = remote_zoo.publish(model_dir, STUB).manifest
    want = {f.path: f.sha256 for f in manifest.files}
    theirs = clone(remote_zoo, tmp_path / "clone")
    assert _pull_reporting_s3_modules(theirs.root, tmp_path / "out") == []
    assert {p: hashlib.sha256(b).hexdigest() for p, b in tree_bytes(tmp_path / "out").items()} == want

    config = tmp_path / "aws-config"
    config.write_text("[default]\ns3 =\n    addressing_style = path\n")
    other = clone(remote_zoo, tmp_path / "clone2")
    env = {**os.environ, "AWS_CONFIG_FILE": str(config)}
    assert _pull_reporting_s3_modules(other.root, tmp_path / "out2", env) == ["botocore"]
    assert {p: hashlib.sha256(b).hexdigest() for p, b in tree_bytes(tmp_path / "out2").items()} == want

