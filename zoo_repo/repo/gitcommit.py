"""Commits that cost what they touch: ``commit`` makes what ``git add -- PATHS`` and
``git commit --only -- PATHS`` make, from git's plumbing (``git.py`` runs it)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from zoo_repo.errors import ToolError
from zoo_repo.repo import gittree
from zoo_repo.repo.git import cat_batch, config_values, git, git_bytes, identity_env


def _is_true(value: str | None) -> bool:
    return (value or "false").strip().lower() in ("true", "yes", "on", "1")


def commit(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly ``paths`` (other staged changes stay staged); returns the sha.

    What ``git add -- PATHS`` and ``git commit --only -- PATHS`` do, at the cost of
    what the commit touches rather than of the repository: git's porcelain reads,
    refreshes (an lstat of every tracked file) and rewrites the whole index, twice,
    and reads HEAD's whole tree into a temporary one; in a zoo of 100,000 versions
    (300,000 files) that is seconds. Here git hashes the paths' files, stages them
    (one read and write of the index, nothing refreshed), and the commit is built
    from the trees along the paths only (``_commit_touched``), then moves HEAD by
    compare-and-swap: a commit that landed meanwhile is built upon, never lost.
    Whenever that could differ from the porcelain (hooks to run, a merge or
    cherry-pick in progress, a path already a directory in HEAD, an ignored file,
    a sparse checkout, no commit yet…) the porcelain runs instead.
    """
    config = config_values(root)
    env = identity_env(root, config)
    sha = _commit_touched(root, paths, message, config, env)
    if sha is not None:
        return sha
    git(root, "add", "--", *paths)
    git(root, "commit", "-q", "-m", message, "--only", "--", *paths, env=env)
    return git(root, "rev-parse", "HEAD").strip()


# Hooks ``git commit`` runs (``post-index-change`` and ``reference-transaction`` run for plumbing too).
_COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")
# ``git commit --only`` refuses during these, or records more than a plain commit.
_IN_PROGRESS = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "sequencer", "rebase-merge", "rebase-apply")
_CAS_ATTEMPTS = 5


class _Porcelain(Exception):
    """This commit is one for ``git commit``: the plumbing could record something else."""


@dataclass(frozen=True)
class _Change:
    """What a commit of some paths puts in the tree, paths relative to ``root``."""

    prefix: bytes  # the root's path in the repository: b"" or ending in /
    files: dict[str, bytes]  # path → mode
    blobs: dict[str, str]  # path → blob sha
    removed: list[str]  # gone from the working tree: removed from the tree
    folders: list[str]  # directories among the paths: new to the tree
    object_format: str
    filemode: bool  # core.filemode: the exec bit counts

    def full(self, path: str) -> bytes:
        return self.prefix + os.fsencode(path)


def _commit_touched(root: Path, paths: Sequence[str], message: str, config: Mapping[str, str],
                    env: Mapping[str, str]) -> str | None:
    """``commit``'s plumbing; None when the porcelain must make this commit (nothing
    committed then; the files may be staged, as the porcelain's `git add` stages them)."""
    try:
        text = gittree.clean_message(message)
        if not text or config.get("commit.cleanup", "default").lower() not in ("default", "whitespace") \
                or _is_true(config.get("core.sparsecheckout")):
            raise _Porcelain
        where = _where(root)
        if where is None:
            raise _Porcelain
        prefix, git_dir, hooks, head, object_format = where
        if any(os.access(hooks / name, os.X_OK) for name in _COMMIT_HOOKS) \
                or any(os.path.lexists(git_dir / name) for name in _IN_PROGRESS):
            raise _Porcelain
        files, removed, folders = _worktree_files(root, paths)
        _check_not_ignored(root, sorted(files))
        change = _Change(prefix, files, _hash_files(root, sorted(files)), removed, folders, object_format,
                         _is_true(config.get("core.filemode", "true")))
    except _Porcelain:
        return None
    # Staged first, as `git add` stages (a commit whose files the index lacked would look,
    # to `git status` and the user's next commit, like their removal). Git rewrites the
    # whole index for it, the one cost here of the repository's size: the trees and the
    # commit are built meanwhile. Should the trees hand the commit to `git commit`, its
    # `git add` stages the same again.
    staging = subprocess.Popen(["git", "-C", str(root), "update-index", "--add", "--remove", "-z", "--stdin"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert staging.stdin is not None and staging.stderr is not None
    try:
        try:
            staging.stdin.write(b"".join(os.fsencode(p) + b"\0" for p in sorted([*files, *removed])))
            staging.stdin.close()
        except BrokenPipeError:
            pass  # git stopped early: its exit code and message say why
        try:
            tree, bodies = _build_on(root, head, change)
        except _Porcelain:
            return None
        _write_trees(root, bodies)
    finally:
        err = staging.stderr.read()
        staging.stderr.close()
        staging.wait()
    if staging.returncode != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"git update-index failed: {detail[-1] if detail else staging.returncode}")
    # From here on the porcelain would do no better: a failure is the commit's error.
    subject = text.split("\n", 1)[0]
    gpg = ["-S"] if _is_true(config.get("commit.gpgsign")) else []  # commit-tree leaves the config to its caller
    for attempt in range(_CAS_ATTEMPTS):
        if attempt:
            _write_trees(root, bodies)
        sha = git_bytes(root, "commit-tree", tree, "-p", head, *gpg, stdin=text.encode("utf-8"),
                         env=env).decode().strip()
        # The old value makes this a compare-and-swap, as `git commit`'s own update is.
        moved = subprocess.run(["git", "-C", str(root), "update-ref", "-m", f"commit: {subject}", "HEAD", sha, head],
                               capture_output=True, text=True, check=False)
        if moved.returncode == 0:
            # `git commit` then runs the repository's automatic maintenance (gc --auto).
            subprocess.run(["git", "-C", str(root), "maintenance", "run", "--auto", "--quiet"],
                           capture_output=True, check=False)
            return sha
        now = _where(root)
        if now is None or now[3] == head:
            detail = moved.stderr.strip().splitlines()
            raise ToolError(f"git update-ref failed: {detail[-1] if detail else moved.returncode}")
        # Another commit moved HEAD meanwhile: this one goes on top of it, never in its place.
        head = now[3]
        try:
            tree, bodies = _build_on(root, head, change)
        except _Porcelain:
            if _has_change(root, head, change):  # that commit holds these very files (the user committed them)
                return head
            raise ToolError("git commit failed: HEAD moved while committing, to a commit that has "
                            + ", ".join(paths) + " already") from None
    raise ToolError("git commit failed: HEAD kept moving while committing", hint="try again")


def _where(root: Path) -> tuple[bytes, Path, Path, str, str] | None:
    """The root's path in the repository (``b""`` or ending in ``/``), the git directory,
    the hooks directory, HEAD's commit and the object format; None without a commit."""
    proc = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-prefix", "--absolute-git-dir",
                           "--git-path", "hooks", "--show-object-format", "--verify", "-q", "HEAD^{commit}"],
                          capture_output=True, check=False)
    lines = proc.stdout.split(b"\n")
    if proc.returncode != 0 or len(lines) < 5 or not lines[4]:
        return None
    prefix, git_dir, hooks, object_format, head = lines[:5]
    decoded = object_format.decode()
    if decoded not in ("sha1", "sha256"):
        return None
    return (prefix, Path(os.fsdecode(git_dir)), root / os.fsdecode(hooks), head.decode(), decoded)


def _worktree_files(root: Path, paths: Sequence[str]) -> tuple[dict[str, bytes], list[str], list[str]]:
    """The regular files ``git add -- PATHS`` would stage, path (relative to ``root``) →
    mode as the working tree says it (exec bit or not); the paths that are gone; the
    paths that are directories (each must be new to HEAD: ``_trees_at``)."""
    files: dict[str, bytes] = {}
    removed: list[str] = []
    folders: list[str] = []
    for path in paths:
        parts = path.split("/")
        if not path or path.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts) or "\n" in path:
            raise _Porcelain
        full = root / path
        if any(os.path.islink(root.joinpath(*parts[:depth])) for depth in range(1, len(parts))):
            raise _Porcelain  # beyond a symbolic link: git add refuses
        try:
            info = full.lstat()
        except FileNotFoundError:
            removed.append(path)  # staged as a removal if tracked (``_trees_at`` checks)
            continue
        if stat.S_ISREG(info.st_mode):
            files[path] = gittree.EXEC_MODE if info.st_mode & stat.S_IXUSR else gittree.FILE_MODE
        elif stat.S_ISDIR(info.st_mode):
            folders.append(path)
            before = len(files)
            for folder, dirs, names in os.walk(full):
                if ".git" in dirs:
                    raise _Porcelain  # a nested repository: git add decides
                for name in [*names, *(d for d in dirs if os.path.islink(os.path.join(folder, d)))]:
                    item = os.path.join(folder, name)
                    mode = os.lstat(item).st_mode
                    rel = Path(item).relative_to(root).as_posix()
                    if not stat.S_ISREG(mode) or "\n" in rel or name == ".git":
                        raise _Porcelain  # a link, a socket…: git add decides
                    files[rel] = gittree.EXEC_MODE if mode & stat.S_IXUSR else gittree.FILE_MODE
            if len(files) == before:
                raise _Porcelain  # an empty directory: git's own error
        else:
            raise _Porcelain
    return files, removed, folders


def _check_not_ignored(root: Path, files: Sequence[str]) -> None:
    """An ignored file is one ``git add`` skips (in a directory) or refuses: its business."""
    if not files:
        return
    proc = subprocess.run(["git", "-C", str(root), "check-ignore", "--no-index", "-z", "--stdin"],
                          input=b"".join(os.fsencode(f) + b"\0" for f in files), capture_output=True, check=False)
    if proc.returncode != 1:  # 1: none ignored; 0: some are; else an error
        raise _Porcelain


def _hash_files(root: Path, files: Sequence[str]) -> dict[str, str]:
    """Each file's blob, written as ``git add`` writes it (attributes, filters and all)."""
    if not files:
        return {}
    shas: list[str] = []
    for start in range(0, len(files), 500):  # named on the command line: relative to ``root`` as given
        shas += git_bytes(root, "hash-object", "-w", "--", *files[start:start + 500]).decode().split()
    if len(shas) != len(files):
        raise ToolError(f"git hash-object failed: {len(shas)} objects for {len(files)} files")
    return dict(zip(files, shas, strict=True))


def _trees_at(root: Path, head: str, change: _Change) -> dict[bytes, bytes]:
    """The tree object of each directory along the paths at ``head`` (b"" when absent),
    by repository path, from one ``git cat-file --batch``."""
    dirs = gittree.ancestors(change.full(p) for p in [*change.files, *change.removed])
    trees: dict[bytes, bytes] = {}
    for d, found in zip(dirs, cat_batch(root, [b"%s:%s" % (head.encode(), d) for d in dirs]), strict=True):
        if found is None:
            trees[d] = b""
        elif found[0] != b"tree":
            raise _Porcelain  # a file where a directory goes
        else:
            trees[d] = found[1]
    return trees


_NEW = (b"", None)  # what ``found`` says of a name a tree did not have


def _build_on(root: Path, head: str, change: _Change) -> tuple[str, dict[str, bytes]]:
    """The tree of ``head`` with ``change`` made: its oid and every new tree object (oid →
    bytes), built bottom-up from the directories along the paths. ``_Porcelain`` when it
    is not what a plain add of new files, new directories or removals makes (a directory
    already there, a directory where a file goes, a removal of something never tracked),
    or when nothing would change."""
    trees = _trees_at(root, head, change)
    size = gittree.oid_size(change.object_format)
    changed: dict[bytes, dict[bytes, tuple[bytes, bytes | None]]] = {}
    for path, mode in change.files.items():
        folder, _, name = change.full(path).rpartition(b"/")
        changed.setdefault(folder, {})[name] = (mode, bytes.fromhex(change.blobs[path]))
    for path in change.removed:
        folder, _, name = change.full(path).rpartition(b"/")
        changed.setdefault(folder, {})[name] = (gittree.FILE_MODE, None)
    new_dirs = {change.full(p) for p in change.folders}
    bodies: dict[str, bytes] = {}
    oid = ""
    for folder in gittree.ancestors(change.full(p) for p in [*change.files, *change.removed]):
        edits = changed.get(folder, {})
        body, found = gittree.edit_tree(trees[folder], size, edits)
        for name, (mode, blob) in edits.items():
            had = found.get(name, _NEW)[0]
            if had in (gittree.TREE_MODE, gittree.GITLINK_MODE) and mode != gittree.TREE_MODE \
                    or mode == gittree.TREE_MODE and had not in (gittree.TREE_MODE, b"") \
                    or blob is None and mode != gittree.TREE_MODE and had in (b"", gittree.TREE_MODE):
                raise _Porcelain  # a file for a directory or the other way round; a removal of nothing
            if mode == gittree.TREE_MODE and had and (folder + b"/" + name if folder else name) in new_dirs:
                raise _Porcelain  # the directory is tracked already: git add would also record what left it
            if not change.filemode and mode != gittree.TREE_MODE and blob is not None:
                # git keeps the mode it has (a new file: not executable)
                edits[name] = (had or gittree.FILE_MODE, blob)
                body, _ = gittree.edit_tree(trees[folder], size, edits)
        oid = gittree.object_id("tree", body, change.object_format)
        bodies[oid] = body
        if folder:
            parent, _, name = folder.rpartition(b"/")
            # An emptied directory is no entry at all: git has no empty trees below the root.
            changed.setdefault(parent, {})[name] = (gittree.TREE_MODE, bytes.fromhex(oid) if body else None)
    if body == trees[b""]:
        raise _Porcelain  # nothing to commit: git's own message
    return oid, bodies


def _has_change(root: Path, head: str, change: _Change) -> bool:
    """Whether ``head`` already holds exactly ``change``'s files (and not its removals)."""
    trees = _trees_at(root, head, change)
    size = gittree.oid_size(change.object_format)
    for path in [*change.files, *change.removed]:
        folder, _, name = change.full(path).rpartition(b"/")
        _, found = gittree.edit_tree(trees[folder], size, {name: (gittree.FILE_MODE, None)})
        blob = found.get(name, _NEW)[1]
        if blob != (bytes.fromhex(change.blobs[path]) if path in change.files else None):
            return False
    return True


def _write_trees(root: Path, bodies: Mapping[str, bytes]) -> None:
    """Write the tree objects (one ``git hash-object``), checking git agrees on each oid."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="zoo-trees-") as tmp:
        names = []
        for i, body in enumerate(bodies.values()):
            name = os.path.join(tmp, str(i))
            with open(name, "wb") as f:
                f.write(body)
            names.append(name)
        out = git_bytes(root, "hash-object", "-w", "-t", "tree", "--stdin-paths",
                         stdin="".join(f"{n}\n" for n in names).encode())
    if out.decode().split() != list(bodies):
        raise ToolError("git hash-object failed: a tree's object id is not the one computed")
