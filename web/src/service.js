// The editor's language features from the engine's language service (`LanguageService`, the
// Rust code `scimap lsp` serves editors with, compiled to WASM): completion, hover,
// diagnostics and their quick fixes. This file only converts positions and shapes; what is
// offered, shown and fixed is decided in Rust.

import { hoverTooltip } from "@codemirror/view";
import { LanguageService } from "../pkg/scimap.js";
import { markdown } from "./markdown.js";

/** The service's `{ line, character }` (0-based, UTF-16) of an editor offset. */
export function toPosition(doc, offset) {
  const line = doc.lineAt(offset);
  return { line: line.number - 1, character: offset - line.from };
}

/** The editor offset of a service position, clamped to the document. */
export function toOffset(doc, { line, character }) {
  if (line + 1 > doc.lines) return doc.length;
  const l = doc.line(line + 1);
  return Math.min(l.from + character, l.to);
}

/**
 * One analysis per version of the text: CodeMirror's documents are immutable, so the one
 * last asked about is kept and freed (it lives in WASM memory) when the text changes.
 */
export class Service {
  #doc = null;
  #service = null;

  at(doc) {
    if (this.#doc !== doc) {
      this.#service?.free();
      this.#service = new LanguageService(doc.toString());
      this.#doc = doc;
    }
    return this.#service;
  }

  /**
   * The problems of `doc` as CodeMirror diagnostics, each with the service's quick fixes as
   * actions; with `line`/`column` (1-based, columns in characters, as `scimap check` counts)
   * for the problems list.
   */
  diagnostics(doc) {
    const service = this.at(doc);
    // The fixes of every problem at once, each then given to the problem it fixes.
    const last = toPosition(doc, doc.length);
    const all = service.codeActions(0, 0, last.line, last.character);
    return service.problems().map((p) => {
      const from = toOffset(doc, p.range.start);
      const to = toOffset(doc, p.range.end);
      const { start } = p.range;
      const fixes = all.filter((a) => a.code === p.code && same(a.diagnostic, p.range));
      const line = doc.line(start.line + 1);
      return {
        from,
        to,
        severity: p.severity,
        source: p.code,
        message: p.message + (p.help ? `\nhelp: ${p.help}` : ""),
        actions: fixes.map((fix) => ({ name: fix.title, apply: (view, from, to) => this.#fix(view, fix, from, to) })),
        line: start.line + 1,
        column: [...line.text.slice(0, start.character)].length + 1,
      };
    });
  }

  /**
   * Applies a quick fix where its diagnostic is now (`from`–`to`, as the editor has mapped it
   * through later typing): the fix of the same title, asked for again of the current text.
   */
  #fix(view, fix, from, to) {
    const doc = view.state.doc;
    const start = toPosition(doc, from);
    const end = toPosition(doc, to);
    const now = this.at(doc)
      .codeActions(start.line, start.character, end.line, end.character)
      .find((a) => a.title === fix.title && a.code === fix.code);
    if (!now) return;
    view.dispatch({
      changes: now.edits.map((e) => ({
        from: toOffset(doc, e.range.start),
        to: toOffset(doc, e.range.end),
        insert: e.newText,
      })),
    });
  }

  /** A CodeMirror completion source. */
  completions() {
    return (ctx) => {
      const doc = ctx.state.doc;
      const { line, character } = toPosition(doc, ctx.pos);
      const items = this.at(doc).completions(line, character);
      if (items.length === 0) return null;
      // Every item of one answer replaces the same range: the word or path being typed.
      const from = toOffset(doc, items[0].range.start);
      const typed = doc.sliceString(from, ctx.pos);
      const trigger = doc.sliceString(ctx.pos - 1, ctx.pos);
      if (!ctx.explicit && typed === "" && !/[.$#[]/.test(trigger)) return null;
      return {
        from,
        to: Math.max(ctx.pos, toOffset(doc, items[0].range.end)),
        options: items.map((c) => ({
          label: c.label,
          apply: c.insert,
          type: KINDS[c.kind],
          detail: c.detail ?? undefined,
          info: c.documentation ? () => markdown(c.documentation) : undefined,
        })),
      };
    };
  }

  /** A CodeMirror hover tooltip: the service's Markdown about what is under the pointer. */
  hover() {
    return hoverTooltip((view, pos) => {
      const doc = view.state.doc;
      const { line, character } = toPosition(doc, pos);
      const hover = this.at(doc).hover(line, character);
      if (!hover) return null;
      return {
        pos: toOffset(doc, hover.range.start),
        end: toOffset(doc, hover.range.end),
        above: true,
        create: () => {
          const dom = markdown(hover.markdown);
          dom.classList.add("scimap-hover");
          return { dom };
        },
      };
    });
  }
}

/** The completion kinds as CodeMirror's icon types. */
const KINDS = {
  field: "property",
  target: "property",
  function: "function",
  variable: "variable",
  keyword: "keyword",
  value: "enum",
  setting: "property",
};

function same(a, b) {
  return a.start.line === b.start.line && a.start.character === b.start.character
    && a.end.line === b.end.line && a.end.character === b.end.character;
}
