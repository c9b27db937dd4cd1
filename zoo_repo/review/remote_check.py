"""The remote's side of ``zoo check``: is every object of the checked versions
there, whole, and does the remote list each version as git has it?

Rules ``remote-missing``, ``remote-size``, ``remote-version`` and, when
``deep``, ``remote-digest``.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
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
            want, got_digest = wanted[oid], digests[oid]
            digest = getattr(got_digest, want.algo)
            if digest != want.digest:
                found[oid] = ("remote-digest", (f"md5:{oid} on {place} hashes to {want.algo}:{digest}, "
                                               f"expected {want.algo}:{want.digest}"))
            elif got_digest.md5 != oid.removesuffix(".dir"):
                # The right bytes by sha256 under another md5's name: the manifest pairs
                # digests of two different objects. Pulls check sha256 only, but DVC and
                # the store name objects by md5, so the name must be these bytes' too.
                found[oid] = ("remote-digest", (f"md5:{oid} on {place} hashes to md5:{got_digest.md5}: "
                                               "the manifest pairs its sha256 with another object's md5"))
    for oid, (rule, detail) in found.items():
        problems.extend(Problem(where, rule, f"{label}: {detail}") for where, label in wanted[oid].uses)
    return len(wanted)


def check_listing(root: Path, remote: Remote, manifests: dict[str, Manifest], problems: list[Problem]) -> None:
    """``remote-version``: each checked version is listed on the remote with this
    manifest's digest; one the remote does not list yet is not claimed there by
    other bytes (two branches that each add the same vN), and is not on the
    release branch already (merged, but the `zoo push` after it never ran)."""
    from zoo_repo.core.manifest import digest_of
    from zoo_repo.model.readfile import read_text_bounded, text_limit
    from zoo_repo.remote import meta
    from zoo_repo.repo import git
    from zoo_repo.repo.release import release_of

    view = meta.read_view(remote)
    release = release_of(root)
    # Only the checked manifests: listing all of the release branch costs what the zoo's size costs.
    wanted = [f"{rel}/{MANIFEST_NAME}" for rel in sorted(manifests)]
    released: set[str] = set()
    for i in range(0, len(wanted), 500):  # a bounded command line
        if release.commit:
            out = git.paths_output(root, "ls-tree", "-z", "--name-only", release.commit, "--",
                                   *(f":(literal){path}" for path in wanted[i:i + 500]))
            released.update(p for p in out.split("\0") if p)
    place = f"remote {remote.url}"
    for rel, m in sorted(manifests.items()):
        where = f"{rel}/{MANIFEST_NAME}"
        ours = digest_of(read_text_bounded(str(root / where), text_limit(MANIFEST_NAME), where))
        listed = view.digest(str(m.stub), m.version)
        if listed is not None:
            if listed != ours:
                problems.append(Problem(where, "remote-version", f"{place} lists {m.stub}@{m.version_name} as "
                                        f"{listed}, not this {ours}: another checkout published that number"))
            continue
        theirs = remote.get_text(meta.version_key(str(m.stub), m.version, MANIFEST_NAME))
        if theirs is not None and digest_of(theirs) != ours:
            problems.append(Problem(where, "remote-version", f"{m.stub}@{m.version_name} is claimed on {place} by "
                                    "another checkout's publish: git pull, then publish this as the next version"))
        elif where in released:
            problems.append(Problem(where, "remote-version", f"{place} does not list {m.stub}@{m.version_name}, "
                                    f"though {release.branch} has it: run `zoo push` on {release.branch}"))
