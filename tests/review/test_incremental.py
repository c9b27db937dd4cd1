"""``check --base`` reads only what a change touches: the same verdict as the full check.

Each crafted change below (most taken from the hostile cases of test_check.py,
test_review.py and test_signing_gate.py) is applied to one clean zoo, and both
paths run on that same checkout: the incremental report's problems must equal
the full report's (the base is clean, so every problem the full check finds is
one the change caused), the same versions must count as added, and ``review``
must say the same about them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import STUB
from tests.review.helpers import edit, git, set_metric, vdir
from zoo_repo import Zoo
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.repo import git as gitmod
from zoo_repo.review.check import check
from zoo_repo.review.incremental import change_since
from zoo_repo.review.report import review

Change = Callable[[Zoo, Path], None]


@pytest.fixture(scope="module")
def clean_zoo(tmp_path_factory: pytest.TempPathFactory, built_models: dict[str, Path]) -> Path:
    """STUB@v1, v2 and STUB_PRUNED@v1, v2 (a successor to deprecate towards), committed; copied per case."""
    from tests.conftest import hermetic_home

    root = tmp_path_factory.mktemp("incremental")
    with hermetic_home(root / "home"):
        zoo = Zoo.init(root / "zoo", remote=str(root / "remote"))
        for stub, built in ((STUB, "base"), (STUB_PRUNED, "pruned")):
            model = root / built
            shutil.copytree(built_models[built], model)
            for value in (76.1, 75.3):
                set_metric(model, value)
                zoo.publish(model, stub)
    return root


def _commit(zoo: Zoo, message: str = "change") -> None:
    git(zoo, "add", "-A")
    git(zoo, "commit", "-q", "-m", message)


def _publish(commit: bool) -> Change:
    def change(zoo: Zoo, model: Path) -> None:
        set_metric(model, 12.5)
        zoo.publish(model, STUB, commit=commit)
    return change


def _write(path: str, text: str = "x\n", commit: bool = False) -> Change:
    def change(zoo: Zoo, model: Path) -> None:
        (zoo.root / path).parent.mkdir(parents=True, exist_ok=True)
        (zoo.root / path).write_text(text)
        if commit:
            _commit(zoo)
    return change


def _edit_v1(commit: bool) -> Change:
    def change(zoo: Zoo, model: Path) -> None:
        edit(zoo.root / vdir(zoo, STUB, 1) / "manifest.yaml", "publisher: ", "publisher: Mallory ")
        if commit:
            _commit(zoo)
    return change


def _delete_v2(zoo: Zoo, model: Path) -> None:
    git(zoo, "rm", "-q", "-r", vdir(zoo, STUB, 2))
    _commit(zoo)


def _gap(zoo: Zoo, model: Path) -> None:
    # v4 without v3: a copy of v2 (wrong path, parent and number), committed.
    shutil.copytree(zoo.root / vdir(zoo, STUB, 2), zoo.root / vdir(zoo, STUB, 4))
    _commit(zoo)


def _reverted(zoo: Zoo, model: Path) -> None:
    card = zoo.root / vdir(zoo, STUB, 1) / "model.md"
    original = card.read_text()
    card.write_text(original + "edit\n")
    _commit(zoo)
    card.write_text(original)


def _publish_then_edit(zoo: Zoo, model: Path) -> None:
    # Added at HEAD, then edited in the working tree: still an addition since base (test_claims.py).
    _publish(True)(zoo, model)
    edit(zoo.root / vdir(zoo, STUB, 3) / "manifest.yaml", "publisher: ", "publisher: Mallory ")


def _symlink(zoo: Zoo, model: Path) -> None:
    (zoo.root / "manifests/cv/link").symlink_to(zoo.root)


def _empty_leftover(zoo: Zoo, model: Path) -> None:
    (zoo.root / f"manifests/{STUB}/.v3.tmp-123-abcd").mkdir()  # git tracks no empty directory


def _chmod(zoo: Zoo, model: Path) -> None:
    os.chmod(zoo.root / vdir(zoo, STUB, 1) / "model.dvc", 0o755)
    _commit(zoo)


def _new_stub_untracked(zoo: Zoo, model: Path) -> None:
    set_metric(model, 33.0)
    zoo.publish(model, f"{STUB}-vnni", commit=False)


def _new_sub_domain_untracked(zoo: Zoo, model: Path) -> None:
    # An untracked directory above any stub: git names it, not the stubs inside.
    rest = STUB_PRUNED.removeprefix("cv/classification/")
    shutil.copytree(zoo.root / f"manifests/{STUB_PRUNED}", zoo.root / f"manifests/cv/segmentation/{rest}")
    (zoo.root / f"manifests/cv/segmentation/{rest}/aliases.yaml").write_text("stable: 2\n")


def _deprecate(successor: str | None) -> Change:
    def change(zoo: Zoo, model: Path) -> None:
        text = "message: use the other one\n" + (f"successor: {successor}\n" if successor else "")
        (zoo.root / f"manifests/{STUB}/deprecated.yaml").write_text(text)
        _commit(zoo)
    return change


def _signature_on_old_version(zoo: Zoo, model: Path) -> None:
    sigs = zoo.root / vdir(zoo, STUB, 1) / "signatures"
    sigs.mkdir()
    (sigs / "0123456789abcdef-approval.sig").write_text("not a signature\n")
    (sigs / "notes.txt").write_text("x\n")
    _commit(zoo)


def _trust(zoo: Zoo, model: Path) -> None:
    (zoo.root / "trust.yaml").write_text("signers: [\n")
    _commit(zoo)


def _settings(zoo: Zoo, model: Path) -> None:
    (zoo.root / "zoo.yaml").write_text((zoo.root / "zoo.yaml").read_text() + "check:\n  stub-tokens: loud\n")
    _commit(zoo)


def _rename_stub(zoo: Zoo, model: Path) -> None:
    git(zoo, "mv", f"manifests/{STUB_PRUNED}", f"manifests/{STUB_PRUNED}-x")
    _commit(zoo)


CHANGES: dict[str, Change] = {
    "nothing": lambda zoo, model: None,
    "publish committed": _publish(True),
    "publish untracked": _publish(False),
    "new stub untracked": _new_stub_untracked,
    "new sub-domain untracked": _new_sub_domain_untracked,
    "edit v1 in the working tree": _edit_v1(False),
    "edit v1 committed": _edit_v1(True),
    "delete v2 committed": _delete_v2,
    "edit committed, reverted in the working tree": _reverted,
    "added at HEAD, edited in the working tree": _publish_then_edit,
    "gap in a stub": _gap,
    "mode change": _chmod,
    "stray file at the root of manifests/": _write("manifests/README.md"),
    "stray file deep, committed": _write("manifests/cv/classification/notes.txt", commit=True),
    "stray file in a stub": _write(f"manifests/{STUB}/notes.txt"),
    "stray file in a version": _write(f"manifests/{STUB}/v1/extra.yaml", commit=True),
    "not a canonical stub": _write("manifests/cv/classification/mlp/numpy/zoo_demo/synthetic_digits/"
                                   "_sparse-none/v1/manifest.yaml"),
    "symlink": _symlink,
    "empty leftover of a publish": _empty_leftover,
    "version without a manifest": _write(f"manifests/{STUB}/v3/model.md"),
    "alias to a missing version": _write(f"manifests/{STUB}/aliases.yaml", "stable: 9\n", commit=True),
    "alias moved": _write(f"manifests/{STUB}/aliases.yaml", "stable: 1\n", commit=True),
    "deprecated towards a published stub": _deprecate(STUB_PRUNED),
    "deprecated towards nothing published": _deprecate("cv/classification/none/numpy/zoo_demo/x/pruned-none"),
    "deprecation that does not parse": _write(f"manifests/{STUB}/deprecated.yaml", "- [\n", commit=True),
    "signature files added to an old version": _signature_on_old_version,
    "trust.yaml that does not parse": _trust,
    "zoo.yaml's check section broken": _settings,
    "stub renamed": _rename_stub,
}


def _fresh(clean_zoo: Path, tmp_path: Path) -> tuple[Zoo, Path]:
    shutil.copytree(clean_zoo / "zoo", tmp_path / "zoo", symlinks=True)
    shutil.copytree(clean_zoo / "base", tmp_path / "model")
    shutil.copytree(clean_zoo / "remote", tmp_path / "remote")  # each case publishes to a remote of its own
    config = tmp_path / "zoo" / ".dvc" / "config"
    config.write_text(config.read_text().replace(str(clean_zoo / "remote"), str(tmp_path / "remote")))
    zoo = Zoo.open(tmp_path / "zoo")
    git(zoo, "tag", "base")
    return zoo, tmp_path / "model"


@pytest.mark.parametrize("name", list(CHANGES))
def test_the_incremental_gate_finds_what_the_full_gate_finds(
    name: str, clean_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoo, model = _fresh(clean_zoo, tmp_path)
    monkeypatch.chdir(zoo.root)
    CHANGES[name](zoo, model)
    full = check(zoo, base="base", full=True, remote=True)
    fast = check(zoo, base="base", remote=True)
    assert fast.scope == "touched" and full.scope == "full"
    scope = change_since(Path(zoo.root), gitmod.resolve_commit(Path(zoo.root), "base"))
    # Restricting the full report to what the change touches loses nothing: the base is clean.
    assert all(scope.touches(p.path) for p in full.problems), full.problems
    assert fast.problems == full.problems
    assert fast.warnings == full.warnings
    assert fast.added == full.added
    assert fast.ok == full.ok
    assert fast.rules == full.rules
    if name == "nothing":
        assert fast.versions == 0 and full.versions == 4 and full.ok
    # Where the checkout is HEAD's, as CI's is, --committed (no stat of the working tree, no walk) agrees too.
    clean = not git(zoo, "status", "--porcelain", "--untracked-files=no", "--", "manifests") and not git(
        zoo, "ls-files", "--others", "--directory", "--", "manifests")
    if clean:
        committed = check(zoo, base="base", remote=True, committed=True)
        assert (committed.problems, committed.warnings, committed.added) == (full.problems, full.warnings, full.added)


def test_committed_judges_the_commits_alone(clean_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zoo, model = _fresh(clean_zoo, tmp_path)
    monkeypatch.chdir(zoo.root)
    _publish(True)(zoo, model)
    _edit_v1(False)(zoo, model)
    _write("manifests/README.md")(zoo, model)
    report = check(zoo, base="base", committed=True)
    assert report.ok and report.added == (vdir(zoo, STUB, 3),)
    assert {p.rule for p in check(zoo, base="base").problems} == {"immutable", "layout"}


@pytest.mark.parametrize("name", ["nothing", "publish committed", "publish untracked", "alias moved",
                                  "deprecated towards a published stub", "edit v1 committed", "new stub untracked",
                                  "new sub-domain untracked"])
def test_the_incremental_review_says_what_the_full_review_says(
    name: str, clean_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoo, model = _fresh(clean_zoo, tmp_path)
    monkeypatch.chdir(zoo.root)
    CHANGES[name](zoo, model)
    full, fast = review(zoo, "base", full=True), review(zoo, "base")
    assert fast.added == full.added  # manifests, diffs against the parent, new objects and bytes, rule results
    assert (fast.warnings, fast.aliases, fast.deprecations, fast.trust) == (
        full.warnings, full.aliases, full.deprecations, full.trust)


def test_a_successor_deleted_by_another_stubs_change_is_still_refused(
    clean_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one cross-stub rule: STUB's deprecation names STUB_PRUNED. A later change that
    # removes STUB_PRUNED does not touch STUB, so the incremental gate does not re-judge
    # STUB's record; it refuses the deletion itself, which the full gate refuses too.
    zoo, model = _fresh(clean_zoo, tmp_path)
    monkeypatch.chdir(zoo.root)
    _deprecate(STUB_PRUNED)(zoo, model)
    git(zoo, "tag", "-f", "base")
    git(zoo, "rm", "-q", "-r", f"manifests/{STUB_PRUNED}")
    _commit(zoo)
    full, fast = check(zoo, base="base", full=True), check(zoo, base="base")
    assert not fast.ok and not full.ok
    assert {p.rule for p in fast.problems} == {"immutable"}
    assert set(fast.problems) < set(full.problems)
    assert {p.rule for p in set(full.problems) - set(fast.problems)} == {"deprecation"}


def test_a_change_that_touches_nothing_reads_nothing(clean_zoo: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    zoo, _ = _fresh(clean_zoo, tmp_path)
    monkeypatch.chdir(zoo.root)
    # A broken version at the base is the nightly full check's to find, not every pull request's.
    edit(zoo.root / vdir(zoo, STUB, 1) / "model.dvc", "md5", "md6")
    _commit(zoo)
    git(zoo, "tag", "-f", "base")
    assert check(zoo, base="base").ok
    assert check(zoo, base="base").versions == 0
    assert not check(zoo, base="base", full=True).ok
    assert not check(zoo).ok


def test_cli_says_what_it_read(clean_zoo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from zoo_repo.cli import main

    zoo, model = _fresh(clean_zoo, tmp_path)
    monkeypatch.chdir(zoo.root)
    _publish(True)(zoo, model)
    runner = CliRunner()
    fast = runner.invoke(main, ["check", "--base", "base"])
    committed = runner.invoke(main, ["check", "--base", "base", "--committed"])
    assert committed.output == fast.output
    full = runner.invoke(main, ["check", "--base", "base", "--full"])
    assert fast.exit_code == 0 and full.exit_code == 0, fast.output + full.output
    assert fast.output.strip() == "checked 3 versions of 1 stub touched, 1 added since base: ok"
    assert full.output.strip() == "checked 5 versions of 2 stubs, 1 added since base: ok"
