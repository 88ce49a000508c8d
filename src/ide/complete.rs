//! Completion. Where the cursor is decides what is offered: the app profile's settings, a
//! section's SCIM targets, the fields of a `$.` path, or in an expression the record's fields,
//! the `let`s above, the functions, and inside a predicate `#`, `#index` and `.field`.
//!
//! The text being typed rarely parses, so the context is read from the text around the cursor
//! (which block, left or right of `=`, inside which call), and names from the tree of the rest
//! of the file ([`Analysis::tree_at`]).

use super::hover::{attribute_markdown, field_markdown, function_markdown, non_array, owner};
use super::{
    builtin_schemas, declared_schemas, record_of, target_paths, Analysis, Position, Range,
};
use crate::diagnostic::Span;
use crate::syntax::ast::{self, SectionKind};
use crate::types::Type;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// A record field.
    Field,
    /// A SCIM attribute path.
    Target,
    Function,
    /// A `let`, `#`, `#index`, `#acc`.
    Variable,
    Keyword,
    /// A canonical value, a setting's value.
    Value,
    /// An app profile setting.
    Setting,
}

/// One completion: `insert` replaces `range` (the word or path being typed).
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    /// A type or a signature.
    pub detail: Option<String>,
    /// Markdown.
    pub documentation: Option<String>,
    pub insert: String,
    pub range: Range,
}

/// Where in the file the cursor is.
enum Block {
    App,
    Schema,
    Section(SectionKind),
    Outside,
}

/// What a profile setting (check/profile.rs) takes.
fn setting_doc(name: &str) -> &'static str {
    match name {
        "update" => "`patch` or `put`: how the app takes changes",
        "updatable" => "the attributes the app lets change after creation",
        "patchOnly" => "the attributes the app changes only by PATCH",
        "groups" => "`true` or `false`: whether the app takes groups",
        "matching" => "the attribute the app matches existing users by",
        "maxPatchOperations" => "the most operations one PATCH request may hold",
        _ => "",
    }
}

const KEYWORDS: [&str; 15] = [
    "nil",
    "true",
    "false",
    "not",
    "and",
    "or",
    "in",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "if",
    "else",
    "let",
    "now",
];

impl Analysis {
    /// What may be written at `position`.
    pub fn completions(&self, position: Position) -> Vec<Completion> {
        let offset = self.offset(position);
        let text = &self.text;
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let before = &text[line_start..offset];
        if in_comment_or_string(before) {
            return self.in_string(before, offset);
        }
        match block_at(text, line_start) {
            Block::App => self.in_profile(before, offset),
            Block::Section(kind) => self.in_section(kind, before, offset, line_start),
            Block::Schema if before.contains(':') => {
                let word = word_span(before, offset, char::is_alphanumeric);
                crate::schema::DECLARABLE
                    .iter()
                    .map(|t| self.item(t.name(), CompletionKind::Value, None, None, word))
                    .collect()
            }
            Block::Schema | Block::Outside => Vec::new(),
        }
    }

    fn item(
        &self,
        label: impl Into<String>,
        kind: CompletionKind,
        detail: Option<String>,
        documentation: Option<String>,
        replace: Span,
    ) -> Completion {
        let label = label.into();
        Completion {
            insert: label.clone(),
            label,
            kind,
            detail,
            documentation,
            range: self.range(replace),
        }
    }

    fn in_profile(&self, before: &str, offset: usize) -> Vec<Completion> {
        let word = word_span(before, offset, |c| {
            c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
        });
        let Some((key, value)) = before.split_once('=') else {
            return crate::check::profile::SETTINGS
                .iter()
                .map(|k| {
                    let doc = Some(setting_doc(k).to_string());
                    self.item(*k, CompletionKind::Setting, None, doc, word)
                })
                .collect();
        };
        let values: Vec<&str> = match key.trim() {
            "update" => vec!["patch", "put"],
            "groups" => vec!["true", "false"],
            "updatable" | "patchOnly" | "matching" if !value.contains(']') => {
                let file = self.tree_at(offset);
                return self.targets(SectionKind::User, file.as_deref(), word, false);
            }
            _ => Vec::new(),
        };
        values
            .into_iter()
            .map(|v| self.item(v, CompletionKind::Value, None, None, word))
            .collect()
    }

    /// Inside a string: the canonical values of a filter's `type`.
    fn in_string(&self, before: &str, offset: usize) -> Vec<Completion> {
        let Some(open) = before.rfind('"') else {
            return Vec::new();
        };
        let head = &before[..open];
        let Some(filter) = head.rfind('[') else {
            return Vec::new();
        };
        let term = head[filter + 1..].trim_end();
        let Some(sub) = term.strip_suffix("eq").map(str::trim) else {
            return Vec::new();
        };
        let attr_start = head[..filter]
            .rfind(|c: char| !is_path_char(c))
            .map_or(0, |i| i + 1);
        let attr_name = &head[attr_start..filter];
        let kind = match block_at(&self.text, offset - before.len()) {
            Block::Section(kind) => kind,
            _ => return Vec::new(),
        };
        let replace = Span::new(offset - (before.len() - open - 1), offset);
        builtin_schemas(kind)
            .into_iter()
            .filter_map(|s| s.attribute(attr_name.rsplit(':').next().unwrap_or(attr_name)))
            .filter_map(|a| a.sub(sub))
            .flat_map(|a| a.canonical_values.iter())
            .map(|v| self.item(v.clone(), CompletionKind::Value, None, None, replace))
            .collect()
    }

    fn in_section(
        &self,
        kind: SectionKind,
        before: &str,
        offset: usize,
        line_start: usize,
    ) -> Vec<Completion> {
        let file = self.tree_at(offset);
        let file = file.as_deref();
        // Inside an item that started on an earlier line, or right of `=`: an expression.
        let continued = file
            .and_then(|f| f.sections.iter().find(|s| super::contains(s.span, offset)))
            .and_then(|s| {
                s.items.iter().find(|i| {
                    let span = super::item_span(i);
                    span.start < line_start && offset <= span.end
                })
            })
            .is_some();
        let assign = top_level_assign(before);
        if !continued && assign.is_none() {
            let trimmed = before.trim_start();
            if trimmed.starts_with("let ") {
                return Vec::new();
            }
            // A target may hold a filter's blanks: the word is all of it typed so far.
            let target = trimmed
                .strip_prefix("create ")
                .map_or(trimmed, str::trim_start);
            let word = Span::new(offset - target.len(), offset);
            let mut out = self.targets(kind, file, word, true);
            if !trimmed.contains(char::is_whitespace) {
                for k in ["let", "create"] {
                    out.push(self.item(k, CompletionKind::Keyword, None, None, word));
                }
            }
            return out;
        }
        let expression = match assign {
            Some(i) => before[i + 1..].trim_start(),
            None => before,
        };
        if let Some(path) = expression.strip_prefix("$") {
            return self.direct(kind, path, offset);
        }
        self.expression(kind, file, before, offset)
    }

    /// The attribute paths of a section (and of the file's declared schemas).
    fn targets(
        &self,
        kind: SectionKind,
        file: Option<&ast::File>,
        word: Span,
        with_filters: bool,
    ) -> Vec<Completion> {
        let declared = file.map(declared_schemas).unwrap_or_default();
        let mut schemas = builtin_schemas(kind);
        if kind == SectionKind::User {
            schemas.extend(declared.iter());
        }
        schemas
            .into_iter()
            .flat_map(|s| target_paths(s, kind))
            .filter(|t| with_filters || !t.path.contains('['))
            .map(|t| {
                let detail = format!(
                    "{}{}",
                    t.attribute.ty.name(),
                    if t.parent
                        .map_or(t.attribute.multi_valued, |p| p.multi_valued)
                    {
                        " (multi-valued)"
                    } else {
                        ""
                    }
                );
                self.item(
                    t.path,
                    CompletionKind::Target,
                    Some(detail),
                    Some(attribute_markdown(t.attribute, t.parent, t.schema)),
                    word,
                )
            })
            .collect()
    }

    /// `$.a.b` being typed: the fields at the path so far.
    fn direct(&self, kind: SectionKind, path: &str, offset: usize) -> Vec<Completion> {
        let Some(path) = path.strip_prefix('.') else {
            return Vec::new();
        };
        let mut parts: Vec<&str> = path.split('.').collect();
        let last = parts.pop().unwrap_or("");
        let mut ty = record_of(kind);
        for part in parts {
            let name = part.split('[').next().unwrap_or(part);
            let Type::Object(o) = non_array(ty) else {
                return Vec::new();
            };
            let Some(t) = o.field(name) else {
                return Vec::new();
            };
            ty = t;
        }
        let replace = Span::new(offset - last.len(), offset);
        self.fields(ty, replace, kind, None)
    }

    /// The fields of an object type (behind nullables and arrays), with their descriptions;
    /// inside a predicate (`element` names it), as `.field`s of its list's element.
    fn fields(
        &self,
        ty: &Type,
        replace: Span,
        kind: SectionKind,
        element: Option<&str>,
    ) -> Vec<Completion> {
        let Type::Object(o) = non_array(ty) else {
            return Vec::new();
        };
        let (prefix, owner) = match element {
            Some(name) => (".", format!("the element of `{name}`'s list")),
            None => ("", owner(o, kind)),
        };
        o.fields
            .iter()
            .map(|(name, t)| {
                self.item(
                    format!("{prefix}{name}"),
                    CompletionKind::Field,
                    Some(t.to_string()),
                    Some(field_markdown(&owner, o, name)),
                    replace,
                )
            })
            .collect()
    }

    fn expression(
        &self,
        kind: SectionKind,
        file: Option<&ast::File>,
        before: &str,
        offset: usize,
    ) -> Vec<Completion> {
        let word_start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| i + c_len(before, i));
        let word = Span::new(offset - (before.len() - word_start), offset);
        let head = &before[..word_start];
        let predicate = enclosing_predicate(before);
        // `x.` — the fields of x; `.` alone inside a predicate — those of the element.
        if let Some(receiver) = head.strip_suffix('.').or_else(|| head.strip_suffix("?.")) {
            let chain_start = receiver
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '#'))
                .map_or(0, |i| i + c_len(receiver, i));
            let chain = &receiver[chain_start..];
            let ty = if chain.is_empty() || chain == "#" {
                predicate
                    .as_ref()
                    .and_then(|(_, items)| self.chain_type(kind, file, items, offset))
                    .map(|t| non_array(&t).clone())
            } else {
                self.chain_type(kind, file, chain, offset)
            };
            return ty.map_or(Vec::new(), |t| self.fields(&t, word, kind, None));
        }
        let mut out = Vec::new();
        if let Some((name, items)) = &predicate {
            let mut vars = vec![("#", "the element"), ("#index", "its index")];
            if name == "reduce" {
                vars.push(("#acc", "the value so far"));
            }
            let hash = Span::new(
                word.start.saturating_sub(usize::from(head.ends_with('#'))),
                offset,
            );
            for (v, doc) in vars {
                out.push(self.item(
                    v,
                    CompletionKind::Variable,
                    None,
                    Some(format!("Inside the predicate of `{name}`: {doc}.")),
                    hash,
                ));
            }
            if let Some(t) = self.chain_type(kind, file, items, offset) {
                out.extend(self.fields(&t, word, kind, Some(name)));
            }
        }
        out.extend(self.fields(record_of(kind), word, kind, None));
        if let Some(file) = file {
            for (name, ty) in self.lets_before(file, offset) {
                out.push(self.item(
                    name,
                    CompletionKind::Variable,
                    ty.map(|t| t.to_string()),
                    Some("A `let` of this section.".into()),
                    word,
                ));
            }
        }
        for f in crate::functions() {
            let mut c = self.item(
                f.name.clone(),
                CompletionKind::Function,
                Some(f.signature.clone()),
                Some(function_markdown(f)),
                word,
            );
            c.insert = format!("{}(", f.name);
            out.push(c);
        }
        for k in KEYWORDS {
            out.push(self.item(k, CompletionKind::Keyword, None, None, word));
        }
        out
    }

    /// The section `let`s declared before `offset`, with their types.
    fn lets_before(&self, file: &ast::File, offset: usize) -> Vec<(String, Option<Type>)> {
        let Some(section) = file
            .sections
            .iter()
            .find(|s| super::contains(s.span, offset))
        else {
            return Vec::new();
        };
        let types: std::collections::HashMap<_, _> = self.let_types(file).into_iter().collect();
        section
            .items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Let(l) if l.span.end < offset => Some(l),
                _ => None,
            })
            .map(|l| (l.name.node.clone(), types.get(&l.name.span).cloned()))
            .collect()
    }

    /// The type of `a.b.c` (a record field or a `let`, then fields), `x ?? []` read as `x`.
    fn chain_type(
        &self,
        kind: SectionKind,
        file: Option<&ast::File>,
        chain: &str,
        offset: usize,
    ) -> Option<Type> {
        let chain = chain.trim();
        let chain = chain.split("??").next()?.trim();
        let mut names = chain.split('.').map(|n| n.trim_end_matches('?'));
        let first = names.next()?;
        let mut ty = match record_of(kind) {
            Type::Object(o) if o.field(first).is_some() => o.field(first)?.clone(),
            _ => {
                self.lets_before(file?, offset)
                    .into_iter()
                    .find(|(n, _)| n == first)?
                    .1?
            }
        };
        for name in names {
            let Type::Object(o) = non_array(&ty) else {
                return None;
            };
            ty = o.field(name)?.clone();
        }
        Some(ty)
    }
}

/// The block the line starting at `line_start` is in: the innermost `user {`, `group {`,
/// `app … {` or `schema … {` opened above it and not closed (strings and comments skipped).
fn block_at(text: &str, line_start: usize) -> Block {
    let mut depth = 0usize;
    let mut block = Block::Outside;
    let mut rest = &text[..line_start];
    let mut at_line_start = true;
    let mut line_text = "";
    while let Some(c) = rest.chars().next() {
        if at_line_start {
            line_text = rest.split('\n').next().unwrap_or("");
            at_line_start = false;
        }
        let skip = match c {
            '"' | '\'' | '`' => string_len(rest),
            '/' if rest.starts_with("//") => rest.find('\n').unwrap_or(rest.len()),
            '/' if rest.starts_with("/*") => rest[2..].find("*/").map_or(rest.len(), |i| i + 4),
            '{' | '(' | '[' => {
                if depth == 0 && c == '{' {
                    let word = line_text.trim_start();
                    block = if word.starts_with("user") {
                        Block::Section(SectionKind::User)
                    } else if word.starts_with("group") {
                        Block::Section(SectionKind::Group)
                    } else if word.starts_with("app") {
                        Block::App
                    } else if word.starts_with("schema") {
                        Block::Schema
                    } else {
                        Block::Outside
                    };
                }
                depth += 1;
                1
            }
            '}' | ')' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    block = Block::Outside;
                }
                1
            }
            '\n' => {
                at_line_start = true;
                1
            }
            c => c.len_utf8(),
        };
        rest = &rest[skip.min(rest.len())..];
    }
    if depth == 0 {
        Block::Outside
    } else {
        block
    }
}

/// The length of the string literal `s` starts with (to its end, or of `s` if unclosed).
fn string_len(s: &str) -> usize {
    let quote = s.as_bytes()[0];
    let mut i = 1;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Whether the end of a line's text is inside a string or a `//` comment.
fn in_comment_or_string(line: &str) -> bool {
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let skip = match c {
            '"' | '\'' | '`' => {
                let n = string_len(rest);
                if n < 2 || rest.as_bytes()[n - 1] != rest.as_bytes()[0] {
                    return true;
                }
                n
            }
            '/' if rest.starts_with("//") => return true,
            c => c.len_utf8(),
        };
        rest = &rest[skip.min(rest.len())..];
    }
    false
}

/// The `=` of an entry or a `let` on this line (outside brackets and strings; not `==`, `!=`,
/// `<=`, `>=`), by byte index.
fn top_level_assign(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => {
                i += string_len(&line[i..]);
                continue;
            }
            b'[' | b'(' | b'{' => depth += 1,
            b']' | b')' | b'}' => depth = depth.saturating_sub(1),
            b'=' if depth == 0 => {
                let prev = i.checked_sub(1).map(|j| bytes[j]);
                let next = bytes.get(i + 1);
                if !matches!(prev, Some(b'=' | b'!' | b'<' | b'>')) && next != Some(&b'=') {
                    return Some(i);
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The call the cursor is in when it is a predicate's (`map(items, …`): the function's name
/// and the text of its first argument.
fn enclosing_predicate(before: &str) -> Option<(String, String)> {
    let bytes = before.as_bytes();
    let mut depth = 0usize;
    let mut commas = 0;
    let mut first_comma = None;
    let mut i = bytes.len();
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b')' | b']' | b'}' => depth += 1,
            b'[' | b'{' if depth > 0 => depth -= 1,
            b'(' if depth > 0 => depth -= 1,
            b',' if depth == 0 => {
                commas += 1;
                first_comma = Some(i);
            }
            b'(' => {
                let name_start = before[..i]
                    .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map_or(0, |j| j + 1);
                let name = &before[name_start..i];
                if commas == 0 || crate::ir::Predicate::from_name(name).is_none() {
                    return None;
                }
                let items = &before[i + 1..first_comma?];
                return Some((name.to_string(), items.trim().to_string()));
            }
            b'=' if depth == 0 && i > 0 && !b"=!<>".contains(&bytes[i - 1]) => return None,
            _ => {}
        }
    }
    None
}

/// The span of the word being typed: the characters before `offset` that `part` accepts.
fn word_span(before: &str, offset: usize, part: impl Fn(char) -> bool) -> Span {
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| part(*c))
        .last()
        .map_or(before.len(), |(i, _)| i);
    Span::new(offset - (before.len() - start), offset)
}

/// A character of an attribute name as typed (`.` of sub-attributes, `:` of URNs).
fn is_path_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

/// The length of the character at byte `i`.
fn c_len(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(1, char::len_utf8)
}
