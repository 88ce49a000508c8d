//! "Did you mean …?" for unknown names: record fields, SCIM attributes, functions, URNs.
//!
//! The cost is bounded whatever the mapping: the edit distance is computed only in a band of
//! width 2·3 + 1 around the diagonal and stops as soon as it exceeds what is allowed, each
//! search has a fixed budget of work, and a file a fixed budget for all its searches and a
//! fixed number of them (see [`Suggester`]).

use std::cell::Cell;

/// The most edits a suggestion may be away from the name.
const MAX_EDITS: usize = 3;

/// Work one search may do, in units of one candidate looked at, one byte lower-cased or one
/// cell of the distance table. A mapping's names (a hundred fields, a few dozen `let`s of
/// twenty characters) take a few thousand; a name or candidate list that needs more gets the
/// best suggestion found within it.
const SEARCH_BUDGET: usize = 1 << 17;

/// Work all the searches of one file may do: some 50 ms, a hundred normal searches many times
/// over.
const FILE_BUDGET: usize = 1 << 23;

/// The searches of one file: "did you mean" runs for its first `searches` unknown names only
/// (the checker passes the most diagnostics a file reports), and within [`FILE_BUDGET`], so
/// that a hundred thousand unknown names do not each scan every `let`.
pub struct Suggester {
    searches: Cell<usize>,
    work: Cell<usize>,
}

impl Suggester {
    pub fn new(searches: usize) -> Self {
        Suggester {
            searches: Cell::new(searches),
            work: Cell::new(FILE_BUDGET),
        }
    }

    /// [`did_you_mean`], while searches and work remain. Candidates are only read when it
    /// runs.
    pub fn did_you_mean<'a>(
        &self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let searches = self.searches.get();
        let work = self.work.get();
        if searches == 0 || work == 0 {
            return None;
        }
        self.searches.set(searches - 1);
        let mut budget = work.min(SEARCH_BUDGET);
        let found = search(name, candidates, &mut budget);
        self.work.set(work - (work.min(SEARCH_BUDGET) - budget));
        found
    }
}

/// The candidate closest to `name`, ignoring case, if it is close enough to be a likely typo:
/// at most one edit (a transposition counts as one) per three characters of the candidate, at
/// least one and at most three, so that long names (URNs) that merely share a prefix do not
/// match. A candidate equal to `name` but for case is always suggested. Ties go to the first.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut budget = SEARCH_BUDGET;
    search(name, candidates, &mut budget)
}

/// [`did_you_mean`] within `budget`, less what it used on return (all of it if the search
/// was cut short).
fn search<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    budget: &mut usize,
) -> Option<&'a str> {
    let name: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    let n = name.len();
    let mut best: Option<(usize, &'a str)> = None;
    let mut lower = Vec::new();
    for candidate in candidates {
        if best.is_some_and(|(d, _)| d == 0) {
            break;
        }
        let Some(left) = budget.checked_sub(1) else {
            *budget = 0;
            break;
        };
        *budget = left;
        // Lower-cased, a candidate has at least a quarter as many characters as bytes and at
        // most three per byte (İ → i̇): skip, without reading them, those whose length alone
        // rules them out.
        let bytes = candidate.len();
        if bytes.saturating_mul(3) + MAX_EDITS < n || bytes / 4 > n + MAX_EDITS {
            continue;
        }
        let Some(left) = budget.checked_sub(bytes) else {
            *budget = 0;
            break;
        };
        *budget = left;
        lower.clear();
        lower.extend(candidate.chars().flat_map(char::to_lowercase));
        let allowed = (lower.len() / 3).clamp(1, MAX_EDITS);
        // The best so far already wins ties.
        let allowed = best.map_or(allowed, |(d, _)| allowed.min(d - 1));
        if lower.len().abs_diff(n) > allowed {
            continue;
        }
        match osa_within(&name, &lower, allowed, budget) {
            Ok(Some(distance)) => best = Some((distance, candidate)),
            Ok(None) => {}
            Err(OutOfBudget) => {
                *budget = 0;
                break;
            }
        }
    }
    best.map(|(_, candidate)| candidate)
}

struct OutOfBudget;

/// The optimal-string-alignment distance (Damerau–Levenshtein where a transposed pair is not
/// edited again) between `a` and `b` if it is at most `k`. Only cells within `k` of the
/// diagonal can hold a value ≤ k, so each row computes 2k + 1 of them, and the search ends at
/// the first row whose every value is over `k`: O(k · len) time. Each cell costs one unit of
/// `budget`.
fn osa_within(
    a: &[char],
    b: &[char],
    k: usize,
    budget: &mut usize,
) -> Result<Option<usize>, OutOfBudget> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > k {
        return Ok(None);
    }
    // Anything over `k` is as good as infinite.
    let over = k + 1;
    let mut before: Vec<usize> = vec![over; m + 1];
    let mut prev: Vec<usize> = (0..=m).map(|j| j.min(over)).collect();
    let mut cur: Vec<usize> = vec![over; m + 1];
    for i in 1..=n {
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(m);
        *budget = budget.checked_sub(hi + 2 - lo).ok_or(OutOfBudget)?;
        cur[lo - 1] = if lo == 1 { i.min(over) } else { over };
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && cost == 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d.min(over);
            row_min = row_min.min(cur[j]);
        }
        // The next row reads one cell past this row's band.
        if hi < m {
            cur[hi + 1] = over;
        }
        // Every path to the end passes through this row (or, by a transposition, through a
        // cell of the previous row one more than a cell of this one).
        if row_min > k {
            return Ok(None);
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(Some(prev[m]).filter(|&d| d <= k))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [&str; 6] = [
        "username",
        "firstname",
        "email",
        "lastname",
        "userName",
        "state",
    ];

    #[test]
    fn typos_are_suggested() {
        assert_eq!(
            did_you_mean("usrName", ["displayName", "userName"]),
            Some("userName")
        );
        assert_eq!(did_you_mean("firstName", FIELDS), Some("firstname"));
        assert_eq!(did_you_mean("emial", FIELDS), Some("email"));
        assert_eq!(did_you_mean("EMAIL", FIELDS), Some("email"));
        assert_eq!(did_you_mean("lastnme", FIELDS), Some("lastname"));
    }

    #[test]
    fn closest_wins_then_first() {
        // `usrname` is one edit from `username` and from `userName` (case is ignored): first wins.
        assert_eq!(did_you_mean("usrname", FIELDS), Some("username"));
        assert_eq!(
            did_you_mean("stat", ["start", "state", "stats"]),
            Some("start")
        );
        assert_eq!(did_you_mean("titel", ["tile", "title"]), Some("title"));
        assert_eq!(did_you_mean("abcd", ["abxy", "abcx"]), Some("abcx"));
    }

    #[test]
    fn unrelated_words_get_nothing() {
        assert_eq!(did_you_mean("zzz", FIELDS), None);
        assert_eq!(did_you_mean("phone", ["phoneNumbers"]), None);
        assert_eq!(did_you_mean("title", ["total"]), None);
        assert_eq!(did_you_mean("ab", ["id"]), None);
        assert_eq!(did_you_mean("department", ["description"]), None);
        assert_eq!(did_you_mean("", FIELDS), None);
        assert_eq!(did_you_mean("email", []), None);
        assert_eq!(did_you_mean(&"x".repeat(100_000), FIELDS), None);
    }

    /// The full-table OSA distance, the reference for the banded one.
    fn osa(a: &[char], b: &[char]) -> usize {
        let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn banded_distance_agrees_with_the_full_table() {
        // Every pair of strings over a three-letter alphabet up to length 5, every bound.
        let mut words: Vec<Vec<char>> = vec![Vec::new()];
        let mut level = words.clone();
        for _ in 0..5 {
            level = level
                .iter()
                .flat_map(|w| {
                    "abc".chars().map(move |c| {
                        let mut w = w.clone();
                        w.push(c);
                        w
                    })
                })
                .collect();
            words.extend(level.iter().cloned());
        }
        let sample: Vec<&Vec<char>> = words.iter().step_by(7).collect();
        for a in &sample {
            for b in &sample {
                let full = osa(a, b);
                for k in 0..=MAX_EDITS {
                    let mut budget = usize::MAX;
                    let banded = osa_within(a, b, k, &mut budget).ok().flatten();
                    assert_eq!(banded, Some(full).filter(|&d| d <= k), "{a:?} {b:?} k={k}");
                }
            }
        }
    }

    #[test]
    fn long_names_cost_a_band_not_a_square() {
        // A one-letter typo of a 300,000-character name: within the budget only if banded
        // (a full table would be 9·10¹⁰ cells). The budget stops the search on the long
        // candidate instead of growing with it.
        let long = "a".repeat(300_000);
        let typo = format!("{}b", &long[1..]);
        let mut budget = usize::MAX;
        let a: Vec<char> = long.chars().collect();
        let b: Vec<char> = typo.chars().collect();
        assert_eq!(osa_within(&a, &b, 3, &mut budget).ok(), Some(Some(1)));
        assert!(usize::MAX - budget <= 8 * 300_000);
        assert_eq!(did_you_mean(&typo, [long.as_str()]), None);
        // The same typo of a 10,000-character name fits the budget.
        let mid = "a".repeat(10_000);
        let typo = format!("{}b", &mid[1..]);
        assert_eq!(did_you_mean(&typo, [mid.as_str()]), Some(mid.as_str()));
    }

    #[test]
    fn a_search_has_a_fixed_budget_and_a_file_a_fixed_number() {
        const SEARCHES: usize = 1000;
        // 200,000 candidates of the name's length: the budget ends the scan early (the match
        // at the end is not reached), in bounded time.
        let many: Vec<String> = (0..200_000).map(|i| format!("q{i:07}")).collect();
        let mut candidates: Vec<&str> = many.iter().map(String::as_str).collect();
        candidates.push("zzzzzzzy");
        assert_eq!(did_you_mean("zzzzzzzz", candidates.iter().copied()), None);
        assert_eq!(
            did_you_mean("zzzzzzzz", ["zzzzzzzy"].iter().copied()),
            Some("zzzzzzzy")
        );

        let suggester = Suggester::new(SEARCHES);
        for _ in 0..SEARCHES {
            assert_eq!(suggester.did_you_mean("emial", FIELDS), Some("email"));
        }
        assert!(suggester.work.get() < FILE_BUDGET);
        let mut read = false;
        let candidates = FIELDS.iter().copied().inspect(|_| read = true);
        assert_eq!(suggester.did_you_mean("emial", candidates), None);
        assert!(!read, "no search, no candidate read");

        // Searches that use their whole budget exhaust the file's after FILE / SEARCH of them.
        let suggester = Suggester::new(SEARCHES);
        let hopeless = || many.iter().map(String::as_str);
        for _ in 0..FILE_BUDGET / SEARCH_BUDGET {
            assert_eq!(suggester.did_you_mean("zzzzzzzz", hopeless()), None);
        }
        assert_eq!(suggester.work.get(), 0);
        assert_eq!(suggester.did_you_mean("emial", FIELDS), None);
    }
}
