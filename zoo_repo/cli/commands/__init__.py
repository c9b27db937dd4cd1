"""The commands of ``zoo``, one module per family; :func:`register` is the one
place that attaches them to the group.

Each module defines its commands with ``click.command`` and lists them in
``COMMANDS``; it imports from ``zoo_repo.cli.state`` and ``zoo_repo.cli.options``,
never from the group's module, and imports the library inside each command so
that ``zoo --help`` loads none of it. ``zoo --help`` lists commands by name.
"""

from __future__ import annotations

import click

from zoo_repo.cli.commands import (
    cache,
    catalog,
    completion,
    demo,
    deprecate,
    doctor,
    import_sparsezoo,
    init,
    listing,
    lock,
    maintenance,
    publish,
    pull,
    review,
    sign,
    tag,
)

FAMILIES = (init, publish, import_sparsezoo, pull, lock, listing, tag, deprecate, sign, maintenance, cache, doctor,
            catalog, demo, review, completion)


def register(group: click.Group) -> None:
    from zoo_repo.cli.options import global_params

    for family in FAMILIES:
        for command in family.COMMANDS:
            command.params.extend(global_params(from_env=False, hidden=True))
            group.add_command(command)
