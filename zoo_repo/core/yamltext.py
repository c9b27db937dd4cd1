"""Strict YAML in, reviewable YAML out. Pure: text in, values out.

Loading refuses what a hostile or careless file can do to a parser: aliases
(the billion-laughs bomb), duplicate keys (which YAML silently resolves to the
last one) and oversized documents.
"""

from __future__ import annotations

import functools
import hashlib
import re
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

    class Resolver(yaml.resolver.Resolver):  # what a plain scalar means to StrictLoader
        yaml_implicit_resolvers = StrictLoader.yaml_implicit_resolvers

    # What a plain scalar means to the dumper, which still knows timestamps: it
    # quotes a string such as 2026-12-02, and so must the rows ``dump`` writes itself.
    return types.SimpleNamespace(yaml=yaml, base_loader=base_loader, strict=StrictLoader, tagged=TaggedLoader,
                                 dumper=Dumper, resolver=Resolver(), dump_resolver=yaml.resolver.Resolver())


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


# A row as ``dump`` writes a Flow of plain scalars: what ``load_rows`` reads without YAML.
_PLAIN = r"([A-Za-z0-9_][A-Za-z0-9_./+-]*)"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_STR, _INT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int"


@functools.cache
def _row_pattern(fields: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"- \{" + ", ".join(f"{re.escape(name)}: {_PLAIN}" for name in fields) + r"\}")


def load_rows(text: str, key: str, fields: tuple[str, ...], max_bytes: int = MAX_BYTES) -> Any:
    """``load``, with one top-level list read without YAML where its text allows.

    The fast form is what ``dump`` writes for a list of ``Flow`` rows: ``key:`` at
    the start of a line, then one line per row, ``- {f1: v1, f2: v2, ...}``,
    exactly ``fields`` in order, each value a plain scalar that YAML resolves to a
    string or a decimal integer (the resolver ``load`` uses decides). Those rows
    are read by a regex; the rest of the text by ``load``, with a marker where
    the rows were, and the rows stand in for it only if the marker came back as
    ``key``'s value (not, say, inside a quoted string that the cut went through).
    Any other form, and any text whose rest ``load`` refuses, is read by ``load``
    whole: the answer, or the error, is always ``load``'s. A manifest of 2,000
    files loads in a fifth of the time.
    """
    if len(text) > max_bytes:
        raise YamlProblem(f"larger than {max_bytes} bytes")
    fast = _rows(text, key, fields)
    if fast is not None:
        start, end, rows = fast
        # Named after the whole text: no text can hold its own digest, so the
        # marker cannot be planted anywhere else in it.
        marker = "zoo-rows-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        try:
            doc = load(f"{text[:start]}{key}: {marker}\n{text[end:]}", max_bytes=max_bytes + len(marker) + 2)
        except YamlProblem:
            doc = None  # refused: say it as the whole text would, with its line numbers
        if isinstance(doc, dict) and doc.get(key) == marker:
            doc[key] = rows
            return doc
    return load(text, max_bytes=max_bytes)


def _rows(text: str, key: str, fields: tuple[str, ...]) -> tuple[int, int, list[dict[str, Any]]] | None:
    """Where ``key:`` and its rows start and end, and the rows; None unless every row is in the fast form."""
    head = f"{key}:\n"
    if text.startswith(head):
        start = 0
    else:
        start = text.find("\n" + head) + 1
        if start == 0:
            return None
    y = _yaml()
    pattern, resolve, scalar = _row_pattern(fields), y.resolver.resolve, y.yaml.ScalarNode
    rows: list[dict[str, Any]] = []
    pos = start + len(head)
    while text.startswith("- ", pos):
        end = text.find("\n", pos)
        match = pattern.fullmatch(text, pos, end) if end >= 0 else None
        if match is None:
            return None
        row: dict[str, Any] = {}
        for name, value in zip(fields, match.groups(), strict=True):
            tag = resolve(scalar, value, (True, False))
            if tag == _STR:
                row[name] = value
            elif tag == _INT and _DECIMAL.fullmatch(value):
                row[name] = int(value)
            else:
                return None  # YAML reads it as something else (a bool, null, float, octal...)
        rows.append(row)
        pos = end + 1
    if not rows:
        return None  # "key:" alone is null to YAML, not an empty list
    if pos < len(text) and not (text[pos].isascii() and (text[pos].isalpha() or text[pos] == "_")):
        return None  # the list goes on in another form (indented, a comment, flow): YAML's to read
    return start, pos, rows


class Flow(dict[str, Any]):
    """A mapping written on one line, so a diff shows one changed file per line."""


def dump(data: Any) -> str:
    """Block-style YAML in the given key order; ``Flow`` values on one line.

    A top-level list of ``Flow`` rows of plain scalars (a manifest's files) is
    written here, line by line, where PyYAML's representer would take a third of
    a second for 2,000 rows: the same text, byte for byte, or PyYAML writes it all.
    """
    if isinstance(data, dict):
        fast = {key: lines for key, value in data.items() if (lines := _row_lines(key, value)) is not None}
        if fast:
            text = _dump({key: _ROWS_MARKER if key in fast else value for key, value in data.items()})
            if text.count(_ROWS_MARKER) == len(fast):  # no value of the rest holds the marker
                for key, lines in fast.items():
                    at = f"{key}: {_ROWS_MARKER}\n"
                    start = 0 if text.startswith(at) else text.find("\n" + at) + 1
                    if not text.startswith(at, start):
                        return _dump(data)  # not where a plain top-level key is written
                    text = f"{text[:start]}{key}:\n{lines}{text[start + len(at):]}"
                return text
    return _dump(data)


_ROWS_MARKER = "zoo-rows-5b0c2d8e7f1a4936"


def _row_lines(key: Any, value: Any) -> str | None:
    """``value``'s lines as PyYAML writes a list of ``Flow`` rows, or None unless every
    key and value is one it writes plain: a string the dumper's resolver reads back as
    a string, or a non-negative int."""
    if not (isinstance(value, list) and value and isinstance(key, str) and _plain_key(key)):
        return None
    lines = []
    for row in value:
        if type(row) is not Flow or not row:
            return None
        parts = []
        for name, item in row.items():
            if not (isinstance(name, str) and _plain_key(name)):
                return None
            if type(item) is int and item >= 0:
                parts.append(f"{name}: {item}")
            elif isinstance(item, str) and _plain(item):
                parts.append(f"{name}: {item}")
            else:
                return None
        lines.append("- {" + ", ".join(parts) + "}\n")
    return "".join(lines)


_PLAIN_RE = re.compile(_PLAIN)


def _plain(text: str) -> bool:
    y = _yaml()
    return (_PLAIN_RE.fullmatch(text) is not None
            and y.dump_resolver.resolve(y.yaml.ScalarNode, text, (True, False)) == _STR)


def _plain_key(text: str) -> bool:
    return len(text) <= 128 and _plain(text)  # a longer key is written as "? key" by YAML


def _dump(data: Any) -> str:
    y = _yaml()
    return str(y.yaml.dump(
        data,
        Dumper=y.dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 16,
    ))
