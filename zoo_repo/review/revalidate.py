"""``zoo check --deep``: validation run again on a version's real bytes, compared with what its manifest records.

The static ``validation`` rule only asks whether a record is one publish
could write; a pull request can still claim a sample run whose bytes would
not match. Here the ONNX checker runs on the remote's model.onnx, and when
the manifest records a sample run, the sample inputs go through onnxruntime
with the recorded tolerances (``model.validate``: the code publish runs). A
record the bytes do not bear out is a ``validation`` problem naming the field.

The bytes come the way ``zoo fetch`` brings them: into the checkout's store,
verified against the manifest's digests (``remote.transfer``), then copied
out of the store into a private folder under ``.zoo/``, so the ONNX model
finds its external data beside it as it did at publish.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.core.manifest import INTERFACE_KEYS, MANIFEST_NAME, FileEntry, Manifest
from zoo_repo.core.publishing import NO_SAMPLES
from zoo_repo.core.validation import RUN_KEYS
from zoo_repo.errors import ModelDirError, ZooError
from zoo_repo.model import layout, validate
from zoo_repo.review.rules import MANIFESTS, Problem
from zoo_repo.store.atomic import clear_stale_temps, temp_name
from zoo_repo.store.digest import Digest

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace

# What validation reads: the graph, its external data (an "other" file beside
# it), and the samples to run.
_ROLES = ("onnx", "other", "sample-inputs", "sample-outputs")


def revalidate(zoo: Workspace, manifests: Sequence[Manifest], problems: list[Problem], jobs: int = 8) -> int:
    """Re-run the validation of each of ``manifests``; returns how many were re-run.

    A version the remote rules already refused (an object missing, short or
    corrupt) is not re-run: its bytes are not the ones its manifest names, and
    the check fails already.
    """
    refused = {p.path for p in problems if p.rule.startswith("remote-")}
    done = 0
    for m in manifests:
        where = f"{MANIFESTS}/{m.stub.path}/{m.version_name}/{MANIFEST_NAME}"
        if where in refused:
            continue
        try:
            found = _revalidate(zoo, m, jobs)
        except ZooError as exc:  # a fetch that fails: the claim cannot be borne out
            found = [f"could not be re-run on the remote's bytes: {exc.message}"]
        problems.extend(Problem(where, "validation", message) for message in found)
        done += 1
    return done


def _revalidate(zoo: Workspace, m: Manifest, jobs: int) -> list[str]:
    files = m.by_role(*_ROLES)
    if not any(f.path == layout.ONNX_NAME for f in files):
        return [f"the manifest lists no {layout.ONNX_NAME}, so nothing was validated"]
    with zoo.store.lock(shared=True):  # gc must not take the objects between fetch and copy
        _fetch(zoo, m, files, jobs)
        with _private_copy(zoo, files) as folder:
            return _judge(m, folder)


def _fetch(zoo: Workspace, m: Manifest, files: Sequence[FileEntry], jobs: int) -> None:
    """Bring ``files`` into the store, verified, as ``zoo fetch`` does (by the version's pack locator)."""
    from zoo_repo.remote import meta, transfer

    wanted: dict[str, tuple[Digest | None, str]] = {}
    for f in files:
        digest = Digest(f.sha256, f.md5, f.size)
        if f.md5 not in wanted and not zoo.store.verified(f.md5, digest):
            wanted[f.md5] = (digest, f"{m.stub}@{m.version_name}:{f.path}")
    if wanted:
        remote = zoo.remote()
        transfer.receive(zoo.store, remote, wanted, meta.read_locator(remote, str(m.stub), m.version), jobs=jobs)


@contextlib.contextmanager
def _private_copy(zoo: Workspace, files: Sequence[FileEntry]) -> Iterator[Path]:
    """``files`` laid out as the model directory was, from the store (checked as they are copied); removed after."""
    parent = Path(zoo.root) / ".zoo"
    parent.mkdir(parents=True, exist_ok=True)
    clear_stale_temps(parent)
    folder = temp_name(parent / "revalidate")
    folder.mkdir(mode=0o700)
    try:
        mode = "reflink" if zoo.store.can_reflink(folder) else "copy"
        for f in files:
            zoo.store.materialise(f.md5, folder / f.path, mode, Digest(f.sha256, f.md5, f.size), f.path)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _judge(m: Manifest, folder: Path) -> list[str]:
    """What the bytes in ``folder`` say against what ``m`` records."""
    onnx_path = folder / layout.ONNX_NAME
    try:
        interface = validate.inspect_onnx(onnx_path)
    except ModelDirError as exc:
        return [f"{layout.ONNX_NAME} fails the ONNX checker on the remote's bytes: {exc.problem}"]
    out = []
    if m.onnx:  # the interface publish recorded after the checker passed, and the facts it measured
        # Facts a version published before they were measured are absent, not wrong.
        for key in sorted(set(m.onnx) | set(INTERFACE_KEYS)):
            if m.onnx.get(key) != interface.get(key):
                out.append(f"onnx.{key} is {m.onnx.get(key)!r} in the manifest, "
                           f"{interface.get(key)!r} in {layout.ONNX_NAME}")
    record = m.validation
    try:
        inputs, outputs = (validate.sample_blobs([(f.path, folder / f.path) for f in m.by_role(role)])
                           for role in ("sample-inputs", "sample-outputs"))
    except ModelDirError as exc:
        return [*out, f"the samples do not read as publish reads them: {exc.message}"]
    if record.get("outputs_match") is True:
        out += _rerun(record, onnx_path, inputs, outputs, interface)
    elif "not_compared" in record and inputs:
        try:  # the inputs ran at publish: they must still run
            validate.run_samples(onnx_path, inputs, [], interface, 0.0, 0.0)
        except ModelDirError as exc:
            out.append(f"validation says the sample inputs ran, but they do not when re-run: {exc.message}")
    elif record.get("skipped") == NO_SAMPLES and inputs and outputs:
        out.append(f"validation.skipped is {NO_SAMPLES!r} in the manifest, but the version holds "
                   f"{len(inputs)} sample-inputs and {len(outputs)} sample-outputs")
    return out


def _rerun(record: dict[str, Any], onnx_path: Path, inputs: list[validate.Sample],
           outputs: list[validate.Sample], interface: dict[str, Any]) -> list[str]:
    """The recorded sample run, again, with the recorded tolerances."""
    rtol, atol = record.get("rtol"), record.get("atol")
    if not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in (rtol, atol)):
        return []  # no tolerances to run with: the static rule reports the record
    assert isinstance(rtol, (int, float)) and isinstance(atol, (int, float))
    try:
        got = validate.run_samples(onnx_path, inputs, outputs, interface, float(rtol), float(atol))
    except ModelDirError as exc:
        return [f"validation.outputs_match is true in the manifest, but the samples do not match "
                f"when re-run: {exc.message}"]
    return [f"validation.{key} is {record.get(key)!r} in the manifest, {got[key]!r} when re-run"
            for key in RUN_KEYS if record.get(key) != got[key]]
