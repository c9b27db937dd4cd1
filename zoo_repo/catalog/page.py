"""The catalog as one static web page: ``catalog/index.html``. Pure.

``render_html`` turns ``catalog.catalog_index(...)`` into a single
self-contained HTML file: inline CSS, inline JavaScript and the index itself as
a ``<script type="application/json">`` data block. Nothing is fetched, so the
page works from ``file://``, from any static host, or attached to a CI run.

The markup, style and script are package data (``static/page.html``,
``page.css``, ``page.js`` and ``markdown.js``, the card renderer it uses) so
they can be read, linted and edited as what they are; this module only fills
the template's ``__NAME__`` placeholders.

Safety: model cards are written by publishers, so every string from the index
reaches the page only as data. The JSON block has ``<``, ``>`` and ``&``
escaped (no ``</script>`` can close it early); the script builds the DOM with
``textContent`` and never uses ``innerHTML``; a Content-Security-Policy admits
only this page's own script and style (by hash), so even injected markup could
run no handler and load nothing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from zoo_repo.core.manifest import ROLES
from zoo_repo.core.stub import FIELDS

# The select boxes: stub field and its label.
FILTERS = (
    ("domain", "Domain"),
    ("architecture", "Architecture"),
    ("dataset", "Dataset"),
    ("sparse_name", "Sparse name"),
    ("sparse_category", "Sparse category"),
)

# JSON escapes that keep the data block inert inside HTML: none of these
# characters is JSON syntax outside strings, so replacing them everywhere is safe.
_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)

# Filled in one pass, so no substituted text (above all the publishers' data) is
# ever searched for placeholders itself; an unknown name raises.
_PLACEHOLDER = re.compile(r"__([A-Z]+)__")


def _static(name: str) -> str:
    # Explicit UTF-8: on a plain directory this is Path.read_text, which would
    # otherwise decode with the locale's encoding.
    return (files(__package__) / "static" / name).read_text(encoding="utf-8")


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


_TEMPLATE = _static("page.html")
# The leading newline is part of each element's text, hence of its CSP hash.
_CSS = "\n" + _static("page.css")
# One script, so one hash admits both: the renderer first, as page.js calls it.
_JS = "\n" + _static("markdown.js") + _static("page.js")
_CSP = "; ".join(
    (
        "default-src 'none'",
        f"script-src '{_csp_hash(_JS)}'",
        f"style-src '{_csp_hash(_CSS)}'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)


def render_html(index: Mapping[str, Any]) -> str:
    """The whole page for ``index`` (as ``catalog_index`` returns it); same index, same bytes."""
    values = {
        "CSP": html.escape(_CSP),
        "CSS": _CSS,
        "FILTERS": _filters(),
        "ROLES": html.escape(" ".join(ROLES)),
        "FIELDS": html.escape(" ".join(FIELDS)),
        "DATA": embed_json(index),
        "JS": _JS,
    }
    return _PLACEHOLDER.sub(lambda m: values[m[1]], _TEMPLATE)


def embed_json(value: Any) -> str:
    """``value`` as JSON that is safe between ``<script>`` tags (no ``</``, no ``<!--``)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.translate(_JSON_ESCAPES)


def _filters() -> str:
    return "\n".join(
        f'      <div class="filter"><label for="filter-{field}">{html.escape(label)}</label>'
        f'<select id="filter-{field}" data-testid="filter-{field}" data-field="{field}">'
        '<option value="">All</option></select></div>'
        for field, label in FILTERS
    )
