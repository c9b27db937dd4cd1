"""The one retry policy for requests zoo sends itself (and the attempt count
botocore is given for the ones it sends).

Transient means: the connection failed or timed out, or the server answered
5xx or 429. A 4xx answer is final (a missing object stays missing, refused
credentials stay refused), and so is anything else. A time-out is tried
again only once: an endpoint that accepted the connection and then said
nothing for a whole read time-out rarely does better the third time, and
waiting three time-outs would turn seconds into a minute.
"""

from __future__ import annotations

import http.client
import random
from collections.abc import Callable
from typing import TypeVar

from zoo_repo.core import retry as core_retry
from zoo_repo.remote.errors import HTTPStatusError

T = TypeVar("T")

ATTEMPTS = 3  # the first try and two more: a dead endpoint fails in seconds, not minutes
TIMEOUT_ATTEMPTS = 2  # of which at most this many may end in a time-out
BASE_DELAY = 0.2  # seconds; doubled after each failure, with jitter


def transient_status(status: int) -> bool:
    return status >= 500 or status == 429


def transient(exc: BaseException) -> bool:
    if isinstance(exc, HTTPStatusError):
        return transient_status(exc.status)
    if isinstance(exc, (FileNotFoundError, PermissionError)):
        return False
    return isinstance(exc, (OSError, http.client.HTTPException))


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
    return BASE_DELAY * 2.0**attempt * (0.5 + random.random() / 2)


def retrying(call: Callable[[], T], *, attempts: int = ATTEMPTS,
             on_failure: Callable[[BaseException], None] | None = None) -> T:
    """``call()`` under this policy (see ``core.retry``); the last error is raised."""
    timed_out = 0

    def again(exc: BaseException) -> bool:
        nonlocal timed_out
        if isinstance(exc, TimeoutError):
            timed_out += 1
            return timed_out < TIMEOUT_ATTEMPTS
        return transient(exc)

    return core_retry.retrying(call, attempts=attempts, transient=again, delay=backoff, on_failure=on_failure)
