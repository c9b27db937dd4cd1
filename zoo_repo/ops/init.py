"""``zoo init``: a new zoo, as its own git repository with DVC and a default remote."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from zoo_repo.core import yamltext
from zoo_repo.core.urls import check_remote_url
from zoo_repo.errors import UsageError
from zoo_repo.repo import dvc, git, gitcommit
from zoo_repo.repo.config import MARKER
from zoo_repo.repo.workspace import MANIFESTS, STORE
from zoo_repo.store.atomic import write_text_atomic

_GITIGNORE = """\
# Working files of zoo and of dvc pull/checkout; never tracked.
/.zoo/
/manifests/*/**/model/
"""

_DVC_YAML = """\
# `dvc repro` rebuilds the catalog from the manifests; `zoo catalog` runs the same code.
stages:
  catalog:
    cmd: python -m zoo_repo catalog
    deps:
      - manifests
    outs:
      - CATALOG.md:
          cache: false
      - catalog.json:
          cache: false
      - catalog:
          cache: false
"""


_MARKER_TEXT = """\
# This directory is a zoo: see `zoo --help`.
format: 1
# The branch whose commits consumers without git see on the remote: `zoo publish`
# and `zoo tag` update the remote when they commit on it, `zoo push` after a merge.
"""


def init_zoo(path: Path, remote: str, remote_options: Mapping[str, str] | None = None,
             branch: str = "main") -> Path:
    """Create a zoo at ``path``; returns its root. See ``Zoo.init``."""
    check_remote_url(remote or "")
    for key, value in (remote_options or {}).items():
        if key not in dvc.SECRET_OPTIONS:  # these are tracked: a URL among them must not carry secrets either
            check_remote_url(str(value))
    root = path.resolve()
    if (root / MARKER).exists():
        raise UsageError(f"{root}: already a zoo (zoo.yaml exists)")
    if not remote:
        raise UsageError("remote is required: a directory path or fsspec URL", param="remote")
    remote_url = dvc.local_remote_path(remote)
    root.mkdir(parents=True, exist_ok=True)
    if not git.is_toplevel(root):
        git.init(root, branch)
    (root / MANIFESTS).mkdir(exist_ok=True)
    (root / STORE).mkdir(exist_ok=True)
    write_text_atomic(root / STORE / ".gitignore", "# the content-addressed store\n*\n!.gitignore\n")
    write_text_atomic(root / MANIFESTS / ".gitkeep", "")
    gitignore = root / ".gitignore"
    existing = gitignore.read_text() if gitignore.exists() else ""
    if _GITIGNORE not in existing:
        separator = "\n" if existing and not existing.endswith("\n") else ""
        write_text_atomic(gitignore, existing + separator + _GITIGNORE)
    if not (root / ".dvc").exists():
        dvc.init_repo(root, remote_url, options=remote_options)
    if not (root / "dvc.yaml").exists():
        write_text_atomic(root / "dvc.yaml", _DVC_YAML)
    release = git.current_branch(root) or branch
    write_text_atomic(root / MARKER, _MARKER_TEXT + yamltext.dump({"release": release}))
    gitcommit.commit(
        root,
        [MARKER, ".gitignore", "dvc.yaml", ".dvc/config", ".dvc/.gitignore", ".dvcignore",
         f"{STORE}/.gitignore", f"{MANIFESTS}/.gitkeep"],
        "Create zoo",
    )
    return root
