"""Whether a version carries the signatures its consumer's pins require.

The pins in force (``in_force``) are, first found: the ``trust=`` a zoo was
opened with, the lockfile's ``trust:``, then what the user pinned for this
remote (``zoo trust add``). None of them comes from the checkout or the remote
being read. Public keys may come from anywhere (a pin's own key, the
checkout's trust.yaml, the remote's copy of it): a key counts only for the
signer whose pinned fingerprint it has.

``require`` runs before a pull places any file. A met verdict is remembered
(authenticated with the user's key, ``store.statcache``) by the manifest
digest and the pins: a pull that changes nothing asks the remote for no
signature, verifies nothing again and imports no cryptography.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from zoo_repo.core import trust as tr
from zoo_repo.core.manifest import Manifest
from zoo_repo.errors import ManifestError, SignatureError, Unsigned, UsageError, ZooError
from zoo_repo.repo.workspace import Workspace


@dataclass(frozen=True)
class Signed:
    """A version's signatures as judged by ``trust``: who approved it, and, when the
    pins were not met but ``allow_unsigned`` let the pull go on, why (``waived``)."""

    ref: str
    approvers: tuple[str, ...]
    waived: str | None = None


def in_force(zoo: Workspace) -> tr.Trust | None:
    """The first of the pins a pull from ``zoo`` is judged by (``requirements``), or None."""
    found = requirements(zoo)
    return found[0] if found else None


def requirements(zoo: Workspace, trust: tr.Trust | None = None) -> list[tr.Trust]:
    """Every set of pins a pull from ``zoo`` must meet: ``trust`` (or the zoo's
    ``trust=``, or its lockfile's), and each entry of the user's own pins that applies
    to its remote. The user's pins are a floor: a lockfile or a caller can add
    signers to satisfy, never take the user's away."""
    from zoo_repo.repo import usertrust

    chosen = trust or zoo.trust or (zoo.pins.trust if zoo.pins is not None else None)
    found = [chosen] if chosen is not None else []
    if usertrust.config_path().is_file():  # else not even the zoo's remote needs looking up
        found += [t for t in usertrust.pinned(zoo.remote_url) if t != chosen]
    return found


def policy(zoo: Workspace, text: str | None = None) -> tr.Trust | None:
    """The zoo's own trust.yaml (the checkout's, or ``text``), each signer with its
    key's fingerprint; None when it has none."""
    from zoo_repo.model import vouch

    text = zoo.trust_text() if text is None else text
    return vouch.policy_from_text(text) if text is not None else None


def reviewed_policy(zoo: Workspace) -> tr.Trust | None:
    """trust.yaml as committed on the release branch (None when it has none, or the
    branch does not exist yet): what review accepted, whatever is checked out."""
    from zoo_repo.repo import git
    from zoo_repo.repo.release import release_of

    release = release_of(zoo.root)
    if release.commit is None:
        return None
    text = git.show(zoo.root, release.commit, tr.TRUST_NAME)
    return policy(zoo, text) if text is not None else None


def keys_for(zoo: Workspace, trust: tr.Trust) -> dict[str, bytes]:
    """fingerprint → PEM for every pinned signer a key is known for."""
    from zoo_repo.model import signature

    keys: dict[str, bytes] = {}
    for s in trust.signers:
        if s.key and s.fingerprint and signature.fingerprint(s.key.encode()) == s.fingerprint:
            keys[s.fingerprint] = s.key.encode()
    wanted = {s.fingerprint for s in trust.signers if s.fingerprint not in keys}
    if wanted:
        try:
            found = policy(zoo)
        except ZooError:  # a damaged copy of trust.yaml gives no keys: those signers count as absent
            found = None
        for s in found.signers if found else ():
            if s.fingerprint and s.fingerprint in wanted and s.key:
                keys[s.fingerprint] = s.key.encode()
    return keys


NOT_PINNED = "signed by a key that is not pinned"


def examine(zoo: Workspace, manifest: Manifest, digest: str, keys: dict[str, bytes],
            files: Sequence[tuple[str, bytes]] | None = None, unknown: str = NOT_PINNED) -> list[tr.Seen]:
    """Each signature file of the version, checked with the key its hint names (or,
    for a bundle without a hint, each key in turn: ``model.vouch``); ``unknown``
    says why one made with none of ``keys`` does not count."""
    from zoo_repo.model import vouch

    if files is None:
        files = zoo.signature_files(manifest.stub, manifest.version)
    return vouch.examine(files, manifest, digest, keys, unknown)


def require(zoo: Workspace, manifest: Manifest, trust: tr.Trust | None = None) -> Signed | None:
    """Check ``manifest``'s version against every set of pins in force
    (``requirements``): None when there are none; the verdict when it meets them all;
    ``Unsigned`` (nothing placed) when it does not, unless the zoo allows unsigned
    versions (then ``Signed.waived`` says why)."""
    needed = requirements(zoo, trust)
    if not needed:
        return None
    ref = f"{manifest.stub}@{manifest.version_name}"
    digest = zoo.digest(manifest.stub, manifest.version)
    cache = zoo.statcache()
    approvers: list[str] = []
    seen: list[tr.Seen] | None = None
    for pins in needed:
        # Signatures are only ever added, and a signer stops counting only by leaving the
        # pins (which changes the key): a version that met these pins once meets them
        # still, so a no-op pull asks the remote for nothing and verifies nothing.
        key = _verdict_key(digest, pins)
        remembered = cache.get_doc("signed", key)
        if isinstance(remembered, list) and all(isinstance(n, str) for n in remembered):
            approvers += [n for n in remembered if n not in approvers]
            continue
        if seen is None:
            keys: dict[str, bytes] = {}
            for each in needed:
                keys.update(keys_for(zoo, each))
            seen = examine(zoo, manifest, digest, keys)
        problem = tr.judge(pins, ref, seen)
        if problem is not None:
            if zoo.allow_unsigned:
                return Signed(ref, tuple(approvers + tr.approvers(pins, seen)), waived=problem)
            raise Unsigned(ref, problem, hint=f"ask a signer it names to run `zoo approve {ref} --key KEY` "
                                              "(and `zoo push`), or pull with --allow-unsigned")
        names = tr.approvers(pins, seen)
        cache.put_doc("signed", key, names)
        approvers += [n for n in names if n not in approvers]
    cache.flush()
    return Signed(ref, tuple(approvers))


def _verdict_key(digest: str, trust: tr.Trust) -> str:
    """What a met verdict depends on: the manifest and the pins."""
    parts = [digest, str(trust.approvals), *sorted(f"{s.name}={s.fingerprint}" for s in trust.signers)]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def report(zoo: Workspace, manifest: Manifest) -> list[tr.Seen]:
    """Every signature of the version, checked with every key known for it: the zoo's
    trust.yaml and the pins in force (for ``zoo show``, ``zoo review``, the catalog)."""
    known = known_signers(zoo)
    from zoo_repo.model.vouch import NOT_LISTED

    return examine(zoo, manifest, zoo.digest(manifest.stub, manifest.version), keys_for(zoo, known),
                   unknown=NOT_LISTED)


def known_signers(zoo: Workspace) -> tr.Trust:
    """The pins in force and the zoo's own trust.yaml together: whom a signature may be
    shown as made by (judging a pull uses the pins alone)."""
    pins = in_force(zoo)
    try:
        own = policy(zoo)
    except ZooError:
        own = None
    signers = list(pins.signers if pins else ())
    for s in own.signers if own else ():
        if all(p.fingerprint != s.fingerprint for p in signers):
            signers.append(s)
    return tr.Trust(tuple(signers), 1, pins.where if pins else (own.where if own else tr.TRUST_NAME))


def check_key_file(path: str) -> tuple[bytes, str]:
    """A public key file's PEM and fingerprint, or one line saying what it is not."""
    from zoo_repo.model import signature
    from zoo_repo.model.readfile import read_bounded

    try:
        pem = read_bounded(path, signature.KEY_LIMIT, path)
    except FileNotFoundError:
        raise SignatureError(path, "no such key file") from None
    try:
        return pem, signature.fingerprint(pem)
    except SignatureError as exc:
        raise SignatureError(path, exc.problem) from None


def as_trust(value: object) -> tr.Trust:
    """``Zoo.open(trust=)``: a Trust, or a mapping of signer name → public key (PEM
    bytes, or a path to a PEM file); one approval from any of them is required."""
    if isinstance(value, tr.Trust):
        return value
    if not isinstance(value, dict) or not value:
        raise ManifestError("trust=", "expected a Trust or a mapping of signer name to public key file")
    from zoo_repo.model import signature

    signers = []
    for name, key in value.items():
        pem = key if isinstance(key, bytes) else check_key_file(str(key))[0]
        signers.append(tr.Signer(str(name), signature.fingerprint(pem), pem.decode("ascii", "replace")))
    return tr.Trust(tuple(signers), 1, "trust=")


def add_to_policy(zoo: Workspace, name: str, key_file: str, approvals: int | None = None) -> tr.Trust:
    """Add (or re-key) signer ``name`` in the checkout's trust.yaml, written for review
    (not committed: a policy change is a change like any other)."""
    from zoo_repo.store.atomic import write_text_atomic

    pem, fingerprint = check_key_file(key_file)
    current = policy(zoo) or tr.Trust((), 1)
    updated = tr.with_signer(current, tr.Signer(name, fingerprint, pem.decode("ascii")))
    if approvals is not None:
        updated = replace(updated, approvals=approvals)
    text = tr.render_policy(updated)
    tr.parse_policy(text)  # the same rules as every reader: never write what they would refuse
    write_text_atomic(zoo.root / tr.TRUST_NAME, text)
    return updated


def pin_everywhere(name: str, key_file: str, approvals: int | None = None) -> tuple[tr.Trust, str]:
    """Pin signer ``name`` for every remote in the user's config; (pins now, the file)."""
    return _pin(None, name, key_file, approvals)


def unpin_everywhere(name: str) -> tuple[tr.Trust | None, str]:
    return _unpin(None, name)


def pin_signer(zoo: Workspace, name: str, key_file: str, approvals: int | None = None,
               every_remote: bool = False) -> tuple[tr.Trust, str]:
    """Pin signer ``name`` for this zoo's remote (or, with ``every_remote``, for every
    remote) in the user's config; (pins now, the file)."""
    url = None if every_remote else zoo.remote_url
    if url is None and not every_remote:
        raise UsageError(f"{zoo!r} has no remote to pin signers for",
                         hint="pin inside a zoo checkout, or name the remote with `remote=`")
    return _pin(url, name, key_file, approvals)


def _pin(url: str | None, name: str, key_file: str, approvals: int | None) -> tuple[tr.Trust, str]:
    from zoo_repo.repo import usertrust

    pem, fingerprint = check_key_file(key_file)
    current = usertrust.pinned_for(url) or tr.Trust((), 1)
    updated = tr.with_signer(current, tr.Signer(name, fingerprint, pem.decode("ascii")))
    if approvals is not None:
        updated = replace(updated, approvals=approvals)
    return updated, str(usertrust.save(url, updated))


def remove_from_policy(zoo: Workspace, name: str) -> tr.Trust | None:
    """Remove signer ``name`` from trust.yaml (written for review); the policy left, None
    when trust.yaml is gone with its last signer."""
    from zoo_repo.store.atomic import write_text_atomic

    current = policy(zoo)
    if current is None or all(s.name != name for s in current.signers):
        raise UsageError(f"{name!r} is not a signer in {tr.TRUST_NAME}")
    left = tuple(s for s in current.signers if s.name != name)
    if not left:
        (zoo.root / tr.TRUST_NAME).unlink()
        return None
    updated = replace(current, signers=left, approvals=min(current.approvals, len(left)))
    write_text_atomic(zoo.root / tr.TRUST_NAME, tr.render_policy(updated))
    return updated


def unpin_signer(zoo: Workspace, name: str, every_remote: bool = False) -> tuple[tr.Trust | None, str]:
    """Remove the user's pin of ``name`` for this zoo's remote (or every remote's); (pins left, the file)."""
    url = None if every_remote else zoo.remote_url
    if url is None and not every_remote:
        raise UsageError(f"{name!r} is not pinned for this zoo")
    return _unpin(url, name)


def _unpin(url: str | None, name: str) -> tuple[tr.Trust | None, str]:
    from zoo_repo.repo import usertrust

    every_remote = url is None
    current = usertrust.pinned_for(url)
    if current is None or all(s.name != name for s in current.signers):
        raise UsageError(f"{name!r} is not pinned for {'every remote' if every_remote else url or 'this zoo'}")
    left = tuple(s for s in current.signers if s.name != name)
    updated = replace(current, signers=left, approvals=min(current.approvals, len(left))) if left else None
    return updated, str(usertrust.save(url, updated))
