"""CLI behaviour added later: plural counts, diff --exit-code, list aliases, several pulls,
include/exclude, cache rm, --json everywhere, completion."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.core.words import count


def test_count_is_plural_correct() -> None:
    assert (count(0, "file"), count(1, "file"), count(2, "file")) == ("0 files", "1 file", "2 files")
    assert count(3, "child", "children") == "3 children"


def test_publish_says_files_not_hidden_objects(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB)
    (model_dir / "sample-labels" / "lab-0001.npy").write_bytes(b"changed label bytes")
    out = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB)
    assert out.exit_code == 0, out.stderr
    assert f"uploaded 1 new file ({len(b'changed label bytes')} B)" in out.stdout
    data = json.loads(cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB, "--json").stdout)
    assert data["uploaded_files"] == 0  # unchanged


def test_one_object_is_singular(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB)
    dest = zoo.root.parent / "out"
    out = cli("--zoo", zoo.root, "pull", STUB, "--dest", dest, "--include", "card")
    assert out.exit_code == 0, out.stderr
    assert ": 1 file, " in out.stdout and "fetched 0 objects" in out.stdout


def test_diff_exit_code(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0001.npy").write_bytes(b"changed label bytes")
    zoo.publish(model_dir, STUB)
    same = cli("--zoo", zoo.root, "diff", f"{STUB}@v1", f"{STUB}@v1", "--exit-code")
    assert same.exit_code == 0 and "0 added, 0 removed, 0 changed" in same.stdout
    differ = cli("--zoo", zoo.root, "diff", f"{STUB}@v1", f"{STUB}@v2", "--exit-code", "--json")
    assert differ.exit_code == 1 and json.loads(differ.stdout)["changed"]
    assert cli("--zoo", zoo.root, "diff", f"{STUB}@v1", f"{STUB}@v2").exit_code == 0  # without the flag


def test_list_json_has_aliases(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0001.npy").write_bytes(b"changed label bytes")
    zoo.publish(model_dir, STUB)
    assert cli("--zoo", zoo.root, "tag", f"{STUB}@v1", "stable").exit_code == 0
    [entry] = json.loads(cli("--zoo", zoo.root, "list", "--json").stdout)
    assert entry["version"] == "v2" and entry["aliases"] == {"latest": "v2", "stable": "v1"}
