"""``diff``: pure, across versions and across stubs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import STUB
from tests.review.helpers import set_metric
from zoo_repo import Zoo
from zoo_repo.core.card import Metric
from zoo_repo.core.manifest import FileEntry, Manifest
from zoo_repo.core.stub import parse_stub
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.review.diff import MetricChange, diff, diff_dict, format_metric_change, render_diff_text


def _entry(path: str, role: str, size: int, tag: str) -> FileEntry:
    return FileEntry(path, role, size, tag * 64, tag * 32)


def _manifest(stub: str, version: int, files: tuple[FileEntry, ...], metrics: tuple[Metric, ...]) -> Manifest:
    return Manifest(parse_stub(stub), version, "2024-01-01T00:00:00Z", "P <p@example.com>", files, "0" * 32,
                    version - 1 or None, metrics=metrics)


def test_diff_of_hand_made_manifests() -> None:
    a = _manifest(STUB, 1, (
        _entry("model.md", "card", 100, "a"), _entry("model.onnx", "onnx", 1000, "b"),
        _entry("recipes/old.md", "recipes", 50, "c"), _entry("sample-inputs/x.npy", "sample-inputs", 10, "d"),
    ), (Metric("top1 accuracy", 76.1, "%", "imagenet", "validation"), Metric("latency", 12, "ms")))
    b = _manifest(STUB, 2, (
        _entry("model.md", "card", 120, "e"), _entry("model.onnx", "onnx", 900, "f"),
        _entry("recipes/new.md", "recipes", 70, "1"), _entry("sample-inputs/x.npy", "sample-inputs", 10, "d"),
    ), (Metric("top1 accuracy", 75.3, "%", "imagenet", "validation"),
        Metric("top1 accuracy", 80.0, "%", "imagenet", "train")))
    d = diff(a, b)
    assert (d.a, d.b) == (f"{STUB}@v1", f"{STUB}@v2")
    assert d.fields == ()
    assert [f.path for f in d.added] == ["recipes/new.md"]
    assert [f.path for f in d.removed] == ["recipes/old.md"]
    assert [(c.path, c.size_delta) for c in d.changed] == [("model.md", 20), ("model.onnx", -100)]
    assert d.unchanged == 1
    assert d.size_delta == 1100 - 1160
    assert [(m.name, m.split, m.before, m.after, m.delta) for m in d.metrics] == [
        ("top1 accuracy", "validation", 76.1, 75.3, -0.8),
        ("top1 accuracy", "train", None, 80.0, None),
        ("latency", None, 12.0, None, None),
    ]
    text = render_diff_text(d)
    assert text.splitlines()[:3] == [
        f"{STUB}@v1 → {STUB}@v2",
        "  files: 1 added, 1 removed, 2 changed, 1 unchanged",
        "  size: 1.1 KiB → 1.1 KiB (−60 B)",
    ]
    assert "  + recipes/new.md (recipes, 70 B)" in text
    assert "  - recipes/old.md (recipes, 50 B)" in text
    assert f"  ~ model.onnx (onnx): 1000 B → 900 B, sha256:{'b' * 12}… → sha256:{'f' * 12}…" in text
    assert "    top1 accuracy 76.1% → 75.3% (−0.8) [imagenet, validation]" in text
    assert "    top1 accuracy 80% (new) [imagenet, train]" in text
    assert "    latency 12 ms → (dropped)" in text


def test_metric_change_formats() -> None:
    up = MetricChange("mAP@0.5", "coco", None, None, 40.0, 42.7)
    assert format_metric_change(up) == "mAP@0.5 40 → 42.7 (+2.7) [coco]"
    same = MetricChange("f1", None, None, None, 88.5, 88.5)
    assert format_metric_change(same) == "f1 88.5 → 88.5 (±0)"


def test_diff_across_versions(zoo: Zoo, model_dir: Path) -> None:
    set_metric(model_dir, 76.1)
    zoo.publish(model_dir, STUB)
    (model_dir / "recipes" / "extra.md").write_text("---\nmodifiers: []\n---\n# another recipe\n")
    set_metric(model_dir, 75.3)
    zoo.publish(model_dir, STUB)
    d = diff(zoo.manifest(STUB, 1), zoo.manifest(STUB, 2))
    assert [f.path for f in d.added] == ["recipes/extra.md"] and d.removed == ()
    assert [c.path for c in d.changed] == ["model.md"]
    assert d.unchanged == len(zoo.manifest(STUB, 1).files) - 1
    assert d.size_delta == zoo.manifest(STUB, 2).size - zoo.manifest(STUB, 1).size
    assert d.metrics[0].delta == -0.8
    data = json.loads(json.dumps(diff_dict(d)))
    assert data["added"][0]["path"] == "recipes/extra.md" and data["metrics"][0]["delta"] == -0.8


def test_diff_across_stubs(zoo: Zoo, model_dir: Path, built_models: dict[str, Path], tmp_path: Path) -> None:
    zoo.publish(model_dir, STUB)
    pruned = tmp_path / "pruned"
    shutil.copytree(built_models["pruned"], pruned)
    zoo.publish(pruned, STUB_PRUNED)
    base, sparse = zoo.manifest(STUB, 1), zoo.manifest(STUB_PRUNED, 1)
    d = diff(base, sparse)
    assert d.fields == (("sparse_name", "base", "pruned"), ("sparse_category", "none", "moderate"))
    changed = {c.path for c in d.changed}
    assert {"model.onnx", "model.md", "numpy/model.npy"} <= changed
    assert "sample-inputs/inp-0000.npy" not in changed  # same inputs for both models
    assert d.unchanged + len(changed) == len(base.files)
    assert "  field sparse_name: base → pruned" in render_diff_text(d)
    assert diff_dict(d)["fields"]["sparse_category"] == {"a": "none", "b": "moderate"}
