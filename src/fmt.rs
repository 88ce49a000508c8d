//! `scimap fmt`: the canonical layout of a mapping file (reference §cli-fmt).
//!
//! Two passes over the parsed file. First the gaps around binary operators and pipes become
//! single spaces (their places come from the syntax tree, so a `-` of `-x` or a `:` of a map is
//! never touched). Then, on the re-parsed text, every line is laid out again: indentation from
//! the file's structure, `=` and trailing comments aligned in runs of consecutive entries,
//! blank-line runs collapsed. Only blanks change, never a token; as a last guard the result is
//! parsed once more and its syntax tree (spans aside) compared with the original: formatting can
//! never change what a mapping evaluates to.
//!
//! Decisions where the contract is silent: a run of consecutive entries is broken by anything
//! that is not an entry (a blank line, a comment line, a `let`); inside a multi-line item, a
//! line is indented four spaces more per bracket open at its start (at least once), and a line
//! that starts by closing brackets goes back to the level they were opened at; multi-line raw
//! strings and block comments are kept byte for byte; `\r\n` becomes `\n` and a BOM is dropped.

use crate::diagnostic::{Diagnostic, Span};
use crate::limits::Limits;
use crate::mapping::CompileError;
use crate::syntax::ast::{self, Expr, ExprKind, Item, Source};
use crate::syntax::parser;

/// Targets longer than this do not push the `=` of their run further right.
const TARGET_WIDTH: usize = 40;
/// Lines longer than this do not push the trailing comments of their run further right.
const COMMENT_WIDTH: usize = 80;
const SECTION_INDENT: usize = 2;
const CONTINUATION: usize = 4;

/// Formats a mapping in the canonical layout. A file that does not parse is an error with its
/// diagnostics. Formatting is idempotent: `format(format(s)) == format(s)`.
///
/// ```
/// let out = scimap::fmt::format("user {\nuserName=lower(username)\n    active = state==\"ACTIVATED\"\n}\n").unwrap();
/// assert_eq!(out, "user {\n  userName = lower(username)\n  active   = state == \"ACTIVATED\"\n}\n");
/// ```
pub fn format(source: &str) -> Result<String, CompileError> {
    format_with(source, &Limits::default())
}

/// [`format`] within the given limits (`source-bytes` and `depth`, as `scimap check` applies
/// them).
pub fn format_with(source: &str, limits: &Limits) -> Result<String, CompileError> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let original = parser::parse_file(source, limits).map_err(|diagnostics| CompileError {
        diagnostics,
        source: source.to_string(),
    })?;
    let spaced = space_operators(source, &original);
    let out = match parser::parse_file(&spaced, limits) {
        Ok(tree) => layout(&spaced, &tree),
        Err(_) => layout(source, &original),
    };
    // The layout adds blanks: a mapping near `source-bytes` may format to more. Saying so
    // beats handing back the original, which `fmt --check` would call formatted.
    if out.len() > limits.source_bytes {
        let diagnostic = Diagnostic::error(
            "scimap::limit",
            Span::new(0, 0),
            format!(
                "formatted, the mapping would be {} bytes, over the limit `source-bytes` ({})",
                out.len(),
                limits.source_bytes
            ),
        )
        .with_help("split the mapping, or raise the limit with `--limit source-bytes=N`");
        return Err(CompileError {
            diagnostics: vec![diagnostic],
            source: source.to_string(),
        });
    }
    match parser::parse_file(&out, limits) {
        Ok(after)
            if shape(&after) == shape(&original)
                && comments(&out, &after) == comments(source, &original) =>
        {
            Ok(out)
        }
        _ => Ok(source.to_string()),
    }
}

/// The comments of a parsed text in order, each without the blanks that end its lines (the
/// layout may remove those, and `\r\n` becomes `\n`): formatting keeps every comment.
fn comments(text: &str, file: &ast::File) -> Vec<String> {
    lex(text, &direct_spans(file))
        .comments
        .iter()
        .map(|c| {
            text[c.start..c.end]
                .split('\n')
                .map(|line| line.trim_end_matches([' ', '\t', '\r']))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// Where the Direct sources (JSON Paths) are, in order: the lexer does not look inside them.
fn direct_spans(file: &ast::File) -> Vec<Span> {
    let mut directs: Vec<Span> = file
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .filter_map(|item| match item {
            Item::Entry(ast::Entry {
                source: Source::Direct(p),
                ..
            }) => Some(p.span),
            _ => None,
        })
        .collect();
    directs.sort_by_key(|s| s.start);
    directs
}

/// The syntax tree without its spans: what a mapping means, not where it is written.
fn shape(file: &ast::File) -> String {
    let text = format!("{file:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("Span { start: ") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find('}').map_or(rest.len(), |j| j + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------------
// Pass 1: single spaces around binary operators and pipes

fn space_operators(source: &str, file: &ast::File) -> String {
    let mut edits = Vec::new();
    walk(file, |e, _| operator_gap(e, source, &mut edits));
    edits.sort_by_key(|(span, _)| (span.start, span.end));
    edits.dedup_by_key(|(span, _)| *span);
    let mut out = String::with_capacity(source.len() + edits.len() * 2);
    let mut at = 0;
    for (span, text) in edits {
        if span.start < at {
            continue;
        }
        out.push_str(&source[at..span.start]);
        out.push_str(&text);
        at = span.end;
    }
    out.push_str(&source[at..]);
    out
}

/// Visits every expression of the file with its height in its tree (1 at an item's root),
/// without recursion: a tree is as high as the `depth` limit lets it be, which may be raised
/// far beyond what the stack holds.
fn walk<'f>(file: &'f ast::File, mut visit: impl FnMut(&'f Expr, usize)) {
    let mut stack: Vec<(&Expr, usize)> = file
        .sections
        .iter()
        .flat_map(|section| &section.items)
        .filter_map(|item| match item {
            Item::Let(l) => Some(&l.value),
            Item::Entry(ast::Entry {
                source: Source::Expr(x),
                ..
            }) => Some(x),
            Item::Entry(_) => None,
        })
        .map(|e| (e, 1))
        .collect();
    while let Some((e, height)) = stack.pop() {
        visit(e, height);
        e.for_each_child(|x| stack.push((x, height + 1)));
    }
}

/// The rewritten gap between the operands of a binary operator or a pipe.
fn operator_gap(e: &Expr, source: &str, edits: &mut Vec<(Span, String)>) {
    let gap = match &e.kind {
        ExprKind::Binary(_, l, r) => Span::new(blanks_before(source, l.span.end), r.span.start),
        // A pipe `x | f(a)` arrives as `f(x, a)` with `x` written before the name.
        ExprKind::Call { name, args } => match args.first() {
            Some(first) if first.span.end <= name.span.start => {
                Span::new(blanks_before(source, first.span.end), name.span.start)
            }
            _ => return,
        },
        _ => return,
    };
    if let Some(text) = spaced_gap(source, gap) {
        edits.push((gap, text));
    }
}

/// Where the blanks before `at` begin (an operand's span may end with blanks after it).
fn blanks_before(source: &str, at: usize) -> usize {
    let before = source.get(..at).unwrap_or("");
    before.trim_end_matches([' ', '\t']).len()
}

/// The gap between two operands holding only an operator and blanks, with one space on each
/// side; a line break after the operator (or before it, inside brackets) stays. None for any
/// other gap (a comment in it, operands out of order as in `a < b < c`).
fn spaced_gap(source: &str, gap: Span) -> Option<String> {
    let text = source.get(gap.start..gap.end)?;
    let op_start = text.find(|c: char| !c.is_whitespace())?;
    let op_end = text.trim_end().len();
    let op = &text[op_start..op_end];
    let operator_like = op
        .chars()
        .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\t' || "?*^/%+-.=!<>&|".contains(c));
    if !operator_like || op.contains("//") || op.contains("/*") || op.contains("::") {
        return None;
    }
    let before = &text[..op_start];
    let after = &text[op_end..];
    let mut out = if before.contains('\n') {
        before.to_string()
    } else {
        " ".to_string()
    };
    out.push_str(&op.split_whitespace().collect::<Vec<_>>().join(" "));
    if after.contains('\n') {
        out.push_str(after.trim_start_matches([' ', '\t']));
    } else {
        out.push(' ');
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Pass 2: lines

/// What the lexer found: comments, tokens spanning lines, and brackets (outside strings,
/// comments and JSON Paths).
struct Lexed {
    comments: Vec<Span>,
    /// Raw strings and block comments that contain a line break: kept byte for byte.
    long: Vec<(Span, bool)>,
    /// Position and +1/-1 of each bracket.
    brackets: Vec<(usize, i32)>,
}

fn lex(text: &str, opaque: &[Span]) -> Lexed {
    let bytes = text.as_bytes();
    let mut lexed = Lexed {
        comments: Vec::new(),
        long: Vec::new(),
        brackets: Vec::new(),
    };
    let mut opaque = opaque.iter().peekable();
    let mut i = 0;
    while i < bytes.len() {
        while opaque.peek().is_some_and(|s| s.end <= i) {
            opaque.next();
        }
        if let Some(s) = opaque.peek().filter(|s| s.start <= i) {
            i = s.end;
            continue;
        }
        let start = i;
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                loop {
                    match bytes
                        .get(i..)
                        .and_then(|r| r.iter().position(|&b| b == b'`'))
                    {
                        Some(p) if bytes.get(i + p + 1) == Some(&b'`') => i += p + 2,
                        Some(p) => {
                            i += p + 1;
                            break;
                        }
                        None => {
                            i = bytes.len();
                            break;
                        }
                    }
                }
                if text[start..i.min(text.len())].contains('\n') {
                    lexed
                        .long
                        .push((Span::new(start, i.min(text.len())), false));
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(text.len(), |p| i + p);
                lexed.comments.push(Span::new(start, i));
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |p| i + 2 + p + 2);
                lexed.comments.push(Span::new(start, i));
                if text[start..i].contains('\n') {
                    lexed.long.push((Span::new(start, i), true));
                }
            }
            b'(' | b'[' | b'{' => {
                lexed.brackets.push((i, 1));
                i += 1;
            }
            b')' | b']' | b'}' => {
                lexed.brackets.push((i, -1));
                i += 1;
            }
            _ => i += 1,
        }
    }
    lexed
}

/// How a line is laid out.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// Outside every item, at this indentation (blank and comment lines, `}` of a schema…).
    Free(usize),
    /// The first line of unit `n`.
    First(usize),
    /// A later line of unit `n`.
    Continued(usize),
    /// `user {` / `group {`.
    Header,
    /// The `}` closing a section.
    Close,
}

enum UnitKind {
    /// An entry (`create` and a space before the target of a create-only one), or a profile
    /// setting whose target is its key.
    Entry {
        target: Span,
        create: bool,
    },
    Let {
        name: Span,
    },
    Other,
}

/// An item, schema declaration or `app` header: its lines and how its first line is rebuilt.
struct Unit {
    kind: UnitKind,
    indent: usize,
    first: usize,
    last: usize,
}

/// One output line before trailing comments are placed.
struct Line {
    /// Kept byte for byte (inside a multi-line raw string or block comment).
    verbatim: Option<String>,
    indent: usize,
    /// For a first entry line: the target and the rest after its `=`, joined once the run's
    /// alignment is known.
    entry: Option<(String, String)>,
    code: String,
    comment: Option<String>,
    run: Option<usize>,
}

impl Line {
    fn width(&self) -> usize {
        self.indent + self.code.chars().count()
    }
}

fn layout(text: &str, file: &ast::File) -> String {
    let lexed = lex(text, &direct_spans(file));

    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
    let bounds = |n: usize| {
        let start = starts[n];
        let end = starts.get(n + 1).map_or(text.len(), |&s| s - 1);
        (start, end)
    };
    // Bracket depth at each line start.
    let mut depth = Vec::with_capacity(starts.len());
    let mut running = 0;
    let mut k = 0;
    for &s in &starts {
        while k < lexed.brackets.len() && lexed.brackets[k].0 < s {
            running += lexed.brackets[k].1;
            k += 1;
        }
        depth.push(running);
    }

    let mut units: Vec<Unit> = Vec::new();
    let mut roles = vec![Role::Free(0); starts.len()];
    // Bracket depth before an offset, from prefix sums.
    let mut prefix = Vec::with_capacity(lexed.brackets.len() + 1);
    prefix.push(0);
    for (k, (_, delta)) in lexed.brackets.iter().enumerate() {
        prefix.push(prefix[k] + delta);
    }
    let depth_at = |offset: usize| prefix[lexed.brackets.partition_point(|b| b.0 < offset)];
    // An item ends where its brackets are closed again: the span of an `if` expression stops
    // at its last value, before the block's `}`.
    let item_end = |span: Span| {
        let base = depth_at(span.start);
        let mut k = lexed.brackets.partition_point(|b| b.0 < span.end);
        let mut d = prefix[k];
        let mut end = span.end;
        while d > base && k < lexed.brackets.len() {
            d += lexed.brackets[k].1;
            end = lexed.brackets[k].0 + 1;
            k += 1;
        }
        end
    };
    let add_unit = |units: &mut Vec<Unit>, roles: &mut Vec<Role>, kind, indent, span: Span| {
        let first = line_of(span.start);
        let last = line_of(item_end(span).saturating_sub(1).max(span.start));
        let n = units.len();
        units.push(Unit {
            kind,
            indent,
            first,
            last,
        });
        roles[first] = Role::First(n);
        for role in roles.iter_mut().take(last + 1).skip(first + 1) {
            *role = Role::Continued(n);
        }
    };
    match (&file.app, &file.profile) {
        // The profile is laid out as a section: settings indented, their `=` aligned.
        (Some(_), Some(profile)) => {
            let header = line_of(profile.span.start);
            let close = line_of(profile.span.end.saturating_sub(1));
            for role in roles.iter_mut().take(close).skip(header + 1) {
                *role = Role::Free(SECTION_INDENT);
            }
            for setting in &profile.settings {
                let kind = UnitKind::Entry {
                    target: setting.key.span,
                    create: false,
                };
                add_unit(&mut units, &mut roles, kind, SECTION_INDENT, setting.span);
            }
            roles[close] = Role::Close;
            roles[header] = Role::Free(0);
        }
        (Some(app), None) => add_unit(&mut units, &mut roles, UnitKind::Other, 0, app.span),
        _ => {}
    }
    for decl in &file.schemas {
        add_unit(&mut units, &mut roles, UnitKind::Other, 0, decl.span);
    }
    for section in &file.sections {
        let header = line_of(section.keyword.start);
        let close = line_of(section.span.end.saturating_sub(1));
        for role in roles.iter_mut().take(close).skip(header + 1) {
            *role = Role::Free(SECTION_INDENT);
        }
        for item in &section.items {
            let (kind, span) = match item {
                Item::Entry(e) => (
                    UnitKind::Entry {
                        target: e.target.span,
                        create: e.create.is_some(),
                    },
                    e.span,
                ),
                Item::Let(l) => (UnitKind::Let { name: l.name.span }, l.span),
            };
            add_unit(&mut units, &mut roles, kind, SECTION_INDENT, span);
        }
        roles[close] = Role::Close;
        roles[header] = Role::Header;
    }

    // Runs of consecutive entries whose `=` can be aligned.
    let mut run_of = vec![None; units.len()];
    let mut runs = 0;
    let mut previous: Option<usize> = None;
    for (n, unit) in units.iter().enumerate() {
        let UnitKind::Entry { target, .. } = unit.kind else {
            previous = None;
            continue;
        };
        if assign_after(text, target.end).is_none() {
            previous = None;
            continue;
        }
        let run = match previous {
            Some(p) if units[p].last + 1 == unit.first => run_of[p],
            _ => {
                runs += 1;
                Some(runs - 1)
            }
        };
        run_of[n] = run;
        previous = Some(n);
    }

    let mut lines: Vec<Line> = Vec::with_capacity(starts.len());
    for (n, &role) in roles.iter().enumerate() {
        let (start, end) = bounds(n);
        lines.push(line(
            text, &lexed, start, end, n, role, &units, &run_of, &depth,
        ));
    }

    // `=` one space after the run's longest target of at most TARGET_WIDTH characters.
    let mut target_col = vec![0; runs];
    for l in &lines {
        if let (Some(r), Some((target, _))) = (l.run, &l.entry) {
            let w = target.chars().count();
            if w <= TARGET_WIDTH {
                target_col[r] = target_col[r].max(w);
            }
        }
    }
    for l in &mut lines {
        if let Some((target, rest)) = l.entry.take() {
            let w = target.chars().count();
            let pad = match l.run {
                Some(r) if w <= TARGET_WIDTH => target_col[r] - w + 1,
                _ => 1,
            };
            l.code = format!("{target}{}=", " ".repeat(pad));
            if !rest.is_empty() {
                l.code.push(' ');
                l.code.push_str(&rest);
            }
        }
    }
    // Trailing comments two spaces after the run's longest line of at most COMMENT_WIDTH.
    let mut comment_col = vec![0; runs];
    for l in &lines {
        if let Some(r) = l.run.filter(|_| l.verbatim.is_none()) {
            let w = l.width();
            if w <= COMMENT_WIDTH {
                comment_col[r] = comment_col[r].max(w);
            }
        }
    }

    let mut out = String::with_capacity(text.len());
    let mut blank = true;
    for l in &lines {
        if let Some(v) = &l.verbatim {
            out.push_str(v);
            out.push('\n');
            blank = false;
            continue;
        }
        if l.code.is_empty() && l.comment.is_none() {
            if !blank {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        blank = false;
        out.push_str(&" ".repeat(l.indent));
        out.push_str(&l.code);
        if let Some(c) = &l.comment {
            if !l.code.is_empty() {
                let w = l.width();
                let pad = match l.run {
                    Some(r) if w <= COMMENT_WIDTH => comment_col[r] - w + 2,
                    _ => 2,
                };
                out.push_str(&" ".repeat(pad));
            }
            out.push_str(c);
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// The `=` right after a target (only blanks between), on the same line.
fn assign_after(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?;
    let skip = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    (rest[skip..].starts_with('=')).then_some(at + skip)
}

#[allow(clippy::too_many_arguments)]
fn line(
    text: &str,
    lexed: &Lexed,
    start: usize,
    end: usize,
    n: usize,
    role: Role,
    units: &[Unit],
    run_of: &[Option<usize>],
    depth: &[i32],
) -> Line {
    let raw = &text[start..end];
    let mut out = Line {
        verbatim: None,
        indent: 0,
        entry: None,
        code: String::new(),
        comment: None,
        run: None,
    };
    // A line starting inside a multi-line raw string or block comment is content; one ending
    // inside keeps its end as written. Long tokens never overlap, so only neighbours matter.
    let after = lexed.long.partition_point(|(s, _)| s.start < start);
    if after > 0 && lexed.long[after - 1].0.end > start {
        out.verbatim = Some(raw.to_string());
        return out;
    }
    let open = lexed
        .long
        .get(after)
        .filter(|(s, _)| s.start < end && s.end > end);
    let trimmed_end = match open {
        Some(_) => end,
        None => start + raw.trim_end_matches([' ', '\t', '\r']).len(),
    };
    let first = start + (raw.len() - raw.trim_start_matches([' ', '\t', '\r']).len());
    if first >= trimmed_end {
        return out;
    }
    // The comments at the end of the line, blanks between them allowed (not after a raw
    // string left open: the rest of the line is its content).
    let mut code_end = trimmed_end;
    if !matches!(open, Some((_, false))) {
        let lo = lexed.comments.partition_point(|c| c.start < first);
        let hi = lexed.comments.partition_point(|c| c.start < trimmed_end);
        for c in lexed.comments[lo..hi].iter().rev() {
            let tail = text.get(c.end.min(code_end)..code_end).unwrap_or("");
            if c.end >= code_end || tail.trim().is_empty() {
                code_end = c.start;
            } else {
                break;
            }
        }
    }
    let code = match open {
        Some((_, false)) => &text[first..code_end],
        _ => text[first..code_end].trim_end_matches([' ', '\t']),
    };
    let code_end = first + code.len();
    if code_end < trimmed_end {
        out.comment = Some(text[code_end..trimmed_end].trim_start().to_string());
    }
    let closers = code
        .chars()
        .take_while(|c| matches!(c, ')' | ']' | '}' | ' ' | '\t'))
        .filter(|c| matches!(c, ')' | ']' | '}'))
        .count() as i32;
    out.code = code.to_string();
    match role {
        Role::Free(indent) => out.indent = indent,
        Role::Header => {
            out.code = normalize_header(code);
        }
        Role::Close => {}
        Role::Continued(u) => {
            let unit = &units[u];
            let d = depth[n] - depth[unit.first];
            let level = if closers > 0 { d - closers } else { d.max(1) };
            out.indent = unit.indent + CONTINUATION * level.max(0) as usize;
            out.run = run_of[u];
        }
        Role::First(u) => {
            let unit = &units[u];
            out.indent = unit.indent;
            out.run = run_of[u];
            match unit.kind {
                // Rebuilt only when the target starts the line: what is written before it (a
                // comment) stays where it is, and the line is not aligned.
                UnitKind::Entry { target, create }
                    if target.start == first
                        || create && text[first..target.start].trim() == "create" =>
                {
                    if let Some(eq) = assign_after(text, target.end).filter(|&eq| eq < code_end) {
                        let rest = text[eq + 1..code_end].trim_start_matches([' ', '\t']);
                        let name = &text[target.start..target.end];
                        let head = if create {
                            format!("create {name}")
                        } else {
                            name.to_string()
                        };
                        out.entry = Some((head, rest.into()));
                    }
                }
                UnitKind::Let { name } => {
                    let head = text.get(first..name.start).unwrap_or("");
                    if let (Some(eq), "let") = (assign_after(text, name.end), head.trim()) {
                        if eq < code_end {
                            let rest = text[eq + 1..code_end].trim_start_matches([' ', '\t']);
                            out.code = format!("let {} =", &text[name.start..name.end]);
                            if !rest.is_empty() {
                                out.code.push(' ');
                                out.code.push_str(rest);
                            }
                        }
                    }
                }
                UnitKind::Entry { .. } | UnitKind::Other => {}
            }
        }
    }
    out
}

/// `user{` and `user   {` become `user {`; anything else on the line stays.
fn normalize_header(code: &str) -> String {
    let word = code
        .find(|c: char| !c.is_ascii_alphabetic())
        .map_or(code, |i| &code[..i]);
    match code[word.len()..].trim() {
        "{" => format!("{word} {{"),
        "{}" => format!("{word} {{}}"),
        _ => code.to_string(),
    }
}
