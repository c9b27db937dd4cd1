"""``zoo doctor``: check a remote end to end, one line per check, with the fix.

Each check runs only when the ones it depends on passed, so the first failure
is the one to fix. S3 gets the full list; other backends get the generic
round trip.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from zoo_repo.core.urls import check_remote_url
from zoo_repo.core.words import count
from zoo_repo.errors import ZooError
from zoo_repo.remote import Remote, open_remote

if TYPE_CHECKING:
    from zoo_repo.core.projection import Projection
    from zoo_repo.remote.s3.remote import S3Remote
    from zoo_repo.repo.workspace import Workspace

# S3 rejects signatures more than 15 minutes off; warn well before that.
MAX_SKEW_SECONDS = 300


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def diagnose(url: str, options: dict[str, Any], zoo: Workspace | None = None) -> list[Check]:
    """Run every check that applies to the remote; never raises for remote trouble.
    With ``zoo`` (the checkout whose remote this is), also whether the remote
    shows consumers what its release branch has."""
    results: list[Check] = []
    try:
        check_remote_url(url)
        remote = open_remote(url, options)
        results.append(Check("configuration", True, remote.describe()))
    except ZooError as exc:
        return [Check("configuration", False, exc.message, exc.hint)]
    from zoo_repo.remote.s3.remote import S3Remote

    if isinstance(remote, S3Remote):
        steps = _s3_checks(remote)
    else:
        steps = [lambda: _reachable_root(remote)]
    steps.append(lambda: _round_trip(remote))
    if zoo is not None and zoo.is_checkout:
        steps.append(lambda: projection_check(zoo, remote))
    if zoo is not None:
        steps.append(lambda: signers_check(zoo))
    for step in steps:
        check = step()
        results.append(check)
        if not check.ok:
            break
    return results


def _s3_checks(remote: S3Remote) -> list[Callable[[], Check]]:
    bucket = remote.bucket
    state: dict[str, Any] = {}

    def endpoint() -> Check:
        try:
            state["endpoint"] = remote.endpoint()
        except ZooError as exc:
            return Check("endpoint reachable", False, exc.message, exc.hint)
        parts = urlsplit(state["endpoint"])
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname or "", port), timeout=5):
                pass
        except OSError as exc:
            return Check("endpoint reachable", False, f"{state['endpoint']}: {exc}",
                         "set endpointurl (`dvc remote modify NAME endpointurl URL`) or AWS_ENDPOINT_URL")
        return Check("endpoint reachable", True, state["endpoint"])

    def credentials_and_bucket() -> Check:
        try:
            state["date"] = remote.head_bucket()
        except FileNotFoundError:
            state["no_bucket"] = True
            return Check("credentials accepted", True, "the server answered a signed request")
        except ZooError as exc:
            return Check("credentials accepted", False, exc.message, exc.hint)
        return Check("credentials accepted", True, "the server answered a signed request")

    def bucket_exists() -> Check:
        if state.get("no_bucket"):
            return Check("bucket exists", False, f"bucket {bucket!r} does not exist",
                         f"create it (e.g. `aws s3 mb s3://{bucket}`), or fix the remote URL")
        return Check("bucket exists", True, f"{bucket} (addressing style: {remote.addressing_style()})")

    def clock() -> Check:
        if not state.get("date"):
            return Check("clock skew", True, "server sent no Date header; not checked")
        skew = time.time() - parsedate_to_datetime(state["date"]).timestamp()
        if abs(skew) > MAX_SKEW_SECONDS:
            return Check("clock skew", False, f"this machine is {skew:+.0f} s off the server",
                         "synchronise the clock (e.g. enable NTP); S3 refuses requests 15 minutes off")
        return Check("clock skew", True, f"{skew:+.1f} s")

    return [endpoint, credentials_and_bucket, bucket_exists, clock]


def _reachable_root(remote: Remote) -> Check:
    try:
        exists = remote.root_exists()
    except ZooError as exc:
        return Check("remote reachable", False, exc.message, exc.hint)
    return Check("remote reachable", True, remote.root if exists else f"{remote.root} (will be created)")


def _round_trip(remote: Remote) -> Check:
    name = "put, get, delete a probe object"
    if not remote.writable:
        return Check(name, True, "read-only remote: skipped")
    payload = uuid.uuid4().bytes * 64
    try:
        got = remote.probe(payload)
    except ZooError as exc:
        return Check(name, False, exc.message, exc.hint or "check write permission on this prefix")
    if bytes(got) != payload:
        return Check(name, False, "the object read back differs from what was written",
                     "a proxy or gateway is altering bodies; check the endpoint")
    return Check(name, True, f"{len(payload)} bytes")


def projection_check(zoo: Workspace, remote: Remote) -> Check:
    """Whether what the remote lists for consumers is the release branch: the same,
    behind it (`zoo push`), ahead of this checkout (`git pull`), or on another history."""
    from zoo_repo.remote import meta
    from zoo_repo.repo.release import RELATION_WORDS, plan_move, relation, release_of

    name = "consumers see the release branch"
    try:
        release = release_of(zoo.root)
        view = meta.read_view(remote)
        if release.commit is None:
            return Check(name, False, f"this checkout has no branch {release.branch} (the release branch)",
                         f"git fetch, then `git checkout {release.branch}`")
        how = relation(zoo.root, view.commit, release.commit)
        listed = f"{count(view.count(), 'version')} listed"
        at = f"remote at {(view.commit or 'no commit')[:10]}, {release.branch} at {release.commit[:10]}"
        if how in ("behind", "new") and plan_move(zoo.root, view, release).move.empty:
            how = "same"  # the commits since change nothing consumers see
    except ZooError as exc:
        return Check(name, False, exc.message, exc.hint)
    words = RELATION_WORDS[how].format(branch=release.branch)
    unlisted = _unlisted_claims(remote, view)
    if unlisted:
        listed += (f"; {len(unlisted)} claimed but not listed (a publish under way, or one that died before "
                   f"committing: delete zoo/manifests/<stub>/vN/ on the remote to free it): {', '.join(unlisted[:3])}")
    fixes = {"behind": "zoo push", "new": "zoo push", "ahead": "git pull", "unknown": "git pull",
             "diverged": "git pull (merge), then zoo push"}
    return Check(name, how == "same", f"the remote's listing {words} ({at}; {listed})", fixes.get(how))


def signers_check(zoo: Workspace) -> Check:
    """Which signers a pull from this zoo needs approvals from, and whether a key is
    found for each (a pinned signer without one makes every pull fail closed)."""
    from zoo_repo.ops import trusting

    name = "signed pulls"
    try:
        own = trusting.policy(zoo) if zoo.is_checkout else None
        pins = trusting.in_force(zoo)
        if pins is None:
            listed = f"; trust.yaml lists {own.names()}" if own else ""
            return Check(name, True, f"no signers pinned: pulls are not checked for signatures{listed}",
                         "pin the maintainers: `zoo trust add NAME KEYFILE` (or `zoo lock` in a checkout)"
                         if own else None)
        keys = trusting.keys_for(zoo, pins)
    except ZooError as exc:
        return Check(name, False, exc.message, exc.hint)
    keyless = [s.name for s in pins.signers if s.fingerprint not in keys]
    need = f"{count(pins.approvals, 'approval')} by {pins.names()} ({pins.where})"
    if keyless:
        return Check(name, False, f"pulls need {need}, but no key was found for {', '.join(keyless)}",
                     "`zoo trust add NAME KEYFILE` with the signer's public key, or `zoo push` on the release "
                     "branch (it mirrors trust.yaml for consumers without git)")
    return Check(name, True, f"pulls need {need}; a key is known for every one")


def _unlisted_claims(remote: Remote, view: Projection) -> list[str]:
    """Versions whose manifest is on the remote (claimed) but which the listing does not name."""
    from zoo_repo.remote import meta

    if not remote.listable:
        return []
    return [f"{stub}@v{n}" for stub, numbers in sorted(meta.listed_versions(remote).items())
            for n in numbers if view.digest(stub, n) is None]
