"""SparseZoo stubs: grammar, parsing, canonical form. Pure: no I/O.

    DOMAIN/SUB_DOMAIN/ARCHITECTURE{-SUB_ARCHITECTURE}/FRAMEWORK/REPO/
    DATASET{-TRAINING_SCHEME}/SPARSE_NAME-SPARSE_CATEGORY{-SPARSE_TARGET}

A stub is also a relative path under ``manifests/``, so the grammar is strict
enough that no stub can name anything outside that directory.

The sparse tag's three parts are open vocabularies, as SparseZoo served them:
each is a lowercase token (``[a-z0-9][a-z0-9_]*``), whatever its value. The
spec's values are *known* values (``KNOWN_*``); ``unknown_tokens`` lists the
fields holding anything else, for a warning, never a refusal. The tag splits at
its hyphens only, so its fields are always the tokens between them:

* ``pruned_quant-aggressive_94``: name ``pruned_quant``, category
  ``aggressive_94`` (the whole token: SparseZoo's recovery-percent suffix is
  part of the category, so nothing is lost and ``str()`` rebuilds the stub).
* ``pruned95_quant-none-vnni``: a third token is the target, ``vnni``.
* ``12layer_pruned80_quant-none``: a name need not start with a known base.

A reference (``parse_ref``) may end in SparseZoo's query, ``?recipe=NAME`` (the
recipe whose file stem is NAME) or ``?recipe_type=NAME`` (the recipe whose stem
starts with NAME), after the selector if any: ``STUB@v2?recipe=transfer``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from zoo_repo.errors import StubError

PREFIX = "zoo:"
# The spec's values: known, not required (see the module's docstring).
KNOWN_SPARSE_CATEGORIES = ("none", "conservative", "moderate", "aggressive")
KNOWN_SPARSE_TARGETS = ("disk", "edge", "deepsparse", "gpu")
KNOWN_SPARSE_NAME_BASES = ("base", "pruned", "quant", "pruned_quant", "arch")
# Older names, kept for importers.
SPARSE_CATEGORIES, SPARSE_TARGETS, SPARSE_NAME_BASES = (
    KNOWN_SPARSE_CATEGORIES, KNOWN_SPARSE_TARGETS, KNOWN_SPARSE_NAME_BASES)

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
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_]*")
_SPARSE_PARTS = ("sparse_name", "sparse_category", "sparse_target")
_QUERY_KEYS = ("recipe", "recipe_type")
# A recipe is named by its file's stem, as SparseZoo spelt them: ``transfer-SQuAD``.
_RECIPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_VERSION = re.compile(r"v([1-9][0-9]*)")
# Every test below at once, for a stub that passes them (one that does not is told which it fails):
# pieces of lowercase words around the hyphens each component allows, its sparse tag of tokens.
_PIECE, _TAG = r"[a-z0-9_][a-z0-9_.]*", r"[a-z0-9][a-z0-9_]*"
_VALID = re.compile(rf"{_PIECE}/{_PIECE}/{_PIECE}(?:-{_PIECE})?/{_PIECE}/{_PIECE}/{_PIECE}(?:-{_PIECE})?"
                    rf"/{_TAG}-{_TAG}(?:-{_TAG})?")


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
        return self._text

    @functools.cached_property
    def _text(self) -> str:
        # Spelt once per stub: a listing of 20,000 asks each for it a dozen times.
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
    recipe: str | None = None  # ``?recipe=NAME``: the recipe whose file stem is NAME
    recipe_type: str | None = None  # ``?recipe_type=NAME``: the recipe whose stem starts with NAME

    @property
    def query(self) -> str:
        """``?recipe=NAME``, ``?recipe_type=NAME`` or ``''``."""
        if self.recipe is not None:
            return f"?recipe={self.recipe}"
        return f"?recipe_type={self.recipe_type}" if self.recipe_type is not None else ""

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
        return f"{self.stub}@{self.selector}{self.query}"


def _join(*parts: str | None) -> str:
    return "-".join(p for p in parts if p)


def parse_stub(text: str) -> Stub:
    """Parse a stub (with or without the ``zoo:`` prefix), or raise StubError."""
    if not isinstance(text, str):
        raise StubError(repr(text), "stub", "must be a string")
    body = text.removeprefix(PREFIX)
    if len(body) <= MAX_LENGTH and _VALID.fullmatch(body):  # a listing of a large remote parses 20,000
        parts = body.split("/")
        if all(len(p) <= MAX_COMPONENT for p in parts):
            return stub_from_parts(parts)
    if len(body) > MAX_LENGTH:
        raise StubError(text[:60] + "…", "stub", f"is {len(body)} characters long; at most {MAX_LENGTH} are allowed")
    if "@" in body:
        raise StubError(text, "stub", "has a version selector where none is allowed here")
    if "?" in body:
        raise StubError(text, "stub", "has a query (?recipe=…) where none is allowed here")
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
    for field, token in zip(_SPARSE_PARTS, parts[6].split("-"), strict=False):
        if not _TOKEN.fullmatch(token):
            raise StubError(text, f"{field} {token!r}",
                            "must be a lowercase token: a letter or digit, then letters, digits, '_'")
    return stub_from_parts(parts)


def stub_from_parts(parts: list[str]) -> Stub:
    """The stub of seven components ``parse_stub`` has already accepted (unchecked: a listing
    that remembers which directory names parsed rebuilds them without parsing again)."""
    arch, _, sub_arch = parts[2].partition("-")
    dataset, _, scheme = parts[5].partition("-")
    tag = parts[6].split("-")
    return Stub(
        domain=parts[0],
        sub_domain=parts[1],
        architecture=arch,
        sub_architecture=sub_arch or None,
        framework=parts[3],
        repo=parts[4],
        dataset=dataset,
        training_scheme=scheme or None,
        sparse_name=tag[0],
        sparse_category=tag[1],
        sparse_target=tag[2] if len(tag) == 3 else None,
    )


def _shown(part: str) -> str:
    # Whole, so the bad character is in the message wherever it sits; only a
    # component too long to be valid anyway is cut.
    return repr(part) if len(part) <= MAX_COMPONENT else repr(part[:MAX_COMPONENT]) + "…"


def _check_component(text: str, index: int, part: str) -> None:
    label = f"component {index + 1} ({_COMPONENTS[index]}) {_shown(part)}"
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


def unknown_tokens(stub: Stub) -> list[tuple[str, str]]:
    """The sparse tag's fields whose value is none of the spec's known values, as
    ``(field, value)`` in field order: for a warning (a typo such as ``prunned``),
    never a refusal. A category is known with a ``_DIGITS`` suffix too
    (``aggressive_94``); a name is known when one of its ``_``-separated words,
    digits stripped, is a known base word (``12layer_pruned80_quant``)."""
    words = {w for base in KNOWN_SPARSE_NAME_BASES for w in base.split("_")}
    found = []
    if not any(w.strip("0123456789") in words for w in stub.sparse_name.split("_")):
        found.append(("sparse_name", stub.sparse_name))
    if re.sub(r"_[0-9]+$", "", stub.sparse_category) not in KNOWN_SPARSE_CATEGORIES:
        found.append(("sparse_category", stub.sparse_category))
    if stub.sparse_target is not None and stub.sparse_target not in KNOWN_SPARSE_TARGETS:
        found.append(("sparse_target", stub.sparse_target))
    return found


_DIGEST = re.compile(r"sha256:[0-9a-f]{8,64}")
_ALIAS = re.compile(r"[a-z][a-z0-9_.-]{0,62}")


def parse_ref(text: str) -> Ref:
    """Parse ``[zoo:]STUB[@SELECTOR][?recipe=NAME|?recipe_type=NAME]``; the
    selector defaults to ``latest``."""
    if not isinstance(text, str):
        raise StubError(repr(text), "stub", "must be a string")
    head, qsep, query = text.partition("?")
    recipes = _parse_query(text, query) if qsep else {}
    body, sep, selector = head.partition("@")
    stub = parse_stub(body)
    if not sep:
        return Ref(stub, **recipes)
    if selector == "latest" or _VERSION.fullmatch(selector) or _DIGEST.fullmatch(selector):
        return Ref(stub, selector, **recipes)
    if _ALIAS.fullmatch(selector) and not re.fullmatch(r"v[0-9]+", selector) and not selector.startswith("sha256"):
        return Ref(stub, selector, **recipes)
    raise StubError(
        text, f"version selector {selector!r}",
        "expected vN (N >= 1), latest, an alias (lowercase letters, digits, '_', '.', '-') "
        "or sha256:PREFIX (at least 8 hex digits)",
    )


def _parse_query(text: str, query: str) -> dict[str, str]:
    """``recipe=NAME`` or ``recipe_type=NAME``: one key, once (two could disagree)."""
    if len(text) > MAX_LENGTH + 200:
        raise StubError(text[:60] + "…", "reference", f"is {len(text)} characters long; at most "
                        f"{MAX_LENGTH + 200} are allowed")
    found: dict[str, str] = {}
    for item in query.split("&"):
        key, eq, value = item.partition("=")
        if not eq:
            raise StubError(text, f"query {item!r}", "is malformed; expected recipe=NAME or recipe_type=NAME")
        if key not in _QUERY_KEYS:
            raise StubError(text, f"query key {key!r}", "is unknown; expected recipe or recipe_type")
        if found:
            again = "is given twice" if key in found else "is one too many"
            raise StubError(text, f"query key {key!r}", f"{again}; expected one recipe= or recipe_type=")
        if not _RECIPE.fullmatch(value):
            raise StubError(text, f"{key} {value!r}", "is not a recipe name; expected a letter or digit, then "
                            "letters, digits, '_', '.', '-' (at most 100)")
        found[key] = value
    return found


def version_name(number: int) -> str:
    return f"v{number}"


def version_number(name: str) -> int | None:
    """``'v3'`` → 3; anything else → None."""
    match = _VERSION.fullmatch(name)
    return int(match.group(1)) if match else None
