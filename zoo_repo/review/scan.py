"""The working tree's side of ``zoo check``: one walk over ``manifests/``.

``scan_layout`` finds every ``<stub>/vN/`` directory (the ``layout``, ``aliases``
and ``deprecation`` rules judge what it meets on the way); ``check_chunk`` then
reads each version's three files at most once and hands the bytes to the rules.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.core.aliases import ALIASES_NAME
from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.deprecation import DEPRECATION_NAME
from zoo_repo.core.deprecation import MAX_BYTES as DEPRECATION_LIMIT
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest
from zoo_repo.core.stub import Stub, parse_stub, version_number
from zoo_repo.core.trust import MAX_SIGNATURES, SIGNATURES, is_signature_name
from zoo_repo.errors import NotRegularFile, StubError, TooLarge
from zoo_repo.model.readfile import TEXT_LIMIT, read_bounded, text_limit
from zoo_repo.repo import dvc
from zoo_repo.review.advice import Settings, advise
from zoo_repo.review.claims import check_card_fields, check_validation
from zoo_repo.review.rules import (
    MANIFESTS,
    VERSION_FILES,
    Problem,
    check_aliases,
    check_card,
    check_deprecation,
    check_manifest,
    check_pointer,
    content_digest,
)

if TYPE_CHECKING:
    from zoo_repo.review.incremental import Scope

# Kept in the working tree by `dvc pull`/`zoo pull`, ignored by git.
_OUTPUT_DIR = dvc.OUT_NAME
_ROOT_KEEP = ".gitkeep"

Versions = dict[int, tuple[str, frozenset[str]]]  # number → (version dir, names inside it)
Task = tuple[str, int, str, frozenset[str]]  # stub, number, version dir, names inside it
# What the versions' rules return: version dir → digest of its content (for the
# duplicate rule), the manifests asked for, the problems found, and the warnings
# of the advisory rules.
Outcome = tuple[dict[str, bytes], dict[str, Manifest], list[Problem], list[Problem]]
# Which versions the advisory rules judge (None: every one), by which settings.
Advice = tuple[Settings, "frozenset[str] | None"]


# -- layout -------------------------------------------------------------------
def _entries(path: Path, names: frozenset[str] | None = None) -> list[os.DirEntry[str]]:
    """The directory's entries by name (only ``names``, when given)."""
    with os.scandir(path) as it:
        return sorted((e for e in it if names is None or e.name in names), key=lambda e: e.name)


def scan_layout(manifests: Path, problems: list[Problem], scope: Scope | None = None) -> dict[Stub, Versions]:
    """Find every ``<stub>/vN/`` directory; report whatever else lives in manifests/.
    With ``scope``, only what a change touches (``incremental``): the walk enters
    only the directories on the way to a touched path, and scans touched stubs whole."""
    found: dict[Stub, Versions] = {}
    records: list[tuple[str, str, str]] = []  # deprecated.yaml: stub, rel, path (judged once all stubs are known)
    # Nearly every version holds the same few names: one set serves them all (at 100,000
    # versions, a set and three strings each would be 30 MB).
    shared: dict[frozenset[str], frozenset[str]] = {}
    if not manifests.is_dir():
        return found

    def visit(path: Path, parts: tuple[str, ...]) -> None:
        names = None if scope is None else scope.children("/".join((MANIFESTS, *parts)))
        for entry in _entries(path, names):
            rel = "/".join((MANIFESTS, *parts, entry.name))
            if entry.is_symlink():
                # A link could make a version's files live outside the repository.
                problems.append(Problem(rel, "layout", "is a symlink; manifests/ holds real directories only"))
            elif not entry.is_dir():
                if not (parts == () and entry.name == _ROOT_KEEP):
                    problems.append(Problem(rel, "layout", "stray file: manifests/ holds only <stub>/vN/ directories"))
            elif len(parts) < 6:
                visit(Path(entry.path), (*parts, entry.name))
            else:
                text = "/".join((*parts, entry.name))
                try:
                    stub = parse_stub(text)
                except StubError as exc:
                    problems.append(Problem(rel, "layout", f"is not a stub directory: {exc.message}"))
                    continue
                if str(stub) != text:
                    problems.append(Problem(rel, "layout", f"is not the canonical spelling of {stub}"))
                    continue
                versions = _scan_stub(Path(entry.path), rel, problems, records, shared)
                if versions:
                    found[stub] = versions

    visit(manifests, ())
    published: set[str] | _Published = {str(stub) for stub in found}
    if scope is not None:
        published = _Published(manifests, found)
    for stub_text, rel, path in records:
        try:
            raw = read_bounded(path, DEPRECATION_LIMIT, rel)
        except TooLarge:
            problems.append(Problem(rel, "deprecation", f"is larger than {DEPRECATION_LIMIT} bytes; "
                                    "a deprecation record is a line saying why and a successor"))
        except NotRegularFile as exc:
            problems.append(_refused(exc))
        else:
            check_deprecation(raw, rel, stub_text, published, problems)
    return found


class _Published:
    """The stubs with a version, as the full walk would find them: those the walk
    found, else asked of the disk one at a time (a successor outside the scope)."""

    def __init__(self, manifests: Path, found: dict[Stub, Versions]) -> None:
        self._manifests, self._found = manifests, found

    def __contains__(self, stub: object) -> bool:
        from zoo_repo.review.incremental import published

        return isinstance(stub, str) and published(self._manifests, stub, self._found)


def _scan_stub(path: Path, rel: str, problems: list[Problem], records: list[tuple[str, str, str]],
               shared: dict[frozenset[str], frozenset[str]]) -> Versions:
    versions: Versions = {}
    aliases_file: os.DirEntry[str] | None = None
    for entry in _entries(path):
        child = f"{rel}/{entry.name}"
        number = version_number(entry.name)
        if entry.name == ALIASES_NAME and entry.is_file() and not entry.is_symlink():
            aliases_file = entry
            continue
        if entry.name == DEPRECATION_NAME and entry.is_file() and not entry.is_symlink():
            records.append((rel.removeprefix(MANIFESTS + "/"), child, entry.path))
            continue
        if entry.is_symlink() or not entry.is_dir() or number is None:
            if entry.name.startswith(".v") and ".tmp-" in entry.name:
                why = "is left over from an interrupted publish; remove it"
            elif entry.is_symlink():
                why = "is a symlink; versions are real directories"
            else:
                why = "is not a version directory (expected v1, v2, …)"
            problems.append(Problem(child, "layout", why))
            continue
        inside = _entries(Path(entry.path))
        names = frozenset(e.name for e in inside)
        names = shared.setdefault(names, names)
        versions[number] = (child, names)
        for name in sorted(names - set(VERSION_FILES) - {_OUTPUT_DIR, SIGNATURES}):
            problems.append(Problem(f"{child}/{name}", "layout", "unexpected in a version directory "
                                    "(manifest.yaml, model.md, model.dvc, signatures/)"))
        for sub in inside:
            if sub.name == SIGNATURES:
                _scan_signatures(sub, f"{child}/{SIGNATURES}", problems)
    if aliases_file is not None:
        try:
            raw = read_bounded(aliases_file.path, TEXT_LIMIT, f"{rel}/{ALIASES_NAME}")
        except (NotRegularFile, TooLarge) as exc:
            problems.append(_refused(exc))
            return versions
        check_aliases(raw, f"{rel}/{ALIASES_NAME}", set(versions), problems)
    return versions


def _scan_signatures(entry: os.DirEntry[str], rel: str, problems: list[Problem]) -> None:
    """``signatures/`` holds regular files named as zoo names them, and no more than a pull reads."""
    if entry.is_symlink() or not entry.is_dir():
        problems.append(Problem(rel, "layout", "must be a real directory of signature files"))
        return
    found = _entries(Path(entry.path))
    for sig in found:
        if sig.is_symlink() or not sig.is_file() or not is_signature_name(sig.name):
            problems.append(Problem(f"{rel}/{sig.name}", "layout",
                                    "is not a signature file (<16 hex>-<publisher|approval|attestation|files>.sig)"))
    if len(found) > MAX_SIGNATURES:
        problems.append(Problem(rel, "layout", f"holds {len(found)} files; at most {MAX_SIGNATURES} are read"))


# -- one version --------------------------------------------------------------
def _read(root: Path, rel: str, names: frozenset[str], name: str) -> bytes | None:
    """Version ``rel``'s file ``name``, or None when the directory listing or the disk lacks it.
    A pull request can make it a FIFO, a device or a symlink to one, or huge: NotRegularFile
    or TooLarge, never a read that blocks or fills memory."""
    if name not in names:
        return None
    try:
        return read_bounded(str(root / f"{rel}/{name}"), text_limit(name), f"{rel}/{name}")
    except (FileNotFoundError, NotADirectoryError):
        return None


def _refused(exc: NotRegularFile | TooLarge) -> Problem:
    return Problem(exc.path, "layout", exc.message.removeprefix(f"{exc.path}: "))


def check_version(root: Path, stub: Stub, number: int, rel: str, names: frozenset[str],
                  problems: list[Problem]) -> Manifest | None:
    """The per-version rules; returns the manifest when it parses.

    The card and the pointer are read only once the manifest parses: the
    rules on them need it. The card is read once for ``card`` and ``card-fields``.
    """
    try:
        manifest = check_manifest(_read(root, rel, names, MANIFEST_NAME), rel, stub, number, problems)
        if manifest is None:
            return None
        check_validation(rel, manifest, problems)
        card = _read(root, rel, names, CARD_NAME)
        if check_card(card, rel, manifest, problems) and card is not None:  # else the card rule refuses it
            check_card_fields(card, rel, manifest, problems)
        check_pointer(_read(root, rel, names, dvc.POINTER_NAME), rel, manifest, problems)
    except (NotRegularFile, TooLarge) as exc:
        problems.append(_refused(exc))
        return None
    return manifest


def check_chunk(root: str, tasks: list[Task], keep: frozenset[str] | None, advice: Advice | None = None) -> Outcome:
    """The per-version rules for some versions (runs in a worker process for large zoos).

    Only the manifests in ``keep`` (all when None) come back whole: sending
    ten thousand parsed manifests between processes costs as much as parsing.
    The advisory rules run here too, on each manifest as it is parsed, so a full
    check of a large zoo never holds every manifest at once.
    """
    contents: dict[str, bytes] = {}
    manifests: dict[str, Manifest] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for stub, number, rel, names in tasks:
        manifest = check_version(Path(root), parse_stub(stub), number, rel, names, problems)
        if manifest is not None:
            contents[rel] = content_digest(manifest)
            if keep is None or rel in keep:
                manifests[rel] = manifest
            if advice is not None and (advice[1] is None or rel in advice[1]):
                warned, failed = advise({rel: manifest}, advice[0])
                warnings.extend(warned)
                problems.extend(failed)
    return contents, manifests, problems, warnings
