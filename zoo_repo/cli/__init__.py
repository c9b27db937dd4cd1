"""The ``zoo`` command. Parses arguments, calls zoo_repo, prints the result.

Only this package imports click, and nothing here does work of its own. Heavy
modules (dvc, fsspec, onnx, yaml) are imported by the library calls that need
them, so ``zoo --help`` stays fast.

    app.py       the group and its global options; ``run`` is the entry point
    state.py     the State each command is handed (global options, the zoo)
    errors.py    the one error boundary: ZooError -> ``Error: …`` and exit status
    options.py   options shared by several commands, each defined once
    commands/    one module per command family; commands/__init__ registers them
    render.py    results -> text and JSON (pure);  bar.py  the progress bar
"""

from zoo_repo.cli.app import main, run

__all__ = ["main", "run"]
