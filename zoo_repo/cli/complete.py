"""Shell completion callbacks: stubs, ``STUB@`` versions and aliases, roles.

Cheap on purpose, since they run on every Tab: they read the checkout's
``manifests/`` directory through ``repo.sources`` (plain ``os`` calls), and
never open the zoo (no git, DVC or remote). Outside a checkout they offer
nothing; any failure offers nothing rather than an error.
"""

from __future__ import annotations

import os
from typing import Any

import click
from click.shell_completion import CompletionItem

PREFIX = "zoo:"


def _source(ctx: click.Context) -> Any:
    from pathlib import Path

    from zoo_repo.cli.state import State
    from zoo_repo.repo.config import find_root
    from zoo_repo.repo.sources import CheckoutSource
    from zoo_repo.repo.workspace import MANIFESTS

    state = ctx.find_object(State)
    root = find_root(Path((state.zoo_dir if state else None) or os.environ.get("ZOO_DIR") or "."))
    return CheckoutSource(root, root / MANIFESTS)


def _names(source: Any, body: str) -> list[str]:
    """``vN`` of each published version, ``latest`` and each alias of the stub ``body``."""
    from zoo_repo.core.aliases import parse_aliases
    from zoo_repo.core.stub import parse_stub

    stub = parse_stub(body)
    text = source.aliases_text(stub)
    aliases = sorted(parse_aliases(text)) if text else []
    return [f"v{n}" for n in source.versions(stub)] + ["latest", *aliases]


def complete_ref(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Stubs of the zoo; after ``STUB@``, that stub's versions and aliases."""
    prefix = PREFIX if incomplete.startswith(PREFIX) else ""
    text = incomplete[len(prefix):]
    try:
        source = _source(ctx)
        if "@" in text:
            body, _, selector = text.partition("@")
            return [CompletionItem(f"{prefix}{body}@{name}") for name in _names(source, body)
                    if name.startswith(selector)]
        stubs = sorted(str(s) for s in source.stubs())
    except Exception:  # noqa: BLE001 - completion offers nothing rather than fail
        return []
    return [CompletionItem(prefix + s) for s in stubs if s.startswith(text)]


def complete_role(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The roles ``--include`` selects by name (a glob is completed by nothing)."""
    from zoo_repo.core.manifest import ROLES

    return [CompletionItem(role) for role in ROLES if role.startswith(incomplete)]
