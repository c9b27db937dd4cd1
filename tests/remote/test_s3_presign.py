"""A URL signed in-process for an endpoint spelled in capitals is accepted by a real S3 server."""

from __future__ import annotations

from tests import seaweed as weed
from tests.remote.conftest import s3_client
from zoo_repo.remote.s3 import get
from zoo_repo.remote.s3.sign import presign_get


def test_upper_case_endpoint_signs_the_host_that_is_sent(seaweed_server: weed.Seaweed, bucket: str) -> None:
    s3_client(seaweed_server.endpoint).put_object(Bucket=bucket, Key="presign/host.bin", Body=b"signed as sent")
    port = seaweed_server.endpoint.rsplit(":", 1)[1]
    for endpoint in (f"HTTP://LOCALHOST:{port}", f"http://LocalHost:{port}/", f"http://127.0.0.1:{port}/"):
        url = presign_get(endpoint, "us-east-1", weed.ACCESS_KEY, weed.SECRET_KEY, None,
                          f"{bucket}/presign/host.bin")
        assert get.fetch(url) == b"signed as sent", endpoint
