"""The one place where what a storage backend raised becomes a zoo error.

Statuses are read as data (an ``HTTPStatusError``'s ``status``, botocore's
``ResponseMetadata.HTTPStatusCode`` anywhere on the cause chain), never parsed
out of message text. The table at the bottom decides the line and the hint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from zoo_repo.errors import RemoteError, ZooError, os_error

if TYPE_CHECKING:
    from zoo_repo.remote.options import Timeouts


class HTTPStatusError(OSError):
    """A request zoo sent itself was answered with an error status."""

    def __init__(self, what: str, status: int, reason: str = "") -> None:
        super().__init__(f"{what}: status {status}" + (f": {reason}" if reason else ""))
        self.status = status
        self.reason = reason


class NotThere(HTTPStatusError, FileNotFoundError):
    """404: the object does not exist."""


class Forbidden(HTTPStatusError, PermissionError):
    """403: the credentials may not do this."""


def error_reason(body: bytes) -> str:
    """``Code: Message`` from an S3 error document (the code is what the table matches on)."""
    import re

    code = re.search(rb"<Code>(.*?)</Code>", body)
    message = re.search(rb"<Message>(.*?)</Message>", body)
    if not code and not message:
        return body[:200].decode("utf-8", "replace")
    return ": ".join(m.group(1).decode("utf-8", "replace") for m in (code, message) if m)


def status_error(what: str, status: int, reason: str = "") -> HTTPStatusError:
    """The exception a refused request stands for, by its status."""
    kind = {404: NotThere, 403: Forbidden}.get(status, HTTPStatusError)
    return kind(what, status, reason)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind ``exc`` (ours, or botocore's), if any."""
    for link in _chain(exc):
        if isinstance(link, HTTPStatusError):
            return link.status
        response: Any = getattr(link, "response", None)
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(status, int):
                return status
    return None


def error_code(exc: BaseException) -> str | None:
    """S3's error code (``AccessDenied``, ``PreconditionFailed``…) behind ``exc``, if any."""
    for link in _chain(exc):
        response: Any = getattr(link, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if isinstance(code, str):
                return code
        reason = getattr(link, "reason", None)
        if isinstance(link, HTTPStatusError) and isinstance(reason, str) and reason:
            return reason.split(":", 1)[0]
    return None


_NO_CREDENTIALS = ("NoCredentialsError", "PartialCredentialsError")
_DENIED_CODES = ("AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken")
_UNREACHABLE = ("EndpointConnectionError", "ClientConnectorError",
                "ConnectionRefusedError", "ServerDisconnectedError", "gaierror", "ClientConnectorDNSError")
# botocore's, ours (remote.http), aiohttp's (gcsfs, fsspec's http), the Azure SDK's.
_CONNECT_TIMEOUTS = ("ConnectTimeoutError", "ConnectTimeout", "ConnectionTimeoutError")
_TIMEOUTS = ("ReadTimeoutError", "ReadTimeout", "SocketTimeoutError", "ServerTimeoutError", "TimeoutError",
             "ServiceResponseTimeoutError")


def really_missing(exc: FileNotFoundError) -> bool:
    """Whether a FileNotFoundError means absent: fsspec's HTTP filesystem raises it for
    any failure to reach the URL (a time-out, a refused connection) as well as for a 404."""
    network = set(_CONNECT_TIMEOUTS + _TIMEOUTS + _UNREACHABLE)
    return not any(isinstance(link, (TimeoutError, ConnectionError)) or type(link).__name__ in network
                   for link in list(_chain(exc))[1:])


def _timeout_hint(name: str) -> str:
    return f"allow longer with -o {name}=SECONDS, or `dvc remote modify NAME {name} SECONDS`"


def translate(url: str, exc: BaseException, endpoint: str | None = None,
              timeouts: Timeouts | None = None) -> ZooError:
    """One line, and the likely fix, for what a storage backend raised; ``endpoint``
    is where the backend sends requests, when the remote's URL does not say;
    ``timeouts`` are the remote's, for the message when one ran out."""
    if isinstance(exc, ZooError):
        return exc
    if isinstance(exc, RecursionError):  # fsspec lists folders recursively
        return RemoteError(f"remote {url}: its folders nest too deep to list; refusing it (a crafted remote?)")
    local = os_error(exc)
    if local is not None and status_of(exc) is None:  # the disk refused, not the remote's server
        return local
    names = {type(link).__name__ for link in _chain(exc)}
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    status, code = status_of(exc), error_code(exc)
    if names & set(_NO_CREDENTIALS):
        return RemoteError(f"remote {url}: no credentials found",
                           hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or "
                           "`dvc remote modify --local NAME access_key_id …`")
    if status == 403 or code in _DENIED_CODES or isinstance(exc, PermissionError):
        return RemoteError(f"remote {url}: access denied ({text})",
                           hint="check the credentials and that they may read and write this bucket")
    where = endpoint or url
    if names & set(_CONNECT_TIMEOUTS):
        after = f" within {timeouts.connect:g} s" if timeouts else ""
        return RemoteError(f"remote {url}: no connection to {where}{after} (connect timeout)",
                           hint="check the endpoint and the network, or " + _timeout_hint("connect_timeout"))
    if names & set(_TIMEOUTS) or isinstance(exc, TimeoutError):
        after = f" for {timeouts.read:g} s" if timeouts else ""
        return RemoteError(f"remote {url}: {where} accepted the connection but sent no answer{after} "
                           "(read timeout)", hint=_timeout_hint("read_timeout"))
    if names & set(_UNREACHABLE) or isinstance(exc, ConnectionError):
        where = f" {endpoint}" if endpoint else ""
        return RemoteError(f"remote {url}: cannot reach the endpoint{where} ({text})",
                           hint="set the endpoint with -o endpointurl=URL, `dvc remote modify NAME endpointurl URL` "
                           "or AWS_ENDPOINT_URL, and check the network")
    return RemoteError(f"remote {url}: {type(exc).__name__}: {text}")
