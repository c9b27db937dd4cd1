"""The ``zoo`` command as a user meets it: exit status, one-line errors, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import STUB, run_zoo
from zoo_repo import Zoo

SPEC_STUB = "cv/classification/resnet_v1-50/pytorch/sparseml/imagenet-augmented/pruned_quant-aggressive"


def test_stub_json_prints_fields_and_canonical_stub(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("stub", f"zoo:{SPEC_STUB}@v3", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data == {
        "domain": "cv", "sub_domain": "classification", "architecture": "resnet_v1",
        "sub_architecture": "50", "framework": "pytorch", "repo": "sparseml", "dataset": "imagenet",
        "training_scheme": "augmented", "sparse_name": "pruned_quant", "sparse_category": "aggressive",
        "sparse_target": None, "stub": SPEC_STUB, "version": "v3",
    }


def test_bad_stub_is_one_line_exit_2_no_traceback(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("stub", "cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/pruned-_medium")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: invalid stub 'cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/pruned-_medium': "
        "sparse_category '_medium' must be a lowercase token: a letter or digit, then letters, digits, '_'"
    ]


def test_the_real_process_hides_tracebacks_unless_debug(tmp_path: Path) -> None:
    plain = run_zoo("show", STUB, cwd=tmp_path)
    assert plain.returncode == 2
    assert plain.stderr.startswith(f"Error: {tmp_path}: not a zoo")
    assert "Traceback" not in plain.stderr
    assert "Hint: create one with `zoo init DIR --remote URL`" in plain.stderr
    debug = run_zoo("--debug", "show", STUB, cwd=tmp_path)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "NotAZooError" in debug.stderr


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from zoo_repo.cli import main\n"
        "try:\n    main(['--help'], prog_name='zoo')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('dvc', 'fsspec', 'onnx', 'onnxruntime', 'numpy', 's3fs') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY []"


def test_init_publish_list_show_versions_pull(cli, model_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, remote = tmp_path / "myzoo", tmp_path / "remote"
    assert cli("init", root, "--remote", remote).exit_code == 0
    assert (root / "zoo.yaml").is_file() and (root / ".dvc" / "config").is_file()
    assert cli("init", root, "--remote", remote).exit_code == 2  # already a zoo

    pub = cli("--zoo", root, "publish", model_dir, "--stub", STUB, "--json")
    assert pub.exit_code == 0, pub.stderr
    data = json.loads(pub.stdout)
    assert data["version"] == "v1" and data["created_version"] is True and data["uploaded_objects"] > 0
    again = cli("--zoo", root, "publish", model_dir, "--stub", STUB)
    assert again.exit_code == 0 and again.stdout.startswith(f"unchanged: {STUB}@v1 already holds this content")

    listing = cli("--zoo", root, "list")
    assert "### Image Classification" in listing.stdout and f"| {STUB} " in listing.stdout
    assert "% top1 accuracy" in listing.stdout
    assert json.loads(cli("--zoo", root, "list", "--json", "--sparse-name", "base").stdout)[0]["stub"] == STUB
    assert json.loads(cli("--zoo", root, "list", "--json", "--dataset", "coco").stdout) == []

    shown = json.loads(cli("--zoo", root, "show", f"zoo:{STUB}@v1", "--json").stdout)
    assert shown["version"] == "v1" and {f["role"] for f in shown["files"]} >= {"card", "onnx", "archive"}
    text = cli("--zoo", root, "show", STUB).stdout
    assert "sample-inputs:" in text and "model.onnx" in text

    versions = json.loads(cli("--zoo", root, "versions", STUB, "--json").stdout)
    assert [v["version"] for v in versions] == ["v1"]

    dest = tmp_path / "out"
    pulled = cli("--zoo", root, "pull", STUB, "--dest", dest, "--include", "onnx", "--include", "card")
    assert pulled.exit_code == 0, pulled.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["model.md", "model.onnx"]
    assert (dest / "model.onnx").read_bytes() == (model_dir / "model.onnx").read_bytes()


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("show", STUB + "@v9"), 2, "does not exist; published versions: v1"),
        (("show", STUB + "@newest"), 2, "has no alias 'newest'"),
        (("show", STUB + "@New"), 2, "version selector 'New'"),
        (("pull", STUB, "--include", "weights"), 2, "--include 'weights' is neither a role"),
        (("versions", STUB.replace("base-none", "pruned-moderate")), 2, "is not published"),
        (("publish", "/nonexistent", "--stub", STUB), 2, "/nonexistent: is not a directory"),
    ],
)
def test_errors_are_one_line_with_the_right_status(cli, zoo: Zoo, model_dir: Path, args, code, fragment) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    result = cli("--zoo", zoo.root, *args)
    assert result.exit_code == code
    assert fragment in result.stderr
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr


def test_a_manifest_that_escapes_the_model_is_refused(cli, zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    path = zoo.version_dir(zoo.resolve(STUB).stub, 1) / "manifest.yaml"
    for bad in ("../x", "/tmp/evil", "a/../../x"):
        path.write_text(path.read_text().replace("path: model.onnx,", f"path: '{bad}',"))
        result = cli("--zoo", zoo.root, "pull", STUB, "--dest", tmp_path / "out")
        assert result.exit_code == 2
        assert f"file path {bad!r}" in result.stderr
        assert not (tmp_path / "out").exists() and not (tmp_path / "x").exists()
        path.write_text(path.read_text().replace(f"path: '{bad}',", "path: model.onnx,"))
    verify = cli("--zoo", zoo.root, "verify")
    assert verify.exit_code == 0 and "ok" in verify.stdout


def test_verify_and_gc_report(cli, zoo: Zoo, model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    extra = model_dir / "extra.bin"
    extra.write_bytes(b"unreferenced")
    oid = zoo.store.add_file(extra).md5
    dry = cli("--zoo", zoo.root, "gc", "--dry-run")
    assert dry.exit_code == 0 and f"would remove md5:{oid}" in dry.stdout
    assert zoo.store.has(oid)
    done = json.loads(cli("--zoo", zoo.root, "gc", "--json").stdout)
    assert done["objects"] == [oid] and not zoo.store.has(oid)

    victim = next(zoo.store.oids())
    zoo.store.path(victim).chmod(0o644)
    zoo.store.path(victim).write_bytes(b"rot")
    bad = cli("--zoo", zoo.root, "verify")
    assert bad.exit_code == 1 and "md5 mismatch" in bad.stderr


def test_remote_unreachable_is_an_environment_failure(cli, zoo: Zoo, model_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zoo.publish(model_dir, STUB)
    theirs = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(zoo.root), str(theirs)], check=True)
    import shutil

    shutil.rmtree(tmp_path / "remote")
    result = cli("--zoo", theirs, "pull", STUB, "--dest", tmp_path / "out")
    assert result.exit_code == 1
    assert "is missing from remote" in result.stderr
    assert not (tmp_path / "out").exists()
