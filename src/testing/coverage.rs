//! Coverage of a mapping by its tests (reference §testing-coverage): per entry, whether some
//! case gave it a value; per branch point, whether some case took each of its sides.

use crate::diagnostic::{LineIndex, Span};
use crate::eval::coverage::{Branch, Hit};
use crate::ir::{Node, Op, Source};
use crate::mapping::{Kind, Mapping};
use crate::syntax::ast::BinaryOp;
use std::collections::{HashMap, HashSet};

/// One entry of the mapping and the cases that gave it a value.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryCoverage {
    pub kind: Kind,
    pub target: String,
    pub line: usize,
    pub column: usize,
    /// The cases that evaluated it and got a value (not absent, no error).
    pub hits: usize,
}

/// One side of one branch point and the cases that took it.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchCoverage {
    /// The branch point's expression: where it starts and ends (1-based; the end exclusive).
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The expression as written (its first line, shortened).
    pub excerpt: String,
    /// `?:` (also `if`/`else`), `and`, `or`, `??` or `closure`.
    pub kind: &'static str,
    /// Which side, in words: `then`, `else`, `short-circuit`, `right operand`, `left`, `right`,
    /// `empty input`, `non-empty input`.
    pub side: &'static str,
    /// The number of the branch point in the file (LCOV's block) and of the side (0 or 1).
    pub block: usize,
    pub index: usize,
    pub hits: usize,
}

/// Per entry and per branch side, how many cases covered it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    pub entries: Vec<EntryCoverage>,
    pub branches: Vec<BranchCoverage>,
}

impl Coverage {
    /// `{percent, entries: [{target, line, column, hits}], branches: [{kind, side, line,
    /// column, endLine, endColumn, source, hits}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "percent": self.percent(),
            "entries": self.entries.iter().map(|e| serde_json::json!({
                "target": e.target, "line": e.line, "column": e.column, "hits": e.hits,
            })).collect::<Vec<_>>(),
            "branches": self.branches.iter().map(|b| serde_json::json!({
                "kind": b.kind, "side": b.side, "line": b.line, "column": b.column,
                "endLine": b.end_line, "endColumn": b.end_column, "source": b.excerpt,
                "hits": b.hits,
            })).collect::<Vec<_>>(),
        })
    }

    /// Covered entries and branch sides over all of them, as a percentage (100 when there
    /// are none).
    pub fn percent(&self) -> f64 {
        let total = self.entries.len() + self.branches.len();
        let covered = self.entries.iter().filter(|e| e.hits > 0).count()
            + self.branches.iter().filter(|b| b.hits > 0).count();
        if total == 0 {
            100.0
        } else {
            100.0 * covered as f64 / total as f64
        }
    }

    /// Covered entries over all entries, as a percentage.
    pub fn entry_percent(&self) -> f64 {
        ratio(
            self.entries.iter().filter(|e| e.hits > 0).count(),
            self.entries.len(),
        )
    }

    /// Covered branch sides over all of them, as a percentage.
    pub fn branch_percent(&self) -> f64 {
        ratio(
            self.branches.iter().filter(|b| b.hits > 0).count(),
            self.branches.len(),
        )
    }

    /// LCOV tracefile text for the mapping at `file` (as the viewer should find it): a `DA`
    /// line per entry (its first line, hit by the cases that gave it a value) and per line a
    /// branch point starts on (hit by the cases that took a side of it), and a `BRDA` line per
    /// branch side.
    pub fn lcov(&self, file: &str) -> String {
        let mut out = format!("TN:\nSF:{file}\n");
        let mut lines: Vec<(usize, usize)> = Vec::new();
        for e in &self.entries {
            match lines.iter_mut().find(|(l, _)| *l == e.line) {
                Some((_, hits)) => *hits += e.hits,
                None => lines.push((e.line, e.hits)),
            }
        }
        for b in &self.branches {
            if !self.entries.iter().any(|e| e.line == b.line) {
                match lines.iter_mut().find(|(l, _)| *l == b.line) {
                    Some((_, hits)) => *hits += b.hits,
                    None => lines.push((b.line, b.hits)),
                }
            }
            let taken = if b.hits == 0 {
                "-".to_string()
            } else {
                b.hits.to_string()
            };
            out.push_str(&format!(
                "BRDA:{},{},{},{taken}\n",
                b.line, b.block, b.index
            ));
        }
        let branches_hit = self.branches.iter().filter(|b| b.hits > 0).count();
        out.push_str(&format!(
            "BRF:{}\nBRH:{branches_hit}\n",
            self.branches.len()
        ));
        lines.sort();
        for (line, hits) in &lines {
            out.push_str(&format!("DA:{line},{hits}\n"));
        }
        let lines_hit = lines.iter().filter(|(_, h)| *h > 0).count();
        out.push_str(&format!(
            "LF:{}\nLH:{lines_hit}\nend_of_record\n",
            lines.len()
        ));
        out
    }
}

fn ratio(covered: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        100.0 * covered as f64 / total as f64
    }
}

/// Counts gathered while cases run: per (kind, entry index) the cases that gave it a value;
/// per side taken the cases that took it.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub entries: HashMap<(bool, usize), usize>,
    pub hits: HashMap<Hit, usize>,
}

impl Tally {
    pub fn case(&mut self, kind: Kind, values: impl Iterator<Item = bool>, hits: HashSet<Hit>) {
        for (i, valued) in values.enumerate() {
            if valued {
                *self.entries.entry((kind == Kind::Group, i)).or_default() += 1;
            }
        }
        for hit in hits {
            *self.hits.entry(hit).or_default() += 1;
        }
    }

    pub fn merge(&mut self, other: Tally) {
        for (k, n) in other.entries {
            *self.entries.entry(k).or_default() += n;
        }
        for (k, n) in other.hits {
            *self.hits.entry(k).or_default() += n;
        }
    }

    /// Every entry and branch side of the mapping, with the counts gathered.
    pub fn coverage(&self, mapping: &Mapping) -> Coverage {
        let index = LineIndex::new(mapping.source());
        let mut coverage = Coverage::default();
        let mut points: Vec<(Span, Branch)> = Vec::new();
        for kind in [Kind::User, Kind::Group] {
            let Some(section) = mapping.section(kind) else {
                continue;
            };
            for (i, e) in section.entries.iter().enumerate() {
                coverage.entries.push(EntryCoverage {
                    kind,
                    target: e.target.clone(),
                    line: e.line,
                    column: e.column,
                    hits: self
                        .entries
                        .get(&(kind == Kind::Group, i))
                        .copied()
                        .unwrap_or(0),
                });
            }
            let roots = section
                .entries
                .iter()
                .filter_map(|e| match &e.source {
                    Source::Expr(n) => Some(n),
                    _ => None,
                })
                .chain(section.lets.iter().map(|l| &l.value));
            for root in roots {
                branch_points(root, &mut points);
            }
        }
        // In file order; a node the checker copied (one span) is one branch point.
        points.sort();
        points.dedup();
        for (block, (span, branch)) in points.into_iter().enumerate() {
            let (line, column) = index.line_col(span.start);
            let (end_line, end_column) = index.line_col(span.end);
            let text = mapping.source().get(span.start..span.end).unwrap_or("");
            let (kind, sides) = match branch {
                Branch::Conditional => ("?:", ["then", "else"]),
                Branch::And => ("and", ["short-circuit", "right operand"]),
                Branch::Or => ("or", ["short-circuit", "right operand"]),
                Branch::Coalesce => ("??", ["left", "right"]),
                Branch::Closure => ("closure", ["empty input", "non-empty input"]),
            };
            for (index, side) in sides.into_iter().enumerate() {
                coverage.branches.push(BranchCoverage {
                    line,
                    column,
                    end_line,
                    end_column,
                    excerpt: excerpt(text),
                    kind,
                    side,
                    block,
                    index,
                    hits: self
                        .hits
                        .get(&(span, branch, index == 1))
                        .copied()
                        .unwrap_or(0),
                });
            }
        }
        coverage
    }
}

/// The first line of an expression, at most 60 characters.
fn excerpt(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    let mut out: String = first.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Every branch point under `root`, walked with a stack of its own.
fn branch_points(root: &Node, out: &mut Vec<(Span, Branch)>) {
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        let branch = match &n.op {
            Op::Conditional { .. } => Some(Branch::Conditional),
            Op::Binary(BinaryOp::And, ..) => Some(Branch::And),
            Op::Binary(BinaryOp::Or, ..) => Some(Branch::Or),
            Op::Binary(BinaryOp::Coalesce, ..) => Some(Branch::Coalesce),
            Op::Predicate { .. } => Some(Branch::Closure),
            _ => None,
        };
        if let Some(b) = branch {
            out.push((n.span, b));
        }
        n.for_each_child(|c| stack.push(c));
        // A `map` body fused into a `filter` is not a child, but is evaluated.
        if let Op::Predicate {
            map: Some((body, _)),
            ..
        } = &n.op
        {
            stack.push(body);
        }
    }
}
