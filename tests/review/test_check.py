"""``check``: one test per rule that breaks it and finds exactly that rule at that path."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import STUB
from tests.review.helpers import edit, git, set_metric, vdir
from zoo_repo import Zoo
from zoo_repo.errors import ToolError
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.repo import dvc
from zoo_repo.review.check import STATIC_RULES, Problem, check
from zoo_repo.store.objects import oid_relpath


@pytest.fixture
def two_versions(zoo: Zoo, model_dir: Path) -> Zoo:
    """STUB@v1 and STUB@v2 (the card's metric changed), both committed."""
    set_metric(model_dir, 76.1)
    zoo.publish(model_dir, STUB)
    set_metric(model_dir, 75.3)
    zoo.publish(model_dir, STUB)
    return zoo


def only(zoo: Zoo, **kw: object) -> set[tuple[str, str]]:
    """(path, rule) of every problem check reports."""
    return {(p.path, p.rule) for p in check(zoo, **kw).problems}  # type: ignore[arg-type]


def test_a_published_zoo_is_clean(two_versions: Zoo) -> None:
    report = check(two_versions)
    assert report.ok and report.problems == ()
    assert (report.versions, report.stubs, report.objects) == (2, 1, 0)
    assert report.rules == (*STATIC_RULES, "settings", "stub-tokens", "sparse-name")  # no base, no remote


def test_an_empty_zoo_is_clean(zoo: Zoo) -> None:
    report = check(zoo)
    assert report.ok and report.versions == 0


def test_schema(two_versions: Zoo) -> None:
    where = f"{vdir(two_versions, STUB, 2)}/manifest.yaml"
    edit(two_versions.root / where, "schema: 1", "schema: 7")
    report = check(two_versions)
    assert report.problems == (Problem(where, "schema", "schema is 7; expected 1"),)


def test_schema_not_yaml(two_versions: Zoo) -> None:
    where = f"{vdir(two_versions, STUB, 1)}/manifest.yaml"
    (two_versions.root / where).write_text("files: [unclosed\n")
    assert only(two_versions) == {(where, "schema")}


def test_stub_path(two_versions: Zoo) -> None:
    # v1 of STUB copied under another stub: its manifest names the wrong stub.
    src = two_versions.root / vdir(two_versions, STUB, 1)
    shutil.copytree(src, two_versions.root / vdir(two_versions, STUB_PRUNED, 1))
    where = f"{vdir(two_versions, STUB_PRUNED, 1)}/manifest.yaml"
    report = check(two_versions)
    assert {(p.path, p.rule) for p in report.problems} == {(where, "stub-path")}
    assert report.problems[0].message == f"says {STUB}@v1 but its directory is {STUB_PRUNED}@v1"


def test_contiguous(two_versions: Zoo) -> None:
    shutil.rmtree(two_versions.root / vdir(two_versions, STUB, 1))
    where = f"{vdir(two_versions, STUB, 2)}/manifest.yaml"
    report = check(two_versions)
    assert report.problems == (
        Problem(where, "contiguous", "v1 missing before v2: versions run from v1 without gaps"),
    )


def test_parent(two_versions: Zoo) -> None:
    where = f"{vdir(two_versions, STUB, 2)}/manifest.yaml"
    edit(two_versions.root / where, "parent: v1", "parent: null")
    report = check(two_versions)
    assert report.problems == (Problem(where, "parent", "parent is none; expected v1"),)


def test_duplicate(two_versions: Zoo) -> None:
    # A v3 that repeats v2's files: publish would never write it.
    v2, v3 = (two_versions.root / vdir(two_versions, STUB, n) for n in (2, 3))
    shutil.copytree(v2, v3)
    edit(v3 / "manifest.yaml", "version: v2", "version: v3")
    edit(v3 / "manifest.yaml", "parent: v1", "parent: v2")
    assert only(two_versions) == {(f"{vdir(two_versions, STUB, 3)}/manifest.yaml", "duplicate")}


def test_card(two_versions: Zoo) -> None:
    where = f"{vdir(two_versions, STUB, 1)}/model.md"
    (two_versions.root / where).write_text((two_versions.root / where).read_text() + "\nedited\n")
    assert only(two_versions) == {(where, "card")}


def test_tree_md5(two_versions: Zoo) -> None:
    # The manifest and its pointer agree on a .dir object that its files do not hash to.
    version = two_versions.root / vdir(two_versions, STUB, 1)
    tree = two_versions.manifest(STUB, 1).tree_md5
    other = hashlib.md5(b"another listing").hexdigest()
    edit(version / "manifest.yaml", f"{tree}.dir", f"{other}.dir")
    edit(version / "model.dvc", f"{tree}.dir", f"{other}.dir")
    assert only(two_versions) == {(f"{vdir(two_versions, STUB, 1)}/manifest.yaml", "tree-md5")}


def test_dvc_pointer_disagrees(two_versions: Zoo) -> None:
    where = f"{vdir(two_versions, STUB, 2)}/model.dvc"
    size = two_versions.manifest(STUB, 2).size
    edit(two_versions.root / where, f"size: {size}", f"size: {size + 1}")
    report = check(two_versions)
    assert report.problems == (Problem(where, "dvc-pointer", f"size is {size + 1}, expected {size}"),)


def test_dvc_pointer_reformatted_still_agrees(two_versions: Zoo) -> None:
    # Another writer's spelling of the same pointer (key order, quoting) is fine.
    m = two_versions.manifest(STUB, 2)
    where = two_versions.root / vdir(two_versions, STUB, 2) / "model.dvc"
    where.write_text(f"outs:\n- path: model\n  hash: md5\n  md5: '{m.tree_md5}.dir'\n"
                     f"  nfiles: {len(m.files)}\n  size: {m.size}\n")
    assert check(two_versions).ok


@pytest.mark.parametrize("text", ["outs: [a, *b]\n", "outs:\n- md5: x\n  md5: y\n", "outs: []\n", ""])
def test_dvc_pointer_refuses_bad_yaml(two_versions: Zoo, text: str) -> None:
    where = f"{vdir(two_versions, STUB, 1)}/model.dvc"
    (two_versions.root / where).write_text(text)
    assert only(two_versions) == {(where, "dvc-pointer")}


def test_dvc_pointer_missing(two_versions: Zoo) -> None:
    where = f"{vdir(two_versions, STUB, 1)}/model.dvc"
    (two_versions.root / where).unlink()
    assert only(two_versions) == {(where, "dvc-pointer")}


def test_layout_reports_everything_that_is_not_a_version(two_versions: Zoo) -> None:
    root = two_versions.root
    stub_dir = f"manifests/{STUB}"
    bad_stub = "manifests/cv/classification/mlp/numpy/zoo_demo/synthetic_digits/_sparse-none"
    for path in ("manifests/README.md", f"{stub_dir}/notes.txt", f"{vdir(two_versions, STUB, 1)}/extra.yaml",
                 f"{bad_stub}/v1/manifest.yaml"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x\n")
    (root / stub_dir / "latest").mkdir()
    (root / stub_dir / ".v3.tmp-123-abcd").mkdir()
    (root / vdir(two_versions, STUB, 1) / "model").mkdir()  # what `dvc pull` makes: fine
    (root / "manifests/cv/link").symlink_to(root)
    report = check(two_versions)
    assert {(p.path, p.rule) for p in report.problems} == {
        ("manifests/README.md", "layout"),
        (f"{stub_dir}/notes.txt", "layout"),
        (f"{vdir(two_versions, STUB, 1)}/extra.yaml", "layout"),
        (bad_stub, "layout"),
        (f"{stub_dir}/latest", "layout"),
        (f"{stub_dir}/.v3.tmp-123-abcd", "layout"),
        ("manifests/cv/link", "layout"),
    }
    messages = {p.path: p.message for p in report.problems}
    assert "sparse_name '_sparse' must be a lowercase token" in messages[bad_stub]
    assert messages[f"{stub_dir}/.v3.tmp-123-abcd"] == "is left over from an interrupted publish; remove it"


def test_layout_version_without_manifest(two_versions: Zoo) -> None:
    where = f"{vdir(two_versions, STUB, 2)}/manifest.yaml"
    (two_versions.root / where).unlink()
    assert only(two_versions) == {(where, "layout")}


# -- immutability against a base ref ---------------------------------------------
def test_adding_versions_since_base_is_fine(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    base = git(zoo, "rev-parse", "HEAD")
    set_metric(model_dir, 1.5)
    zoo.publish(model_dir, STUB)  # committed
    set_metric(model_dir, 2.5)
    zoo.publish(model_dir, STUB, commit=False)  # untracked
    report = check(zoo, base=base)
    assert report.ok, report.problems
    assert report.added == (vdir(zoo, STUB, 2), vdir(zoo, STUB, 3))
    assert "immutable" in report.rules


def test_immutable_edit_in_working_tree(two_versions: Zoo) -> None:
    where = f"{vdir(two_versions, STUB, 1)}/manifest.yaml"
    edit(two_versions.root / where, "publisher: ", "publisher: Mallory ")
    report = check(two_versions, base="HEAD")
    assert {(p.path, p.rule) for p in report.problems} == {(where, "immutable")}
    assert report.problems[0].message == (
        "changed since HEAD (uncommitted); published versions are immutable: publish a new version instead"
    )


def test_immutable_committed_deletion(two_versions: Zoo) -> None:
    base = git(two_versions, "rev-parse", "HEAD")
    git(two_versions, "rm", "-q", "-r", vdir(two_versions, STUB, 2))
    git(two_versions, "commit", "-q", "-m", "remove v2")
    report = check(two_versions, base=base)
    assert {(p.path, p.rule) for p in report.problems} == {
        (f"{vdir(two_versions, STUB, 2)}/{name}", "immutable") for name in ("manifest.yaml", "model.md", "model.dvc")
    }
    assert all(p.message.startswith(f"deleted since {base} (committed)") for p in report.problems)


def test_immutable_committed_edit_reverted_in_working_tree_still_counts(two_versions: Zoo) -> None:
    # The pull request carries the commit, whatever the local checkout shows.
    base = git(two_versions, "rev-parse", "HEAD")
    card = two_versions.root / vdir(two_versions, STUB, 1) / "model.md"
    original = card.read_text()
    card.write_text(original + "edit\n")
    git(two_versions, "commit", "-q", "-am", "edit v1")
    card.write_text(original)
    problems = check(two_versions, base=base).problems
    assert {(p.path, p.rule) for p in problems} == {(f"{vdir(two_versions, STUB, 1)}/model.md", "immutable")}
    assert "(committed)" in problems[0].message


def test_unknown_base_ref_is_one_clear_line(two_versions: Zoo) -> None:
    with pytest.raises(ToolError) as caught:
        check(two_versions, base="origin/nope")
    assert str(caught.value) == f"unknown git ref 'origin/nope': not a commit in {two_versions.root}"
    assert "\n" not in str(caught.value)


def test_a_ref_that_looks_like_an_option_is_refused(two_versions: Zoo) -> None:
    with pytest.raises(ToolError, match="unknown git ref '--output=x'"):
        check(two_versions, base="--output=x")


# -- the remote ------------------------------------------------------------------------
def _remote_object(remote_dir: Path, oid: str) -> Path:
    path = remote_dir / oid_relpath(oid)
    path.chmod(0o644)
    return path


def test_remote_clean(two_versions: Zoo) -> None:
    report = check(two_versions, remote=True, deep=True)
    assert report.ok, report.problems
    manifests = [two_versions.manifest(STUB, n) for n in (1, 2)]
    oids = {f.md5 for m in manifests for f in m.files} | {m.tree_md5 + ".dir" for m in manifests}
    assert report.objects == len(oids)
    assert report.rules[-4:] == ("remote-missing", "remote-size", "remote-version", "remote-digest")


def test_remote_missing(two_versions: Zoo, remote_dir: Path) -> None:
    onnx = next(f for f in two_versions.manifest(STUB, 2).files if f.path == "model.onnx")
    _remote_object(remote_dir, onnx.md5).unlink()
    report = check(two_versions, remote=True)
    # Both versions hold the same model.onnx: both are reported.
    assert {(p.path, p.rule) for p in report.problems} == {
        (f"{vdir(two_versions, STUB, n)}/manifest.yaml", "remote-missing") for n in (1, 2)
    }
    assert report.problems[0].message == (
        f"model.onnx: md5:{onnx.md5} is missing from remote {two_versions.remote_config().url}"
    )


def test_remote_missing_file_list(two_versions: Zoo, remote_dir: Path) -> None:
    tree = two_versions.manifest(STUB, 1).tree_md5 + ".dir"
    _remote_object(remote_dir, tree).unlink()
    problems = check(two_versions, remote=True).problems
    assert [(p.path, p.rule) for p in problems] == [(f"{vdir(two_versions, STUB, 1)}/manifest.yaml", "remote-missing")]
    assert problems[0].message.startswith(f"file list: md5:{tree} is missing")


def test_remote_size(two_versions: Zoo, remote_dir: Path) -> None:
    card = next(f for f in two_versions.manifest(STUB, 2).files if f.path == "model.md")
    _remote_object(remote_dir, card.md5).write_bytes(b"short")
    problems = check(two_versions, remote=True).problems
    assert [(p.path, p.rule) for p in problems] == [(f"{vdir(two_versions, STUB, 2)}/manifest.yaml", "remote-size")]
    assert problems[0].message.endswith(f"has 5 bytes, expected {card.size}")


def test_remote_digest_needs_deep(two_versions: Zoo, remote_dir: Path) -> None:
    card = next(f for f in two_versions.manifest(STUB, 2).files if f.path == "model.md")
    obj = _remote_object(remote_dir, card.md5)
    obj.write_bytes(bytes(b ^ 1 for b in obj.read_bytes()))  # same size, other bytes
    assert check(two_versions, remote=True).ok  # sizes agree
    problems = check(two_versions, remote=True, deep=True).problems
    assert [(p.path, p.rule) for p in problems] == [(f"{vdir(two_versions, STUB, 2)}/manifest.yaml", "remote-digest")]
    assert f"expected sha256:{card.sha256}" in problems[0].message


def test_remote_digest_pairs_each_md5_with_its_sha256(two_versions: Zoo, remote_dir: Path) -> None:
    """A pull request naming a file's bytes (right sha256) by another md5, the object and
    its file list put on the remote under those names: DVC would hand out the bytes as
    that md5's, so --deep refuses it."""
    manifest = two_versions.manifest(STUB, 2)
    card = next(f for f in manifest.files if f.path == "model.md")
    forged = hashlib.md5(b"some other object").hexdigest()
    (remote_dir / oid_relpath(forged)).parent.mkdir(exist_ok=True)
    (remote_dir / oid_relpath(forged)).write_bytes(_remote_object(remote_dir, card.md5).read_bytes())
    listing = dvc.tree_bytes((f.path, forged if f is card else f.md5) for f in manifest.files)
    tree = hashlib.md5(listing).hexdigest()
    (remote_dir / oid_relpath(tree + ".dir")).parent.mkdir(exist_ok=True)
    (remote_dir / oid_relpath(tree + ".dir")).write_bytes(listing)
    version = two_versions.root / vdir(two_versions, STUB, 2)
    edit(version / "manifest.yaml", f"md5: {card.md5}", f"md5: {forged}")
    for name in ("manifest.yaml", "model.dvc"):
        edit(version / name, manifest.tree_md5, tree)
    assert "remote-digest" not in {p.rule for p in check(two_versions, remote=True).problems}  # sizes agree
    problems = [p for p in check(two_versions, deep=True).problems if p.rule == "remote-digest"]
    assert [(p.path, p.message) for p in problems] == [(
        f"{vdir(two_versions, STUB, 2)}/manifest.yaml",
        f"model.md: md5:{forged} on remote {two_versions.remote_config().url} hashes to md5:{card.md5}: "
        "the manifest pairs its sha256 with another object's md5",
    )]


def test_remote_digest_of_the_file_list(two_versions: Zoo, remote_dir: Path) -> None:
    tree = two_versions.manifest(STUB, 1).tree_md5 + ".dir"
    obj = _remote_object(remote_dir, tree)
    obj.write_bytes(obj.read_bytes().replace(b'"md5"', b'"MD5"'))
    problems = check(two_versions, deep=True).problems  # deep implies remote
    assert [(p.path, p.rule) for p in problems] == [(f"{vdir(two_versions, STUB, 1)}/manifest.yaml", "remote-digest")]
    assert f"expected md5:{tree.removesuffix('.dir')}" in problems[0].message


def test_with_a_base_only_added_versions_meet_the_remote(zoo: Zoo, model_dir: Path, remote_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    base = git(zoo, "rev-parse", "HEAD")
    old_recipe = next(f for f in zoo.manifest(STUB, 1).files if f.path == "recipes/original.md")
    (model_dir / "recipes" / "original.md").write_text("---\nversion: 2\n---\n# a new recipe\n")
    zoo.publish(model_dir, STUB)
    _remote_object(remote_dir, old_recipe.md5).unlink()  # only v1 names it
    with_base = check(zoo, base=base, remote=True)
    assert with_base.ok
    v2 = zoo.manifest(STUB, 2)
    assert with_base.objects == len({f.md5 for f in v2.files} | {v2.tree_md5 + ".dir"})
    assert only(zoo, remote=True) == {(f"{vdir(zoo, STUB, 1)}/manifest.yaml", "remote-missing")}


# -- many versions -------------------------------------------------------------------------
def test_worker_processes_find_what_one_process_finds(two_versions: Zoo) -> None:
    (two_versions.root / vdir(two_versions, STUB, 1) / "model.md").write_text("edited\n")
    edit(two_versions.root / vdir(two_versions, STUB, 2) / "manifest.yaml", "schema: 1", "schema: 2")
    alone = check(two_versions, base="HEAD", jobs=1)
    spread = check(two_versions, base="HEAD", jobs=2)
    assert alone == spread
    assert {p.rule for p in spread.problems} == {"card", "schema", "immutable"}
