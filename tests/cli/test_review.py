"""``zoo check``, ``zoo review``, ``zoo diff`` as a user meets them: output and exit status."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import STUB
from tests.review.helpers import edit, git, set_metric, vdir
from zoo_repo import Zoo


def _two_versions(zoo: Zoo, model_dir: Path) -> str:
    set_metric(model_dir, 76.1)
    zoo.publish(model_dir, STUB)
    base = git(zoo, "rev-parse", "HEAD")
    set_metric(model_dir, 75.3)
    zoo.publish(model_dir, STUB)
    return base


def test_check_passes_with_exit_0(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base = _two_versions(zoo, model_dir)
    result = cli("--zoo", zoo.root, "check", "--base", base, "--remote")
    assert result.exit_code == 0, result.stderr
    v2 = zoo.manifest(STUB, 2)
    objects = len({f.md5 for f in v2.files}) + 1  # and its file list
    assert result.stdout.splitlines() == [
        f"checked 2 versions of 1 stub touched, 1 added since {base}, {objects} remote objects: ok"
    ]


def test_check_prints_one_line_per_problem_and_exits_1(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    _two_versions(zoo, model_dir)
    where = f"{vdir(zoo, STUB, 2)}/manifest.yaml"
    edit(zoo.root / where, "parent: v1", "parent: null")
    result = cli("--zoo", zoo.root, "check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{where}: [parent] parent is none; expected v1",
        "checked 2 versions of 1 stub: 1 problem",
    ]
    data = json.loads(cli("--zoo", zoo.root, "check", "--json").stdout)
    assert data["ok"] is False
    assert data["problems"] == [{"path": where, "rule": "parent", "message": "parent is none; expected v1"}]


def test_check_unknown_base_is_one_error_line(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    _two_versions(zoo, model_dir)
    result = cli("--zoo", zoo.root, "check", "--base", "origin/main")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == f"Error: unknown git ref 'origin/main': not a commit in {zoo.root}"


def test_review_prints_markdown(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base = _two_versions(zoo, model_dir)
    result = cli("--zoo", zoo.root, "review", "--base", base)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"## Model zoo review: 1 version added since `{base}`")
    assert "top1 accuracy 76.1% → 75.3% (−0.8)" in result.stdout
    data = json.loads(cli("--zoo", zoo.root, "review", "--base", base, "--json").stdout)
    assert data["added"][0]["ref"] == f"{STUB}@v2" and data["aliases"] == []


def test_review_needs_a_base(cli, zoo: Zoo) -> None:  # type: ignore[no-untyped-def]
    result = cli("--zoo", zoo.root, "review")
    assert result.exit_code == 2 and "Missing option '--base'" in result.stderr


def test_diff_text_and_json(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    _two_versions(zoo, model_dir)
    result = cli("--zoo", zoo.root, "diff", f"{STUB}@v1", f"{STUB}@v2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"{STUB}@v1 → {STUB}@v2"
    assert "    top1 accuracy 76.1% → 75.3% (−0.8) [synthetic_digits, validation]" in result.stdout
    data = json.loads(cli("--zoo", zoo.root, "diff", f"{STUB}@v1", STUB, "--json").stdout)
    assert data["b"] == f"{STUB}@v2" and [c["path"] for c in data["changed"]] == ["model.md"]


def test_diff_of_a_missing_version_exits_2(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    _two_versions(zoo, model_dir)
    result = cli("--zoo", zoo.root, "diff", f"{STUB}@v1", f"{STUB}@v9")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"Error: {STUB}@v9 does not exist; published versions: v1, v2"
