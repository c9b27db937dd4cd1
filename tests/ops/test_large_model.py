"""A model of 10,000 files publishes, lists, shows and pulls: its manifest (one
line a file, about 2 MB) is within what readers accept."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.conftest import STUB
from zoo_repo import Zoo

N = 10_000


def test_a_model_of_ten_thousand_files_publishes_lists_and_pulls(cli, zoo: Zoo, model_dir: Path,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path) -> None:
    for i in range(N):
        folder = model_dir / "sample-originals" / f"batch-{i // 500:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"orig-{i:05d}.bin").write_bytes(b"%d" % i)
    began = time.monotonic()
    published = cli("--zoo", zoo.root, "publish", model_dir, "--stub", STUB)
    assert published.exit_code == 0, published.stderr
    manifest = zoo.version_dir(zoo.resolve(STUB).stub, 1) / "manifest.yaml"
    assert manifest.stat().st_size > 1 << 20  # over the 1 MiB other YAML gets

    listed = cli("--zoo", zoo.root, "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    shown = json.loads(cli("--zoo", zoo.root, "show", STUB, "--json").stdout)
    assert shown["nfiles"] == len(shown["files"]) > N
    dest = tmp_path / "dest"
    pulled = cli("--zoo", zoo.root, "pull", STUB, "--dest", dest)
    assert pulled.exit_code == 0, pulled.stderr
    assert (dest / "sample-originals" / "batch-19" / "orig-09999.bin").read_bytes() == b"9999"
    assert sum(1 for p in dest.rglob("*.bin")) == N
    assert time.monotonic() - began < 300  # a generous bound: seconds on a laptop, minutes never
