"""Properties of the parsers of untrusted text: stubs, manifests, lockfiles and
the remote's index. Whatever the text, they return a value or raise one of the
package's own errors (never a KeyError, TypeError, RecursionError…); and a
valid document survives render → parse unchanged."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo_repo.core import yamltext
from zoo_repo.core.lockfile import Lock, Pin, parse_lock
from zoo_repo.core.manifest import FileEntry, Manifest, manifest_from_doc, parse_manifest
from zoo_repo.core.packs import parse_locator
from zoo_repo.core.paths import find_problem
from zoo_repo.core.projection import Move, Projection, apply, parse_move, parse_view, render_move, render_view
from zoo_repo.core.stub import (
    KNOWN_SPARSE_CATEGORIES,
    KNOWN_SPARSE_NAME_BASES,
    KNOWN_SPARSE_TARGETS,
    Ref,
    parse_ref,
    parse_stub,
)
from zoo_repo.errors import ZooError

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
word = st.text(_ALPHABET, min_size=1, max_size=10)
# The sparse tag's vocabularies are open: the spec's values, or any lowercase token.
token = st.text(_ALPHABET[:-1], min_size=1, max_size=1).flatmap(
    lambda head: st.text(_ALPHABET, max_size=8).map(lambda tail: head + tail))
digests = st.binary(max_size=8).map(lambda b: "sha256:" + hashlib.sha256(b).hexdigest())


@st.composite
def stub_texts(draw: st.DrawFn) -> str:
    def joined(*parts: str | None) -> str:
        return "-".join(p for p in parts if p)

    arch = joined(draw(word), draw(st.none() | word))
    data = joined(draw(word), draw(st.none() | word))
    name = draw(st.sampled_from(KNOWN_SPARSE_NAME_BASES) | token)
    category = draw(st.sampled_from(KNOWN_SPARSE_CATEGORIES) | token)
    tag = joined(name, category, draw(st.none() | st.sampled_from(KNOWN_SPARSE_TARGETS) | token))
    return "/".join([draw(word), draw(word), arch, draw(word), draw(word), data, tag])


def _only_zoo_errors(parse: Any, text: Any) -> None:
    try:
        parse(text)
    except ZooError:
        pass


@FAST
@given(st.text(max_size=300))
def test_the_stub_parser_raises_only_zoo_errors(text: str) -> None:
    _only_zoo_errors(parse_stub, text)
    _only_zoo_errors(parse_ref, text)
    _only_zoo_errors(parse_ref, "cv/a/b/c/d/e/base-none?" + text)  # the query's parser too


@FAST
@given(stub_texts())
def test_a_valid_stub_round_trips(text: str) -> None:
    stub = parse_stub(text)
    assert str(stub) == text and parse_stub(str(stub)) == stub


@FAST
@given(stub_texts(), st.lists(st.tuples(st.integers(0, 60), st.sampled_from("a.-_/A@?9 é")), max_size=3))
def test_the_stub_parser_s_quick_path_accepts_exactly_what_its_checks_do(text: str,
                                                                         edits: list[tuple[int, str]]) -> None:
    import re

    from zoo_repo.core import stub as stub_module

    for at, char in edits:  # near-valid texts: where a quick test and the long way could part
        text = text[:at] + char + text[at + 1:]

    def outcome() -> object:
        try:
            return parse_stub(text)
        except ZooError as exc:
            return type(exc)

    quick = outcome()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(stub_module, "_VALID", re.compile(r"(?!)"))  # every text the long way
        assert outcome() == quick


recipe_names = st.text(_ALPHABET + "ABCXYZ.-", max_size=12).map(lambda t: "r" + t)


@FAST
@given(stub_texts(), st.sampled_from(("latest", "v3", "stable", "sha256:1f2e3d4c")),
       st.none() | recipe_names, st.booleans())
def test_a_valid_ref_round_trips(text: str, selector: str, recipe: str | None, by_type: bool) -> None:
    query = {} if recipe is None else {"recipe_type" if by_type else "recipe": recipe}
    ref = Ref(parse_stub(text), selector, **query)
    assert parse_ref(str(ref)) == ref and parse_ref("zoo:" + str(ref)) == ref


@FAST
@given(st.text(max_size=500))
def test_the_manifest_parser_raises_only_zoo_errors(text: str) -> None:
    _only_zoo_errors(parse_manifest, text)
    _only_zoo_errors(parse_manifest, "schema: 1\n" + text)


# A file name component: printable text, slashes and control characters aside.
component = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/\\"),
                    min_size=1, max_size=12).filter(lambda c: c not in (".", "..") and not c[1:2] == ":")


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    paths = draw(st.lists(st.lists(component, min_size=1, max_size=3).map("/".join), max_size=8, unique=True))
    if find_problem(paths) is not None:  # collisions are the parser's to refuse, not to round-trip
        paths = []
    files = tuple(FileEntry(p, draw(st.sampled_from(("other", "framework", "card"))), len(p),
                            hashlib.sha256(p.encode()).hexdigest(), hashlib.md5(p.encode()).hexdigest())
                  for p in sorted(paths))
    stub = parse_stub(draw(stub_texts()))
    version = draw(st.integers(1, 10**6))
    text = st.text(st.characters(codec="utf-8"), max_size=40)
    return Manifest(stub=stub, version=version, created=draw(text), publisher=draw(text), files=files,
                    tree_md5=hashlib.md5(b"tree").hexdigest(),
                    parent=draw(st.none() | st.integers(1, version - 1)) if version > 1 else None,
                    message=draw(st.none() | text), card={"license": draw(text)})


@FAST
@given(manifests())
def test_a_valid_manifest_round_trips(manifest: Manifest) -> None:
    assert parse_manifest(manifest.to_text()) == manifest


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@FAST
@given(manifests(), st.data())
def test_a_manifest_with_any_field_replaced_parses_or_is_refused(manifest: Manifest, data: st.DataObject) -> None:
    doc = yamltext.load(manifest.to_text())
    target = doc
    if doc["files"] and data.draw(st.booleans()):
        target = doc["files"][data.draw(st.integers(0, len(doc["files"]) - 1))]
    key = data.draw(st.sampled_from(sorted(target)) | st.text(max_size=8))
    target[key] = data.draw(json_values)
    _only_zoo_errors(manifest_from_doc, doc)
    _only_zoo_errors(parse_manifest, json.dumps(doc))


@FAST
@given(st.text(max_size=500))
def test_the_lockfile_parser_raises_only_zoo_errors(text: str) -> None:
    _only_zoo_errors(parse_lock, text)
    _only_zoo_errors(parse_lock, "schema: 1\nmodels:\n" + text)


pins = st.builds(Pin, stub=stub_texts(), selector=st.sampled_from(("latest", "stable", "v3")),
                 version=st.integers(1, 10**6), digest=digests)


@FAST
@given(st.none() | st.sampled_from(("s3://models/zoo", "/srv/zoo", "https://h/zoo")),
       st.lists(pins, max_size=5, unique_by=lambda p: p.stub),
       st.dictionaries(st.sampled_from(("endpointurl", "region", "read_timeout")), st.text(
           st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=10), max_size=3))
def test_a_valid_lockfile_round_trips(remote: str | None, pinned: list[Pin], options: dict[str, str]) -> None:
    lock = Lock(remote, tuple(sorted(pinned, key=lambda p: p.stub)), options)
    assert parse_lock(lock.to_text()) == lock


@FAST
@given(st.text(max_size=300) | json_values.map(json.dumps))
def test_the_projection_parsers_raise_only_zoo_errors(text: str) -> None:
    for parse in (parse_view, parse_move):
        _only_zoo_errors(lambda t, parse=parse: parse(t, "zoo/index.json"), text)
        _only_zoo_errors(lambda t, parse=parse: parse(t, "zoo/index.json"), '{"schema": 1, "stubs": ' + text + "}")
        move = '{"schema": 1, "seq": 1, "commit": "c", "branch": "main", "added": {}, "aliases": '
        _only_zoo_errors(lambda t, parse=parse: parse(t, "x"), move + text + "}")


@FAST
@given(st.dictionaries(stub_texts(), st.dictionaries(st.integers(1, 999).map(lambda n: f"v{n}"),
                                                     digests,
                                                     min_size=1, max_size=3), max_size=4))
def test_a_valid_projection_round_trips_and_applies(index: dict[str, dict[str, str]]) -> None:
    aliases = {stub: {"stable": int(min(vs, key=len)[1:])} for stub, vs in index.items()}
    move = Move(1, "c0ffee", "main", index, aliases)
    assert parse_move(render_move(move), "m") == move
    view = apply(Projection(), move)
    assert parse_view(render_view(view), "v") == view
    assert view.versions == index and view.seq == 1 and view.commit == "c0ffee"


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000])
def test_json_nested_past_the_parser_s_depth_is_refused_as_zoo_errors(text: str) -> None:
    # Too deep for hypothesis to find: json's recursion limit, not a value error.
    _only_zoo_errors(lambda t: parse_view(t, "zoo/index.json"), text)
    assert parse_locator(text) == {}  # a locator is only an accelerator: ignored
