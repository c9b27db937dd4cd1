"""The rules that check what a manifest claims instead of believing it: ``card-fields`` and ``validation``.

A pull request can edit a manifest by hand (and keep its tree md5 and DVC
pointer consistent): raise a metric, or claim a sample run that never
happened. These rules compare the claims with what they are derived from,
the way publish derives them, so every manifest publish writes passes:

    card-fields   the manifest's card fields and metrics are what the committed
                  model.md's front matter says (parsed by ``core.card``, the
                  fields publish copies: ``core.publishing.CARD_FIELDS``)
    validation    the validation record is one publish writes beside these
                  files (``core.validation.record_problems``); ``zoo check
                  --deep`` also re-runs it on the bytes (``review.revalidate``)

Pure, like ``rules``: they judge bytes ``scan`` read.
"""

from __future__ import annotations

from typing import Any

from zoo_repo.core.card import CARD_NAME, Metric, parse_card
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest
from zoo_repo.core.publishing import CARD_FIELDS
from zoo_repo.core.validation import record_problems
from zoo_repo.errors import CardError
from zoo_repo.review.rules import Problem


def _value(value: float) -> str:
    """A metric's value as people write it (``75.9``, ``76``), exact when ``:g`` would round."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def _metric(metric: Metric | None) -> str:
    if metric is None:
        return "absent"
    where = ", ".join(x for x in (metric.dataset, metric.split) if x)
    return repr(metric.display() + (f" ({where})" if where else ""))


def _metric_problem(index: int, claimed: Metric | None, card: Metric | None) -> str:
    label = f"metrics[{index}]"
    if claimed is not None and card is not None and (claimed.name, claimed.unit, claimed.dataset, claimed.split) \
            == (card.name, card.unit, card.dataset, card.split):
        return f"{label} {claimed.name} is {_value(claimed.value)} in the manifest, {_value(card.value)} in {CARD_NAME}"
    return f"{label} is {_metric(claimed)} in the manifest, {_metric(card)} in {CARD_NAME}"


def _field(value: Any, present: bool) -> str:
    return repr(value) if present else "absent"


def check_card_fields(raw: bytes, rel: str, manifest: Manifest, problems: list[Problem]) -> None:
    """``card-fields``: version ``rel``'s manifest carries what its model.md (``raw``) says.

    ``scan`` asks only once the ``card`` rule found ``raw`` to be the card the
    manifest lists. A card that does not parse is reported here: publish
    refuses one, so no manifest was derived from it.
    """
    try:
        card = parse_card(raw.decode("utf-8"), f"{rel}/{CARD_NAME}")
    except UnicodeDecodeError:
        problems.append(Problem(f"{rel}/{CARD_NAME}", "card-fields", "is not UTF-8 text; publish refuses such a card"))
        return
    except CardError as exc:
        problems.append(Problem(f"{rel}/{CARD_NAME}", "card-fields",
                                f"does not parse ({exc.problem}); publish refuses such a card"))
        return
    where = f"{rel}/{MANIFEST_NAME}"
    derived = {k: v for k, v in card.metadata.items() if k in CARD_FIELDS}
    keys = [k for k in CARD_FIELDS if k in derived or k in manifest.card]
    keys += sorted(str(k) for k in manifest.card if k not in CARD_FIELDS)
    for key in keys:
        claimed, said = manifest.card.get(key), derived.get(key)
        if (key in manifest.card, claimed) != (key in derived, said):
            problems.append(Problem(where, "card-fields", (
                f"card.{key} is {_field(claimed, key in manifest.card)} in the manifest, "
                f"{_field(said, key in derived)} in {CARD_NAME}")))
    for index in range(max(len(manifest.metrics), len(card.metrics))):
        claimed_metric = manifest.metrics[index] if index < len(manifest.metrics) else None
        card_metric = card.metrics[index] if index < len(card.metrics) else None
        if claimed_metric != card_metric:
            problems.append(Problem(where, "card-fields", _metric_problem(index, claimed_metric, card_metric)))


def check_validation(rel: str, manifest: Manifest, problems: list[Problem]) -> None:
    """``validation``: version ``rel``'s validation record is one publish writes beside its files."""
    where = f"{rel}/{MANIFEST_NAME}"
    problems.extend(Problem(where, "validation", message) for message in record_problems(manifest))
