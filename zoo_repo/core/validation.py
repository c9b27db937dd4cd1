"""A manifest's ``validation`` record: what it says, and whether publish could have written it. Pure.

Publish writes exactly one of three records (``core.publishing.skipped_run``,
``model.validate.run_samples``)::

    {samples: N, rtol: R, atol: A, outputs_match: true}    the samples ran and matched
    {skipped: --no-run}                                    the run was skipped on request
    {skipped: no sample-inputs and sample-outputs to compare}
    {samples: N, not_compared: no sample-outputs}          the inputs ran; nothing to compare

and, beside any of them, the model's interface under ``onnx`` (recorded only
after the ONNX checker passed). An empty record claims nothing: "not validated".

``describe`` says a record in one line, the same words wherever people read
it (``zoo show``, ``zoo review``, the catalog). ``record_problems`` lists what
makes a record one publish could not have written beside the manifest's files;
``zoo check`` reports each under the ``validation`` rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from zoo_repo.core.manifest import Manifest
from zoo_repo.core.publishing import NO_SAMPLES, NOT_COMPARED, SKIPPED_ON_REQUEST

# The files of a sample role that hold samples: .npy/.npz/.pb (a serialized
# onnx.TensorProto) on their own, or members of a .tar.gz (``model.validate.sample_blobs``).
SAMPLE_SUFFIXES = (".npy", ".npz", ".pb")
SAMPLE_ARCHIVE = ".tar.gz"
# The ONNX Model Zoo's layout: test_data_set_N/input_K.pb and output_K.pb at the
# model's top level, one sample per folder, K the position of the graph's input/output.
TEST_SET = re.compile(r"(test_data_set_\d+)/(?:(input|output)_(\d+)\.pb)?")
RUN_KEYS = ("samples", "rtol", "atol", "outputs_match")
INPUTS_ONLY_KEYS = ("samples", "not_compared")
SKIP_REASONS = (SKIPPED_ON_REQUEST, NO_SAMPLES)


def sample_unit(relpath: str) -> str | None:
    """The sample a file of a sample role belongs to: its test_data_set_N folder, or
    the file itself (.npy/.npz/.pb); None for a file that is no sample format."""
    test_set = TEST_SET.match(relpath)
    if test_set:
        return test_set.group(1) if test_set.end() == len(relpath) and test_set.group(2) else None
    return relpath if relpath.endswith(SAMPLE_SUFFIXES) else None


def _number(value: Any) -> float | None:
    # bool is an int to Python; a NaN or infinity is no tolerance.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def describe(validation: Mapping[str, Any]) -> str:
    """The record in one line: ``samples ran and matched (rtol 0.001, atol 1e-05)``,
    ``samples skipped: <reason>``, ``not run (--no-run)`` or ``not validated``."""
    if validation.get("outputs_match") is True:
        rtol, atol = _number(validation.get("rtol")), _number(validation.get("atol"))
        tolerances = f" (rtol {rtol:g}, atol {atol:g})" if rtol is not None and atol is not None else ""
        return "samples ran and matched" + tolerances
    if validation.get("not_compared") == NOT_COMPARED:
        samples = validation.get("samples")
        return f"ran {samples} samples; outputs not compared: {NOT_COMPARED}"
    skipped = validation.get("skipped")
    if skipped == SKIPPED_ON_REQUEST:
        return f"not run ({SKIPPED_ON_REQUEST})"
    if isinstance(skipped, str) and skipped:
        return f"samples skipped: {skipped}"
    return "not validated"


def sample_count(manifest: Manifest, role: str) -> tuple[int, bool]:
    """How many samples ``role``'s files hold, as far as the manifest tells: the
    loose .npy/.npz/.pb files and test_data_set_N folders, and whether a .tar.gz may hold more."""
    files = manifest.by_role(role)
    loose = len({unit for f in files if (unit := sample_unit(f.path)) is not None})
    return loose, any(f.path.endswith(SAMPLE_ARCHIVE) for f in files)


def record_problems(manifest: Manifest) -> list[str]:
    """Why ``manifest.validation`` is not a record publish writes beside these files (empty: it is)."""
    record = manifest.validation
    if not record:
        return []
    out = []
    if not manifest.onnx:
        out.append("validation is recorded but onnx is not: publish records the interface whenever it validates")
    inputs, inputs_packed = sample_count(manifest, "sample-inputs")
    outputs, outputs_packed = sample_count(manifest, "sample-outputs")
    if "skipped" in record:
        skipped = record["skipped"]
        if set(record) != {"skipped"}:
            extra = ", ".join(sorted(str(k) for k in record if k != "skipped"))
            out.append(f"validation.skipped is {skipped!r} beside {extra}: a skipped run records only its reason")
        if skipped not in SKIP_REASONS:
            out.append(f"validation.skipped is {skipped!r}; publish records only "
                       + " or ".join(repr(r) for r in SKIP_REASONS))
        elif skipped == NO_SAMPLES and inputs and outputs:
            out.append(f"validation.skipped is {skipped!r} but the manifest lists {inputs} sample-inputs "
                       f"and {outputs} sample-outputs, which publish runs")
        return out
    if "not_compared" in record:
        return out + _inputs_only_problems(record, inputs, inputs_packed, bool(outputs or outputs_packed))
    if "outputs_match" not in record:
        keys = ", ".join(sorted(str(k) for k in record))
        return [*out, f"validation has {keys}; publish records either samples, rtol, atol and "
                      "outputs_match, or skipped"]
    if record["outputs_match"] is not True:
        out.append(f"validation.outputs_match is {record['outputs_match']!r}: publish refuses samples "
                   "that do not match, so it only ever records true")
    missing = [k for k in RUN_KEYS if k not in record]
    unknown = sorted(str(k) for k in record if k not in RUN_KEYS)
    wrong = ([f"lacks {', '.join(missing)}"] if missing else []) + ([f"has {', '.join(unknown)}"] if unknown else [])
    if wrong:
        out.append(f"validation {'; '.join(wrong)}: a sample run records samples, rtol, atol and outputs_match")
    for key in ("rtol", "atol"):
        if key in record and _number(record[key]) is None:
            out.append(f"validation.{key} is {record[key]!r}; a tolerance is a finite number")
    samples = _samples(record, out)
    for role, loose, packed in (("sample-inputs", inputs, inputs_packed), ("sample-outputs", outputs, outputs_packed)):
        out += _count_problems("outputs_match is true", samples, role, loose, packed)
    return out


def _samples(record: Mapping[str, Any], out: list[str]) -> int | None:
    samples = record.get("samples")
    if "samples" in record and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        out.append(f"validation.samples is {samples!r}; a sample run compares one sample or more")
        return None
    return samples if isinstance(samples, int) else None


def _count_problems(claim: str, samples: int | None, role: str, loose: int, packed: bool) -> list[str]:
    if not loose and not packed:
        return [f"validation.{claim} but the manifest lists no {role} to run"]
    if samples is not None and (loose > samples or (not packed and loose != samples)):
        return [f"validation.samples is {samples} but the manifest lists {loose} {role}"]
    return []


def _inputs_only_problems(record: Mapping[str, Any], inputs: int, packed: bool, has_outputs: bool) -> list[str]:
    """A run of inputs with no outputs to compare: publish writes it only when there are none."""
    out = []
    if set(record) != set(INPUTS_ONLY_KEYS):
        keys = ", ".join(sorted(str(k) for k in record))
        out.append(f"validation has {keys}; a run without outputs records only samples and not_compared")
    if record["not_compared"] != NOT_COMPARED:
        out.append(f"validation.not_compared is {record['not_compared']!r}; publish records only {NOT_COMPARED!r}")
    if has_outputs:
        out.append("validation.not_compared is set but the manifest lists sample-outputs, which publish compares")
    samples = _samples(record, out)
    return out + _count_problems("not_compared is set", samples, "sample-inputs", inputs, packed)
