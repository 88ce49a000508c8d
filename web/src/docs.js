// The Docs panel: the functions (the engine's catalogue), the SCIM targets of the section (the
// engine's schemas) and the diagnostic codes (the reference's own chapter, bundled as text),
// searchable. Nothing here is written twice: each list is read from where it is kept.

import chapter from "../../docs/book/src/reference/diagnostics.md";
import { markdown } from "./markdown.js";

/** `### `scimap::code` (kind) {#diag-code}` sections of the diagnostics chapter. */
function diagnosticEntries() {
  const out = [];
  const heading = /^### `(scimap::[a-z0-9-]+)` \(([^)]*)\)[^\n]*$/gm;
  const matches = [...chapter.matchAll(heading)];
  matches.forEach((m, i) => {
    const start = m.index + m[0].length;
    const rest = chapter.slice(start, matches[i + 1]?.index ?? chapter.length);
    const body = rest.split(/^## /m)[0].trim();
    out.push({ name: m[1], summary: m[2], body: () => markdown(body) });
  });
  return out;
}

function functionEntries(functions) {
  return functions.map((f) => ({
    name: f.name,
    summary: f.summary,
    body: () => {
      const examples = f.examples.map((x) => `${x.expression}  // ${x.expected}`).join("\n");
      return markdown(`\`\`\`\n${f.signature}\n\`\`\`\n${f.details}${examples ? `\n\n\`\`\`\n${examples}\n\`\`\`` : ""}`);
    },
  }));
}

function targetEntries(targets) {
  return targets.map((t) => ({
    name: t.name,
    summary: `${t.type}${t.multiValued ? ", multi-valued" : ""}${t.required ? ", required" : ""}`,
    body: () => {
      const lines = [];
      if (t.description) lines.push(t.description, "");
      if (t.canonicalValues.length > 0) lines.push(`canonical values: ${t.canonicalValues.map((v) => `\`${v}\``).join(", ")}`);
      return markdown(lines.join("\n"));
    },
  }));
}

/**
 * Fills `root` (tabs `[data-tab]`, a search field and a list) and returns `show(tab, name?)`,
 * which opens a tab with `name` expanded and in view, and `setKind(kind)` for the targets.
 */
export function docsPanel(root, { functions, schemas }) {
  const tabs = {
    functions: functionEntries(functions),
    targets: targetEntries(schemas.targets.user),
    diagnostics: diagnosticEntries(),
  };
  const list = root.querySelector(".docs-list");
  const search = root.querySelector(".docs-search");
  let current = "functions";

  function render(open) {
    for (const b of root.querySelectorAll("[data-tab]")) b.classList.toggle("active", b.dataset.tab === current);
    const words = search.value.trim().toLowerCase();
    const shown = tabs[current].filter((e) => !words || `${e.name} ${e.summary}`.toLowerCase().includes(words));
    list.replaceChildren(
      ...shown.map((e) => {
        const details = document.createElement("details");
        details.dataset.name = e.name;
        const summary = document.createElement("summary");
        const name = document.createElement("code");
        name.textContent = e.name;
        summary.append(name, ` ${e.summary}`);
        details.append(summary);
        // Bodies are built when first opened: the catalogue has ~100 entries.
        details.addEventListener("toggle", () => {
          if (details.open && details.childElementCount === 1) details.append(e.body());
        });
        details.open = e.name === open;
        return details;
      }),
    );
    list.querySelector("details[open]")?.scrollIntoView({ block: "nearest" });
  }

  for (const b of root.querySelectorAll("[data-tab]")) {
    b.addEventListener("click", () => {
      current = b.dataset.tab;
      render();
    });
  }
  search.addEventListener("input", () => render());
  render();
  return {
    show(tab, name) {
      current = tab;
      search.value = "";
      render(name);
      root.scrollIntoView({ block: "nearest" });
    },
    setKind(kind) {
      tabs.targets = targetEntries(schemas.targets[kind]);
      if (current === "targets") render();
    },
  };
}
