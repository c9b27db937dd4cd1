"""Sample values for the core tests (and the catalog's spec table): a detection
stub, a card for it, and a manifest of one of its versions."""

from __future__ import annotations

from zoo_repo import parse_card, parse_stub
from zoo_repo.core.manifest import FileEntry, Manifest

STUB = parse_stub("cv/detection/yolo_v3-spp/pytorch/ultralytics/coco/pruned-aggressive")
CARD = """---
domain: cv
architecture: yolo_v3
metrics:
  - {name: mAP@0.5, value: 62.1, dataset: coco, split: validation}
  - {name: latency, value: 3, unit: ms}
license: apache-2.0
tags: [detection]
---
# YOLO
"""


def sample_manifest() -> Manifest:
    files = (
        FileEntry("model.onnx", "onnx", 10, "a" * 64, "b" * 32),
        FileEntry("model.md", "card", 5, "c" * 64, "d" * 32),
    )
    card = parse_card(CARD)
    return Manifest(STUB, 2, "2026-01-02T03:04:05Z", "P <p@x>", files, "e" * 32, parent=1,
                    card={"license": "apache-2.0"}, metrics=card.metrics)
