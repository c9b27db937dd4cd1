"""Deprecation: a stub retired on purpose, with why and what to use instead. Pure.

Kept per stub as ``manifests/<stub>/deprecated.yaml`` (and in the remote's
projection, for consumers without git)::

    # zoo:… is deprecated: changed with `zoo deprecate` / `zoo deprecate --undo`.
    message: accuracy regression on imagenet-v2
    successor: cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/pruned-conservative

SparseZoo retired stubs silently; here a stub's versions stay published and
pullable (lockfiles keep working), and every pull, lock and ``show`` says so.
The record is small, one line of text a person wrote: it is bounded, so a
crafted file or remote can only be refused, never flood a terminal or a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zoo_repo.core import yamltext
from zoo_repo.core.stub import parse_stub
from zoo_repo.errors import ManifestError, StubError, UsageError

DEPRECATION_NAME = "deprecated.yaml"
MAX_MESSAGE = 500  # characters: a sentence or two, what a warning line can carry
MAX_BYTES = 4096  # a record's text: the message, a stub and a comment fit many times over
KEYS = ("message", "successor")
EXPECTED = "expected 'message: WHY' (one line) and optionally 'successor: STUB'"


@dataclass(frozen=True)
class Deprecation:
    """Why a stub is deprecated, and the stub to use instead (None: no successor named)."""

    message: str
    successor: str | None = None

    def warning(self, stub: str) -> str:
        """The line pulls and ``zoo lock`` print on stderr."""
        instead = f"; use {self.successor} instead" if self.successor else ""
        return f"warning: {stub} is deprecated: {self.message}{instead}"

    def to_dict(self) -> dict[str, str | None]:
        return {"message": self.message, "successor": self.successor}


def problem(stub: str, message: Any, successor: Any) -> str | None:
    """What is wrong with a record for ``stub``, or None: one rule for the CLI's input,
    a checkout's file and a remote's projection alike."""
    if not isinstance(message, str) or not message.strip():
        return "message must be a non-empty line of text saying why"
    if len(message) > MAX_MESSAGE:
        return f"message is {len(message)} characters long; at most {MAX_MESSAGE} are allowed"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in message):
        return "message must be one line, without control characters"
    if successor is None:
        return None
    if not isinstance(successor, str):
        return f"successor is {type(successor).__name__}; expected a stub"
    try:
        canonical = str(parse_stub(successor))
    except StubError as exc:
        return f"successor: {exc.message}"
    if canonical != successor:
        return f"successor {successor!r} is not the canonical spelling {canonical!r}"
    if successor == stub:
        return "successor is the deprecated stub itself"
    return None


def make(stub: str, message: str, successor: str | None = None) -> Deprecation:
    """A record from what a user typed (``zoo:`` prefixes dropped), or UsageError saying why not."""
    message = message.strip()
    if successor is not None:
        try:
            successor = str(parse_stub(successor))
        except StubError as exc:
            raise UsageError(f"successor: {exc.message}") from exc
    why = problem(stub, message, successor)
    if why is not None:
        raise UsageError(f"{stub}: {why}")
    return Deprecation(message, successor)


def from_doc(doc: Any, stub: str, where: str) -> Deprecation:
    """A record from parsed data (YAML or the projection's JSON), or ManifestError naming ``where``."""
    if not isinstance(doc, dict):
        raise ManifestError(where, EXPECTED)
    unknown = sorted(str(k) for k in doc if k not in KEYS)
    if unknown:
        raise ManifestError(where, f"unknown key {unknown[0][:40]!r}; {EXPECTED}")
    why = problem(stub, doc.get("message"), doc.get("successor"))
    if why is not None:
        raise ManifestError(where, why)
    return Deprecation(doc["message"], doc.get("successor"))


def parse_deprecation(text: str, stub: str, where: str = DEPRECATION_NAME) -> Deprecation:
    """``deprecated.yaml``'s record, or ManifestError naming the file and what was expected."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise ManifestError(where, f"is {size} bytes; a deprecation record is at most {MAX_BYTES}")
    try:
        doc = yamltext.load(text)
    except yamltext.YamlProblem as exc:
        raise ManifestError(where, f"does not parse: {exc}") from exc
    return from_doc(doc, stub, where)


def render_deprecation(stub: str, record: Deprecation) -> str:
    header = f"# {stub} is deprecated: changed with `zoo deprecate` / `zoo deprecate --undo`.\n"
    # Through the dumper: a message such as ``yes`` or ``null`` must come back as text.
    return header + yamltext.dump({k: v for k, v in record.to_dict().items() if v is not None})

