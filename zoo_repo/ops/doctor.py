"""``zoo doctor``: check a remote end to end, one line per check, with the fix.

Each check runs only when the ones it depends on passed, so the first failure
is the one to fix. S3 gets the full list; other backends get the generic
round trip.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from zoo_repo.errors import ZooError
from zoo_repo.remote.base import Remote, translate

# S3 rejects signatures more than 15 minutes off; warn well before that.
MAX_SKEW_SECONDS = 300


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def diagnose(url: str, options: dict[str, Any]) -> list[Check]:
    """Run every check that applies to the remote; never raises for remote trouble."""
    results: list[Check] = []
    try:
        remote = Remote(url, options)
    except ZooError as exc:
        return [Check("configuration", False, exc.message, exc.hint)]
    results.append(Check("configuration", True, f"{remote.protocol}:// via {type(remote.fs).__name__}"))
    if remote.protocol in ("s3", "s3a"):
        steps = _s3_checks(remote)
    else:
        steps = [lambda: _reachable_root(remote)]
    steps.append(lambda: _round_trip(remote))
    for step in steps:
        check = step()
        results.append(check)
        if not check.ok:
            break
    return results


def _s3_checks(remote: Remote) -> list[Callable[[], Check]]:
    fs = remote.fs
    bucket = remote.root.split("/", 1)[0]
    state: dict[str, Any] = {}

    def endpoint() -> Check:
        try:
            fs.connect() if hasattr(fs, "connect") else None
            client = fs.s3
            state["endpoint"] = client.meta.endpoint_url
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            err = translate(remote.url, exc)
            return Check("endpoint reachable", False, err.message, err.hint)
        parts = urlsplit(state["endpoint"])
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname or "", port), timeout=5):
                pass
        except OSError as exc:
            return Check("endpoint reachable", False, f"{state['endpoint']}: {exc}",
                         "set endpointurl (`dvc remote modify NAME endpointurl URL`) or AWS_ENDPOINT_URL")
        return Check("endpoint reachable", True, state["endpoint"])

    def credentials_and_bucket() -> Check:
        try:
            response = fs.call_s3("head_bucket", Bucket=bucket)
        except FileNotFoundError:
            state["no_bucket"] = True
            return Check("credentials accepted", True, "the server answered a signed request")
        except Exception as exc:  # noqa: BLE001
            err = translate(remote.url, exc)
            return Check("credentials accepted", False, err.message, err.hint)
        state["date"] = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        return Check("credentials accepted", True, "the server answered a signed request")

    def bucket_exists() -> Check:
        if state.get("no_bucket"):
            return Check("bucket exists", False, f"bucket {bucket!r} does not exist",
                         f"create it (e.g. `aws s3 mb s3://{bucket}`), or fix the remote URL")
        style = (getattr(fs.s3.meta.config, "s3", None) or {}).get("addressing_style", "auto")
        return Check("bucket exists", True, f"{bucket} (addressing style: {style})")

    def clock() -> Check:
        if not state.get("date"):
            return Check("clock skew", True, "server sent no Date header; not checked")
        skew = time.time() - parsedate_to_datetime(state["date"]).timestamp()
        if abs(skew) > MAX_SKEW_SECONDS:
            return Check("clock skew", False, f"this machine is {skew:+.0f} s off the server",
                         "synchronise the clock (e.g. enable NTP); S3 refuses requests 15 minutes off")
        return Check("clock skew", True, f"{skew:+.1f} s")

    return [endpoint, credentials_and_bucket, bucket_exists, clock]


def _reachable_root(remote: Remote) -> Check:
    try:
        exists = remote.fs.exists(remote.root)
    except Exception as exc:  # noqa: BLE001
        err = translate(remote.url, exc)
        return Check("remote reachable", False, err.message, err.hint)
    return Check("remote reachable", True, remote.root if exists else f"{remote.root} (will be created)")


def _round_trip(remote: Remote) -> Check:
    name = "put, get, delete a probe object"
    if not remote.writable:
        return Check(name, True, "read-only remote: skipped")
    folder = f"{remote.root}/.zoo-doctor"
    path = f"{folder}/{uuid.uuid4().hex}"
    payload = uuid.uuid4().bytes * 64
    try:
        if remote.is_local:
            remote.fs.makedirs(folder, exist_ok=True)
        remote.fs.pipe_file(path, payload)
        got = remote.fs.cat_file(path)
        remote.fs.rm_file(path)
        if remote.is_local:
            remote.fs.rmdir(folder)
    except Exception as exc:  # noqa: BLE001
        err = translate(remote.url, exc)
        return Check(name, False, err.message, err.hint or "check write permission on this prefix")
    if bytes(got) != payload:
        return Check(name, False, "the object read back differs from what was written",
                     "a proxy or gateway is altering bodies; check the endpoint")
    return Check(name, True, f"{len(payload)} bytes")
