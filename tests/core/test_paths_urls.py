"""The name rule book and the URL credential check, as plain values."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from zoo_repo.core.paths import NameProblem, find_problem, path_problem
from zoo_repo.core.urls import check_remote_url, credential_problem, redact
from zoo_repo.errors import UsageError


@pytest.mark.parametrize(("path", "rule"), [
    ("", "must be a non-empty string"), (None, "must be a non-empty string"), ("a\udcff", "is not valid UTF-8"),
    ("a\x00b", "control character"), ("a\x9fb", "control character"), ("a\\b", "backslash"),
    ("/a", "is absolute"), ("c:a", "drive prefix"), ("a//b", "'.' or '..'"), ("a/./b", "'.' or '..'"),
    ("../a", "'.' or '..'"), ("a/", "'.' or '..'"), ("a/..", "'.' or '..'"), ("./a", "'.' or '..'"),
    ("é" * 128, "256 bytes; at most 255"), ("a" * 256, "256 bytes; at most 255"),
    ("a/" + "b" * 256, "256 bytes; at most 255"), ("C:/a", "drive prefix"),
    ("/".join(["a" * 200] * 21), "at most 4,096"),
])
def test_a_path_breaks_its_rule(path: object, rule: str) -> None:
    assert rule in (path_problem(path) or "")


@pytest.mark.parametrize("path", ["model.onnx", "a/b/c.npy", "é/ü.bin", "a b/c:d", "x" * 255, ".hidden", "a..b"])
def test_good_paths_pass(path: str) -> None:
    assert path_problem(path) is None


@pytest.mark.parametrize(("paths", "problem"), [
    (["a", "a"], NameProblem("a", "is listed twice")),
    (["a", "a/b"], NameProblem("a/b", "is inside 'a', which is also a file")),
    (["a/b", "a"], NameProblem("a/b", "is inside 'a', which is also a file")),
    (["A", "a/b"], NameProblem("a/b", "is inside 'A', which is also a file")),
    (["Ab", "aB"], NameProblem("aB", "and 'Ab' differ only in case or Unicode normalisation: "
                                      "they are one file on macOS and Windows")),
])
def test_paths_that_collide(paths: list[str], problem: NameProblem) -> None:
    assert find_problem(paths) == problem


def test_folders_that_differ_in_case_are_not_a_collision() -> None:
    assert find_problem(["A/x", "a/y", "b"]) is None


@pytest.mark.parametrize("url", ["s3://bucket/zoo", "/srv/zoo", "https://host/zoo", "https://user@host/zoo",
                                 "gs://b/z", "azure://c/z", "https://h/z?version=2", "http://[::1"])
def test_urls_without_credentials_pass(url: str) -> None:
    assert credential_problem(url) is None
    check_remote_url(url)


secrets = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=-_", min_size=8, max_size=40)
forms = st.sampled_from(["s3://KEY:{}@bucket/zoo", "https://user:{}@host/zoo", "s3://{}@bucket/zoo",
                         "azure://c/z;AccountName=a;AccountKey={}", "https://a.blob.core.windows.net/c?sv=1&sig={}",
                         "s3://b/z?X-Amz-Signature={}&X-Amz-Credential=x", "https://h/z?token={}"])


@settings(max_examples=200, deadline=None)
@given(forms, secrets)
def test_credentials_in_a_url_are_refused_and_never_shown(form: str, secret: str) -> None:
    url = form.format(secret)
    assert credential_problem(url) is not None
    assert secret not in redact(url)
    with pytest.raises(UsageError) as info:
        check_remote_url(url)
    shown = info.value.message + (info.value.hint or "")
    with pytest.raises(UsageError) as fixed:
        check_remote_url(form.format("Q" * 8))
    # A secret that happens to be a word of the message's own text ("access_k") proves nothing.
    assume(secret not in fixed.value.message + (fixed.value.hint or ""))
    assert secret not in shown
