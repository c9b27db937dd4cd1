"""Turns the library's results into the CLI's text and JSON. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zoo_repo.core import modelfacts
from zoo_repo.core.card import validation_metric
from zoo_repo.core.deprecation import Deprecation
from zoo_repo.core.manifest import ROLES, Manifest
from zoo_repo.core.trust import Seen, Trust
from zoo_repo.core.trust import describe as describe_signature
from zoo_repo.core.validation import describe
from zoo_repo.core.words import count, human_size

if TYPE_CHECKING:
    from zoo_repo.catalog.index import Summary  # a pull's output needs none of the catalog


def summary_dict(m: Manifest | Summary) -> dict[str, Any]:
    metric = validation_metric(m.metrics)
    return {
        "stub": str(m.stub),
        "version": m.version_name,
        "fields": m.stub.fields(),
        "created": m.created,
        "size": m.size,
        "nfiles": len(m.files) if isinstance(m, Manifest) else m.nfiles,
        "metric": metric.to_dict() if metric else None,
    }


def publish_dict(result: Any) -> dict[str, Any]:
    return {
        **summary_dict(result.manifest),
        "created_version": result.created,
        "uploaded_objects": result.uploaded_objects,
        "uploaded_bytes": result.uploaded_bytes,
        "uploaded_files": result.uploaded_files,
        "uploaded_file_bytes": result.uploaded_file_bytes,
        "commit": result.commit,
        "branch": result.branch,
        "listed": result.listed,
        "ignored": list(result.ignored),
        "archive_skipped": result.archive_skipped or None,
    }


def publish_line(result: Any) -> str:
    m = result.manifest
    if not result.created:
        return f"unchanged: {m.stub}@{m.version_name} already holds this content; nothing written"
    line = (
        f"published {m.stub}@{m.version_name}: {count(len(m.files), 'file')}, {human_size(m.size)}; "
        f"uploaded {count(result.uploaded_files, 'new file')} ({human_size(result.uploaded_file_bytes)})"
    )
    if result.ignored:  # what the version lacks on purpose, so a surprise is seen now, not after
        line += f"; ignored {count(len(result.ignored), 'path')} ({', '.join(result.ignored[:3])}" + \
            (", …)" if len(result.ignored) > 3 else ")")
    if result.archive_skipped:
        line += f"; model.onnx.tar.gz {result.archive_skipped}"
    if result.branch:
        return line + f"; commit {result.commit[:10]} on new branch {result.branch}{WAITS}"
    if result.listed:
        return line + f"; commit {result.commit[:10]}, listed on the remote"
    return line + (f"; commit {result.commit[:10]}" if result.commit else "; not committed") + WAITS


# Why a version or alias is in git but not yet what consumers without git see.
WAITS = " (consumers without git see it once it is on the release branch and `zoo push` runs)"


def push_lines(result: Any) -> list[str]:
    """What ``zoo push`` did to the objects and to what consumers see."""
    lines = [f"uploaded {count(result.objects, 'object')} ({human_size(result.bytes)})"]
    p = result.projection
    if p is None:
        if not result.missing:
            lines.append("the remote's listing was not moved: it follows the release branch, which is not "
                         "checked out here")
    elif p.moved:
        added = ", ".join([count(len(p.added), "new version")]
                          + ([f"aliases of {count(len(p.aliases), 'stub')}"] if p.aliases else [])
                          + ([f"deprecations of {count(len(p.deprecated), 'stub')}"] if p.deprecated else []))
        lines.append(f"the remote now lists {p.branch} at {p.commit[:10]}"
                     f"{f' (was {p.before[:10]})' if p.before else ''}: {added}")
    else:
        lines.append(f"the remote's listing already matches {p.branch}"
                     + (f" ({p.commit[:10]})" if p.commit else ""))
    return lines


def pull_dict(result: Any) -> dict[str, Any]:
    return {
        **summary_dict(result.manifest),
        "dest": str(result.dest),
        "digest": result.digest,
        "files": [f.path for f in result.files],
        "fetched_objects": result.fetched_objects,
        "fetched_bytes": result.fetched_bytes,
        "signed": None if result.signed is None else {"approved_by": list(result.signed.approvers),
                                                      "waived": result.signed.waived},
        "recipe": None if result.recipe is None else str(result.recipe),
        "deprecated": None if result.deprecated is None else result.deprecated.to_dict(),
    }


def pull_line(result: Any) -> str:
    m = result.manifest
    return (
        f"pulled {m.stub}@{m.version_name} to {result.dest}: {count(len(result.files), 'file')}, "
        f"{human_size(result.size)}; fetched {count(result.fetched_objects, 'object')} "
        f"({human_size(result.fetched_bytes)})"
        + (f"; approved by {', '.join(result.signed.approvers)}" if result.signed and result.signed.approvers else "")
        + (f"; recipe {result.recipe}" if result.recipe is not None else "")
    )


def show_text(m: Manifest, signed: Sequence[str] = (), recipe: str | None = None,
              deprecated: Deprecation | None = None) -> str:
    """``zoo show``: the version's fields, then ``signed`` (one line per signature), then its files;
    ``recipe``: the recipe file a ``?recipe=`` selected; ``deprecated``: its stub's deprecation, first."""
    lines = [f"{m.stub}@{m.version_name}"]
    if deprecated is not None:
        lines.append(f"  {'deprecated':16} {deprecated.message}"
                     + (f" (successor {deprecated.successor})" if deprecated.successor else ""))
    for key, value in m.stub.fields().items():
        if value is not None:
            lines.append(f"  {key:16} {value}")
    lines.append(f"  {'created':16} {m.created} by {m.publisher}")
    if m.parent:
        lines.append(f"  {'parent':16} v{m.parent}")
    for key in ("license", "description"):
        if m.card.get(key):
            lines.append(f"  {key:16} {m.card[key]}")
    for metric in m.metrics:
        where = ", ".join(x for x in (metric.dataset, metric.split) if x)
        lines.append(f"  {'metric':16} {metric.display()}" + (f" ({where})" if where else ""))
    lines.append(f"  {'validation':16} {describe(m.validation)}")
    lines.extend(f"  {label:16} {text}" for label, text in modelfacts.summary(m.onnx))
    lines.extend(f"  {'signed':16} {line}" for line in signed)
    if recipe is not None:
        lines.append(f"  {'recipe':16} {recipe}")
    lines.append(f"  {'size':16} {human_size(m.size)} in {count(len(m.files), 'file')}")
    for role in ROLES:
        files = m.by_role(role)
        if files:
            lines.append(f"  {role}:")
            lines.extend(f"    {f.path}  {human_size(f.size)}  sha256:{f.sha256[:12]}" for f in files)
    return "\n".join(lines)


def signed_line(trust: Trust, s: Seen) -> str:
    """One signature for ``zoo show``: ``approval by alice ✓``; by a key nobody listed, no mark
    (it is neither good nor bad, only unknown); a refused one ends in ✗."""
    text = describe_signature(trust, s)
    return text if s.unknown else f"{text} {'✓' if s.problem is None else '✗'}"


def versions_text(rows: list[tuple[Manifest, list[str], str]]) -> str:
    """One line per version: name, aliases, created, size, manifest digest."""
    out = [f"{'version':8} {'aliases':16} {'created':20}  {'size':>10}  digest"]
    for m, aliases, digest in rows:
        out.append(f"{m.version_name:8} {','.join(aliases) or '-':16} {m.created:20}  "
                   f"{human_size(m.size):>10}  {digest[:19]}")
    return "\n".join(out)


def demo_text(report: Any) -> str:
    lines = [
        f"demo workdir: {report.workdir}",
        f"published {count(len(report.models), 'model')} ({human_size(report.published_bytes)}) in "
        f"{report.publish_seconds:.2f} s to {report.workdir / 'remote'}",
        f"pulled {count(report.pulled_files, 'file')} from a fresh clone in {report.pull_seconds:.2f} s: "
        + ("byte-identical" if report.identical else "MISMATCH"),
        "",
        report.catalog,
    ]
    return "\n".join(lines)
