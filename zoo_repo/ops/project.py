"""Moving the remote's projection forward to the release branch.

Only this module writes what consumers without git see (``core.projection``):
``publish`` and ``tag`` call it after committing on the release branch, and
``zoo push`` calls it (the after-merge CI step). The steps, each safe to
repeat, so a killed or failed move leaves the remote as it was for readers:

1. read the remote's view (of the stubs the release branch changed since its
   commit: ``remote.index``) and check that the release branch descends from
   the commit it was made from (else ``ProjectionMoved``: never backwards,
   never sideways);
2. plan the move from git (``repo.release.plan_move``): the versions the
   branch adds, every alias it moved, every deprecation it made or took back;
3. make sure the new versions' objects are on the remote (uploading those
   the store has), then claim each version (create-if-absent manifest), a
   bounded batch of versions at a time (a first projection of a large zoo
   holds one batch's manifests, never all);
4. create the next log entry; if another writer took it first, start again
   from its view.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from zoo_repo.core import brief, packs
from zoo_repo.core.progress import Progress
from zoo_repo.core.projection import Projection
from zoo_repo.errors import ProjectionMoved, RemoteError, ZooError
from zoo_repo.ops.wanted import referenced
from zoo_repo.repo import release as rel
from zoo_repo.repo.workspace import Workspace

if TYPE_CHECKING:
    from zoo_repo.remote.base import Remote
    from zoo_repo.remote.transfer import Sent

_ATTEMPTS = 8  # writers racing for the same log entry: each loss means another moved it forward
BATCH = 512  # versions whose manifests a projection holds at once


@dataclass(frozen=True)
class ProjectResult:
    branch: str
    commit: str | None  # the projection's commit now
    before: str | None  # …and before
    added: tuple[str, ...] = ()  # stub@vN newly listed
    aliases: tuple[str, ...] = ()  # stubs whose aliases moved
    signatures: int = 0  # signature files the move mirrored (or found there already)
    deprecated: tuple[str, ...] = ()  # stubs whose deprecation changed
    objects: int = 0  # objects the move uploaded (its versions' that the remote lacked)
    bytes: int = 0

    @property
    def moved(self) -> bool:
        return self.commit != self.before


def check_can_move(zoo: Workspace, view: Projection, release: rel.Release) -> None:
    """ProjectionMoved unless the release branch is at or ahead of the view's commit."""
    if release.commit is None:
        return
    how = rel.relation(zoo.root, view.commit, release.commit)
    if how in ("same", "behind", "new"):
        return
    theirs = (view.commit or "")[:10]
    ours = f"{release.branch} ({release.commit[:10]})"
    if how == "diverged":
        raise ProjectionMoved(f"the remote lists commit {theirs} of {release.branch}, and this checkout's {ours} "
                              "is on another line of history", hint=f"git pull (merge {theirs}), then try again")
    raise ProjectionMoved(f"the remote lists commit {theirs} of {release.branch}, which this checkout's {ours} "
                          "does not have: another checkout published or tagged since",
                          hint="git pull, then try again")


def project(zoo: Workspace, *, jobs: int = 8, progress: Progress | None = None,
            locators: dict[tuple[str, int], packs.Locator] | None = None,
            present: frozenset[str] = frozenset()) -> ProjectResult:
    """Move the remote's projection to the release branch's commit (see the module docstring).

    ``locators`` are the pack slots of versions the caller just uploaded
    (publish); others get theirs from their parent's or the remote's packs.
    ``present``: objects the caller has just seen on the remote or sent there
    (publish), which are not asked about again.
    """
    from zoo_repo.remote import index, meta

    release = rel.release_of(zoo.root)
    remote = zoo.remote()
    for _ in range(_ATTEMPTS):
        # Only the shards of the stubs the release branch changed since the view's commit.
        state = index.read_state(remote, lambda head: rel.touched_stubs(zoo.root, head, release), writing=True)
        view = state.view
        if release.commit is not None and view.commit == release.commit:
            return ProjectResult(release.branch, view.commit, view.commit)
        check_can_move(zoo, view, release)
        plan = rel.plan_move(zoo.root, view, release)
        if plan.unseen:  # a deprecation names a successor in a shard not read yet
            state = index.widen(remote, state, plan.unseen)
            view = state.view
            plan = rel.plan_move(zoo.root, view, release)
        _put_trust(remote, plan)
        if plan.move.empty and view.commit is not None:
            # Nothing consumers see changed (commits outside manifests/, or signatures
            # only, which need no listing): no log entry for it.
            _put_signatures(remote, plan)
            return ProjectResult(release.branch, view.commit, view.commit, signatures=len(plan.signatures))
        latest, sent = _put_versions(zoo, remote, plan, jobs, progress, locators or {}, present)
        _put_signatures(remote, plan)  # before the listing: a listed version is never seen unsigned
        if meta.write_move(remote, state, replace(plan.move, latest=latest)) is not None:
            return ProjectResult(release.branch, release.commit, view.commit,
                                 tuple(v.ref for v in plan.versions), tuple(sorted(plan.move.aliases)),
                                 len(plan.signatures), tuple(sorted(plan.move.deprecated)), sent.objects, sent.bytes)
    raise RemoteError(f"remote {remote.url}: other writers kept moving its projection while this one was made",
                      hint="run `zoo push` again")


def _put_versions(zoo: Workspace, remote: Remote, plan: rel.MovePlan, jobs: int, progress: Progress | None,
                  locators: dict[tuple[str, int], packs.Locator],
                  present: frozenset[str]) -> tuple[dict[str, brief.Brief], Sent]:
    """Every new version's objects, then its claim (card, locator, manifest), on the
    remote; returns the brief of each stub's newest new version (``core.brief``), made
    from the manifest read here, for the move to carry. Manifests are read ``BATCH``
    versions at a time, twice: once for the names and sizes of the objects they
    reference (all the remote is asked about, in one inventory: a listing per batch
    would cost the remote's size each time), once for the claims. Claims are not
    listings: until the move is written no consumer sees any of them, so a publisher
    stopped at any point leaves the remote as readers knew it, and the next run finds
    its claims made."""
    from zoo_repo.remote import transfer

    sizes: dict[str, int | None] = {}
    latest: dict[str, brief.Brief] = {}
    for manifests in _batches(zoo, plan):
        for oid, (digest, _) in referenced(m for _, m, _, _ in manifests).items():
            if oid not in present:  # a listing of the whole remote again, for a publish's own objects
                sizes[oid] = None if digest is None else digest.size
        latest.update(_briefs(plan, manifests))
    zoo.flush()  # what the parse cache learned, for the second reading and the next command
    missing = remote.missing(sizes, jobs=jobs, sizes=sizes)
    del sizes
    lost = {oid for oid in missing if not zoo.store.has(oid)}
    if lost:
        raise RemoteError(f"{_label(zoo, plan, lost)}: in neither the store nor the remote ({len(lost)} objects): "
                          "the remote cannot list these versions without their files",
                          hint="run `zoo push` in a checkout that has them (where they were published)")
    sent = transfer.send(zoo.store, remote, sorted(missing), jobs=jobs, progress=progress) if missing \
        else transfer.Sent(0, 0, {})
    slots = dict(sent.slots)
    every: packs.Locator | None = None
    for batch in _batches(zoo, plan, parse=bool(remote.packs)):
        claims: list[tuple[rel.NewVersion, str, str, str | None]] = []
        for v, manifest, text, card in batch:
            locator = locators.get((v.stub, v.version))
            if locator is None and manifest is not None:
                if every is None:
                    every = {**transfer.all_slots(remote), **slots}
                # Looked up by the version's objects: the remote's packs may hold a million.
                locator = {f.md5: every[f.md5] for f in manifest.files if f.md5 in every}
            claims.append((v, text, card, packs.render_locator(locator) if locator else None))
        _claim_all(remote, claims, jobs)
    return latest, sent


Batch = list[tuple[rel.NewVersion, Any, str, str]]


def _batches(zoo: Workspace, plan: rel.MovePlan, parse: bool = True) -> Iterator[Batch]:
    """The plan's versions ``BATCH`` at a time: (version, its manifest parsed or None, its text, its card)."""
    for start in range(0, len(plan.versions), BATCH):
        yield [(v, zoo.parse_manifest(text, f"{v.ref} at {plan.move.branch}") if parse else None, text, card)
               for v, text, card in rel.version_texts(zoo.root, plan.versions[start:start + BATCH])]


def _briefs(plan: rel.MovePlan, batch: Batch) -> Iterator[tuple[str, brief.Brief]]:
    """The briefs of the versions in ``batch`` that are the newest the move adds of their stub."""
    from zoo_repo.core.manifest import digest_of

    for v, manifest, text, _ in batch:
        added = plan.move.added.get(v.stub, {})
        made = brief.of_manifest(manifest, digest_of(text)) if manifest is not None else None
        if made is not None and brief.fits(made, added):
            yield v.stub, made


def _label(zoo: Workspace, plan: rel.MovePlan, lost: set[str]) -> str:
    """The first of ``lost`` as the version file that names it (read again: this is the error's path only)."""
    for batch in _batches(zoo, plan):
        for _, manifest, _, _ in batch:
            for oid, (_, label) in referenced([manifest]).items():
                if oid in lost:
                    return label
    return sorted(lost)[0]


def _claim_all(remote: Remote, claims: list[tuple[rel.NewVersion, str, str, str | None]], jobs: int) -> None:
    """Claim each version, ``jobs`` at a time (each claim is a few small requests)."""
    from concurrent.futures import ThreadPoolExecutor

    from zoo_repo.remote import meta

    def one(claim: tuple[rel.NewVersion, str, str, str | None]) -> None:
        v, text, card, locator = claim
        meta.claim_version(remote, v.stub, v.version, text, card, locator)

    if len(claims) <= 1 or jobs <= 1:
        for claim in claims:
            one(claim)
        return
    with ThreadPoolExecutor(max_workers=min(jobs, len(claims))) as pool:
        for _ in pool.map(one, claims):
            pass  # the first claim that failed raises here


def _put_signatures(remote: Remote, plan: rel.MovePlan) -> None:
    """The branch's new signature files, beside their manifests: created, never replaced."""
    from zoo_repo.remote import meta

    for sig in plan.signatures:
        if not meta.put_signature(remote, sig.stub, sig.version, sig.name, sig.text):
            key = meta.signature_key(sig.stub, sig.version, sig.name)
            if remote.get_text(key) != sig.text:
                # Something else sits under the committed signature's name (junk, or a
                # crafted file): the remote is a mirror, and git's copy is the one.
                remote.put_text(key, sig.text)


def _put_trust(remote: Remote, plan: rel.MovePlan) -> None:
    """The branch's trust.yaml, for git-less consumers to find keys in (their pins decide)."""
    from zoo_repo.remote import meta

    if plan.trust_text is not None and remote.get_text(meta.TRUST) != plan.trust_text:
        remote.put_text(meta.TRUST, plan.trust_text)


def after_commit_hint(exc: ZooError) -> str:
    """What to run when the commit is made but the listing could not follow it."""
    if isinstance(exc, ProjectionMoved):  # someone moved it meanwhile: their commits first
        return "git pull (merge their commits), then `zoo push`"
    return "run `zoo push` once the remote is reachable" if isinstance(exc, RemoteError) else \
        f"{exc.hint + '; then ' if exc.hint else ''}run `zoo push`"
