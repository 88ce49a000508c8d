// The little Markdown the language service and the reference write — paragraphs, fenced code,
// bullet lists, `code`, **bold**, [links](…) shown as their text — turned into DOM nodes.
// No innerHTML: the text is the mapping's and the catalogue's, and stays text.

/** Inline spans of one paragraph: `code`, **bold**, [text](target) as text. */
function inline(text) {
  const out = [];
  const span = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\([^)]*\)/g;
  let last = 0;
  for (const m of text.matchAll(span)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1] !== undefined) out.push(node("code", m[1]));
    else if (m[2] !== undefined) out.push(node("b", m[2]));
    else out.push(m[3]);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function node(tag, text) {
  const e = document.createElement(tag);
  e.textContent = text;
  return e;
}

/** A `<div class="markdown">` holding `text` rendered. */
export function markdown(text) {
  const root = document.createElement("div");
  root.className = "markdown";
  const lines = text.split("\n");
  let paragraph = [];
  let list = null;
  const flush = () => {
    if (paragraph.length > 0) {
      const p = document.createElement("p");
      p.append(...inline(paragraph.join(" ")));
      root.append(p);
      paragraph = [];
    }
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("```")) {
      flush();
      const code = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
      const pre = document.createElement("pre");
      pre.append(node("code", code.join("\n")));
      root.append(pre);
    } else if (/^\s*[*-] /.test(line)) {
      if (paragraph.length > 0) flush();
      if (list === null) {
        list = document.createElement("ul");
        root.append(list);
      }
      const li = document.createElement("li");
      li.append(...inline(line.replace(/^\s*[*-] /, "")));
      list.append(li);
    } else if (line.trim() === "") {
      flush();
    } else if (list !== null && /^\s+\S/.test(line)) {
      list.lastChild.append(" ", ...inline(line.trim())); // a list item's continued line
    } else {
      list = null;
      paragraph.push(line.trim());
    }
  }
  flush();
  return root;
}
