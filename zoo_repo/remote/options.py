"""Which fsspec backend serves a remote URL, and with which options. Pure.

A zoo's remotes live in DVC's config (``.dvc/config``, credentials in
``.dvc/config.local``), under DVC's own option names, so ``dvc pull`` works on
the same remote. This module turns those options into the keyword arguments
of the fsspec filesystem (s3fs for ``s3://``, gcsfs for ``gs://``, adlfs for
``az://``). As in the AWS SDKs and DVC, an
option set here wins over the environment, which wins over profile files:
botocore applies that order to whatever is not passed explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zoo_repo.remote.retry import ATTEMPTS

# Bounded time-outs unless the remote's config says otherwise (``connect_timeout``,
# ``read_timeout``, in seconds, DVC's names): a dead endpoint must fail in
# seconds, not hang. The read time-out bounds each wait for the next bytes, not
# a whole transfer. An endpoint that accepts connections and never answers
# fails after two such waits on zoo's own requests (``remote.retry``), three on
# botocore's (listings, HEADs): 20 to 35 s.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection, and for each next piece of an answer."""

    connect: float = CONNECT_TIMEOUT
    read: float = READ_TIMEOUT


def timeouts(options: dict[str, Any]) -> Timeouts:
    """The remote's time-outs from its options (RemoteError when one is not a positive number)."""
    from zoo_repo.errors import RemoteError

    values = []
    for name, default in (("connect_timeout", CONNECT_TIMEOUT), ("read_timeout", READ_TIMEOUT)):
        raw = options.get(name, default)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        if not 0 < value <= 24 * 3600:
            raise RemoteError(f"remote option {name}={raw!r} is not a number of seconds (0 < seconds <= 86400)",
                              hint=f"set it with -o {name}=SECONDS or `dvc remote modify NAME {name} SECONDS`")
        values.append(value)
    return Timeouts(*values)


@dataclass(frozen=True)
class Backend:
    protocols: tuple[str, ...]
    extra: str | None  # the zoo-repo extra that installs its fsspec package
    package: str | None
    writable: bool = True


BACKENDS = (
    Backend(("file", "local"), None, None),
    Backend(("s3", "s3a"), "s3", "s3fs"),
    Backend(("gs", "gcs"), "gcs", "gcsfs"),
    Backend(("az", "abfs", "azure"), "azure", "adlfs"),
    Backend(("http", "https"), None, "aiohttp", writable=False),
)


def protocol_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "file"


def backend_for(url: str) -> Backend | None:
    proto = protocol_of(url)
    return next((b for b in BACKENDS if proto in b.protocols), None)


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")


def s3_options(options: dict[str, Any]) -> dict[str, Any]:
    """DVC's s3 remote options → ``s3fs.S3FileSystem`` keyword arguments."""
    client: dict[str, Any] = {}
    limits = timeouts(options)
    config: dict[str, Any] = {
        "connect_timeout": limits.connect,
        "read_timeout": limits.read,
        # The one policy (remote.retry): ATTEMPTS in all. botocore's max_attempts
        # would count retries only, one attempt more.
        "retries": {"total_max_attempts": ATTEMPTS, "mode": "standard"},
    }
    out: dict[str, Any] = {"client_kwargs": client, "config_kwargs": config}
    if "endpointurl" in options:
        client["endpoint_url"] = options["endpointurl"]
    if "region" in options:
        client["region_name"] = options["region"]
    if "ssl_verify" in options:
        value = options["ssl_verify"]
        client["verify"] = value if str(value).lower() not in ("true", "false") else _bool(value)
    for ours, theirs in (("access_key_id", "key"), ("secret_access_key", "secret"),
                         ("session_token", "token"), ("profile", "profile")):
        if ours in options:
            out[theirs] = options[ours]
    if "use_ssl" in options:
        out["use_ssl"] = _bool(options["use_ssl"])
    if _bool(options.get("allow_anonymous_login", False)):
        out["anon"] = True
    return out


def storage_options(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """The fsspec keyword arguments for a remote, from its DVC options."""
    proto = protocol_of(url)
    if proto in ("s3", "s3a"):
        return s3_options(options)
    if proto in ("gs", "gcs"):
        return gcs_options(options)
    if proto in ("az", "abfs", "azure"):
        return azure_options(options)
    if proto in ("http", "https"):
        return http_options(options)
    return {}


def http_options(options: dict[str, Any]) -> dict[str, Any]:
    """``fsspec``'s HTTP filesystem: aiohttp's time-outs per connection and per read, none in total
    (a large model takes as long as it takes while bytes keep coming)."""
    import aiohttp

    limits = timeouts(options)
    return {"client_kwargs": {"timeout": aiohttp.ClientTimeout(total=None, sock_connect=limits.connect,
                                                               sock_read=limits.read)}}


def gcs_options(options: dict[str, Any]) -> dict[str, Any]:
    """DVC's gs remote options → ``gcsfs.GCSFileSystem`` keyword arguments, as dvc-gs maps them."""
    token = "anon" if _bool(options.get("allow_anonymous_login", False)) else options.get("credentialpath")
    import aiohttp  # gcsfs's own client: its per-request time-out is aiohttp's

    limits = timeouts(options)
    mapped = {"project": options.get("projectname"), "token": token, "endpoint_url": options.get("endpointurl"),
              "requests_timeout": aiohttp.ClientTimeout(total=None, sock_connect=limits.connect,
                                                        sock_read=limits.read)}
    return {k: v for k, v in mapped.items() if v is not None}


def azure_options(options: dict[str, Any]) -> dict[str, Any]:
    """DVC's azure remote options → ``adlfs.AzureBlobFileSystem`` keyword arguments, as dvc-azure
    maps them (what is not given, adlfs reads from ``AZURE_STORAGE_*`` in the environment)."""
    names = ("account_name", "account_key", "connection_string", "sas_token")
    out: dict[str, Any] = {name: options[name] for name in names if name in options}
    limits = timeouts(options)  # the Azure SDK's transport takes whole seconds
    out["connection_timeout"] = max(1, round(limits.connect))
    out["read_timeout"] = max(1, round(limits.read))
    if _bool(options.get("allow_anonymous_login", False)):
        out["anon"] = True
    return out


def env_files(options: dict[str, Any]) -> dict[str, str]:
    """Profile-file locations a remote names, as the environment variables botocore reads."""
    out = {}
    if "credentialpath" in options:
        out["AWS_SHARED_CREDENTIALS_FILE"] = str(options["credentialpath"])
    if "configpath" in options:
        out["AWS_CONFIG_FILE"] = str(options["configpath"])
    return out
