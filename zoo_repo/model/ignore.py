"""``.zooignore``: files of a model directory that are never published.

A version is immutable, so junk published once (``.DS_Store``, notebook
checkpoints, bytecode) stays forever. The model directory's ``.zooignore``
(gitignore syntax, read by ``pathspec``) adds to ``DEFAULTS``; an ignored file
is not scanned, hashed, stored or listed, an ignored folder not even entered.
``.git`` and ``.dvc`` are not ignorable: ``layout.scan`` refuses them first
(a checkout, or DVC credentials, is a mistake to publish, not junk to skip).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from zoo_repo.errors import ModelDirError

IGNORE_NAME = ".zooignore"
DEFAULTS = (".DS_Store", "Thumbs.db", ".ipynb_checkpoints/", "__pycache__/", "*.pyc", "/" + IGNORE_NAME)
# A real ignore file is a few lines; these bound what a hostile one costs (every
# path of the model is matched against every pattern).
MAX_BYTES = 64 << 10
MAX_PATTERNS = 1000
# What a model cannot be published without: ignoring them is a mistake, said as one.
REQUIRED = ("model.md", "model.onnx")


class Ignore:
    """The patterns for one model directory, and what they ignored during a scan."""

    def __init__(self, lines: list[str]) -> None:
        import pathspec

        self._spec = pathspec.GitIgnoreSpec.from_lines([*DEFAULTS, *lines])
        self.ignored: list[str] = []  # as the scan met them: a folder once, as "name/"

    def skips(self, relpath: str, is_dir: bool) -> bool:
        """Whether ``relpath`` is ignored (and remember it when it is)."""
        shown = relpath + "/" if is_dir else relpath
        if not self._spec.match_file(shown):
            return False
        if relpath in REQUIRED:
            raise ModelDirError(IGNORE_NAME, f"ignores {relpath}, which every model needs; "
                                             f"expected patterns that leave {' and '.join(REQUIRED)} in")
        if relpath != IGNORE_NAME:  # the rules themselves are not junk worth reporting
            self.ignored.append(shown)
        return True


def load(root: Path) -> Ignore:
    """The ignore rules of the model directory ``root``: the defaults plus its
    ``.zooignore`` when there is one, read without following links or blocking."""
    try:
        fd = os.open(root / IGNORE_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return Ignore([])
    except OSError as exc:  # ELOOP: a symlink
        raise ModelDirError(IGNORE_NAME, f"cannot be read ({exc.strerror}); expected a regular text file") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ModelDirError(IGNORE_NAME, "is not a regular file; expected a text file of patterns")
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ModelDirError(IGNORE_NAME, f"is larger than {MAX_BYTES >> 10} KiB; expected a few patterns")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\0"
    if "\0" in text:
        raise ModelDirError(IGNORE_NAME, "is not UTF-8 text; expected gitignore patterns, one a line")
    lines = text.splitlines()
    if sum(1 for line in lines if line.strip() and not line.startswith("#")) > MAX_PATTERNS:
        raise ModelDirError(IGNORE_NAME, f"has more than {MAX_PATTERNS} patterns; expected a few")
    try:
        return Ignore(lines)
    except Exception as exc:  # pathspec's own pattern errors
        raise ModelDirError(IGNORE_NAME, f"has a pattern pathspec cannot read: {exc}") from exc
