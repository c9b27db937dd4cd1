"""A one-line progress bar on stderr: files, bytes, rate, ETA. Only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from zoo_repo.core.progress import Progress
from zoo_repo.core.words import human_size


class TerminalProgress(Progress):
    """Redraws at most ten times a second; clears its line when done."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self._drawn = 0.0
        self._width = 0

    def changed(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._drawn < 0.1:
            return
        self._drawn = now
        if final:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            return
        eta = self.eta()
        if self.total_files or self.total_bytes:
            line = (
                f"{self.what} {self.files}/{self.total_files} files  "
                f"{human_size(self.bytes)}/{human_size(self.total_bytes)}  "
                f"{human_size(int(self.rate()))}/s" + (f"  ETA {eta:.0f}s" if eta is not None else "")
            )
        else:  # a step with nothing to count (checking the ONNX graph, running samples)
            line = f"{self.what}…"
        if self.item:
            line += f"  {self.item[-40:]}"
        self._width = max(self._width, len(line))
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()


def for_terminal(quiet: bool) -> TerminalProgress | None:
    """A bar when stderr is a terminal and --quiet was not given; else nothing."""
    return None if quiet or not sys.stderr.isatty() else TerminalProgress()
