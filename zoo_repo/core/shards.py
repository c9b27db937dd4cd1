"""The projection's view in shards, so a reader of one stub reads one small file. Pure.

    zoo/index/top.json             seq, commit, branch, and each shard's digest (about 25 kB)
    zoo/index/<ab>/<hex>.json      the view's entries of the stubs whose sha256 starts
                                   with <ab> (``projection.shard_of``), named by its own sha256

A shard is named by its digest: created once, never changed, so a reader that
has a top reads shards that cannot change under it, and checks each against
the digest the top gives before using it. Each stub's entry may carry the brief
of its latest version (``core.brief``, under ``latest``: a zoo before briefs
ignores the key and lists from manifests, as it did). A shard listing a stub that does not
hash to it is refused (a crafted remote cannot move a stub's entries to where
the reader of that stub does not look, nor two copies of it). A move rewrites
only the shards of the stubs it touches (and of those touched by any move the
top had not caught up with), then the top. The top may lag the log, like the
single ``zoo/index.json`` it replaces: a reader follows the log past it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from zoo_repo.core import projection
from zoo_repo.core.projection import Projection, shard_of
from zoo_repo.errors import ManifestError

SCHEMA = 2
SHARD_BY = "sha256/2"  # what shard_of computes: a top that says otherwise is from a newer zoo
FANOUT = 256
TOP_LIMIT = 1 << 20  # 256 shard names and digests take ~25 kB
# A shard holds 1/256 of the view: ~40 kB at 100,000 versions, 4 MB at ten million.
SHARD_LIMIT = 16 << 20
_NAME = re.compile(r"[0-9a-f]{2}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Top:
    """The view at ``seq`` as shard → digest of its file (a shard with no entries is absent)."""

    seq: int
    commit: str | None
    branch: str | None
    shards: dict[str, str] = field(default_factory=dict)


def shard_path(name: str, digest: str) -> str:
    """Where a shard's file sits under ``zoo/index/``."""
    return f"{name}/{digest.removeprefix('sha256:')}.json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def render_top(top: Top) -> str:
    doc = {"schema": SCHEMA, "seq": top.seq, "branch": top.branch, "commit": top.commit, "shard_by": SHARD_BY,
           "shards": dict(sorted(top.shards.items()))}
    return json.dumps(doc, indent=1) + "\n"


def parse_top(text: str, where: str) -> Top:
    doc = projection._load(text, where)
    shards = doc.get("shards")
    if doc.get("schema") != SCHEMA or not isinstance(shards, dict):
        raise ManifestError(where, f"expected {{'schema': {SCHEMA}, 'shards': {{…}}}}")
    if doc.get("shard_by") != SHARD_BY:
        raise ManifestError(where, f"shards by {doc.get('shard_by')!r}; this zoo-repo knows only {SHARD_BY!r} "
                            "(a newer zoo-repo wrote it: upgrade)")
    for name, digest in shards.items():
        if not _NAME.fullmatch(str(name)) or not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise ManifestError(where, f"shard {str(name)[:20]!r}: expected two hex digits → sha256:<64 hex>")
    return Top(projection._seq(doc, where, allow_zero=True), projection._opt_str(doc, "commit", where),
               projection._opt_str(doc, "branch", where), dict(shards))


def render_shard(view: Projection, name: str) -> str | None:
    """The shard ``name`` of ``view``, or None when the view has nothing in it.
    Compact and sorted: the same entries always make the same bytes, hence the same name."""
    versions = {s: v for s, v in view.versions.items() if v and shard_of(s) == name}
    aliases = {s: dict(sorted(a.items())) for s, a in view.aliases.items() if a and shard_of(s) == name}
    deprecated = {s: d.to_dict() for s, d in view.deprecated.items() if shard_of(s) == name}
    latest = {s: b.to_doc() for s in sorted(versions) if (b := view.brief_of(s)) is not None}
    if not versions and not aliases and not deprecated:
        return None
    doc = {"schema": SCHEMA, "shard": name, "stubs": projection._sorted_versions(versions),
           "aliases": dict(sorted(aliases.items())), "deprecated": dict(sorted(deprecated.items()))}
    if latest:  # a shard without briefs keeps the bytes (hence the name) it had before them
        doc["latest"] = latest
    return json.dumps(doc, separators=(",", ":")) + "\n"


def parse_shard(text: str, where: str, name: str) -> Projection:
    """Shard ``name``'s entries, as a view that covers that shard alone (seq 0:
    the caller sets the top's). ManifestError for any stub that does not hash to ``name``."""
    doc = projection._load(text, where)
    stubs = doc.get("stubs")
    if doc.get("schema") != SCHEMA or doc.get("shard") != name or not isinstance(stubs, dict):
        raise ManifestError(where, f"expected shard {name!r} (schema {SCHEMA}, stubs)")
    versions = projection._versions(stubs, where)
    aliases = projection._aliases(doc.get("aliases"), where)
    deprecated = {s: d for s, d in projection._deprecated(doc.get("deprecated"), where).items() if d is not None}
    latest = projection._briefs(doc.get("latest"), where, versions, "lists")
    for stub in (*versions, *aliases, *deprecated):
        if shard_of(stub) != name:
            raise ManifestError(where, f"lists {stub[:120]!r}, which belongs in shard {shard_of(stub)}, not {name}")
    return Projection(versions=versions, aliases=aliases, deprecated=deprecated, shards=frozenset({name}),
                      latest=latest)


def merge(top: Top, parts: list[Projection], shards: frozenset[str] | None) -> Projection:
    """One view at the top's seq from shards read from it (``shards``: which ones, None: all)."""
    versions: projection.Versions = {}
    aliases: projection.Aliases = {}
    deprecated: projection.Deprecations = {}
    latest: projection.Briefs = {}
    for part in parts:
        versions.update(part.versions)
        aliases.update(part.aliases)
        deprecated.update(part.deprecated)
        latest.update(part.latest)
    return Projection(top.seq, top.commit, top.branch, versions, aliases, deprecated, shards, latest)


def names_of(stubs: Any) -> frozenset[str]:
    """The shards holding ``stubs``."""
    return frozenset(shard_of(str(s)) for s in stubs)
