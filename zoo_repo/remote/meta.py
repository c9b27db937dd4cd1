"""What a remote holds besides objects, for consumers that have only its URL.

    <remote>/zoo/manifests/<stub>/vN/model.md        a version's card
    <remote>/zoo/manifests/<stub>/vN/manifest.yaml   its manifest: created once, never replaced
    <remote>/zoo/manifests/<stub>/vN/signatures/…    its signatures, mirrored from the release branch
    <remote>/zoo/trust.yaml                          a copy of the release branch's trust.yaml: a
                                                     source of keys, never of trust (consumers pin)
    <remote>/zoo/projection/0000000001.json …        the log of the release branch's projection
    <remote>/zoo/index/top.json, zoo/index/<ab>/…    the projection's view at some seq, in shards
                                                     (``core.shards``, ``remote.index``)
    <remote>/zoo/index.json                          the whole view, as remotes before shards had it

A manifest on the remote is a *claim*: ``stub@vN`` is taken, by these bytes.
It is not yet published: consumers see a version only once the projection
(``core.projection``) lists it, which happens from the release branch alone
(``ops.project``). So the order is objects, card, manifest (the claim), then
the projection's move, and a consumer never sees a version whose files are
missing, nor one that was not committed on the release branch.
"""

from __future__ import annotations

from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.manifest import MANIFEST_NAME
from zoo_repo.core.packs import LOCATOR_NAME, Locator, parse_locator
from zoo_repo.core.projection import Move, Projection
from zoo_repo.core.stub import parse_stub, version_number
from zoo_repo.core.trust import MAX_SIGNATURES, SIGNATURES, TRUST_NAME, is_signature_name
from zoo_repo.errors import ManifestError, RemoteError, StubError, TooLarge
from zoo_repo.remote import index
from zoo_repo.remote.base import Remote
from zoo_repo.remote.index import INDEX as INDEX
from zoo_repo.remote.index import MAX_REPLAY as MAX_REPLAY
from zoo_repo.remote.index import PREFIX
from zoo_repo.remote.index import PROJECTION as PROJECTION
from zoo_repo.remote.index import TOP as TOP
from zoo_repo.remote.index import move_key as move_key
from zoo_repo.remote.index import read_move as read_move

TRUST = f"{PREFIX}/{TRUST_NAME}"


def version_key(stub: str, version: int, name: str) -> str:
    return f"{PREFIX}/manifests/{stub}/v{version}/{name}"


def signature_key(stub: str, version: int, name: str) -> str:
    return version_key(stub, version, f"{SIGNATURES}/{name}")


def signature_names(remote: Remote, stub: str, version: int) -> list[str]:
    """The names of a version's signature files on the remote (what looks like one;
    at most ``MAX_SIGNATURES``: a crafted remote cannot make a pull read thousands)."""
    base = version_key(stub, version, SIGNATURES)
    names = sorted(rel.rsplit("/", 1)[-1] for rel in remote.find(base))
    return [n for n in names if is_signature_name(n)][:MAX_SIGNATURES]


def put_signature(remote: Remote, stub: str, version: int, name: str, text: str) -> bool:
    """Add a signature file if its name is free; False when something is already there
    (``ops.project`` then puts git's copy in place of anything else)."""
    return remote.create_text(signature_key(stub, version, name), text)


def claim_version(remote: Remote, stub: str, version: int, manifest_text: str, card_text: str,
                  locator_text: str | None = None) -> bool:
    """Take ``stub@vN`` for this manifest: card and locator first, the manifest
    last and created, never replaced. True when this call made the claim, False
    when the remote already had exactly this manifest; ``Claimed`` when another
    checkout took the number with other bytes."""
    key = version_key(stub, version, MANIFEST_NAME)
    existing = remote.get_text(key)
    if existing is not None:
        if existing != manifest_text:
            raise claimed(stub, version, existing)
        return False
    remote.put_text(version_key(stub, version, CARD_NAME), card_text)
    if locator_text is not None:
        remote.put_text(version_key(stub, version, LOCATOR_NAME), locator_text)
    if remote.create_text(key, manifest_text):
        return True
    existing = remote.get_text(key)
    if existing != manifest_text:
        raise claimed(stub, version, existing or "")
    return False


def release_claim(remote: Remote, stub: str, version: int, manifest_text: str) -> None:
    """Give back a claim this checkout made and could not commit (a failing git hook):
    only while the remote's manifest is still exactly ours."""
    key = version_key(stub, version, MANIFEST_NAME)
    if remote.get_text(key) == manifest_text:
        remote.delete(key)


def claimed(stub: str, version: int, theirs: str) -> RemoteError:
    """The loser's one line: who holds the number, and what to do."""
    from zoo_repo.errors import Claimed

    who = _claimant(theirs)
    return Claimed(f"{stub}@v{version} was published by another checkout{who}",
                   hint="git pull (their version is in their commit), then publish again to make the next version")


def _claimant(text: str) -> str:
    from zoo_repo.core.manifest import parse_manifest

    try:
        theirs = parse_manifest(text, "the remote's claim")
    except ManifestError:
        return ""  # who holds it is a courtesy; that it is held is the point
    return f" ({theirs.publisher}, at {theirs.created})"


def read_locator(remote: Remote, stub: str, version: int) -> Locator:
    """Where a version's small objects sit in packs; empty when unknown."""
    if not remote.packs:
        return {}
    try:
        data = remote.get_bytes(version_key(stub, version, LOCATOR_NAME))
    except TooLarge:
        return {}  # a damaged locator costs speed only: its objects come loose
    return parse_locator((data or b"").decode("utf-8", "replace"))


def read_view(remote: Remote) -> Projection:
    """The remote's whole projection now (``remote.index``: the top, every shard, the log past it)."""
    return index.read_state(remote).view


def read_head(remote: Remote) -> Projection:
    """Where the projection is (seq, commit, branch), without its entries: the top and the log past it."""
    return index.read_state(remote, ()).view


def write_move(remote: Remote, state: index.State, move: Move) -> Projection | None:
    """Take the next step of the log (``index.write_move``); None when another writer took it first."""
    return index.write_move(remote, state, move)


def listed_versions(remote: Remote, stub: str | None = None) -> dict[str, list[int]]:
    """stub → versions whose manifest is on the remote, from a listing (the truth)."""
    base = f"{PREFIX}/manifests" + (f"/{stub}" if stub else "")
    found: dict[str, list[int]] = {}
    for rel in remote.find(base):
        parts = rel.split("/")
        if len(parts) < 5 or parts[-1] != MANIFEST_NAME:
            continue
        number = version_number(parts[-2])
        stub_path = "/".join(parts[2:-2])
        if number is None:
            continue
        try:
            parse_stub(stub_path)
        except StubError:
            continue  # not a stub: not ours to index
        found.setdefault(stub_path, []).append(number)
    return {s: sorted(v) for s, v in found.items()}
