"""The rules ``zoo check`` enforces, and the ones that judge a single version.

Rules (ids are stable; tests and scripts match on them):

    layout          manifests/ holds only <stub>/vN/{manifest.yaml,model.md,model.dvc,signatures/}
    schema          manifest.yaml parses and matches the schema
    stub-path       the directory names the manifest's stub and version
    contiguous      a stub's versions run v1, v2, … without gaps
    parent          a version's parent is the version before it
    duplicate       a version does not repeat its parent's content
    card            model.md is the card file the manifest lists (same sha256)
    card-fields     the manifest's card fields and metrics are what model.md's front
                    matter says (``claims``)
    validation      the validation record is one publish writes beside the version's
                    files; with ``deep``, re-running it on the remote's bytes agrees
                    (``claims``, ``revalidate``)
    tree-md5        the manifest's dvc.md5 is the md5 of DVC's listing of its files
    dvc-pointer     model.dvc names the same .dir object, size and file count
    aliases         <stub>/aliases.yaml parses, and every alias names an existing version
    deprecation     <stub>/deprecated.yaml parses (message, optional successor), and its
                    successor is a stub with a version in the zoo
    trust           trust.yaml, when there is one, parses and every signer's key loads
    signature       every signature file parses; one whose key the policy in force lists
                    verifies for exactly its version and the role its name says (the
                    policy in force: trust.yaml at the base ref, else the working tree's)
    immutable       no file that exists at the base ref was changed or deleted
                    (aliases.yaml and deprecated.yaml excepted: they are meant to move; a signature
                    file is as immutable as the version it signs)
    signed          (with ``--require-signatures``) every version added since the base
                    ref (every version, without one) meets the policy in force
    remote-missing  every object of a checked version is on the remote
    remote-size     … with the size the manifest records
    remote-version  the remote lists the version with this manifest's digest; or, not
                    yet listed, no other checkout claimed that number there and no
                    listing made from a commit that has it left it out
    remote-digest   … and the bytes hash to the recorded digest, and to the md5 that names them (``deep``)
    settings        zoo.yaml's ``check:`` section parses (``advice``)
    stub-tokens     advice, set per zoo: the sparse tag's values are ones the spec lists
    sparse-name     advice, set per zoo: the sparse name agrees with the measured model

Everything here is pure: it judges bytes someone else read (``scan`` reads
the working tree, ``history`` reads git), so the rules are the same wherever
the bytes came from and whichever process runs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Container
from dataclasses import dataclass

from zoo_repo.core import yamltext
from zoo_repo.core.aliases import parse_aliases
from zoo_repo.core.card import CARD_NAME
from zoo_repo.core.deprecation import parse_deprecation
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest, parse_manifest
from zoo_repo.core.stub import Stub, version_number
from zoo_repo.errors import ManifestError
from zoo_repo.repo import dvc

MANIFESTS = "manifests"
VERSION_FILES = (MANIFEST_NAME, CARD_NAME, dvc.POINTER_NAME)

STATIC_RULES = (
    "layout", "schema", "stub-path", "contiguous", "parent", "duplicate", "card", "card-fields", "validation",
    "tree-md5", "dvc-pointer", "aliases", "deprecation", "trust", "signature",
)
REMOTE_RULES = ("remote-missing", "remote-size", "remote-version")
ADVICE_RULES = ("stub-tokens", "sparse-name")  # off, warn or error as zoo.yaml says (``advice``)
RULES = (*STATIC_RULES, "immutable", "signed", *REMOTE_RULES, "remote-digest", "settings", *ADVICE_RULES)
RULE_HELP = {
    "layout": "only <stub>/vN/ directories holding manifest.yaml, model.md, model.dvc, signatures/",
    "schema": "manifest.yaml matches the schema",
    "stub-path": "directory names the manifest's stub and version",
    "contiguous": "versions run from v1 without gaps",
    "parent": "parent is the previous version",
    "duplicate": "content differs from the parent's",
    "card": "model.md is the card the manifest lists",
    "card-fields": "card fields and metrics are what model.md says",
    "validation": "validation record is one publish writes (re-run with --deep)",
    "tree-md5": "dvc.md5 is the md5 of the file listing",
    "dvc-pointer": "model.dvc agrees with the manifest",
    "aliases": "aliases.yaml parses and names existing versions",
    "deprecation": "deprecated.yaml parses and names a published successor",
    "trust": "trust.yaml parses and its keys load",
    "signature": "signatures parse; those by listed signers verify for this version",
    "immutable": "files present at the base ref are unchanged",
    "signed": "approved as trust.yaml at the base ref requires (--require-signatures)",
    "remote-missing": "every object is on the remote",
    "remote-size": "remote objects have the recorded size",
    "remote-digest": "remote objects hash to the recorded digest",
    "remote-version": "the remote lists the version as git has it, or not yet and unclaimed",
    "settings": "zoo.yaml's check: section parses",
    "stub-tokens": "the sparse tag's values are ones the spec lists (advice)",
    "sparse-name": "the sparse name agrees with the measured sparsity and quantized ops (advice)",
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


def is_manifest_path(path: str) -> bool:
    """``manifests/<7 stub components>/vN/manifest.yaml``?"""
    parts = path.split("/")
    return (len(parts) == 10 and parts[0] == MANIFESTS and parts[-1] == MANIFEST_NAME
            and version_number(parts[-2]) is not None)


def content_digest(manifest: Manifest) -> bytes:
    """What the ``duplicate`` rule compares: a digest of the version's content."""
    return hashlib.sha1(repr(manifest.content_key()).encode(), usedforsecurity=False).digest()


def check_aliases(raw: bytes, rel: str, versions: set[int], problems: list[Problem]) -> None:
    """``aliases``: ``raw`` (the bytes of ``rel``) parses, and names only ``versions``."""
    try:
        # Universal newlines, as Path.read_text reads it.
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        aliases = parse_aliases(text, rel)
    except (ManifestError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, "aliases", getattr(exc, "problem", str(exc))))
        return
    for name, number in sorted(aliases.items()):
        if number not in versions:
            problems.append(Problem(rel, "aliases", f"alias {name!r} points at v{number}, which does not exist"))


def check_deprecation(raw: bytes, rel: str, stub: str, published: Container[str], problems: list[Problem]) -> None:
    """``deprecation``: ``raw`` (the bytes of ``rel``, ``stub``'s record) parses, and its
    successor is among the ``published`` stubs (those with a version)."""
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        record = parse_deprecation(text, stub, rel)
    except (ManifestError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, "deprecation", getattr(exc, "problem", str(exc))))
        return
    if stub not in published:
        problems.append(Problem(rel, "deprecation", f"deprecates {stub}, which has no version"))
    if record.successor is not None and record.successor not in published:
        problems.append(Problem(rel, "deprecation", f"successor {record.successor} has no published version"))


def check_manifest(
    raw: bytes | None, rel: str, stub: Stub, number: int, problems: list[Problem]
) -> Manifest | None:
    """The rules on version ``rel``'s manifest.yaml (``raw``, None when absent); the manifest if it parses."""
    where = f"{rel}/{MANIFEST_NAME}"
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
    return manifest


def check_card(raw: bytes | None, rel: str, manifest: Manifest, problems: list[Problem]) -> bool:
    """``card``: version ``rel``'s model.md (``raw``, None when absent) is the card its manifest lists.
    Returns whether it is (only then do its fields say anything about the manifest)."""
    where = f"{rel}/{CARD_NAME}"
    listed = next((f for f in manifest.files if f.path == CARD_NAME), None)
    if raw is None:
        problems.append(Problem(where, "card", "is missing: every version keeps a copy of its card"))
    elif listed is None:
        problems.append(Problem(where, "card", "the manifest lists no model.md"))
    else:
        got = hashlib.sha256(raw).hexdigest()
        if got == listed.sha256:
            return True
        problems.append(Problem(
            where, "card", f"sha256:{got} differs from the manifest's sha256:{listed.sha256}",
        ))
    return False


def check_pointer(raw: bytes | None, rel: str, manifest: Manifest, problems: list[Problem]) -> None:
    """``dvc-pointer``: version ``rel``'s model.dvc (``raw``, None when absent) agrees with its manifest."""
    where = f"{rel}/{dvc.POINTER_NAME}"
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
