"""The module that runs git (``gitcommit`` makes commits with it)."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from zoo_repo.errors import ToolError, UsageError


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
        )
    except FileNotFoundError as exc:
        raise ToolError("git is not installed or not on PATH") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise ToolError(f"git {args[0]} failed: {detail[-1] if detail else proc.returncode}")
    return proc.stdout


def is_toplevel(root: Path) -> bool:
    """Whether ``root`` is the top of a git work tree (not merely inside one)."""
    try:
        top = git(root, "rev-parse", "--show-toplevel").strip()
    except ToolError:
        return False
    return Path(top).resolve() == root.resolve()


def init(root: Path, branch: str = "main") -> None:
    # The branch is named outright: README, the review commands and the CI
    # examples speak of main, whatever git's own default is on this machine.
    git(root, "init", "-q", f"--initial-branch={branch}")


def clone(source: Path, dest: Path) -> None:
    git(source.parent, "clone", "-q", str(source), str(dest))


def identity(root: Path) -> tuple[str, str]:
    """The publisher: git's user.name/email, else the login name on this host."""
    return _identity_of(config_values(root))


def config_values(root: Path) -> dict[str, str]:
    """The configuration ``identity`` and ``gitcommit.commit`` consult, read by one ``git config`` (a key set
    without a value, which git reads as true, is ``"true"``; the last value wins)."""
    try:
        proc = subprocess.run(["git", "-C", str(root), "config", "-z", "--get-regexp", _CONFIG_KEYS],
                              capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise ToolError("git is not installed or not on PATH") from exc
    found: dict[str, str] = {}
    for record in proc.stdout.decode("utf-8", "replace").split("\0"):
        if record:
            key, newline, value = record.partition("\n")
            found[key.lower()] = value if newline else "true"
    return found


_CONFIG_KEYS = r"^(user\.(name|email)|commit\.(gpgsign|cleanup)|core\.(filemode|sparsecheckout))$"


def _identity_of(config: Mapping[str, str]) -> tuple[str, str]:
    name, email = config.get("user.name", "").strip(), config.get("user.email", "").strip()
    if not name:
        name = getpass.getuser()
    if not email:
        email = f"{getpass.getuser()}@{socket.gethostname()}"
    return name, email


def identity_env(root: Path, config: Mapping[str, str] | None = None) -> dict[str, str]:
    name, email = _identity_of(config_values(root) if config is None else config)
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def unstage(root: Path, paths: Sequence[str]) -> None:
    """Take paths out of the index again; quiet if they were never added."""
    try:
        git(root, "reset", "-q", "--", *paths)
    except ToolError:
        pass


# -- reading history (used by ``zoo check`` and ``zoo review``) -------------
def git_bytes(root: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None) -> bytes:
    """Like ``git`` but bytes in and out: blob contents need not be text."""
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, check=False,
                              env={**os.environ, **env} if env else None)
    except FileNotFoundError as exc:
        raise ToolError("git is not installed or not on PATH") from exc
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"git {args[0]} failed: {detail[-1] if detail else proc.returncode}")
    return proc.stdout


def paths_output(root: Path, *args: str) -> str:
    """The output of a ``-z`` listing command, decoded as ``changed_paths`` decodes: a
    path need not be UTF-8, and must round-trip to the same file."""
    return git_bytes(root, *args).decode("utf-8", "surrogateescape")


def resolve_commit(root: Path, ref: str) -> str:
    """The commit sha ``ref`` names, or ToolError naming the ref."""
    # A ref that starts with '-' would be read as an option by git.
    if not ref or ref.startswith("-"):
        raise ToolError(f"unknown git ref {ref!r}: not a commit in {root}")
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except ToolError:
        raise ToolError(
            f"unknown git ref {ref!r}: not a commit in {root}",
            hint="name a branch, tag or commit; for a remote branch run `git fetch` first",
        ) from None


def changed_paths(root: Path, base: str, pathspec: str, against: str | None = None) -> list[tuple[str, str]]:
    """``(status, path)`` for files under ``pathspec`` that differ between ``base`` and ``against``.

    ``against`` is a commit, or None for the working tree (tracked files,
    staged or not). Status is git's letter: A, D, M or T; renames are split
    into D and A so a moved file counts as deleted at its old path. Paths are
    relative to ``root``, which may be a subdirectory of the repository.
    """
    args = ["diff", "--name-status", "--no-renames", "--no-ext-diff", "--relative", "-z", base]
    if against is not None:
        args.append(against)
    out = git_bytes(root, *args, "--", pathspec).decode("utf-8", "surrogateescape")
    fields = out.split("\0")
    return [(fields[i][:1], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]


def changed_blobs(root: Path, base: str, against: str, pathspec: str) -> dict[str, str | None]:
    """path → blob sha at ``against`` (None: not there) of every file under ``pathspec``
    that differs between commits ``base`` and ``against``: what ``changed_paths`` and an
    ``ls_tree`` of those paths would say, from one diff that costs what changed.
    Between two commits named by sha the answer cannot change: a process asks git once
    (a projection asks which stubs changed, then what, of the same two commits)."""
    key = (str(root), base, against, pathspec)
    if key not in _DIFFS:
        found = _changed_blobs(root, base, against, pathspec)
        if not all(len(ref) in (40, 64) and all(c in "0123456789abcdef" for c in ref) for ref in (base, against)):
            return found  # a ref name: it may move
        if len(found) > _DIFF_KEPT:
            return found  # a first projection's whole tree: asked twice rather than held
        if len(_DIFFS) >= 8:
            _DIFFS.pop(next(iter(_DIFFS)))
        _DIFFS[key] = found
    return dict(_DIFFS[key])


_DIFFS: dict[tuple[str, str, str, str], dict[str, str | None]] = {}
_DIFF_KEPT = 10_000  # paths of a diff worth keeping for the next question


def _changed_blobs(root: Path, base: str, against: str, pathspec: str) -> dict[str, str | None]:
    out = git_bytes(root, "diff", "--raw", "--no-renames", "--no-ext-diff", "--relative", "-z", "--abbrev=40",
                     base, against, "--", pathspec).decode("utf-8", "surrogateescape")
    fields = out.split("\0")
    found: dict[str, str | None] = {}
    for i in range(0, len(fields) - 1, 2):
        # ":<old mode> <new mode> <old sha> <new sha> <status>", then the path
        _old, mode, _was, sha, status = fields[i].lstrip(":").split(" ")
        if status.startswith("D") or mode == "000000":
            found[fields[i + 1]] = None
        elif mode != "160000":  # a submodule's commit is not a file
            found[fields[i + 1]] = sha
    return found


def blobs_at(root: Path, ref: str, paths: Sequence[str]) -> dict[str, str]:
    """path → blob sha at ``ref`` of those of ``paths`` that are files there, asked in
    bounded chunks (a command line holds only so many paths)."""
    found: dict[str, str] = {}
    wanted = list(paths)
    for start in range(0, len(wanted), 500):
        out = git_bytes(root, "ls-tree", "-r", "-z", ref, "--", *wanted[start:start + 500])
        for record in out.decode("utf-8", "surrogateescape").split("\0"):
            meta, _, path = record.partition("\t")
            if record and meta.split(" ")[1] == "blob":
                found[path] = meta.split(" ")[2]
    return found


def ls_tree(root: Path, ref: str, pathspec: str) -> dict[str, str]:
    """path → blob sha of every file under ``pathspec`` at ``ref``; paths relative to ``root``."""
    return dict(tree_files(root, ref, pathspec))


def tree_files(root: Path, ref: str, pathspec: str) -> Iterator[tuple[str, str]]:
    """``ls_tree`` as it is read: (path, blob sha) one at a time, so a caller that keeps
    a few of 300,000 files never holds the whole listing."""
    try:
        proc = subprocess.Popen(["git", "-C", str(root), "ls-tree", "-r", "-z", ref, "--", pathspec],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise ToolError("git is not installed or not on PATH") from exc
    assert proc.stdout is not None and proc.stderr is not None
    with proc:
        rest = b""
        while chunk := proc.stdout.read(1 << 20):
            *records, rest = (rest + chunk).split(b"\0")
            for record in records:
                meta, _, path = record.decode("utf-8", "surrogateescape").partition("\t")
                _mode, kind, sha = meta.split(" ")
                if kind == "blob":
                    yield path, sha
        detail = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
    if proc.returncode != 0:
        raise ToolError(f"git ls-tree failed: {detail[-1] if detail else proc.returncode}")


def read_blobs(root: Path, shas: Sequence[str]) -> dict[str, bytes]:
    """The contents of many blobs, read by one ``git cat-file --batch``."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    blobs: dict[str, bytes] = {}
    for sha, found in zip(wanted, cat_batch(root, [s.encode() for s in wanted]), strict=True):
        if found is None:
            raise ToolError(f"git cat-file failed: object {sha} is missing")
        blobs[sha] = found[1]
    return blobs


def cat_batch(root: Path, names: Sequence[bytes]) -> list[tuple[bytes, bytes] | None]:
    """(type, contents) of the object each of ``names`` names (``<sha>`` or ``<rev>:<path>``),
    or None where there is none, from one ``git cat-file --batch``."""
    out = git_bytes(root, "cat-file", "--batch", stdin=b"".join(name + b"\n" for name in names))
    found: list[tuple[bytes, bytes] | None] = []
    pos = 0
    for _ in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3:  # "<name> missing"
            found.append(None)
            continue
        size = int(header[2])
        found.append((header[1], out[pos:pos + size]))
        pos += size + 1  # each body is followed by a newline
    return found


def show(root: Path, ref: str, path: str) -> str | None:
    """The text of ``path`` (relative to ``root``) at ``ref``, or None if it does not exist there."""
    sha = ls_tree(root, ref, path).get(path)
    if sha is None:
        return None
    return read_blobs(root, [sha])[sha].decode("utf-8")


def commit_to_new_branch(root: Path, branch: str, files: Mapping[str, bytes | None], message: str) -> str:
    """Commit ``files`` (path → bytes, or None to remove it) on top of HEAD as a new branch, touching
    neither the working tree, the index nor the current branch; returns the sha.
    Refuses a branch that already exists."""
    import tempfile

    try:
        git(root, "check-ref-format", "--branch", branch)
    except ToolError:
        raise UsageError(f"`branch=` {branch!r} is not a valid git branch name", param="branch") from None
    if subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
                      capture_output=True).returncode == 0:
        raise UsageError(f"branch {branch!r} already exists", hint="pass another name with `branch=` NAME",
                         param="branch")
    parent = git(root, "rev-parse", "HEAD").strip()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**identity_env(root), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(root, "read-tree", parent, env=env)
        for path, data in sorted(files.items()):
            if data is None:
                git(root, "update-index", "--force-remove", "--", path, env=env)
                continue
            blob = git_bytes(root, "hash-object", "-w", "--stdin", stdin=data).decode().strip()
            git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = git(root, "write-tree", env=env).strip()
        sha = git(root, "commit-tree", tree, "-p", parent, "-m", message, env=env).strip()
    # The empty old value makes this a create: it fails if the branch appeared meanwhile.
    git(root, "update-ref", f"refs/heads/{branch}", sha, "0" * 40)
    return sha


def branch_tips(root: Path) -> list[str]:
    """The commits every local and remote-tracking branch points at (unique)."""
    try:
        out = git(root, "for-each-ref", "--format=%(objectname)", "refs/heads", "refs/remotes")
    except ToolError:
        return []
    return sorted(set(out.split()))


def is_tracked(root: Path, path: str) -> bool:
    """Whether ``path`` is in HEAD's tree (committed)."""
    proc = subprocess.run(["git", "-C", str(root), "cat-file", "-e", f"HEAD:{path}"], capture_output=True)
    return proc.returncode == 0


# -- the release branch (``ops.project``) -----------------------------------
def current_branch(root: Path) -> str | None:
    """The branch HEAD is on; None when detached."""
    proc = subprocess.run(["git", "-C", str(root), "symbolic-ref", "-q", "--short", "HEAD"],
                          capture_output=True, text=True)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def branch_commit(root: Path, branch: str) -> str | None:
    """The commit local branch ``branch`` points at; None when there is no such branch (or no commit yet)."""
    proc = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet",
                           f"refs/heads/{branch}^{{commit}}"], capture_output=True, text=True)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def hides_changes(root: Path, pathspec: str) -> bool:
    """Is any file under ``pathspec`` out of sight of git's diff: an index entry marked
    assume-unchanged or skip-worktree, or a submodule (whose files are its own repository's)?"""
    out = git_bytes(root, "ls-files", "-s", "-v", "-z", "--", pathspec)
    # "TAG MODE SHA STAGE<TAB>PATH": a lower-case tag is assume-unchanged, S skip-worktree.
    return any(e[:1].islower() or e[:1] == b"S" or e[2:8] == b"160000" for e in out.split(b"\0") if e)


def has_commit(root: Path, sha: str) -> bool:
    proc = subprocess.run(["git", "-C", str(root), "cat-file", "-e", f"{sha}^{{commit}}"], capture_output=True)
    return proc.returncode == 0


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    """Whether ``older`` is ``newer`` or in its history (both must be known commits)."""
    proc = subprocess.run(["git", "-C", str(root), "merge-base", "--is-ancestor", older, newer],
                          capture_output=True)
    if proc.returncode not in (0, 1):
        raise ToolError(f"git merge-base failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.returncode == 0
