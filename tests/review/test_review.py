"""``review``: what a change adds since a base ref, as data and as a pull-request comment."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import STUB
from tests.review.helpers import edit, git, set_metric, vdir
from zoo_repo import Zoo
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.repo import git as gitrepo
from zoo_repo.review.check import objects_at
from zoo_repo.review.report import render_review_markdown, review, review_dict


def _publish_v1_then_v2(zoo: Zoo, model_dir: Path) -> str:
    """v1 (top1 76.1) committed as the base; v2 changes the recipe and the metric (75.3)."""
    set_metric(model_dir, 76.1)
    zoo.publish(model_dir, STUB)
    base = git(zoo, "rev-parse", "HEAD")
    (model_dir / "recipes" / "original.md").write_text("---\nversion: 1.1.0\n---\n# A longer schedule\n")
    set_metric(model_dir, 75.3)
    zoo.publish(model_dir, STUB)
    return base


def test_review_of_an_added_version(zoo: Zoo, model_dir: Path) -> None:
    base = _publish_v1_then_v2(zoo, model_dir)
    v1, v2 = zoo.manifest(STUB, 1), zoo.manifest(STUB, 2)
    r = review(zoo, base)

    assert [a.path for a in r.added] == [vdir(zoo, STUB, 2)]
    added = r.added[0]
    assert added.manifest == v2 and added.ok
    # Only the two changed files are new to the remote; the rest is deduplicated.
    changed = [f for f in v2.files if f.path in ("model.md", "recipes/original.md")]
    assert {f.md5 for f in changed}.isdisjoint({f.md5 for f in v1.files})
    assert (added.new_objects, added.new_bytes) == (2, sum(f.size for f in changed))
    assert (r.new_objects, r.new_bytes) == (2, added.new_bytes)
    assert added.changes is not None
    assert [c.path for c in added.changes.changed] == ["model.md", "recipes/original.md"]
    assert {res.rule: res.status for res in added.rules}["remote-missing"] == "not run"
    assert all(res.status == "pass" for res in added.rules if res.status != "not run")
    assert r.ok and r.warnings == ()

    text = render_review_markdown(r)
    assert text.startswith(f"## Model zoo review: 1 version added since `{base}`\n")
    assert f"### `{STUB}@v2`" in text
    assert "| sparse_name | base |" in text and "| parent | v1 |" in text
    assert "| recipes | `recipes/original.md` |" in text
    assert "- top1 accuracy 76.1% → 75.3% (−0.8) [synthetic_digits, validation]" in text
    assert "**Changes against v1:** 2 changed, 0 added, 0 removed, 15 unchanged" in text
    assert "| card | model.md is the card the manifest lists | ✅ pass |" in text
    assert "| remote-digest | remote objects hash to the recorded digest | ➖ not run (needs --deep) |" in text
    assert "Test Publisher &lt;publisher@example.com&gt;" in text  # not swallowed as an HTML tag
    assert text.rstrip().endswith(f"None: `zoo check --base {base}` passes (2 versions checked).")


def test_new_bytes_are_deduplicated_across_stubs(zoo: Zoo, model_dir: Path, built_models: dict[str, Path],
                                                 tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    base = git(zoo, "rev-parse", "HEAD")
    pruned = tmp_path / "pruned"
    shutil.copytree(built_models["pruned"], pruned)
    zoo.publish(pruned, STUB_PRUNED)
    r = review(zoo, base)
    added = r.added[0]
    known = {f.md5 for f in zoo.manifest(STUB, 1).files}
    new = {f.md5: f.size for f in zoo.manifest(STUB_PRUNED, 1).files if f.md5 not in known}
    assert len(new) < len(zoo.manifest(STUB_PRUNED, 1).files)  # the same sample inputs, stored once
    assert (added.new_objects, added.new_bytes) == (len(new), sum(new.values()))
    assert added.changes is None  # a v1 has no parent
    metric = zoo.manifest(STUB_PRUNED, 1).metrics[0]
    assert f"**Metrics**\n\n- {metric.display()} [synthetic_digits, validation]\n" in render_review_markdown(r)


def test_warnings_list_what_check_refuses(zoo: Zoo, model_dir: Path) -> None:
    base = _publish_v1_then_v2(zoo, model_dir)
    edit(zoo.root / vdir(zoo, STUB, 1) / "manifest.yaml", "publisher: ", "publisher: Mallory ")
    edit(zoo.root / vdir(zoo, STUB, 2) / "model.dvc", "nfiles: ", "nfiles: 1")
    r = review(zoo, base)
    assert not r.ok
    assert {(p.path, p.rule) for p in r.warnings} == {
        (f"{vdir(zoo, STUB, 1)}/manifest.yaml", "immutable"),
        (f"{vdir(zoo, STUB, 2)}/model.dvc", "dvc-pointer"),
    }
    results = {res.rule: res for res in r.added[0].rules}
    assert results["dvc-pointer"].status == "fail" and results["immutable"].status == "pass"
    text = render_review_markdown(r)
    assert f"`zoo check --base {base}` refuses 2 problems:" in text
    assert f"- `{vdir(zoo, STUB, 1)}/manifest.yaml`: [immutable] changed since {base}" in text
    assert "| dvc-pointer | model.dvc agrees with the manifest | ❌ fail: nfiles is" in text


def test_an_added_manifest_that_does_not_parse(zoo: Zoo, model_dir: Path) -> None:
    base = _publish_v1_then_v2(zoo, model_dir)
    (zoo.root / vdir(zoo, STUB, 2) / "manifest.yaml").write_text("not: [a manifest\n")
    r = review(zoo, base)
    assert r.added[0].manifest is None and r.added[0].ref == f"{STUB}@v2"
    assert "The manifest does not parse" in render_review_markdown(r)


def test_review_with_remote_checks(zoo: Zoo, model_dir: Path, remote_dir: Path) -> None:
    base = _publish_v1_then_v2(zoo, model_dir)
    r = review(zoo, base, remote=True, deep=True)
    statuses = {res.rule: res.status for res in r.added[0].rules}
    assert statuses["remote-missing"] == statuses["remote-digest"] == "pass"


def test_nothing_added(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    r = review(zoo, "HEAD")
    assert r.added == () and r.ok
    assert "No versions added." in render_review_markdown(r)


def test_review_dict_is_json_with_an_empty_aliases_hook(zoo: Zoo, model_dir: Path) -> None:
    base = _publish_v1_then_v2(zoo, model_dir)
    data = json.loads(json.dumps(review_dict(review(zoo, base))))
    assert data["aliases"] == []
    assert data["base"] == base and data["ok"] is True and data["new_objects"] == 2
    (added,) = data["added"]
    assert added["ref"] == f"{STUB}@v2" and added["manifest"]["version"] == "v2"
    assert added["checks"]["schema"] == {"status": "pass", "problems": []}
    assert added["changes"]["metrics"][0]["delta"] == -0.8


def test_objects_at_base_read_by_workers_match(zoo: Zoo, model_dir: Path) -> None:
    _publish_v1_then_v2(zoo, model_dir)
    tree = gitrepo.ls_tree(zoo.root, "HEAD", "manifests")
    expected = {f.md5 for n in (1, 2) for f in zoo.manifest(STUB, n).files}
    assert objects_at(zoo.root, tree, jobs=1) == objects_at(zoo.root, tree, jobs=2) == expected


def test_a_long_list_of_warnings_is_cut_for_the_comment() -> None:
    from zoo_repo.review.check import Problem
    from zoo_repo.review.report import Review

    problems = tuple(Problem(f"manifests/x/{i:03d}", "layout", "stray file") for i in range(60))
    text = render_review_markdown(Review("origin/main", (), problems, (), 0))
    assert "`zoo check --base origin/main` refuses 60 problems:" in text
    assert "manifests/x/049" in text and "manifests/x/050" not in text
    assert "- … and 10 more (`zoo check --base origin/main` lists them all)" in text
