"""Write the catalog's three files from a zoo's manifests.

``CATALOG.md`` (the spec's tables), ``catalog.json`` (every version, as data)
and ``catalog/index.html`` (a static page to browse it). ``dvc repro`` runs this
whenever ``manifests/`` changes, so a file is rewritten only when its content
differs: unchanged outputs keep their mtime and no tool sees a spurious change.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_repo.catalog.index import catalog_index, render_json, render_markdown
from zoo_repo.catalog.page import render_html
from zoo_repo.core.card import CARD_NAME, parse_card
from zoo_repo.core.manifest import Manifest
from zoo_repo.core.trust import approvers
from zoo_repo.errors import NotFound, ZooError
from zoo_repo.store.atomic import write_text_atomic

if TYPE_CHECKING:
    from zoo_repo.repo.workspace import Workspace

MARKDOWN_NAME = "CATALOG.md"
JSON_NAME = "catalog.json"
HTML_PATH = Path("catalog") / "index.html"


def build_catalog(zoo: Workspace, out_dir: Path) -> list[Path]:
    """Write ``CATALOG.md``, ``catalog.json`` and ``catalog/index.html`` into ``out_dir``.

    A zoo opened from a remote URL makes a catalog for readers without a
    checkout: its pull commands name that remote (``--remote URL``, with
    the options a lockfile may carry, such as ``endpointurl``).

    Returns the paths actually written, in that order; a file whose content
    is already what it would be is left alone and not returned.
    """
    manifests = list(zoo.all_manifests())
    digests = {(str(m.stub), m.version): zoo.digest(m.stub, m.version) for m in manifests}
    aliases = {str(stub): zoo.aliases(stub) for stub in {m.stub for m in manifests}}
    # A checkout's readers pull through its own configured remote: plain `zoo pull`.
    remote = None if zoo.is_checkout else zoo.remote()
    index = catalog_index(manifests, _card_bodies(zoo, manifests), digests, aliases=aliases,
                          remote=remote.url if remote else None,
                          remote_options={k: str(v) for k, v in remote.options.items()} if remote else None,
                          approved_by=_approvals(zoo, manifests, digests))
    _mark_deprecated(zoo, index)
    outputs = {
        out_dir / MARKDOWN_NAME: render_markdown(_latest(manifests)),
        out_dir / JSON_NAME: render_json(index),
        out_dir / HTML_PATH: render_html(index),
    }
    return [path for path, text in outputs.items() if _write_if_changed(path, text)]


def _mark_deprecated(zoo: Workspace, index: dict[str, Any]) -> None:
    """Each version of a deprecated stub carries its record (``zoo deprecate``); others no key,
    so a zoo without deprecations has the catalog.json it always had."""
    records = {}
    for stub in {e["stub"] for e in index["models"]}:
        record = zoo.deprecation(stub)
        if record is not None:
            records[stub] = record.to_dict()
    for entry in index["models"]:
        if entry["stub"] in records:
            entry["deprecated"] = records[entry["stub"]]


def _card_bodies(zoo: Workspace, manifests: list[Manifest]) -> dict[tuple[str, int], str]:
    """The Markdown body of each version's ``model.md``; versions without one are left out."""
    bodies: dict[tuple[str, int], str] = {}
    for m in manifests:
        try:
            text = zoo.card_text(m.stub, m.version)
        except NotFound:
            continue
        bodies[(str(m.stub), m.version)] = parse_card(text, f"{m.stub}@{m.version_name}/{CARD_NAME}").body
    return bodies


def _approvals(zoo: Workspace, manifests: list[Manifest],
               digests: dict[tuple[str, int], str]) -> dict[tuple[str, int], list[str]]:
    """Who approved each version, by the checkout's trust.yaml, verified now. A catalog
    built from a remote claims no approvals: the remote's trust.yaml is only a source of
    keys for pinned signers, never a policy of its own. A trust.yaml that does not parse
    names nobody (``zoo check``'s trust rule refuses it)."""
    text = zoo.trust_text() if zoo.is_checkout else None
    if text is None:
        return {}
    from zoo_repo.model.vouch import examine, keys_of, policy_from_text

    try:
        policy = policy_from_text(text)
    except ZooError:
        return {}
    keys = keys_of(policy)
    found: dict[tuple[str, int], list[str]] = {}
    for m in manifests:
        files = zoo.signature_files(m.stub, m.version)
        if files:
            key = (str(m.stub), m.version)
            found[key] = approvers(policy, examine(files, m, digests[key], keys))
    return found


def _latest(manifests: list[Manifest]) -> list[Manifest]:
    """The highest version of each stub: what ``zoo.list()`` returns, without reading again."""
    latest: dict[str, Manifest] = {}
    for m in manifests:
        if str(m.stub) not in latest or m.version > latest[str(m.stub)].version:
            latest[str(m.stub)] = m
    return list(latest.values())


def _write_if_changed(path: Path, text: str) -> bool:
    # Bytes, not text: reading text would translate newlines and hide a difference.
    try:
        if path.read_bytes() == text.encode("utf-8"):
            return False
    except FileNotFoundError:
        pass
    write_text_atomic(path, text)
    return True
