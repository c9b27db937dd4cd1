"use strict";
// A small Markdown subset for model cards: headings, paragraphs, lists, code, tables, quotes,
// bold, italic, links. Given page.js's node builder h, it returns the renderer; the renderer
// returns DOM nodes, so card text can never become markup. page.py puts this file and page.js
// in one script, covered by one hash of the page's Content-Security-Policy.
const cardMarkdown = (h) => {
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

  return markdown;
};
