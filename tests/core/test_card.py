"""Model cards: front matter parsed strictly, metrics read, fields checked against the stub."""

from __future__ import annotations

import pytest

from tests.core.conftest import CARD, STUB
from zoo_repo import CardError, parse_card
from zoo_repo.core.card import check_stub_agrees


def test_card_metadata_and_metrics() -> None:
    card = parse_card(CARD)
    assert card.license == "apache-2.0"
    assert card.tags == ["detection"]
    assert [m.name for m in card.metrics] == ["mAP@0.5", "latency"]
    assert card.validation_metric().display() == "62.1 mAP@0.5"
    check_stub_agrees(card, STUB)


def test_card_fields_must_agree_with_the_stub() -> None:
    card = parse_card(CARD.replace("architecture: yolo_v3", "architecture: yolo_v5"))
    with pytest.raises(CardError, match="architecture is 'yolo_v5' in the card but 'yolo_v3'"):
        check_stub_agrees(card, STUB)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("# no front matter\n", "expected YAML front matter"),
        ("---\nlicense: x\n", "not closed"),
        ("---\n- a\n- b\n---\n", "must be a mapping"),
        ("---\nlicense: a\nlicense: b\n---\n", "duplicate key 'license'"),
        ("---\na: &x [1]\nb: *x\n---\n", "aliases are not allowed"),
        ("---\nmetrics: {name: x}\n---\n", "'metrics' must be a list"),
        ("---\nmetrics:\n  - {name: top1, value: high}\n---\n", "metrics[0].value must be a number"),
        ("---\nmetrics:\n  - {value: 1}\n---\n", "metrics[0].name must be a non-empty string"),
        ("---\nmetrics:\n  - {name: a, value: 1, colour: red}\n---\n", "unknown key 'colour'"),
        ("---\nlicense: [1]\n---\n", "'license' must be a string"),
        ("---\nkey: [unclosed\n---\n", "front matter: line"),
    ],
)
def test_bad_cards_are_refused_with_one_line(text: str, fragment: str) -> None:
    with pytest.raises(CardError) as info:
        parse_card(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
