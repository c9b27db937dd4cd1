"""Stub lifecycle: deprecate a stub, name its successor; committed like a tag, mirrored
for consumers without git, seen by list, show, pull and lock; reviewed and checked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import STUB, old_form
from zoo_repo import NotFound, UsageError, Zoo
from zoo_repo.core.deprecation import Deprecation
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.review.check import check
from zoo_repo.review.report import render_review_markdown, review, review_dict

WHY = "superseded by the pruned model: same accuracy, half the size"
UNPUBLISHED = "cv/classification/resnet_v1-50/pytorch/sparseml/coco/base-none"


@pytest.fixture
def pair(zoo: Zoo, built_models: dict[str, Path]) -> Zoo:
    """A zoo on main with two published stubs: STUB, and STUB_PRUNED to succeed it."""
    zoo.publish(built_models["base"], STUB)
    zoo.publish(built_models["pruned"], STUB_PRUNED)
    return zoo


def git(zoo: Zoo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(zoo.root), *args], capture_output=True, text=True, check=True).stdout


def consumer(remote_dir: Path, cache: Path) -> Zoo:
    """A consumer with only the remote's URL: no checkout, no git."""
    return Zoo.open(remote_dir.as_uri(), cache_dir=cache)


def test_deprecate_on_main_reaches_gitless_consumers(pair: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    result = pair.deprecate(STUB, WHY, successor=STUB_PRUNED)
    assert result.listed and result.commit and result.branch is None and result.before is None
    assert git(pair, "log", "-1", "--format=%s").strip() == f"Deprecate {STUB}: {WHY} (successor {STUB_PRUNED})"
    assert git(pair, "status", "--porcelain") == ""
    record = Deprecation(WHY, STUB_PRUNED)
    assert pair.deprecation(STUB) == record and pair.deprecation(STUB_PRUNED) is None

    them = consumer(remote_dir, tmp_path / "cache")
    assert them.deprecation(STUB) == record
    assert [str(m.stub) for m in them.list()] == [STUB_PRUNED]  # hidden unless asked for
    assert [str(m.stub) for m in them.list(deprecated=True)] == [STUB, STUB_PRUNED]
    assert [str(s.stub) for s in them.summaries()] == [STUB_PRUNED]
    assert [str(m.stub) for m in them.search()] == [STUB_PRUNED]
    pulled = them.pull(STUB, dest=tmp_path / "out")  # still pullable: deprecated, not deleted
    assert pulled.deprecated == record and (tmp_path / "out" / "model.onnx").is_file()
    assert pulled.deprecated.warning(STUB) == f"warning: {STUB} is deprecated: {WHY}; use {STUB_PRUNED} instead"
    many = them.pull_many([STUB, STUB_PRUNED], dest=tmp_path / "many")
    assert [r.deprecated for r in many] == [record, None]
    assert consumer(remote_dir, tmp_path / "c2").pull(STUB, dest=tmp_path / "o2").deprecated == record

    # Offline, from the cache alone, the warning is still there.
    offline = Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache", offline=True)
    assert offline.deprecation(STUB) == record


def test_undo_takes_it_back_everywhere(pair: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    pair.deprecate(STUB, WHY)
    assert consumer(remote_dir, tmp_path / "c1").deprecation(STUB) == Deprecation(WHY)
    assert pair.deprecate(STUB, WHY).commit is None  # already so: nothing committed again
    undone = pair.undeprecate(STUB)
    assert undone.record is None and undone.before == Deprecation(WHY) and undone.listed
    assert git(pair, "log", "-1", "--format=%s").strip() == f"Un-deprecate {STUB} (was: {WHY})"
    assert not (pair.manifests_dir / STUB / "deprecated.yaml").exists()
    them = consumer(remote_dir, tmp_path / "c2")
    assert them.deprecation(STUB) is None
    assert [str(m.stub) for m in them.list()] == [STUB, STUB_PRUNED]
    with pytest.raises(NotFound, match="is not deprecated"):
        pair.undeprecate(STUB)


def test_a_changed_record_replaces_the_old_one(pair: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    pair.deprecate(STUB, "first reason")
    pair.deprecate(STUB, "second reason", successor=STUB_PRUNED)
    assert consumer(remote_dir, tmp_path / "c").deprecation(STUB) == Deprecation("second reason", STUB_PRUNED)
    text = (pair.manifests_dir / STUB / "deprecated.yaml").read_text()
    assert text.splitlines()[1:] == ["message: second reason", f"successor: {STUB_PRUNED}"]


@pytest.mark.parametrize(("message", "successor", "fragment"), [
    (WHY, UNPUBLISHED, "has no published version in this zoo"),
    (WHY, STUB, "successor is the deprecated stub itself"),
    (WHY, "cv/classification", "successor: invalid stub"),
    ("", None, "message must be a non-empty line"),
    ("two\nlines", None, "must be one line"),
    ("x" * 501, None, "at most 500"),
])
def test_bad_input_is_refused_and_nothing_committed(pair: Zoo, message: str, successor: str | None,
                                                    fragment: str) -> None:
    head = git(pair, "rev-parse", "HEAD")
    with pytest.raises(UsageError, match=fragment) as info:
        pair.deprecate(STUB, message, successor=successor)
    assert info.value.exit_code == 2
    assert git(pair, "rev-parse", "HEAD") == head and git(pair, "status", "--porcelain") == ""


def test_a_stub_that_is_not_published_cannot_be_deprecated(pair: Zoo) -> None:
    with pytest.raises(UsageError, match="has no published version"):
        pair.deprecate(UNPUBLISHED, WHY)


def test_a_gitless_consumer_sees_a_deprecation_only_after_it_is_on_main_and_pushed(
        pair: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    result = pair.deprecate(STUB, WHY, successor=STUB_PRUNED, branch="")
    assert result.branch == f"deprecate/{STUB}" and not result.listed
    assert git(pair, "log", "-1", "--format=%s", result.branch).strip().startswith(f"Deprecate {STUB}: ")
    assert git(pair, "branch", "--show-current").strip() == "main"  # the working tree stays as it was
    assert pair.deprecation(STUB) is None
    assert consumer(remote_dir, tmp_path / "c1").deprecation(STUB) is None

    git(pair, "merge", "-q", "--no-ff", "-m", "Merge the deprecation", result.branch)
    assert consumer(remote_dir, tmp_path / "c2").deprecation(STUB) is None  # merged in git, not yet pushed
    pushed = pair.push()
    assert pushed.projection is not None and pushed.projection.deprecated == (STUB,)
    assert consumer(remote_dir, tmp_path / "c3").deprecation(STUB) == Deprecation(WHY, STUB_PRUNED)

    # Taking it back on a branch is reviewed the same way.
    undo = pair.undeprecate(STUB, branch="")
    assert undo.branch == f"undeprecate/{STUB}"
    git(pair, "merge", "-q", "--no-ff", "-m", "Merge the undo", undo.branch)
    assert consumer(remote_dir, tmp_path / "c4").deprecation(STUB) is not None
    pair.push()
    assert consumer(remote_dir, tmp_path / "c5").deprecation(STUB) is None


def test_on_another_branch_it_is_only_a_commit(pair: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    git(pair, "checkout", "-q", "-b", "retire")
    result = pair.deprecate(STUB, WHY)
    assert result.commit and not result.listed and result.branch is None
    assert pair.deprecation(STUB) == Deprecation(WHY)
    assert pair.push().projection is None
    assert consumer(remote_dir, tmp_path / "c").deprecation(STUB) is None


def test_review_and_check_see_deprecations(pair: Zoo) -> None:
    base = git(pair, "rev-parse", "HEAD").strip()
    pair.deprecate(STUB, WHY, successor=STUB_PRUNED)
    assert check(pair, base=base).ok  # a deprecation is meant to change: not a rewrite of history
    r = review(pair, base)
    assert f"- deprecates {STUB}: {WHY} (successor {STUB_PRUNED})" in render_review_markdown(r)
    assert review_dict(r)["deprecations"] == [{"stub": STUB, "before": None,
                                               "after": {"message": WHY, "successor": STUB_PRUNED}}]
    later = git(pair, "rev-parse", "HEAD").strip()
    pair.undeprecate(STUB)
    assert f"- un-deprecates {STUB} (was: {WHY})" in render_review_markdown(review(pair, later))
    assert check(pair, base=later).ok


@pytest.mark.parametrize(("text", "fragment"), [
    ("message: [unclosed\n", "does not parse"),
    ("message: why\nreason: also\n", "unknown key 'reason'"),
    (f"message: why\nsuccessor: {UNPUBLISHED}\n", f"successor {UNPUBLISHED} has no published version"),
    ("successor: x\n", "message must be a non-empty line"),
    ("- message\n", "expected 'message: WHY'"),
    ("message: " + "y" * 5000 + "\n", "is larger than 4096 bytes"),
])
def test_check_refuses_a_crafted_record(pair: Zoo, text: str, fragment: str) -> None:
    path = pair.manifests_dir / STUB / "deprecated.yaml"
    path.write_text(text)
    problems = check(pair).problems
    assert [(p.path, p.rule) for p in problems] == [(f"manifests/{STUB}/deprecated.yaml", "deprecation")]
    assert fragment in problems[0].message


def test_check_refuses_a_record_that_is_not_a_file(pair: Zoo, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.yaml"
    target.write_text("message: why\n")
    (pair.manifests_dir / STUB / "deprecated.yaml").symlink_to(target)
    assert [p.rule for p in check(pair).problems] == ["layout"]


def test_a_projection_without_deprecations_reads_as_none(pair: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    """Files written before deprecations were projected carry no key: nothing is deprecated."""
    old_form(remote_dir)  # as they were written then: one index.json
    for path in [remote_dir / "zoo" / "index.json", *(remote_dir / "zoo" / "projection").glob("*.json")]:
        doc = json.loads(path.read_text())
        doc.pop("deprecated", None)
        path.write_text(json.dumps(doc))
    them = consumer(remote_dir, tmp_path / "c")
    assert them.deprecation(STUB) is None and len(them.list()) == 2


def test_the_catalog_marks_deprecated_stubs(pair: Zoo, tmp_path: Path) -> None:
    from zoo_repo.catalog.files import build_catalog

    pair.deprecate(STUB, WHY, successor=STUB_PRUNED)
    build_catalog(pair, tmp_path / "site")
    models = json.loads((tmp_path / "site" / "catalog.json").read_text())["models"]
    assert {m["stub"]: m.get("deprecated") for m in models} == {
        STUB: {"message": WHY, "successor": STUB_PRUNED}, STUB_PRUNED: None}
