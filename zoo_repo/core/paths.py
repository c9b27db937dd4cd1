"""The one rule book for the file names of a model. Pure: names in, a verdict out.

The publisher (``model.layout.scan``) and every reader (``core.manifest``)
apply the same rules, so a name a reader would refuse is refused at publish
time, before anything is stored, instead of breaking ``list``, ``pull`` or
``gc`` for the whole stub afterwards. A name must be placeable on every
filesystem a consumer might pull to: Linux, macOS (case-insensitive,
normalising) and Windows (drive prefixes, backslashes, case-insensitive).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Linux's NAME_MAX and PATH_MAX: a longer name cannot be created, so a pull
# would fail half-way (S3's 1,024-byte keys do not matter: objects are named by digest).
MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 4096
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # exactly Unicode's category Cc
# The names nearly every model has: ASCII, no component starting with a dot (so
# no "." or ".."), no empty component. One match clears them of every rule
# below (the length check stands in for both byte limits: ASCII is a byte a
# character); a manifest of thousands of files is read on every pull.
_PLAIN = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]*(?:/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*")


@dataclass(frozen=True)
class NameProblem:
    """A file path of a model that breaks a rule: which path, and which rule."""

    path: str
    rule: str

    @property
    def shown_path(self) -> str:
        """The path as one line of a message: quoted, escaped where not printable, cut where huge."""
        return _shown(self.path)

    def __str__(self) -> str:
        return f"file path {self.shown_path} {self.rule}"


def _shown(path: str) -> str:
    """The path as a message can carry it: escaped, and cut where it is huge."""
    text = ascii(path) if not path.isprintable() else repr(path)
    return text if len(text) <= 120 else text[:100] + "…" + text[-12:]


def path_problem(path: object) -> str | None:
    """The rule one path breaks on its own, or None."""
    if isinstance(path, str) and len(path) <= MAX_COMPONENT_BYTES and _PLAIN.fullmatch(path):
        return None
    if not isinstance(path, str) or not path:
        return "must be a non-empty string"
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if _CONTROL.search(path):
        return "has a control character (newline, tab, NUL, escape…)"
    if "\\" in path:
        return "has a backslash; separate folders with '/'"
    if path.startswith("/"):
        return "is absolute; expected a path inside the model"
    if _DRIVE.match(path):
        return "starts with a drive prefix (like C:); expected a path inside the model"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "has an empty, '.' or '..' component; expected a normalised path inside the model"
    if len(encoded) > MAX_PATH_BYTES:
        return f"is {len(encoded):,} bytes long; at most {MAX_PATH_BYTES:,} are allowed"
    longest = max(parts, key=lambda p: len(p.encode("utf-8")))
    if len(longest.encode("utf-8")) > MAX_COMPONENT_BYTES:
        return f"has a component of {len(longest.encode('utf-8')):,} bytes; at most {MAX_COMPONENT_BYTES} are allowed"
    return None


def _folded(path: str) -> str:
    """What macOS and Windows consider the same name: NFC, then case folded."""
    if path.isascii():
        return path.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


def find_problem(paths: Iterable[object]) -> NameProblem | None:
    """The first path (in the given order) that breaks a rule, alone or with the others.

    Besides each path's own rules: no path twice, no file that is also a folder
    of another (``a`` and ``a/b``), and no two paths that only differ in case or
    Unicode normalisation (they land on one file on macOS and Windows).
    """
    listed = list(paths)
    for path in listed:
        rule = path_problem(path)
        if rule is not None:
            return NameProblem(path if isinstance(path, str) else repr(path), rule)
    names: list[str] = [p for p in listed if isinstance(p, str)]
    exact: set[str] = set()
    folded: dict[str, str] = {}
    for path in names:
        if path in exact:
            return NameProblem(path, "is listed twice")
        exact.add(path)
        key = _folded(path)
        if key in folded:
            return NameProblem(path, f"and {_shown(folded[key])} differ only in case or Unicode normalisation: "
                                     "they are one file on macOS and Windows")
        folded[key] = path
    for path in names:
        key = _folded(path)
        parts = key.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in folded:
                return NameProblem(path, f"is inside {_shown(folded[folder])}, which is also a file")
    return None
