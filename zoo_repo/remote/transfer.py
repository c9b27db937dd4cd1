"""Moving a set of objects between the store and a remote, packs included.

``send`` uploads objects loose (DVC's layout, for every reader) and packs the
small ones; ``receive`` fetches what a version's locator places in packs by
coalesced ranged GETs and the rest loose. Every object is verified against
its digests before it gets its name in the store.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from zoo_repo.core import packs
from zoo_repo.core.manifest import Manifest
from zoo_repo.core.progress import Progress, advance, at
from zoo_repo.errors import ZooError
from zoo_repo.remote.base import CopyOut, Remote
from zoo_repo.remote.early import EarlyUploads
from zoo_repo.store.atomic import temp_name
from zoo_repo.store.digest import Digest
from zoo_repo.store.objects import Store

PACK_JOBS = 2  # packs sent at once, beside the loose uploads
Wanted = Mapping[str, tuple[Digest | None, str]]  # oid → (expected digest, label)


@dataclass(frozen=True)
class Sent:
    objects: int
    bytes: int
    slots: packs.Locator  # where this push packed the small objects


def send(store: Store, remote: Remote, oids: Iterable[str], jobs: int,
         progress: Progress | None = None, early: EarlyUploads | None = None) -> Sent:
    """Upload ``oids`` loose, and pack the small ones; returns where they were packed.
    Those ``early`` has sent are waited for, not sent again (but packed)."""
    oids = sorted(oids)
    for oid in oids:
        if not store.verified(oid, None):  # never hand a remote bytes other than the object's name
            store.check(oid)  # raises IntegrityError, naming the object and the repair
    sizes = {oid: store.path(oid).stat().st_size for oid in oids}
    if progress is not None:
        progress.start("uploading", len(oids), sum(sizes.values()))
    slots: packs.Locator = {}
    if not remote.packs:
        return Sent(len(oids), _loose(store, remote, oids, jobs, progress, early), slots)
    groups = [group for group in packs.plan_packs(sizes) if len(group) >= 2]  # a pack of one saves nothing
    # Packs go up while the loose copies do: both are round trips to the same
    # server, and the loose ones alone leave it idle between small requests.
    with ThreadPoolExecutor(max_workers=PACK_JOBS) as pool:
        pending = [pool.submit(_send_pack, store, remote, group) for group in groups]
        try:
            nbytes = _loose(store, remote, oids, jobs, progress, early)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        for future in pending:
            slots.update(future.result())
    return Sent(len(oids), nbytes, slots)


def _loose(store: Store, remote: Remote, oids: list[str], jobs: int, progress: Progress | None,
           early: EarlyUploads | None) -> int:
    """The loose uploads: the early ones finished first, so that no more than one
    batch of uploads is ever in flight, then the rest."""
    done = early.wait() if early is not None else {}
    sent = [oid for oid in oids if oid in done]
    advance(progress, len(sent), sum(done[oid] for oid in sent))
    return sum(done[oid] for oid in sent) + remote.upload_many(
        store, [oid for oid in oids if oid not in done], jobs=jobs, progress=progress)


def _send_pack(store: Store, remote: Remote, group: list[str]) -> packs.Locator:
    store.root.joinpath("tmp").mkdir(parents=True, exist_ok=True)
    tmp = temp_name(store.root / "tmp" / "pack")
    try:
        with open(tmp, "xb") as out:
            pack_id, offsets = packs.write_pack(out, group, lambda oid: store.path(oid).read_bytes())
        remote.put_file(str(tmp), f"packs/{pack_id}.pack")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    slots = {oid: packs.Slot(pack_id, off, size) for oid, (off, size) in offsets.items()}
    remote.put_text(f"packs/{pack_id}.idx", packs.render_locator(slots))
    return slots


def version_locator(remote: Remote, manifest: Manifest, new_slots: packs.Locator) -> packs.Locator:
    """This version's objects in packs: those just packed, and those its parent located."""
    from zoo_repo.remote.meta import version_key

    located: packs.Locator = {}
    if manifest.parent:
        text = remote.get_text(version_key(str(manifest.stub), manifest.parent, packs.LOCATOR_NAME))
        located.update(packs.parse_locator(text or ""))
    located.update(new_slots)
    mine = {f.md5 for f in manifest.files}
    return {oid: slot for oid, slot in located.items() if oid in mine}


def all_slots(remote: Remote) -> packs.Locator:
    """Every packed object on the remote, from the packs' own indexes (for re-syncs)."""
    located: packs.Locator = {}
    for rel in remote.find("packs"):
        if rel.endswith(".idx"):
            located.update(packs.parse_locator(remote.get_text(rel) or ""))
    return located


def receive(store: Store, remote: Remote, wanted: Wanted, locator: packs.Locator, jobs: int,
            progress: Progress | None = None, copy_out: CopyOut | None = None) -> tuple[int, int]:
    """Fetch ``wanted`` into the store: packed objects by ranges, the rest loose.

    With ``copy_out``, objects are also written out as they arrive (see
    ``CopyOut``): a pull that copies them anyway need not read them back.
    """
    if progress is not None:
        progress.start("downloading", len(wanted), sum(e.size for e, _ in wanted.values() if e is not None))
    spans, loose = packs.plan_spans(wanted, locator)
    if not remote.packs:
        spans, loose = [], set(wanted)

    def fetch_span(span: packs.Span) -> tuple[int, list[str]]:
        """Returns bytes fetched and the members to fetch loose instead (a bad pack)."""
        try:
            at(progress, wanted[span.members[0][0]][1])
            source = f"remote {remote.url} (pack {span.pack[:12]})"

            def place(i: int, chunk: memoryview) -> None:
                oid = span.members[i][0]
                expect, label = wanted[oid]
                store.put_bytes(oid, chunk, expect, label, source=source)
                if copy_out is not None:
                    copy_out.write(oid, chunk)

            nbytes = remote.read_parts(f"packs/{span.pack}.pack", [(offset, size) for _, offset, size in span.members],
                                       span.end, place)
        except ZooError:
            # Packs are an accelerator: every object is also stored loose.
            return 0, [oid for oid, _, _ in span.members if not store.verified(oid, wanted[oid][0])]
        advance(progress, len(span.members), nbytes)
        return nbytes, []

    total = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for nbytes, failed in pool.map(fetch_span, spans):
            total += nbytes
            loose.update(failed)
    total += remote.download_many(store, {oid: wanted[oid] for oid in loose}, jobs=jobs, progress=progress,
                                  copy_out=copy_out)
    return len(wanted), total
