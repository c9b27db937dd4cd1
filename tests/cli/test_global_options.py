"""--zoo, --debug, -q and --offline work before and after the subcommand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import STUB, run_zoo
from zoo_repo import Zoo


def test_global_options_after_the_subcommand(zoo: Zoo, model_dir: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    before = cli("--zoo", zoo.root, "-q", "list", "--json")
    after = cli("list", "--json", "-q", "--zoo", zoo.root)
    assert after.exit_code == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout)
    # --offline after the subcommand is an option, not "Did you mean…", and it applies:
    # with the remote gone, a pull from the cache works only offline.
    remote = zoo.root.parent / "remote"
    url = remote.as_uri()
    assert cli("pull", STUB, "--remote", url, "--dest", tmp_path / "first").exit_code == 0
    remote.rename(remote.with_name("remote-gone"))
    online = cli("pull", STUB, "--remote", url, "--dest", tmp_path / "online")
    assert online.exit_code != 0
    offline = cli("pull", STUB, "--remote", url, "--dest", tmp_path / "out", "--offline")
    assert offline.exit_code == 0, offline.stderr
    assert (tmp_path / "out" / "model.onnx").read_bytes() == (model_dir / "model.onnx").read_bytes()


def test_the_subcommands_value_wins_and_the_environment_is_read_once(zoo: Zoo, model_dir: Path,
                                                                      tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    empty = tmp_path / "not-a-zoo"
    empty.mkdir()
    later = cli("--zoo", empty, "versions", STUB, "--zoo", zoo.root)
    assert later.exit_code == 0 and later.stdout.splitlines()[1].split()[0] == "v1", later.stderr
    env = {**os.environ, "ZOO_DIR": str(zoo.root)}
    proc = subprocess.run([sys.executable, "-m", "zoo_repo", "versions", STUB], capture_output=True, text=True,
                          env=env, cwd=empty)
    assert proc.returncode == 0 and proc.stdout.splitlines()[1].split()[0] == "v1", proc.stderr


def test_debug_after_the_subcommand_shows_the_traceback(tmp_path: Path) -> None:
    plain = run_zoo("show", STUB, cwd=tmp_path)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    debug = run_zoo("show", STUB, "--debug", cwd=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "NotAZooError" in debug.stderr
