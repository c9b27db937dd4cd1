"""``zoo cache``: what the per-user cache holds, and pruning it. Plan first, then act.

The cache is a content-addressed store (DVC's layout) shared by every remote
and project, plus each remote's cached manifests under ``remotes/<key>/``.
An object is kept while any kept version's manifest names it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from zoo_repo.core.manifest import MANIFEST_NAME, Manifest, parse_manifest
from zoo_repo.store.atomic import remove_readonly
from zoo_repo.store.objects import Store
from zoo_repo.store.userkey import KEY_NAME, default_cache_dir, user_key

__all__ = ["KEY_NAME", "CacheReport", "CacheVerifyReport", "CachedVersion", "PrunePlan", "default_cache_dir",
           "plan_prune", "plan_remove", "scan", "user_key", "verify_cache"]


@dataclass(frozen=True)
class CachedVersion:
    remote_key: str
    manifest: Manifest
    path: Path  # the cached manifest file
    last_used: float  # its mtime: refreshed whenever a pull reads it
    present: int  # bytes of its objects that the cache holds
    objects: frozenset[str]


@dataclass(frozen=True)
class CacheReport:
    root: Path
    versions: tuple[CachedVersion, ...]
    total_bytes: int  # everything in the object store
    total_objects: int
    stale_temps: tuple[Path, ...] = ()  # partial objects of killed pulls (their writer is dead)
    stale_bytes: int = 0


def scan(root: Path) -> CacheReport:
    store = Store(root)
    sizes = {oid: store.path(oid).stat().st_size for oid in store.oids()}
    temps = tuple(store.temp_files())
    versions = []
    for manifest_path in sorted((root / "remotes").glob(f"*/manifests/**/{MANIFEST_NAME}")):
        try:
            manifest = parse_manifest(manifest_path.read_text(encoding="utf-8"), str(manifest_path))
        except Exception:  # noqa: BLE001 - a broken cache entry is skipped, never fatal
            continue
        objects = frozenset({f.md5 for f in manifest.files} | {manifest.tree_md5 + ".dir"})
        present = sum(sizes.get(f.md5, 0) for f in {f.md5: f for f in manifest.files}.values())
        key = manifest_path.relative_to(root / "remotes").parts[0]
        versions.append(CachedVersion(key, manifest, manifest_path, manifest_path.stat().st_mtime,
                                      present, objects))
    return CacheReport(root, tuple(versions), sum(sizes.values()), len(sizes), temps, _sizes(temps))


def _sizes(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        try:
            total += path.lstat().st_size
        except FileNotFoundError:
            pass
    return total


def _named(versions: Iterable[CachedVersion]) -> set[str]:
    """Every object some of ``versions`` names."""
    return {oid for v in versions for oid in v.objects}


@dataclass(frozen=True)
class PrunePlan:
    drop_versions: tuple[CachedVersion, ...]
    drop_objects: tuple[str, ...]
    bytes: int
    root: Path
    temp_files: tuple[Path, ...] = ()  # stale temps: reclaimed by every prune

    def execute(self) -> None:
        """Remove the planned versions and objects, under the cache's exclusive lock
        (pulls through the cache hold it shared while they place files)."""
        store = Store(self.root)
        with store.lock():
            for version in self.drop_versions:
                shutil.rmtree(version.path.parent, ignore_errors=True)
                shutil.rmtree(self.root / "remotes" / version.remote_key / "snapshots" / version.manifest.stub.path
                              / version.manifest.version_name, ignore_errors=True)
            kept = _named(scan(self.root).versions)
            for oid in self.drop_objects:
                if oid not in kept:  # a pull may have cached a version naming it since
                    store.remove(oid)
            for path in set(self.temp_files) & set(store.temp_files()):  # their writers still dead
                remove_readonly(path)


def plan_prune(report: CacheReport, keep_latest: int | None = None, older_than_days: float | None = None) -> PrunePlan:
    """Versions to forget (beyond the N latest of each stub, or unused for DAYS) and
    the objects no remaining version names."""
    drop: list[CachedVersion] = []
    by_stub: dict[tuple[str, str], list[CachedVersion]] = {}
    for v in report.versions:
        by_stub.setdefault((v.remote_key, str(v.manifest.stub)), []).append(v)
    cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
    for group in by_stub.values():
        group.sort(key=lambda v: v.manifest.version, reverse=True)
        for index, v in enumerate(group):
            if (keep_latest is not None and index >= keep_latest) or (cutoff is not None and v.last_used < cutoff):
                drop.append(v)
    return _plan(report, drop)


def _plan(report: CacheReport, drop: Iterable[CachedVersion]) -> PrunePlan:
    """Forget ``drop``; remove the objects no remaining cached version names."""
    dropped = tuple(drop)
    kept = _named(v for v in report.versions if v not in dropped)
    store = Store(report.root)
    objects = tuple(oid for oid in store.oids() if oid not in kept)
    nbytes = sum(store.path(oid).stat().st_size for oid in objects)
    return PrunePlan(dropped, objects, nbytes + report.stale_bytes, report.root, report.stale_temps)


@dataclass(frozen=True)
class CacheVerifyReport:
    root: Path
    objects: int
    corrupt: tuple[str, ...]  # one line per corrupt object
    removed: bool  # whether they were removed (repair)

    @property
    def ok(self) -> bool:
        return not self.corrupt or self.removed


def verify_cache(root: Path, repair: bool = False) -> CacheVerifyReport:
    """Hash every object in the cache: its md5 must be its name, and its sha256
    what some cached manifest naming it says. With ``repair`` the corrupt ones
    are removed (under the exclusive lock), so the next pull fetches them from
    its remote: the cache does not know which remote a stray object came from,
    and a pull checks what it fetches against the manifest it trusts."""
    from zoo_repo.errors import IntegrityError

    store = Store(root)
    wanted: dict[str, set[str]] = {}
    for v in scan(root).versions:
        for f in v.manifest.files:
            wanted.setdefault(f.md5, set()).add(f.sha256)
    corrupt: dict[str, str] = {}
    count = 0
    for oid in store.oids():
        count += 1
        try:
            got = store.check(oid)
        except IntegrityError as exc:
            corrupt[oid] = exc.message
            continue
        shas = wanted.get(oid)
        if shas and got.sha256 not in shas:
            corrupt[oid] = (f"{store.path(oid)}: sha256 mismatch: expected sha256:{min(shas)}, "
                            f"got sha256:{got.sha256}")
    if repair and corrupt:
        with store.lock():
            for oid in corrupt:
                store.remove(oid)
    return CacheVerifyReport(root, count, tuple(corrupt.values()), repair)


def plan_remove(report: CacheReport, ref: str) -> PrunePlan:
    """Forget what the cache holds of ``ref``: ``STUB`` (every cached version, of every
    remote) or ``STUB@SELECTOR`` (``vN``, ``latest``, an alias the cache knows, a
    digest prefix), manifests and snapshots; then the objects no remaining cached
    version names. NotFound when the cache holds nothing that ``ref`` names."""
    from zoo_repo.core.stub import parse_ref
    from zoo_repo.errors import NotFound

    parsed = parse_ref(ref)
    mine = [v for v in report.versions if v.manifest.stub == parsed.stub]
    drop = mine if "@" not in ref else _selected(report.root, mine, parsed.selector, parsed.kind)
    if not drop:
        held = ", ".join(sorted({v.manifest.version_name for v in mine}, key=lambda n: int(n[1:]))) or "none"
        raise NotFound(f"{ref} is not in the cache (cached versions of {parsed.stub}: {held})",
                       hint="see `zoo cache ls`")
    return _plan(report, drop)


def _selected(root: Path, mine: list[CachedVersion], selector: str, kind: str) -> list[CachedVersion]:
    """The cached versions ``selector`` names, per remote (an alias, as each remote's cache knows it)."""
    from zoo_repo.core.aliases import ALIASES_NAME, parse_aliases
    from zoo_repo.core.manifest import digest_of

    if kind == "digest":
        return [v for v in mine if digest_of(v.path.read_text(encoding="utf-8")).startswith(selector)]
    out = []
    for key in sorted({v.remote_key for v in mine}):
        group = [v for v in mine if v.remote_key == key]
        if kind == "latest":
            wanted: int | None = max(v.manifest.version for v in group)
        elif kind == "alias":
            where = root / "remotes" / key / "manifests" / group[0].manifest.stub.path / ALIASES_NAME
            wanted = parse_aliases(where.read_text(encoding="utf-8"), str(where)).get(selector) \
                if where.is_file() else None
        else:
            wanted = int(selector[1:])
        out += [v for v in group if v.manifest.version == wanted]
    return out
