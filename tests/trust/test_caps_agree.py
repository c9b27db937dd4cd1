"""What publish accepts, every reader accepts: the size caps of readers are never
below what publish allows a manifest to be (else a published stub becomes unreadable)."""

from __future__ import annotations

from zoo_repo.core.manifest import MAX_MANIFEST_BYTES
from zoo_repo.model.readfile import TEXT_LIMIT, text_limit
from zoo_repo.remote.base import meta_limit


def test_a_manifest_may_be_as_large_as_publish_allows_for_every_reader() -> None:
    key = "zoo/manifests/cv/classification/a/pytorch/sparseml/imagenet/base/v1/manifest.yaml"
    assert meta_limit(key) >= MAX_MANIFEST_BYTES  # remotes (git-less readers)
    assert text_limit("manifest.yaml") >= MAX_MANIFEST_BYTES  # checkouts, caches, review


def test_other_text_files_keep_the_small_cap() -> None:
    assert text_limit("model.md") == text_limit("aliases.yaml") == TEXT_LIMIT < MAX_MANIFEST_BYTES
    assert meta_limit("zoo/manifests/x/v1/model.md") == TEXT_LIMIT
