"""zoo's own SigV4 presigning agrees with botocore's, byte for byte."""

from __future__ import annotations

import datetime
import urllib.parse
from unittest import mock

import pytest

from zoo_repo.s3sign import presign_get


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "https://minio.example.com/base",
                                      "https://s3.eu-west-1.amazonaws.com"])
@pytest.mark.parametrize("token", [None, "session/token+="])
@pytest.mark.parametrize("key", ["plain/model.onnx", "a b/c+d/é~x", "zoo/manifests/cv/x/v1/manifest.yaml"])
def test_presigned_get_matches_botocore(endpoint: str, token: str | None, key: str) -> None:
    import botocore.auth
    import botocore.session
    from botocore.config import Config

    now = datetime.datetime(2026, 11, 28, 12, 0, 0)
    client = botocore.session.Session().create_client(
        "s3", endpoint_url=endpoint, region_name="eu-west-1", config=Config(signature_version="s3v4"),
        aws_access_key_id="AKID", aws_secret_access_key="se/cret+key", aws_session_token=token)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now):
        theirs = urllib.parse.urlsplit(client.generate_presigned_url(
            "get_object", Params={"Bucket": "models", "Key": key}, ExpiresIn=3600))
    ours = urllib.parse.urlsplit(presign_get(endpoint, "eu-west-1", "AKID", "se/cret+key", token, f"models/{key}",
                                             3600, now.replace(tzinfo=datetime.timezone.utc)))
    assert (ours.scheme, ours.netloc, ours.path) == (theirs.scheme, theirs.netloc, theirs.path)
    assert sorted(urllib.parse.parse_qsl(ours.query)) == sorted(urllib.parse.parse_qsl(theirs.query))
