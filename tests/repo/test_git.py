"""The git helpers the gate reads history with, on a real repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from zoo_repo.errors import ToolError
from zoo_repo.repo import git as gitrepo


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
