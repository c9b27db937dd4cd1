"""The remote's side of ``zoo check``: is every object of the checked versions there, whole?

Rules ``remote-missing``, ``remote-size`` and, when ``deep``, ``remote-digest``.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zoo_repo.core.manifest import MANIFEST_NAME, Manifest
from zoo_repo.repo import dvc
from zoo_repo.review.rules import MANIFESTS, Problem

if TYPE_CHECKING:
    from zoo_repo.remote.base import Remote


@dataclass(frozen=True)
class _Wanted:
    size: int
    algo: str  # which digest names the bytes: sha256 for files, md5 for the listing
    digest: str
    uses: tuple[tuple[str, str], ...]  # (manifest path, label) of every version naming it


def _wanted(manifests: Iterable[Manifest]) -> dict[str, _Wanted]:
    out: dict[str, _Wanted] = {}

    def want(oid: str, size: int, algo: str, digest: str, where: str, label: str) -> None:
        known = out.get(oid)
        uses = (known.uses if known else ()) + ((where, label),)
        out[oid] = _Wanted(size, algo, digest, uses)

    for m in manifests:
        where = f"{MANIFESTS}/{m.stub.path}/{m.version_name}/{MANIFEST_NAME}"
        listing = dvc.tree_bytes((f.path, f.md5) for f in m.files)
        want(f"{m.tree_md5}.dir", len(listing), "md5", m.tree_md5, where, "file list")
        for f in m.files:
            want(f.md5, f.size, "sha256", f.sha256, where, f.path)
    return out


def check_remote(
    remote: Remote, manifests: list[Manifest], deep: bool, problems: list[Problem], jobs: int = 8
) -> int:
    """Sizes of every object; with ``deep``, the digests of those whose size is right.

    Returns how many distinct objects were checked.
    """
    wanted = _wanted(manifests)
    # One listing or one request per object, whichever the remote says is cheaper.
    sizes = remote.inventory(wanted, jobs=jobs)
    place = f"remote {remote.url}"
    found: dict[str, tuple[str, str]] = {}  # oid → (rule, detail)
    for oid, want in wanted.items():
        got = sizes.get(oid)
        if got is None:
            found[oid] = ("remote-missing", f"md5:{oid} is missing from {place}")
        elif got != want.size:
            found[oid] = ("remote-size", f"md5:{oid} on {place} has {got} bytes, expected {want.size}")
    if deep:
        # Only objects of the right size are worth downloading.
        fit = [oid for oid in wanted if oid not in found]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            digests = dict(zip(fit, pool.map(remote.hash_object, fit), strict=True))
        for oid in fit:
            want = wanted[oid]
            digest = getattr(digests[oid], want.algo)
            if digest != want.digest:
                found[oid] = ("remote-digest", (f"md5:{oid} on {place} hashes to {want.algo}:{digest}, "
                                               f"expected {want.algo}:{want.digest}"))
    for oid, (rule, detail) in found.items():
        problems.extend(Problem(where, rule, f"{label}: {detail}") for where, label in wanted[oid].uses)
    return len(wanted)
