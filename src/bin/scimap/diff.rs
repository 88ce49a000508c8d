//! A unified line diff for `fmt --check`: what the formatter would change, in the shape `diff
//! -u` and `git diff` print.
//!
//! Lines common to both ends are trimmed first; the middle is compared with Myers' algorithm,
//! which costs O((N + M) · D) for D changed lines. Past `MAX_EDITS` changed lines the middle is
//! shown as removed and added whole: the output stays correct, and time and memory bounded.

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// The most changed lines searched for a shortest edit (memory is O(MAX_EDITS²)).
const MAX_EDITS: usize = 1000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Keep,
    Remove,
    Add,
}

/// The unified diff from `old` to `new`, headed by `--- NAME` and `+++ NAME (formatted)`;
/// empty when they have the same lines.
pub fn unified(name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = script(&a, &b);
    if ops.iter().all(|op| *op == Op::Keep) {
        return String::new();
    }
    let mut out = format!("--- {name}\n+++ {name} (formatted)\n");
    // Each op with the line numbers (0-based) it is at in `a` and `b`.
    let mut at = Vec::with_capacity(ops.len());
    let (mut i, mut j) = (0, 0);
    for op in &ops {
        at.push((*op, i, j));
        match op {
            Op::Keep => (i, j) = (i + 1, j + 1),
            Op::Remove => i += 1,
            Op::Add => j += 1,
        }
    }
    let mut k = 0;
    while k < at.len() {
        if at[k].0 == Op::Keep {
            k += 1;
            continue;
        }
        // A hunk: from CONTEXT lines before this change to CONTEXT lines after the last change
        // that is at most 2·CONTEXT unchanged lines from the one before it.
        let start = k.saturating_sub(CONTEXT);
        let mut end = k;
        let mut last_change = k;
        while end < at.len() {
            if at[end].0 != Op::Keep {
                last_change = end;
            } else if end - last_change > 2 * CONTEXT {
                break;
            }
            end += 1;
        }
        let end = (last_change + 1 + CONTEXT).min(at.len());
        let hunk = &at[start..end];
        let count = |side: Op| {
            hunk.iter()
                .filter(|h| h.0 == Op::Keep || h.0 == side)
                .count()
        };
        let (from_a, from_b) = (hunk[0].1, hunk[0].2);
        let (na, nb) = (count(Op::Remove), count(Op::Add));
        // An empty side is numbered by the line before it, as `diff -u` does.
        let first = |from: usize, n: usize| if n == 0 { from } else { from + 1 };
        out.push_str(&format!(
            "@@ -{},{na} +{},{nb} @@\n",
            first(from_a, na),
            first(from_b, nb)
        ));
        for (op, i, j) in hunk {
            let (mark, line) = match op {
                Op::Keep => (' ', a[*i]),
                Op::Remove => ('-', a[*i]),
                Op::Add => ('+', b[*j]),
            };
            out.push(mark);
            out.push_str(line);
            out.push('\n');
        }
        k = end;
    }
    out
}

/// The edit script from `a` to `b`: a shortest one when it has at most `MAX_EDITS` changes.
fn script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let middle = myers(ma, mb).unwrap_or_else(|| {
        let mut whole = vec![Op::Remove; ma.len()];
        whole.resize(ma.len() + mb.len(), Op::Add);
        whole
    });
    let mut ops = vec![Op::Keep; prefix];
    ops.extend(middle);
    ops.extend(std::iter::repeat_n(Op::Keep, suffix));
    ops
}

/// Myers' greedy shortest edit script, or `None` past `MAX_EDITS` changes.
fn myers(a: &[&str], b: &[&str]) -> Option<Vec<Op>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (a.len() + b.len()).min(MAX_EDITS) as isize;
    let offset = max + 1;
    let mut v = vec![0isize; 2 * offset as usize + 1];
    // The furthest x on each diagonal after each round d, for the walk back.
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut found = None;
    'rounds: for d in 0..=max {
        trace.push(v[(offset - d) as usize..=(offset + d) as usize].to_vec());
        for k in (-d..=d).step_by(2) {
            let idx = (offset + k) as usize;
            let mut x = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[idx] = x;
            if x >= n && y >= m {
                found = Some(d);
                break 'rounds;
            }
        }
    }
    let rounds = found?;
    // Walk back from (n, m): each round d added one edit, then a run of kept lines.
    let mut ops = Vec::with_capacity((n + m) as usize);
    let (mut x, mut y) = (n, m);
    for d in (1..=rounds).rev() {
        // The furthest points of round d - 1, as saved before round d began.
        let before = &trace[d as usize];
        let at = |k: isize| before[(k + d) as usize];
        let k = x - y;
        let down = k == -d || (k != d && at(k - 1) < at(k + 1));
        let prev_k = if down { k + 1 } else { k - 1 };
        let prev_x = at(prev_k);
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            ops.push(Op::Keep);
            x -= 1;
            y -= 1;
        }
        ops.push(if down { Op::Add } else { Op::Remove });
        (x, y) = (prev_x, prev_y);
    }
    ops.extend(std::iter::repeat_n(Op::Keep, x as usize));
    ops.reverse();
    Some(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a script to `a`, taking added lines from `b`: what a correct script gives back.
    fn apply<'s>(ops: &[Op], a: &[&'s str], b: &[&'s str]) -> Vec<&'s str> {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        for op in ops {
            match op {
                Op::Keep => {
                    assert_eq!(a[i], b[j], "a kept line is the same on both sides");
                    out.push(a[i]);
                    i += 1;
                    j += 1;
                }
                Op::Remove => i += 1,
                Op::Add => {
                    out.push(b[j]);
                    j += 1;
                }
            }
        }
        assert_eq!((i, j), (a.len(), b.len()));
        out
    }

    #[test]
    fn scripts_are_correct_and_shortest() {
        let cases: &[(&str, &str, usize)] = &[
            ("a b c", "a b c", 0),
            ("a b c", "a x c", 2),
            ("a b c a b b a", "c b a b a c", 5),
            ("", "x y", 2),
            ("x y", "", 2),
            ("a b", "b a", 2),
        ];
        for (old, new, edits) in cases {
            let a: Vec<&str> = old.split_whitespace().collect();
            let b: Vec<&str> = new.split_whitespace().collect();
            let ops = script(&a, &b);
            assert_eq!(apply(&ops, &a, &b), b, "{old} → {new}");
            let changed = ops.iter().filter(|o| **o != Op::Keep).count();
            assert_eq!(changed, *edits, "{old} → {new}: {ops:?}");
        }
    }

    /// Against the longest common subsequence: a shortest script changes n + m - 2·LCS lines.
    #[test]
    fn scripts_are_shortest_on_random_inputs() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        const WORDS: [&str; 3] = ["a", "b", "c"];
        for _ in 0..500 {
            let mut side = || -> Vec<&str> {
                let len = next(12);
                (0..len).map(|_| WORDS[next(3) as usize]).collect()
            };
            let (a, b) = (side(), side());
            let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
            for i in (0..a.len()).rev() {
                for j in (0..b.len()).rev() {
                    lcs[i][j] = if a[i] == b[j] {
                        lcs[i + 1][j + 1] + 1
                    } else {
                        lcs[i + 1][j].max(lcs[i][j + 1])
                    };
                }
            }
            let ops = script(&a, &b);
            assert_eq!(apply(&ops, &a, &b), b, "{a:?} → {b:?}");
            let changed = ops.iter().filter(|o| **o != Op::Keep).count();
            assert_eq!(changed, a.len() + b.len() - 2 * lcs[0][0], "{a:?} → {b:?}");
        }
    }

    #[test]
    fn past_the_bound_the_middle_is_replaced_whole() {
        let a: Vec<String> = (0..3000).map(|i| format!("a{i}")).collect();
        let b: Vec<String> = (0..3000).map(|i| format!("b{i}")).collect();
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let ops = script(&a, &b);
        assert_eq!(apply(&ops, &a, &b), b);
        assert_eq!(ops.len(), 6000);
    }

    #[test]
    fn hunks_have_context_and_counts() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n";
        let new = "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\nend\n";
        assert_eq!(
            unified("m.scimap", old, new),
            "--- m.scimap\n+++ m.scimap (formatted)\n@@ -3,7 +3,7 @@\n 3\n 4\n 5\n-6\n+six\n 7\n 8\n 9\n\
             @@ -14,3 +14,4 @@\n 14\n 15\n 16\n+end\n"
        );
        assert_eq!(unified("m", "a\n", "a\n"), "");
        assert_eq!(
            unified("m", "", "a\n"),
            "--- m\n+++ m (formatted)\n@@ -0,0 +1,1 @@\n+a\n"
        );
    }
}
