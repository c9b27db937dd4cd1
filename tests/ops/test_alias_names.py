"""Aliases named like YAML's special words (yes, on, null…) work end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import STUB, tree_bytes
from zoo_repo import Zoo

NAMES = ["yes", "no", "on", "off", "null", "true", "false"]


@pytest.fixture
def two(zoo: Zoo, model_dir: Path) -> Zoo:
    zoo.publish(model_dir, STUB)
    (model_dir / "sample-labels" / "lab-0000.npy").write_bytes(b"second version")
    zoo.publish(model_dir, STUB)
    return zoo


def test_tag_and_pull_by_yaml_word_aliases(cli, two: Zoo, remote_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in NAMES:
        result = cli("--zoo", two.root, "tag", f"{STUB}@v1", name)
        assert result.exit_code == 0, result.stderr
    assert two.aliases(STUB) == dict.fromkeys(NAMES, 1)

    result = cli("--zoo", two.root, "pull", f"{STUB}@yes", "--dest", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert tree_bytes(tmp_path / "out")["sample-labels/lab-0000.npy"] != b"second version"
    assert two.resolve(f"{STUB}@null").version == 1
    assert cli("--zoo", two.root, "untag", STUB, "on").exit_code == 0
    assert set(two.aliases(STUB)) == set(NAMES) - {"on"}

    consumer = Zoo.open(remote_dir.as_uri(), cache_dir=tmp_path / "cache")
    assert consumer.resolve(f"{STUB}@off").version == 1  # the mirrored file parses too
