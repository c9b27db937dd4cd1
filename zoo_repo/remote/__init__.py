"""Remotes: one ``Remote`` interface (``base``), one module per backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zoo_repo.errors import RemoteError
from zoo_repo.remote.base import Remote
from zoo_repo.remote.options import backend_for, protocol_of

__all__ = ["Remote", "open_remote"]


def open_remote(url: str, options: Mapping[str, Any] | None = None) -> Remote:
    """The remote at ``url`` (a directory, ``file://``, ``s3://``, ``gs://``, ``az://``
    or ``https://``), with DVC's option names (``endpointurl``, ``region``…)."""
    backend = backend_for(url)
    if backend is None:
        raise RemoteError(
            f"remote {url}: protocol {protocol_of(url)!r} is not supported",
            hint="use a directory, file://, s3://, gs://, az:// or https:// URL",
        )
    proto = protocol_of(url)
    if proto in ("s3", "s3a"):
        from zoo_repo.remote.s3.remote import S3Remote

        return S3Remote(url, options, backend)
    if proto in ("file", "local"):
        from zoo_repo.remote.local import LocalRemote

        return LocalRemote(url, options, backend)
    from zoo_repo.remote.fsspec import FsspecRemote, HttpRemote

    if proto in ("http", "https"):
        return HttpRemote(url, options, backend)
    return FsspecRemote(url, options, backend)
