"""A manifest's ``validation`` record: what it says, and whether publish could have written it. Pure.

Publish writes exactly one of three records (``core.publishing.skipped_run``,
``model.validate.run_samples``)::

    {samples: N, rtol: R, atol: A, outputs_match: true}    the samples ran and matched
    {skipped: --no-run}                                    the run was skipped on request
    {skipped: no sample-inputs and sample-outputs to compare}

and, beside any of them, the model's interface under ``onnx`` (recorded only
after the ONNX checker passed). An empty record claims nothing: "not validated".

``describe`` says a record in one line, the same words wherever people read
it (``zoo show``, ``zoo review``, the catalog). ``record_problems`` lists what
makes a record one publish could not have written beside the manifest's files;
``zoo check`` reports each under the ``validation`` rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from zoo_repo.core.manifest import Manifest
from zoo_repo.core.publishing import NO_SAMPLES, SKIPPED_ON_REQUEST

# The files of a sample role that hold samples: .npy/.npz on their own, or
# members of a .tar.gz (``model.validate.sample_blobs``).
SAMPLE_SUFFIXES = (".npy", ".npz")
SAMPLE_ARCHIVE = ".tar.gz"
RUN_KEYS = ("samples", "rtol", "atol", "outputs_match")
SKIP_REASONS = (SKIPPED_ON_REQUEST, NO_SAMPLES)


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
    skipped = validation.get("skipped")
    if skipped == SKIPPED_ON_REQUEST:
        return f"not run ({SKIPPED_ON_REQUEST})"
    if isinstance(skipped, str) and skipped:
        return f"samples skipped: {skipped}"
    return "not validated"


def sample_count(manifest: Manifest, role: str) -> tuple[int, bool]:
    """How many samples ``role``'s files hold, as far as the manifest tells: the
    loose .npy/.npz files, and whether a .tar.gz may hold more."""
    files = manifest.by_role(role)
    loose = sum(1 for f in files if f.path.endswith(SAMPLE_SUFFIXES))
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
    samples = record.get("samples")
    if "samples" in record and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        out.append(f"validation.samples is {samples!r}; a sample run compares one sample or more")
        samples = None
    for role, loose, packed in (("sample-inputs", inputs, inputs_packed), ("sample-outputs", outputs, outputs_packed)):
        if not loose and not packed:
            out.append(f"validation.outputs_match is true but the manifest lists no {role} to run")
        elif isinstance(samples, int) and (loose > samples or (not packed and loose != samples)):
            out.append(f"validation.samples is {samples} but the manifest lists {loose} {role}")
    return out
