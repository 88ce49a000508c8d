// The scimap mapping language for CodeMirror: highlighting (reference §file and Expr's tokens)
// and indentation by brace depth. Completion, hover and diagnostics come from the engine's
// language service (service.js).

import { StreamLanguage, HighlightStyle } from "@codemirror/language";
import { tags as t } from "@lezer/highlight";

const KEYWORDS = new Set([
  "let", "if", "else", "const", "not", "and", "or", "in", "matches", "contains",
  "startsWith", "endsWith",
]);
const HEADERS = new Set(["app", "schema", "user", "group"]);
const ATOMS = new Set(["true", "false", "nil"]);

// A target is only tried where an entry starts, and only when an `=` (not `==`) follows.
const TARGET =
  /^(?:urn:[A-Za-z0-9._:$-]+|[A-Za-z$][\w$-]*)(?:\[[^\]\n]*\])?(?:\.[A-Za-z$][\w$-]*)?(?=[ \t]*=(?!=))/;
// A direct source runs to a comment outside a path string, or to the end of the line.
const DIRECT = /^\$(?=[.[ \t]|$|\/\/|\/\*)(?:'(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?|\/(?![/*])|[^/'"])*/;

function startState() {
  return { comment: false, depth: 0, entryStart: true, afterAssign: false };
}

function token(stream, state) {
  if (stream.sol()) {
    state.entryStart = true;
  }
  if (state.comment) {
    if (stream.skipTo("*/")) {
      stream.pos += 2;
      state.comment = false;
    } else {
      stream.skipToEnd();
    }
    return "comment";
  }
  if (stream.eatSpace()) return null;
  const entryStart = state.entryStart;
  const afterAssign = state.afterAssign;
  state.entryStart = false;
  state.afterAssign = false;
  if (stream.match("//")) {
    stream.skipToEnd();
    return "comment";
  }
  if (stream.match("/*")) {
    state.comment = true;
    return token(stream, state) ?? "comment";
  }
  if (afterAssign && stream.match(DIRECT)) {
    stream.backUp(stream.current().length - stream.current().trimEnd().length);
    return "path";
  }
  if (entryStart && state.depth > 0 && !stream.match(/^let\b/, false) && stream.match(TARGET)) {
    return "target";
  }
  if (stream.match(/^"(?:\\.|[^"\\])*"?/) || stream.match(/^'(?:\\.|[^'\\])*'?/) ||
      stream.match(/^`[^`]*`?/)) {
    return "string";
  }
  if (stream.match(/^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)/)) {
    return "number";
  }
  const word = stream.match(/^[A-Za-z_$][\w$]*/);
  if (word) {
    const w = word[0];
    if (HEADERS.has(w) && entryStart) return "keyword";
    if (KEYWORDS.has(w)) return "keyword";
    if (ATOMS.has(w)) return "atom";
    if (stream.match(/^[ \t]*\(/, false)) return "function";
    return "variable";
  }
  if (stream.eat("{")) {
    state.depth++;
    return "brace";
  }
  if (stream.eat("}")) {
    state.depth = Math.max(0, state.depth - 1);
    return "brace";
  }
  if (stream.match(/^=(?![=~])/)) {
    state.afterAssign = true;
    return "operator";
  }
  if (stream.eat("#")) return "closure";
  if (stream.match(/^(?:\?\?|\*\*|==|!=|<=|>=|&&|\|\||\.\.|\?\.|::|[-+*/%^<>!?:|])/)) {
    return "operator";
  }
  stream.next();
  return null;
}

export const scimapLanguage = StreamLanguage.define({
  name: "scimap",
  startState,
  copyState: (s) => ({ ...s }),
  token,
  indent(state, textAfter, cx) {
    const depth = Math.max(0, state.depth - (/^\s*\}/.test(textAfter) ? 1 : 0));
    return depth * cx.unit;
  },
  languageData: {
    commentTokens: { line: "//", block: { open: "/*", close: "*/" } },
    indentOnInput: /^\s*\}$/,
  },
  tokenTable: {
    target: t.propertyName,
    path: t.special(t.string),
    function: t.function(t.variableName),
    variable: t.variableName,
    brace: t.brace,
    closure: t.special(t.variableName),
  },
});

export const scimapHighlight = HighlightStyle.define([
  { tag: t.comment, color: "#6a737d", fontStyle: "italic" },
  { tag: t.keyword, color: "#a626a4", fontWeight: "600" },
  { tag: t.propertyName, color: "#0b5cad", fontWeight: "600" },
  { tag: t.special(t.string), color: "#b35900" },
  { tag: t.string, color: "#22863a" },
  { tag: t.number, color: "#986801" },
  { tag: t.atom, color: "#986801" },
  { tag: t.function(t.variableName), color: "#6f42c1" },
  { tag: t.variableName, color: "#24292e" },
  { tag: t.special(t.variableName), color: "#d73a49" },
  { tag: t.operator, color: "#d73a49" },
  { tag: t.brace, color: "#586069" },
]);
