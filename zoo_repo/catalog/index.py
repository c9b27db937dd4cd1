"""The catalog as text and as data: the spec's tables, and ``catalog.json``. Pure.

``render_markdown`` prints the spec's tables (model tag, validation metric).
``catalog_index`` and ``render_json`` make the machine-readable catalog that the
static page (``catalog_page``) embeds. Both are rebuilt by ``dvc repro``, so
the same manifests must always give the same bytes: nothing here reads a clock.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from zoo_repo.core import modelfacts
from zoo_repo.core.brief import Brief
from zoo_repo.core.card import Metric, validation_metric
from zoo_repo.core.lockfile import LOCKABLE_OPTIONS
from zoo_repo.core.manifest import Manifest, digest_of
from zoo_repo.core.stub import Stub
from zoo_repo.core.validation import describe
from zoo_repo.core.words import human_size

CATALOG_SCHEMA = 1

# The spec's section titles; other domains get a title made from their names.
SECTION_TITLES = {
    ("cv", "classification"): "Image Classification",
    ("cv", "detection"): "Object Detection",
    ("cv", "segmentation"): "Image Segmentation",
    ("nlp", "question_answering"): "Question Answering",
    ("nlp", "text_classification"): "Text Classification",
}


def section_title(domain: str, sub_domain: str) -> str:
    """The heading of a domain's table in ``CATALOG.md``."""
    return SECTION_TITLES.get(
        (domain, sub_domain), f"{domain.upper()} {sub_domain.replace('_', ' ').title()}"
    )


@dataclass(frozen=True)
class Summary:
    """What a listing shows of one version; built from a manifest or from a catalog.json entry."""

    stub: Stub
    version: int
    created: str
    size: int
    nfiles: int
    metrics: tuple[Metric, ...]

    @property
    def version_name(self) -> str:
        return f"v{self.version}"

    @classmethod
    def of(cls, m: Manifest) -> Summary:
        return cls(m.stub, m.version, m.created, m.size, len(m.files), m.metrics)

    @classmethod
    def of_brief(cls, stub: Stub, b: Brief) -> Summary:
        return cls(stub, b.version, b.created, b.size, b.nfiles, b.metrics)

    @classmethod
    def from_entry(cls, stub: Stub, entry: Mapping[str, Any]) -> Summary:
        metrics = tuple(Metric(x["name"], float(x["value"]) if x.get("value") is not None else math.nan,
                               x.get("unit"), x.get("dataset"), x.get("split")) for x in entry.get("metrics", []))
        return cls(stub, int(str(entry["version"])[1:]), entry["created"], int(entry["size"]),
                   int(entry["nfiles"]), metrics)


def render_markdown(manifests: Iterable[Manifest | Summary]) -> str:
    """Tables grouped by domain and sub-domain, as in the spec."""
    groups: dict[tuple[str, str], list[Manifest | Summary]] = {}
    for m in sorted(manifests, key=lambda m: str(m.stub)):
        groups.setdefault((m.stub.domain, m.stub.sub_domain), []).append(m)
    out: list[str] = []
    for (domain, sub), items in sorted(groups.items()):
        rows = [
            (
                str(m.stub),
                metric.display() if (metric := validation_metric(m.metrics)) else "",
                m.version_name,
                human_size(m.size),
                m.created[:10],
            )
            for m in items
        ]
        header = ("Model Tag", "Validation Baseline Metric", "Version", "Size", "Published")
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        out.append(f"### {section_title(domain, sub)}\n")
        out.append(_row(header, widths))
        out.append("| " + " | ".join("-" * w for w in widths) + " |")
        out.extend(_row(r, widths) for r in rows)
        out.append("")
    return "\n".join(out) if out else "(no models published yet)\n"


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


# -- catalog.json -------------------------------------------------------------


def catalog_index(
    manifests: Iterable[Manifest], cards: Mapping[tuple[str, int], str] | None = None,
    digests: Mapping[tuple[str, int], str] | None = None, *,
    aliases: Mapping[str, Mapping[str, int]] | None = None,
    remote: str | None = None, remote_options: Mapping[str, str] | None = None,
    approved_by: Mapping[tuple[str, int], Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The content of ``catalog.json``: every published version of every stub.

    ``cards`` maps ``(stub, version number)`` to the Markdown body of that
    version's ``model.md`` (front matter removed); versions without one get
    ``card_markdown: null``. ``aliases`` maps a stub to its aliases (alias →
    version number). ``remote`` is the URL readers without a checkout pull
    from (None for a catalog read in a checkout), ``remote_options`` its
    options; only those a lockfile may carry (``LOCKABLE_OPTIONS``) are kept.
    ``approved_by`` maps ``(stub, version number)`` to the names of the signers
    whose valid approval the version carries (the caller verified them).

    Returns ``{"schema": 1, "remote": url | null, "models": [entry, ...]}``,
    entries sorted by stub, then by version number. ``remote`` has any
    ``user:password@`` removed. Each entry has these keys, in this order:

    - ``stub`` (str): the canonical stub, without ``zoo:``.
    - ``version`` (str): ``"v3"``.
    - ``latest`` (bool): whether this is the highest version of its stub.
    - ``aliases`` (list): the names this version answers to besides ``vN``:
      ``"latest"`` first when it is the latest, then its aliases, sorted.
    - ``fields`` (dict): the 11 stub fields (``domain`` … ``sparse_target``), null when absent.
    - ``created`` (str), ``publisher`` (str): as in the manifest.
    - ``parent`` (str | null): the version this one follows, ``"v2"``.
    - ``size`` (int): total bytes; ``nfiles`` (int): number of files.
    - ``metrics`` (list): ``{name, value[, unit, dataset, split]}`` as in the card.
    - ``metric`` (dict | null): the validation metric (``card.validation_metric``),
      its ``metrics`` keys plus ``display`` (``"76.1% top1 accuracy"``).
    - ``validation`` (dict): what publish checked (``validation_status``).
    - ``model`` (dict): the model facts publish measured (``model_facts``): ``onnx``
      (``"IR 8, opset 13"``), ``inputs``/``outputs`` (``"name dtype [shape]"`` each),
      ``parameters``, ``sparsity`` (fraction of zero weights), ``quantized_ops``; null when not measured.
    - ``approved_by`` (list): names of the trust.yaml signers who approved it, as verified
      when the catalog was built; empty for none.
    - ``card`` (dict): ``{license: str | null, description: str | null, tags: [str]}``.
    - ``tree_md5`` (str): md5 of DVC's directory listing (``<tree_md5>.dir``).
    - ``manifest_digest`` (str): ``sha256:`` of the manifest's text (from ``digests``,
      else of its canonical rendering); ``zoo list`` trusts an entry only while it matches.
    - ``pull`` (str): the shell command that pulls this version (``pull_command``).
    - ``files`` (list): ``{path, role, size, sha256}``, sorted by path.
    - ``card_markdown`` (str | null): the body of ``model.md``.

    A metric value that is not a finite number becomes null, since JSON has no NaN.
    """
    items = sorted(manifests, key=lambda m: (str(m.stub), m.version))
    latest: dict[str, int] = {}
    for m in items:
        latest[str(m.stub)] = max(latest.get(str(m.stub), 0), m.version)
    cards, digests, aliases, approved = cards or {}, digests or {}, aliases or {}, approved_by or {}
    url = public_url(remote) if remote else None
    options = {k: public_url(v) for k, v in sorted((remote_options or {}).items()) if k in LOCKABLE_OPTIONS}
    names: dict[tuple[str, int], list[str]] = {}
    for stub, named in aliases.items():
        for name, number in sorted(named.items()):
            names.setdefault((stub, number), []).append(name)
    entries = []
    for m in items:
        key = (str(m.stub), m.version)
        is_latest = m.version == latest[str(m.stub)]
        entry = _entry(m, is_latest, cards.get(key), digests.get(key))
        entry["aliases"] = (["latest"] if is_latest else []) + names.get(key, [])
        entry["approved_by"] = list(approved.get(key, ()))
        entry["pull"] = pull_command(f"{m.stub}@{m.version_name}", url, options)
        entries.append({k: entry[k] for k in _ENTRY_ORDER})
    return {"schema": CATALOG_SCHEMA, "remote": url, "models": entries}


_ENTRY_ORDER = (
    "stub", "version", "latest", "aliases", "fields", "created", "publisher", "parent", "size", "nfiles",
    "metrics", "metric", "validation", "model", "approved_by", "card", "tree_md5", "manifest_digest", "pull", "files",
    "card_markdown",
)


def pull_command(ref: str, remote: str | None = None, options: Mapping[str, str] | None = None) -> str:
    """``zoo pull REF``, plus ``--remote URL`` and its ``-o KEY=VALUE`` for a reader
    without a checkout; every word quoted for a POSIX shell where it needs it."""
    words = ["zoo", "pull", ref]
    if remote:
        words += ["--remote", remote]
        for key, value in (options or {}).items():
            words += ["-o", f"{key}={value}"]
    return shlex.join(words)


def public_url(url: str) -> str:
    """``url`` without the ``user:password@`` of its address: the catalog is published."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def validation_status(m: Manifest) -> dict[str, Any]:
    """What publish checked of a version, from its manifest, in a fixed shape.

    ``checker`` is whether the ONNX checker passed: publish records the
    model's interface (``onnx``) only after it did. ``outputs_match`` is
    whether the sample inputs were run and matched the sample outputs
    (``samples`` of them, within ``rtol``/``atol``); ``skipped`` says why
    they were not run. ``status`` is ``"validated"`` (both), ``"checked"``
    (the checker only) or ``"none"``; ``display`` says it in a line
    (``core.validation.describe``).
    Anything of another type in the manifest counts as not recorded.
    """
    run = m.validation
    checker = bool(m.onnx)
    outputs_match = run.get("outputs_match") is True
    skipped = run.get("skipped") if isinstance(run.get("skipped"), str) else None
    status = "validated" if checker and outputs_match else "checked" if checker else "none"
    # The words `zoo show` and `zoo review` use too.
    display = describe(run)
    return {
        "status": status,
        "checker": checker,
        "opset": _number(m.onnx.get("opset"), int),
        "outputs_match": outputs_match,
        "samples": _number(run.get("samples"), int),
        "rtol": _number(run.get("rtol"), float),
        "atol": _number(run.get("atol"), float),
        "skipped": skipped,
        "display": display,
    }


def model_facts(m: Manifest) -> dict[str, Any]:
    """What the catalog shows of the model itself, in a fixed shape (None: not measured)."""
    lines = modelfacts.summary(m.onnx)
    facts = dict(lines)
    zeros = modelfacts.zeros(m.onnx)
    return {
        "onnx": facts.get("onnx"),
        "inputs": [text for label, text in lines if label == "input"],
        "outputs": [text for label, text in lines if label == "output"],
        "parameters": _number(m.onnx.get("parameters"), int),
        "sparsity": None if zeros is None or not math.isfinite(zeros) else zeros,
        "quantized_ops": facts.get("quantized ops"),
    }


def _number(value: Any, kind: type[int] | type[float]) -> int | float | None:
    # bool is an int to Python, and a NaN or infinity is no JSON number.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if kind is int:
        return value if isinstance(value, int) else None
    return float(value)


def render_json(index: Mapping[str, Any]) -> str:
    """``catalog.json``'s text: fixed key order, one-space indent, trailing newline.

    The key order is the one ``catalog_index`` builds (readable in a diff:
    stub and version first); the same index always gives the same bytes.
    """
    return json.dumps(index, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def _entry(m: Manifest, is_latest: bool, card_markdown: str | None, digest: str | None) -> dict[str, Any]:
    metric = validation_metric(m.metrics)
    return {
        "stub": str(m.stub),
        "version": m.version_name,
        "latest": is_latest,
        "fields": m.stub.fields(),
        "created": m.created,
        "publisher": m.publisher,
        "parent": f"v{m.parent}" if m.parent else None,
        "size": m.size,
        "nfiles": len(m.files),
        "metrics": [_metric(x) for x in m.metrics],
        "metric": {**_metric(metric), "display": metric.display()} if metric else None,
        "validation": validation_status(m),
        "model": model_facts(m),
        "card": _card(m.card),
        "tree_md5": m.tree_md5,
        "manifest_digest": digest or digest_of(m.to_text()),
        "files": [
            {"path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256}
            for f in sorted(m.files)
        ],
        "card_markdown": card_markdown,
    }


def _metric(metric: Metric) -> dict[str, Any]:
    out = metric.to_dict()
    out["value"] = metric.value if math.isfinite(metric.value) else None
    return out


def _card(card: Mapping[str, Any]) -> dict[str, Any]:
    """Only the card metadata the catalog shows, with a fixed shape whatever the manifest held."""
    description, license_ = card.get("description"), card.get("license")
    return {
        "license": license_ if isinstance(license_, str) else None,
        "description": description if isinstance(description, str) else None,
        "tags": [t for t in card.get("tags") or [] if isinstance(t, str)],
    }
