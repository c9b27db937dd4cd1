"""The statement a version's signature vouches for: what model_signing computes, and the binding."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib

from tests.core.conftest import STUB, sample_manifest
from zoo_repo.core import signing
from zoo_repo.core.manifest import FileEntry, Manifest, digest_of

# Names whose text order and path order differ: '-' and '.' sort before '/'.
TRICKY = ("a-b", "a.txt", "a/b", "a/b-c", "a/b/c", "A", "z", "sub/x.onnx")


def tricky_manifest() -> Manifest:
    files = tuple(FileEntry(p, "other", i, hashlib.sha256(p.encode()).hexdigest(), f"{i:032x}")
                  for i, p in enumerate(TRICKY))
    return dataclasses.replace(sample_manifest(), files=files)


def test_resources_and_root_digest_are_model_signings() -> None:
    """Against model_signing's own Payload, fed the same digests (no files: its
    manifest classes take them as values)."""
    from google.protobuf import json_format
    from model_signing import manifest as ms_manifest
    from model_signing._hashing import hashing
    from model_signing._signing import signing as ms_signing

    m = tricky_manifest()
    items = [ms_manifest.FileManifestItem(path=pathlib.PurePosixPath(f.path),
                                          digest=hashing.Digest("sha256", bytes.fromhex(f.sha256)))
             for f in m.files]
    serialization = ms_manifest._FileSerialization("sha256", False, list(signing.IGNORE_PATHS))
    theirs = json.loads(json_format.MessageToJson(
        ms_signing.Payload(ms_manifest.Manifest("dir", items, serialization)).statement.pb))
    ours = signing.statement_for(m, digest_of(m.to_text()))
    assert ours["predicate"]["resources"] == theirs["predicate"]["resources"]
    assert ours["subject"][0]["digest"] == theirs["subject"][0]["digest"]
    assert ours["predicate"]["serialization"] == theirs["predicate"]["serialization"]
    assert [r["name"] for r in ours["predicate"]["resources"]][:4] == ["A", "a/b", "a/b/c", "a/b-c"]


def test_the_binding_names_stub_version_and_manifest() -> None:
    m = sample_manifest()
    digest = digest_of(m.to_text())
    doc = signing.statement_for(m, digest)
    assert doc["subject"][0]["name"] == f"{STUB}@v2"
    assert doc["predicate"]["zoo"] == {"type": signing.BINDING_TYPE, "stub": str(STUB), "version": "v2",
                                       "manifest": digest, "role": "publisher"}
    assert signing.check_statement(doc, m, digest) == []
    assert signing.is_bound(doc)


def test_a_statement_without_binding_vouches_for_the_file_set() -> None:
    m = sample_manifest()
    doc = signing.statement_for(m, digest_of(m.to_text()))
    del doc["predicate"]["zoo"]
    assert signing.check_statement(doc, m, "sha256:" + "0" * 64) == []
    assert not signing.is_bound(doc)


def test_every_problem_names_its_field() -> None:
    m = sample_manifest()
    digest = digest_of(m.to_text())
    doc = signing.statement_for(m, digest)
    doc["_type"] = "x"
    doc["subject"][0]["digest"]["sha256"] = "0" * 64
    doc["predicate"]["serialization"]["method"] = "shards"
    doc["predicate"]["zoo"]["stub"] = "other/stub"
    problems = signing.check_statement(doc, m, digest)
    assert [p.split(":")[0] for p in problems] == ["_type", "predicate.serialization.method",
                                                   "subject[0].digest.sha256", "predicate.zoo.stub"]


def test_any_shape_is_a_problem_not_an_exception() -> None:
    m = sample_manifest()
    digest = digest_of(m.to_text())
    for junk in (None, [], "x", {}, {"predicate": []}, {"predicate": {"resources": [1]}},
                 {"predicate": {"resources": [{"name": "a", "algorithm": "md5", "digest": "x"}]}},
                 {"predicate": {"resources": [], "zoo": 3}, "subject": "s"}):
        assert signing.check_statement(junk, m, digest)


def test_a_resource_listed_twice_is_refused() -> None:
    m = sample_manifest()
    digest = digest_of(m.to_text())
    doc = signing.statement_for(m, digest)
    doc["predicate"]["resources"].append(doc["predicate"]["resources"][0])
    assert signing.check_statement(doc, m, digest) == [
        "predicate.resources[2] (model.md): listed twice"]
