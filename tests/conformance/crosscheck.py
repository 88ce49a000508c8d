#!/usr/bin/env python3
"""Cross-checks the conformance cases against the real Go Expr engine (a developer tool, not CI).

The peer is `exprpeer` (Expr 1.8.9, with the v1.17 builtins it lacks registered as helpers). It
is not in this repository: its source is `../shared/peers/expr-go`, the measurement peers the
project's machines keep beside the checkout, and `cargo xtask bench-compare` builds it into
`target/bench-compare/expr-go/exprpeer`, the default `--peer`. Every case whose expression is one
line is sent to `exprpeer eval --user RECORD` and its answer compared with the case's
`want`/`error`:

* same     — equal JSON values (maps compared without regard to key order);
* error    — both answer with an error (the messages are not compared);
* differs  — anything else (listed with both answers).

    python3 tests/conformance/crosscheck.py [--peer PATH] [--annotate] [FILE.txt ...]

Exit status 1 when a case marked `peer: same` or `peer: error` no longer agrees. `--annotate`
rewrites the case files: `peer: same` / `peer: error` after every agreeing case, no `peer:` line
elsewhere. The book's appendix (reference §conformance-crosscheck) explains each kind of
disagreement.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse(path):
    """Cases as dicts: line, expr, record (JSON text), want/error, peer, lines (their span)."""
    cases = []
    for i, raw in enumerate(path.read_text(encoding="utf-8").split("\n")):
        if not raw.strip() or raw.startswith("#") or ":" not in raw:
            continue
        key, value = raw.split(":", 1)
        value = value[1:] if value.startswith(" ") else value
        if key == "expr":
            cases.append({"line": i, "expr": value, "record": "{}", "multi": False, "last": i})
            continue
        if not cases:
            continue
        case = cases[-1]
        case["last"] = i
        if key == "more":
            case["multi"] = True
        elif key in ("record", "want", "error", "peer", "kind", "limit"):
            case[key] = value
    return cases


def ask_peer(peer, record, exprs):
    """The peer's answers, one dict per expression, in order."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(record)
        name = f.name
    try:
        out = subprocess.run(
            [peer, "eval", "--user", name],
            input="\n".join(exprs) + "\n",
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        os.unlink(name)
    answers = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    if len(answers) == len(exprs):
        return answers
    if len(exprs) == 1:
        # The peer process died (a Go panic outside the VM, e.g. in `repeat`): an error too.
        return [{"error": "peer crashed: " + (out.stderr.strip().split("\n") or [""])[0]}]
    return [a for e in exprs for a in ask_peer(peer, record, [e])]


def verdict(case, answer):
    if "compile_error" in answer or "error" in answer:
        got = "error: " + (answer.get("compile_error") or answer.get("error")).split("\n")[0]
        return ("error" if "error" in case else "differs"), got
    got = json.dumps(answer.get("ok"), ensure_ascii=False)
    if "repr" in answer:
        got = answer["repr"]
    if "want" in case and "repr" not in answer and json.loads(case["want"]) == answer.get("ok"):
        return "same", got
    return "differs", got


def checkable(case):
    # The peer reads one expression per line and skips lines starting with `#`; group records
    # and limits are scimap's own; Go's map order and clock make the answers below vary by run.
    e = case["expr"].strip()
    varies = any(f in e for f in ("keys(", "values(", "toPairs(", "now("))
    return (not case["multi"] and e and not e.startswith("#") and not varies
            and "kind" not in case and "limit" not in case)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_peer = HERE.parent.parent / "target/bench-compare/expr-go/exprpeer"
    ap.add_argument("--peer", default=os.environ.get("EXPRPEER", str(default_peer)))
    ap.add_argument("--annotate", action="store_true")
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    files = args.files or sorted(HERE.glob("*.txt"))
    stale = 0
    totals = {"same": 0, "error": 0, "differs": 0, "skipped": 0}
    for path in files:
        cases = parse(path)
        todo = [c for c in cases if checkable(c)]
        by_record = {}
        for c in todo:
            by_record.setdefault(c["record"], []).append(c)
        for record, group in by_record.items():
            for c, a in zip(group, ask_peer(args.peer, record, [c["expr"] for c in group])):
                c["verdict"], c["peer_got"] = verdict(c, a)
        counts = {"same": 0, "error": 0, "differs": 0, "skipped": len(cases) - len(todo)}
        for c in todo:
            counts[c["verdict"]] += 1
            if c["verdict"] == "differs":
                mine = c.get("want") or "error: " + c.get("error", "")
                print(f"{path.name}:{c['line'] + 1}: {c['expr']}\n    scimap {mine}\n    peer   {c['peer_got']}")
                if c.get("peer") in ("same", "error"):
                    stale += 1
        print(f"== {path.name}: {report(counts)}")
        for k in totals:
            totals[k] += counts[k]
        if args.annotate:
            annotate(path, cases)
    print(f"== total: {report(totals)}")
    if stale and not args.annotate:
        print(f"{stale} case(s) marked `peer: same` differ")
        return 1
    return 0


def report(counts):
    return (f"{counts['same']} same value, {counts['error']} both errors, "
            f"{counts['differs']} differ, {counts['skipped']} not checkable")


def annotate(path, cases):
    lines = path.read_text(encoding="utf-8").split("\n")
    marks = {c["last"]: c.get("verdict") for c in cases if c.get("verdict") in ("same", "error")}
    out = []
    for i, line in enumerate(lines):
        if not line.startswith("peer:"):
            out.append(line)
        if i in marks:
            out.append("peer: " + marks[i])
    path.write_text("\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
