"""Presigned S3 URLs from botocore's synchronous client.

A pull only reads: each GET needs a signature, not an S3 client. botocore (on
which s3fs itself stands) signs in microseconds, and importing it costs about
half of what s3fs's asynchronous stack does, which a whole-process pull of a
small model would otherwise spend before its first byte. It is given the very
options s3fs would get (``backends.s3_options``), so both resolve endpoint,
region and credentials the same way: explicit option, then environment, then
profile files.
"""

from __future__ import annotations

import threading
from typing import Any


class Signer:
    def __init__(self, storage_options: dict[str, Any]) -> None:
        self._options = storage_options
        self._client: Any = None
        self._lock = threading.Lock()

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

    def url(self, path: str, method: str = "get_object", expires: int = 3600, **params: Any) -> str:
        """A URL for ``method`` on ``bucket/key`` that needs no further signing."""
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
        bucket, _, key = path.partition("/")
        return str(self._client.generate_presigned_url(
            method, Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=expires))
