"""The deprecation record and its place in the projection: pure values, plain asserts."""

from __future__ import annotations

import json

import pytest

from tests.conftest import STUB
from zoo_repo import ManifestError, UsageError
from zoo_repo.core.deprecation import Deprecation, make, parse_deprecation, render_deprecation
from zoo_repo.core.projection import Move, Projection, apply, parse_move, parse_view, render_move, render_view
from zoo_repo.ops.demo import STUB_PRUNED


@pytest.mark.parametrize("record", [Deprecation("why"), Deprecation("yes", STUB_PRUNED), Deprecation("null: ü #1")])
def test_the_record_round_trips_as_text(record: Deprecation) -> None:
    text = render_deprecation(STUB, record)
    assert text.startswith("# ") and parse_deprecation(text, STUB) == record


def test_make_takes_what_a_user_typed() -> None:
    assert make(STUB, "  why  ", "zoo:" + STUB_PRUNED) == Deprecation("why", STUB_PRUNED)
    with pytest.raises(UsageError, match="successor is the deprecated stub itself"):
        make(STUB, "why", "zoo:" + STUB)


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "expected 'message: WHY'"),
    ("message: why\nsuccessor: null\nextra: 1\n", "unknown key 'extra'"),
    ("message: 12\n", "message must be a non-empty line"),
    ("message: why\nsuccessor: " + STUB.upper() + "\n", "successor: invalid stub"),
    ("message: a\nmessage: b\n", "duplicate key"),
    ("message: &a why\nsuccessor: *a\n", "does not parse"),
])
def test_anything_else_is_a_manifest_error_naming_the_file(text: str, fragment: str) -> None:
    with pytest.raises(ManifestError, match=fragment) as info:
        parse_deprecation(text, STUB, "manifests/x/deprecated.yaml")
    assert info.value.path == "manifests/x/deprecated.yaml"


def test_moves_add_change_and_remove_deprecations() -> None:
    record = Deprecation("why", STUB_PRUNED)
    first = Move(1, "c1", "main", {STUB: {"v1": "sha256:" + "a" * 64}}, deprecated={STUB: record})
    assert parse_move(render_move(first), "m") == first
    view = apply(Projection(), first)
    assert view.deprecated == {STUB: record}
    assert parse_view(render_view(view), "v") == view
    second = Move(2, "c2", "main", deprecated={STUB: None})
    assert not second.empty and parse_move(render_move(second), "m") == second
    assert apply(view, second).deprecated == {}
    assert json.loads(render_view(apply(view, second)))["deprecated"] == {}


def test_old_files_without_the_key_deprecate_nothing() -> None:
    view = json.loads(render_view(Projection(3, "c3", "main", {STUB: {"v1": "sha256:" + "b" * 64}})))
    del view["deprecated"]
    assert parse_view(json.dumps(view), "v").deprecated == {}
