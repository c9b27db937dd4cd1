"""The one lock: an advisory ``flock`` on a file, shared or exclusive.

Writers of a store (publish, pull, fetch) hold its lock shared, so they run
side by side; what deletes objects (``gc``, ``cache prune``) holds it
exclusive, so it never removes an object a running pull has just stored and
is about to place. Publishers of one checkout also take ``publish.lock``
exclusive, from choosing a version number to committing it. The kernel drops
a lock with its process, so a killed command never leaves one behind.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
