"""A publish's small objects sent while it is still storing the others.

Storing thousands of small files and then sending them all leaves the server
idle for the first part and the machine for the second: each upload is a round
trip, not work. Here an object goes up as soon as it is in the store (hashed,
verified, named by its digest), next to a listing of what the remote holds,
fetched once while the model directory is still being scanned, so what the
remote has already is not sent again.

The order of a publish is unchanged: uploads start only after the model was
validated (a refused model sends nothing), and ``wait`` returns only when every
early upload has completed, before any manifest is written; until one names
them, objects on the remote are content-addressed bytes no reader asks for, and
a rerun after a failure finds them in its listing. The first failure stops the
rest (queued uploads are dropped, the listing stops at its next page) and is
raised by the next ``offer`` or by ``wait``: the store keeps filling no longer
than one object past a dead server.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from zoo_repo.remote.base import LIST_THRESHOLD, Remote
from zoo_repo.store.objects import Store


class EarlyUploads:
    """Uploads of ``store``'s objects to ``remote`` as they are offered; inactive
    (``offer`` does nothing, ``missing`` returns None) until ``start``."""

    def __init__(self, store: Store, remote: Remote, jobs: int) -> None:
        self._store, self._remote, self._jobs = store, remote, jobs
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listed = threading.Event()
        self._held: dict[str, int] = {}
        self._error: BaseException | None = None
        self._offered: set[str] = set()
        self._sent: dict[str, int] = {}
        self._futures: list[Future[None]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._lister: threading.Thread | None = None
        self._below = 0

    @property
    def active(self) -> bool:
        return self._pool is not None

    def start(self, count: int) -> None:
        """Begin, for a model of ``count`` files, when it is worth it: the remote
        supports it and the plan would list the remote anyway (more files than
        HEAD requests are worth), so the listing costs nothing extra."""
        width, below = self._remote.early_uploads(self._jobs)
        if self._pool is not None or width <= 0 or count <= LIST_THRESHOLD:
            return
        self._below = below
        self._pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="early-upload")
        self._lister = threading.Thread(target=self._list, name="early-listing", daemon=True)
        self._lister.start()

    def _list(self) -> None:
        held: dict[str, int] = {}
        try:
            for oid, size in self._remote.listing():
                if self._stop.is_set():
                    return
                held[oid] = size
            self._held = held
        except BaseException as exc:  # noqa: BLE001 - handed to the publishing thread
            self._fail(exc)
        finally:
            self._listed.set()

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._error is None:
                self._error = exc
        self._stop.set()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def offer(self, oid: str, size: int) -> None:
        """``oid`` is in the store, verified: send it unless the remote holds it
        (at this size) or it is too large to go up alone. Raises the first
        failure of an earlier upload."""
        self._raise_failure()
        if self._pool is None or size >= self._below:
            return
        with self._lock:
            if oid in self._offered:
                return
            self._offered.add(oid)
        self._futures.append(self._pool.submit(self._one, oid, size))

    def _one(self, oid: str, size: int) -> None:
        self._listed.wait()
        if self._stop.is_set() or self._held.get(oid) == size:
            return
        try:
            self._remote.upload(self._store, oid)
        except BaseException as exc:  # noqa: BLE001 - handed to the publishing thread
            self._fail(exc)
            return
        with self._lock:
            self._sent[oid] = size

    def missing(self, sizes: Mapping[str, int]) -> set[str] | None:
        """Of ``sizes``' objects, those the remote lacked when listed, or held at
        another size (as ``Remote.missing``); None when inactive."""
        if self._pool is None:
            return None
        self._listed.wait()
        self._raise_failure()
        return {oid for oid, size in sizes.items() if self._held.get(oid) != size}

    def wait(self) -> dict[str, int]:
        """Every early upload completed: the objects sent, with their sizes.
        Raises the first failure."""
        if self._pool is None:
            return {}
        for future in self._futures:
            future.result()
        self._raise_failure()
        return dict(self._sent)

    def close(self) -> None:
        """Stop: queued uploads are dropped, those in flight finish (each bounded
        by the remote's time-outs), the listing stops at its next page."""
        self._stop.set()
        self._listed.set()  # uploads waiting for the listing see the stop, not its end
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._lister is not None:
            self._lister.join()

    def __enter__(self) -> EarlyUploads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
