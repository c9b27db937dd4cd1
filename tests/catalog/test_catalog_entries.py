"""What catalog.json says of each version besides its manifest: aliases, validation, the pull command. Pure."""

from __future__ import annotations

import dataclasses
import json
import shlex
from typing import Any

import pytest

from tests.catalog.test_catalog_index import SAMPLE, A, B, manifest
from zoo_repo.catalog.index import catalog_index, pull_command, render_json, validation_status
from zoo_repo.catalog.page import render_html

ONNX = {"ir_version": 8, "opset": 13, "inputs": [], "outputs": []}
RUN = {"samples": 3, "rtol": 0.001, "atol": 1e-05, "outputs_match": True}


def _entries(**kwargs: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["stub"], e["version"]): e for e in catalog_index(SAMPLE, **kwargs)["models"]}


def test_each_version_lists_the_names_it_answers_to() -> None:
    entries = _entries(aliases={A: {"stable": 2, "prod": 2, "old": 1}, B: {}})
    assert entries[(A, "v1")]["aliases"] == ["old"]
    assert entries[(A, "v2")]["aliases"] == ["prod", "stable"]
    assert entries[(A, "v10")]["aliases"] == ["latest"]
    assert entries[(B, "v1")]["aliases"] == ["latest"]
    # An alias on the latest version comes after "latest".
    assert _entries(aliases={A: {"stable": 10}})[(A, "v10")]["aliases"] == ["latest", "stable"]


def test_each_version_names_who_approved_it_as_the_builder_verified() -> None:
    entries = _entries(approved_by={(A, 2): ["alice", "carol"]})
    assert entries[(A, "v2")]["approved_by"] == ["alice", "carol"]
    assert entries[(A, "v1")]["approved_by"] == [] and _entries()[(B, "v1")]["approved_by"] == []


def test_a_version_checked_and_run_is_validated() -> None:
    m = dataclasses.replace(manifest(A, 1), onnx=ONNX, validation=RUN)
    assert validation_status(m) == {
        "status": "validated", "checker": True, "opset": 13, "outputs_match": True, "samples": 3,
        "rtol": 0.001, "atol": 1e-05, "skipped": None, "display": "samples ran and matched (rtol 0.001, atol 1e-05)",
    }


def test_a_skipped_run_and_a_missing_record_say_so() -> None:
    skipped = dataclasses.replace(manifest(A, 1), onnx=ONNX, validation={"skipped": "--no-run"})
    status = validation_status(skipped)
    assert (status["status"], status["checker"], status["outputs_match"], status["skipped"]) == \
        ("checked", True, False, "--no-run")
    assert status["display"] == "not run (--no-run)"
    bare = validation_status(manifest(A, 1))
    assert (bare["status"], bare["checker"], bare["display"]) == ("none", False, "not validated")
    assert catalog_index([manifest(A, 1)])["models"][0]["validation"] == bare


@pytest.mark.parametrize("run", [
    {"outputs_match": "yes", "samples": True, "rtol": "0.1", "atol": float("nan"), "skipped": 3},
    {"outputs_match": 1, "samples": 2.5, "rtol": None, "atol": [1]},
])
def test_a_manifest_whose_record_has_other_types_counts_as_not_recorded(run: dict[str, Any]) -> None:
    status = validation_status(dataclasses.replace(manifest(A, 1), onnx={"opset": "13"}, validation=run))
    assert status["status"] == "checked" and status["outputs_match"] is False
    assert [status[k] for k in ("opset", "samples", "rtol", "atol", "skipped")] == [None] * 5
    json.dumps(status, allow_nan=False)  # always JSON


def test_in_a_checkout_the_pull_command_is_plain() -> None:
    index = catalog_index(SAMPLE)
    assert index["remote"] is None
    assert [e["pull"] for e in index["models"]] == [f"zoo pull {A}@v1", f"zoo pull {A}@v2", f"zoo pull {A}@v10",
                                                    f"zoo pull {B}@v1"]


def test_for_a_remote_the_pull_command_names_it_and_where_it_is() -> None:
    index = catalog_index(SAMPLE, remote="s3://models/zoo",
                          remote_options={"endpointurl": "http://127.0.0.1:8333", "region": "eu-1",
                                          "secret_access_key": "s3cr3t", "credentialpath": "/home/p/.aws"})
    assert index["remote"] == "s3://models/zoo"
    assert index["models"][2]["pull"] == (f"zoo pull {A}@v10 --remote s3://models/zoo"
                                          " -o endpointurl=http://127.0.0.1:8333 -o region=eu-1")
    assert "s3cr3t" not in render_json(index) and "/home/p" not in render_json(index)


@pytest.mark.parametrize("url", ["file:///srv/my zoo", "s3://b/zoo'; rm -rf ~ #", "https://h/z?a=1&b=$HOME"])
def test_the_pull_command_is_quoted_for_the_shell(url: str) -> None:
    command = catalog_index([manifest(A, 1)], remote=url)["models"][0]["pull"]
    assert shlex.split(command) == ["zoo", "pull", f"{A}@v1", "--remote", url]
    assert pull_command(f"{A}@v1", url, {"endpointurl": "http://h:1/a b"}).endswith("-o 'endpointurl=http://h:1/a b'")


def test_a_password_in_the_remote_url_is_not_published() -> None:
    index = catalog_index(SAMPLE, remote="https://reader:hunter2@zoo.example/models",
                          remote_options={"endpointurl": "https://k:v@s3.example"})
    assert index["remote"] == "https://zoo.example/models"
    assert index["models"][0]["pull"].endswith("--remote https://zoo.example/models -o endpointurl=https://s3.example")
    assert "hunter2" not in render_html(index)
