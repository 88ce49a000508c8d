#!/usr/bin/env python3
"""Rewrites tests/expr_suite/differences.txt from a failing run of the Expr-suite test.

    cargo test --test expr_suite 2>&1 | python3 tests/expr_suite/classify.py

Each case the test reports (not yet listed, or listed and now agreeing) is sorted by the rules
below into the section of docs/book/src/reference/expr-differences.md that explains it; a case
no rule explains is printed and the list is left alone, so a new kind of difference is looked
at, fixed or documented, never listed blindly. Entries the report does not mention are kept.
"""

import re
import sys
from pathlib import Path

LIST = Path(__file__).resolve().parent / "differences.txt"
REPORT = re.compile(r"^(\S+:\d+): (.*)\n    Expr: (.*)\n    scimap: (.*)$", re.M)
AGREES = re.compile(r"^(\S+:\d+): (?:agrees now; unlist it|listed, but there is no such case)",
                    re.M)


def section(expr, want, got):
    """The section explaining one difference, or None. `want`/`got` are the report's lines."""
    expr_error = re.match(r"(compile|run) error: ", want)
    ours = re.match(r"(compile|run) error: (.*)", got)
    phase = ours and ours.group(1)
    message = ours.group(2) if ours else ""
    if "predicate should has one input" in want or re.search(r"findLast\(true\)\)$", expr):
        return "expr-diff-expr-bugs"
    if phase == "compile" and not (expr_error and expr_error.group(1) == "compile"):
        return "expr-diff-names" if "has no field" in message else "expr-diff-static"
    if expr_error and expr_error.group(1) == "compile":
        return "expr-diff-gaps"
    if phase == "run" and re.search(r"(\bor\b|\|\|) true$|(\band\b|&&) false$", expr):
        return "expr-diff-fold"
    if "as a map key" in message or ("not representable in JSON: map[" in want and not ours):
        return "expr-diff-map-keys"
    if not ours and "groupBy(" in expr:
        return "expr-diff-map-keys"
    if re.search(r"invalid operation: (and|or) \(", message):
        return "expr-diff-logic"
    if re.search(r"builtin \w+ takes only array, got (map|nil)", message):
        return "expr-diff-predicates"
    if re.search(r"got string|type string cannot be indexed|not UTF-8", message):
        return "expr-diff-unicode"
    if re.search(r"an integer, got float|mismatched types int and float", message):
        return "expr-diff-float-int"
    if not ours and want.startswith('null ("[]interface {}")') and got == "[]":
        return "expr-diff-other"
    if not ours and not expr_error and re.match(r"sort\(|string\(sort\(|\[sort\(", expr):
        return "expr-diff-other"
    return None


def main():
    report = sys.stdin.read()
    lines = LIST.read_text().splitlines() if LIST.exists() else []
    header = [l for l in lines if l.startswith("#") or not l.strip()]
    entries = {l.split("\t")[0]: l for l in lines if l.strip() and not l.startswith("#")}
    for key in AGREES.findall(report):
        entries.pop(key, None)
    unexplained = []
    for key, expr, want, got in REPORT.findall(report):
        name = section(expr, want, got)
        if name is None:
            unexplained.append(f"{key}: {expr}\n    Expr: {want}\n    scimap: {got}")
            continue
        entries[key] = f"{key}\t{name}\t{expr.replace(chr(9), ' ')}"
    if unexplained:
        print("no rule explains these; fix them or document them first:", file=sys.stderr)
        print("\n".join(unexplained), file=sys.stderr)
        sys.exit(1)

    def order(key):
        file, line = key.rsplit(":", 1)
        return (file.startswith("generated"), file, int(line))

    body = [entries[k] for k in sorted(entries, key=order)]
    LIST.write_text("\n".join(header + body) + "\n")
    print(f"{len(body)} listed differences", file=sys.stderr)


if __name__ == "__main__":
    main()
