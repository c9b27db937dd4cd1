"""``zoo check``: the review gate. Is every published version well formed, and
does a change since a base ref only add versions?

One walk over ``manifests/`` reads each version's three files once; git is
asked a handful of questions per run (never per version), so a zoo of ten
thousand versions checks in seconds. Each problem names the file it is about
and a short rule id, so CI output and review comments point at a line to fix.

Rules (ids are stable; tests and scripts match on them):

    layout          manifests/ holds only <stub>/vN/{manifest.yaml,model.md,model.dvc}
    schema          manifest.yaml parses and matches the schema
    stub-path       the directory names the manifest's stub and version
    contiguous      a stub's versions run v1, v2, … without gaps
    parent          a version's parent is the version before it
    duplicate       a version does not repeat its parent's content
    card            model.md is the card file the manifest lists (same sha256)
    tree-md5        the manifest's dvc.md5 is the md5 of DVC's listing of its files
    dvc-pointer     model.dvc names the same .dir object, size and file count
    aliases         <stub>/aliases.yaml parses, and every alias names an existing version
    immutable       no file that exists at the base ref was changed or deleted
                    (aliases.yaml excepted: aliases are meant to move)
    remote-missing  every object of a checked version is on the remote
    remote-size     … with the size the manifest records
    remote-digest   … and the bytes hash to the recorded digest (``deep``)
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.core import yamltext
from zoo_repo.core.aliases import ALIASES_NAME, parse_aliases
from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest, parse_manifest
from zoo_repo.core.stub import Stub, parse_stub, version_number
from zoo_repo.errors import ManifestError, StubError
from zoo_repo.repo import dvc, git

if TYPE_CHECKING:
    from zoo_repo.remote.base import Remote
    from zoo_repo.repo.workspace import Workspace

MANIFESTS = "manifests"
VERSION_FILES = (MANIFEST_NAME, CARD_NAME, dvc.POINTER_NAME)
# Parsing YAML is most of a check's cost; past this many manifests, spread it
# over worker processes (one costs ~0.2 s to start, a manifest ~0.5 ms to parse).
PARALLEL_MIN = 2000
# Kept in the working tree by `dvc pull`/`zoo pull`, ignored by git.
_OUTPUT_DIR = dvc.OUT_NAME
_ROOT_KEEP = ".gitkeep"

STATIC_RULES = (
    "layout", "schema", "stub-path", "contiguous", "parent", "duplicate", "card", "tree-md5", "dvc-pointer",
    "aliases",
)
REMOTE_RULES = ("remote-missing", "remote-size")
RULES = (*STATIC_RULES, "immutable", *REMOTE_RULES, "remote-digest")
RULE_HELP = {
    "layout": "only <stub>/vN/ directories holding manifest.yaml, model.md, model.dvc",
    "schema": "manifest.yaml matches the schema",
    "stub-path": "directory names the manifest's stub and version",
    "contiguous": "versions run from v1 without gaps",
    "parent": "parent is the previous version",
    "duplicate": "content differs from the parent's",
    "card": "model.md is the card the manifest lists",
    "tree-md5": "dvc.md5 is the md5 of the file listing",
    "dvc-pointer": "model.dvc agrees with the manifest",
    "aliases": "aliases.yaml parses and names existing versions",
    "immutable": "files present at the base ref are unchanged",
    "remote-missing": "every object is on the remote",
    "remote-size": "remote objects have the recorded size",
    "remote-digest": "remote objects hash to the recorded digest",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing the gate refuses: the file (relative to the zoo root), the rule, why."""

    path: str
    rule: str
    message: str

    def line(self) -> str:
        """``path: [rule] message``, as ``zoo check`` prints it."""
        return f"{self.path}: [{self.rule}] {self.message}"


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found, and how much it looked at."""

    problems: tuple[Problem, ...]
    versions: int  # version directories found
    stubs: int  # stub directories found
    objects: int = 0  # distinct remote objects checked
    base: str | None = None
    added: tuple[str, ...] = ()  # version directories absent at ``base``, e.g. manifests/<stub>/v2
    rules: tuple[str, ...] = STATIC_RULES  # the rules that ran

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_under(self, prefix: str) -> tuple[Problem, ...]:
        """The problems about files inside directory ``prefix`` (e.g. one version)."""
        start = prefix.rstrip("/") + "/"
        return tuple(p for p in self.problems if p.path.startswith(start))


@dataclass(frozen=True)
class CheckRun:
    """A report plus what the run read, for ``review`` to build on without reading twice."""

    report: CheckReport
    # version dir → parsed manifest, for the versions added since base (every
    # version when checking the remote without a base); others are not kept.
    manifests: dict[str, Manifest] = field(repr=False)
    base_tree: dict[str, str] = field(repr=False)  # path → blob sha under manifests/ at base


def check(
    zoo: Workspace, base: str | None = None, remote: bool = False, deep: bool = False, *, jobs: int | None = None
) -> CheckReport:
    """Run every rule over ``zoo``'s manifests; see the module docstring for the rules.

    With ``base`` (a git ref), files under manifests/ that exist there must be
    unchanged now, and only versions added since ``base`` are checked against
    the remote (older ones passed this gate when they were added). Without
    it, ``remote`` checks every version. ``deep`` (which implies ``remote``)
    also downloads every object and checks its digest.
    ``jobs`` caps the processes that parse manifests (default: one per CPU,
    used only for large zoos).
    """
    return run_check(zoo, base, remote, deep, jobs=jobs).report


def run_check(
    zoo: Workspace, base: str | None = None, remote: bool = False, deep: bool = False, *, jobs: int | None = None
) -> CheckRun:
    """``check``, also returning the parsed manifests and the base ref's listing."""
    remote = remote or deep
    root = Path(zoo.root)
    problems: list[Problem] = []
    rules = list(STATIC_RULES)
    layout = _scan_layout(root / MANIFESTS, problems)
    all_versions = [rel for versions in layout.values() for rel, _ in versions.values()]

    # The base ref first (a bad ref fails before any work), and it says
    # which versions are new, hence which manifests are worth keeping.
    base_tree: dict[str, str] = {}
    added: tuple[str, ...] = ()
    if base is not None:
        rules.append("immutable")
        sha = git.resolve_commit(root, base)
        base_tree = git.ls_tree(root, sha, MANIFESTS)
        problems.extend(_check_immutable(root, base, sha))
        at_base = {path.rsplit("/", 1)[0] for path in base_tree if is_manifest_path(path)}
        added = tuple(sorted(rel for rel in all_versions if rel not in at_base))
    keep: frozenset[str] | None = frozenset(added) if base is not None or not remote else None

    tasks = [(str(stub), number, rel, names)
             for stub, versions in layout.items() for number, (rel, names) in versions.items()]
    contents, manifests, version_problems = _check_versions(root, tasks, keep, jobs)
    problems.extend(version_problems)
    for versions in layout.values():
        _check_sequence(versions, contents, problems)

    objects = 0
    if remote:
        rules.extend(REMOTE_RULES + (("remote-digest",) if deep else ()))
        objects = _check_remote(zoo.remote(), [manifests[rel] for rel in sorted(manifests)], deep, problems)

    report = CheckReport(
        problems=tuple(sorted(set(problems))),
        versions=len(all_versions),
        stubs=len(layout),
        objects=objects,
        base=base,
        added=added,
        rules=tuple(rules),
    )
    return CheckRun(report, manifests, base_tree)


# -- layout -------------------------------------------------------------------
_Versions = dict[int, tuple[str, frozenset[str]]]  # number → (version dir, names inside it)


def _entries(path: Path) -> list[os.DirEntry[str]]:
    with os.scandir(path) as it:
        return sorted(it, key=lambda e: e.name)


def _scan_layout(manifests: Path, problems: list[Problem]) -> dict[Stub, _Versions]:
    """Find every ``<stub>/vN/`` directory; report whatever else lives in manifests/."""
    found: dict[Stub, _Versions] = {}
    if not manifests.is_dir():
        return found

    def visit(path: Path, parts: tuple[str, ...]) -> None:
        for entry in _entries(path):
            rel = "/".join((MANIFESTS, *parts, entry.name))
            if entry.is_symlink():
                # A link could make a version's files live outside the repository.
                problems.append(Problem(rel, "layout", "is a symlink; manifests/ holds real directories only"))
            elif not entry.is_dir():
                if not (parts == () and entry.name == _ROOT_KEEP):
                    problems.append(Problem(rel, "layout", "stray file: manifests/ holds only <stub>/vN/ directories"))
            elif len(parts) < 6:
                visit(Path(entry.path), (*parts, entry.name))
            else:
                text = "/".join((*parts, entry.name))
                try:
                    stub = parse_stub(text)
                except StubError as exc:
                    problems.append(Problem(rel, "layout", f"is not a stub directory: {exc.message}"))
                    continue
                if str(stub) != text:
                    problems.append(Problem(rel, "layout", f"is not the canonical spelling of {stub}"))
                    continue
                versions = _scan_stub(Path(entry.path), rel, problems)
                if versions:
                    found[stub] = versions

    visit(manifests, ())
    return found


def _scan_stub(path: Path, rel: str, problems: list[Problem]) -> _Versions:
    versions: _Versions = {}
    aliases_file: os.DirEntry[str] | None = None
    for entry in _entries(path):
        child = f"{rel}/{entry.name}"
        number = version_number(entry.name)
        if entry.name == ALIASES_NAME and entry.is_file() and not entry.is_symlink():
            aliases_file = entry
            continue
        if entry.is_symlink() or not entry.is_dir() or number is None:
            if entry.name.startswith(".v") and ".tmp-" in entry.name:
                why = "is left over from an interrupted publish; remove it"
            elif entry.is_symlink():
                why = "is a symlink; versions are real directories"
            else:
                why = "is not a version directory (expected v1, v2, …)"
            problems.append(Problem(child, "layout", why))
            continue
        names = frozenset(e.name for e in _entries(Path(entry.path)))
        versions[number] = (child, names)
        for name in sorted(names - set(VERSION_FILES) - {_OUTPUT_DIR}):
            problems.append(Problem(f"{child}/{name}", "layout",
                                    "unexpected in a version directory (manifest.yaml, model.md, model.dvc)"))
    if aliases_file is not None:
        _check_aliases(Path(aliases_file.path), f"{rel}/{ALIASES_NAME}", set(versions), problems)
    return versions


def _check_aliases(path: Path, rel: str, versions: set[int], problems: list[Problem]) -> None:
    try:
        aliases = parse_aliases(path.read_text(encoding="utf-8"), rel)
    except (ManifestError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, "aliases", getattr(exc, "problem", str(exc))))
        return
    for name, number in sorted(aliases.items()):
        if number not in versions:
            problems.append(Problem(rel, "aliases", f"alias {name!r} points at v{number}, which does not exist"))


# -- one version --------------------------------------------------------------
_Task = tuple[str, int, str, frozenset[str]]  # stub, number, version dir, names inside it
# What the versions' rules return: version dir → digest of its content (for the
# duplicate rule), the manifests asked for, and the problems found.
_Outcome = tuple[dict[str, bytes], dict[str, Manifest], list[Problem]]


def _content_digest(manifest: Manifest) -> bytes:
    return hashlib.sha1(repr(manifest.content_key()).encode(), usedforsecurity=False).digest()


def _check_chunk(root: str, tasks: list[_Task], keep: frozenset[str] | None) -> _Outcome:
    """The per-version rules for some versions (runs in a worker process for large zoos).

    Only the manifests in ``keep`` (all when None) come back whole: sending
    ten thousand parsed manifests between processes costs as much as parsing.
    """
    contents: dict[str, bytes] = {}
    manifests: dict[str, Manifest] = {}
    problems: list[Problem] = []
    for stub, number, rel, names in tasks:
        manifest = _check_version(Path(root), parse_stub(stub), number, rel, names, problems)
        if manifest is not None:
            contents[rel] = _content_digest(manifest)
            if keep is None or rel in keep:
                manifests[rel] = manifest
    return contents, manifests, problems


def _check_versions(root: Path, tasks: list[_Task], keep: frozenset[str] | None, jobs: int | None) -> _Outcome:
    items = [[stub, number, rel, sorted(names)] for stub, number, rel, names in tasks]
    contents: dict[str, bytes] = {}
    manifests: dict[str, Manifest] = {}
    problems: list[Problem] = []
    for digests, found, trouble in _spread("versions", root, items, None if keep is None else sorted(keep), jobs):
        contents.update(digests)
        manifests.update(found)
        problems.extend(trouble)
    return contents, manifests, problems


def objects_at(root: Path, tree: dict[str, str], jobs: int | None = None) -> set[str]:
    """md5 of every file object the manifests in ``tree`` reference.

    ``tree`` is a git listing (path → blob sha, as ``git.ls_tree`` gives
    it); the manifests are read from git, not the working tree. One that
    does not parse is skipped: what it names then counts as absent, which
    overstates what is new and never understates it.
    """
    items = sorted([path, sha] for path, sha in tree.items() if is_manifest_path(path))
    found: set[str] = set()
    for part in _spread("objects", root, items, None, jobs):
        found.update(part)
    return found


def is_manifest_path(path: str) -> bool:
    """``manifests/<7 stub components>/vN/manifest.yaml``?"""
    parts = path.split("/")
    return (len(parts) == 10 and parts[0] == MANIFESTS and parts[-1] == MANIFEST_NAME
            and version_number(parts[-2]) is not None)


def _objects_in_blobs(root: str, items: list[list[str]]) -> set[str]:
    blobs = git.read_blobs(Path(root), [sha for _, sha in items])
    found: set[str] = set()
    for path, sha in items:
        try:
            manifest = parse_manifest(blobs[sha].decode("utf-8"), path)
        except (UnicodeDecodeError, ManifestError):
            continue
        found.update(f.md5 for f in manifest.files)
    return found


# -- worker processes -----------------------------------------------------------
def _workers(jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    try:
        return min(8, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return min(8, os.cpu_count() or 1)


def _run_job(job: dict[str, Any]) -> Any:
    """One share of the work; the same code in this process or in a worker."""
    if job["kind"] == "versions":
        tasks = [(stub, number, rel, frozenset(names)) for stub, number, rel, names in job["items"]]
        return _check_chunk(job["root"], tasks, None if job["arg"] is None else frozenset(job["arg"]))
    if job["kind"] == "objects":
        return _objects_in_blobs(job["root"], job["items"])
    raise ValueError(f"unknown job kind {job['kind']!r}")


def _spread(kind: str, root: Path, items: list[Any], arg: Any, jobs: int | None) -> list[Any]:
    """Run job ``kind`` over ``items``: here when few, else in shares over worker processes."""
    workers = min(_workers(jobs), len(items))
    if workers <= 1 or not sys.executable or (jobs is None and len(items) < PARALLEL_MIN):
        return [_run_job({"kind": kind, "root": str(root), "items": items, "arg": arg})]
    # Interleaved, so every worker gets a share of the large and the small stubs.
    jobs_ = [{"kind": kind, "root": str(root), "items": items[i::workers], "arg": arg} for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:  # threads only wait on the workers' pipes
        return list(pool.map(_run_worker, jobs_))


# A fresh interpreter that imports only zoo_repo. multiprocessing's "spawn"
# would re-run the caller's __main__ (breaking scripts without a main guard,
# and stdin or notebook callers); "fork" is unsafe in a process with threads.
_WORKER = "from zoo_repo.review.check import worker_main; worker_main()"


def _run_worker(job: dict[str, Any]) -> Any:
    package_parent = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-c", _WORKER], input=json.dumps(job).encode(),
                          capture_output=True, env={**os.environ, "PYTHONPATH": path}, check=False)
    if proc.returncode != 0:
        # Not a user error: the worker runs this module's own code.
        raise RuntimeError(f"check worker failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return pickle.loads(proc.stdout)  # our own child's output, not foreign data


def worker_main() -> None:
    """Entry point of a worker process: a job as JSON on stdin, its result pickled on stdout."""
    result = _run_job(json.load(sys.stdin))
    sys.stdout.buffer.write(pickle.dumps(result, pickle.HIGHEST_PROTOCOL))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _check_version(
    root: Path, stub: Stub, number: int, rel: str, names: frozenset[str], problems: list[Problem]
) -> Manifest | None:
    """The per-version rules; returns the manifest when it parses."""
    where = f"{rel}/{MANIFEST_NAME}"
    raw = _read(root / where) if MANIFEST_NAME in names else None
    if raw is None:
        problems.append(Problem(where, "layout", "is missing: every version directory has a manifest"))
        return None
    try:
        manifest = parse_manifest(raw.decode("utf-8"), where)
    except UnicodeDecodeError:
        problems.append(Problem(where, "schema", "is not UTF-8 text"))
        return None
    except ManifestError as exc:
        problems.append(Problem(where, "schema", exc.problem))
        return None
    if manifest.stub != stub or manifest.version != number:
        problems.append(Problem(
            where, "stub-path",
            f"says {manifest.stub}@{manifest.version_name} but its directory is {stub}@v{number}",
        ))
    expected_parent = number - 1 or None
    if manifest.parent != expected_parent:
        said = f"v{manifest.parent}" if manifest.parent else "none"
        want = f"v{expected_parent}" if expected_parent else "none (v1 has no parent)"
        problems.append(Problem(where, "parent", f"parent is {said}; expected {want}"))
    listing = dvc.tree_bytes((f.path, f.md5) for f in manifest.files)
    tree = hashlib.md5(listing, usedforsecurity=False).hexdigest()
    if tree != manifest.tree_md5:
        problems.append(Problem(
            where, "tree-md5",
            f"dvc.md5 is {manifest.tree_md5}.dir but the files listed hash to {tree}.dir",
        ))
    _check_card(root, rel, names, manifest, problems)
    _check_pointer(root, rel, names, manifest, problems)
    return manifest


def _check_card(root: Path, rel: str, names: frozenset[str], manifest: Manifest, problems: list[Problem]) -> None:
    where = f"{rel}/{CARD_NAME}"
    listed = next((f for f in manifest.files if f.path == CARD_NAME), None)
    raw = _read(root / where) if CARD_NAME in names else None
    if raw is None:
        problems.append(Problem(where, "card", "is missing: every version keeps a copy of its card"))
    elif listed is None:
        problems.append(Problem(where, "card", "the manifest lists no model.md"))
    else:
        got = hashlib.sha256(raw).hexdigest()
        if got != listed.sha256:
            problems.append(Problem(
                where, "card", f"sha256:{got} differs from the manifest's sha256:{listed.sha256}",
            ))


def _check_pointer(root: Path, rel: str, names: frozenset[str], manifest: Manifest, problems: list[Problem]) -> None:
    where = f"{rel}/{dvc.POINTER_NAME}"
    raw = _read(root / where) if dvc.POINTER_NAME in names else None
    if raw is None:
        problems.append(Problem(where, "dvc-pointer", "is missing: dvc pull needs it"))
        return
    if raw == dvc.pointer_text(manifest.tree_md5, manifest.size, len(manifest.files)).encode():
        return  # exactly what publish writes: agrees without parsing (most pointers, cheaply)
    try:
        doc = yamltext.load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yamltext.YamlProblem) as exc:
        problems.append(Problem(where, "dvc-pointer", f"does not parse: {exc}"))
        return
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if not (isinstance(outs, list) and len(outs) == 1 and isinstance(outs[0], dict)):
        problems.append(Problem(where, "dvc-pointer", "expected 'outs' with exactly one entry"))
        return
    want = {"md5": f"{manifest.tree_md5}.dir", "size": manifest.size, "nfiles": len(manifest.files),
            "path": dvc.OUT_NAME}
    wrong = [f"{key} is {outs[0].get(key)!r}, expected {value!r}"
             for key, value in want.items() if outs[0].get(key) != value]
    if wrong:
        problems.append(Problem(where, "dvc-pointer", "; ".join(wrong)))


# -- a stub's versions together -----------------------------------------------
def _check_sequence(versions: _Versions, contents: dict[str, bytes], problems: list[Problem]) -> None:
    previous = 0
    for number in sorted(versions):
        rel = versions[number][0]
        where = f"{rel}/{MANIFEST_NAME}"
        if number != previous + 1:
            gap = ", ".join(f"v{n}" for n in range(previous + 1, number))
            problems.append(Problem(where, "contiguous", f"{gap} missing before v{number}: versions run from v1 without gaps"))
        before = versions.get(number - 1)
        this, parent = contents.get(rel), contents.get(before[0]) if before else None
        if this is not None and this == parent:
            problems.append(Problem(where, "duplicate", f"same files as v{number - 1}; publish only changed content"))
        previous = number


# -- against a base ref -------------------------------------------------------
def _check_immutable(root: Path, base: str, sha: str) -> list[Problem]:
    """Files under manifests/ at ``base`` that HEAD or the working tree changed or deleted."""
    found: dict[str, tuple[str, str]] = {}
    for where, against in (("uncommitted", None), ("committed", "HEAD")):
        for status, path in git.changed_paths(root, sha, MANIFESTS, against):
            if status != "A" and not path.endswith("/" + ALIASES_NAME):  # additions are how a zoo grows
                found[path] = (status, where)
    out = []
    for path, (status, where) in sorted(found.items()):
        verb = "deleted" if status == "D" else "changed"
        out.append(Problem(
            path, "immutable",
            f"{verb} since {base} ({where}); published versions are immutable: publish a new version instead",
        ))
    return out


# -- the remote ---------------------------------------------------------------
@dataclass(frozen=True)
class _Wanted:
    size: int
    algo: str  # which digest names the bytes: sha256 for files, md5 for the listing
    digest: str
    uses: tuple[tuple[str, str], ...]  # (manifest path, label) of every version naming it


def _wanted(manifests: Iterable[Manifest]) -> dict[str, _Wanted]:
    out: dict[str, _Wanted] = {}

    def want(oid: str, size: int, algo: str, digest: str, where: str, label: str) -> None:
        known = out.get(oid)
        uses = (known.uses if known else ()) + ((where, label),)
        out[oid] = _Wanted(size, algo, digest, uses)

    for m in manifests:
        where = f"{MANIFESTS}/{m.stub.path}/{m.version_name}/{MANIFEST_NAME}"
        listing = dvc.tree_bytes((f.path, f.md5) for f in m.files)
        want(f"{m.tree_md5}.dir", len(listing), "md5", m.tree_md5, where, "file list")
        for f in m.files:
            want(f.md5, f.size, "sha256", f.sha256, where, f.path)
    return out


def _check_remote(
    remote: Remote, manifests: list[Manifest], deep: bool, problems: list[Problem], jobs: int = 8
) -> int:
    """Sizes of every object; with ``deep``, the digests of those whose size is right."""
    wanted = _wanted(manifests)
    # One listing or one request per object, whichever the remote says is cheaper.
    sizes = remote.inventory(wanted, jobs=jobs)
    place = f"remote {remote.url}"
    found: dict[str, tuple[str, str]] = {}  # oid → (rule, detail)
    for oid, want in wanted.items():
        got = sizes.get(oid)
        if got is None:
            found[oid] = ("remote-missing", f"md5:{oid} is missing from {place}")
        elif got != want.size:
            found[oid] = ("remote-size", f"md5:{oid} on {place} has {got} bytes, expected {want.size}")
    if deep:
        # Only objects of the right size are worth downloading.
        fit = [oid for oid in wanted if oid not in found]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            digests = dict(zip(fit, pool.map(remote.hash_object, fit)))
        for oid in fit:
            want = wanted[oid]
            digest = getattr(digests[oid], want.algo)
            if digest != want.digest:
                found[oid] = ("remote-digest", (f"md5:{oid} on {place} hashes to {want.algo}:{digest}, "
                                               f"expected {want.algo}:{want.digest}"))
    for oid, (rule, detail) in found.items():
        problems.extend(Problem(where, rule, f"{label}: {detail}") for where, label in wanted[oid].uses)
    return len(wanted)
