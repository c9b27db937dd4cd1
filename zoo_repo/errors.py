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
    │   ├── DestinationConflict   the destination holds different bytes at a model path
    │   ├── NotRegularFile        a FIFO, device, folder or symlink where a file is read
    │   └── TooLarge              a metadata file larger than any real one
    ├── NotFound                  exit 2: stub or version not published
    │   ├── NotPinned             a lockfile in use pins no such stub or selector
    │   └── PinMismatch           a pinned version's manifest no longer has the pinned digest
    ├── RemoteError               exit 1: remote missing, unreachable, refusing
    │   ├── ObjectMissing         an object the manifest names is not there
    │   ├── Claimed               another checkout holds stub@vN on the remote
    │   └── ProjectionMoved       the remote's projection is ahead of, or beside, the release branch
    ├── Offline                   exit 1: offline, and the cache lacks what is asked
    ├── IntegrityError            exit 1: bytes that do not match their digest
    ├── SignatureError            exit 2: a signature or key that is not what it must be
    │   └── Unsigned              a version lacks the signatures the consumer's pins require
    ├── ToolError                 exit 1: git or dvc failed
    └── LocalFileError            exit 1: the local disk refused (full, read-only,
                                  permission, names too long…): see ``os_error``

A message never names a command-line flag: where it names a parameter of the
Python API it writes it in the keyword form `` `dest=` `` and declares the name
in ``param`` (a str, or a tuple of str). ``str(exc)`` keeps that form for Python
callers; the CLI's error boundary (``zoo_repo.cli.errors``) shows the flag.

This module imports nothing of the package, so any module may raise from it.
"""

from __future__ import annotations

import contextlib
import errno as errno_module
from collections.abc import Iterator


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


class NotRegularFile(UsageError):
    """Something other than a regular file where one is read: opening a FIFO
    blocks forever, a device never ends, a symlink may point anywhere."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(f"{path}: is not a regular file ({kind}); refusing to read it")
        self.path = path
        self.kind = kind


class TooLarge(UsageError):
    """A metadata file larger than its fixed cap: no real one is, so it is not read further."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(f"{path}: is larger than {limit} bytes, more than any such file needs; "
                         "refusing to read it")
        self.path = path
        self.limit = limit


class NotFound(ZooError, LookupError):
    exit_code = 2


class NotPinned(NotFound):
    """A zoo opened from a lockfile was asked for what the lockfile does not pin."""

    def __init__(self, message: str, *, lockfile: str, ref: str, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.lockfile = lockfile
        self.ref = ref


class PinMismatch(NotFound):
    """The pinned version is on the remote, but its manifest is not the one pinned:
    what the lockfile names is gone, so nothing is read from that version."""

    def __init__(self, lockfile: str, ref: str, expected: str, actual: str) -> None:
        super().__init__(
            f"{ref}: the remote's manifest digest is {actual}, {lockfile} pins {expected}; nothing was pulled",
            hint=f"the version was rewritten; if that is intended, re-pin with `zoo lock --upgrade -f {lockfile}`",
        )
        self.lockfile = lockfile
        self.ref = ref
        self.expected = expected
        self.actual = actual


class RemoteError(ZooError):
    pass


class Claimed(RemoteError):
    """Another checkout holds the version number on the remote: the history diverged."""


class ProjectionMoved(RemoteError):
    """The remote's projection is not behind this checkout's release branch
    (it is ahead, or on another line of history): moving it would undo reviewed work."""


class ObjectMissing(RemoteError, FileNotFoundError):
    def __init__(self, where: str, oid: str, path: str) -> None:
        super().__init__(f"{path}: object md5:{oid} is missing from {where}",
                         hint="run `zoo push --full` in a checkout whose store holds it")
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


class SignatureError(ZooError):
    """A signature that does not vouch for a version: unreadable, not made by the
    given key, over other files, or bound to another stub, version or manifest.
    ``problems`` lists every line found; the message shows the first."""

    exit_code = 2

    def __init__(self, where: str, problem: str, *, hint: str | None = None,
                 problems: tuple[str, ...] = ()) -> None:
        super().__init__(f"{where}: {problem}", hint=hint)
        self.where = where
        self.problem = problem
        self.problems = problems or (problem,)


class Unsigned(SignatureError):
    """A version without the valid approvals the consumer's pins require: nothing is
    placed. ``ref`` is the version; the message names who was expected and what was found."""

    def __init__(self, ref: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(ref, problem, hint=hint)
        self.message = problem
        self.ref = ref

    def __str__(self) -> str:
        return self.message


class ToolError(ZooError):
    """git or dvc exited with an error."""


class LocalFileError(ZooError):
    """The local system refused a file operation: the disk, its permissions, its limits."""

    def __init__(self, path: str | None, problem: str, *, hint: str | None = None, errno: int | None = None) -> None:
        super().__init__(f"{path}: {problem}" if path else problem, hint=hint)
        self.path = path
        self.problem = problem
        self.errno = errno


# errno name → (what it means here, what to do). Only failures of the environment:
# an errno not listed here (ENOENT, EBADF…) reaching the CLI is a bug and keeps its traceback.
_OS_PROBLEMS = {
    "EACCES": ("permission denied", "check the owner and mode of the path and of the folders above it"),
    "EPERM": ("operation not permitted", "check the owner, mode and attributes (chattr) of the path"),
    "ENOSPC": ("no space left on the device", "free some space (`zoo cache prune` removes unused cached "
               "objects), or write somewhere else"),
    "EDQUOT": ("disk quota exceeded", "free some space, or write somewhere else"),
    "EFBIG": ("file too large for this file system or the file size limit", "check `ulimit -f` and the "
              "file system's largest file"),
    "EROFS": ("the file system is read-only", "write somewhere else, or remount it read-write"),
    "ENAMETOOLONG": ("the path, or a name in it, is too long for the file system",
                     "use a shorter destination, or shorter names"),
    "ELOOP": ("too many levels of symbolic links", "check for a symlink that points at itself or its folder"),
    "EISDIR": ("is a folder where a file was expected", "remove or move the folder (a file that became a "
               "folder between versions?)"),
    "ENOTDIR": ("a part of the path is a file where a folder was expected", "remove or move that file (a "
                "folder that became a file between versions?)"),
    "EMFILE": ("too many open files", "raise the limit (`ulimit -n`), or pull with fewer jobs"),
    "ENFILE": ("too many open files in the system", "pull with fewer jobs"),
    "EIO": ("input/output error", "check the disk (dmesg)"),
}


def os_error(exc: BaseException) -> LocalFileError | None:
    """The one line for an OSError of the environment (disk full, read-only, permission…),
    naming the path it concerned; None for any other exception."""
    if isinstance(exc, LocalFileError):
        return exc
    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    found = _OS_PROBLEMS.get(errno_module.errorcode.get(exc.errno, ""))
    if found is None:
        return None
    problem, hint = found
    path = None if exc.filename is None else str(exc.filename)
    if exc.filename2 is not None:  # a copy or a rename: the disk that refused is the target's
        target = str(exc.filename2)
        path = target if exc.errno in _WRITES else f"{path} -> {target}"
    return LocalFileError(path and _final_name(path), problem, hint=hint, errno=exc.errno)


_WRITES = {getattr(errno_module, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS")
           if hasattr(errno_module, name)}


def _final_name(path: str) -> str:
    """The name a temp file was written for (``store.atomic``'s ``.NAME.tmp-PID-RANDOM``):
    what the user asked for, not the writer's scratch name."""
    import re

    return re.sub(r"(^|/)\.([^/]+)\.tmp-\d+-[0-9a-f]+$", r"\1\2", path)


@contextlib.contextmanager
def naming(path: str) -> Iterator[None]:
    """Give a write's OSError the file's name when it has none (a full disk, a file
    size limit, a kernel-side copy): the error boundary then says which file the
    disk refused."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, path) from exc
