"""A model directory as the spec lays it out: which file plays which role.

``classify`` is pure; ``scan`` walks a directory and refuses what cannot be
published safely (symlinks that leave it, special files, undecodable names).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from zoo_repo.errors import ModelDirError

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


def scan(root: Path, framework: str) -> list[ModelFile]:
    """Every regular file under ``root`` with its role, sorted by path."""
    if not root.is_dir():
        raise ModelDirError(str(root), "is not a directory")
    real_root = root.resolve()
    found: dict[str, ModelFile] = {}
    _walk(root, real_root, "", framework, found, {real_root})
    return [found[k] for k in sorted(found)]


def _walk(
    directory: Path,
    real_root: Path,
    prefix: str,
    framework: str,
    found: dict[str, ModelFile],
    seen_dirs: set[Path],
) -> None:
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        rel = prefix + entry.name
        try:
            entry.name.encode("utf-8")
        except UnicodeEncodeError:
            raise ModelDirError(
                str(directory / entry.name), "file name is not valid UTF-8; rename it"
            ) from None
        path = Path(entry.path)
        if entry.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(real_root):
                raise ModelDirError(rel, f"is a symlink to {target}, outside the model directory")
            if not target.exists():
                raise ModelDirError(rel, "is a broken symlink")
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            real = path.resolve()
            if real in seen_dirs:
                raise ModelDirError(rel, "is a directory symlink loop")
            _walk(path, real_root, rel + "/", framework, found, seen_dirs | {real})
        elif stat.S_ISREG(st.st_mode):
            found[rel] = ModelFile(rel, path, classify(rel, framework))
        else:
            raise ModelDirError(rel, "is a special file (device, FIFO or socket); only regular files can be published")
