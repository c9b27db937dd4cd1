"""A small published zoo for the catalog tests: four models, five versions, one hostile card.

STUB_BASE@v1 is also ``stable``; STUB_YOLO was published without running its samples.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from zoo_repo import Zoo
from zoo_repo.catalog.files import build_catalog
from zoo_repo.ops.demo import STUB_BASE, STUB_PRUNED

STUB_YOLO = "cv/detection/yolo_v3-spp/pytorch/ultralytics/coco/pruned-aggressive"
STUB_BERT = "nlp/question_answering/bert-base_uncased/pytorch/huggingface/squad/pruned_quant-moderate"
HOSTILE = "</script><img src=x onerror=alert(1)>"
HOSTILE_BODY = """\
# BERT <script>alert(2)</script>

<img src=x onerror=alert(3)> is text here, and so is <b>this</b>.

[run me](javascript:alert(4)) and [the docs](https://example.com/bert)
"""


@dataclass(frozen=True)
class Spec:
    """One version to publish: which built model it copies, and the card it gets."""

    stub: str
    source: str
    description: str
    tags: tuple[str, ...]
    metric: tuple[str, float, str | None]
    body: str
    run: bool = True  # run the sample inputs at publish


SPECS = (
    Spec(STUB_BASE, "base", "Two-layer perceptron, dense baseline.", ("demo", "classification"),
         ("top1 accuracy", 91.5, "%"), "# MLP baseline\n\nThe first fit.\n"),
    Spec(STUB_BASE, "base", "Two-layer perceptron, dense baseline, refit.", ("demo", "classification"),
         ("top1 accuracy", 92.5, "%"),
         "# MLP baseline\n\nRefit with **more** data and _less_ noise.\n\n"
         "## Training\n\n- random ReLU features\n- ridge regression for `w2`\n\n"
         "| split | top1 |\n| --- | --- |\n| validation | 92.5 |\n"),
    Spec(STUB_PRUNED, "pruned", "Two-layer perceptron with half of w1 pruned.", ("demo", "sparse"),
         ("top1 accuracy", 90.1, "%"), "# MLP pruned\n\nHalf of the first layer is zero.\n"),
    Spec(STUB_YOLO, "base", "YOLOv3-SPP object detector, pruned aggressively.", ("detection",),
         ("mAP@0.5", 40.2, None), "# YOLOv3\n\nA detector.\n", run=False),
    Spec(STUB_BERT, "base", HOSTILE, ("qa", "squad"), ("f1", 88.5, None), HOSTILE_BODY),
)


def card_text(spec: Spec) -> str:
    """A model.md without stub fields (they are optional), so one model directory serves any stub."""
    name, value, unit = spec.metric
    metric = f"{{name: {json.dumps(name)}, value: {value}, split: validation"
    metric += f", unit: {json.dumps(unit)}}}" if unit else "}"
    return (
        "---\nlicense: apache-2.0\n"
        f"description: {json.dumps(spec.description)}\n"
        f"tags: {json.dumps(list(spec.tags))}\n"
        f"metrics:\n  - {metric}\n---\n{spec.body}"
    )


@dataclass(frozen=True)
class Site:
    zoo: Zoo
    out: Path
    written: list[Path]

    @property
    def html(self) -> Path:
        return self.out / "catalog" / "index.html"


@pytest.fixture
def published(zoo: Zoo, built_models: dict[str, Path], tmp_path: Path) -> Zoo:
    """``zoo`` with every version in SPECS published, in order, and STUB_BASE@v1 tagged ``stable``."""
    for i, spec in enumerate(SPECS):
        model = tmp_path / f"model-{i}"
        shutil.copytree(built_models[spec.source], model)
        (model / "model.md").write_text(card_text(spec), encoding="utf-8")
        zoo.publish(model, spec.stub, run=spec.run)
    zoo.tag(f"{STUB_BASE}@v1", "stable")
    return zoo


@pytest.fixture
def site(published: Zoo, tmp_path: Path) -> Site:
    """The catalog of ``published``, built into a fresh directory."""
    out = tmp_path / "site"
    return Site(published, out, build_catalog(published, out))
