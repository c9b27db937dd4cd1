"""Packs: many small objects moved in a few requests, each keeping its own address.

As git does with packfiles, a push bundles the small objects the remote lacks
(only those) into packs, ``<remote>/packs/<sha256>.pack``, each with an index
``…/<sha256>.idx``. Every object is also uploaded loose, in DVC's layout, so
``dvc pull`` and every other reader keep working; packs are an accelerator
for zoo's own pulls, never the only copy.

A version's *locator* (``zoo/manifests/<stub>/vN/objects.json`` on the
remote) says which pack holds each of its small objects, at which offset. A
publish writes it from the packs it made plus its parent version's locator,
so v2 that changes one file uploads one small pack and still locates all the
rest. Whatever a locator does not cover is fetched loose.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

# Objects below this size go into packs; bigger ones gain nothing from it.
SMALL = 1 << 20
# A pack is closed once it reaches this size: big enough that a pull needs
# few requests, small enough that a push never holds much of it at once.
PACK_TARGET = 16 << 20
# When pulling, ranges closer than this are fetched as one request.
COALESCE_GAP = 256 << 10
# One ranged GET covers at most this much: a pull holds one span per job in
# memory (8 × 4 MiB), and a 16 MiB pack still comes in four requests at once.
READ_SPAN = 4 << 20
MAX_SPAN = 16 << 20  # no real span is larger: a crafted locator's is refused
LOCATOR_NAME = "objects.json"


@dataclass(frozen=True, order=True)
class Slot:
    """Where an object lives inside a pack."""

    pack: str
    offset: int
    size: int


Locator = dict[str, Slot]  # oid → slot


def plan_packs(sizes: Mapping[str, int]) -> list[list[str]]:
    """Group small objects (sorted, for stable packs) into packs of about PACK_TARGET bytes."""
    packs: list[list[str]] = []
    current: list[str] = []
    total = 0
    for oid in sorted(o for o, size in sizes.items() if size < SMALL and not o.endswith(".dir")):
        if current and total + sizes[oid] > PACK_TARGET:
            packs.append(current)
            current, total = [], 0
        current.append(oid)
        total += sizes[oid]
    if current:
        packs.append(current)
    return packs


def write_pack(out: BinaryIO, oids: Iterable[str],
               read: Callable[[str], bytes]) -> tuple[str, dict[str, tuple[int, int]]]:
    """Concatenate objects into ``out``; returns the pack's id (its sha256) and the offsets."""
    digest = hashlib.sha256()
    offsets: dict[str, tuple[int, int]] = {}
    position = 0
    for oid in oids:
        data = read(oid)
        out.write(data)
        digest.update(data)
        offsets[oid] = (position, len(data))
        position += len(data)
    return digest.hexdigest(), offsets


def render_locator(locator: Locator) -> str:
    doc = {oid: [slot.pack, slot.offset, slot.size] for oid, slot in sorted(locator.items())}
    return json.dumps({"schema": 1, "objects": doc}, separators=(",", ":")) + "\n"


def parse_locator(text: str) -> Locator:
    """A locator's objects; anything malformed is ignored (those objects come loose)."""
    try:
        doc = json.loads(text)
        raw = doc["objects"] if doc.get("schema") == 1 else {}
    except (ValueError, RecursionError, AttributeError, KeyError, TypeError):
        return {}
    out: Locator = {}
    for oid, slot in raw.items():
        if (isinstance(slot, list) and len(slot) == 3 and isinstance(slot[0], str)
                and all(isinstance(x, int) and x >= 0 for x in slot[1:])):
            out[oid] = Slot(slot[0], slot[1], slot[2])
    return out


@dataclass(frozen=True)
class Span:
    """One ranged GET: a stretch of a pack covering several wanted objects."""

    pack: str
    start: int
    end: int  # exclusive
    members: tuple[tuple[str, int, int], ...]  # (oid, offset in pack, size)


def plan_spans(wanted: Iterable[str], locator: Locator) -> tuple[list[Span], set[str]]:
    """Coalesce the located objects into ranged GETs; also return those not located."""
    by_pack: dict[str, list[tuple[str, Slot]]] = {}
    loose: set[str] = set()
    for oid in wanted:
        slot = locator.get(oid)
        if slot is None:
            loose.add(oid)
        else:
            by_pack.setdefault(slot.pack, []).append((oid, slot))
    spans: list[Span] = []
    for pack, items in sorted(by_pack.items()):
        items.sort(key=lambda item: item[1].offset)
        members: list[tuple[str, int, int]] = []
        start = end = -1
        for oid, slot in items:
            if members and (slot.offset - end > COALESCE_GAP or slot.offset + slot.size - start > READ_SPAN):
                spans.append(Span(pack, start, end, tuple(members)))
                members = []
            if not members:
                start = slot.offset
            members.append((oid, slot.offset, slot.size))
            end = max(end, slot.offset + slot.size)
        if members:
            spans.append(Span(pack, start, end, tuple(members)))
    return spans, loose
