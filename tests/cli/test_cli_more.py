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


def _two_stubs(zoo: Zoo, built_models: dict[str, Path]) -> None:
    from zoo_repo.ops.demo import STUB_PRUNED

    zoo.publish(built_models["base"], STUB)
    zoo.publish(built_models["pruned"], STUB_PRUNED)


def test_pull_several_stubs_each_to_dest_stub(cli, zoo: Zoo, built_models, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from zoo_repo.ops.demo import STUB_PRUNED

    _two_stubs(zoo, built_models)
    dest = tmp_path / "out"
    out = cli("--zoo", zoo.root, "pull", STUB, f"{STUB_PRUNED}@v1", "--dest", dest, "--include", "card", "--json")
    assert out.exit_code == 0, out.stderr
    assert [Path(r["dest"]) for r in json.loads(out.stdout)] == [dest / STUB, dest / STUB_PRUNED]
    assert (dest / STUB / "model.md").is_file() and (dest / STUB_PRUNED / "model.md").is_file()
    one = cli("--zoo", zoo.root, "pull", STUB, "--dest", tmp_path / "one", "--include", "card")
    assert one.exit_code == 0 and (tmp_path / "one" / "model.md").is_file()  # one stub: DEST is its directory
    twice = cli("--zoo", zoo.root, "pull", STUB, f"{STUB}@v1", "--dest", dest)
    assert twice.exit_code == 2 and "--dest/STUB" in twice.stderr
    assert "several STUBs" in cli("pull", "--help").stdout
    assert cli("--zoo", zoo.root, "pull").exit_code == 2


def test_include_roles_and_globs_and_exclude(cli, zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    every = {f.path for f in zoo.show(STUB).files}
    inputs = {p for p in every if p.startswith("sample-inputs/")}

    def pulled(*args: str) -> set[str]:
        dest = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        out = cli("--zoo", zoo.root, "pull", STUB, "--dest", dest, *args, "--json")
        assert out.exit_code == 0, out.stderr
        return set(json.loads(out.stdout)["files"])

    assert pulled("--include", "card", "--include", "*.onnx") == {"model.md", "model.onnx"}
    assert pulled("--include", "sample-inputs") == inputs  # the role
    assert pulled("--include", "card", "--include", "sample-inputs/*", "--exclude", "sample-inputs/*0001*") == \
        {"model.md"} | {p for p in inputs if "0001" not in p}
    assert pulled("--exclude", "*.npy", "--exclude", "*.tar.gz") == {p for p in every
                                                                     if not p.endswith((".npy", ".tar.gz"))}
    bad = cli("--zoo", zoo.root, "pull", STUB, "--dest", tmp_path / "x", "--exclude", " ")
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: --exclude has an empty value")
    plan = zoo.plan_pull(STUB, dest=tmp_path / "p", include=("card",), exclude=("model.md",))
    assert plan.files == ()


def _cached_two_versions(zoo: Zoo, model_dir: Path, cli) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"v1 only")
    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"v2 only")
    zoo.publish(model_dir, STUB)
    zoo.tag(f"{STUB}@v1", "stable")
    url = zoo.root.parent.joinpath("remote").as_uri()
    cli("pull", f"{STUB}@stable", "--remote", url)  # caches the aliases too
    first = json.loads(cli("pull", f"{STUB}@v1", "--remote", url, "--json").stdout)
    second = json.loads(cli("pull", f"{STUB}@v2", "--remote", url, "--json").stdout)
    return Path(first["dest"]), Path(second["dest"])


def test_cache_rm_a_version_then_the_stub(cli, zoo: Zoo, model_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    v1, v2 = _cached_two_versions(zoo, model_dir, cli)
    dry = cli("cache", "rm", f"{STUB}@stable", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["dry_run"] and plan["versions"] == [f"{STUB}@v1"] and len(plan["objects"]) == 1  # v1's label
    assert v1.exists()
    out = cli("cache", "rm", f"{STUB}@v1")
    assert out.exit_code == 0 and out.stdout == f"removed {STUB}@v1\nremoved 1 object ({plan['bytes']} B)\n"
    assert not v1.exists() and (v2 / "model.onnx").is_file()
    missing = cli("cache", "rm", f"{STUB}@v1")
    assert missing.exit_code == 2 and "is not in the cache (cached versions of" in missing.stderr
    gone = json.loads(cli("cache", "rm", STUB, "--json").stdout)
    assert gone["versions"] == [f"{STUB}@v2"] and not v2.exists()
    assert json.loads(cli("cache", "ls", "--json").stdout)["objects"] == 0


def test_json_on_tag_untag_lock_prune_catalog(cli, zoo: Zoo, model_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch) -> None:
    zoo.publish(model_dir, STUB)
    z = ("--zoo", zoo.root)
    assert json.loads(cli(*z, "tag", f"{STUB}@v1", "stable", "--json").stdout) == \
        {"stub": STUB, "alias": "stable", "version": "v1", "listed": True}
    untagged = json.loads(cli(*z, "untag", STUB, "stable", "--json").stdout)
    assert untagged == {"stub": STUB, "alias": "stable", "was": "v1"}
    lockfile = tmp_path / "zoo.lock"
    locked = json.loads(cli(*z, "lock", STUB, "-f", lockfile, "--json").stdout)
    assert [(p["stub"], p["selector"], p["version"]) for p in locked["pins"]] == [(STUB, "latest", "v1")]
    checked = cli(*z, "lock", "--check", "-f", lockfile, "--json")
    assert checked.exit_code == 0 and json.loads(checked.stdout)["stale"] == []
    written = json.loads(cli(*z, "catalog", "--json").stdout)
    assert written["written"] and not written["up_to_date"]
    assert json.loads(cli(*z, "catalog", "--json").stdout) == {"written": [], "up_to_date": True}
    monkeypatch.chdir(tmp_path)
    pruned = json.loads(cli("cache", "prune", "--keep-latest", "0", "--json").stdout)
    assert pruned == {"dry_run": False, "versions": [], "objects": [], "temp_files": [], "bytes": 0}


def test_errors_with_json_are_json_on_stderr(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    out = cli("--zoo", zoo.root, "show", f"{STUB}@v9", "--json")
    assert out.exit_code == 2 and out.stdout == ""
    error = json.loads(out.stderr)
    assert set(error) == {"error", "hint", "exit_code"}
    assert error["exit_code"] == 2 and "does not exist" in error["error"]
    param = json.loads(cli("--zoo", zoo.root, "pull", STUB, "--include", "nope", "--json").stderr)
    assert param["error"].startswith("--include 'nope'")  # flag names, as in the text form
    usage = cli("--zoo", zoo.root, "pull", "--json")
    assert usage.exit_code == 2 and json.loads(usage.stderr)["error"].startswith("name at least one STUB")
    plain = cli("--zoo", zoo.root, "show", f"{STUB}@v9")
    assert plain.stderr.startswith("Error: ")


def _complete(args: list[str], incomplete: str) -> list[str]:
    from click.shell_completion import ShellComplete

    from zoo_repo.cli import main

    return [c.value for c in ShellComplete(main, {}, "zoo", "_ZOO_COMPLETE").get_completions(args, incomplete)]


def test_completion_scripts(cli) -> None:  # type: ignore[no-untyped-def]
    for shell, marker in (("bash", "complete -o nosort -F _zoo_completion zoo"), ("zsh", "#compdef zoo"),
                          ("fish", "complete --no-files --command zoo")):
        out = cli("completion", shell)
        assert out.exit_code == 0 and marker in out.stdout and "_ZOO_COMPLETE" in out.stdout
    assert cli("completion", "tcsh").exit_code == 2


def test_stubs_versions_aliases_and_roles_complete(zoo: Zoo, model_dir: Path, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    zoo.tag(f"{STUB}@v1", "stable")
    monkeypatch.chdir(tmp_path)  # outside any checkout: nothing to offer
    assert _complete(["pull"], "") == []
    z = ["--zoo", str(zoo.root)]
    assert _complete([*z, "pull"], STUB[:5]) == [STUB]
    assert _complete([*z, "show"], "zoo:" + STUB[:5]) == ["zoo:" + STUB]
    assert _complete([*z, "pull"], STUB + "@") == [f"{STUB}@v1", f"{STUB}@latest", f"{STUB}@stable"]
    assert _complete([*z, "diff", STUB], STUB + "@s") == [f"{STUB}@stable"]
    assert _complete([*z, "cache", "rm"], STUB[:5]) == [STUB]
    assert _complete([*z, "pull", STUB, "--include"], "sample-i") == ["sample-inputs"]
    monkeypatch.chdir(zoo.root)
    assert _complete(["tag"], "") == [STUB]
