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
import init, { preview, preview_all, plan, check, functions, schemas, run_tests } from "../pkg/scimap.js";
import { scimapLanguage, scimapHighlight } from "./language.js";
import { Service } from "./service.js";
import { docsPanel } from "./docs.js";
import users from "../../examples/users.json";
import groups from "../../examples/groups.json";
import trello from "../../examples/trello.scimap";
import miro from "../../examples/miro.scimap";
import monday from "../../examples/monday.scimap";
import trelica from "../../examples/trelica.scimap";
import trelloTests from "../../examples/trello.test.toml";
import miroTests from "../../examples/miro.test.toml";
import mondayTests from "../../examples/monday.test.toml";
import trelicaTests from "../../examples/trelica.test.toml";
// The seed apps' tests pick their records from it (`fixtures = "users.ndjson"`).
import usersNdjson from "../../examples/users.ndjson";

const SEEDS = { trello, miro, monday, trelica };
const SEED_TESTS = { trello: trelloTests, miro: miroTests, monday: mondayTests, trelica: trelicaTests };
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

/** An entry whose source starts at a line and column: its line from the target on. */
function entrySpan(doc, line, column) {
  const { to } = sourceSpan(doc, line, column);
  const l = doc.lineAt(to);
  return { from: l.from + (l.text.length - l.text.trimStart().length), to };
}

/** What a share link carries, as URL-safe base64 of its JSON (UTF-8). */
function encodeShare(value) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The value of a share link's fragment (`#s=…`), or null when it has none or it is damaged. */
function decodeShare(hash) {
  if (!hash.startsWith("#s=")) return null;
  try {
    const text = atob(hash.slice(3).replace(/-/g, "+").replace(/_/g, "/"));
    const value = JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0))));
    return value && typeof value.mapping === "string" ? value : null;
  } catch {
    return null;
  }
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
  window.scimapEngine = { preview, preview_all, plan, check, functions, schemas, run_tests };
  const service = new Service();
  const docs = docsPanel($("docs"), { functions: functions(), schemas: schemas() });

  // `payload`: the last one the record gave, for "from the payload".
  const state = { kind: "user", records: users, payload: null };
  const status = $("status");
  const appSelect = $("app-select");
  const recordSelect = $("record-select");
  const recordInput = $("record-input");
  const nowInput = $("now-input");
  const currentInput = $("current-input");
  const deactivateInput = $("deactivate-input");
  const testsInput = $("tests-input");
  testsInput.value = SEED_TESTS[appSelect.value] ?? "";
  // The profile is the mapping's, read again only when the mapping changes.
  let profileOf = { source: null, profile: null };

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
        autocompletion({ override: [service.completions()] }),
        service.hover(),
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
      ...state.records.map((r, i) => el("option", { value: String(i), textContent: recordLabel(r, i) })),
      el("option", { value: "custom", textContent: "custom: paste or edit JSON below" }),
    );
    showRecord(0);
  }

  function recordLabel(r, i) {
    const label = state.kind === "user"
      ? `${r.username} — ${[r.firstname, r.lastname].filter(Boolean).join(" ")}`
      : `${r.name}`;
    return `${i}: ${label}`;
  }

  function showRecord(i) {
    recordSelect.value = String(i);
    recordInput.value = JSON.stringify(state.records[i], null, 2);
  }

  /** Selects a span of the mapping and brings it into view. */
  function select({ from, to = from }) {
    view.dispatch({ selection: { anchor: from, head: to }, scrollIntoView: true });
    view.focus();
  }

  /** The problems list: each selects its span; its code opens its entry in the docs. */
  function renderProblems(diagnostics) {
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    const warnings = diagnostics.length - errors;
    $("problems-count").textContent = diagnostics.length === 0
      ? "none"
      : [errors && `${errors} error${errors > 1 ? "s" : ""}`, warnings && `${warnings} warning${warnings > 1 ? "s" : ""}`]
        .filter(Boolean).join(", ");
    $("problems").replaceChildren(
      ...diagnostics.map((d) => {
        const code = el("button", { type: "button", className: "code", textContent: `[${d.source}]`, title: "what this code means" });
        code.addEventListener("click", (e) => {
          e.stopPropagation();
          docs.show("diagnostics", d.source);
        });
        const li = el(
          "li",
          { className: d.severity },
          el("code", { textContent: `${d.line}:${d.column} ` }),
          `${d.message.split("\n")[0]} `,
          code,
        );
        li.addEventListener("click", () => select({ from: d.from, to: d.to }));
        return li;
      }),
    );
  }

  function renderProfile(profile) {
    if (profile === null) return; // a mapping with errors: the last profile stays
    const list = (paths, none) => (paths === null || paths.length === 0 ? none : paths.join(", "));
    const settings = [
      ["update", profile.update],
      ["updatable", list(profile.updatable, "every mapped attribute")],
      ["patchOnly", list(profile.patchOnly, "none")],
      ["groups", profile.groups ? "yes" : "no"],
      ["matching", profile.matching],
      ["maxPatchOperations", profile.maxPatchOperations ?? "no limit"],
    ];
    $("profile").replaceChildren(
      ...settings.map(([name, value]) => {
        const setting = el("span", {}, el("b", { textContent: name }), String(value));
        setting.dataset.setting = name;
        return setting;
      }),
    );
  }

  /** The entries behind an operation or a request: each a button selecting its line. */
  function causeButtons(causes, doc) {
    return causes.map((c) => {
      if (c.line == null) return el("span", { className: "cause", textContent: `${c.target} ` });
      const button = el("button", {
        type: "button",
        className: "cause",
        textContent: `${c.target} · line ${c.line}`,
        title: `select the entry at ${c.line}:${c.column}`,
      });
      button.dataset.line = String(c.line);
      button.addEventListener("click", () => select(entrySpan(doc, c.line, c.column)));
      return button;
    });
  }

  function renderPlan(result, doc) {
    const out = $("plan");
    // A mapping that does not compile: the last plan stays, dimmed; the problems list says why.
    const uncompiled = result.error?.diagnostics !== undefined;
    out.classList.toggle("stale", uncompiled);
    if (uncompiled) return;
    if (result.error) {
      // A current resource's messages name it; a record's are worded as in its error list.
      const label = (e) => e.target ?? (result.error.input === "record" ? "record" : null);
      out.replaceChildren(
        ...result.error.errors.map((e) => el("p", {
          className: "plan-error",
          textContent: `${label(e) ? `${label(e)}: ` : ""}${e.message} [${e.code}]`,
        })),
      );
      return;
    }
    if (result.requests.length === 0) {
      out.replaceChildren(el("p", {
        className: "nothing",
        textContent: "Nothing to send: every attribute that may change is as the app has it.",
      }));
      return;
    }
    out.replaceChildren(
      ...result.requests.map((r) => {
        const parts = [
          el("div", { className: "request-line" },
            el("span", { className: `method ${r.method}`, textContent: r.method }),
            el("span", { className: "path", textContent: r.path })),
        ];
        if (r.method === "PATCH") {
          const rows = r.body.Operations.map((op, i) => el(
            "tr", {},
            el("td", { className: "op", textContent: op.op }),
            el("td", {}, el("code", { textContent: op.path ?? "" })),
            el("td", { className: "value" }, el("code", { textContent: "value" in op ? stringify(op.value) : "" })),
            el("td", { className: "entry" }, ...causeButtons(r.causes[i] ?? [], doc)),
          ));
          parts.push(el("table", { className: "operations" },
            el("thead", {}, el("tr", {}, ...["op", "path", "value", "entry"].map((h) => el("th", { textContent: h })))),
            el("tbody", {}, ...rows)));
        } else {
          const sent = r.method === "POST" ? "sent" : "changed";
          parts.push(el("div", { className: "entries" }, `entries ${sent}: `, ...causeButtons(r.causes[0] ?? [], doc)));
        }
        parts.push(el("pre", { className: "body", textContent: stringify(r.body, 2) }));
        return el("div", { className: "request" }, ...parts);
      }),
    );
  }

  /** Every sample record of the kind through the mapping: which give a payload, which fail and why. */
  function renderAll(source, doc) {
    const records = state.records.map((r) => JSON.stringify(r)).join("\n");
    const { results } = preview_all(source, records, { kind: state.kind, now: nowInput.value || undefined });
    const summary = $("all-summary");
    // A mapping that does not compile: the last run stays, dimmed; the problems list says why.
    $("all-results").classList.toggle("stale", results.length === 0);
    if (results.length === 0) return;
    const failed = results.filter((r) => r.payload === null).length;
    summary.className = failed > 0 ? "failed" : "ok";
    summary.textContent = `${results.length - failed} of ${results.length} records give a payload`
      + (failed > 0 ? `, ${failed} fail` : "");
    // The records that fail first, each with why; then those that pass.
    const shown = [...results.filter((r) => r.payload === null), ...results.filter((r) => r.payload !== null)];
    $("all-results").replaceChildren(
      ...shown.map((r) => {
        const i = r.line - 1;
        const ok = r.payload !== null;
        const pick = el("button", { type: "button", className: "record", textContent: recordLabel(state.records[i], i) });
        pick.addEventListener("click", () => {
          showRecord(i);
          schedule();
        });
        return el(
          "li",
          { className: ok ? "passed" : "failed" },
          el("span", { className: "mark", textContent: ok ? "✓ " : "✗ " }),
          pick,
          ...r.errors.map((e) => {
            const why = el("div", { className: "mismatch" }, `${e.target ?? "record"}: ${e.message} [${e.code}]`);
            if (e.line != null) why.append(" ", ...causeButtons([e], doc));
            return why;
          }),
        );
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

  /** The test file's cases, pass or fail; the marks of what they leave uncovered. */
  function renderTests(result, doc) {
    const summary = $("tests-summary");
    const marks = [];
    if (testsInput.value.trim() === "") {
      summary.textContent = "";
      $("test-results").replaceChildren();
      $("uncovered").replaceChildren();
      return marks;
    }
    if (result.error) {
      // A mapping that does not compile: the problems list says why.
      summary.className = "failed";
      summary.textContent = result.error.input === "tests"
        ? `test file ${result.error.line}:${result.error.column}: ${result.error.message}`
        : result.error.message;
      $("test-results").replaceChildren();
      $("uncovered").replaceChildren();
      return marks;
    }
    summary.className = result.failed > 0 ? "failed" : "ok";
    summary.textContent = `${result.passed} passed, ${result.failed} failed`
      + ` · coverage ${result.coverage.percent.toFixed(1)}%`;
    $("test-results").replaceChildren(
      ...result.cases.map((c) => el(
        "li",
        { className: c.passed ? "passed" : "failed" },
        el("span", { className: "mark", textContent: c.passed ? "✓ " : "✗ " }),
        `${c.name} `,
        el("code", { textContent: `line ${c.line}` }),
        ...c.mismatches.map((m) => {
          const shown = (v) => (v === null ? "nothing" : stringify(v));
          const where = m.path ? `${m.what} ${m.path}` : m.what;
          const item = el("div", { className: "mismatch" },
            `${where}: expected ${shown(m.expected)}, got ${shown(m.actual)}`);
          if (m.entry) item.append(" ", ...causeButtons([m.entry], doc));
          return item;
        }),
      )),
    );
    const uncovered = [];
    for (const e of result.coverage.entries.filter((e) => e.hits === 0)) {
      const message = `not covered by the tests: no case gives \`${e.target}\` a value`;
      marks.push({ ...entrySpan(doc, e.line, e.column), severity: "hint", source: "coverage", message });
      uncovered.push({ line: e.line, column: e.column, text: message });
    }
    for (const b of result.coverage.branches.filter((b) => b.hits === 0)) {
      const message = `not covered by the tests: \`${b.kind}\` ${b.side} never taken`;
      marks.push({
        from: position(doc, b.line, b.column),
        to: position(doc, b.endLine, b.endColumn),
        severity: "hint",
        source: "coverage",
        message,
      });
      uncovered.push({ line: b.line, column: b.column, text: `${message}: ${b.source}` });
    }
    $("uncovered").replaceChildren(
      ...uncovered.map((u) => {
        const li = el("li", {}, el("code", { textContent: `${u.line}:${u.column} ` }), u.text);
        li.addEventListener("click", () => select({ from: position(doc, u.line, u.column) }));
        return li;
      }),
    );
    return marks;
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
    const diagnostics = service.diagnostics(doc);
    const errors = diagnostics.filter((d) => d.severity === "error");
    const marks = [...diagnostics];
    for (const e of result.errors) {
      if (e.line == null) continue;
      marks.push({
        ...sourceSpan(doc, e.line, e.column),
        severity: "info",
        source: e.code,
        message: `this record: ${e.message}`,
      });
    }
    marks.push(...renderTests(run_tests(source, testsInput.value, usersNdjson), doc));
    view.dispatch(setDiagnostics(view.state, marks));
    renderProblems(diagnostics);
    renderAll(source, doc);
    renderExplain(result.explain);
    if (profileOf.source !== source) profileOf = { source, profile: check(source).profile };
    renderProfile(profileOf.profile);
    renderPlan(plan(source, recordInput.value, currentInput.value, {
      kind: state.kind,
      now: nowInput.value || undefined,
      deactivate: state.kind === "user" && deactivateInput.checked,
    }), doc);

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
      state.payload = null;
      payload.classList.remove("stale");
      setStatus(`record failed · ${ms} ms`, "failed");
    } else {
      payload.textContent = stringify(result.payload, 2);
      state.payload = result.payload;
      payload.classList.remove("stale");
      setStatus(`ok · ${ms} ms`, "ok");
    }
  }

  // The seed app the editor started from, to tell an edited mapping from it.
  let startedFrom = appSelect.value;
  appSelect.addEventListener("change", () => {
    const edited = view.state.doc.toString() !== SEEDS[startedFrom];
    const name = appSelect.selectedOptions[0]?.textContent ?? appSelect.value;
    if (edited && !window.confirm(`Replace the edited mapping with ${name}'s? Your changes are lost.`)) {
      appSelect.value = startedFrom;
      return;
    }
    startedFrom = appSelect.value;
    testsInput.value = SEED_TESTS[appSelect.value] ?? "";
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: SEEDS[appSelect.value] } });
  });
  $("share").addEventListener("click", () => {
    const link = new URL(window.location.href);
    link.hash = "s=" + encodeShare({
      app: startedFrom,
      kind: state.kind,
      mapping: view.state.doc.toString(),
      record: recordInput.value,
      now: nowInput.value,
    });
    window.history.replaceState(null, "", link);
    const field = $("share-link");
    field.hidden = false;
    field.value = link.href;
    field.select();
    navigator.clipboard?.writeText(link.href).catch(() => {});
  });
  $("payload-copy").addEventListener("click", () => {
    navigator.clipboard?.writeText($("payload").textContent).catch(() => {});
  });
  $("payload-download").addEventListener("click", () => {
    const blob = new Blob([$("payload").textContent], { type: "application/json" });
    const a = el("a", { href: URL.createObjectURL(blob), download: "payload.json" });
    a.click();
    URL.revokeObjectURL(a.href);
  });
  $("kind-select").addEventListener("change", (e) => {
    state.kind = e.target.value;
    state.records = state.kind === "user" ? users : groups;
    docs.setKind(state.kind);
    // A user's resource is no group's: start the other kind from creation.
    currentInput.value = "";
    deactivateInput.checked = false;
    deactivateInput.disabled = state.kind !== "user";
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
  testsInput.addEventListener("input", schedule);
  currentInput.addEventListener("input", schedule);
  deactivateInput.addEventListener("change", schedule);
  $("current-from-payload").addEventListener("click", () => {
    if (state.payload === null) return;
    // As the app would return it after creation: with its own id.
    currentInput.value = stringify({ id: "1", ...state.payload }, 2);
    schedule();
  });

  fillRecords();
  // A share link: the mapping, record and clock it carries replace the seed app's.
  const shared = decodeShare(window.location.hash);
  if (shared) {
    if (SEEDS[shared.app]) {
      appSelect.value = shared.app;
      startedFrom = shared.app;
      testsInput.value = SEED_TESTS[shared.app] ?? "";
    }
    if (shared.kind === "group" && state.kind !== "group") {
      $("kind-select").value = "group";
      $("kind-select").dispatchEvent(new Event("change"));
    }
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: shared.mapping } });
    if (typeof shared.record === "string") {
      recordInput.value = shared.record;
      recordSelect.value = "custom";
    }
    if (typeof shared.now === "string") nowInput.value = shared.now;
  }
  update();
}

main().catch((e) => {
  const status = $("status");
  status.textContent = `the engine failed to load: ${e.message ?? e}`;
  status.className = "status error";
});
