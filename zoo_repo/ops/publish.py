"""``zoo publish``: a model directory becomes the next version of a stub.

Order is the invariant (docs/design.md): validate everything, put objects in
the store, push them to the remote, and only then write the manifest
directory (atomically, by renaming a complete temp directory) and commit it.
A manifest therefore never names an object the remote lacks.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_repo.catalog.index import human_size
from zoo_repo.core import packs
from zoo_repo.core.card import CARD_NAME, Card, check_stub_agrees, parse_card
from zoo_repo.core.manifest import MANIFEST_NAME, FileEntry, Manifest
from zoo_repo.core.progress import Progress
from zoo_repo.core.stub import Stub
from zoo_repo.errors import CardError, ModelDirError, RemoteError, ToolError, UsageError, ZooError
from zoo_repo.model import layout, validate
from zoo_repo.model.archive import write_onnx_archive
from zoo_repo.remote import transfer
from zoo_repo.repo import dvc, git
from zoo_repo.repo.workspace import Workspace
from zoo_repo.store.atomic import clear_stale_temps, install_dir, temp_name, write_text_atomic
from zoo_repo.store.digest import Digest
from zoo_repo.store.lock import file_lock

if TYPE_CHECKING:
    from zoo_repo.remote.base import Remote

_ARCHIVE_KIND = "onnx.tar.gz/v1"


@dataclass(frozen=True)
class PublishResult:
    manifest: Manifest
    created: bool  # False: identical to the latest version, nothing written
    uploaded_objects: int = 0
    uploaded_bytes: int = 0
    commit: str | None = None
    branch: str | None = None  # set when the version was committed on a new branch

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
) -> PublishResult:
    """Publish ``model_dir`` as the next version of ``stub``.

    With ``branch`` (``""`` for ``publish/<stub>/vN``), the version is committed
    on a new branch for review, leaving the working tree and current branch
    untouched; it reaches consumers without git when `zoo push` runs after
    the merge.
    """
    zoo.root  # noqa: B018 - publishing needs a checkout; this raises the clear error early
    remote = zoo.remote()
    if not remote.writable:
        raise RemoteError(f"remote {remote.url} is read-only ({remote.protocol}://); publish to a writable one",
                          hint="set the zoo's remote with `dvc remote modify origin url URL`")
    files = layout.scan(model_dir, stub.framework)
    by_path = {f.relpath: f for f in files}
    card = _read_card(model_dir, by_path)
    check_stub_agrees(card, stub)
    if layout.ONNX_NAME not in by_path:
        raise ModelDirError(str(model_dir), "has no model.onnx; every model needs its ONNX graph")
    checked = _validate(files, by_path, run, rtol, atol)

    # Shared: gc must not remove objects this publish stored before its
    # manifest exists to reference them.
    with zoo.store.lock(shared=True):
        entries = [_ingest(zoo, f) for f in files]
        if layout.ARCHIVE_NAME not in by_path:
            onnx_entry = next(e for e in entries if e.path == layout.ONNX_NAME)
            entries.append(_archive(zoo, by_path[layout.ONNX_NAME].abspath, onnx_entry))
        entries.sort()
        zoo.statcache().flush()
        # One publish at a time per checkout: choosing the next version number
        # and committing it must not interleave with another process doing the same.
        with file_lock(zoo.root / ".zoo" / "publish.lock"):
            return _publish_locked(zoo, stub, entries, card, checked, by_path, message, commit, jobs,
                                   branch, progress, version)


def _publish_locked(zoo: Workspace, stub: Stub, entries: list[FileEntry], card: Card, checked: validate.Validation,
                    by_path: dict[str, layout.ModelFile], message: str | None, commit: bool, jobs: int,
                    branch: str | None, progress: Progress | None, version: int | None) -> PublishResult:
    versions = zoo.versions(stub)
    content = tuple(sorted((e.path, e.sha256) for e in entries))
    if version is not None and version in versions:
        held = zoo.manifest(stub, version)
        if held.content_key() == content:
            return PublishResult(held, created=False)
        raise UsageError(
            f"{stub}@v{version} is already published with different content; versions are immutable",
            hint="publish without `version=` to make the next version",
            param="version",
        )
    latest = zoo.manifest(stub, versions[-1]) if versions else None
    if version is not None and version != (latest.version + 1 if latest else 1):
        raise UsageError(f"`version=` v{version}: the next version of {stub} is v{latest.version + 1 if latest else 1}",
                         param="version")
    if latest is not None and latest.content_key() == content:
        _finish_interrupted(zoo, latest, commit)
        return PublishResult(latest, created=False)
    remote = zoo.remote()

    tree_oid = zoo.store.add_bytes(dvc.tree_bytes((e.path, e.md5) for e in entries), ".dir")
    sizes = {e.md5: e.size for e in entries}
    sizes[tree_oid] = zoo.store.path(tree_oid).stat().st_size
    missing = remote.missing(sizes, jobs=jobs, sizes=sizes)
    sent = transfer.send(zoo.store, remote, missing, jobs=jobs, progress=progress)

    name, email = git.identity(zoo.root)
    manifest = Manifest(
        stub=stub,
        version=(latest.version + 1) if latest else 1,
        created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        publisher=f"{name} <{email}>",
        files=tuple(entries),
        tree_md5=tree_oid.removesuffix(".dir"),
        parent=latest.version if latest else None,
        message=message,
        card={k: v for k, v in card.metadata.items() if k in ("license", "description", "tags")},
        metrics=card.metrics,
        onnx=checked.onnx,
        validation=checked.run,
    )
    message = message or f"Publish {stub}@{manifest.version_name} ({human_size(manifest.size)})"
    if branch is not None:
        branch_name = branch or f"publish/{stub}/{manifest.version_name}"
        rel = f"manifests/{stub}/{manifest.version_name}"
        branch_files = {
            f"{rel}/{MANIFEST_NAME}": manifest.to_text().encode("utf-8"),
            f"{rel}/{CARD_NAME}": by_path[CARD_NAME].abspath.read_bytes(),
            f"{rel}/{dvc.POINTER_NAME}": _pointer(manifest).encode("utf-8"),
        }
        branch_sha = git.commit_to_new_branch(zoo.root, branch_name, branch_files, message)
        return PublishResult(manifest, True, sent.objects, sent.bytes, branch_sha, branch_name)
    final = _write_version_dir(zoo, manifest, by_path[CARD_NAME].abspath)
    sha: str | None = None
    if commit:
        rel = final.relative_to(zoo.root).as_posix()
        try:
            sha = git.commit(zoo.root, [rel], message)
        except ToolError as exc:
            # An uncommitted version would look published to this checkout
            # only; take it back so a retry starts from the same state.
            git.unstage(zoo.root, [rel])
            shutil.rmtree(final, ignore_errors=True)
            raise ToolError(f"{exc.message}; {stub}@{manifest.version_name} was not published",
                            hint="fix the git problem (e.g. a failing hook) and publish again") from exc
    _announce(zoo, remote, manifest, final, transfer.version_locator(remote, manifest, sent.slots))
    return PublishResult(manifest, True, sent.objects, sent.bytes, sha)


def _announce(zoo: Workspace, remote: Remote, manifest: Manifest, version_dir: Path, locator: packs.Locator) -> None:
    """Put the version where consumers without git find it: manifest, card, index."""
    from zoo_repo.remote import meta

    text = (version_dir / MANIFEST_NAME).read_text(encoding="utf-8")
    try:
        meta.upload_version(remote, str(manifest.stub), manifest.version, text,
                                   (version_dir / CARD_NAME).read_text(encoding="utf-8"),
                                   packs.render_locator(locator) if locator else None)
        meta.update_index(remote, [(str(manifest.stub), manifest.version, text)])
    except ZooError as exc:
        raise RemoteError(
            f"{manifest.stub}@{manifest.version_name} is published in git, but not yet listed on "
            f"the remote: {exc.message}",
            hint="run `zoo push` once the remote is reachable",
        ) from exc


def _validate(files: list[layout.ModelFile], by_path: dict[str, layout.ModelFile], run: bool,
              rtol: float, atol: float) -> validate.Validation:
    """Everything publish refuses about the files themselves, before anything is written."""
    onnx_path = by_path[layout.ONNX_NAME].abspath
    interface = validate.inspect_onnx(onnx_path)
    if layout.ARCHIVE_NAME in by_path:
        validate.check_archive(by_path[layout.ARCHIVE_NAME].abspath, onnx_path)
    for f in files:
        if f.role == "recipes":
            validate.check_recipe(f.abspath, f.relpath)
        elif f.role.startswith("sample-") and f.relpath.endswith(".tar.gz"):
            validate.check_tar_members(f.abspath, f.relpath)
    samples = {role: validate.sample_blobs([(f.relpath, f.abspath) for f in files if f.role == role])
               for role in ("sample-inputs", "sample-outputs", "sample-labels")}
    inputs, outputs, labels = samples["sample-inputs"], samples["sample-outputs"], samples["sample-labels"]
    if labels and len(labels) != len(inputs):
        raise ModelDirError("sample-labels", f"has {len(labels)} labels for {len(inputs)} sample-inputs")
    if not run:
        outcome: dict[str, object] = {"skipped": "--no-run"}
    elif not inputs or not outputs:
        outcome = {"skipped": "no sample-inputs and sample-outputs to compare"}
    else:
        outcome = validate.run_samples(onnx_path, inputs, outputs, interface, rtol, atol)
    return validate.Validation(interface, dict(outcome))


def _read_card(model_dir: Path, by_path: dict[str, layout.ModelFile]) -> Card:
    if CARD_NAME not in by_path:
        raise ModelDirError(str(model_dir), "has no model.md; every model needs a card with YAML front matter")
    try:
        text = by_path[CARD_NAME].abspath.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(CARD_NAME, "is not UTF-8 text") from exc
    return parse_card(text)


def _ingest(zoo: Workspace, f: layout.ModelFile) -> FileEntry:
    """Hash a file and put it in the store, skipping both when nothing changed."""
    cache = zoo.statcache()
    real = f.abspath.resolve()
    st = os.stat(real)
    digest = cache.get(real, st)
    if digest is None or not zoo.store.has(digest.md5):
        digest = zoo.store.add_file(real)
        if os.stat(real).st_mtime_ns == st.st_mtime_ns:
            cache.put(real, st, digest)
    return FileEntry(f.relpath, f.role, digest.size, digest.sha256, digest.md5)


def _archive(zoo: Workspace, onnx_path: Path, onnx_entry: FileEntry) -> FileEntry:
    cache = zoo.statcache()
    digest: Digest | None = cache.get_derived(_ARCHIVE_KIND, onnx_entry.sha256)
    if digest is None or not zoo.store.has(digest.md5):
        digest = zoo.store.generate(lambda out: write_onnx_archive(onnx_path, out))
        cache.put_derived(_ARCHIVE_KIND, onnx_entry.sha256, digest)
    return FileEntry(layout.ARCHIVE_NAME, "archive", digest.size, digest.sha256, digest.md5)


def _finish_interrupted(zoo: Workspace, latest: Manifest, commit: bool) -> None:
    """A publish killed after writing its version can leave it uncommitted or
    unannounced; publishing the same content again finishes the job."""
    final = zoo.version_dir(latest.stub, latest.version)
    rel = final.relative_to(zoo.root).as_posix()
    if commit and not git.is_tracked(zoo.root, f"{rel}/{MANIFEST_NAME}"):
        git.commit(zoo.root, [rel], f"Publish {latest.stub}@{latest.version_name} "
                                        f"({human_size(latest.size)}), completing an interrupted publish")
    from zoo_repo.remote import meta

    remote = zoo.remote()
    key = meta.version_key(str(latest.stub), latest.version, MANIFEST_NAME)
    if remote.get_text(key) is None:
        _announce(zoo, remote, latest, final, {})


def _pointer(manifest: Manifest) -> str:
    return dvc.pointer_text(manifest.tree_md5, manifest.size, len(manifest.files))


def _write_version_dir(zoo: Workspace, manifest: Manifest, card_path: Path) -> Path:
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
        if not install_dir(tmp, final):
            raise ZooError(f"{manifest.stub}@{manifest.version_name} appeared while publishing; publish again")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
