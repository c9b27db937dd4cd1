"""The git helpers the gate reads history with, on a real repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from zoo_repo.errors import ToolError
from zoo_repo.repo import git as gitrepo
from zoo_repo.repo import gitcommit


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose zoo lives in a subdirectory, with one commit."""
    root = tmp_path / "repo"
    (root / "sub" / "manifests" / "a").mkdir(parents=True)
    (root / "sub" / "manifests" / "a" / "keep.txt").write_text("kept\n")
    (root / "sub" / "manifests" / "a" / "edit.txt").write_text("before\n")
    (root / "sub" / "manifests" / "a" / "gone.txt").write_bytes(b"bytes\x00\xff\n")
    (root / "outside.txt").write_text("not under the zoo\n")
    _git(tmp_path, "init", "-q", str(root))
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "one")
    return root


def test_paths_are_relative_to_the_given_root(repo: Path) -> None:
    sub = repo / "sub"
    listing = gitrepo.ls_tree(sub, "HEAD", "manifests")
    assert sorted(listing) == ["manifests/a/edit.txt", "manifests/a/gone.txt", "manifests/a/keep.txt"]
    assert gitrepo.show(sub, "HEAD", "manifests/a/keep.txt") == "kept\n"
    assert gitrepo.show(sub, "HEAD", "manifests/a/none.txt") is None
    blobs = gitrepo.read_blobs(sub, [listing["manifests/a/gone.txt"], listing["manifests/a/keep.txt"]])
    assert blobs[listing["manifests/a/gone.txt"]] == b"bytes\x00\xff\n"


def test_changed_paths_in_working_tree_and_commits(repo: Path) -> None:
    sub = repo / "sub"
    base = gitrepo.resolve_commit(sub, "HEAD")
    (sub / "manifests" / "a" / "edit.txt").write_text("after\n")
    (sub / "manifests" / "a" / "gone.txt").unlink()
    (sub / "manifests" / "a" / "new.txt").write_text("untracked: not a change to tracked files\n")
    (repo / "outside.txt").write_text("changed outside the pathspec\n")
    assert gitrepo.changed_paths(sub, base, "manifests") == [
        ("M", "manifests/a/edit.txt"), ("D", "manifests/a/gone.txt"),
    ]
    assert gitrepo.changed_paths(sub, base, "manifests", "HEAD") == []
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "two")
    assert gitrepo.changed_paths(sub, base, "manifests", "HEAD") == [
        ("M", "manifests/a/edit.txt"), ("D", "manifests/a/gone.txt"), ("A", "manifests/a/new.txt"),
    ]


def test_renames_count_as_delete_and_add(repo: Path) -> None:
    base = gitrepo.resolve_commit(repo, "HEAD")
    _git(repo, "mv", "sub/manifests/a/keep.txt", "sub/manifests/a/moved.txt")
    assert gitrepo.changed_paths(repo / "sub", base, "manifests") == [
        ("D", "manifests/a/keep.txt"), ("A", "manifests/a/moved.txt"),
    ]


def test_unknown_ref_names_the_ref(repo: Path) -> None:
    with pytest.raises(ToolError) as caught:
        gitrepo.resolve_commit(repo, "origin/main")
    assert caught.value.message == f"unknown git ref 'origin/main': not a commit in {repo}"
    assert caught.value.hint and "git fetch" in caught.value.hint
    with pytest.raises(ToolError, match="git ls-tree failed"):
        gitrepo.ls_tree(repo, "no-such-ref", "sub")


def test_changed_blobs_say_what_a_diff_and_a_listing_would(repo: Path) -> None:
    """Planning a move reads what changed, with its blobs, from one diff: it must agree
    with ``changed_paths`` and ``ls_tree`` (paths relative to a zoo in a subdirectory)."""
    sub = repo / "sub"
    base = gitrepo.resolve_commit(sub, "HEAD")
    (sub / "manifests" / "a" / "edit.txt").write_text("after\n")
    (sub / "manifests" / "a" / "gone.txt").unlink()
    (sub / "manifests" / "b").mkdir()
    (sub / "manifests" / "b" / "new.txt").write_text("new\n")
    (repo / "outside.txt").write_text("changed outside the pathspec\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "two")
    head = gitrepo.resolve_commit(sub, "HEAD")
    listing = gitrepo.ls_tree(sub, head, "manifests")
    changed = gitrepo.changed_blobs(sub, base, head, "manifests")
    assert sorted(changed) == sorted(p for _, p in gitrepo.changed_paths(sub, base, "manifests", against=head))
    assert changed == {"manifests/a/edit.txt": listing["manifests/a/edit.txt"], "manifests/a/gone.txt": None,
                       "manifests/b/new.txt": listing["manifests/b/new.txt"]}
    asked = ["manifests/a/keep.txt", "manifests/a/gone.txt", "manifests/b/new.txt"]
    assert gitrepo.blobs_at(sub, head, asked) == {p: listing[p] for p in asked if p in listing}


# -- commit: the plumbing makes what `git add` + `git commit --only` make ------------
def _porcelain_commit(root: Path, paths: list[str], message: str) -> None:
    _git(root, "add", "--", *paths)
    _git(root, "commit", "-q", "-m", message, "--only", "--", *paths)


def _state(root: Path) -> tuple[str, str, str, str, str]:
    """HEAD's tree, message and parent; the index (modes, blobs, stages); `git status`."""
    body = _git(root, "cat-file", "commit", "HEAD")
    return (_git(root, "rev-parse", "HEAD^{tree}"), body.split("\n\n", 1)[1], _git(root, "rev-parse", "HEAD~1"),
            _git(root, "ls-files", "-s"), _git(root, "status", "--porcelain"))


@pytest.fixture
def twins(repo: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two clones of ``repo`` with a git identity, and some work of the user's staged in both."""
    pair = []
    for name in ("plumbing", "porcelain"):
        _git(tmp_path, "clone", "-q", str(repo), name)
        root = tmp_path / name
        _git(root, "config", "user.name", "Twin")
        _git(root, "config", "user.email", "twin@example.com")
        (root / "staged.txt").write_text("the user's, staged\n")
        _git(root, "add", "staged.txt")
        (root / "outside.txt").write_text("the user's, not staged\n")
        pair.append(root)
    return pair[0], pair[1]


@pytest.mark.parametrize("case", ["new directory", "files edited and removed", "directory emptied", "message"])
def test_commit_makes_what_the_porcelain_makes(twins: tuple[Path, Path], case: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str | None] = []
    plumbing = gitcommit._commit_touched
    monkeypatch.setattr(gitcommit, "_commit_touched", lambda *a: made.append(plumbing(*a)) or made[-1])
    message = "Publish a thing"
    for root in twins:
        sub = root / "sub"
        if case == "new directory":
            (sub / "manifests" / "b" / "v1" / "signatures").mkdir(parents=True)
            (sub / "manifests" / "b" / "v1" / "manifest.yaml").write_text("m\n")
            (sub / "manifests" / "b" / "v1" / "run.sh").write_text("#!/bin/sh\n")
            (sub / "manifests" / "b" / "v1" / "run.sh").chmod(0o755)
            (sub / "manifests" / "b" / "v1" / "signatures" / "k.sig").write_bytes(b"\x00\xffsig")
            (sub / "manifests" / "b-c").mkdir()  # sorts between "b" and "b/" in a tree
            (sub / "manifests" / "b-c" / "x").write_text("x\n")
            paths = ["manifests/b/v1", "manifests/b-c"]
        elif case == "files edited and removed":
            (sub / "manifests" / "a" / "edit.txt").write_text("after\n")
            (sub / "manifests" / "a" / "gone.txt").unlink()
            (sub / "manifests" / "a" / "aliases.yaml").write_text("stable: 1\n")
            paths = ["manifests/a/edit.txt", "manifests/a/gone.txt", "manifests/a/aliases.yaml"]
        elif case == "directory emptied":
            for name in ("keep.txt", "edit.txt", "gone.txt"):
                (sub / "manifests" / "a" / name).unlink()
            paths = ["manifests/a/keep.txt", "manifests/a/edit.txt", "manifests/a/gone.txt"]
        else:
            (sub / "manifests" / "a" / "keep.txt").write_text("kept, changed\n")
            paths = ["manifests/a/keep.txt"]
            message = "\n\n  Subject with trailing space  \n\n\n\nbody\t\n\n"
        if root == twins[0]:
            gitcommit.commit(sub, paths, message)
        else:
            _porcelain_commit(sub, paths, message)
    assert made and made[0] is not None  # made by the plumbing, not handed to git commit
    assert _state(twins[0]) == _state(twins[1])
    assert _git(twins[0], "diff-files", "--", "sub") == ""  # the index has the working tree's stat data


def test_commit_of_nothing_changed_fails_as_git_commit_does(repo: Path) -> None:
    with pytest.raises(ToolError, match="git commit failed"):
        gitcommit.commit(repo / "sub", ["manifests/a/keep.txt"], "no change")


def test_commit_leaves_ignored_files_to_git_add(twins: tuple[Path, Path]) -> None:
    """An ignored file in a new directory is one `git add` skips: so does the commit."""
    for root in twins:
        (root / ".git" / "info" / "exclude").write_text("*.tmp\n")
        folder = root / "sub" / "manifests" / "c"
        folder.mkdir()
        (folder / "manifest.yaml").write_text("m\n")
        (folder / "scratch.tmp").write_text("ignored\n")
        if root == twins[0]:
            gitcommit.commit(root / "sub", ["manifests/c"], "c")
        else:
            _porcelain_commit(root / "sub", ["manifests/c"], "c")
    assert _state(twins[0]) == _state(twins[1])
    assert "scratch.tmp" not in _git(twins[0], "ls-files")
