"""Presigned S3 URLs for reads.

A pull only reads: each GET needs a signature, not an S3 client. When the
remote names its endpoint, keys and region outright (its options or the
``AWS_*`` variables: the usual setup of a self-hosted S3-compatible store),
URLs are signed here with SigV4 in a few microseconds and nothing heavy is
imported. Otherwise botocore's client signs them, resolving profiles, SSO,
instance roles and AWS's own endpoints; it is given the very options s3fs
would get (``backends.s3_options``), so both agree. Explicit option, then
environment, then profile files: the same order either way.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import os
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _config_sets_addressing() -> bool:
    """Whether the AWS config file chooses an addressing style (then botocore must build the URLs)."""
    path = os.environ.get("AWS_CONFIG_FILE") or os.path.expanduser("~/.aws/config")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "addressing_style" in fh.read()
    except OSError:
        return False


class Signer:
    def __init__(self, storage_options: dict[str, Any]) -> None:
        self._options = storage_options
        self._client: Any = None
        self._lock = threading.Lock()
        self._direct = self._direct_settings()

    def _direct_settings(self) -> tuple[str, str, str, str, str | None] | None:
        """(endpoint, region, key, secret, token) when all are given outright, else None."""
        opts = self._options
        client = opts.get("client_kwargs", {})
        if opts.get("anon") or opts.get("profile") or _env("AWS_PROFILE") or "use_ssl" in opts:
            return None
        endpoint = client.get("endpoint_url")
        if not endpoint and str(_env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")).lower() != "true":
            endpoint = _env("AWS_ENDPOINT_URL_S3") or _env("AWS_ENDPOINT_URL")
        region = client.get("region_name") or _env("AWS_REGION") or _env("AWS_DEFAULT_REGION")
        if opts.get("key") and opts.get("secret"):
            key, secret, token = opts["key"], opts["secret"], opts.get("token")
        else:
            key, secret, token = _env("AWS_ACCESS_KEY_ID"), _env("AWS_SECRET_ACCESS_KEY"), _env("AWS_SESSION_TOKEN")
        if not (endpoint and region and key and secret) or _config_sets_addressing():
            return None
        return str(endpoint).rstrip("/"), str(region), str(key), str(secret), token

    def _make_client(self) -> Any:
        import botocore
        import botocore.session
        from botocore.config import Config

        opts = self._options
        client_kwargs = dict(opts.get("client_kwargs", {}))
        config = dict(opts.get("config_kwargs", {}))
        # SigV4 everywhere: AWS refuses the older scheme in newer regions.
        config["signature_version"] = botocore.UNSIGNED if opts.get("anon") else "s3v4"
        session = botocore.session.Session(profile=opts.get("profile"))
        return session.create_client(
            "s3",
            aws_access_key_id=opts.get("key"),
            aws_secret_access_key=opts.get("secret"),
            aws_session_token=opts.get("token"),
            use_ssl=bool(opts.get("use_ssl", True)),
            config=Config(**config),
            **client_kwargs,
        )

    @property
    def direct(self) -> bool:
        """Whether requests are signed here, without botocore (see the module's note)."""
        return self._direct is not None

    def signed(self, method: str, path: str, params: Mapping[str, str] | None = None, expires: int = 3600) -> str:
        """A URL for the HTTP ``method`` on ``bucket/key`` (or a bucket), signed here: only when ``direct``."""
        if self._direct is None:
            raise ValueError("the remote's credentials are resolved by botocore: it signs")
        return presign(*self._direct, method, path, params or {}, expires)

    def signed_many(self, method: str, paths: Sequence[str], params: Mapping[str, str] | None = None,
                    expires: int = 3600) -> list[str]:
        """``signed`` for many paths at once."""
        if self._direct is None:
            raise ValueError("the remote's credentials are resolved by botocore: it signs")
        return presign_many(*self._direct, method, paths, params or {}, expires)

    def url(self, path: str, method: str = "get_object", expires: int = 3600, **params: Any) -> str:
        """A URL for ``method`` on ``bucket/key`` that needs no further signing."""
        if self._direct is not None and method == "get_object" and not params:
            return presign_get(*self._direct, path, expires)
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
        bucket, _, key = path.partition("/")
        return str(self._client.generate_presigned_url(
            method, Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=expires))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def signed_host(split: urllib.parse.SplitResult) -> str:
    """The host as botocore signs it (``auth._host_from_url``) and http.client sends
    it: lowercase, without userinfo or the scheme's default port. Signing the
    netloc as typed would make ``HOST:443`` fail with SignatureDoesNotMatch."""
    host = split.hostname or ""
    if ":" in host:  # an IPv6 literal, whose brackets urlsplit removed
        host = f"[{host}]"
    if split.port is not None and split.port != _DEFAULT_PORTS.get(split.scheme):
        host = f"{host}:{split.port}"
    return host


def presign_get(endpoint: str, region: str, key: str, secret: str, token: str | None, path: str,
                expires: int = 3600, now: datetime.datetime | None = None) -> str:
    """A SigV4 query-signed GET of ``bucket/key`` at a custom endpoint, path-style
    (as botocore addresses any endpoint it is given)."""
    return presign(endpoint, region, key, secret, token, "GET", path, {}, expires, now)


@functools.lru_cache(maxsize=16)
def _signing_key(secret: str, day: str, region: str) -> bytes:
    # Four HMACs that change once a day: derived once, not for every request.
    signing_key = f"AWS4{secret}".encode()
    for part in (day, region, "s3", "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    return signing_key


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="-_.~")


def presign(endpoint: str, region: str, key: str, secret: str, token: str | None, method: str, path: str,
            params: Mapping[str, str], expires: int = 3600, now: datetime.datetime | None = None) -> str:
    """A SigV4 query-signed request (``method``, ``bucket/key`` or a bucket alone,
    query ``params`` such as ``uploadId``) at a custom endpoint, path-style. The
    payload is unsigned, so a body need not be hashed before it is sent."""
    return presign_many(endpoint, region, key, secret, token, method, [path], params, expires, now)[0]


def presign_many(endpoint: str, region: str, key: str, secret: str, token: str | None, method: str,
                 paths: Sequence[str], params: Mapping[str, str], expires: int = 3600,
                 now: datetime.datetime | None = None) -> list[str]:
    """``presign`` for many paths at one time: what they share (the query, the
    scope, the key) is made once, leaving a hash and an HMAC per URL."""
    split = urllib.parse.urlsplit(endpoint)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/{region}/s3/aws4_request"
    query = {
        **params,
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{key}/{scope}",
        "X-Amz-Date": stamp,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host",
    }
    if token:
        query["X-Amz-Security-Token"] = token
    canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
    head = f"{method}\n"
    tail = f"\n{canonical_query}\nhost:{signed_host(split)}\n\nhost\nUNSIGNED-PAYLOAD"
    prefix = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n"
    signing_key = _signing_key(secret, day, region)
    base, origin = split.path.rstrip("/"), f"{split.scheme}://{split.netloc}"
    urls = []
    for path in paths:
        uri = urllib.parse.quote(f"{base}/{path}", safe="/~")
        digest = hashlib.sha256(f"{head}{uri}{tail}".encode()).hexdigest()
        signature = hmac.new(signing_key, f"{prefix}{digest}".encode(), hashlib.sha256).hexdigest()
        urls.append(f"{origin}{uri}?{canonical_query}&X-Amz-Signature={signature}")
    return urls
