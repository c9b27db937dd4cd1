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
  const headers = Array.from(document.querySelectorAll("th[data-sort]"));
  // sort: a column's key or null (stub, then version order); dir: "asc" or "desc".
  const state = { query: "", filters: {}, all: false, sort: null, dir: "asc", selected: null };

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

  const markdown = cardMarkdown(h);

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
  function byText(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  // Each column's sort key; numbers compare as numbers, text by code point (stubs are ASCII).
  const SORTS = {
    model: { value: (m) => m.stub, compare: byText },
    version: { value: (m) => Number(m.version.slice(1)), compare: (x, y) => x - y },
    metric: { value: metricValue, compare: (x, y) => x - y },
    size: { value: (m) => m.size, compare: (x, y) => x - y },
    published: { value: (m) => m.created, compare: byText },
  };

  function visibleModels() {
    const words = state.query.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = models.filter((m) => matches(m, words));
    const by = SORTS[state.sort];
    if (!by) return rows;
    const sign = state.dir === "asc" ? 1 : -1;
    // Rows without a value (no metric) go last either way; ties keep stub order (sort is stable).
    return rows.sort((a, b) => {
      const x = by.value(a), y = by.value(b);
      if (x === null || y === null) return (x === null) - (y === null);
      return sign * by.compare(x, y);
    });
  }

  function aliasBadges(m, withLatest) {
    return m.aliases.filter((name) => withLatest || name !== "latest").map((name) =>
      h("span", { className: name === "latest" ? "badge latest" : "badge alias", text: name }));
  }

  function row(m) {
    const tr = h("tr", {
      "data-stub": m.stub, "data-version": m.version, tabindex: 0,
      className: state.selected === m.key ? "selected" : null,
      "aria-current": state.selected === m.key ? "true" : null,
    }, [
      h("td", { className: "model" }, [h("span", { className: "stub" }, stubNodes(m.stub)),
        m.card.description ? h("span", { className: "desc", text: m.card.description }) : null]),
      // Every row of the default list is a latest version: "latest" says something only among all versions.
      h("td", { className: "version", "data-label": "Version" }, [m.version, ...aliasBadges(m, state.all),
        m.deprecated ? h("span", { className: "badge deprecated", text: "deprecated" }) : null]),
      h("td", { className: "metric", "data-label": "Metric", text: m.metric ? m.metric.display : "\u2014" }),
      h("td", { className: "num", "data-label": "Size", text: humanSize(m.size) }),
      h("td", { className: "date", "data-label": "Published", text: m.created.slice(0, 10) }),
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
    for (const th of headers) {
      const sorted = th.dataset.sort === state.sort;
      th.setAttribute("aria-sort", sorted ? (state.dir === "asc" ? "ascending" : "descending") : "none");
      th.querySelector(".arrow").textContent = sorted ? (state.dir === "asc" ? "\u25B2" : "\u25BC") : "\u2195";
    }
    $("sort-by").value = state.sort || "";
    $("sort-dir").disabled = !state.sort;
    $("sort-dir").textContent = state.dir === "asc" ? "\u2191 Ascending" : "\u2193 Descending";
  }

  // The search, filters and sort live in the query string and the open card in the hash,
  // so a reload or a shared link shows the same list.
  function syncURL() {
    const params = new URLSearchParams();
    if (state.query) params.set("q", state.query);
    for (const sel of selects) if (state.filters[sel.dataset.field]) params.set(sel.dataset.field, state.filters[sel.dataset.field]);
    if (state.all) params.set("all", "1");
    if (state.sort) { params.set("sort", state.sort); params.set("dir", state.dir); }
    const query = params.toString();
    const url = location.pathname + (query ? "?" + query : "") + (state.selected ? "#" + encodeURI(state.selected) : "");
    try { history.replaceState(null, "", url); } catch (err) { /* some file URLs refuse history changes */ }
  }

  function readURL() {
    const params = new URLSearchParams(location.search);
    state.query = params.get("q") || "";
    $("search").value = state.query;
    for (const sel of selects) {
      const want = params.get(sel.dataset.field);
      if (!want) continue;
      sel.value = want;
      // A value no model has (a stale link) would filter everything out behind a select showing "All".
      if (sel.value === want) state.filters[sel.dataset.field] = want;
    }
    state.all = params.get("all") === "1";
    $("all-versions").checked = state.all;
    state.sort = Object.hasOwn(SORTS, params.get("sort")) ? params.get("sort") : null;
    state.dir = params.get("dir") === "desc" ? "desc" : "asc";
  }

  function update() { renderList(); syncURL(); }

  // ---- the card
  function section(title, content) {
    return content === null ? null : [h("h3", { className: "section", text: title }), content];
  }

  function grid(pairs) {
    return h("dl", { className: "grid" }, pairs.flatMap(([term, value]) => [h("dt", { text: term }), h("dd", {}, value)]));
  }

  function pullBox(m) {
    // Built (and shell-quoted) with the catalog: with --remote URL when it was made for readers without a checkout.
    const command = m.pull;
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

  function validationBlock(m) {
    const v = m.validation;
    const run = v.outputs_match
      ? "outputs match" + (v.samples !== null ? " on " + plural(v.samples, "sample") : "")
        + (v.rtol !== null && v.atol !== null ? " (rtol " + v.rtol + ", atol " + v.atol + ")" : "")
      : v.skipped ? "not run: " + v.skipped : "not recorded";
    return h("div", {}, [
      h("p", { id: "card-validation", "data-testid": "validation", "data-status": v.status,
        className: "validation " + v.status, text: v.display }),
      m.approved_by && m.approved_by.length
        ? h("p", { id: "card-approved", "data-testid": "approved-by", className: "approved",
          text: "approved by " + m.approved_by.join(", ") })
        : null,
      grid([
        ["ONNX checker", v.checker ? "passed" + (v.opset !== null ? " (opset " + v.opset + ")" : "") : "not recorded"],
        ["Sample run", run],
      ]),
    ]);
  }

  function modelBlock(m) {
    const f = m.model;
    if (!f || f.onnx === null) return null;
    const pct = (x) => (x * 100).toFixed(1) + "%";
    return h("div", { id: "card-model", "data-testid": "model" }, [grid([
      ["ONNX", f.onnx],
      ["Inputs", f.inputs.length ? h("ul", { className: "mono" }, f.inputs.map((t) => h("li", { text: t }))) : "\u2014"],
      ["Outputs", f.outputs.length ? h("ul", { className: "mono" }, f.outputs.map((t) => h("li", { text: t }))) : "\u2014"],
      ["Parameters", f.parameters === null ? "not measured" : f.parameters.toLocaleString("en-US")],
      ["Zero weights", f.sparsity === null ? "not measured" : pct(f.sparsity)],
      ["Quantized ops", f.quantized_ops === null ? "not measured" : f.quantized_ops],
    ])]);
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
        ...aliasBadges(m, true),
        m.card.license ? h("span", { className: "badge", text: m.card.license }) : null,
      ]),
      m.deprecated
        ? h("p", { id: "card-deprecated", "data-testid": "deprecated", className: "deprecated", role: "note",
          text: "Deprecated: " + m.deprecated.message
            + (m.deprecated.successor ? " \u2014 use " + m.deprecated.successor + " instead" : "") })
        : null,
      m.card.description ? h("p", { className: "lead", id: "card-description", text: m.card.description }) : null,
      m.card.tags.length ? h("ul", { className: "tags", "aria-label": "Tags" }, m.card.tags.map((t) => h("li", { text: t }))) : null,
      pullBox(m),
      section("Validation", validationBlock(m)),
      section("Model", modelBlock(m)),
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
    syncURL();
    if (window.matchMedia("(max-width: 1099px)").matches) cardEl.scrollIntoView({ block: "start" });
  }

  // ---- controls
  function fillFilters() {
    for (const sel of selects) {
      const values = [...new Set(models.map((m) => m.fields[sel.dataset.field]).filter((v) => v))].sort();
      sel.append(...values.map((v) => h("option", { value: v, text: v })));
      sel.addEventListener("change", () => { state.filters[sel.dataset.field] = sel.value; update(); });
    }
  }

  function fillSorts() {
    for (const th of headers) {
      const key = th.dataset.sort;
      const label = th.querySelector("button").firstChild.textContent.trim();
      $("sort-by").append(h("option", { value: key, text: label }));
      // A new column sorts ascending; the sorted one flips.
      th.querySelector("button").addEventListener("click", () => {
        state.dir = state.sort === key && state.dir === "asc" ? "desc" : "asc";
        state.sort = key;
        update();
      });
    }
    $("sort-by").addEventListener("change", (event) => { state.sort = event.target.value || null; update(); });
    $("sort-dir").addEventListener("click", () => { state.dir = state.dir === "asc" ? "desc" : "asc"; update(); });
  }

  $("search").addEventListener("input", (event) => { state.query = event.target.value; update(); });
  $("all-versions").addEventListener("change", (event) => { state.all = event.target.checked; update(); });
  $("reset").addEventListener("click", () => {
    state.query = ""; state.filters = {};
    $("search").value = "";
    for (const sel of selects) sel.value = "";
    update();
  });

  const stubs = new Set(models.map((m) => m.stub));
  $("summary").textContent = plural(stubs.size, "model") + " \u00B7 " + plural(models.length, "published version");
  fillFilters();
  fillSorts();
  readURL();
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
  if (!openLinked()) update();
  document.body.dataset.ready = "true";
})();
