"""The ``Zoo`` façade: one object per zoo checkout, the API the CLI calls."""

from __future__ import annotations

import builtins
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.core.aliases import ALIASES_NAME, parse_aliases
from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest, digest_of, load_doc, manifest_from_doc
from zoo_repo.core.stub import Ref, Stub, parse_ref, parse_stub
from zoo_repo.errors import ManifestError, NotFound, UsageError, ZooError
from zoo_repo.repo import git
from zoo_repo.repo.config import MARKER, RemoteConfig, find_root, remote_config
from zoo_repo.repo.sources import CheckoutSource, Source
from zoo_repo.store.atomic import write_text_atomic
from zoo_repo.store.objects import Store

if TYPE_CHECKING:
    from zoo_repo.catalog.index import Summary
    from zoo_repo.core.lockfile import Lock
    from zoo_repo.ops.maintenance import GcPlan, TransferResult, VerifyReport
    from zoo_repo.ops.publish import PublishResult
    from zoo_repo.ops.pull import PullResult
    from zoo_repo.remote.base import Remote
    from zoo_repo.store.statcache import StatCache

MANIFESTS = "manifests"
STORE = "store"
STATE = ".zoo"

_GITIGNORE = """\
# Working files of zoo and of dvc pull/checkout; never tracked.
/.zoo/
/manifests/*/**/model/
"""


_DVC_YAML = """\
# `dvc repro` rebuilds the catalog from the manifests; `zoo catalog` runs the same code.
stages:
  catalog:
    cmd: python -m zoo_repo catalog
    deps:
      - manifests
    outs:
      - CATALOG.md:
          cache: false
      - catalog.json:
          cache: false
      - catalog:
          cache: false
"""


def _as_stub(stub: Stub | str) -> Stub:
    return stub if isinstance(stub, Stub) else parse_stub(stub)


def _as_ref(ref: Ref | Stub | str) -> Ref:
    if isinstance(ref, Ref):
        return ref
    if isinstance(ref, Stub):
        return Ref(ref)
    return parse_ref(ref)


@dataclass(frozen=True)
class ListFilter:
    """Field filters for ``list``; None matches anything."""

    domain: str | None = None
    sub_domain: str | None = None
    architecture: str | None = None
    framework: str | None = None
    repo: str | None = None
    dataset: str | None = None
    sparse_name: str | None = None
    sparse_category: str | None = None

    def matches(self, stub: Stub) -> bool:
        return all(
            want is None or getattr(stub, key) == want for key, want in vars(self).items()
        )


class Zoo:
    """A model zoo: a git checkout (``manifests/`` + ``store/`` + DVC), or a
    remote opened by URL with a per-user cache as its store.

    Reading (``list``, ``show``, ``versions``, ``pull``) works on both;
    publishing and maintenance need a checkout.
    """

    def __init__(self, root: Path | None = None, *, source: Source | None = None,
                 store: Store | None = None, remote: Remote | None = None,
                 state_dir: Path | None = None, offline: bool | None = None) -> None:
        self._root = Path(root) if root is not None else None
        if self._root is not None:
            source = source or CheckoutSource(self._root, self._root / MANIFESTS)
            store = store or Store(self._root / STORE)
            state_dir = state_dir or self._root / STATE
        if source is None or store is None or state_dir is None:
            raise TypeError("Zoo needs a checkout root, or a source, a store and a state directory")
        from zoo_repo.repo.sources import offline_from_env

        self._source = source
        self.store = store
        self.offline = offline_from_env() if offline is None else offline
        self._remote = remote
        self._state_dir = state_dir
        self._statcache: StatCache | None = None
        self._unflushed = 0

    def __repr__(self) -> str:
        where = str(self._root) if self._root is not None else (self._remote.url if self._remote else "?")
        return f"Zoo({where!r})"

    @property
    def root(self) -> Path:
        """The checkout's directory; publishing and maintenance need one."""
        if self._root is None:
            raise UsageError(
                f"{self!r} was opened from a remote URL; this needs a zoo checkout",
                hint="git clone the zoo and run the command inside it",
            )
        return self._root

    @property
    def is_checkout(self) -> bool:
        return self._root is not None

    @property
    def manifests_dir(self) -> Path:
        return self.root / MANIFESTS

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, location: str | os.PathLike[str] = ".", *,
             remote_options: dict[str, Any] | None = None, cache_dir: Path | None = None,
             offline: bool | None = None) -> Zoo:
        """Open a zoo checkout at or above a directory, or a remote by URL.

        A remote opened by URL (``s3://bucket/zoo``, ``file:///srv/zoo``…)
        needs no git: its manifests and objects are read through a per-user
        cache (``ZOO_CACHE_DIR``, default ``~/.cache/zoo-repo``).
        """
        text = os.fspath(location)
        if "://" not in text and Path(text).is_file():
            # A lockfile: the zoo it was made from, by the remote it names.
            from zoo_repo.core.lockfile import read_lock

            lock = read_lock(Path(text))
            if not lock.remote:
                raise UsageError(f"{text}: the lockfile names no remote to open")
            url = lock.remote if "://" in lock.remote else Path(lock.remote).as_uri()
            return cls.open(url, remote_options=remote_options, cache_dir=cache_dir, offline=offline)
        if "://" not in text:
            return cls(find_root(Path(text)), offline=offline)
        from zoo_repo.remote.base import Remote
        from zoo_repo.repo.sources import RemoteSource, default_cache_dir, offline_from_env

        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        remote = Remote(text, remote_options)
        offline = offline_from_env() if offline is None else offline
        return cls(source=RemoteSource(remote, cache, offline), store=Store(cache), remote=remote,
                   state_dir=cache, offline=offline)

    @classmethod
    def init(cls, path: str | os.PathLike[str], remote: str,
             remote_options: dict[str, str] | None = None, branch: str = "main") -> Zoo:
        """Create a zoo: git repo, DVC repo whose cache is ``store/``, a default remote.

        ``path`` becomes a git repository of its own unless it already is the top
        of one, also when it lies inside another repository. ``branch`` names a new
        repository's first branch. ``remote_options`` use DVC's option names
        (``endpointurl``, ``region``, ``profile``…); secrets among them go to the
        untracked ``.dvc/config.local``.
        """
        from zoo_repo.repo import dvc

        root = Path(path).resolve()
        if (root / MARKER).exists():
            raise UsageError(f"{root}: already a zoo (zoo.yaml exists)")
        if not remote:
            raise UsageError("--remote is required: a directory path or fsspec URL")
        remote_url = dvc.local_remote_path(remote)
        root.mkdir(parents=True, exist_ok=True)
        if not git.is_toplevel(root):
            git.init(root, branch)
        (root / MANIFESTS).mkdir(exist_ok=True)
        (root / STORE).mkdir(exist_ok=True)
        write_text_atomic(root / STORE / ".gitignore", "# the content-addressed store\n*\n!.gitignore\n")
        write_text_atomic(root / MANIFESTS / ".gitkeep", "")
        gitignore = root / ".gitignore"
        existing = gitignore.read_text() if gitignore.exists() else ""
        if _GITIGNORE not in existing:
            write_text_atomic(gitignore, existing + ("\n" if existing and not existing.endswith("\n") else "") + _GITIGNORE)
        if not (root / ".dvc").exists():
            dvc.init_repo(root, remote_url, options=remote_options)
        if not (root / "dvc.yaml").exists():
            write_text_atomic(root / "dvc.yaml", _DVC_YAML)
        write_text_atomic(root / MARKER, "# This directory is a zoo: see `zoo --help`.\nformat: 1\n")
        git.commit(
            root,
            [MARKER, ".gitignore", "dvc.yaml", ".dvc/config", ".dvc/.gitignore", ".dvcignore",
             f"{STORE}/.gitignore", f"{MANIFESTS}/.gitkeep"],
            "Create zoo",
        )
        return cls(root)

    # -- configuration -----------------------------------------------------
    def remote_config(self, name: str | None = None) -> RemoteConfig:
        return remote_config(self.root, name)

    def remote(self, name: str | None = None) -> Remote:
        if self._remote is not None and name is None:
            return self._remote
        from zoo_repo.remote.base import Remote

        conf = self.remote_config(name)
        return Remote(conf.url, conf.options)

    def statcache(self) -> StatCache:
        from zoo_repo.store.statcache import StatCache

        if self._statcache is None:
            self._statcache = StatCache(self._state_dir / "stat.sqlite")
        return self._statcache

    # -- reading manifests -------------------------------------------------
    def version_dir(self, stub: Stub, version: int) -> Path:
        return self.manifests_dir / stub.path / f"v{version}"

    def versions(self, stub: Stub | str) -> list[int]:
        """Published version numbers of ``stub``, ascending."""
        return self._source.versions(_as_stub(stub))

    def manifest(self, stub: Stub | str, version: int) -> Manifest:
        stub = _as_stub(stub)
        where = self._source.where(stub, version, MANIFEST_NAME)
        manifest = self._parse_manifest(self.manifest_text(stub, version), where)
        if manifest.stub != stub or manifest.version != version:
            raise ManifestError(where, f"says {manifest.stub}@v{manifest.version}; its path says {stub}@v{version}")
        return manifest

    def _parse_manifest(self, text: str, where: str) -> Manifest:
        """The checked manifest, from the parse cache when this exact text was seen before."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        cache = self.statcache()
        manifest = cache.get_manifest(digest)
        if not isinstance(manifest, Manifest):
            manifest = manifest_from_doc(load_doc(text, where), where)
            cache.put_manifest(digest, manifest)
            self._unflushed += 1
        return manifest

    def flush(self) -> None:
        """Persist what the caches learned (called after reading many manifests)."""
        if self._statcache is not None:
            self._statcache.flush()
            self._unflushed = 0

    def manifest_text(self, stub: Stub | str, version: int) -> str:
        """A version's ``manifest.yaml`` exactly as published (its digest is of these bytes)."""
        return self._source.read(_as_stub(stub), version, MANIFEST_NAME)

    def card_text(self, stub: Stub | str, version: int) -> str:
        """The ``model.md`` published with a version."""
        return self._source.read(_as_stub(stub), version, CARD_NAME)

    def aliases(self, stub: Stub | str) -> dict[str, int]:
        """alias → version number for ``stub`` (``latest`` is not stored: it is derived)."""
        stub = _as_stub(stub)
        text = self._source.aliases_text(stub)
        return parse_aliases(text, f"{stub}/{ALIASES_NAME}") if text else {}

    def digest(self, stub: Stub | str, version: int) -> str:
        """A version's manifest digest, ``sha256:<hex>`` of its text."""
        return digest_of(self.manifest_text(stub, version))

    def resolve(self, ref: Ref | Stub | str) -> Manifest:
        """The manifest a stub and selector name (default: the latest version)."""
        ref = _as_ref(ref)
        versions = self.versions(ref.stub)
        if not versions:
            raise NotFound(f"{ref.stub} is not published in this zoo", hint="see `zoo list`")
        if ref.kind == "latest":
            wanted = versions[-1]
        elif ref.kind == "version":
            wanted = ref.version or 0
        elif ref.kind == "alias":
            aliases = self.aliases(ref.stub)
            if ref.selector not in aliases:
                known = ", ".join(sorted(aliases)) or "none"
                raise NotFound(f"{ref.stub} has no alias {ref.selector!r} (aliases: {known})")
            wanted = aliases[ref.selector]
        else:
            matches = [v for v in versions if self.digest(ref.stub, v).startswith(ref.selector)]
            if len(matches) != 1:
                why = "matches no version" if not matches else \
                    "is ambiguous: matches " + ", ".join(f"v{v}" for v in matches)
                raise NotFound(f"{ref}: {ref.selector} {why}")
            wanted = matches[0]
        if wanted not in versions:
            raise NotFound(
                f"{ref.stub}@v{wanted} does not exist; published versions: "
                + ", ".join(f"v{v}" for v in versions)
            )
        return self.manifest(ref.stub, wanted)

    def stubs(self) -> Iterator[Stub]:
        """Every stub with at least one version, in sorted order."""
        yield from self._source.stubs()

    def all_manifests(self) -> Iterator[Manifest]:
        for stub in self.stubs():
            for version in self.versions(stub):
                yield self.manifest(stub, version)
        self.flush()

    def list(self, filters: ListFilter | None = None, **fields: Any) -> list[Manifest]:
        """The latest manifest of every stub that matches the filters."""
        filters = filters or ListFilter(**fields)
        found = [self.resolve(stub) for stub in self.stubs() if filters.matches(stub)]
        self.flush()
        return found

    def summaries(self, filters: ListFilter | None = None, **fields: Any) -> builtins.list[Summary]:
        """What ``list`` shows, fast: from ``catalog.json`` wherever its entry's manifest
        digest still matches the manifest's text, else from the manifest itself."""
        from zoo_repo.catalog.index import Summary

        filters = filters or ListFilter(**fields)
        index = self._catalog_entries()
        out = []
        for stub in self.stubs():
            if not filters.matches(stub):
                continue
            version = self.versions(stub)[-1]
            entry = index.get((str(stub), version))
            if entry is not None and entry.get("manifest_digest") == self.digest(stub, version):
                out.append(Summary.from_entry(stub, entry))
            else:
                out.append(Summary.of(self.manifest(stub, version)))
        self.flush()
        return out

    def _catalog_entries(self) -> dict[tuple[str, int], dict[str, Any]]:
        """catalog.json's entries by (stub, version); empty when there is none or it does not parse."""
        import json

        if self._root is None:
            return {}
        try:
            doc = json.loads((self._root / "catalog.json").read_text(encoding="utf-8"))
            return {(e["stub"], int(e["version"][1:])): e for e in doc["models"]}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    def search(self, text: str | None = None, **fields: Any) -> Iterator[Manifest]:
        """Latest versions whose stub fields match ``fields`` and whose stub, description
        or tags contain ``text`` (case-insensitive)."""
        needle = text.lower() if text else None
        for manifest in self.list(**fields):
            haystack = " ".join([str(manifest.stub), str(manifest.card.get("description") or ""),
                                 *map(str, manifest.card.get("tags") or [])]).lower()
            if needle is None or needle in haystack:
                yield manifest

    def show(self, ref: Ref | Stub | str) -> Manifest:
        return self.resolve(ref)

    # -- operations (one module each) --------------------------------------
    def publish(self, model_dir: str | os.PathLike[str], stub: Stub | str, **kw: Any) -> PublishResult:
        from zoo_repo.ops.publish import publish

        return publish(self, Path(model_dir), _as_stub(stub), **kw)

    def pull(self, ref: Ref | Stub | str, **kw: Any) -> PullResult:
        from zoo_repo.ops.pull import pull

        return pull(self, self.resolve(ref), **kw)

    def push(self, **kw: Any) -> TransferResult:
        from zoo_repo.ops.maintenance import push

        return push(self, **kw)

    def fetch(self, refs: Iterable[Ref | Stub | str] = (), **kw: Any) -> TransferResult:
        from zoo_repo.ops.maintenance import fetch

        manifests = [self.resolve(r) for r in refs] if refs else list(self.all_manifests())
        return fetch(self, manifests, **kw)

    def tag(self, ref: Ref | Stub | str, alias: str) -> Manifest:
        """Point ``alias`` at the version ``ref`` names; committed, and put on the remote."""
        from zoo_repo.ops.tag import tag

        manifest = self.resolve(ref)
        tag(self, manifest, alias)
        return manifest

    def untag(self, stub: Stub | str, alias: str) -> int:
        """Remove ``alias`` from ``stub``; returns the version it pointed at."""
        from zoo_repo.ops.tag import untag

        return untag(self, _as_stub(stub), alias)

    @property
    def remote_url(self) -> str | None:
        """The URL of the remote this zoo reads from (None when it has none configured)."""
        if self._remote is not None:
            return self._remote.url
        try:
            return self.remote_config().url
        except ZooError:
            return None

    def lock(self, refs: Iterable[Ref | Stub | str], path: str | os.PathLike[str] | None = None) -> Lock:
        """Pin each selector to its version and manifest digest; merge into ``path`` if given."""
        from zoo_repo.core.lockfile import Lock, pin, read_lock, write_lock

        new = [pin(self, _as_ref(r)) for r in refs]
        kept = []
        if path is not None and Path(path).exists():
            old = read_lock(Path(path))
            kept = [p for p in old.pins if p.stub not in {n.stub for n in new}]
        lock = Lock(self.remote_url, tuple(kept + new))
        if path is not None:
            write_lock(Path(path), lock)
        return lock

    def pull_locked(self, path: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None,
                    **kw: Any) -> builtins.list[PullResult]:
        """Pull exactly the pinned versions; every pin is checked before any byte moves."""
        from zoo_repo.core.lockfile import read_lock, verify_pins
        from zoo_repo.ops.pull import pull

        lock = read_lock(Path(path))
        verify_pins(self, lock)
        results = []
        for p in lock.pins:
            target = Path(dest) / p.stub if dest is not None else None
            results.append(pull(self, self.manifest(p.stub, p.version), dest=target, **kw))
        return results

    def verify(self) -> VerifyReport:
        from zoo_repo.ops.maintenance import verify

        return verify(self)

    def plan_gc(self, lockfiles: Iterable[str | os.PathLike[str]] = ()) -> GcPlan:
        """What ``gc`` would remove (see maintenance.plan_gc); ``.execute()`` removes it."""
        from zoo_repo.ops.maintenance import plan_gc

        return plan_gc(self, [Path(p) for p in lockfiles])
