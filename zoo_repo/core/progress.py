"""Progress of a transfer, reported to whoever asked for it. The library never prints:
it calls ``start``/``advance``/``finish`` on the object it was given (from any
thread); the command line passes one that draws a bar on a terminal."""

from __future__ import annotations

import threading
import time


class Progress:
    """Counts files and bytes; subclass and override ``changed`` to show them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.what = ""
        self.files = self.bytes = 0
        self.total_files = self.total_bytes = 0
        self.item = ""  # the file being worked on, when one is
        self.started = time.monotonic()

    def start(self, what: str, files: int, nbytes: int) -> None:
        with self._lock:
            self.what, self.total_files, self.total_bytes = what, files, nbytes
            self.files = self.bytes = 0
            self.item = ""
            self.started = time.monotonic()
        self.changed()

    def at(self, item: str) -> None:
        """Now working on ``item`` (a file's path)."""
        with self._lock:
            self.item = item
        self.changed()

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self.files += files
            self.bytes += nbytes
        self.changed()

    def finish(self) -> None:
        self.changed(final=True)

    def changed(self, final: bool = False) -> None:
        """Called after every update; the base class shows nothing."""

    def rate(self) -> float:
        """Bytes per second so far."""
        elapsed = time.monotonic() - self.started
        return self.bytes / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        if rate <= 0 or not self.total_bytes:
            return None
        return max(0.0, (self.total_bytes - self.bytes) / rate)


def advance(progress: Progress | None, files: int = 0, nbytes: int = 0) -> None:
    if progress is not None:
        progress.advance(files, nbytes)


def start(progress: Progress | None, what: str, files: int = 0, nbytes: int = 0) -> None:
    if progress is not None:
        progress.start(what, files, nbytes)


def at(progress: Progress | None, item: str) -> None:
    if progress is not None:
        progress.at(item)
