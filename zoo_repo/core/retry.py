"""The one retry loop: call, and while the failure is transient, wait and call again.

What counts as transient, how many attempts and how long to wait are the
caller's policy: ``remote.retry`` holds the one for network requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retrying(call: Callable[[], T], *, attempts: int, transient: Callable[[BaseException], bool],
             delay: Callable[[int], float], on_failure: Callable[[BaseException], None] | None = None) -> T:
    """``call()``, again after ``delay(attempt)`` seconds while it fails with an
    error ``transient`` accepts; the last error is raised. ``on_failure`` runs
    after every failed attempt (e.g. to drop a broken connection)."""
    for attempt in range(attempts):
        try:
            return call()
        except BaseException as exc:
            if on_failure is not None:
                on_failure(exc)
            if attempt == attempts - 1 or not transient(exc):
                raise
        time.sleep(delay(attempt))
    raise AssertionError("unreachable")
