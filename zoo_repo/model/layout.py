"""A model directory as the spec lays it out: which file plays which role.

``classify`` is pure; ``scan`` walks a directory and refuses what cannot be
published safely (symlinks that leave it, special files, names a reader would
refuse, a checkout's .git or .dvc); ``open_file`` reads a scanned file without
following links, so what is stored is what was scanned.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from zoo_repo.core import paths
from zoo_repo.core.validation import TEST_SET
from zoo_repo.errors import ModelDirError
from zoo_repo.model.ignore import Ignore

SAMPLE_ROLES = ("sample-originals", "sample-inputs", "sample-outputs", "sample-labels")
RECIPE_SUFFIXES = (".md", ".yaml", ".yml")
ONNX_NAME = "model.onnx"
ARCHIVE_NAME = "model.onnx.tar.gz"


def classify(relpath: str, framework: str) -> str:
    """The role of a file, from its path inside the model directory."""
    parts = relpath.split("/")
    top = parts[0]
    if relpath == "model.md":
        return "card"
    if relpath == ONNX_NAME:
        return "onnx"
    if relpath == ARCHIVE_NAME:
        return "archive"
    if top == "recipes" and len(parts) == 2 and parts[1].endswith(RECIPE_SUFFIXES):
        return "recipes"
    test_set = TEST_SET.match(relpath)
    if test_set and len(parts) > 1:
        # The ONNX Model Zoo's samples keep their paths; anything else in the folder
        # is a sample input, so publish refuses it as no sample format, never ignores it.
        return "sample-outputs" if test_set.group(2) == "output" else "sample-inputs"
    for role in SAMPLE_ROLES:
        if (top == role and len(parts) > 1) or relpath == role + ".tar.gz":
            return role
    if top == framework and len(parts) > 1:
        return "framework"
    return "other"


@dataclass(frozen=True)
class ModelFile:
    relpath: str
    abspath: Path
    role: str
    source: str = ""  # the path inside the model its bytes are read from (a symlink's target); relpath if empty
    size: int = 0  # as scanned; what is read later is checked by its digest, not this

    @property
    def origin(self) -> str:
        return self.source or self.relpath


# Names that make a directory something other than a model: a checkout or a
# DVC project (its config.local holds credentials) must never be published.
_REFUSED = {".git": "is a git repository or worktree", ".dvc": "is a DVC project folder (.dvc/config.local "
            "may hold credentials)"}
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def scan(root: Path, framework: str, ignore: Ignore | None = None) -> list[ModelFile]:
    """Every regular file under ``root`` with its role, sorted by path; the
    names follow ``core.paths`` (what every reader of the manifest accepts).
    What ``ignore`` matches is skipped unread (and noted in ``ignore.ignored``)."""
    if not root.is_dir():
        raise ModelDirError(str(root), "is not a directory")
    real_root = root.resolve()
    found: dict[str, ModelFile] = {}
    fd = os.open(real_root, _DIR_FLAGS & ~os.O_NOFOLLOW)
    try:
        _walk(fd, root, real_root, "", "", framework, found, {_key(os.fstat(fd))}, ignore)
    except OSError as exc:  # unreadable, or changed under the walk (a folder swapped for a link)
        raise ModelDirError(str(root), f"cannot be scanned: {exc.strerror} ({exc.filename or 'a folder'}); "
                                       "publish again once nothing changes it") from exc
    finally:
        os.close(fd)
    problem = paths.find_problem(sorted(found))
    if problem is not None:
        raise ModelDirError(problem.shown_path, problem.rule)
    return [found[k] for k in sorted(found)]


def _key(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _walk(fd: int, root: Path, real_root: Path, prefix: str, origin: str, framework: str,
          found: dict[str, ModelFile], seen_dirs: set[tuple[int, int]], ignore: Ignore | None) -> None:
    """Walk by directory descriptors: depth is not bounded by PATH_MAX (a path
    that is too long is refused by its rule). ``prefix`` is the folder's path
    in the model, ``origin`` where it really is (they differ below a folder symlink)."""
    with os.scandir(fd) as entries:
        names = sorted(e.name for e in entries)
    for name in names:
        rel = prefix + name
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise ModelDirError(ascii(rel), "file name is not valid UTF-8; rename it") from None
        if name == ".dvc" and os.path.lexists(root / rel / "config.local"):
            raise ModelDirError(rel + "/config.local", "holds DVC credentials; publish the model's own folder")
        if name in _REFUSED:
            raise ModelDirError(rel, _REFUSED[name] + "; publish the model's own folder")
        if len(rel.encode("utf-8")) > paths.MAX_PATH_BYTES:
            raise ModelDirError(f"{rel[:60]}…", f"is longer than {paths.MAX_PATH_BYTES:,} bytes")
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if ignore is not None and ignore.skips(rel, stat.S_ISDIR(st.st_mode)):
            continue
        source = "" if origin == prefix else origin + name
        linked = stat.S_ISLNK(st.st_mode)
        if linked:
            source, st = _link_target(root / rel, real_root, rel)
        if stat.S_ISDIR(st.st_mode):
            if _key(st) in seen_dirs:
                raise ModelDirError(rel, "is a directory symlink loop")
            sub = os.open(real_root / source, _DIR_FLAGS & ~os.O_NOFOLLOW) if linked else \
                os.open(name, _DIR_FLAGS, dir_fd=fd)
            try:
                _walk(sub, root, real_root, rel + "/", (source or rel) + "/", framework, found,
                      seen_dirs | {_key(st)}, ignore)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            found[rel] = ModelFile(rel, root / rel, classify(rel, framework), source, st.st_size)
        else:
            raise ModelDirError(rel, "is a special file (device, FIFO or socket); only regular files can be published")


def _link_target(path: Path, real_root: Path, rel: str) -> tuple[str, os.stat_result]:
    """Where a symlink inside the model points, as a path inside it, and what is there."""
    target = path.resolve()
    if not target.is_relative_to(real_root):
        raise ModelDirError(rel, f"is a symlink to {target}, outside the model directory")
    if not target.exists():
        raise ModelDirError(rel, "is a broken symlink")
    return target.relative_to(real_root).as_posix(), os.stat(target)


def open_file(root: Path, relpath: str) -> BinaryIO:
    """Open a file of the model for reading without following any link, one
    component at a time from the model's own directory: a file swapped for a
    symlink (or a folder for a link that leaves the model) after the scan is
    refused, never read."""
    # The model's own directory may be reached through links (the kernel follows
    # them as resolve() would, without a walk of the path per file); nothing below it.
    fd = os.open(root, _DIR_FLAGS & ~os.O_NOFOLLOW)
    try:
        *folders, name = relpath.split("/")
        for folder in folders:
            sub = os.open(folder, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = sub
        # O_NONBLOCK: a FIFO swapped in must not hang the open; a regular file ignores it.
        file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ModelDirError(relpath, "became a symlink while publishing; publish again once "
                                         "nothing changes the model directory") from exc
        raise ModelDirError(relpath, f"cannot be read while publishing: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise ModelDirError(relpath, "is no longer a regular file; publish again once nothing changes it")
    return os.fdopen(file_fd, "rb")
