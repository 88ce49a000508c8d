// The preview page: the scimap engine (WASM, the same crate as the command line) behind a
// CodeMirror editor. Everything runs here; records never leave the page.

import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { syntaxHighlighting, bracketMatching, indentOnInput } from "@codemirror/language";
import { autocompletion, completionKeymap } from "@codemirror/autocomplete";
import { setDiagnostics, lintGutter, lintKeymap } from "@codemirror/lint";
import init, { preview, check, functions, schemas } from "../pkg/scimap.js";
import { scimapLanguage, scimapHighlight, scimapCompletions } from "./language.js";
import users from "../../examples/users.json";
import groups from "../../examples/groups.json";
import trello from "../../examples/trello.scimap";
import miro from "../../examples/miro.scimap";
import monday from "../../examples/monday.scimap";
import trelica from "../../examples/trelica.scimap";

const SEEDS = { trello, miro, monday, trelica };
const $ = (id) => document.getElementById(id);

/** JSON text with BigInts (integers beyond 2^53 − 1) written exactly. */
function stringify(value, indent) {
  return JSON.stringify(
    value,
    (_, v) => (typeof v === "bigint" ? (JSON.rawJSON ? JSON.rawJSON(v.toString()) : v.toString()) : v),
    indent,
  );
}

/** The editor position of a 1-based line and column counted in Unicode scalar values. */
function position(doc, line, column) {
  if (line > doc.lines) return doc.length;
  const l = doc.line(Math.max(1, line));
  let i = 0;
  for (let n = column - 1; n > 0 && i < l.text.length; n--) {
    i += l.text.codePointAt(i) > 0xffff ? 2 : 1;
  }
  return l.from + i;
}

/** The first line of the source written at a line and column (for a record's failed entries). */
function sourceSpan(doc, line, column) {
  const from = position(doc, line, column);
  const rest = doc.sliceString(from, doc.lineAt(from).to).replace(/\s*(\/\/.*)?$/, "");
  return { from, to: from + rest.length };
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

async function main() {
  await init({ module_or_path: new URL("./scimap_bg.wasm", import.meta.url) });
  // For the end-to-end test and the curious: the engine itself.
  window.scimapEngine = { preview, check, functions, schemas };

  const state = { kind: "user", records: users };
  const status = $("status");
  const appSelect = $("app-select");
  const recordSelect = $("record-select");
  const recordInput = $("record-input");
  const nowInput = $("now-input");

  for (const [key, text] of Object.entries(SEEDS)) {
    const name = /^app\s+"([^"]*)"/m.exec(text)?.[1] ?? key;
    appSelect.append(el("option", { value: key, textContent: name }));
  }

  let timer = 0;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(update, 25);
  };

  const view = new EditorView({
    parent: $("editor"),
    state: EditorState.create({
      doc: SEEDS[appSelect.value],
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        bracketMatching(),
        indentOnInput(),
        scimapLanguage,
        syntaxHighlighting(scimapHighlight),
        autocompletion({ override: [scimapCompletions(functions(), schemas())] }),
        lintGutter(),
        keymap.of([...completionKeymap, ...lintKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) schedule();
        }),
      ],
    }),
  });
  window.scimapEditor = view;

  function fillRecords() {
    recordSelect.replaceChildren(
      ...state.records.map((r, i) => {
        const label = state.kind === "user"
          ? `${r.username} — ${[r.firstname, r.lastname].filter(Boolean).join(" ")}`
          : `${r.name}`;
        return el("option", { value: String(i), textContent: `${i}: ${label}` });
      }),
      el("option", { value: "custom", textContent: "custom: paste or edit JSON below" }),
    );
    showRecord(0);
  }

  function showRecord(i) {
    recordSelect.value = String(i);
    recordInput.value = JSON.stringify(state.records[i], null, 2);
  }

  function renderProblems(diagnostics, doc) {
    $("problems").replaceChildren(
      ...diagnostics.map((d) => {
        const li = el(
          "li",
          { className: d.severity },
          el("code", { textContent: `${d.line}:${d.column} ` }),
          `${d.message} `,
          el("code", { textContent: `[${d.code}]` }),
        );
        li.addEventListener("click", () => {
          const from = position(doc, d.line, d.column);
          view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
          view.focus();
        });
        return li;
      }),
    );
  }

  function renderExplain(explain) {
    $("explain").tBodies[0].replaceChildren(
      ...explain.map((x) => {
        const value = x.error
          ? el("td", { className: "value", textContent: `${x.error.message} [${x.error.code}]` })
          : "value" in x
            ? el("td", { className: "value" }, el("code", { textContent: stringify(x.value) }))
            : el("td", { className: "value absent", textContent: "absent" });
        return el(
          "tr",
          { className: x.error ? "failed" : "" },
          el("td", {}, el("code", { textContent: x.target })),
          el("td", { className: "kind", textContent: x.kind }),
          el("td", {}, el("code", { textContent: x.source })),
          value,
        );
      }),
    );
  }

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = `status ${kind}`;
  }

  function update() {
    const doc = view.state.doc;
    const source = doc.toString();
    const started = performance.now();
    let result;
    try {
      result = preview(source, recordInput.value, { kind: state.kind, now: nowInput.value || undefined });
    } catch (e) {
      setStatus(e.message ?? String(e), "error");
      return;
    }
    const ms = (performance.now() - started).toFixed(1);
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    const marks = result.diagnostics.map((d) => ({
      from: position(doc, d.line, d.column),
      to: position(doc, d.end_line, d.end_column),
      severity: d.severity,
      source: d.code,
      message: d.message + (d.help ? `\nhelp: ${d.help}` : ""),
    }));
    for (const e of result.errors) {
      if (e.line == null) continue;
      marks.push({
        ...sourceSpan(doc, e.line, e.column),
        severity: "info",
        source: e.code,
        message: `this record: ${e.message}`,
      });
    }
    view.dispatch(setDiagnostics(view.state, marks));
    renderProblems(result.diagnostics, doc);
    renderExplain(result.explain);

    const payload = $("payload");
    $("record-errors").replaceChildren(
      ...result.errors.map((e) =>
        el("li", { textContent: `${e.target ?? "record"}: ${e.message} [${e.code}]` })),
    );
    if (errors.length > 0) {
      payload.classList.add("stale");
      setStatus(`${errors.length} error${errors.length > 1 ? "s" : ""} in the mapping`, "error");
    } else if (result.payload === null) {
      payload.textContent = "";
      payload.classList.remove("stale");
      setStatus(`record failed · ${ms} ms`, "failed");
    } else {
      payload.textContent = stringify(result.payload, 2);
      payload.classList.remove("stale");
      setStatus(`ok · ${ms} ms`, "ok");
    }
  }

  appSelect.addEventListener("change", () => {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: SEEDS[appSelect.value] } });
  });
  $("kind-select").addEventListener("change", (e) => {
    state.kind = e.target.value;
    state.records = state.kind === "user" ? users : groups;
    fillRecords();
    schedule();
  });
  recordSelect.addEventListener("change", () => {
    if (recordSelect.value !== "custom") showRecord(Number(recordSelect.value));
    schedule();
  });
  recordInput.addEventListener("input", () => {
    recordSelect.value = "custom";
    schedule();
  });
  nowInput.addEventListener("input", schedule);

  fillRecords();
  update();
}

main().catch((e) => {
  const status = $("status");
  status.textContent = `the engine failed to load: ${e.message ?? e}`;
  status.className = "status error";
});
