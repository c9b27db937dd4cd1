"""Aliases and selectors: @stable, @sha256:PREFIX; tag and untag as commits; mirrored for consumers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import NotFound, UsageError, Zoo
from zoo_repo.review.check import check
from zoo_repo.review.report import render_review_markdown, review


@pytest.fixture
def three(zoo: Zoo, model_dir: Path) -> Zoo:
    for i in range(3):
        (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(f"label {i}".encode())
        zoo.publish(model_dir, STUB)
    return zoo


def git(zoo: Zoo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(zoo.root), *args], capture_output=True, text=True, check=True).stdout


def test_tag_resolve_move_untag(cli, three: Zoo) -> None:  # type: ignore[no-untyped-def]
    assert cli("--zoo", three.root, "tag", f"{STUB}@v2", "stable").stdout == f"{STUB}@stable -> v2\n"
    assert three.resolve(f"{STUB}@stable").version == 2
    assert git(three, "log", "-1", "--format=%s").strip() == f"Tag {STUB}@v2 as stable"
    aliases_file = three.manifests_dir / STUB / "aliases.yaml"
    assert aliases_file.read_text().splitlines()[1:] == ["stable: v2"]

    three.tag(f"{STUB}@v3", "stable")
    three.tag(f"{STUB}@v1", "baseline")
    assert three.aliases(STUB) == {"stable": 3, "baseline": 1}
    assert git(three, "log", "-2", "--format=%s").splitlines()[1] == f"Tag {STUB}@v3 as stable (was v2)"
    assert git(three, "status", "--porcelain") == ""

    versions = json.loads(cli("--zoo", three.root, "versions", STUB, "--json").stdout)
    assert [v["aliases"] for v in versions] == [["baseline"], [], ["latest", "stable"]]
    assert all(v["digest"].startswith("sha256:") for v in versions)

    assert cli("--zoo", three.root, "untag", STUB, "stable").exit_code == 0
    with pytest.raises(NotFound, match="has no alias 'stable' \\(aliases: baseline\\)"):
        three.resolve(f"{STUB}@stable")


@pytest.mark.parametrize("alias", ["latest", "v2", "Stable", "sha256x"])
def test_reserved_and_malformed_aliases_are_refused(cli, three: Zoo, alias: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("--zoo", three.root, "tag", f"{STUB}@v2", alias)
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
    assert not (three.manifests_dir / STUB / "aliases.yaml").exists()


def test_digest_selector(three: Zoo) -> None:
    digest = three.digest(STUB, 2)
    assert three.resolve(f"{STUB}@{digest[:15]}").version == 2  # "sha256:" + 8 hex digits
    assert three.resolve(f"{STUB}@{digest}").version == 2
    with pytest.raises(NotFound, match="matches no version"):
        three.resolve(f"{STUB}@sha256:00000000")


def test_aliases_reach_consumers_without_git(three: Zoo, remote_dir: Path, tmp_path: Path) -> None:
    three.tag(f"{STUB}@v2", "stable")
    consumer = Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache")
    assert consumer.resolve(f"{STUB}@stable").version == 2
    three.tag(f"{STUB}@v1", "stable")
    assert consumer.resolve(f"{STUB}@stable").version == 1  # aliases move; never served stale
    three.untag(STUB, "stable")
    with pytest.raises(NotFound):
        consumer.resolve(f"{STUB}@stable")


def test_check_and_review_see_aliases(three: Zoo) -> None:
    three.tag(f"{STUB}@v1", "stable")
    base = git(three, "rev-parse", "HEAD").strip()
    three.tag(f"{STUB}@v3", "stable")  # moving an alias is not a rewrite of history
    three.tag(f"{STUB}@v2", "candidate")
    report = check(three, base=base)
    assert report.ok, report.problems
    text = render_review_markdown(review(three, base))
    assert "### Aliases" in text
    assert f"- {STUB}@stable: v1 → v3" in text and f"- {STUB}@candidate: added → v2" in text

    path = three.manifests_dir / STUB / "aliases.yaml"
    path.write_text(path.read_text() + "ghost: v9\n")
    bad = check(three)
    assert [(p.rule, p.message) for p in bad.problems] == [
        ("aliases", "alias 'ghost' points at v9, which does not exist")]
    path.write_text("stable: [v1]\n")
    assert [p.rule for p in check(three).problems] == ["aliases"]
    with pytest.raises(UsageError):
        three.resolve(f"{STUB}@stable")
