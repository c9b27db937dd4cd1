"""``zoo lock`` and pulls from a lockfile: pins resolved, read, written and checked.

Pins are made from what the zoo publishes now (``Workspace.resolve_published``),
also on a zoo opened from the lockfile being updated; they are honoured by
``Workspace.resolve_pin``, the one check of a pin against the remote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.core.lockfile import DEFAULT_NAME, LOCKABLE_OPTIONS, Lock, Pin, Stale, parse_lock
from zoo_repo.core.manifest import Manifest
from zoo_repo.core.stub import Ref, parse_stub
from zoo_repo.core.urls import check_remote_url
from zoo_repo.errors import UsageError, ZooError
from zoo_repo.model.readfile import TEXT_LIMIT, read_text_bounded
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import write_text_atomic

if TYPE_CHECKING:
    from zoo_repo.core.trust import Trust


def read_lock(path: Path) -> Lock:
    try:
        # A lockfile may come with a checkout or a download: a regular file, read up to a cap.
        return parse_lock(read_text_bounded(str(path), TEXT_LIMIT), str(path))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such lockfile", hint="create one with `zoo lock STUB[@SELECTOR]`") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: is not UTF-8 text") from exc


def write_lock(path: Path, lock: Lock) -> None:
    write_text_atomic(path, lock.to_text())


def pin(zoo: Workspace, ref: Ref) -> Pin:
    """Resolve a selector into a pin: what it names now, whatever the zoo's pins say."""
    manifest = zoo.resolve_published(ref)
    return Pin(str(ref.stub), ref.selector, manifest.version, zoo.digest(ref.stub, manifest.version))


def verify_pins(zoo: Workspace, lock: Lock) -> list[Manifest]:
    """The pinned versions' manifests, once every one is known to still exist with its pinned
    digest; else NotFound or PinMismatch naming the lockfile and the first pin that does not."""
    return [zoo.resolve_pin(p, lock.where) for p in lock.pins]


def stale_pins(zoo: Workspace, lock: Lock) -> list[Stale]:
    """Pins whose selector now resolves to another version (e.g. a newer latest)."""
    out = []
    for p in lock.pins:
        now = zoo.resolve_published(Ref(parse_stub(p.stub), p.selector)).version
        if now != p.version:
            out.append(Stale(p, now))
    return out


def lock(zoo: Workspace, refs: Iterable[Ref], path: Path | None = None) -> Lock:
    """Pin each selector; merged into the lockfile at ``path`` (written) when given."""
    new = [pin(zoo, r) for r in refs]
    kept: list[Pin] = []
    before: Lock | None = read_lock(path) if path is not None and path.exists() else None
    if before is not None:
        replaced = {n.stub for n in new}
        kept = [p for p in before.pins if p.stub not in replaced]
    url = zoo.remote_url
    if url is not None:
        check_remote_url(url)  # a lockfile is handed around: a URL with a key in it never goes there
    result = Lock(url, tuple(kept + new), _public_options(zoo), str(path) if path is not None else DEFAULT_NAME,
                  _signers(zoo, before))
    if path is not None:
        write_lock(path, result)
    return result


def _signers(zoo: Workspace, before: Lock | None) -> Trust | None:
    """The signers a pull through the lockfile will require approvals from.

    The signers this user pinned for the remote (``zoo trust add``), when there are
    any: a lockfile never trusts more than its maker did. Else, in a checkout, the
    zoo's policy as committed on the release branch (not the working tree's); the
    lockfile records its signers' fingerprints, so the people it trusts show in its
    diff (and `zoo lock` prints them). From a remote URL, never the remote's copy of
    the policy: what the lockfile already had.
    """
    from zoo_repo.core.trust import Trust
    from zoo_repo.ops import trusting
    from zoo_repo.repo import usertrust

    pinned = usertrust.pinned(zoo.remote_url)
    found = pinned[0] if pinned else (trusting.reviewed_policy(zoo) if zoo.is_checkout else None)
    if found is not None:
        return Trust(tuple(replace(s, key=None) for s in found.signers), found.approvals)
    return before.trust if before is not None else None


def _public_options(zoo: Workspace) -> dict[str, str]:
    """The remote's options a lockfile may carry (``LOCKABLE_OPTIONS``)."""
    try:
        options = zoo.remote().options
    except ZooError:
        return {}
    return {k: str(v) for k, v in sorted(options.items()) if k in LOCKABLE_OPTIONS}
