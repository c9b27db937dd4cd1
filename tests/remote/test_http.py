"""https:// (here http:// on loopback) serves pulls read-only, from a directory remote's files."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import STUB, tree_bytes
from zoo_repo import RemoteError, Zoo


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(remote_dir: Path) -> Iterator[str]:
    remote_dir.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(remote_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_pull_over_http(zoo: Zoo, model_dir: Path, served: str, tmp_path: Path) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    consumer = Zoo.open(served, cache_dir=tmp_path / "cache")
    assert [str(s) for s in consumer.stubs()] == [STUB]
    assert consumer.versions(STUB) == [1]
    pulled = consumer.pull(STUB, dest=tmp_path / "out")
    got = tree_bytes(pulled.dest)
    assert {p: hashlib.sha256(b).hexdigest() for p, b in got.items()} == {f.path: f.sha256 for f in manifest.files}


def test_http_remotes_are_read_only(tmp_path: Path, model_dir: Path, served: str) -> None:
    zoo = Zoo.init(tmp_path / "z", remote=served)
    with pytest.raises(RemoteError, match="read-only"):
        zoo.publish(model_dir, STUB)
    assert zoo.versions(STUB) == []
    assert list(zoo.store.oids()) == []  # refused before anything was stored
