"""Where a zoo's manifests come from: a git checkout, or a remote by URL.

Both answer the same three questions (which stubs, which versions, the text of
a version's file); the ``Zoo`` façade builds everything else on them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from zoo_repo.core.aliases import ALIASES_NAME, render_aliases
from zoo_repo.core.brief import Brief
from zoo_repo.core.deprecation import DEPRECATION_NAME, MAX_BYTES, Deprecation, parse_deprecation
from zoo_repo.core.manifest import MANIFEST_NAME, digest_of
from zoo_repo.core.projection import Projection
from zoo_repo.core.stub import Stub, parse_stub, version_number
from zoo_repo.core.trust import MAX_SIGNATURES, SIGNATURES, TRUST_NAME, is_signature_name
from zoo_repo.errors import ManifestError, NotFound, NotRegularFile, Offline, TooLarge, UsageError
from zoo_repo.model.readfile import TEXT_LIMIT, read_bounded, read_text_bounded, text_limit
from zoo_repo.store.atomic import write_bytes_atomic, write_text_atomic
from zoo_repo.store.userkey import default_cache_dir

if TYPE_CHECKING:
    from zoo_repo.remote.base import Remote

__all__ = ["SNAPSHOTS", "CheckoutSource", "RemoteSource", "Source", "default_cache_dir", "offline_from_env"]

SNAPSHOTS = "snapshots"  # remotes/<key>/snapshots/<stub>/vN: read-only trees of hard links


class Source(Protocol):
    def stubs(self) -> list[Stub]: ...
    def versions(self, stub: Stub) -> list[int]: ...
    def read(self, stub: Stub, version: int, name: str) -> str: ...
    def where(self, stub: Stub, version: int, name: str) -> str: ...
    def aliases_text(self, stub: Stub) -> str | None: ...
    def deprecation(self, stub: Stub) -> Deprecation | None: ...
    def snapshot_dir(self, stub: Stub, version: int) -> Path | None: ...
    def signatures(self, stub: Stub, version: int, limit: int) -> list[tuple[str, bytes]]: ...
    def trust_text(self) -> str | None: ...
    def brief(self, stub: Stub) -> Brief | None: ...
    def settled(self) -> contextlib.AbstractContextManager[None]: ...


def _read_text(path: str, label: str, limit: int = TEXT_LIMIT) -> str:
    """A metadata file of a checkout or cache: a regular file, read up to its cap.
    A pull request can make any of them a FIFO or a symlink to /dev/zero."""
    try:
        return read_text_bounded(path, limit, label)
    except UnicodeDecodeError as exc:
        raise ManifestError(label, "is not UTF-8 text") from exc


def _signature_files(folder: str, limit: int) -> list[tuple[str, bytes]]:
    """A version's signature files in ``folder``: each a regular file up to ``limit``
    bytes, named as zoo names them; anything else there is the check's to refuse
    (``zoo check``), not a pull's to read."""
    try:
        names = sorted(n for n in os.listdir(folder) if is_signature_name(n))[:MAX_SIGNATURES]
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        try:
            found.append((name, read_bounded(os.path.join(folder, name), limit, f"{folder}/{name}")))
        except (FileNotFoundError, NotRegularFile, TooLarge):
            continue  # a FIFO or a huge file is no signature: it counts as absent
    return found


def _present(path: str) -> bool:
    """Something other than a folder is at ``path`` (not followed: a link counts, and is refused on reading)."""
    try:
        return not stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


class CheckoutSource:
    """``manifests/<stub>/vN/`` in a zoo checkout.

    Plain ``os`` calls on strings rather than pathlib: listing a zoo of ten
    thousand stubs is mostly path handling. Symlinks are not followed into
    folders, and a version's files are read only if they are regular files.
    """

    def __init__(self, root: Path, manifests_dir: Path) -> None:
        self.root, self.base = root, manifests_dir
        self._base = str(manifests_dir)

    def where(self, stub: Stub, version: int, name: str) -> str:
        return f"{self.base.relative_to(self.root).as_posix()}/{stub}/v{version}/{name}"

    def versions(self, stub: Stub) -> list[int]:
        base = os.path.join(self._base, stub.path)
        try:
            names = os.listdir(base)
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for name in names:
            number = version_number(name)
            if number is not None and _present(os.path.join(base, name, MANIFEST_NAME)):
                found.append(number)
        return sorted(found)

    def read(self, stub: Stub, version: int, name: str) -> str:
        path = os.path.join(self._base, stub.path, f"v{version}", name)
        try:
            return _read_text(path, self.where(stub, version, name), text_limit(name))
        except FileNotFoundError:
            raise NotFound(f"{stub}@v{version} is not published in this zoo") from None

    def snapshot_dir(self, stub: Stub, version: int) -> Path | None:
        return None  # a checkout's files go where dvc pull puts them: manifests/<stub>/vN/model

    def signatures(self, stub: Stub, version: int, limit: int) -> list[tuple[str, bytes]]:
        return _signature_files(os.path.join(self._base, stub.path, f"v{version}", SIGNATURES), limit)

    def trust_text(self) -> str | None:
        try:
            return _read_text(str(self.root / TRUST_NAME), TRUST_NAME)
        except FileNotFoundError:
            return None

    def brief(self, stub: Stub) -> Brief | None:
        return None  # a checkout's listing remembers what it read (``catalog.listing``)

    def settled(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def aliases_text(self, stub: Stub) -> str | None:
        path = os.path.join(self._base, stub.path, ALIASES_NAME)
        try:
            return _read_text(path, f"{self.base.relative_to(self.root).as_posix()}/{stub}/{ALIASES_NAME}")
        except FileNotFoundError:
            return None

    def deprecation(self, stub: Stub) -> Deprecation | None:
        label = f"{self.base.relative_to(self.root).as_posix()}/{stub}/{DEPRECATION_NAME}"
        try:
            text = _read_text(os.path.join(self._base, stub.path, DEPRECATION_NAME), label, MAX_BYTES)
        except FileNotFoundError:
            return None
        return parse_deprecation(text, str(stub), label)

    def stubs(self) -> list[Stub]:
        found: list[Stub] = []

        def walk(directory: str, parts: list[str]) -> None:
            try:
                entries = sorted(e.name for e in os.scandir(directory)
                                 if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))
            except (FileNotFoundError, NotADirectoryError):
                return
            for name in entries:
                if len(parts) == 6:
                    try:
                        stub = parse_stub("/".join((*parts, name)))
                    except UsageError:
                        continue
                    if self.versions(stub):
                        found.append(stub)
                else:
                    walk(os.path.join(directory, name), [*parts, name])

        walk(self._base, [])
        return sorted(found, key=str)


class RemoteSource:
    """What a remote shows consumers: its projection of the zoo's release branch
    (``core.projection``), with the manifests and cards it lists, cached per
    user. A version's files never change, so a cached copy is good forever once
    its digest matched the projection. A manifest the projection does not list
    (a claim of a publish still under way, or one never committed) is not
    published. Offline, only the cache is read, and what it lacks is an Offline error."""

    def __init__(self, remote: Remote, cache_dir: Path, offline: bool = False) -> None:
        from zoo_repo.remote import index, meta

        self._meta, self._index = meta, index
        self.remote = remote
        self.offline = offline
        key = hashlib.sha256(remote.url.encode("utf-8")).hexdigest()[:16]
        self.cache = cache_dir / "remotes" / key
        self._cached_manifests = str(self.cache / "manifests")
        # The index's files as last read (top, shards by digest, moves): a shard or a
        # move never changes, so only the top is asked anew, and only changed shards fetched.
        self._files = index.CacheFiles(self.cache, remote.url)
        self._state: index.State | None = None
        self._settled = False

    def where(self, stub: Stub, version: int, name: str) -> str:
        return f"{self.remote.url}/{self._meta.version_key(str(stub), version, name)}"

    def snapshot_dir(self, stub: Stub, version: int) -> Path | None:
        """Where a pull without a destination places a version: in the cache, per remote."""
        return self.cache / SNAPSHOTS / stub.path / f"v{version}"

    def view(self, stub: Stub | None = None) -> Projection:
        """The projection, or the part of it that holds ``stub``: read once per source,
        each shard at most once (and kept in the cache, for offline use and for next time)."""
        wanted = None if stub is None else [str(stub)]
        if self._state is None:
            files = self._files if self.offline else self._index.Cached(self.remote, self._files)
            self._state = self._index.read_state(files, wanted, missing_ok=self.offline)
        elif stub is None or not self._state.view.covers(str(stub)):
            files = self._files if self.offline else self._index.Cached(self.remote, self._files)
            self._state = self._index.widen(files, self._state, wanted)
        return self._state.view

    def stubs(self) -> list[Stub]:
        if self.offline:  # what the cache can serve, not everything the projection knew
            return self._cached_stubs()
        return sorted((parse_stub(s) for s, vs in self.view().versions.items() if vs), key=str)

    def _cached_stubs(self) -> list[Stub]:
        return CheckoutSource(self.cache, self.cache / "manifests").stubs()

    def versions(self, stub: Stub) -> list[int]:
        if self.offline:
            cached = CheckoutSource(self.cache, self.cache / "manifests").versions(stub)
            listed = set(self.view(stub).numbers(str(stub)))
            return [v for v in cached if v in listed]
        return self.view(stub).numbers(str(stub))

    def brief(self, stub: Stub) -> Brief | None:
        """What a listing shows of the stub's latest version, as the projection carries it
        (``core.brief``: bound to that version's digest); None offline, or where it has none."""
        return None if self.offline else self.view(stub).brief_of(str(stub))

    @contextlib.contextmanager
    def settled(self) -> Iterator[None]:
        """Answer aliases from one reading of the remote meanwhile: a listing of every stub
        shows the remote as it was when it began, not 20,000 askings of its top."""
        if self._state is not None and not self.offline:
            self._state = self._index.refresh(self._index.Cached(self.remote, self._files), self._state)
        self._settled = True
        try:
            yield
        finally:
            self._settled = False

    def aliases_text(self, stub: Stub) -> str | None:
        if not self.offline and self._state is not None and not self._settled:
            # Aliases move: ask again, never answer from a stale view. Cheaply: the top
            # and the next move are read; shards only when they changed.
            self._state = self._index.refresh(self._index.Cached(self.remote, self._files), self._state)
        aliases = self.view(stub).aliases.get(str(stub))
        text = render_aliases(str(stub), aliases) if aliases else None
        if not self.offline:  # kept beside the cached versions, for `zoo cache` to name them by alias
            cached = os.path.join(self._cached_manifests, stub.path, ALIASES_NAME)  # not pathlib: once a stub
            if text is not None:
                write_text_atomic(Path(cached), text)
            else:
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    os.unlink(cached)
        return text

    def deprecation(self, stub: Stub) -> Deprecation | None:
        """As the projection says (read once per source: a warning, not a pointer to resolve)."""
        return self.view(stub).deprecated.get(str(stub))

    def signatures(self, stub: Stub, version: int, limit: int) -> list[tuple[str, bytes]]:
        """The remote's signatures of a version (listed anew online: approvals are
        added after publishing), kept in the cache for offline pulls. Only files
        named as zoo names them, each read up to ``limit``; which of them count is
        for the pull's trust to decide, not for the remote."""
        folder = self.cache / "manifests" / stub.path / f"v{version}" / SIGNATURES
        if self.offline:
            return _signature_files(str(folder), limit)
        found = []
        for name in self._meta.signature_names(self.remote, str(stub), version):
            key = self._meta.signature_key(str(stub), version, name)
            try:
                data = self.remote.get_bytes(key, limit=limit)
            except TooLarge:
                continue
            if data is not None:
                write_bytes_atomic(folder / name, data)
                found.append((name, data))
        return found

    def trust_text(self) -> str | None:
        """The remote's copy of trust.yaml: a source of public keys, never of trust."""
        if self.offline:
            return None
        return self.remote.get_text(self._meta.TRUST)

    def read(self, stub: Stub, version: int, name: str) -> str:
        expected = self.view(stub).digest(str(stub), version)
        if expected is None:
            raise NotFound(f"{stub}@v{version} is not published on remote {self.remote.url}")
        cached = self.cache / "manifests" / stub.path / f"v{version}" / name
        if cached.is_file():
            kept = _read_text(str(cached), str(cached), text_limit(name))
            if name != MANIFEST_NAME:
                return kept
            if digest_of(kept) == expected:
                os.utime(cached)  # last use, for `zoo cache prune --older-than`
                return kept
        if self.offline:
            raise Offline(f"{stub}@v{version} ({name}) is")
        text = self.remote.get_text(self._meta.version_key(str(stub), version, name))
        if text is None:
            raise NotFound(f"{stub}@v{version} is listed but its {name} is missing from remote {self.remote.url}")
        if name == MANIFEST_NAME and digest_of(text) != expected:
            raise ManifestError(self.where(stub, version, name),
                                f"digest {digest_of(text)} does not match the remote index ({expected})")
        write_text_atomic(cached, text)
        return text


def offline_from_env() -> bool:
    return os.environ.get("ZOO_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
