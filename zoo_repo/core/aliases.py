"""Aliases: mutable, reviewable names for versions (``stable`` → ``v2``). Pure.

Kept per stub as ``manifests/<stub>/aliases.yaml`` (and on the remote, for
consumers without git), one ``name: vN`` line each, sorted, so a diff shows
exactly which pointer moved. ``latest`` is reserved: it is derived, never stored.
"""

from __future__ import annotations

import re

from zoo_repo.core import yamltext
from zoo_repo.core.stub import version_number
from zoo_repo.errors import ManifestError, UsageError

ALIASES_NAME = "aliases.yaml"
RESERVED = frozenset({"latest"})
_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,62}")


def check_alias_name(name: str) -> str:
    """An alias name, or UsageError saying what is expected."""
    if name in RESERVED:
        raise UsageError(f"alias {name!r} is reserved: it always means the highest version")
    if version_number(name) is not None or not _NAME.fullmatch(name) or name.startswith("sha256"):
        raise UsageError(
            f"alias {name!r} is not valid: expected a lowercase letter, then up to 62 lowercase letters, "
            "digits, '_', '.' or '-' (and not vN or sha256…)"
        )
    return name


def parse_aliases(text: str, where: str = ALIASES_NAME) -> dict[str, int]:
    """alias → version number, or ManifestError naming the bad line."""
    try:
        doc = yamltext.load(text) or {}
    except yamltext.YamlProblem as exc:
        raise ManifestError(where, str(exc)) from exc
    if not isinstance(doc, dict):
        raise ManifestError(where, "expected a mapping of alias: vN")
    out: dict[str, int] = {}
    for name, target in doc.items():
        try:
            check_alias_name(name)
        except UsageError as exc:
            raise ManifestError(where, exc.message) from exc
        number = version_number(target) if isinstance(target, str) else None
        if number is None:
            raise ManifestError(where, f"alias {name!r} points at {target!r}; expected vN")
        out[name] = number
    return out


def render_aliases(stub: str, aliases: dict[str, int]) -> str:
    header = f"# Aliases of {stub}: mutable pointers, changed with `zoo tag` / `zoo untag`.\n"
    # Through the YAML dumper, not by hand: a valid name such as ``yes``, ``on``
    # or ``null`` must be quoted, or YAML reads it back as a bool or None.
    return header + yamltext.dump({name: f"v{number}" for name, number in sorted(aliases.items())})


def by_version(aliases: dict[str, int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for name, number in sorted(aliases.items()):
        out.setdefault(number, []).append(name)
    return out


def named_versions(aliases: dict[str, int], latest: int) -> dict[str, str]:
    """Every name a stub's versions answer to, as ``zoo versions`` shows them:
    ``latest`` and each alias, to its version's name (``{"latest": "v3", "stable": "v2"}``)."""
    return {"latest": f"v{latest}", **{name: f"v{number}" for name, number in sorted(aliases.items())}}
