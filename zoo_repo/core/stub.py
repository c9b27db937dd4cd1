"""SparseZoo stubs: grammar, parsing, canonical form. Pure: no I/O.

    DOMAIN/SUB_DOMAIN/ARCHITECTURE{-SUB_ARCHITECTURE}/FRAMEWORK/REPO/
    DATASET{-TRAINING_SCHEME}/SPARSE_NAME-SPARSE_CATEGORY{-SPARSE_TARGET}

A stub is also a relative path under ``manifests/``, so the grammar is strict
enough that no stub can name anything outside that directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zoo_repo.errors import StubError

PREFIX = "zoo:"
SPARSE_CATEGORIES = ("none", "conservative", "moderate", "aggressive")
SPARSE_TARGETS = ("disk", "edge", "deepsparse", "gpu")
SPARSE_NAME_BASES = ("base", "pruned", "quant", "pruned_quant", "arch")

FIELDS = (
    "domain",
    "sub_domain",
    "architecture",
    "sub_architecture",
    "framework",
    "repo",
    "dataset",
    "training_scheme",
    "sparse_name",
    "sparse_category",
    "sparse_target",
)

_COMPONENTS = (
    "domain",
    "sub_domain",
    "architecture",
    "framework",
    "repo",
    "dataset",
    "sparse tag",
)
# How many hyphens each component may hold: (min, max).
_HYPHENS = {2: (0, 1), 5: (0, 1), 6: (1, 2)}
_WORD = re.compile(r"[a-z0-9_.]+")
# A stub is a directory path in git and on every remote: keep it well inside
# filesystem and object-key limits (255 bytes a component, 1,024 a key).
MAX_LENGTH = 400
MAX_COMPONENT = 100
_SPARSE_NAME = re.compile(rf"(?:{'|'.join(SPARSE_NAME_BASES)})[a-z0-9_]*")
_VERSION = re.compile(r"v([1-9][0-9]*)")


@dataclass(frozen=True, order=True)
class Stub:
    """The parsed fields of a stub; ``str(stub)`` is its canonical spelling."""

    domain: str
    sub_domain: str
    architecture: str
    sub_architecture: str | None
    framework: str
    repo: str
    dataset: str
    training_scheme: str | None
    sparse_name: str
    sparse_category: str
    sparse_target: str | None

    def __str__(self) -> str:
        arch = _join(self.architecture, self.sub_architecture)
        data = _join(self.dataset, self.training_scheme)
        tag = _join(self.sparse_name, self.sparse_category, self.sparse_target)
        return "/".join((self.domain, self.sub_domain, arch, self.framework, self.repo, data, tag))

    @property
    def path(self) -> str:
        """The stub as a relative POSIX path (it is already one)."""
        return str(self)

    def fields(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in FIELDS}

    @classmethod
    def parse(cls, text: str) -> Stub:
        return parse_stub(text)


@dataclass(frozen=True)
class Ref:
    """A stub with a version selector: ``@v3``, ``@latest`` (the default), an
    alias (``@stable``) or a manifest digest prefix (``@sha256:1f2e3d4c``)."""

    stub: Stub
    selector: str = "latest"

    @property
    def version(self) -> int | None:
        """The version number the selector names, or None when it must be resolved."""
        match = _VERSION.fullmatch(self.selector)
        return int(match.group(1)) if match else None

    @property
    def kind(self) -> str:
        """``version``, ``latest``, ``digest`` or ``alias``."""
        if self.selector == "latest":
            return "latest"
        if self.version is not None:
            return "version"
        return "digest" if self.selector.startswith("sha256:") else "alias"

    def __str__(self) -> str:
        return f"{self.stub}@{self.selector}"


def _join(*parts: str | None) -> str:
    return "-".join(p for p in parts if p)


def parse_stub(text: str) -> Stub:
    """Parse a stub (with or without the ``zoo:`` prefix), or raise StubError."""
    if not isinstance(text, str):
        raise StubError(repr(text), "stub", "must be a string")
    body = text.removeprefix(PREFIX)
    if len(body) > MAX_LENGTH:
        raise StubError(text[:60] + "…", "stub", f"is {len(body)} characters long; at most {MAX_LENGTH} are allowed")
    if "@" in body:
        raise StubError(text, "stub", "has a version selector where none is allowed here")
    parts = body.split("/")
    if len(parts) != 7:
        raise StubError(
            text,
            "stub",
            f"has {len(parts)} components; expected 7: DOMAIN/SUB_DOMAIN/ARCHITECTURE"
            "/FRAMEWORK/REPO/DATASET/SPARSE_NAME-SPARSE_CATEGORY",
        )
    for index, part in enumerate(parts):
        _check_component(text, index, part)
    arch, _, sub_arch = parts[2].partition("-")
    dataset, _, scheme = parts[5].partition("-")
    tag = parts[6].split("-")
    name, category = tag[0], tag[1]
    target = tag[2] if len(tag) == 3 else None
    if not _SPARSE_NAME.fullmatch(name):
        raise StubError(
            text,
            f"sparse_name {name!r}",
            "must start with one of " + ", ".join(SPARSE_NAME_BASES)
            + " (optionally followed by lowercase letters, digits, '_')",
        )
    if category not in SPARSE_CATEGORIES:
        raise StubError(
            text, f"sparse_category {category!r}", "must be one of " + ", ".join(SPARSE_CATEGORIES)
        )
    if target is not None and target not in SPARSE_TARGETS:
        raise StubError(
            text, f"sparse_target {target!r}", "must be one of " + ", ".join(SPARSE_TARGETS)
        )
    return Stub(
        domain=parts[0],
        sub_domain=parts[1],
        architecture=arch,
        sub_architecture=sub_arch or None,
        framework=parts[3],
        repo=parts[4],
        dataset=dataset,
        training_scheme=scheme or None,
        sparse_name=name,
        sparse_category=category,
        sparse_target=target,
    )


def _check_component(text: str, index: int, part: str) -> None:
    label = f"component {index + 1} ({_COMPONENTS[index]}) {part[:40]!r}"
    if len(part) > MAX_COMPONENT:
        raise StubError(text[:60] + "…", label, f"is {len(part)} characters long; at most {MAX_COMPONENT}")
    if not part:
        raise StubError(text, f"component {index + 1} ({_COMPONENTS[index]})", "is empty")
    if part.startswith("."):
        raise StubError(text, label, "must not start with '.'")
    low, high = _HYPHENS.get(index, (0, 0))
    pieces = part.split("-")
    if not low <= len(pieces) - 1 <= high:
        if index == 6:
            want = "SPARSE_NAME-SPARSE_CATEGORY or SPARSE_NAME-SPARSE_CATEGORY-SPARSE_TARGET"
        elif high:
            want = "at most one '-'"
        else:
            want = "no '-'"
        raise StubError(text, label, f"has {len(pieces) - 1} '-'; expected {want}")
    for piece in pieces:
        if not piece:
            raise StubError(text, label, "has an empty part around '-'")
        if piece.startswith("."):
            raise StubError(text, label, "has a part starting with '.'")
        if not _WORD.fullmatch(piece):
            bad = next(c for c in piece if not _WORD.fullmatch(c))
            raise StubError(
                text, label, f"has {bad!r}; expected lowercase letters, digits, '_' and '.'"
            )


_DIGEST = re.compile(r"sha256:[0-9a-f]{8,64}")
_ALIAS = re.compile(r"[a-z][a-z0-9_.-]{0,62}")


def parse_ref(text: str) -> Ref:
    """Parse ``[zoo:]STUB[@SELECTOR]``; the selector defaults to ``latest``."""
    body, sep, selector = text.partition("@")
    stub = parse_stub(body)
    if not sep:
        return Ref(stub)
    if selector == "latest" or _VERSION.fullmatch(selector) or _DIGEST.fullmatch(selector):
        return Ref(stub, selector)
    if _ALIAS.fullmatch(selector) and not re.fullmatch(r"v[0-9]+", selector) and not selector.startswith("sha256"):
        return Ref(stub, selector)
    raise StubError(
        text, f"version selector {selector!r}",
        "expected vN (N >= 1), latest, an alias (lowercase letters, digits, '_', '.', '-') "
        "or sha256:PREFIX (at least 8 hex digits)",
    )


def version_name(number: int) -> str:
    return f"v{number}"


def version_number(name: str) -> int | None:
    """``'v3'`` → 3; anything else → None."""
    match = _VERSION.fullmatch(name)
    return int(match.group(1)) if match else None
