"""``zoo deprecate`` as users run it: the warning every pull and lock prints, what list
and show say, the one-line errors, and a crafted remote refused in one line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import STUB, old_form
from zoo_repo import Zoo
from zoo_repo.ops.demo import STUB_PRUNED

WHY = "accuracy regression on the new test set"
WARNING = f"warning: {STUB} is deprecated: {WHY}; use {STUB_PRUNED} instead"


@pytest.fixture
def pair(zoo: Zoo, built_models: dict[str, Path]) -> Zoo:
    zoo.publish(built_models["base"], STUB)
    zoo.publish(built_models["pruned"], STUB_PRUNED)
    return zoo


@pytest.fixture
def retired(cli, pair: Zoo) -> Zoo:  # type: ignore[no-untyped-def]
    result = cli("--zoo", pair.root, "deprecate", STUB, "--successor", STUB_PRUNED, "-m", WHY)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"deprecated {STUB} (successor {STUB_PRUNED}); commit ")
    return pair


def test_list_hides_unless_all_and_json_carries_it(cli, retired: Zoo, remote_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # outside any checkout: the remote's URL is all there is
    url = remote_dir.as_uri()
    shown = cli("list", "--remote", url)
    assert shown.exit_code == 0 and STUB_PRUNED in shown.stdout and f"| {STUB} " not in shown.stdout
    assert "1 deprecated stub not shown: `zoo list --all` lists them" in shown.stderr
    everything = cli("list", "--remote", url, "--all")
    assert f"| {STUB} " in everything.stdout
    assert everything.stdout.splitlines()[-1] == WARNING.removeprefix("warning: ")
    entries = {e["stub"]: e for e in json.loads(cli("list", "--remote", url, "--all", "--json").stdout)}
    assert entries[STUB]["deprecated"] == {"message": WHY, "successor": STUB_PRUNED}
    assert entries[STUB_PRUNED]["deprecated"] is None
    assert [e["stub"] for e in json.loads(cli("list", "--remote", url, "--json").stdout)] == [STUB_PRUNED]

    show = cli("show", STUB, "--remote", url)
    assert f"  deprecated       {WHY} (successor {STUB_PRUNED})" in show.stdout.splitlines()
    assert json.loads(cli("show", STUB, "--remote", url, "--json").stdout)["deprecated"]["successor"] == STUB_PRUNED


def test_pull_and_lock_warn_and_succeed(cli, retired: Zoo, remote_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pulled = cli("--zoo", retired.root, "pull", STUB, "--dest", tmp_path / "checkout-pull")
    assert pulled.exit_code == 0 and WARNING in pulled.stderr.splitlines()
    monkeypatch.chdir(tmp_path)
    url = remote_dir.as_uri()
    remote = cli("pull", STUB, "--remote", url, "--dest", tmp_path / "out")
    assert remote.exit_code == 0 and remote.stderr.splitlines() == [WARNING]
    assert (tmp_path / "out" / "model.onnx").is_file()
    as_json = cli("pull", STUB, "--remote", url, "--dest", tmp_path / "out", "--json")
    assert json.loads(as_json.stdout)["deprecated"] == {"message": WHY, "successor": STUB_PRUNED}
    both = cli("pull", STUB, STUB_PRUNED, "--remote", url, "--dest", tmp_path / "both")
    assert both.exit_code == 0 and both.stderr.splitlines() == [WARNING]  # the successor is not deprecated

    locked = cli("lock", STUB, STUB_PRUNED, "-f", tmp_path / "zoo.lock", "--remote", url)
    assert locked.exit_code == 0 and locked.stderr.splitlines() == [WARNING]
    again = cli("pull", "--locked", "-f", tmp_path / "zoo.lock", "--dest", tmp_path / "locked")
    assert again.exit_code == 0 and again.stderr.splitlines() == [WARNING]
    upgrade = cli("lock", "--upgrade", "-f", tmp_path / "zoo.lock")
    assert upgrade.exit_code == 0 and WARNING in upgrade.stderr.splitlines()
    quiet = cli("pull", STUB_PRUNED, "--remote", url, "--dest", tmp_path / "quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_undo_and_json(cli, retired: Zoo, remote_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    undone = cli("--zoo", retired.root, "deprecate", STUB, "--undo", "--json")
    data = json.loads(undone.stdout)
    assert undone.exit_code == 0 and data["deprecated"] is None and data["listed"] is True and data["commit"]
    pulled = cli("pull", STUB, "--remote", remote_dir.as_uri(), "--dest", tmp_path / "out")
    assert pulled.exit_code == 0 and pulled.stderr == ""
    again = cli("--zoo", retired.root, "deprecate", STUB, "--undo")
    assert again.exit_code == 2 and again.stderr == f"Error: {STUB} is not deprecated\n"


def test_branch_commits_for_review(cli, pair: Zoo) -> None:  # type: ignore[no-untyped-def]
    result = cli("--zoo", pair.root, "deprecate", STUB, "-m", WHY, "--branch")
    assert result.exit_code == 0, result.stderr
    assert f"on new branch deprecate/{STUB} (consumers without git see it once" in result.stdout
    subprocess.run(["git", "-C", str(pair.root), "checkout", "-q", f"deprecate/{STUB}"], check=True)
    review = cli("--zoo", pair.root, "review", "--base", "main")
    assert review.exit_code == 0, review.stderr
    assert f"- deprecates {STUB}: {WHY}" in review.stdout.splitlines()
    assert cli("--zoo", pair.root, "check", "--base", "main").exit_code == 0


@pytest.mark.parametrize(("args", "fragment"), [
    (("--successor", STUB_PRUNED), "say why with -m WHY"),
    (("--undo", "-m", WHY), "--undo takes the deprecation back"),
    (("-m", WHY, "--successor", "cv/classification/resnet_v1-50/pytorch/sparseml/coco/base-none"),
     "Error: successor cv/classification/resnet_v1-50/pytorch/sparseml/coco/base-none has no published version"),
    (("-m", WHY, "--successor", "nonsense"), "Error: successor: invalid stub 'nonsense'"),
    (("-m", "line one\nline two"), "must be one line"),
])
def test_bad_input_is_one_line_exit_2(cli, pair: Zoo, args: tuple[str, ...], fragment: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("--zoo", pair.root, "deprecate", STUB, *args)
    assert result.exit_code == 2 and fragment in result.stderr
    assert "Traceback" not in result.stderr and not (pair.manifests_dir / STUB / "deprecated.yaml").exists()


def test_check_names_a_bad_record(cli, pair: Zoo) -> None:  # type: ignore[no-untyped-def]
    (pair.manifests_dir / STUB / "deprecated.yaml").write_text("message: why\nsuccessor: " + STUB + "\n")
    result = cli("--zoo", pair.root, "check")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == \
        f"manifests/{STUB}/deprecated.yaml: [deprecation] successor is the deprecated stub itself"


@pytest.mark.parametrize("entry", [
    "not a mapping",
    {"message": "why", "reason": "extra"},
    {"message": "two\nlines"},
    {"message": "m" * 5000},
    {"message": "why", "successor": 7},
    {"message": "why", "successor": "zoo:" + STUB_PRUNED},
    {"message": ""},
])
def test_a_crafted_remote_deprecation_is_one_clear_line(cli, retired: Zoo, remote_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch, entry: object) -> None:
    old_form(remote_dir)  # the listing in one file, to craft
    index = remote_dir / "zoo" / "index.json"
    doc = json.loads(index.read_text())
    doc["deprecated"][STUB] = entry
    index.write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    for args in (("list",), ("pull", STUB, "--dest", tmp_path / "out")):
        result = cli(*args, "--remote", remote_dir.as_uri())
        assert result.exit_code == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: remote file://") and "zoo/index.json" in lines[0]
        assert f"deprecated {STUB}" in lines[0] and len(lines[0]) < 800
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("deprecated", ["[]", '{"cv/not-a-stub": {"message": "why"}}'])
def test_a_crafted_remote_move_is_refused(cli, retired: Zoo, remote_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          monkeypatch: pytest.MonkeyPatch, deprecated: str) -> None:
    view = json.loads((remote_dir / "zoo" / "index" / "top.json").read_text())
    move = {"schema": 1, "seq": view["seq"] + 1, "branch": "main", "commit": "f" * 40, "added": {},
            "deprecated": json.loads(deprecated)}
    (remote_dir / "zoo" / "projection" / f"{view['seq'] + 1:010d}.json").write_text(json.dumps(move))
    monkeypatch.chdir(tmp_path)
    result = cli("list", "--remote", remote_dir.as_uri())
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("Error: remote file://") and "deprecated" in result.stderr
