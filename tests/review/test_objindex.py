"""``zoo review``'s new bytes through the object index (``review.objindex``): the same answer
as the full review, which parses every manifest at the base, whatever the index says."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from tests.conftest import STUB
from tests.review.helpers import git
from zoo_repo import Zoo
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.review.objindex import NAME
from zoo_repo.review.report import Review, review

OTHER = f"{STUB}-vnni"


def _index(zoo: Zoo) -> Path:
    return zoo.root / ".zoo" / NAME


def _same(zoo: Zoo, base: str) -> Review:
    fast, full = review(zoo, base), review(zoo, base, full=True)
    assert fast.added == full.added  # manifests, new objects and bytes, rule results
    return fast


def _copy(built: Path, tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(built, dest)
    return dest


def test_objects_another_stub_names_at_the_base_are_not_new(zoo: Zoo, model_dir: Path, built_models: dict[str, Path],
                                                            tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    base = git(zoo, "rev-parse", "HEAD")
    zoo.publish(_copy(built_models["pruned"], tmp_path, "pruned"), STUB_PRUNED)
    old = {f.md5 for f in zoo.manifest(STUB, 1).files}
    files = zoo.manifest(STUB_PRUNED, 1).files
    new = {f.md5: f.size for f in files if f.md5 not in old}
    assert 0 < len(new) < len(files)  # some shared with STUB, some only this change names
    for _ in range(2):  # built, then remembered
        added = _same(zoo, base).added[0]
        assert (added.new_objects, added.new_bytes) == (len(new), sum(new.values()))
        assert _index(zoo).is_file()


def test_a_hex_string_in_another_field_is_not_a_reference(zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:
    # The base's card mentions the md5 of a recipe only the change publishes: the index
    # names that stub, and its manifest, parsed, references no such object.
    recipe = "---\nversion: 9.9.9\n---\n# Only in the change\n"
    md5 = hashlib.md5(recipe.encode(), usedforsecurity=False).hexdigest()
    card = model_dir / "model.md"
    card.write_text(re.sub(r"description: ", f"description: see {md5} ", card.read_text(), count=1))
    zoo.publish(model_dir, STUB)
    assert md5 in (zoo.root / f"manifests/{STUB}/v1/manifest.yaml").read_text()
    base = git(zoo, "rev-parse", "HEAD")
    other = _copy(model_dir, tmp_path, "other")
    (other / "recipes" / "original.md").write_text(recipe)
    zoo.publish(other, OTHER)
    added = _same(zoo, base).added[0]
    assert added.manifest is not None and md5 in {f.md5 for f in added.manifest.files}
    shared = {f.md5 for f in zoo.manifest(STUB, 1).files}
    assert added.new_objects == sum(1 for f in zoo.manifest(OTHER, 1).files if f.md5 not in shared) >= 1


def test_a_crafted_or_foreign_index_is_ignored(zoo: Zoo, model_dir: Path, built_models: dict[str, Path],
                                              tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    base = git(zoo, "rev-parse", "HEAD")
    zoo.publish(_copy(built_models["pruned"], tmp_path, "pruned"), STUB_PRUNED)
    expected = _same(zoo, base).added
    honest = _index(zoo).read_bytes()
    magic, mac, body = honest.split(b"\n", 2)
    commit, _, _ = body.partition(b"\n")
    # The same commit with no stubs at all would make every shared object look new; with
    # another MAC (edited, or another user's) it is not believed, and is built again.
    forged = magic + b"\n" + bytes(32).hex().encode() + b"\n" + commit + b"\n\n"
    for crafted in (forged, magic + b"\n" + mac + b"\n" + commit + b"\n\n", b"not an index", honest[:-3]):
        _index(zoo).write_bytes(crafted)
        assert review(zoo, base).added == expected
        assert _index(zoo).read_bytes() == honest
    # Another checkout's index, though this user's, is not this one's.
    other = tmp_path / "copy"
    shutil.copytree(zoo.root, other, symlinks=True)
    copy = Zoo.open(other)
    (copy.root / ".zoo" / NAME).write_bytes(honest)
    assert review(copy, base).added == expected
    assert (copy.root / ".zoo" / NAME).read_bytes() != honest


def test_an_index_of_an_older_base_is_brought_forward(zoo: Zoo, model_dir: Path, built_models: dict[str, Path],
                                                     tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    first = git(zoo, "rev-parse", "HEAD")
    zoo.publish(_copy(built_models["pruned"], tmp_path, "pruned"), STUB_PRUNED)
    _same(zoo, first)  # remembered at the first base
    # The base moves on by the pruned model; a change then publishes its files under a third stub.
    second = git(zoo, "rev-parse", "HEAD")
    zoo.publish(_copy(built_models["pruned"], tmp_path, "again"), f"{STUB_PRUNED}-vnni")
    added = _same(zoo, second).added[0]
    assert added.new_objects == 0 and added.new_bytes == 0  # every object is the pruned model's
    assert second.encode() in _index(zoo).read_bytes()
    # And back: an older base is reached the same way (what STUB_PRUNED added is not at it).
    assert _same(zoo, first).new_objects > 0


def test_a_zoo_in_a_subdirectory_of_its_repository(tmp_path: Path) -> None:
    # Paths are the zoo's (as ls-tree gives them under -C), never the repository's.
    from zoo_repo.repo import git as gitrepo
    from zoo_repo.review.objindex import stubs_mentioning

    repo, sub = tmp_path / "repo", tmp_path / "repo" / "sub"
    first, second = "0123456789abcdef" * 2, "fedcba9876543210" * 2

    def commit(stub: str, md5: str) -> str:
        version = sub / "manifests" / stub / "v1"
        version.mkdir(parents=True)
        (version / "manifest.yaml").write_text(f"files:\n  - {{path: a, md5: {md5}}}\n")
        (sub / "manifests" / stub / "notes.txt").write_text(f"{second}\n")  # not a manifest
        for args in (["add", "-A"], ["-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", stub]):
            gitrepo.git(repo, *args)
        return gitrepo.resolve_commit(sub, "HEAD")

    repo.mkdir()
    gitrepo.git(repo, "init", "-q")
    a, b = STUB, STUB_PRUNED
    at_a = commit(a, first)
    assert stubs_mentioning(sub, at_a, [first, second]) == {a}
    assert (sub / ".zoo" / NAME).is_file()
    at_b = commit(b, second)  # the index is carried forward from at_a
    assert stubs_mentioning(sub, at_b, [first, second]) == {a, b}
    assert stubs_mentioning(sub, at_a, [second]) == set()
