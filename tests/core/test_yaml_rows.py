"""``yamltext.load_rows`` reads a manifest's file lines without YAML: whatever the
text, it must answer exactly as ``yamltext.load`` does (the same value, or the
same refusal), or a crafted manifest would mean one thing to a reviewer's YAML
and another to zoo."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo_repo.core import yamltext
from zoo_repo.core.manifest import FILE_FIELDS, FileEntry, load_doc, parse_manifest

from .conftest import sample_manifest

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Plain scalars YAML does not read as strings, or reads as integers it writes otherwise,
# beside ordinary ones: each must be read as YAML reads it, or sent to YAML.
TRICKY = ["null", "Null", "~", "true", "False", "yes", "No", "on", "OFF", "0123", "0o17", "0x1f", "1_000",
          "+12", "-3", "1.5", "1e5", ".inf", "1:20", "0", "42", "2026-12-02", "12345678901234567890",
          "a" * 32, "0" * 64, "9" * 32, "model.onnx", "sample-inputs/inp-0000.npy", "<<", "=", "y", "n"]
value = st.one_of(st.sampled_from(TRICKY), st.text("abc019_./+-xyz", min_size=1, max_size=12))
row = st.tuples(*[value] * len(FILE_FIELDS)).map(
    lambda vs: "- {" + ", ".join(f"{k}: {v}" for k, v in zip(FILE_FIELDS, vs, strict=True)) + "}")
# What may sit around the rows: other keys, a second list of the same name, an
# unclosed quote that swallows them, comments, indentation, document markers.
around = st.sampled_from(["", "schema: 1\n", "files: []\n", "files:\n- {path: x}\n", 'message: "open\n',
                          "message: 'open\n", "# note\n", "  indented: 1\n", "---\n", "...\n", "x: &a 1\ny: *a\n",
                          "message: |\n  text\n", "files: ", 'end"\n', "end'\n", "- {path: a}\n", "\n", "stub: s\n",
                          "[1, 2]\n"])


def _outcome(load: Any, text: str) -> tuple[str, Any]:
    try:
        return "value", load(text)
    except yamltext.YamlProblem as exc:
        return "refused", str(exc)


def _rows(text: str) -> Any:
    return yamltext.load_rows(text, "files", FILE_FIELDS)


@SETTINGS
@given(st.lists(around, max_size=3), st.lists(row, max_size=4), st.lists(around, max_size=3),
       st.sampled_from(["files:\n", "files: \n", "files:\r\n", " files:\n"]), st.booleans())
def test_rows_read_as_yaml_reads_them(before: list[str], rows: list[str], after: list[str], head: str,
                                      newline_last: bool) -> None:
    body = "".join(line + "\n" for line in rows)
    if not newline_last:
        body = body.removesuffix("\n")
    text = "".join(before) + head + body + "".join(after)
    assert _outcome(_rows, text) == _outcome(yamltext.load, text)


@SETTINGS
@given(st.text(max_size=200))
def test_any_text_reads_as_yaml_reads_it(text: str) -> None:
    assert _outcome(_rows, text) == _outcome(yamltext.load, text)


@pytest.fixture
def manifest_text() -> str:
    def entry(i: int) -> FileEntry:
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        return FileEntry(f"sample-originals/img-{i:05d}.bin", "sample-originals", i * 7, digest, digest[:32])

    return replace(sample_manifest(), files=tuple(entry(i) for i in range(500))).to_text()


def test_a_written_manifest_of_many_files_reads_as_yaml_reads_it(manifest_text: str) -> None:
    assert load_doc(manifest_text) == yamltext.load(manifest_text, max_bytes=1 << 24)
    files = parse_manifest(manifest_text).files
    assert len(files) > 100 and all(isinstance(f, FileEntry) for f in files)


def test_the_rows_a_quoted_string_swallows_are_not_files() -> None:
    # YAML reads the lines below as one string (message) and files as []: so must zoo.
    text = 'message: "a\nfiles:\n- {path: evil.onnx, role: onnx, size: 1, sha256: ab, md5: cd}\nend"\nfiles: []\n'
    assert _rows(text) == yamltext.load(text)
    assert _rows(text)["files"] == []


# ``dump`` writes a top-level list of Flow rows itself: its text must be PyYAML's, byte
# for byte (a manifest's digest is of its text), whatever the rows and the rest hold.
cell = st.one_of(st.sampled_from(TRICKY), st.text("abc019_./+-xyz :,#'\"é\n", min_size=0, max_size=12),
                 st.integers(-3, 10**20), st.booleans(), st.none(), st.floats(allow_nan=False))
flow_row = st.dictionaries(st.one_of(st.sampled_from(list(FILE_FIELDS) + ["yes", "on", "a" * 130]),
                                     st.text("ab_:", min_size=1, max_size=4)),
                           cell, max_size=5).map(yamltext.Flow)
rest = st.dictionaries(st.sampled_from(["schema", "stub", "message", "files2", "no", "x"]),
                       st.one_of(cell, st.lists(flow_row, max_size=2), st.just(yamltext._ROWS_MARKER)), max_size=3)


@SETTINGS
@given(rest, st.sampled_from(["files", "sparsity", "yes", "2026-12-02"]), st.lists(flow_row, max_size=4), rest)
def test_rows_are_written_as_yaml_writes_them(before: dict[str, Any], key: str, rows: list[Any],
                                             after: dict[str, Any]) -> None:
    doc = {**before, key: rows, **{k: v for k, v in after.items() if k not in before}}
    assert yamltext.dump(doc) == yamltext._dump(doc)  # _dump: PyYAML alone, the reference


def test_a_manifest_is_written_as_yaml_writes_it() -> None:
    def entry(i: int) -> FileEntry:
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        return FileEntry(f"sample-originals/img-{i:05d}.bin", "sample-originals", i * 7, digest, digest[:32])

    manifest = replace(sample_manifest(), files=tuple(entry(i) for i in range(500)))
    assert manifest.to_text() == yamltext._dump(manifest.to_dict())
