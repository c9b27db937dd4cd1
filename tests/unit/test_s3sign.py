"""zoo's own SigV4 presigning agrees with botocore's, byte for byte."""

from __future__ import annotations

import datetime
import urllib.parse
from unittest import mock

import pytest

from zoo_repo.remote.s3.sign import presign_get


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "https://minio.example.com/base",
                                      "https://s3.eu-west-1.amazonaws.com"])
@pytest.mark.parametrize("token", [None, "session/token+="])
@pytest.mark.parametrize("key", ["plain/model.onnx", "a b/c+d/é~x", "zoo/manifests/cv/x/v1/manifest.yaml"])
@pytest.mark.parametrize("expires", [3600, 102400])
def test_presigned_get_matches_botocore(endpoint: str, token: str | None, key: str, expires: int) -> None:
    import botocore.auth
    import botocore.session
    from botocore.config import Config

    now = datetime.datetime(2026, 11, 28, 12, 0, 0)
    client = botocore.session.Session().create_client(
        "s3", endpoint_url=endpoint, region_name="eu-west-1", config=Config(signature_version="s3v4"),
        aws_access_key_id="AKID", aws_secret_access_key="se/cret+key", aws_session_token=token)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now):
        theirs = urllib.parse.urlsplit(client.generate_presigned_url(
            "get_object", Params={"Bucket": "models", "Key": key}, ExpiresIn=expires))
    ours = urllib.parse.urlsplit(presign_get(endpoint, "eu-west-1", "AKID", "se/cret+key", token, f"models/{key}",
                                             expires, now.replace(tzinfo=datetime.timezone.utc)))
    assert (ours.scheme, ours.netloc, ours.path) == (theirs.scheme, theirs.netloc, theirs.path)
    assert sorted(urllib.parse.parse_qsl(ours.query)) == sorted(urllib.parse.parse_qsl(theirs.query))


def test_url_lifetime_covers_a_slow_transfer_within_sigv4_limits() -> None:
    from zoo_repo.remote.s3.get import url_lifetime

    assert url_lifetime(1 << 10) == 3600  # never less than an hour
    assert url_lifetime(100 << 30) == 100 * 1024  # 100 GiB at 1 MiB/s
    assert url_lifetime(10 << 40) == 7 * 24 * 3600  # SigV4 allows a week at most
