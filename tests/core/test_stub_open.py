"""The sparse tag's open vocabularies and SparseZoo's ``?recipe=`` query: the
stub forms SparseZoo really served parse to deterministic fields and round-trip;
hostile forms are still refused in one line naming the bad part."""

from __future__ import annotations

import pytest

from zoo_repo import StubError, parse_ref, parse_stub
from zoo_repo.core.stub import (
    KNOWN_SPARSE_CATEGORIES,
    KNOWN_SPARSE_NAME_BASES,
    KNOWN_SPARSE_TARGETS,
    Ref,
    unknown_tokens,
)

# Stub forms SparseZoo served (its docs, deepsparse's and sparseml's examples):
# each with the sparse tag's fields it must parse to.
REAL = [
    ("nlp/question_answering/bert-base/pytorch/huggingface/squad/pruned95_quant-none-vnni",
     ("pruned95_quant", "none", "vnni")),
    ("cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned_quant-aggressive_94",
     ("pruned_quant", "aggressive_94", None)),
    ("nlp/question_answering/bert-base/pytorch/huggingface/squad/12layer_pruned80_quant-none-vnni",
     ("12layer_pruned80_quant", "none", "vnni")),
    ("nlp/question_answering/bert-base/pytorch/huggingface/squad/channel20_pruned75_quant-none-vnni",
     ("channel20_pruned75_quant", "none", "vnni")),
    ("cv/detection/yolov5-l/pytorch/ultralytics/coco/pruned_quant-aggressive_95",
     ("pruned_quant", "aggressive_95", None)),
    ("cv/detection/yolo_v3-spp/pytorch/ultralytics/coco/pruned_quant-aggressive_90",
     ("pruned_quant", "aggressive_90", None)),
    ("cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned-aggressive_96", ("pruned", "aggressive_96", None)),
    ("cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned35_quant-none-vnni", ("pruned35_quant", "none", "vnni")),
    ("cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned75_quant-none", ("pruned75_quant", "none", None)),
    ("cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/pruned85_quant-none-vnni",
     ("pruned85_quant", "none", "vnni")),
    ("nlp/token_classification/distilbert-none/pytorch/huggingface/conll2003/pruned80_quant-none-vnni",
     ("pruned80_quant", "none", "vnni")),
    ("nlp/masked_language_modeling/bert-base/pytorch/huggingface/wikipedia_bookcorpus/12layer_pruned80_quant-none-vnni",
     ("12layer_pruned80_quant", "none", "vnni")),
    ("nlp/masked_language_modeling/bert-base/pytorch/huggingface/bookcorpus_wikitext/12layer_pruned80-none",
     ("12layer_pruned80", "none", None)),
    ("nlp/question_answering/obert-large/pytorch/huggingface/squad/pruned95_quant-none-vnni",
     ("pruned95_quant", "none", "vnni")),
    ("nlp/question_answering/mobilebert-none/pytorch/huggingface/squad/14layer_pruned50_quant-none-vnni",
     ("14layer_pruned50_quant", "none", "vnni")),
    ("nlp/question_answering/bert-base/pytorch/huggingface/squad/pruned90-none", ("pruned90", "none", None)),
]


@pytest.mark.parametrize(("text", "tag"), REAL, ids=[t for t, _ in REAL])
def test_real_sparsezoo_stubs_parse_to_their_tokens_and_round_trip(text: str, tag: tuple[str, ...]) -> None:
    stub = parse_stub(text)
    assert (stub.sparse_name, stub.sparse_category, stub.sparse_target) == tag
    assert str(stub) == text
    assert parse_stub("zoo:" + text) == stub == parse_stub(str(stub))


def test_the_spec_values_are_exported_as_known() -> None:
    assert "aggressive" in KNOWN_SPARSE_CATEGORIES and "deepsparse" in KNOWN_SPARSE_TARGETS
    assert "pruned_quant" in KNOWN_SPARSE_NAME_BASES


@pytest.mark.parametrize(("tag", "unknown"), [
    ("pruned_quant-moderate-deepsparse", []),
    ("pruned_quant-aggressive_94", []),
    ("12layer_pruned80_quant-none", []),
    ("channel20_pruned75_quant-none", []),
    ("base-none", []),
    ("pruned95_quant-none-vnni", [("sparse_target", "vnni")]),
    ("prunned-none", [("sparse_name", "prunned")]),
    ("sparse-medium-tpu", [("sparse_name", "sparse"), ("sparse_category", "medium"), ("sparse_target", "tpu")]),
    ("pruned-aggressive_x", [("sparse_category", "aggressive_x")]),
])
def test_unknown_tokens_lists_the_fields_outside_the_spec(tag: str, unknown: list[tuple[str, str]]) -> None:
    assert unknown_tokens(parse_stub(f"cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/{tag}")) == unknown


YOLO = "cv/detection/yolov5-s/pytorch/ultralytics/coco/pruned_quant-aggressive_94"


@pytest.mark.parametrize(("text", "selector", "recipe", "recipe_type"), [
    (f"{YOLO}?recipe=transfer", "latest", "transfer", None),
    (f"zoo:{YOLO}?recipe_type=transfer", "latest", None, "transfer"),
    (f"{YOLO}@v2?recipe=transfer", "v2", "transfer", None),
    (f"zoo:{YOLO}@stable?recipe_type=transfer-SQuAD", "stable", None, "transfer-SQuAD"),
    (f"{YOLO}@sha256:1f2e3d4c?recipe=transfer_learn", "sha256:1f2e3d4c", "transfer_learn", None),
    (YOLO, "latest", None, None),
])
def test_the_recipe_query(text: str, selector: str, recipe: str | None, recipe_type: str | None) -> None:
    ref = parse_ref(text)
    assert (ref.selector, ref.recipe, ref.recipe_type) == (selector, recipe, recipe_type)
    assert ref == Ref(parse_stub(YOLO), selector, recipe, recipe_type)
    assert parse_ref(str(ref)) == ref


def test_a_ref_without_a_query_prints_as_before() -> None:
    assert str(parse_ref(YOLO)) == f"{YOLO}@latest"


LONG = "a" * 50 + "B" + "a" * 40  # 91 characters: the bad one past any 40-character cut


@pytest.mark.parametrize(("text", "fragment"), [
    (f"{YOLO}?recipe=a&recipe=b", "query key 'recipe' is given twice"),
    (f"{YOLO}?recipe=a&recipe_type=b", "query key 'recipe_type' is one too many"),
    (f"{YOLO}?revision=main", "query key 'revision' is unknown; expected recipe or recipe_type"),
    (f"{YOLO}?", "query '' is malformed; expected recipe=NAME"),
    (f"{YOLO}?recipe", "query 'recipe' is malformed"),
    (f"{YOLO}?recipe=", "recipe '' is not a recipe name"),
    (f"{YOLO}?recipe=../x", "recipe '../x' is not a recipe name"),
    (f"{YOLO}?recipe=a/b", "recipe 'a/b' is not a recipe name"),
    (f"{YOLO}?recipe=x@v2", "recipe 'x@v2' is not a recipe name"),
    (f"{YOLO}?recipe=a?b", "recipe 'a?b' is not a recipe name"),
    (f"{YOLO}?recipe={'r' * 101}", "is not a recipe name"),
    (f"{YOLO}@V2?recipe=transfer", "version selector 'V2'"),
    (YOLO.upper(), "component 1 (domain) 'CV' has 'C'"),
    (YOLO.replace("pruned_quant-", "pruned_quant--"), "empty part around '-'"),
    (YOLO.replace("coco", ".."), "component 6 (dataset) '..' must not start with '.'"),
    (YOLO + "/more", "has 8 components"),
    (YOLO.replace("coco", "c" * 101), "component 6 (dataset) '" + "c" * 100 + "'… is 101 characters long"),
    (YOLO.replace("coco", LONG), f"component 6 (dataset) {LONG!r} has 'B'"),
    (YOLO.replace("pruned_quant", "pruned_Quant"), "'pruned_Quant-aggressive_94' has 'Q'"),
])
def test_hostile_refs_are_refused_in_one_line(text: str, fragment: str) -> None:
    with pytest.raises(StubError) as info:
        parse_ref(text)
    message = str(info.value)
    assert "\n" not in message and len(message) < 1000
    assert fragment in message
