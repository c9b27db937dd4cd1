"""The ``Zoo`` façade: a workspace with the verbs, the API the CLI calls.

Each verb delegates to its operation in ``zoo_repo.ops`` with explicit
keyword arguments, so callers and type checkers see every parameter.
"""

from __future__ import annotations

import builtins
import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.core.manifest import FileEntry, Manifest
from zoo_repo.core.recipes import include_recipe, select_recipe
from zoo_repo.core.stub import Ref, Stub
from zoo_repo.errors import UsageError
from zoo_repo.ops.verbs import LifecycleVerbs, SigningVerbs
from zoo_repo.repo.config import find_root
from zoo_repo.repo.workspace import Workspace, as_ref, as_stub
from zoo_repo.store.objects import Store

if TYPE_CHECKING:
    from zoo_repo.catalog.index import Summary
    from zoo_repo.catalog.listing import Listed
    from zoo_repo.core.lockfile import Lock
    from zoo_repo.core.progress import Progress
    from zoo_repo.core.trust import Trust
    from zoo_repo.ops.maintenance import GcPlan, TransferResult, VerifyReport
    from zoo_repo.ops.publish import PublishResult
    from zoo_repo.ops.pull import PullPlan, PullResult

DEFAULT_JOBS = 8
PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class ListFilter:
    """Field filters for ``list``; None matches anything. Deprecated stubs match only with ``deprecated``."""

    domain: str | None = None
    sub_domain: str | None = None
    architecture: str | None = None
    framework: str | None = None
    repo: str | None = None
    dataset: str | None = None
    sparse_name: str | None = None
    sparse_category: str | None = None
    deprecated: bool = False  # also the stubs ``Zoo.deprecation`` says are deprecated

    def matches(self, stub: Stub) -> bool:
        return all(want is None or getattr(stub, k) == want for k, want in vars(self).items() if k != "deprecated")


class Zoo(LifecycleVerbs, SigningVerbs, Workspace):
    """A model zoo: a git checkout (``manifests/`` + ``store/`` + DVC), or a
    remote opened by URL with a per-user cache as its store.

    Reading (``list``, ``show``, ``versions``, ``pull``) works on both;
    publishing and maintenance need a checkout. A zoo opened from a lockfile
    reads only what it pins: every reference resolves through the pins
    (``Workspace.resolve``; the rule is in ``core.lockfile``).
    """

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, location: PathLike = ".", *,
             remote_options: dict[str, Any] | None = None, cache_dir: Path | None = None,
             offline: bool | None = None, trust: Trust | dict[str, PathLike | bytes] | None = None,
             allow_unsigned: bool = False) -> Zoo:
        """Open a zoo checkout at or above a directory, a remote by URL, or the
        remote a lockfile names, read through the lockfile's pins.

        From a lockfile, ``resolve``, ``show``, ``pull``, ``plan_pull``, ``pull_many``,
        ``fetch``, ``list`` and ``search`` see only the pinned versions, each checked
        against its pinned manifest digest (``PinMismatch``); a stub it does not pin,
        or a selector other than the pinned one, its version number or a prefix of
        its digest, is ``NotPinned`` (exit 2). ``lock`` still pins from what the
        remote publishes now, and ``versions`` lists it.

        A remote opened by URL (``s3://bucket/zoo``, ``file:///srv/zoo``…)
        needs no git: its manifests and objects are read through a per-user
        cache (``ZOO_CACHE_DIR``, default ``~/.cache/zoo-repo``).

        ``trust`` pins signers (a ``core.trust.Trust``, or signer name → public key
        file or PEM bytes, needing one approval): every pull then checks the
        version's signatures before placing a file, and a version without the
        approvals is ``Unsigned`` (exit 2). Without it, a lockfile's ``trust:`` and
        the user's ``zoo trust add`` pins apply. ``allow_unsigned`` pulls such a
        version anyway; ``PullResult.signed.waived`` then says what was missing.
        """
        zoo = cls._open(location, remote_options=remote_options, cache_dir=cache_dir, offline=offline)
        if trust is not None:
            from zoo_repo.ops.trusting import as_trust

            zoo.trust = as_trust(trust)
        zoo.allow_unsigned = allow_unsigned
        return zoo

    @classmethod
    def _open(cls, location: PathLike, *, remote_options: dict[str, Any] | None, cache_dir: Path | None,
              offline: bool | None) -> Zoo:
        text = os.fspath(location)
        if "://" in text:
            from zoo_repo.core.urls import check_remote_url

            check_remote_url(text)
        if "://" not in text and Path(text).is_file():
            from zoo_repo.ops.lock import read_lock

            lock = read_lock(Path(text))
            if not lock.remote:
                raise UsageError(f"{text}: the lockfile names no remote to open")
            url = lock.remote if "://" in lock.remote else Path(lock.remote).as_uri()
            options = {**lock.remote_options, **(remote_options or {})}  # what the caller says wins
            return cls._open(url, remote_options=options, cache_dir=cache_dir, offline=offline).pinned_by(lock)
        if "://" not in text:
            return cls(find_root(Path(text)), offline=offline)
        from zoo_repo.remote import open_remote
        from zoo_repo.repo.sources import RemoteSource, default_cache_dir, offline_from_env

        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        remote = open_remote(text, remote_options)
        offline = offline_from_env() if offline is None else offline
        return cls(source=RemoteSource(remote, cache, offline), store=Store(cache), remote=remote,
                   state_dir=cache, offline=offline)

    def pinned_by(self, lock: PathLike | Lock) -> Zoo:
        """Read this zoo through a lockfile's pins from now on (see ``open``); returns it.

        ``Zoo.open("zoo.lock")`` does this with the remote the lockfile names; the CLI's
        ``--pins`` does it also to a checkout or a ``--remote`` URL.
        """
        from zoo_repo.core.lockfile import Lock
        from zoo_repo.ops.lock import read_lock

        self.pins = lock if isinstance(lock, Lock) else read_lock(Path(lock))
        return self

    @classmethod
    def init(cls, path: PathLike, remote: str, remote_options: dict[str, str] | None = None,
             branch: str = "main") -> Zoo:
        """Create a zoo: git repo, DVC repo whose cache is ``store/``, a default remote.

        ``path`` becomes a git repository of its own unless it already is the top
        of one, also when it lies inside another repository. ``branch`` names a new
        repository's first branch. ``remote`` is a directory or fsspec URL;
        ``remote_options`` use DVC's option names (``endpointurl``, ``region``,
        ``profile``…), and secrets among them go to the untracked ``.dvc/config.local``.
        """
        from zoo_repo.ops.init import init_zoo

        return cls(init_zoo(Path(path), remote, remote_options, branch))

    # -- reading -----------------------------------------------------------
    def list(self, filters: ListFilter | None = None, **fields: Any) -> list[Manifest]:
        """The latest manifest of every stub that matches the filters (from a lockfile: the pinned ones)."""
        filters = filters or ListFilter(**fields)
        found = [self.current(s) for s in self.current_stubs() if filters.matches(s) and self._listed(s, filters)]
        self.flush()
        return found

    def summaries(self, filters: ListFilter | None = None, **fields: Any) -> builtins.list[Summary]:
        """What ``list`` shows, fast: in a checkout from what ``listing`` remembers; what
        it reads, from ``catalog.json`` where its entry's manifest digest matches the text;
        from a remote, from the briefs its projection carries (``core.brief``)."""
        from zoo_repo.catalog.index import Summary
        from zoo_repo.catalog.rows import latest

        filters = filters or ListFilter(**fields)
        if self.pins is not None:  # only the pinned versions, each checked against its digest
            return [Summary.of(m) for m in self.list(filters)]
        if self.is_checkout:
            return [row.summary for row in self.listing(filters)]
        out = [latest(self, stub) for stub in self.stubs() if filters.matches(stub) and self._listed(stub, filters)]
        self.flush()
        return out

    def listing(self, filters: ListFilter | None = None, *, aliases: bool = False,
                **fields: Any) -> builtins.list[Listed]:
        """``zoo list``'s rows: each matching stub's latest version (as ``summaries``), its deprecation
        and, with ``aliases``, its aliases; a checkout's are remembered (``catalog.listing``)."""
        from zoo_repo.catalog.listing import CACHE_NAME, Listed, latest_versions
        from zoo_repo.catalog.rows import Entries, catalog_entries, summary

        filters = filters or ListFilter(**fields)
        if not self.is_checkout or self.pins is not None:
            with self.settled():
                return [Listed(s, self.deprecation(s.stub), self.aliases(s.stub) if aliases else None)
                        for s in self.summaries(filters)]
        index: list[Entries] = []  # read once a row must be worked out (a replayed listing reads none)

        def summarize(stub: Stub, version: int) -> Summary:
            if not index:
                index.append(catalog_entries(self))
            return summary(self, stub, version, index[0])

        return latest_versions(self, self._state_dir / CACHE_NAME, filters.matches, filters.deprecated,
                               aliases, summarize, repr(filters))

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
        """The manifest ``ref`` names; NotFound if its ``?recipe=`` selects no recipe
        (``core.recipes.select_recipe`` says which file it does)."""
        manifest = self.resolve(ref)
        select_recipe(manifest, as_ref(ref))
        return manifest

    # -- operations (one module each) --------------------------------------
    def publish(self, model_dir: PathLike, stub: Stub | str, *, message: str | None = None,
                commit: bool = True, branch: str | None = None, version: int | None = None,
                run: bool = True, rtol: float | None = None, atol: float | None = None,
                jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
                sign_key: PathLike | None = None) -> PublishResult:
        """Publish ``model_dir`` as the next version of ``stub`` (see ``ops.publish``).

        ``branch`` (``""`` for ``publish/<stub>/vN``) commits on a new branch for
        review; ``version`` insists on that number; ``run=False`` skips running the
        sample inputs (recorded in the manifest); ``rtol``/``atol`` bound how far
        outputs may differ from the sample outputs. ``sign_key`` (an EC private key
        PEM file) adds the publisher's signature in the same commit.
        """
        from zoo_repo.model import validate
        from zoo_repo.ops.publish import publish

        return publish(self, Path(model_dir), as_stub(stub), message=message, commit=commit, jobs=jobs,
                       branch=branch, progress=progress, version=version, run=run,
                       rtol=validate.DEFAULT_RTOL if rtol is None else rtol,
                       atol=validate.DEFAULT_ATOL if atol is None else atol,
                       sign_key=Path(sign_key) if sign_key is not None else None)

    def pull(self, ref: Ref | Stub | str, *, dest: PathLike | None = None, include: Iterable[str] = (),
             files: Iterable[str] = (), exclude: Iterable[str] = (), link: str = "reflink",
             force: bool = False, jobs: int = DEFAULT_JOBS, progress: Progress | None = None) -> PullResult:
        """Place the files of the version ``ref`` names at ``dest``, verified.

        ``include`` (each a role name, which selects that role, or else a glob on
        the file's path, which must match a file), ``files`` (globs that narrow
        it) and ``exclude`` (globs whose files are left out) select a part: only
        that is fetched. ``link`` is copy, reflink, hardlink or symlink; ``force``
        replaces destination files that hold other bytes. A ``?recipe=NAME`` (or
        ``?recipe_type=``) on ``ref`` narrows nothing: it is checked before any byte
        moves, joins ``include`` when that is given, and ``PullResult.recipe`` is its path.
        """
        from zoo_repo.ops.pull import pull

        manifest = self.resolve(ref)
        chosen = select_recipe(manifest, as_ref(ref))
        result = pull(self, manifest, dest=dest, include=include_recipe(tuple(include), chosen), files=tuple(files),
                      exclude=tuple(exclude), link=link, force=force, jobs=jobs, progress=progress)
        return replace(result, recipe_path=chosen.path) if chosen else result

    def pull_many(self, refs: Iterable[Ref | Stub | str], *, dest: PathLike | None = None,
                  include: Iterable[str] = (), files: Iterable[str] = (), exclude: Iterable[str] = (),
                  link: str = "reflink", force: bool = False, jobs: int = DEFAULT_JOBS,
                  progress: Progress | None = None) -> builtins.list[PullResult]:
        """Pull several versions, each to ``dest/<stub>`` (as ``pull_locked`` does; each
        to its default place without ``dest``); every ref is resolved, and its ``?recipe=``
        selected (as ``pull`` does), before any byte moves."""
        refs = builtins.list(refs)
        manifests = [self.resolve(ref) for ref in refs]
        chosen = [select_recipe(m, as_ref(r)) for m, r in zip(manifests, refs, strict=True)]
        self._require_signed(manifests)
        stubs = [str(m.stub) for m in manifests]
        twice = sorted({s for s in stubs if stubs.count(s) > 1})
        if twice and dest is not None:
            raise UsageError(f"{twice[0]} is named twice: each stub goes to `dest=`/STUB, so pull one "
                             "version of it at a time", param="dest")
        return self._pull_each(manifests, dest, dict(include=tuple(include), files=tuple(files),
                               exclude=tuple(exclude), link=link, force=force, jobs=jobs, progress=progress),
                               chosen)

    def _require_signed(self, manifests: Iterable[Manifest], trust: Trust | None = None) -> None:
        """Every version's signatures, judged before any byte of any of them moves."""
        from zoo_repo.ops.trusting import require

        for manifest in manifests:
            require(self, manifest, trust)

    def _pull_each(self, manifests: Iterable[Manifest], dest: PathLike | None, kw: dict[str, Any],
                   chosen: Iterable[FileEntry | None] = ()) -> builtins.list[PullResult]:
        """Pull each manifest; ``chosen``, if given, is each one's selected recipe (see ``pull``)."""
        from zoo_repo.ops.pull import pull

        results = []
        for m, recipe in itertools.zip_longest(manifests, chosen):
            result = pull(self, m, dest=Path(dest) / str(m.stub) if dest is not None else None,
                          **{**kw, "include": include_recipe(kw["include"], recipe)})
            results.append(replace(result, recipe_path=recipe.path) if recipe else result)
        return results

    def plan_pull(self, ref: Ref | Stub | str, *, dest: PathLike | None = None, include: Iterable[str] = (),
                  files: Iterable[str] = (), exclude: Iterable[str] = (), link: str = "reflink",
                  force: bool = False) -> PullPlan:
        """What ``pull`` would do, with the same parameters (see ``ops.pull.plan_pull``):
        the files already in place, the conflicts, the objects to fetch (ranged reads
        of packs, or loose) and how each file is placed. Nothing is written at
        ``dest``; ``.summary()`` says the plan, ``.execute(jobs=, progress=)`` does it.
        """
        from zoo_repo.ops.pull import plan_pull

        manifest = self.resolve(ref)  # a ?recipe= is checked, and joins include, as pull does
        return plan_pull(self, manifest, dest=dest, include=include_recipe(tuple(include), select_recipe(
            manifest, as_ref(ref))), files=tuple(files), exclude=tuple(exclude), link=link, force=force)

    def push(self, *, jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
             full: bool = False) -> TransferResult:
        """Upload every referenced object the remote lacks; on the release branch, then
        make the remote list what it has (``TransferResult.projection``). Only versions
        changed since the commit the remote lists are looked at, unless ``full``."""
        from zoo_repo.ops.maintenance import push

        return push(self, jobs=jobs, progress=progress, full=full)

    def fetch(self, refs: Iterable[Ref | Stub | str] = (), *, jobs: int = DEFAULT_JOBS,
              progress: Progress | None = None) -> TransferResult:
        """Download into the store every object of ``refs`` (default: every version; from a
        lockfile, every pinned version) it lacks."""
        from zoo_repo.ops.maintenance import fetch

        if refs:
            manifests = [self.resolve(r) for r in refs]
        elif self.pins is not None:
            manifests = [self.current(stub) for stub in self.current_stubs()]
        else:
            manifests = list(self.all_manifests())
        return fetch(self, manifests, jobs=jobs, progress=progress)

    def tag(self, ref: Ref | Stub | str, alias: str) -> Manifest:
        """Point ``alias`` at the version ``ref`` names; committed, and put on the remote."""
        from zoo_repo.ops.tag import tag

        manifest = self.resolve(ref)
        tag(self, manifest, alias)
        return manifest

    def untag(self, stub: Stub | str, alias: str) -> int:
        """Remove ``alias`` from ``stub``; returns the version it pointed at."""
        from zoo_repo.ops.tag import untag

        return untag(self, as_stub(stub), alias)

    def lock(self, refs: Iterable[Ref | Stub | str], path: PathLike | None = None) -> Lock:
        """Pin each selector to its version and manifest digest; merge into ``path`` if given."""
        from zoo_repo.ops.lock import lock

        return lock(self, [as_ref(r) for r in refs], Path(path) if path is not None else None)

    def pull_locked(self, path: PathLike, *, dest: PathLike | None = None, include: Iterable[str] = (),
                    files: Iterable[str] = (), exclude: Iterable[str] = (), link: str = "reflink",
                    force: bool = False, jobs: int = DEFAULT_JOBS,
                    progress: Progress | None = None) -> builtins.list[PullResult]:
        """Pull exactly the pinned versions, each to ``dest/<stub>``; every pin is
        checked (``Workspace.resolve_pin``) before any byte moves."""
        from zoo_repo.ops.lock import read_lock, verify_pins

        lock = read_lock(Path(path))
        manifests = verify_pins(self, lock)
        trust = self.trust or lock.trust  # what the caller pinned wins, as with every pin
        self._require_signed(manifests, trust)
        return self._pull_each(manifests, dest, dict(include=tuple(include), files=tuple(files),
                                                     exclude=tuple(exclude), link=link, force=force, jobs=jobs,
                                                     progress=progress, trust=trust))

    def verify(self, *, repair: bool = False, jobs: int = DEFAULT_JOBS) -> VerifyReport:
        """Every manifest parses, and every stored object matches its digests; with
        ``repair``, corrupt objects are fetched again (or removed when the remote
        cannot supply them)."""
        from zoo_repo.ops.maintenance import verify

        return verify(self, repair=repair, jobs=jobs)

    def plan_gc(self, lockfiles: Iterable[PathLike] = ()) -> GcPlan:
        """What ``gc`` would remove (see ``ops.maintenance.plan_gc``); ``.execute()`` removes it."""
        from zoo_repo.ops.maintenance import plan_gc

        return plan_gc(self, [Path(p) for p in lockfiles])
