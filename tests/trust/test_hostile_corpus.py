"""Hostile and broken input: every case is one `Error:` line, exit 2 (1 for the
environment), no traceback, and nothing written to the store, the manifests,
the destination or the remote."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import STUB
from tests.seaweed import free_ports
from zoo_repo import Zoo

GOOD = STUB


@dataclass
class World:
    zoo: Zoo
    model: Path
    remote: Path
    tmp: Path


def _publish(stub: str = GOOD, *extra: str) -> Callable[[World], list[str]]:
    return lambda w: ["publish", str(w.model), "--stub", stub, *extra]


def _bad_stub(component: int, value: str) -> Callable[[World], list[str]]:
    parts = GOOD.split("/")
    parts[component] = value
    return _publish("/".join(parts))


def _edit_model(edit: Callable[[Path], object], *extra: str) -> Callable[[World], list[str]]:
    def run(w: World) -> list[str]:
        edit(w.model)
        return ["publish", str(w.model), "--stub", GOOD, *extra]
    return run


def _card(front: str) -> Callable[[Path], object]:
    return lambda d: (d / "model.md").write_text(f"---\n{front}\n---\n# card\n")


def _tar_member(name: str, kind: bytes = b"0", link: str = "") -> Callable[[Path], object]:
    def make(d: Path) -> None:
        import io
        import tarfile

        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            tar.addfile(info, io.BytesIO(b"") if kind == b"0" else None)
        (d / "sample-originals.tar.gz").write_bytes(buf.getvalue())
    return make


def _manifest_edit(old: str, new: str) -> Callable[[World], list[str]]:
    """Tamper with the published v1 manifest (as a hostile pull request would), then pull it."""
    def run(w: World) -> list[str]:
        path = w.zoo.version_dir(w.zoo.resolve(GOOD).stub, 1) / "manifest.yaml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
        return ["pull", GOOD, "--dest", str(w.tmp / "dest")]
    return run


def _manifest_text(text: str) -> Callable[[World], list[str]]:
    def run(w: World) -> list[str]:
        (w.zoo.version_dir(w.zoo.resolve(GOOD).stub, 1) / "manifest.yaml").write_text(text)
        return ["pull", GOOD, "--dest", str(w.tmp / "dest")]
    return run


def _corrupt_remote_object(w: World) -> list[str]:
    onnx = next(f for f in w.zoo.resolve(GOOD).files if f.path == "model.onnx")
    obj = w.remote / "files" / "md5" / onnx.md5[:2] / onnx.md5[2:]
    obj.chmod(0o644)
    obj.write_bytes(obj.read_bytes()[:-10] + b"0123456789")
    shutil.rmtree(w.zoo.store.root / "files")  # force a download
    return ["pull", GOOD, "--dest", str(w.tmp / "dest")]


def _remote_config(url: str, extra: str = "") -> Callable[[World], list[str]]:
    def run(w: World) -> list[str]:
        config = w.zoo.root / ".dvc" / "config"
        text = config.read_text()
        start = text.index("url = ")
        end = text.index("\n", start)
        config.write_text(text[:start] + f"url = {url}" + text[end:] + extra)
        (w.model / "sample-labels" / "lab-0003.npy").write_bytes(b"new content, so it must be uploaded")
        return ["publish", str(w.model), "--stub", GOOD]
    return run


def _unreachable_s3(w: World) -> list[str]:
    port = free_ports(1)[0]
    return _remote_config("s3://bucket/zoo", f"    endpointurl = http://127.0.0.1:{port}\n"
                                             "    connect_timeout = 2\n")(w)


CASES: list[tuple[str, Callable[[World], list[str]], int, str]] = [
    # stubs, each component
    ("stub domain", _bad_stub(0, "CV"), 2, "component 1 (domain) 'CV' has 'C'"),
    ("stub sub_domain", _bad_stub(1, ""), 2, "component 2 (sub_domain) is empty"),
    ("stub architecture", _bad_stub(2, "a-b-c"), 2, "(architecture) 'a-b-c' has 2 '-'"),
    ("stub framework", _bad_stub(3, "py-torch"), 2, "(framework) 'py-torch' has 1 '-'; expected no '-'"),
    ("stub repo", _bad_stub(4, "spar$eml"), 2, "(repo) 'spar$eml' has '$'"),
    ("stub dataset", _bad_stub(5, ".hidden"), 2, "(dataset) '.hidden' must not start with '.'"),
    ("stub sparse tag", _bad_stub(6, "pruned-_extreme"), 2, "sparse_category '_extreme' must be a lowercase token"),
    ("stub traversal", _bad_stub(2, ".."), 2, "must not start with '.'"),
    ("stub overlong", _bad_stub(2, "a" * 300), 2, "characters long"),
    # the model directory
    ("symlink out", _edit_model(lambda d: os.symlink("/etc/passwd", d / "passwd")), 2, "outside the model directory"),
    ("device file", _edit_model(lambda d: os.mkfifo(d / "fifo")), 2, "is a special file"),
    ("non-UTF-8 name", _edit_model(lambda d: open(os.fsencode(d) + b"/\xff\xfe.bin", "wb").close()), 2,
     "file name is not valid UTF-8"),
    ("empty directory", _edit_model(lambda d: [shutil.rmtree(p) if p.is_dir() else p.unlink() for p in d.iterdir()]),
     2, "has no model.md"),
    ("not ONNX", _edit_model(lambda d: (d / "model.onnx").write_bytes(b"\x00" * 64)), 2, "is not a valid ONNX model"),
    ("truncated ONNX", _edit_model(lambda d: (d / "model.onnx").write_bytes((d / "model.onnx").read_bytes()[:999])),
     2, "is not a valid ONNX model"),
    ("YAML bomb", _edit_model(_card("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]")), 2,
     "YAML aliases are not allowed"),
    ("oversized YAML", _edit_model(_card("description: " + "x" * ((1 << 20) + 10))), 2, "larger than"),
    ("duplicate keys", _edit_model(_card("license: mit\nlicense: gpl")), 2, "duplicate key 'license'"),
    ("wrong types in card", _edit_model(_card("metrics:\n  - {name: top1, value: [1]}")), 2,
     "metrics[0].value must be a number"),
    ("card disagrees", _edit_model(_card("dataset: imagenet")), 2, "dataset is 'imagenet' in the card"),
    ("tar traversal", _edit_model(_tar_member("../../etc/x.jpg")), 2, "would land outside its folder"),
    ("tar absolute", _edit_model(_tar_member("/etc/x.jpg")), 2, "would land outside its folder"),
    ("tar symlink", _edit_model(_tar_member("x.jpg", b"2", "/etc/shadow")), 2, "is a link"),
    ("tar hardlink", _edit_model(_tar_member("y.jpg", b"1", "../../etc/shadow")), 2, "is a link"),
    ("output mismatch", _edit_model(lambda d: np.save(d / "sample-outputs" / "out-0000.npy",
                                                      np.ones((1, 10), np.float32))),
     2, "differs from what model.onnx"),
    ("version clash", _edit_model(lambda d: (d / "sample-labels" / "lab-0000.npy").write_bytes(b"x"),
                                  "--version", "v1"),
     2, "is already published with different content"),
    # manifests a hostile pull request could carry
    ("manifest ../", _manifest_edit("path: model.onnx,", "path: ../../outside,"), 2, "file path '../../outside'"),
    ("manifest absolute", _manifest_edit("path: model.onnx,", "path: /etc/passwd,"), 2, "file path '/etc/passwd'"),
    ("manifest wrong type", _manifest_edit("role: onnx, size: ", "role: onnx, size: big, was: "),
     2, "size must be a non-negative integer"),
    ("manifest metric", _manifest_edit("- {name: top1 accuracy, value: ", "- {name: top1 accuracy, was: "), 2,
     "metrics[0] has unknown key 'was'"),
    ("manifest totals", _manifest_edit("nfiles: 17", "nfiles: 3"), 2, "nfiles is 3 but 17 files are listed"),
    ("manifest bomb", _manifest_text("schema: 1\na: &a [1, 2]\nb: [*a, *a]\n"), 2, "YAML aliases are not allowed"),
    ("manifest duplicate keys", _manifest_text("schema: 1\nschema: 1\n"), 2, "duplicate key 'schema'"),
    ("manifest digest", _corrupt_remote_object, 1, "model.onnx: sha256 mismatch"),
    # selectors
    ("unknown alias", lambda w: ["show", f"{GOOD}@nightly"], 2, "has no alias 'nightly'"),
    ("bad selector", lambda w: ["show", f"{GOOD}@V2!"], 2, "version selector 'V2!'"),
    ("unknown digest", lambda w: ["show", f"{GOOD}@sha256:deadbeef"], 2, "matches no version"),
    ("missing version", lambda w: ["pull", f"{GOOD}@v9", "--dest", str(w.tmp / "dest")], 2, "does not exist"),
    # remotes
    ("unknown protocol", _remote_config("ftp2://host/x"), 1, "protocol 'ftp2' is not supported"),
    ("unreachable S3", _unreachable_s3, 1, "cannot reach the endpoint"),
]


def _snapshot(w: World) -> tuple[object, ...]:
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and ".git" not in p.parts and "tmp" not in p.parts} if root.exists() else {}

    head = subprocess.run(["git", "-C", str(w.zoo.root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    return files(w.zoo.store.root), files(w.remote), head, sorted(
        p.relative_to(w.zoo.root).as_posix() for p in (w.zoo.root / "manifests").rglob("*"))


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(("name", "make", "code", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input(cli, zoo: Zoo, model_dir: Path, remote_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                       monkeypatch: pytest.MonkeyPatch, name: str, make: Callable[[World], list[str]],
                       code: int, fragment: str) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    pristine = tmp_path / "pristine"
    shutil.copytree(model_dir, pristine)
    zoo.publish(pristine, GOOD)
    world = World(zoo, model_dir, remote_dir, tmp_path)
    args = make(world)
    before = _snapshot(world)
    result = cli("--zoo", zoo.root, *args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Hint: ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert _snapshot(world)[:3] == before[:3] or name in ("manifest digest",)
    assert not (tmp_path / "dest" / "model.onnx").exists()
