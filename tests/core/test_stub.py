from __future__ import annotations

from pathlib import Path

import pytest

from zoo_repo import StubError, parse_ref, parse_stub
from zoo_repo.core.stub import FIELDS

DATA = Path(__file__).parent.parent / "data" / "spec_stubs.tsv"


def _rows() -> list[dict[str, str | None]]:
    lines = DATA.read_text().splitlines()
    header = lines[0].split("\t")
    return [
        {k: (None if v == "-" else v) for k, v in zip(header, line.split("\t"), strict=True)} for line in lines[1:]
    ]


ROWS = _rows()


def test_the_spec_table_is_all_there() -> None:
    assert len(ROWS) >= 64 + 2


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["stub"])
def test_spec_stubs_parse_to_their_fields_and_round_trip(row: dict[str, str | None]) -> None:
    stub = parse_stub(row["stub"])
    assert stub.fields() == {k: row[k] for k in FIELDS}
    assert str(stub) == row["stub"]
    assert parse_stub("zoo:" + row["stub"]) == stub


def test_optional_parts_split_at_the_first_hyphen() -> None:
    stub = parse_stub("cv/classification/resnet_v1-101_2x/pytorch/sparseml/imagenet-augmented/"
                      "pruned_quant-moderate-deepsparse")
    assert (stub.architecture, stub.sub_architecture) == ("resnet_v1", "101_2x")
    assert (stub.dataset, stub.training_scheme) == ("imagenet", "augmented")
    assert (stub.sparse_name, stub.sparse_category, stub.sparse_target) == ("pruned_quant", "moderate", "deepsparse")


def test_selectors() -> None:
    base = "cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/base-none"
    assert parse_ref(base).selector == "latest"
    assert parse_ref(base).version is None
    assert parse_ref(f"zoo:{base}@v12").version == 12
    assert parse_ref(f"{base}@latest").selector == "latest"


GOOD = "cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/pruned-moderate"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "has 1 components; expected 7"),
        ("cv/classification/resnet_v1-50/pytorch/sparseml/imagenet", "has 6 components; expected 7"),
        (GOOD + "/extra", "has 8 components"),
        ("cv//resnet_v1-50/pytorch/sparseml/imagenet/base-none", "component 2 (sub_domain) is empty"),
        ("Cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/base-none", "component 1 (domain) 'Cv' has 'C'"),
        ("cv/classification/resnet v1/pytorch/sparseml/imagenet/base-none", "has ' '"),
        ("cv/classification/resnet_v1-50-2/pytorch/sparseml/imagenet/base-none",
         "(architecture) 'resnet_v1-50-2' has 2 '-'"),
        ("cv/classification/resnet_v1-/pytorch/sparseml/imagenet/base-none", "empty part around '-'"),
        ("cv/classi-fication/resnet_v1/pytorch/sparseml/imagenet/base-none",
         "(sub_domain) 'classi-fication' has 1 '-'; expected no '-'"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/base", "expected SPARSE_NAME-SPARSE_CATEGORY"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/base-none-gpu-x", "has 3 '-'"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/_pruned-none",
         "sparse_name '_pruned' must be a lowercase token"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/pruned-mod.erate",
         "sparse_category 'mod.erate' must be a lowercase token"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/pruned-none-_vnni",
         "sparse_target '_vnni' must be a lowercase token"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/pruned-None-vnni",
         "(sparse tag) 'pruned-None-vnni' has 'N'"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/pruned--vnni", "empty part around '-'"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/pruned-none?recipe=transfer",
         "has a query (?recipe=…) where none is allowed here"),
        ("cv/classification/resnet_v1/pytorch/sparseml/" + "x" * 90 + "?recipe_type=transfer/base-none",
         "has a query"),
        ("cv/classification/../pytorch/sparseml/imagenet/base-none", "must not start with '.'"),
        ("cv/classification/.hidden/pytorch/sparseml/imagenet/base-none", "must not start with '.'"),
        ("/cv/classification/resnet_v1/pytorch/sparseml/imagenet/base-none", "has 8 components"),
        ("cv/classification/resnet_v1/pytorch/sparseml/imagenet/pruned-moderate/", "has 8 components"),
        ("cv/classification/resnet_v1/pytorch/sparseml/image\\net/base-none", "has '\\\\'"),
        ("cv/classification/résnet/pytorch/sparseml/imagenet/base-none", "has 'é'"),
    ],
)
def test_malformed_stubs_name_the_component(text: str, fragment: str) -> None:
    with pytest.raises(StubError) as info:
        parse_stub(text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"invalid stub {text!r}: ")
    assert fragment in message


@pytest.mark.parametrize("selector", ["v0", "v01", "V1", "1", "Stable", "sha256:abc", "sha256:XYZXYZXYZ", "a b", ""])
def test_bad_selectors(selector: str) -> None:
    with pytest.raises(StubError, match="expected vN"):
        parse_ref(f"{GOOD}@{selector}")


@pytest.mark.parametrize(("selector", "kind"), [
    ("v3", "version"), ("latest", "latest"), ("stable", "alias"), ("prod-eu.2", "alias"),
    ("sha256:1f2e3d4c", "digest"), ("sha256:" + "a" * 64, "digest"),
])
def test_selector_kinds(selector: str, kind: str) -> None:
    assert parse_ref(f"zoo:{GOOD}@{selector}").kind == kind
