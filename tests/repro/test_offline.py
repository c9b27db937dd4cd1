"""Offline answers are true: what the cache lacks is "not cached", never "does not exist"."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import Offline, Zoo


def test_offline_after_a_locked_pull_names_what_is_not_cached(zoo: Zoo, model_dir: Path, tmp_path: Path, cli,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a consumer's directory, not a zoo checkout
    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"v2")
    zoo.publish(model_dir, STUB)
    zoo.tag(f"{STUB}@v2", "stable")
    url = (zoo.root.parent / "remote").as_uri()
    lock = tmp_path / "zoo.lock"
    assert cli("--zoo", zoo.root, "lock", f"{STUB}@stable", "-f", lock).exit_code == 0
    assert cli("pull", "--locked", "-f", lock, "--dest", tmp_path / "models").exit_code == 0  # caches v2 only

    # The listing read online is kept: offline, stable still means v2, which is cached.
    assert cli("--offline", "pull", f"{STUB}@stable", "--remote", url, "--dest", tmp_path / "s").exit_code == 0
    for selector in ("v1",):
        got = cli("--offline", "pull", f"{STUB}@{selector}", "--remote", url, "--dest", tmp_path / selector)
        assert got.exit_code == 1, got.stderr
        assert got.stderr.splitlines()[0] == f"Error: offline: {STUB}@{selector} is not in the cache"
        assert "Hint: run once without --offline" in got.stderr
        assert not (tmp_path / selector).exists()
    # What the cache holds is served, and listings say they are partial.
    assert cli("--offline", "pull", f"{STUB}@v2", "--remote", url, "--dest", tmp_path / "v2").exit_code == 0
    listed = cli("--offline", "versions", STUB, "--remote", url)
    assert listed.exit_code == 0 and "only the versions the cache holds" in listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["v2"]
    assert "only what the cache holds" in cli("--offline", "list", "--remote", url).stderr
    # The same from Python.
    offline = Zoo.open(url, offline=True)
    try:
        offline.resolve(f"{STUB}@v1")
    except Offline as exc:
        assert f"{STUB}@v1" in exc.message
    else:
        raise AssertionError("resolving an uncached version offline must raise Offline")
