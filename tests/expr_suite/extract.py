#!/usr/bin/env python3
"""Extracts the Expr-suite cases (tests/expr_suite/*.jsonl) from Expr v1.17.8's own tests.

A developer tool, run once per Expr version; CI only reads its output (tests/expr_suite.rs).
README.md beside this file says what it takes, how applicability is decided and what it gave.

    python3 tests/expr_suite/extract.py [--tarball PATH] [--peer PATH]

* --tarball: Expr's source with its tests (default ../shared/peers/expr-go/v1.17.8/...tar.gz
  beside the checkout).
* --peer: exprpeer17 (built by ../shared/peers/expr-go/build.sh --v17); when given, every
  table case without an environment is also asked of it, and the run stops if it answers
  differently from the oracle.

Needs Go (1.19 or later) and no network: the oracle (oracle/main.go) is built against the
unpacked tarball with GOPROXY=off.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# The peers live beside the checkout (../shared), or beside the directory of worktrees.
DEFAULT_TARBALL = next(
    (p for p in (d / "shared/peers/expr-go/v1.17.8/expr-v1.17.8.tar.gz"
                 for d in (ROOT.parent, ROOT.parent.parent)) if p.exists()), None)

# The test files whose tables are read, relative to the source root (test/ recursively).
TABLE_FILES = ["expr_test.go", "builtin/builtin_test.go", "checker/checker_test.go"]
TABLE_DIRS = ["parser", "vm", "test"]

# test/gen/env.go's environment as JSON: `foo` and `list` hold structs of one field `Bar`
# (as maps here); `add` and `greet` are Go functions, which no JSON record can hold.
GEN_ENV = {
    "ok": True,
    "i": 1,
    "str": "str",
    "f64": 0.5,
    "array": [1, 2, 3, 4, 5],
    "foo": {"Bar": "foo"},
    "list": [{"Bar": "bar"}, {"Bar": "baz"}],
}
GEN_FUNCS = {"add", "greet"}
# generated.txt has ~44k lines; every SAMPLE-th runnable one (by line number) is kept.
SAMPLE = 4
# Each case is asked this many times; one answered differently is left out (Go's map order).
RUNS = 6

KEYWORDS = {"true", "false", "nil", "not", "and", "or", "in", "matches", "contains",
            "startsWith", "endsWith", "let", "if", "else"}
BIT = {"bitand", "bitor", "bitxor", "bitnand", "bitshl", "bitshr", "bitushr"}

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<bytes>b["'`])
  | (?P<num>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)
  | (?P<ptr>\#[A-Za-z_]\w*|\#)
  | (?P<ident>\$?[A-Za-z_]\w*)
  | (?P<op>\?\.|\?\?|\.\.|==|!=|<=|>=|&&|\|\||\*\*|[-+*/%<>!=?:.,()\[\]{}|;^])
  | (?P<other>.)
""", re.X | re.S)


def tokens(src):
    out = []
    for m in TOKEN.finditer(src):
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def classify(src, builtins, env_names):
    """(verdict, rewritten source): verdict None when applicable, else why not.

    A name is free unless it is a keyword, `$env`, a member (after `.`/`?.`), a map key (before
    `:` after `{` or `,`), bound by `let`, or a builtin being called. A free name of env_names is
    rewritten `$env.NAME` (scimap checks bare names against the record's schema)."""
    toks = tokens(src)
    bound = {toks[i + 1][1] for i, t in enumerate(toks[:-1]) if t == ("ident", "let")}
    pieces, last = [], 0
    spans = [m for m in TOKEN.finditer(src) if m.lastgroup != "ws"]
    for i, (kind, text) in enumerate(toks):
        if kind == "bytes":
            return "bytes literal", src
        if kind == "other":
            return "not Expr's syntax", src
        if kind != "ident":
            continue
        prev = toks[i - 1][1] if i > 0 else ""
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if prev in (".", "?."):
            if nxt == "(":
                return "Go method call", src
            continue
        if text in KEYWORDS or text == "$env" or text in bound:
            continue
        if nxt == ":" and prev in ("{", ","):
            continue
        if nxt == "(":
            if text in builtins:
                continue
            return "custom function", src
        if text in env_names:
            m = spans[i]
            pieces.append(src[last:m.start()] + "$env." + text)
            last = m.end()
            continue
        return "names the test's Go environment", src
    return None, "".join(pieces) + src[last:]


def go_string(lit):
    """The value of a Go string literal."""
    if lit[0] == "`":
        return lit[1:-1].replace("\r", "")
    # Go's escapes are a superset of JSON's in the cases the test tables use; decode by hand.
    body, out, i = lit[1:-1], [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "a": "\a",
              "b": "\b", "f": "\f", "v": "\v"}
    raw = bytearray()

    def flush():
        if raw:
            out.append(raw.decode("utf-8"))
            raw.clear()

    while i < len(body):
        c = body[i]
        if c != "\\":
            flush()
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in simple:
            flush()
            out.append(simple[e])
            i += 2
        elif e == "x":
            raw.append(int(body[i + 2:i + 4], 16))
            i += 4
        elif e in "01234567":
            raw.append(int(body[i + 1:i + 4], 8))
            i += 4
        elif e in "uU":
            n = 4 if e == "u" else 8
            flush()
            out.append(chr(int(body[i + 2:i + 2 + n], 16)))
            i += 2 + n
        else:
            raise ValueError(f"escape \\{e} in {lit}")
    flush()
    return "".join(out)


GO_LIT = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`')
GO_SKIP = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:[^'\\\n]|\\.)*'", re.S)
KEYED = re.compile(r"\b(?:input|code|expr|expression)\s*:\s*$")
CALLED = re.compile(r"\b(?:expr\.Eval|expr\.Compile|parser\.Parse|parser\.ParseWithConfig)\(\s*$")


def harvest(text):
    """(line, expression) of every Go string literal used as a test's expression: the first
    positional element of a table row, an `input:`/`code:`/`expr:`/`expression:` field, or the
    first argument of expr.Eval/expr.Compile/parser.Parse."""
    found, pos = [], 0
    while pos < len(text):
        skip = GO_SKIP.match(text, pos)
        if skip:
            pos = skip.end()
            continue
        m = GO_LIT.match(text, pos)
        if not m:
            pos += 1
            continue
        before = text[:m.start()].rstrip()
        after = text[m.end():].lstrip()
        row = before.endswith("{") and after[:1] in (",", "}")
        if row or KEYED.search(before[-40:]) or CALLED.search(before[-40:]):
            try:
                found.append((text.count("\n", 0, m.start()) + 1, go_string(m.group())))
            except (ValueError, IndexError):  # not UTF-8, or not a literal Go decodes
                pass
        pos = m.end()
    return found


def unpack(tarball, into):
    with tarfile.open(tarball) as t:
        t.extractall(into)
    (root,) = [p for p in Path(into).iterdir() if p.is_dir()]
    return root


def build_oracle(src_root, work):
    mod = Path(work) / "oracle"
    mod.mkdir()
    (mod / "main.go").write_text((HERE / "oracle/main.go").read_text())
    (mod / "go.mod").write_text(
        "module exproracle\n\ngo 1.19\n\nrequire github.com/expr-lang/expr v1.17.8\n\n"
        f"replace github.com/expr-lang/expr => {src_root}\n")
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod",
               GOCACHE=os.environ.get("GOCACHE", str(Path(work) / "gocache")))
    subprocess.run(["go", "build", "-o", str(mod / "oracle"), "."], cwd=mod, env=env, check=True)
    return mod / "oracle"


def loads(text):
    """JSON, keeping Go's `-0` a negative zero (Python would read the integer 0)."""
    return json.loads(text, parse_int=lambda t: -0.0 if t == "-0" else int(t))


def settled(oracle, cases):
    """The oracle's answers, and which cases it answered differently across RUNS runs: those
    depend on Go's random map order (`keys($env)`), so Expr has no one answer to compare with."""
    first = ask(oracle, cases)
    moving = set()
    for _ in range(RUNS - 1):
        for i, (a, b) in enumerate(zip(first, ask(oracle, cases))):
            if a != b:
                moving.add(i)
    return first, moving


def ask(oracle, cases):
    """The oracle's answers, one per case. It answers line by line, so when it dies the case
    after its last answer killed it: that case is answered as an error and the rest re-asked."""
    answers = []
    while len(answers) < len(cases):
        rest = cases[len(answers):]
        out = subprocess.run([str(oracle)], input="".join(json.dumps(c) + "\n" for c in rest),
                             capture_output=True, text=True, timeout=900)
        answers += [loads(l) for l in out.stdout.splitlines()]
        if len(answers) < len(cases):
            answers.append({"error": "oracle crashed: " + out.stderr.strip().split("\n")[0]})
    return answers


def want(answer):
    """A case's expected answer from the oracle's: {"ok": V} or {"error": PHASE, "message"}."""
    if "ok" in answer:
        return {"ok": answer["ok"], "type": answer["type"]}
    if "compile_error" in answer:
        return {"error": "compile", "message": answer["compile_error"][:300]}
    if "error" in answer:
        return {"error": "run", "message": answer["error"][:300]}
    if "unrepresentable" in answer:
        return {"error": "run", "message": "not representable in JSON: " + answer["unrepresentable"]}
    raise SystemExit(f"oracle: unexpected answer {answer}")


def ask_peer(peer, exprs):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write("{}")
    try:
        out = subprocess.run([peer, "eval", "--user", f.name], input="\n".join(exprs) + "\n",
                             capture_output=True, text=True, timeout=900)
    finally:
        os.unlink(f.name)
    return [json.loads(l) for l in out.stdout.splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tarball", default=DEFAULT_TARBALL, required=DEFAULT_TARBALL is None)
    ap.add_argument("--peer")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="expr-suite-")
    root = unpack(args.tarball, work)
    oracle = build_oracle(root, work)
    builtin_src = (root / "builtin/builtin.go").read_text()
    builtins = set(re.findall(r'Name:\s*"(\w+)"', builtin_src)) | BIT

    files = [root / f for f in TABLE_FILES]
    for d in TABLE_DIRS:
        files += sorted((root / d).rglob("*_test.go"))
    stats, cases, seen = {}, [], set()
    for path in files:
        rel = str(path.relative_to(root))
        group = rel.split("/")[0] if "/" in rel else rel
        s = stats.setdefault(group, {"found": 0, "applicable": 0, "duplicate": 0, "why_not": {}})
        for line, src in harvest(path.read_text()):
            s["found"] += 1
            why, _ = classify(src, builtins, set())
            if why:
                s["why_not"][why] = s["why_not"].get(why, 0) + 1
                continue
            if src.strip() == "" or src in seen:
                s["duplicate"] += 1
                continue
            seen.add(src)
            s["applicable"] += 1
            cases.append({"src": f"{rel}:{line}", "expr": src})
    answers, moving = settled(oracle, [{"expr": c["expr"]} for c in cases])
    for i in sorted(moving):
        group = cases[i]["src"].split("/")[0] if "/" in cases[i]["src"] else cases[i]["src"].split(":")[0]
        stats[group]["applicable"] -= 1
        stats[group]["why_not"]["Go map order"] = stats[group]["why_not"].get("Go map order", 0) + 1
    cases = [c for i, c in enumerate(cases) if i not in moving]
    answers = [a for i, a in enumerate(answers) if i not in moving]
    for c, a in zip(cases, answers):
        c["want"] = want(a)
    if args.peer:
        # exprpeer17 reads one expression a line and skips blank and `#` lines; it echoes each.
        asked = [c for c in cases if "\n" not in c["expr"] and c["expr"].strip()
                 and not c["expr"].strip().startswith("#")]
        peer = {p["expr"]: p for p in ask_peer(args.peer, [c["expr"] for c in asked])}
        mismatch = []
        for c in asked:
            p = peer.get(c["expr"], {})
            mine = c["want"]
            if "repr" in p:
                # exprpeer17 cannot encode a map with untyped keys; the oracle writes one
                # whose keys are all strings as an object.
                same = (mine.get("message", "").startswith("not representable")
                        or (mine.get("type", "").startswith("map[interface {}]")
                            and p["repr"].startswith("map[")))
            elif p.get("type") == "time.Duration":  # the oracle writes it as its String()
                same = mine.get("type") == "time.Duration"
            elif "ok" in p:
                same = mine.get("ok", object()) == p["ok"]
            else:
                same = mine.get("error") == ("compile" if "compile_error" in p else "run")
            if not same:
                mismatch.append((c["expr"], mine, p))
        print(f"exprpeer17: {len(asked) - len(mismatch)} of {len(asked)} one-line table cases "
              "answered as the oracle", file=sys.stderr)
        for m in mismatch:
            print("  differs:", m, file=sys.stderr)
        if mismatch:
            sys.exit(1)

    gen_lines = (root / "testdata/generated.txt").read_text().strip().split("\n")
    gen_stats = {"lines": len(gen_lines), "why_not": {}, "sampled_out": 0, "applicable": 0}
    gen = []
    for n, src in enumerate(gen_lines, 1):
        # add and greet are Go functions: whether called or passed, no JSON record has them.
        if any(("ident", f) in tokens(src) for f in GEN_FUNCS):
            why, rewritten = "custom function", src
        else:
            why, rewritten = classify(src, builtins, set(GEN_ENV))
        if why:
            gen_stats["why_not"][why] = gen_stats["why_not"].get(why, 0) + 1
            continue
        if n % SAMPLE != 0:
            gen_stats["sampled_out"] += 1
            continue
        gen_stats["applicable"] += 1
        gen.append({"line": n, "expr": rewritten})
    answers, moving = settled(oracle, [{"expr": g["expr"], "env": GEN_ENV} for g in gen])
    gen_stats["applicable"] -= len(moving)
    gen_stats["why_not"]["Go map order"] = len(moving)
    gen = [g for i, g in enumerate(gen) if i not in moving]
    answers = [a for i, a in enumerate(answers) if i not in moving]
    for g, a in zip(gen, answers):
        g["want"] = want(a)

    with open(HERE / "tables.jsonl", "w") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    with open(HERE / "generated.jsonl", "w") as f:
        f.write(json.dumps({"env": GEN_ENV}) + "\n")
        for g in gen:
            f.write(json.dumps(g, ensure_ascii=False) + "\n")
    report = {"tables": stats, "generated": gen_stats}
    (HERE / "extract-stats.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(json.dumps(report, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
