"""``zoo publish``: a model directory becomes the next version of a stub. Plan first, then act.

Order is the invariant (docs/design.md): validate everything, put objects in
the store, push them to the remote, and only then write the manifest
directory (atomically, by renaming a complete temp directory) and commit it.
A manifest therefore never names an object the remote lacks. On the release
branch the version is also claimed on the remote before the commit (of two
checkouts publishing the same number, one commits and the other is told to
`git pull`), and listed for consumers after it (``ops.project``). Anywhere
else (another branch, ``branch=``, ``commit=False``) nothing but objects
reaches the remote: consumers see the version once it is merged and pushed.

``ops.publishplan`` reads, validates, stores the objects and decides (a
``PublishPlan``: files and roles, validation, entries, the version or that the
content is already published, what to upload); ``execute`` carries the plan
out. Both run under the store's shared lock and the publish lock, which
``publish`` holds from storing the objects to committing the version.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.core import packs
from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest, digest_of
from zoo_repo.core.progress import Progress
from zoo_repo.core.publishing import new_manifest
from zoo_repo.core.stub import Stub
from zoo_repo.core.trust import SIGNATURES
from zoo_repo.core.words import human_size
from zoo_repo.errors import ModelDirError, RemoteError, ToolError, ZooError
from zoo_repo.model import validate
from zoo_repo.ops.publishplan import PublishPlan, ingest, plan_version, scan_model, snapshot_dir
from zoo_repo.remote import transfer
from zoo_repo.remote.early import EarlyUploads
from zoo_repo.repo import dvc, git, gitcommit
from zoo_repo.repo.release import on_release_branch, release_of
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import clear_stale_temps, install_dir, temp_name, write_bytes_atomic, write_text_atomic
from zoo_repo.store.lock import file_lock

if TYPE_CHECKING:
    from zoo_repo.remote.base import Remote


@dataclass(frozen=True)
class PublishResult:
    manifest: Manifest
    created: bool  # False: identical to the latest version, nothing written
    uploaded_objects: int = 0
    uploaded_bytes: int = 0
    commit: str | None = None
    branch: str | None = None  # set when the version was committed on a new branch
    # The version's files whose content the remote lacked, and their bytes (each object once):
    # what the user recognises; uploaded_objects/bytes also count the hidden .dir file list.
    uploaded_files: int = 0
    uploaded_file_bytes: int = 0
    listed: bool = False  # consumers without git see it now (committed on the release branch, projected)
    ignored: tuple[str, ...] = ()  # what .zooignore and the defaults kept out of the version
    archive_skipped: str = ""  # why no model.onnx.tar.gz was generated, when none was

    @property
    def ref(self) -> str:
        return f"{self.manifest.stub}@{self.manifest.version_name}"


def publish(
    zoo: Workspace,
    model_dir: Path,
    stub: Stub,
    message: str | None = None,
    commit: bool = True,
    jobs: int = 8,
    branch: str | None = None,
    progress: Progress | None = None,
    version: int | None = None,
    run: bool = True,
    rtol: float = validate.DEFAULT_RTOL,
    atol: float = validate.DEFAULT_ATOL,
    sign_key: Path | None = None,
) -> PublishResult:
    """Publish ``model_dir`` as the next version of ``stub``.

    With ``branch`` (``""`` for ``publish/<stub>/vN``), the version is committed
    on a new branch for review, leaving the working tree and current branch
    untouched; it reaches consumers without git when `zoo push` runs after
    the merge. ``sign_key`` (an EC private key file) adds the publisher's
    signature to the version, in the same commit.
    """
    zoo.root  # noqa: B018 - publishing needs a checkout; this raises the clear error early
    if sign_key is not None:
        from zoo_repo.model import signature

        signature.public_key_of(sign_key)  # a key that cannot sign is refused before any work
    remote = zoo.remote()
    if not remote.writable:
        raise RemoteError(f"remote {remote.url} is read-only ({remote.protocol}://); publish to a writable one",
                          hint="set the zoo's remote with `dvc remote modify origin url URL`")
    _check_not_the_zoo(zoo, model_dir)
    # Shared: gc must not remove objects this publish stored (or validates
    # from) before its manifest exists to reference them.
    # Small objects go up as they are stored, once the model is validated (``remote.early``);
    # not with ``version``, which plan_version may refuse once the content is known.
    with zoo.store.lock(shared=True), snapshot_dir(zoo) as snapshot, EarlyUploads(zoo.store, remote, jobs) as early:
        scan = scan_model(zoo, model_dir, stub, run, rtol, atol, progress, snapshot=snapshot, message=message,
                          scanned=None if version is not None else lambda files: early.start(len(files)))
        entries = ingest(zoo, scan, progress, stored=early.offer)
        # One publish at a time per checkout: choosing the next version number
        # and committing it must not interleave with another process doing the same.
        with file_lock(zoo.root / ".zoo" / "publish.lock"):
            plan = plan_version(zoo, stub, scan, entries, version, jobs, early)
            result = execute(zoo, plan, message=message, commit=commit, branch=branch, jobs=jobs,
                             progress=progress, sign_key=sign_key, early=early)
            return dataclasses.replace(result, ignored=scan.ignored, archive_skipped=scan.archive_skipped)


def _check_not_the_zoo(zoo: Workspace, model_dir: Path) -> None:
    """A model directory holding the zoo would publish its store and manifests, and git's and DVC's files."""
    here = model_dir.resolve()
    if zoo.root.resolve().is_relative_to(here):
        raise ModelDirError(str(model_dir), f"contains the zoo itself ({zoo.root}); publish the model's own folder")


def execute(zoo: Workspace, plan: PublishPlan, *, message: str | None, commit: bool, branch: str | None,
            jobs: int, progress: Progress | None, sign_key: Path | None = None,
            early: EarlyUploads | None = None) -> PublishResult:
    """Carry out ``plan``: upload, then write and commit the version (or put it on
    a new branch). On the release branch the version is claimed on the remote
    before it is committed, and listed for consumers after. The caller holds the
    locks ``publish`` takes."""
    existing = plan.version.existing
    release = commit and branch is None and on_release_branch(zoo.root)
    if existing is not None:
        if plan.version.finish:
            _finish_interrupted(zoo, existing, commit, release)
        return PublishResult(existing, created=False)
    remote = zoo.remote()
    if release:
        _check_current(zoo, remote)  # before any work: a stale main would lose its claim, or its move
    sent = transfer.send(zoo.store, remote, plan.upload, jobs=jobs, progress=progress, early=early)
    manifest = _manifest(zoo, plan, message)
    signed = _signed(zoo, manifest, sign_key)
    new = _new_files(plan)
    message = message or f"Publish {plan.stub}@{manifest.version_name} ({human_size(manifest.size)})"
    if branch is not None:
        name = branch or f"publish/{plan.stub}/{manifest.version_name}"
        branch_sha = _commit_on_branch(zoo, manifest, plan.scan.card_path, name, message, signed)
        return PublishResult(manifest, True, sent.objects, sent.bytes, branch_sha, name, *new)
    final = _write_version_dir(zoo, manifest, plan.scan.card_path, signed)
    zoo.made_manifest(manifest)
    if not release:
        sha = _commit(zoo, manifest, final, message) if commit else None
        return PublishResult(manifest, True, sent.objects, sent.bytes, sha, None, *new)
    locator = transfer.version_locator(remote, manifest, sent.slots)
    made = _claim(remote, manifest, final, locator)
    try:
        sha = _commit(zoo, manifest, final, message)
    except ZooError:
        if made:
            _release(remote, manifest, final)
        raise
    # Every object of the version is on the remote: listed there by the plan, or just sent.
    present = frozenset({*(e.md5 for e in plan.entries), *([plan.tree_oid] if plan.tree_oid else [])})
    _list(zoo, manifest, {(str(manifest.stub), manifest.version): locator}, jobs, present)
    return PublishResult(manifest, True, sent.objects, sent.bytes, sha, None, *new, listed=True)


def _check_current(zoo: Workspace, remote: Remote) -> None:
    from zoo_repo.ops.project import check_can_move
    from zoo_repo.remote import meta

    check_can_move(zoo, meta.read_head(remote), release_of(zoo.root))  # the commit only: no shard


def _claim(remote: Remote, manifest: Manifest, final: Path, locator: packs.Locator) -> bool:
    """Take ``stub@vN`` on the remote; when another checkout holds it, the
    version directory goes again and nothing is committed."""
    from zoo_repo.remote import meta

    try:
        return meta.claim_version(remote, str(manifest.stub), manifest.version,
                                  (final / MANIFEST_NAME).read_text(encoding="utf-8"),
                                  (final / CARD_NAME).read_text(encoding="utf-8"),
                                  packs.render_locator(locator) if locator else None)
    except ZooError:
        shutil.rmtree(final, ignore_errors=True)
        raise


def _release(remote: Remote, manifest: Manifest, final: Path) -> None:
    """Give the number back after a failed commit (``_commit`` removed the directory)."""
    from zoo_repo.remote import meta

    try:
        meta.release_claim(remote, str(manifest.stub), manifest.version, manifest.to_text())
    except ZooError:
        pass  # the commit's error is the one to report; a stale claim only costs the number


def _new_files(plan: PublishPlan) -> tuple[int, int]:
    """How many of the version's files were uploaded, and their bytes (each object once)."""
    sent = set(plan.upload)
    new = [e for e in plan.entries if e.md5 in sent]
    return len(new), sum({e.md5: e.size for e in new}.values())


def _manifest(zoo: Workspace, plan: PublishPlan, message: str | None) -> Manifest:
    """The new version's manifest, stamped now, by this checkout's git identity."""
    if plan.tree_oid is None:
        raise ValueError("the plan's content is already published: it makes no manifest")
    name, email = git.identity(zoo.root)
    return new_manifest(plan.stub, plan.version, plan.entries, plan.tree_oid,
                        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        publisher=f"{name} <{email}>", message=message, card=plan.scan.card,
                        onnx=plan.scan.validation.onnx, run=plan.scan.validation.run)


def _signed(zoo: Workspace, manifest: Manifest, sign_key: Path | None) -> dict[str, bytes]:
    """The publisher's signature of the new version, as files of its directory."""
    if sign_key is None:
        return {}
    from zoo_repo.ops.sign import signature_for

    name, bundle, _ = signature_for(zoo, manifest, sign_key, "publisher", digest_of(manifest.to_text()))
    return {f"{SIGNATURES}/{name}": bundle}


def _commit_on_branch(zoo: Workspace, manifest: Manifest, card_path: Path, branch: str, message: str,
                      signed: dict[str, bytes]) -> str:
    rel = f"manifests/{manifest.stub}/{manifest.version_name}"
    files = {
        f"{rel}/{MANIFEST_NAME}": manifest.to_text().encode("utf-8"),
        f"{rel}/{CARD_NAME}": card_path.read_bytes(),
        f"{rel}/{dvc.POINTER_NAME}": _pointer(manifest).encode("utf-8"),
        **{f"{rel}/{name}": data for name, data in signed.items()},
    }
    return git.commit_to_new_branch(zoo.root, branch, files, message)


def _commit(zoo: Workspace, manifest: Manifest, final: Path, message: str) -> str:
    rel = final.relative_to(zoo.root).as_posix()
    try:
        return gitcommit.commit(zoo.root, [rel], message)
    except ToolError as exc:
        # An uncommitted version would look published to this checkout
        # only; take it back so a retry starts from the same state.
        git.unstage(zoo.root, [rel])
        shutil.rmtree(final, ignore_errors=True)
        raise ToolError(f"{exc.message}; {manifest.stub}@{manifest.version_name} was not published",
                        hint="fix the git problem (e.g. a failing hook) and publish again") from exc


def _list(zoo: Workspace, manifest: Manifest, locators: dict[tuple[str, int], packs.Locator], jobs: int,
          present: frozenset[str] = frozenset()) -> None:
    """Move the remote's projection to the commit just made, so consumers without git see the version."""
    from zoo_repo.ops.project import after_commit_hint, project

    try:
        project(zoo, jobs=jobs, locators=locators, present=present)
    except ZooError as exc:
        raise RemoteError(
            f"{manifest.stub}@{manifest.version_name} is committed, but consumers without git do not see it "
            f"yet: {exc.message}", hint=after_commit_hint(exc),
        ) from exc


def _finish_interrupted(zoo: Workspace, latest: Manifest, commit: bool, release: bool) -> None:
    """A publish killed after writing its version can leave it uncommitted or
    unlisted; publishing the same content again finishes the job."""
    final = zoo.version_dir(latest.stub, latest.version)
    rel = final.relative_to(zoo.root).as_posix()
    tracked = git.is_tracked(zoo.root, f"{rel}/{MANIFEST_NAME}")
    if release and not tracked:
        _check_current(zoo, zoo.remote())
        _claim(zoo.remote(), latest, final, {})
    if commit and not tracked:
        gitcommit.commit(zoo.root, [rel], f"Publish {latest.stub}@{latest.version_name} "
                                        f"({human_size(latest.size)}), completing an interrupted publish")
    if release:
        _list(zoo, latest, {}, 8)


def _pointer(manifest: Manifest) -> str:
    return dvc.pointer_text(manifest.tree_md5, manifest.size, len(manifest.files))


def _write_version_dir(zoo: Workspace, manifest: Manifest, card_path: Path,
                       signed: dict[str, bytes] | None = None) -> Path:
    """Build the version directory under a temp name, then rename it into place."""
    parent = zoo.manifests_dir / manifest.stub.path
    parent.mkdir(parents=True, exist_ok=True)
    clear_stale_temps(parent)
    final = parent / manifest.version_name
    tmp = temp_name(final)
    try:
        tmp.mkdir()
        write_text_atomic(tmp / MANIFEST_NAME, manifest.to_text())
        shutil.copyfile(card_path, tmp / CARD_NAME)
        write_text_atomic(tmp / dvc.POINTER_NAME, _pointer(manifest))
        for name, data in (signed or {}).items():
            write_bytes_atomic(tmp / name, data)
        if not install_dir(tmp, final):
            raise ZooError(f"{manifest.stub}@{manifest.version_name} appeared while publishing; publish again")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
