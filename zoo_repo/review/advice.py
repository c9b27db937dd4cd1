"""``zoo check``'s advisory rules: what a reviewer should look at twice, set per zoo.

    stub-tokens   the sparse tag holds a value the spec does not list (``prunned``
                  is a typo; ``vnni`` is a real SparseZoo target): ``core.stub.unknown_tokens``
    sparse-name   the sparse name says what the measured model facts do not
                  (``pruned…`` with few zero weights, ``quant…`` without quantized
                  ops): ``core.modelfacts.name_disagreements``

Each is ``off``, ``warn`` (the default: printed, the check still passes) or
``error`` (a problem like any other), set in ``zoo.yaml``::

    check:
      stub-tokens: warn
      sparse-name: error
      pruned-min-zeros: 0.10     # "pruned" with fewer zero weights disagrees
      pruned-tolerance: 0.05     # "pruned95" under 90 % zeros disagrees

The settings a change is judged by are the base ref's, as for trust.yaml: a
pull request cannot turn off the rules that judge it. Pure but for the read
of zoo.yaml in ``settings_at``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo_repo.core import modelfacts, yamltext
from zoo_repo.core.manifest import MANIFEST_NAME, Manifest
from zoo_repo.core.stub import (
    KNOWN_SPARSE_CATEGORIES,
    KNOWN_SPARSE_NAME_BASES,
    KNOWN_SPARSE_TARGETS,
    unknown_tokens,
)
from zoo_repo.errors import ManifestError
from zoo_repo.review.rules import ADVICE_RULES, Problem

LEVELS = ("off", "warn", "error")
ZOO_YAML = "zoo.yaml"


@dataclass(frozen=True)
class Settings:
    levels: Mapping[str, str]  # rule → off | warn | error
    pruned_min: float = modelfacts.PRUNED_MIN
    tolerance: float = modelfacts.PRUNED_TOLERANCE

    @property
    def active(self) -> bool:
        return any(level != "off" for level in self.levels.values())

    def to_doc(self) -> dict[str, Any]:
        """As plain data, for a worker process (``from_doc`` reads it back)."""
        return {"levels": dict(self.levels), "pruned_min": self.pruned_min, "tolerance": self.tolerance}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Settings:
        return cls(dict(doc["levels"]), float(doc["pruned_min"]), float(doc["tolerance"]))


DEFAULT = Settings({rule: "warn" for rule in ADVICE_RULES})


def settings_from_text(text: str | None, where: str = ZOO_YAML) -> Settings:
    """The ``check:`` section of zoo.yaml's ``text`` (None or absent: every rule warns);
    ManifestError naming the key for anything else."""
    if text is None:
        return DEFAULT
    try:
        doc = yamltext.load(text)
    except yamltext.YamlProblem as exc:
        raise ManifestError(where, str(exc)) from exc
    section = doc.get("check") if isinstance(doc, dict) else None
    if section is None:
        return DEFAULT
    if not isinstance(section, dict):
        raise ManifestError(where, "'check' must be a mapping of rule: off|warn|error")
    levels = dict(DEFAULT.levels)
    numbers = {"pruned-min-zeros": DEFAULT.pruned_min, "pruned-tolerance": DEFAULT.tolerance}
    for key, value in section.items():
        if key in levels:
            if value is False:  # YAML 1.1 reads a bare ``off`` as false
                value = "off"
            if value not in LEVELS:
                raise ManifestError(where, f"check.{key} is {value!r}; expected one of {', '.join(LEVELS)}")
            levels[key] = value
        elif key in numbers:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ManifestError(where, f"check.{key} is {value!r}; expected a fraction from 0 to 1")
            numbers[key] = float(value)
        else:
            known = ", ".join([*levels, *numbers])
            raise ManifestError(where, f"check has unknown key {key!r}; expected {known}")
    return Settings(levels, numbers["pruned-min-zeros"], numbers["pruned-tolerance"])


def settings_at(root: Path, base: str | None, sha: str | None) -> Settings:
    """The settings in force: zoo.yaml at the base commit ``sha``, else the working tree's."""
    from zoo_repo.model.readfile import TEXT_LIMIT, read_text_bounded
    from zoo_repo.repo import git

    if sha is not None:
        return settings_from_text(git.show(root, sha, ZOO_YAML), f"{ZOO_YAML} at {base}")
    path = root / ZOO_YAML
    return settings_from_text(read_text_bounded(str(path), TEXT_LIMIT, ZOO_YAML) if path.is_file() else None)


def advise(manifests: Mapping[str, Manifest], settings: Settings) -> tuple[list[Problem], list[Problem]]:
    """The advisory rules over ``manifests`` (version dir → manifest): (warnings, errors)."""
    warnings: list[Problem] = []
    errors: list[Problem] = []
    sink = {"warn": warnings, "error": errors}
    for rel, m in sorted(manifests.items()):
        where = f"{rel}/{MANIFEST_NAME}"
        found: dict[str, list[str]] = {
            "stub-tokens": [f"{name} {value!r} is not one the spec lists ({_known(name)}); "
                            "a typo, or a value new to the spec" for name, value in unknown_tokens(m.stub)],
            "sparse-name": modelfacts.name_disagreements(m.stub, m.onnx, settings.pruned_min, settings.tolerance),
        }
        for rule, messages in found.items():
            level = settings.levels.get(rule, "off")
            if level in sink:
                sink[level].extend(Problem(where, rule, message) for message in messages)
    return warnings, errors


def _known(field: str) -> str:
    values = {"sparse_name": KNOWN_SPARSE_NAME_BASES, "sparse_category": KNOWN_SPARSE_CATEGORIES,
              "sparse_target": KNOWN_SPARSE_TARGETS}
    return "known: " + ", ".join(values[field])
