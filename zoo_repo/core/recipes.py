"""Which recipe a reference's SparseZoo query selects. Pure: no I/O.

``STUB?recipe=NAME`` selects the file of role ``recipes`` whose stem is NAME
(``recipes/transfer.md`` for ``transfer``); ``STUB?recipe_type=NAME`` the one
whose stem is NAME or else starts with NAME (``transfer`` → ``transfer_learn``),
as SparseZoo matched recipe types. When several files qualify, the first in the
manifest's (sorted) order wins, so the choice never depends on the machine.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from zoo_repo.core.manifest import FileEntry, Manifest
from zoo_repo.core.stub import Ref
from zoo_repo.errors import NotFound


def _stem(entry: FileEntry) -> str:
    return PurePosixPath(entry.path).stem


def select_recipe(manifest: Manifest, ref: Ref) -> FileEntry | None:
    """The recipe file ``ref``'s query selects in ``manifest``; None without a query;
    NotFound (naming the recipes there are) when no file matches."""
    if ref.recipe is None and ref.recipe_type is None:
        return None
    recipes = manifest.by_role("recipes")
    if ref.recipe is not None:
        found = [f for f in recipes if _stem(f) == ref.recipe]
    else:
        wanted = ref.recipe_type or ""
        # An exact stem before a longer one: recipe_type=transfer is `transfer` when there is one.
        found = [f for f in recipes if _stem(f) == wanted] or [f for f in recipes if _stem(f).startswith(wanted)]
    if found:
        return found[0]
    names = ", ".join(sorted({_stem(f) for f in recipes})) or "none"
    raise NotFound(f"{manifest.stub}@{manifest.version_name} has no recipe matching {ref.query} "
                   f"(its recipes: {names})", hint=f"see `zoo show {manifest.stub}@{manifest.version_name}`")


def include_recipe(include: tuple[str, ...], chosen: FileEntry | None) -> tuple[str, ...]:
    """``include`` that also selects the chosen recipe: a pull narrowed to some files
    (``--include onnx``) still brings the recipe the reference asked for. An empty
    ``include`` already means every file."""
    if chosen is None or not include or chosen.path in include:
        return include
    return (*include, chosen.path)
