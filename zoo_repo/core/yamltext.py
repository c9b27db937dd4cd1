"""Strict YAML in, reviewable YAML out. Pure: text in, values out.

Loading refuses what a hostile or careless file can do to a parser: aliases
(the billion-laughs bomb), duplicate keys (which YAML silently resolves to the
last one) and oversized documents.
"""

from __future__ import annotations

import functools
import types
from typing import Any

MAX_BYTES = 1 << 20


class YamlProblem(ValueError):
    """A YAML text that is not acceptable; the message says why."""


@functools.cache
def _yaml() -> Any:
    """PyYAML and the loaders and dumper built on it, made on first use: a pull
    that finds its manifests in the parse cache never imports yaml."""
    import yaml

    # libyaml when present (PyYAML's wheels ship it): a 2,000-file manifest
    # parses and dumps ten times faster than in pure Python.
    base_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    base_dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    # The base is chosen at run time (libyaml or not), which mypy cannot check.
    class StrictLoader(base_loader):  # type: ignore[valid-type,misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    raise YamlProblem(f"line {key_node.start_mark.line + 1}: keys must be strings")
                if key in seen:
                    raise YamlProblem(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    # Timestamps stay strings: a manifest's dates are text a reviewer reads, and
    # yaml's datetime conversion would make load(dump(x)) != x.
    StrictLoader.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    class TaggedLoader(StrictLoader):
        """Also accepts application tags (SparseML recipes write ``- !GMPruningModifier``)."""

    def untag(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    TaggedLoader.add_multi_constructor("!", untag)

    class Dumper(base_dumper):  # type: ignore[valid-type,misc]  # base chosen at run time, as above
        pass

    def flow(dumper: Any, data: Flow) -> Any:
        return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)

    def text(dumper: Any, data: str) -> Any:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(Flow, flow)
    Dumper.add_representer(str, text)
    return types.SimpleNamespace(yaml=yaml, base_loader=base_loader, strict=StrictLoader, tagged=TaggedLoader,
                                 dumper=Dumper)


def _refuse_aliases(text: str) -> None:
    """Aliases are how a small YAML file expands into a huge one; none are needed here."""
    if "*" not in text:  # no alias can exist without its indicator
        return
    y = _yaml()
    for event in y.yaml.parse(text, Loader=y.base_loader):
        if isinstance(event, y.yaml.AliasEvent):
            raise YamlProblem(f"line {event.start_mark.line + 1}: YAML aliases are not allowed")


def load(text: str, tags: bool = False, max_bytes: int = MAX_BYTES) -> Any:
    """Parse one YAML document strictly, or raise YamlProblem; ``tags`` accepts ``!Tag`` nodes.
    ``max_bytes`` caps the text (a manifest, one line a file, gets more than the default)."""
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise YamlProblem(f"larger than {max_bytes} bytes")
    y = _yaml()
    try:
        _refuse_aliases(text)
        return y.yaml.load(text, Loader=y.tagged if tags else y.strict)
    except y.yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlProblem(f"{where}{problem}") from exc


class Flow(dict[str, Any]):
    """A mapping written on one line, so a diff shows one changed file per line."""


def dump(data: Any) -> str:
    """Block-style YAML in the given key order; ``Flow`` values on one line."""
    y = _yaml()
    return str(y.yaml.dump(
        data,
        Dumper=y.dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 16,
    ))
