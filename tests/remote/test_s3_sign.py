"""zoo's own SigV4 presigning agrees with botocore's, byte for byte."""

from __future__ import annotations

import datetime
import urllib.parse
from unittest import mock

import pytest

from zoo_repo.remote.s3.sign import presign_get

NOW = datetime.datetime(2026, 11, 28, 12, 0, 0)


def _botocore_url(endpoint: str, token: str | None, bucket: str, key: str, expires: int) -> str:
    import botocore.auth
    import botocore.session
    from botocore.config import Config

    client = botocore.session.Session().create_client(
        "s3", endpoint_url=endpoint, region_name="eu-west-1", config=Config(signature_version="s3v4"),
        aws_access_key_id="AKID", aws_secret_access_key="se/cret+key", aws_session_token=token)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=NOW):
        return str(client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires))


def _assert_same(ours_url: str, theirs_url: str) -> None:
    ours, theirs = urllib.parse.urlsplit(ours_url), urllib.parse.urlsplit(theirs_url)
    assert (ours.scheme, ours.netloc, ours.path) == (theirs.scheme, theirs.netloc, theirs.path)
    assert sorted(urllib.parse.parse_qsl(ours.query)) == sorted(urllib.parse.parse_qsl(theirs.query))


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "https://minio.example.com/base",
                                      "https://s3.eu-west-1.amazonaws.com"])
@pytest.mark.parametrize("token", [None, "session/token+="])
@pytest.mark.parametrize("key", ["plain/model.onnx", "a b/c+d/é~x", "zoo/manifests/cv/x/v1/manifest.yaml"])
@pytest.mark.parametrize("expires", [3600, 102400])
def test_presigned_get_matches_botocore(endpoint: str, token: str | None, key: str, expires: int) -> None:
    theirs = _botocore_url(endpoint, token, "models", key, expires)
    ours = presign_get(endpoint, "eu-west-1", "AKID", "se/cret+key", token, f"models/{key}",
                       expires, NOW.replace(tzinfo=datetime.timezone.utc))
    _assert_same(ours, theirs)


# The host is signed as it is sent (lowercase, default port dropped), while
# the URL keeps the endpoint as typed: both exactly as botocore does.
@pytest.mark.parametrize("endpoint", [
    "https://MinIO.Example.COM", "HTTPS://MINIO.EXAMPLE.COM/", "https://minio.example.com:443",
    "https://Minio.Example.com:443/", "http://minio.example.com:80", "http://MINIO.example.com:80/base/",
    "http://minio.example.com:443", "https://minio.example.com:80", "https://minio.example.com:8443/base",
    "http://127.0.0.1", "http://127.0.0.1:80", "https://127.0.0.1:443/", "http://127.0.0.1:8333/",
    "http://[::1]", "http://[::1]:80", "https://[::1]:443/", "http://[::1]:8333", "http://[0:0::1]:8333/base/",
    "https://S3.EU-WEST-1.AMAZONAWS.COM:443",
])
@pytest.mark.parametrize("bucket", ["models", "my.models", "Models_2"])  # dots and capitals: path-style only
def test_presigned_host_is_normalised_as_botocore_does(endpoint: str, bucket: str) -> None:
    theirs = _botocore_url(endpoint, "tok", bucket, "dir/model.onnx", 3600)
    ours = presign_get(endpoint, "eu-west-1", "AKID", "se/cret+key", "tok", f"{bucket}/dir/model.onnx",
                       3600, NOW.replace(tzinfo=datetime.timezone.utc))
    _assert_same(ours, theirs)


def test_url_lifetime_covers_a_slow_transfer_within_sigv4_limits() -> None:
    from zoo_repo.remote.s3.get import url_lifetime

    assert url_lifetime(1 << 10) == 3600  # never less than an hour
    assert url_lifetime(100 << 30) == 100 * 1024  # 100 GiB at 1 MiB/s
    assert url_lifetime(10 << 40) == 7 * 24 * 3600  # SigV4 allows a week at most
