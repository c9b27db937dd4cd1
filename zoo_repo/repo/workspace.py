"""The zoo a command works on: where its manifests come from, its store, its
state and its remotes. Operations take a ``Workspace``; the ``Zoo`` façade is
one, with the verbs added.

Reading (``versions``, ``manifest``, ``resolve``…) works on a checkout and on a
remote opened by URL alike; writing needs a checkout (``root``).

A workspace with ``pins`` (a zoo opened from a lockfile) resolves every
reference through them, here and nowhere else: ``resolve``, and through it
show, pull, plan_pull, pull_many, fetch, tag, diff; ``current_stubs``/``current``
(list, search, fetch of everything) see only the pinned versions. ``stubs``,
``versions`` and ``all_manifests`` still say what is published: gc, push and
verify must never see less.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.core.aliases import ALIASES_NAME, parse_aliases
from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest, digest_of, load_doc, manifest_from_doc
from zoo_repo.core.stub import Ref, Stub, parse_ref, parse_stub
from zoo_repo.core.urls import check_remote_url
from zoo_repo.errors import ManifestError, NotFound, Offline, PinMismatch, UsageError, ZooError
from zoo_repo.repo.config import RemoteConfig, remote_config
from zoo_repo.repo.sources import CheckoutSource, Source
from zoo_repo.store.objects import Store

if TYPE_CHECKING:
    from zoo_repo.core.brief import Brief
    from zoo_repo.core.deprecation import Deprecation
    from zoo_repo.core.lockfile import Lock, Pin
    from zoo_repo.core.trust import Trust
    from zoo_repo.remote.base import Remote
    from zoo_repo.store.statcache import StatCache

MANIFESTS = "manifests"
STORE = "store"
STATE = ".zoo"


def as_stub(stub: Stub | str) -> Stub:
    return stub if isinstance(stub, Stub) else parse_stub(stub)


def as_ref(ref: Ref | Stub | str) -> Ref:
    if isinstance(ref, Ref):
        return ref
    if isinstance(ref, Stub):
        return Ref(ref)
    return parse_ref(ref)


class Workspace:
    """A checkout (``manifests/`` + ``store/`` + DVC), or a remote opened by URL
    with a per-user cache as its store."""

    def __init__(self, root: Path | None = None, *, source: Source | None = None,
                 store: Store | None = None, remote: Remote | None = None,
                 state_dir: Path | None = None, offline: bool | None = None) -> None:
        self._root = Path(root) if root is not None else None
        if self._root is not None:
            source = source or CheckoutSource(self._root, self._root / MANIFESTS)
            store = store or Store(self._root / STORE)
            state_dir = state_dir or self._root / STATE
        if source is None or store is None or state_dir is None:
            raise TypeError("a zoo needs a checkout root, or a source, a store and a state directory")
        from zoo_repo.repo.sources import offline_from_env

        self._source = source
        self.store = store
        self.offline = offline_from_env() if offline is None else offline
        self._remote = remote
        self._remotes: dict[str | None, Remote] = {}  # by name: one connection pool per remote
        self._state_dir = state_dir
        self._statcache: StatCache | None = None
        self._made: tuple[str, Manifest] | None = None  # (digest of its text, the manifest) made here
        self._unflushed = 0
        # The lockfile this zoo was opened from: every reference resolves through it (``resolve``).
        self.pins: Lock | None = None
        # Signers a pull must find approvals from (``ops.trusting``), and whether a
        # version without them is pulled anyway (with the reason returned).
        self.trust: Trust | None = None
        self.allow_unsigned = False

    def __repr__(self) -> str:
        where = str(self._root) if self._root is not None else (self._remote.url if self._remote else "?")
        return f"{type(self).__name__}({where!r})"

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

    # -- configuration -----------------------------------------------------
    def remote_config(self, name: str | None = None) -> RemoteConfig:
        return remote_config(self.root, name)

    def remote(self, name: str | None = None) -> Remote:
        if self._remote is not None and name is None:
            return self._remote
        if name not in self._remotes:
            from zoo_repo.remote import open_remote

            conf = self.remote_config(name)
            check_remote_url(conf.url)  # a URL someone put in .dvc/config by hand is not shown either
            self._remotes[name] = open_remote(conf.url, conf.options)
        return self._remotes[name]

    def statcache(self) -> StatCache:
        from zoo_repo.store.statcache import StatCache

        if self._statcache is None:
            from zoo_repo.store.userkey import user_key

            try:
                key: bytes | None = user_key()
            except OSError:  # no writable cache directory: manifests are parsed every time
                key = None
            self._statcache = StatCache(self._state_dir / "stat.sqlite", key)
        return self._statcache

    # -- reading manifests -------------------------------------------------
    def snapshot_dir(self, stub: Stub, version: int) -> Path | None:
        """Where a version's files go when a pull names no destination and there is
        no checkout: a read-only snapshot in the per-user cache (None in a checkout)."""
        return self._source.snapshot_dir(stub, version)

    def version_dir(self, stub: Stub, version: int) -> Path:
        return self.manifests_dir / stub.path / f"v{version}"

    def versions(self, stub: Stub | str) -> list[int]:
        """Published version numbers of ``stub``, ascending."""
        return self._source.versions(as_stub(stub))

    def manifest(self, stub: Stub | str, version: int) -> Manifest:
        stub = as_stub(stub)
        return self._manifest_of(stub, version, self.manifest_text(stub, version))

    def manifest_from_text(self, stub: Stub | str, version: int, text: str) -> Manifest:
        """``manifest`` for text already read (``manifest_text``): one read serves both."""
        return self._manifest_of(as_stub(stub), version, text)

    def _manifest_of(self, stub: Stub, version: int, text: str) -> Manifest:
        where = self._source.where(stub, version, MANIFEST_NAME)
        manifest = self._parse_manifest(text, where)
        if manifest.stub != stub or manifest.version != version:
            raise ManifestError(where, f"says {manifest.stub}@v{manifest.version}; its path says {stub}@v{version}")
        return manifest

    def parse_manifest(self, text: str, where: str) -> Manifest:
        """A manifest's text parsed and checked, through the parse cache (``zoo push``
        has just parsed the same texts from the working tree)."""
        return self._parse_manifest(text, where)

    def made_manifest(self, manifest: Manifest) -> None:
        """A manifest this process built (publish): its text, read back from git by
        the projection, parses to it without YAML (a third of a second at 2,000 files)."""
        self._made = (hashlib.sha256(manifest.to_text().encode("utf-8")).hexdigest(), manifest)

    def _parse_manifest(self, text: str, where: str) -> Manifest:
        """The checked manifest, from the parse cache when this exact text was seen before."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if self._made is not None and self._made[0] == digest:
            return self._made[1]  # built in this process, not read from a cache on disk
        cache = self.statcache()
        doc = cache.get_manifest(digest)
        if doc is not None:
            try:
                return manifest_from_doc(doc, where)  # checked again: the cache is a speed-up, not a source
            except ManifestError:
                pass
        manifest = manifest_from_doc(load_doc(text, where), where)
        cache.put_manifest(digest, manifest.to_dict())
        self._unflushed += 1
        return manifest

    def flush(self) -> None:
        """Persist what the caches learned (called after reading many manifests)."""
        if self._statcache is not None:
            self._statcache.flush()
            self._unflushed = 0

    def manifest_text(self, stub: Stub | str, version: int) -> str:
        """A version's ``manifest.yaml`` exactly as published (its digest is of these bytes)."""
        return self._source.read(as_stub(stub), version, MANIFEST_NAME)

    def card_text(self, stub: Stub | str, version: int) -> str:
        """The ``model.md`` published with a version."""
        return self._source.read(as_stub(stub), version, CARD_NAME)

    def signature_files(self, stub: Stub | str, version: int) -> list[tuple[str, bytes]]:
        """A version's signature files (name, bytes), each bounded by its manifest's size."""
        from zoo_repo.core.trust import signature_limit

        stub = as_stub(stub)
        limit = signature_limit(len(self.manifest_text(stub, version).encode("utf-8")))
        return self._source.signatures(stub, version, limit)

    def trust_text(self) -> str | None:
        """The zoo's trust.yaml: the checkout's, or the remote's copy (a source of keys only)."""
        return self._source.trust_text()

    def aliases(self, stub: Stub | str) -> dict[str, int]:
        """alias → version number for ``stub`` (``latest`` is not stored: it is derived)."""
        stub = as_stub(stub)
        text = self._source.aliases_text(stub)
        return parse_aliases(text, f"{stub}/{ALIASES_NAME}") if text else {}

    def brief(self, stub: Stub | str) -> Brief | None:
        """What a remote's projection carries of ``stub``'s latest version (``core.brief``); None in a checkout."""
        return self._source.brief(as_stub(stub))

    def settled(self) -> contextlib.AbstractContextManager[None]:
        """Meanwhile, aliases are answered from one reading of the remote (a listing of every stub)."""
        return self._source.settled()

    def deprecation(self, stub: Stub | str) -> Deprecation | None:
        """Why ``stub`` is deprecated and what succeeds it (``core.deprecation``); None when it is not."""
        return self._source.deprecation(as_stub(stub))

    def digest(self, stub: Stub | str, version: int) -> str:
        """A version's manifest digest, ``sha256:<hex>`` of its text."""
        return digest_of(self.manifest_text(stub, version))

    @property
    def from_cache_only(self) -> bool:
        """Offline and without a checkout: every answer comes from the per-user
        cache, which holds only what was fetched, so "not there" means "not cached"."""
        return self.offline and not self.is_checkout

    def resolve(self, ref: Ref | Stub | str) -> Manifest:
        """The manifest a stub and selector name (default: the latest version).

        With ``pins``, the pinned version's, if ``ref`` names it (``core.lockfile``'s
        rule), else ``NotPinned``; ``PinMismatch`` if its digest is no longer the pinned one.
        Offline from a remote's cache, a selector the cache cannot answer is an
        ``Offline`` error (the version may well exist), never "not published".
        """
        ref = as_ref(ref)
        if self.pins is not None:
            return self.resolve_pin(self.pins.pin_for(ref), self.pins.where)
        return self.resolve_published(ref)

    def resolve_pin(self, pin: Pin, lockfile: str) -> Manifest:
        """The pinned version's manifest, parsed from the very text whose digest matched the pin."""
        stub = as_stub(pin.stub)
        if pin.version not in self.versions(stub):
            self._not_cached(Ref(stub, f"v{pin.version}"))
            raise NotFound(f"{pin.ref} is pinned in {lockfile} but no longer exists; nothing was pulled",
                           hint=f"re-pin with `zoo lock --upgrade -f {lockfile}`")
        text = self.manifest_text(stub, pin.version)
        actual = digest_of(text)
        if actual != pin.digest:
            raise PinMismatch(lockfile, pin.ref, pin.digest, actual)
        return self._manifest_of(stub, pin.version, text)

    def current(self, stub: Stub | str) -> Manifest:
        """The version a stub alone stands for: its pin with ``pins``, else its latest."""
        stub = as_stub(stub)
        if self.pins is not None:
            return self.resolve_pin(self.pins.pin_of(str(stub)), self.pins.where)
        return self.resolve_published(Ref(stub))

    def resolve_published(self, ref: Ref | Stub | str) -> Manifest:
        """What ``ref`` names on the zoo now, whatever ``pins`` say (``zoo lock`` pins from this)."""
        ref = as_ref(ref)
        versions = self.versions(ref.stub)
        if not versions:
            self._not_cached(ref)
            raise NotFound(f"{ref.stub} is not published in this zoo", hint="see `zoo list`")
        if ref.kind == "latest":
            wanted = versions[-1]
        elif ref.kind == "version":
            wanted = ref.version or 0
        elif ref.kind == "alias":
            aliases = self.aliases(ref.stub)
            if ref.selector not in aliases:
                self._not_cached(ref)
                known = ", ".join(sorted(aliases)) or "none"
                raise NotFound(f"{ref.stub} has no alias {ref.selector!r} (aliases: {known})")
            wanted = aliases[ref.selector]
        else:
            matches = [v for v in versions if self.digest(ref.stub, v).startswith(ref.selector)]
            if len(matches) != 1:
                if not matches:
                    self._not_cached(ref)
                why = "matches no version" if not matches else \
                    "is ambiguous: matches " + ", ".join(f"v{v}" for v in matches)
                raise NotFound(f"{ref}: {ref.selector} {why}")
            wanted = matches[0]
        if wanted not in versions:
            self._not_cached(ref)
            raise NotFound(
                f"{ref.stub}@v{wanted} does not exist; published versions: "
                + ", ".join(f"v{v}" for v in versions)
            )
        return self.manifest(ref.stub, wanted)

    def _not_cached(self, ref: Ref) -> None:
        if self.from_cache_only:
            raise Offline(f"{ref.stub}@{ref.selector} is")

    def stubs(self) -> Iterator[Stub]:
        """Every stub with at least one version, in sorted order, whatever ``pins`` say:
        gc, push and verify must see every version, never only the pinned ones."""
        yield from self._source.stubs()

    def current_stubs(self) -> Iterator[Stub]:
        """The stubs ``current`` answers for: with ``pins`` the pinned ones, else ``stubs()``."""
        if self.pins is None:
            yield from self.stubs()
            return
        yield from sorted((parse_stub(p.stub) for p in self.pins.pins), key=str)

    def all_manifests(self) -> Iterator[Manifest]:
        for stub in self.stubs():
            for version in self.versions(stub):
                yield self.manifest(stub, version)
        self.flush()


    @property
    def remote_url(self) -> str | None:
        """The URL of the remote this zoo reads from (None when it has none configured)."""
        if self._remote is not None:
            return self._remote.url
        try:
            return self.remote_config().url
        except ZooError:
            return None

