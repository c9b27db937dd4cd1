"""The one exception tree of zoo_repo.

Every error a user can cause or meet derives from :class:`ZooError`; it carries
the one-line message shown on the command line, an optional hint naming the
next thing to try, and the process exit status::

    ZooError                      exit 1 (environment: disk, network, remote)
    ├── UsageError                exit 2 (bad input)
    │   ├── StubError             a stub or selector that does not parse
    │   ├── ModelDirError         a model directory that cannot be published
    │   ├── CardError             model.md that is missing or malformed
    │   ├── ManifestError         a manifest that does not match its schema
    │   ├── NotAZooError          no zoo at or above the given directory
    │   └── DestinationConflict   the destination holds different bytes at a model path
    ├── NotFound                  exit 2: stub or version not published
    ├── RemoteError               exit 1: remote missing, unreachable, refusing
    │   └── ObjectMissing         an object the manifest names is not there
    ├── Offline                   exit 1: offline, and the cache lacks what is asked
    ├── IntegrityError            exit 1: bytes that do not match their digest
    └── ToolError                 exit 1: git or dvc failed

A message never names a command-line flag: where it names a parameter of the
Python API it writes it in the keyword form `` `dest=` `` and declares the name
in ``param`` (a str, or a tuple of str). ``str(exc)`` keeps that form for Python
callers; the CLI's error boundary (``zoo_repo.cli.errors``) shows the flag.

This module imports nothing of the package, so any module may raise from it.
"""

from __future__ import annotations


class ZooError(Exception):
    """Base of every error zoo_repo raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None,
                 param: str | tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.param = param  # the parameters the message and hint name as `name=`

    def __str__(self) -> str:
        return self.message


class UsageError(ZooError):
    exit_code = 2


class StubError(UsageError, ValueError):
    """A stub, one of its components, or a version selector is malformed."""

    def __init__(self, text: str, component: str, expected: str) -> None:
        super().__init__(f"invalid stub {text!r}: {component} {expected}")
        self.text = text
        self.component = component
        self.expected = expected


class ModelDirError(UsageError):
    def __init__(self, path: str, problem: str, *, param: str | tuple[str, ...] | None = None) -> None:
        super().__init__(f"{path}: {problem}", param=param)
        self.path = path
        self.problem = problem


class CardError(UsageError):
    def __init__(self, path: str, problem: str, *, param: str | tuple[str, ...] | None = None) -> None:
        super().__init__(f"{path}: {problem}", param=param)
        self.path = path
        self.problem = problem


class ManifestError(UsageError):
    def __init__(self, path: str, problem: str, *, param: str | tuple[str, ...] | None = None) -> None:
        super().__init__(f"{path}: {problem}", param=param)
        self.path = path
        self.problem = problem


class NotAZooError(UsageError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path}: not a zoo (no zoo.yaml here or in any parent directory)",
            hint="create one with `zoo init DIR --remote URL`, or pass `zoo=` DIR",
            param="zoo",
        )


class DestinationConflict(UsageError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: exists with different content; refusing to overwrite")
        self.path = path


class NotFound(ZooError, LookupError):
    exit_code = 2


class RemoteError(ZooError):
    pass


class ObjectMissing(RemoteError, FileNotFoundError):
    def __init__(self, where: str, oid: str, path: str) -> None:
        super().__init__(f"{path}: object md5:{oid} is missing from {where}")
        self.oid = oid
        self.path = path


class Offline(ZooError):
    """Offline mode, and the cache does not hold what was asked for."""

    def __init__(self, what: str) -> None:
        super().__init__(f"offline: {what} not in the cache",
                         hint="run once without `offline=` (or ZOO_OFFLINE=1) to download it", param="offline")


class IntegrityError(ZooError):
    """Bytes that do not hash to the digest that names them: a download, or with
    ``stored`` an object already in the local store or cache. The repair differs:
    a bad download means the remote's copy needs pushing again, a bad stored
    object means the local copy needs fetching again."""

    def __init__(self, path: str, algo: str, expected: str, actual: str, source: str, *,
                 stored: bool = False) -> None:
        mismatch = f"expected {algo}:{expected}, got {algo}:{actual}"
        if stored:
            super().__init__(
                f"{path}: {algo} mismatch in {source}: {mismatch}; the stored object is corrupt",
                hint=f"remove it (`rm -f {path}`), then run `zoo fetch` to download a good copy",
            )
        else:
            super().__init__(
                f"{path}: {algo} mismatch from {source}: {mismatch}; the download was discarded",
                hint="the copy on the remote is corrupt: run `zoo push` from a machine "
                "whose store holds the good object, then pull again",
            )
        self.path = path
        self.expected = expected
        self.actual = actual
        self.stored = stored


class ToolError(ZooError):
    """git or dvc exited with an error."""
