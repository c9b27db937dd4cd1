"""The catalog as one static web page: ``catalog/index.html``. Pure.

``render_html`` turns ``catalog.catalog_index(...)`` into a single
self-contained HTML file: inline CSS, inline JavaScript and the index itself as
a ``<script type="application/json">`` data block. Nothing is fetched, so the
page works from ``file://``, from any static host, or attached to a CI run.

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
from collections.abc import Mapping
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


def render_html(index: Mapping[str, Any]) -> str:
    """The whole page for ``index`` (as ``catalog_index`` returns it); same index, same bytes."""
    csp = "; ".join(
        (
            "default-src 'none'",
            f"script-src '{_csp_hash(_JS)}'",
            f"style-src '{_csp_hash(_CSS)}'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    return (
        _HEAD.replace("__CSP__", html.escape(csp))
        + f"<style>{_CSS}</style>\n</head>\n"
        + _body()
        + f'<script type="application/json" id="catalog-data">{embed_json(index)}</script>\n'
        + f"<script>{_JS}</script>\n</body>\n</html>\n"
    )


def embed_json(value: Any) -> str:
    """``value`` as JSON that is safe between ``<script>`` tags (no ``</``, no ``<!--``)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.translate(_JSON_ESCAPES)


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _body() -> str:
    selects = "\n".join(
        f'      <div class="filter"><label for="filter-{field}">{html.escape(label)}</label>'
        f'<select id="filter-{field}" data-testid="filter-{field}" data-field="{field}">'
        '<option value="">All</option></select></div>'
        for field, label in FILTERS
    )
    return (
        _BODY.replace("__FILTERS__", selects)
        .replace("__ROLES__", html.escape(" ".join(ROLES)))
        .replace("__FIELDS__", html.escape(" ".join(FIELDS)))
    )


_HEAD = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="__CSP__">
<meta name="referrer" content="no-referrer">
<title>Model zoo catalog</title>
"""

_BODY = """\
<body>
<a class="skip" href="#models">Skip to the model list</a>
<header class="top">
  <h1>Model zoo</h1>
  <p id="summary" class="summary"></p>
</header>
<main>
  <section class="controls" aria-label="Search and filters">
    <div class="search">
      <label for="search">Search</label>
      <input id="search" data-testid="search" type="search" autocomplete="off" spellcheck="false"
             placeholder="Stub, description or tag" aria-describedby="count">
    </div>
    <div class="filters">
__FILTERS__
    </div>
    <div class="toggles">
      <label class="check"><input type="checkbox" id="all-versions" data-testid="all-versions"> All versions</label>
      <button type="button" id="reset" data-testid="reset">Clear filters</button>
      <span id="count" data-testid="count" class="count" role="status" aria-live="polite"></span>
    </div>
  </section>
  <div class="layout">
    <section class="list" aria-label="Models">
      <table id="models" data-testid="models">
        <caption class="sr-only">Published models. Select a row to show its card.</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Version</th>
            <th scope="col" id="metric-header" aria-sort="none"><button type="button" id="sort-metric"
                data-testid="sort-metric" title="Sort by metric value">Validation metric
                <span class="arrow" aria-hidden="true">&#8597;</span></button></th>
            <th scope="col" class="num">Size</th>
            <th scope="col">Published</th>
          </tr>
        </thead>
        <tbody id="rows"></tbody>
      </table>
    </section>
    <aside id="card" data-testid="card" class="card" aria-label="Model card" tabindex="-1"
           data-roles="__ROLES__" data-fields="__FIELDS__">
      <p class="placeholder">Select a model to see its card.</p>
    </aside>
  </div>
</main>
<noscript><p class="noscript">This page needs JavaScript to list models;
catalog.json and CATALOG.md beside it hold the same catalog.</p></noscript>
"""

_CSS = """
:root {
  --bg: #f6f7f9; --panel: #ffffff; --text: #1d232b; --muted: #5b6673; --line: #dde2e8;
  --accent: #1f6feb; --accent-soft: #e7f0fe; --row-hover: #f1f5fb; --code-bg: #f0f2f5;
  --badge: #eef1f4; --ok: #1a7f37; --ok-soft: #e3f4e8; --shadow: 0 1px 2px rgba(16, 24, 40, .06);
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1419; --panel: #161c23; --text: #e3e8ee; --muted: #9aa6b2; --line: #2a333d;
    --accent: #58a6ff; --accent-soft: #132a45; --row-hover: #1b232c; --code-bg: #1e262f;
    --badge: #222b35; --ok: #56d364; --ok-soft: #14301d; --shadow: none;
  }
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body {
  margin: 0; background: var(--bg); color: var(--text); line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--panel); padding: .4rem .8rem; z-index: 2; }
.top { padding: 1.1rem 1.5rem .3rem; display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
.top h1 { margin: 0; font-size: 1.45rem; letter-spacing: -.01em; }
.summary { margin: 0; color: var(--muted); }
main { padding: 0 1.5rem 2rem; }
.controls {
  display: flex; flex-wrap: wrap; gap: .8rem 1.2rem; align-items: flex-end; padding: .9rem 1rem;
  background: var(--panel); border: 1px solid var(--line); border-radius: 10px; box-shadow: var(--shadow);
  margin: .6rem 0 1rem;
}
.controls label { display: block; font-size: .78rem; font-weight: 600; color: var(--muted); margin-bottom: .2rem; }
.search { flex: 1 1 16rem; }
.search input { width: 100%; }
.filters { display: flex; flex-wrap: wrap; gap: .6rem; }
input[type=search], select {
  font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 7px;
  padding: .38rem .55rem; min-height: 2.2rem;
}
select { max-width: 13rem; }
input:focus-visible, select:focus-visible, button:focus-visible, tr:focus-visible, .card:focus-visible {
  outline: 2px solid var(--accent); outline-offset: 1px;
}
.toggles { display: flex; align-items: center; gap: .9rem; margin-left: auto; }
.toggles label.check { display: flex; gap: .35rem; align-items: center; margin: 0; font-size: .9rem; color: var(--text); font-weight: 500; }
button {
  font: inherit; color: inherit; background: var(--badge); border: 1px solid var(--line); border-radius: 7px;
  padding: .3rem .7rem; cursor: pointer;
}
button:hover { border-color: var(--accent); }
.count { font-weight: 600; white-space: nowrap; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; align-items: start; }
@media (min-width: 1100px) { .layout { grid-template-columns: minmax(0, 1.3fr) minmax(0, 1fr); } }
.list, .card {
  background: var(--panel); border: 1px solid var(--line); border-radius: 10px; box-shadow: var(--shadow);
}
.list { overflow-x: auto; }
/* On a phone the stub, version and metric matter; size and date are in the card. */
@media (max-width: 700px) { .list th:nth-child(n+4), .list td:nth-child(n+4) { display: none; } }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .55rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); white-space: nowrap; }
thead th button { all: unset; cursor: pointer; text-transform: inherit; letter-spacing: inherit; }
thead th button:hover { color: var(--accent); }
thead th button:focus-visible { outline: 2px solid var(--accent); }
th[aria-sort=ascending], th[aria-sort=descending] { color: var(--accent); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: var(--row-hover); }
tbody tr.selected { background: var(--accent-soft); box-shadow: inset 3px 0 0 var(--accent); }
tbody tr:last-child td { border-bottom: 0; }
tr.empty td { text-align: center; color: var(--muted); padding: 2rem; cursor: default; }
.stub { font-family: var(--mono); font-size: .86rem; display: block; }
.desc {
  display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden;
  color: var(--muted); font-size: .85rem; margin-top: .15rem;
}
td.metric, td.date { white-space: nowrap; }
.badge {
  display: inline-block; font-size: .72rem; font-weight: 600; padding: .05rem .45rem; border-radius: 999px;
  background: var(--badge); color: var(--muted); margin-left: .35rem; vertical-align: middle;
}
.badge.latest { background: var(--ok-soft); color: var(--ok); }
.card { padding: 1.1rem 1.25rem 1.3rem; }
@media (min-width: 1100px) { .card { position: sticky; top: 1rem; max-height: calc(100vh - 2rem); overflow: auto; } }
.placeholder { color: var(--muted); margin: 2rem 0; text-align: center; }
.card h2 { font-family: var(--mono); font-size: 1rem; margin: 0 0 .4rem; line-height: 1.45; }
.card .badges .badge { margin: 0 .35rem 0 0; }
.lead { margin: .6rem 0 .3rem; }
ul.tags { list-style: none; padding: 0; margin: .4rem 0 0; display: flex; flex-wrap: wrap; gap: .3rem; }
ul.tags li { font-size: .78rem; padding: .05rem .5rem; border: 1px solid var(--line); border-radius: 999px; color: var(--muted); }
.pull {
  display: flex; align-items: center; gap: .5rem; margin: 1rem 0 .4rem; padding: .5rem .6rem;
  background: var(--code-bg); border: 1px solid var(--line); border-radius: 8px;
}
.pull .prompt { color: var(--muted); font-family: var(--mono); user-select: none; }
.pull code { flex: 1; font-family: var(--mono); font-size: .84rem; overflow-wrap: anywhere; user-select: all; }
.copy-status { font-size: .8rem; color: var(--ok); min-width: 3.5rem; }
.card h3.section { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 1.3rem 0 .4rem; }
dl.grid { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2rem 1rem; margin: 0; font-size: .9rem; }
dl.grid dt { color: var(--muted); }
dl.grid dd { margin: 0; overflow-wrap: anywhere; }
.mono { font-family: var(--mono); font-size: .85em; }
.card table { font-size: .88rem; }
.card th, .card td { padding: .3rem .5rem; }
.markdown { font-size: .93rem; border-left: 3px solid var(--line); padding-left: .9rem; overflow-wrap: anywhere; }
.markdown h3, .markdown h4, .markdown h5, .markdown h6 { margin: .8rem 0 .3rem; }
.markdown h3 { font-size: 1.1rem; }
.markdown h4 { font-size: 1rem; }
.markdown p { margin: .4rem 0; }
.markdown code { font-family: var(--mono); font-size: .85em; background: var(--code-bg); padding: .05rem .3rem; border-radius: 4px; }
.markdown pre { background: var(--code-bg); padding: .6rem .8rem; border-radius: 6px; overflow-x: auto; }
.markdown pre code { background: none; padding: 0; }
.markdown blockquote { margin: .4rem 0; padding-left: .8rem; border-left: 3px solid var(--line); color: var(--muted); }
.markdown a, .card a { color: var(--accent); }
.muted { color: var(--muted); }
details.role { border: 1px solid var(--line); border-radius: 8px; margin: .4rem 0; }
details.role summary { cursor: pointer; padding: .35rem .6rem; font-size: .9rem; }
details.role summary .muted { margin-left: .4rem; font-size: .82rem; }
details.role table td { border-bottom: 1px solid var(--line); }
details.role tr:last-child td { border-bottom: 0; }
.versions { display: flex; flex-wrap: wrap; gap: .3rem; align-items: center; font-size: .9rem; }
.versions button[aria-current=true] { background: var(--accent-soft); border-color: var(--accent); font-weight: 600; }
.noscript { margin: 2rem; }
"""

_JS = r"""
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const cardEl = $("card");
  const ROLES = cardEl.dataset.roles.split(" ");
  const FIELDS = cardEl.dataset.fields.split(" ");
  const selects = Array.from(document.querySelectorAll("select[data-field]"));
  const data = JSON.parse($("catalog-data").textContent);
  const models = data.models.map((m) => Object.assign({}, m, {
    key: m.stub + "@" + m.version,
    haystack: [m.stub, m.card.description || "", ...m.card.tags].join("\n").toLowerCase(),
  }));
  const state = { query: "", filters: {}, all: false, sort: "none", selected: null };

  // Every node is built here; text always goes in as text nodes, never as markup.
  function h(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function humanSize(n) {
    if (n < 1024) return n + " B";
    let size = n;
    for (const unit of ["KiB", "MiB", "GiB", "TiB"]) {
      size /= 1024;
      if (size < 1024 || unit === "TiB") return size.toFixed(1) + " " + unit;
    }
    return n + " B";
  }

  function plural(n, noun) { return n + " " + noun + (n === 1 ? "" : "s"); }

  // Long stubs wrap only after a slash.
  function stubNodes(stub) {
    const out = [];
    stub.split("/").forEach((part, i, parts) => {
      out.push(part + (i < parts.length - 1 ? "/" : ""));
      if (i < parts.length - 1) out.push(h("wbr"));
    });
    return out;
  }

  // ---- a small Markdown subset: headings, paragraphs, lists, code, tables, quotes,
  // bold, italic, links. It returns DOM nodes, so card text can never become markup.
  const INLINE = /`([^`]+)`|\[([^\]]+)\]\(([^()\s]+)\)|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s](?:[^*]*[^*\s])?)\*|(?<![A-Za-z0-9])_([^_\s](?:[^_]*[^_\s])?)_(?![A-Za-z0-9])/g;
  // Links: web and mail addresses, or plain relative paths (no scheme, so no javascript:).
  const SAFE_URL = /^(?:(?:https?:\/\/|mailto:)[^\s\x00-\x1f"<>\\]+|[\w\-.\/#?=&%~+]+)$/i;

  function inline(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) out.push(text.slice(last, m.index));
      if (m[1] !== undefined) out.push(h("code", { text: m[1] }));
      else if (m[2] !== undefined) {
        out.push(SAFE_URL.test(m[3])
          ? h("a", { href: m[3], rel: "noopener noreferrer nofollow" }, inline(m[2]))
          : h("span", { title: "link not shown: " + m[3] }, inline(m[2])));
      } else if (m[4] !== undefined || m[5] !== undefined) out.push(h("strong", {}, inline(m[4] ?? m[5])));
      else out.push(h("em", {}, inline(m[6] ?? m[7])));
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
  const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
  const RULE = /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/;
  const ITEM = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/;
  const QUOTE = /^\s{0,3}>\s?(.*)$/;
  const TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

  function isTable(lines, i) { return lines[i].includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]); }
  function startsBlock(lines, i) {
    const line = lines[i];
    return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || ITEM.test(line) || QUOTE.test(line) || isTable(lines, i);
  }
  function cells(line) { return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim()); }

  function markdown(source) {
    const lines = source.replace(/\r\n?/g, "\n").split("\n");
    const out = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if (!line.trim()) { i++; continue; }
      if ((m = FENCE.exec(line))) {
        const body = [];
        for (i++; i < lines.length && !lines[i].trim().startsWith(m[1]); i++) body.push(lines[i]);
        i++;
        out.push(h("pre", {}, h("code", { text: body.join("\n"), "data-lang": m[2] || null })));
      } else if ((m = HEADING.exec(line))) {
        out.push(h("h" + Math.min(6, m[1].length + 2), {}, inline(m[2])));
        i++;
      } else if (RULE.test(line)) {
        out.push(h("hr"));
        i++;
      } else if (isTable(lines, i)) {
        const head = h("tr", {}, cells(line).map((c) => h("th", { scope: "col" }, inline(c))));
        const rows = [];
        for (i += 2; i < lines.length && lines[i].includes("|") && lines[i].trim(); i++) {
          rows.push(h("tr", {}, cells(lines[i]).map((c) => h("td", {}, inline(c)))));
        }
        out.push(h("table", {}, [h("thead", {}, head), h("tbody", {}, rows)]));
      } else if ((m = ITEM.exec(line))) {
        const ordered = /\d/.test(m[1]);
        const items = [];
        while (i < lines.length) {
          const item = ITEM.exec(lines[i]);
          if (item && /\d/.test(item[1]) === ordered) items.push(item[2]);
          else if (items.length && lines[i].trim() && /^\s+/.test(lines[i]) && !item) items[items.length - 1] += " " + lines[i].trim();
          else break;
          i++;
        }
        out.push(h(ordered ? "ol" : "ul", {}, items.map((t) => h("li", {}, inline(t)))));
      } else if (QUOTE.test(line)) {
        const quoted = [];
        for (; i < lines.length && QUOTE.test(lines[i]); i++) quoted.push(QUOTE.exec(lines[i])[1]);
        out.push(h("blockquote", {}, markdown(quoted.join("\n"))));
      } else {
        const para = [line.trim()];
        for (i++; i < lines.length && lines[i].trim() && !startsBlock(lines, i); i++) para.push(lines[i].trim());
        out.push(h("p", {}, inline(para.join(" "))));
      }
    }
    return out;
  }

  // ---- the list
  function matches(m, words) {
    if (!state.all && !m.latest) return false;
    for (const sel of selects) {
      const want = state.filters[sel.dataset.field];
      if (want && m.fields[sel.dataset.field] !== want) return false;
    }
    return words.every((w) => m.haystack.includes(w));
  }

  function metricValue(m) { return m.metric && typeof m.metric.value === "number" ? m.metric.value : null; }

  function visibleModels() {
    const words = state.query.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = models.filter((m) => matches(m, words));
    if (state.sort === "none") return rows;
    const sign = state.sort === "asc" ? 1 : -1;
    // Models without a metric go last either way; ties keep stub order (sort is stable).
    return rows.sort((a, b) => {
      const x = metricValue(a), y = metricValue(b);
      if (x === null || y === null) return (x === null) - (y === null);
      return sign * (x - y);
    });
  }

  function row(m) {
    const tr = h("tr", {
      "data-stub": m.stub, "data-version": m.version, tabindex: 0,
      className: state.selected === m.key ? "selected" : null,
      "aria-current": state.selected === m.key ? "true" : null,
    }, [
      h("td", {}, [h("span", { className: "stub" }, stubNodes(m.stub)),
        m.card.description ? h("span", { className: "desc", text: m.card.description }) : null]),
      h("td", {}, [m.version, state.all && m.latest ? h("span", { className: "badge latest", text: "latest" }) : null]),
      h("td", { className: "metric", text: m.metric ? m.metric.display : "\u2014" }),
      h("td", { className: "num", text: humanSize(m.size) }),
      h("td", { className: "date", text: m.created.slice(0, 10) }),
    ]);
    tr.addEventListener("click", () => select(m.key));
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(m.key); }
    });
    return tr;
  }

  function renderList() {
    const rows = visibleModels();
    const body = $("rows");
    body.replaceChildren(...rows.map(row));
    if (!rows.length) {
      body.append(h("tr", { className: "empty" }, h("td", { colspan: 5, text: "No models match the search and filters." })));
    }
    $("count").textContent = plural(rows.length, state.all ? "version" : "model");
    const header = $("metric-header");
    header.setAttribute("aria-sort", { none: "none", asc: "ascending", desc: "descending" }[state.sort]);
    header.querySelector(".arrow").textContent = { none: "\u2195", asc: "\u25B2", desc: "\u25BC" }[state.sort];
  }

  // ---- the card
  function section(title, content) {
    return content === null ? null : [h("h3", { className: "section", text: title }), content];
  }

  function grid(pairs) {
    return h("dl", { className: "grid" }, pairs.flatMap(([term, value]) => [h("dt", { text: term }), h("dd", {}, value)]));
  }

  function pullBox(m) {
    const command = "zoo pull " + m.stub + "@" + m.version;
    const code = h("code", { id: "pull-command", "data-testid": "pull-command", text: command });
    const status = h("span", { id: "copy-status", className: "copy-status", role: "status", "aria-live": "polite" });
    const button = h("button", { type: "button", id: "copy-pull", "data-testid": "copy-pull",
      "aria-label": "Copy the pull command" }, "Copy");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(command);
        status.textContent = "Copied";
      } catch (err) {
        // No clipboard access (an old browser, or permission refused): select it for Ctrl+C.
        const range = document.createRange();
        range.selectNodeContents(code);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        status.textContent = "Selected: press Ctrl+C";
      }
    });
    return h("div", { className: "pull" }, [h("span", { className: "prompt", "aria-hidden": "true", text: "$" }), code, button, status]);
  }

  function metricsTable(m) {
    if (!m.metrics.length) return h("p", { className: "muted", text: "No metrics reported." });
    const head = h("tr", {}, ["Metric", "Value", "Dataset", "Split"].map((t) => h("th", { scope: "col", text: t })));
    const rows = m.metrics.map((x) => h("tr", {}, [
      h("td", { text: x.name }),
      h("td", { className: "num", text: x.value === null ? "\u2014" : x.value + (x.unit ? (x.unit === "%" ? "%" : " " + x.unit) : "") }),
      h("td", { text: x.dataset || "" }),
      h("td", { text: x.split || "" }),
    ]));
    return h("table", {}, [h("thead", {}, head), h("tbody", {}, rows)]);
  }

  function filesBlock(m) {
    const groups = new Map();
    for (const f of m.files) {
      if (!groups.has(f.role)) groups.set(f.role, []);
      groups.get(f.role).push(f);
    }
    const order = ROLES.filter((r) => groups.has(r)).concat([...groups.keys()].filter((r) => !ROLES.includes(r)));
    return h("div", { id: "card-files" }, order.map((role) => {
      const files = groups.get(role);
      const total = files.reduce((sum, f) => sum + f.size, 0);
      return h("details", { className: "role", "data-role": role, open: files.length <= 8 }, [
        h("summary", {}, [h("strong", { text: role }), h("span", { className: "muted", text: plural(files.length, "file") + " \u00B7 " + humanSize(total) })]),
        h("table", {}, h("tbody", {}, files.map((f) => h("tr", {}, [
          h("td", { className: "mono", text: f.path }),
          h("td", { className: "num", text: humanSize(f.size) }),
          h("td", { className: "mono muted", title: "sha256:" + f.sha256, text: f.sha256.slice(0, 12) + "\u2026" }),
        ])))),
      ]);
    }));
  }

  function versionsNav(m) {
    const siblings = models.filter((x) => x.stub === m.stub);
    return h("div", { className: "versions", role: "group", "aria-label": "Versions of this model" }, siblings.map((x) => {
      const button = h("button", { type: "button", "aria-current": x.key === m.key ? "true" : "false", text: x.version });
      button.addEventListener("click", () => {
        if (!x.latest && !state.all) { state.all = true; $("all-versions").checked = true; }
        select(x.key);
      });
      return button;
    }));
  }

  function renderCard() {
    const m = models.find((x) => x.key === state.selected);
    if (!m) {
      cardEl.replaceChildren(h("p", { className: "placeholder", text: "Select a model to see its card." }));
      return;
    }
    const dash = "\u2014";
    cardEl.replaceChildren(...[
      h("h2", { id: "card-title" }, stubNodes(m.stub)),
      h("div", { className: "badges" }, [
        h("span", { className: "badge", text: m.version }),
        m.latest ? h("span", { className: "badge latest", text: "latest" }) : null,
        m.card.license ? h("span", { className: "badge", text: m.card.license }) : null,
      ]),
      m.card.description ? h("p", { className: "lead", id: "card-description", text: m.card.description }) : null,
      m.card.tags.length ? h("ul", { className: "tags", "aria-label": "Tags" }, m.card.tags.map((t) => h("li", { text: t }))) : null,
      pullBox(m),
      section("Metrics", metricsTable(m)),
      section("Model card", m.card_markdown && m.card_markdown.trim()
        ? h("div", { id: "card-markdown", className: "markdown" }, markdown(m.card_markdown)) : null),
      section("Files", filesBlock(m)),
      section("Version", grid([
        ["Published", m.created],
        ["Publisher", m.publisher],
        ["Parent", m.parent || dash],
        ["Size", humanSize(m.size) + " in " + plural(m.nfiles, "file")],
        ["Tree", h("span", { className: "mono", text: "md5:" + m.tree_md5 + ".dir" })],
        ["Versions", versionsNav(m)],
      ])),
      section("Stub fields", grid(FIELDS.map((f) => [f, m.fields[f] === null ? dash : m.fields[f]]))),
    ].flat().filter((node) => node !== null));
  }

  function select(key) {
    state.selected = key;
    renderList();
    renderCard();
    try { history.replaceState(null, "", "#" + encodeURI(key)); } catch (err) { /* some file URLs refuse history changes */ }
    if (window.matchMedia("(max-width: 1099px)").matches) cardEl.scrollIntoView({ block: "start" });
  }

  // ---- controls
  function fillFilters() {
    for (const sel of selects) {
      const values = [...new Set(models.map((m) => m.fields[sel.dataset.field]).filter((v) => v))].sort();
      sel.append(...values.map((v) => h("option", { value: v, text: v })));
      sel.addEventListener("change", () => { state.filters[sel.dataset.field] = sel.value; renderList(); });
    }
  }

  $("search").addEventListener("input", (event) => { state.query = event.target.value; renderList(); });
  $("all-versions").addEventListener("change", (event) => { state.all = event.target.checked; renderList(); });
  $("sort-metric").addEventListener("click", () => {
    state.sort = { none: "asc", asc: "desc", desc: "asc" }[state.sort];
    renderList();
  });
  $("reset").addEventListener("click", () => {
    state.query = ""; state.filters = {};
    $("search").value = "";
    for (const sel of selects) sel.value = "";
    renderList();
  });

  const stubs = new Set(models.map((m) => m.stub));
  $("summary").textContent = plural(stubs.size, "model") + " \u00B7 " + plural(models.length, "published version");
  fillFilters();
  // A link to "index.html#STUB@vN" opens that version's card.
  function openLinked() {
    let wanted = "";
    try { wanted = decodeURI(location.hash.slice(1)); } catch (err) { /* a malformed link opens no card */ }
    const linked = models.find((m) => m.key === wanted);
    if (!linked) return false;
    if (!linked.latest) { state.all = true; $("all-versions").checked = true; }
    select(linked.key);
    return true;
  }
  window.addEventListener("hashchange", openLinked);
  if (!openLinked()) renderList();
  document.body.dataset.ready = "true";
})();
"""
