//! Expressions: resolve names, infer types, report mistakes, lower to IR nodes.

use super::patterns::PatternError;
use super::Shared;
use crate::diagnostic::{quote, Diagnostic, Span};
use crate::ir::{Node, Op, Predicate};
use crate::runtime::builtins;
use crate::runtime::time::Layout;
use crate::schema;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Pointer, UnaryOp};
use crate::types::{unify, Type, Want};
use std::collections::HashMap;
use std::sync::Arc;

/// A section `let` as the checker sees it.
pub struct SectionLet {
    pub name: String,
    pub ty: Type,
    pub span: Span,
    pub used: bool,
}

/// The `let`s of a section in order, found by name: a mapping may have a hundred thousand.
#[derive(Default)]
pub struct SectionLets {
    list: Vec<SectionLet>,
    by_name: HashMap<String, usize>,
}

impl SectionLets {
    /// Adds a `let` whose name is not taken yet.
    pub fn push(&mut self, l: SectionLet) {
        self.by_name.insert(l.name.clone(), self.list.len());
        self.list.push(l);
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn get(&self, i: usize) -> Option<&SectionLet> {
        self.list.get(i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SectionLet> {
        self.list.iter()
    }
}

enum Scope {
    Let {
        name: String,
        slot: usize,
        ty: Type,
    },
    /// A predicate body: `#` at `slot`, `#index` at `slot + 1`, `#acc` at `slot + 2`
    /// (`acc` is only `reduce`'s).
    Closure {
        slot: usize,
        element: Type,
        acc: Option<Type>,
    },
}

/// Checks the expressions of one section.
pub struct ExprChecker<'c> {
    pub source: &'c str,
    pub record: &'static Type,
    pub group: bool,
    pub lets: &'c mut SectionLets,
    /// The section's table of record fields read (`ir::Section::fields`).
    fields: &'c mut Vec<String>,
    pub diagnostics: &'c mut Vec<Diagnostic>,
    pub shared: &'c Shared,
    scopes: Vec<Scope>,
    /// Expressions known not to be nil here (`x != nil ? x.y : …`), by their path text.
    narrowed: Vec<String>,
    next_slot: usize,
    pub max_slot: usize,
    /// The whole expression being checked (`check_whole`): a `$` path inside it is answered
    /// with the whole written as an expression.
    whole: Option<Span>,
}

/// Result types of time and duration methods.
fn method_type(receiver: &Type, name: &str) -> Option<Type> {
    Some(match (receiver, name) {
        (
            Type::Time,
            "Year" | "Month" | "Day" | "Hour" | "Minute" | "Second" | "Nanosecond" | "Weekday"
            | "YearDay" | "Unix" | "UnixMilli" | "UnixMicro" | "UnixNano" | "Compare",
        ) => Type::Int,
        (Type::Time, "Add" | "AddDate" | "Truncate" | "Round" | "In" | "UTC" | "Local") => {
            Type::Time
        }
        (Type::Time, "Sub") => Type::Duration,
        (Type::Time, "Before" | "After" | "Equal" | "IsZero") => Type::Bool,
        (Type::Time, "Format" | "String") => Type::String,
        (Type::Location, "String") => Type::String,
        (Type::Time, "Location") => Type::Location,
        (Type::Duration, "Hours" | "Minutes" | "Seconds") => Type::Float,
        (Type::Duration, "Milliseconds" | "Microseconds" | "Nanoseconds") => Type::Int,
        (Type::Duration, "String") => Type::String,
        (Type::Duration, "Truncate" | "Round" | "Abs") => Type::Duration,
        (Type::Any, _) => Type::Any,
        _ => return None,
    })
}

/// Whether `==` can ever hold between values of these (non-nil) types, as Expr's checker sees it.
fn comparable(a: &Type, b: &Type) -> bool {
    use Type as T;
    let number = |t: &Type| matches!(t, T::Int | T::Float);
    matches!(a, T::Any | T::Nil)
        || matches!(b, T::Any | T::Nil)
        || (number(a) && number(b))
        || matches!(
            (a, b),
            (T::Array(_), T::Array(_)) | (T::Map | T::Object(_), T::Map | T::Object(_))
        )
        || a == b
}

fn node(op: Op, span: Span) -> Node {
    Node { op, span }
}

/// The path text of `x`, `x.y`, `x?.y` for narrowing.
fn path_key(e: &Expr) -> Option<String> {
    let mut names = Vec::new();
    let mut e = e;
    loop {
        match &e.kind {
            ExprKind::Ident(n) => {
                names.push(n.as_str());
                break;
            }
            ExprKind::Member { object, index, .. } => match &index.kind {
                ExprKind::Str(name) => {
                    names.push(name.as_str());
                    e = object;
                }
                _ => return None,
            },
            _ => return None,
        }
    }
    names.reverse();
    Some(names.join("."))
}

/// The paths a non-nil `a.b.c` proves non-nil: `a`, `a.b` and `a.b.c` (`a?.b != nil` means
/// `a` is there too).
fn with_prefixes(key: &str) -> impl Iterator<Item = String> + '_ {
    key.match_indices('.')
        .map(move |(i, _)| key[..i].to_string())
        .chain(std::iter::once(key.to_string()))
}

/// `x != nil` (or `nil != x`) → the path of x; `negated` for `x == nil`.
fn nil_test(cond: &Expr) -> Option<(String, bool)> {
    if let ExprKind::Binary(op @ (BinaryOp::Ne | BinaryOp::Eq), l, r) = &cond.kind {
        let other = match (&l.kind, &r.kind) {
            (_, ExprKind::Nil) => l,
            (ExprKind::Nil, _) => r,
            _ => return None,
        };
        return path_key(other).map(|k| (k, *op == BinaryOp::Eq));
    }
    None
}

impl<'c> ExprChecker<'c> {
    /// A checker for a `user` or a `group` section's expressions.
    pub fn new(
        source: &'c str,
        group: bool,
        lets: &'c mut SectionLets,
        fields: &'c mut Vec<String>,
        diagnostics: &'c mut Vec<Diagnostic>,
        shared: &'c Shared,
    ) -> Self {
        ExprChecker {
            source,
            record: if group {
                schema::group_record()
            } else {
                schema::user_record()
            },
            group,
            lets,
            fields,
            diagnostics,
            shared,
            scopes: Vec::new(),
            narrowed: Vec::new(),
            next_slot: 0,
            max_slot: 0,
            whole: None,
        }
    }

    /// Checks and lowers a whole source or `let` value (see `check`).
    pub fn check_whole(&mut self, e: &Expr) -> (Node, Type) {
        let outer = self.whole.replace(e.span);
        let checked = self.check(e);
        self.whole = outer;
        checked
    }

    /// The source text of a span for a message: its first 39 characters and `…` if longer.
    fn text(&self, span: Span) -> Box<str> {
        let t = self.source.get(span.start..span.end).unwrap_or("");
        // Looks at 41 characters at most, whatever the span's length.
        match t.char_indices().nth(40) {
            Some(_) => {
                let cut = t.char_indices().nth(39).map_or(t.len(), |(i, _)| i);
                format!("{}…", &t[..cut]).into_boxed_str()
            }
            None => t.into(),
        }
    }

    fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn maybe_nil(&mut self, span: Span, what: &str, t: &Type) {
        if t.is_nullable() {
            let text = self.text(span);
            let subject = crate::syntax::grouped(&text);
            // Member access and method calls have `?.`; values have a default of their type.
            let help = if what.contains("member") || what.contains("method") {
                format!("use `?.` to get nil instead of an error, or test `{subject} != nil` first")
            } else {
                let default = match t.non_nil() {
                    Type::String => "\"\"",
                    Type::Int => "0",
                    Type::Float => "0.0",
                    Type::Bool => "false",
                    Type::Array(_) => "[]",
                    Type::Map | Type::Object(_) => "{}",
                    _ => "…",
                };
                format!(
                    "give it a default, `({subject} ?? {default})`, or test `{subject} != nil` first"
                )
            };
            self.error(
                Diagnostic::warning(
                    "scimap::maybe-nil",
                    span,
                    format!("`{text}` may be nil here, {what}"),
                )
                .with_label(format!("this is `{t}`"))
                .with_help(help),
            );
        }
    }

    fn alloc(&mut self, n: usize) -> usize {
        let slot = self.next_slot;
        self.next_slot += n;
        self.max_slot = self.max_slot.max(self.next_slot);
        slot
    }

    /// Checks and lowers one expression.
    pub fn check(&mut self, e: &Expr) -> (Node, Type) {
        let checked = self.check_kind(e);
        if let Some(probe) = &self.shared.probe {
            probe.record(e.span, &checked.1);
        }
        checked
    }

    fn check_kind(&mut self, e: &Expr) -> (Node, Type) {
        let span = e.span;
        match &e.kind {
            ExprKind::Nil => (node(Op::Nil, span), Type::Nil),
            ExprKind::Bool(b) => (node(Op::Bool(*b), span), Type::Bool),
            ExprKind::Int(i) => (node(Op::Int(*i), span), Type::Int),
            ExprKind::Float(f) => (node(Op::Float(*f), span), Type::Float),
            ExprKind::Str(s) => (node(Op::Str(s.as_str().into()), span), Type::String),
            ExprKind::Ident(name) => self.ident(name, span),
            ExprKind::Pointer(p) => self.pointer(*p, span),
            ExprKind::PointerField(field) => {
                let (elem, ty) = self.pointer(Pointer::Element, span);
                let t = self.member_type(&ty, field, span, false, false);
                let member = Op::Member {
                    object: Box::new(elem),
                    index: Box::new(node(Op::Str(field.as_str().into()), span)),
                    optional: false,
                    object_text: "#".into(),
                };
                (node(member, span), t)
            }
            ExprKind::Array(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                let mut ty: Option<Type> = None;
                for item in items {
                    let (n, t) = self.check(item);
                    ty = Some(match ty {
                        None => t,
                        Some(u) => unify(&u, &t),
                    });
                    nodes.push(n);
                }
                (
                    node(Op::Array(nodes), span),
                    Type::Array(Box::new(ty.unwrap_or(Type::Any))),
                )
            }
            ExprKind::Map(entries) => {
                let mut nodes = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let (kn, kt) = self.check(k);
                    if !matches!(kt.non_nil(), Type::String | Type::Any) {
                        self.error(Diagnostic::error(
                            "scimap::type-mismatch",
                            k.span,
                            format!("a map key must be a string, found {kt}"),
                        ));
                    }
                    let (vn, _) = self.check(v);
                    nodes.push((kn, vn));
                }
                (node(Op::Map(nodes), span), Type::Map)
            }
            ExprKind::Unary(op, operand) => self.unary(*op, operand, span),
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, span),
            ExprKind::Member {
                object,
                index,
                optional,
            } => self.member(object, index, *optional, span),
            ExprKind::Slice { object, from, to } => {
                let (on, ot) = self.check(object);
                self.maybe_nil(object.span, "and slicing nil fails", &ot);
                let bound = |b: &Option<Box<Expr>>, me: &mut Self| {
                    b.as_ref().map(|b| {
                        let (n, t) = me.check(b);
                        if !Want::Int.accepts(&t) {
                            me.error(Diagnostic::error(
                                "scimap::type-mismatch",
                                b.span,
                                format!("a slice bound must be an integer, found {t}"),
                            ));
                        }
                        Box::new(n)
                    })
                };
                let from = bound(from, self);
                let to = bound(to, self);
                let ty = match ot.non_nil() {
                    Type::String => Type::String,
                    t @ Type::Array(_) => t.clone(),
                    Type::Any => Type::Any,
                    t => {
                        let t = t.clone();
                        self.error(Diagnostic::error(
                            "scimap::type-mismatch",
                            span,
                            format!("cannot slice a value of type {t}"),
                        ));
                        Type::Any
                    }
                };
                (
                    node(
                        Op::Slice {
                            object: Box::new(on),
                            from,
                            to,
                        },
                        span,
                    ),
                    ty,
                )
            }
            ExprKind::Call { name, args } => self.call(&name.node, name.span, args, span),
            ExprKind::Method {
                receiver,
                name,
                args,
                optional,
            } => self.method(receiver, &name.node, name.span, args, *optional, span),
            ExprKind::Closure(body) => {
                self.error(Diagnostic::error(
                    "scimap::closure-outside-predicate",
                    span,
                    "a `{ … }` predicate is only allowed as the predicate argument of a builtin such as `filter`",
                ));
                self.check(body)
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                let (cn, ct) = self.check(cond);
                self.expect_bool(&ct, cond.span, "a condition");
                let narrow = nil_test(cond);
                let depth = self.narrowed.len();
                if let Some((k, false)) = &narrow {
                    self.narrowed.extend(with_prefixes(k));
                }
                let (tn, tt) = self.check(then);
                self.narrowed.truncate(depth);
                if let Some((k, true)) = &narrow {
                    self.narrowed.extend(with_prefixes(k));
                }
                let (en, et) = self.check(otherwise);
                self.narrowed.truncate(depth);
                let ty = unify(&empty_list_as(&tn, &tt, &et), &empty_list_as(&en, &et, &tt));
                (
                    node(
                        Op::Conditional {
                            cond: Box::new(cn),
                            then: Box::new(tn),
                            otherwise: Box::new(en),
                        },
                        span,
                    ),
                    ty,
                )
            }
            ExprKind::Let { name, value, body } => {
                let (vn, vt) = self.check(value);
                self.check_shadowing(&name.node, name.span);
                let slot = self.alloc(1);
                self.scopes.push(Scope::Let {
                    name: name.node.clone(),
                    slot,
                    ty: vt,
                });
                let (bn, bt) = self.check(body);
                self.scopes.pop();
                (
                    node(
                        Op::Let {
                            slot,
                            value: Box::new(vn),
                            body: Box::new(bn),
                        },
                        span,
                    ),
                    bt,
                )
            }
            ExprKind::Sequence(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                let mut ty = Type::Nil;
                for item in items {
                    let (n, t) = self.check(item);
                    nodes.push(n);
                    ty = t;
                }
                (node(Op::Sequence(nodes), span), ty)
            }
        }
    }

    fn check_shadowing(&mut self, name: &str, span: Span) {
        if self.record_field(name).is_some()
            || builtins::lookup(name).is_some()
            || Predicate::from_name(name).is_some()
            || self.lets.position(name).is_some()
            || self
                .scopes
                .iter()
                .any(|s| matches!(s, Scope::Let { name: n, .. } if n == name))
        {
            self.error(
                Diagnostic::error(
                    "scimap::shadowing",
                    span,
                    format!(
                        "`{}` is already a record field, a builtin or a `let`",
                        quote(name)
                    ),
                )
                .with_label("a `let` may not hide another name")
                .with_help("choose another name"),
            );
        }
    }

    fn record_field(&self, name: &str) -> Option<&'static Type> {
        match self.record {
            Type::Object(o) => o.field(name),
            _ => None,
        }
    }

    fn expect_bool(&mut self, t: &Type, span: Span, what: &str) {
        if !matches!(t.non_nil(), Type::Bool | Type::Any) {
            self.error(
                Diagnostic::error(
                    "scimap::type-mismatch",
                    span,
                    format!("{what} must be a bool, found {t}"),
                )
                .with_label(format!("this is `{t}`"))
                .with_help("compare it to get a bool, e.g. `x != \"\"` or `x == \"ACTIVATED\"`"),
            );
        } else if t.is_nullable() {
            self.maybe_nil(span, "and nil is not a bool", t);
        }
    }

    fn ident(&mut self, name: &str, span: Span) -> (Node, Type) {
        if name == "$env" {
            return (node(Op::Env, span), self.record.clone());
        }
        if name == "$" {
            let whole = self.whole.unwrap_or(span);
            let text = self.source.get(whole.start..whole.end).unwrap_or("$");
            self.error(
                Diagnostic::error(
                    "scimap::bad-path",
                    span,
                    "a Direct path (`$…`) stands alone as a whole source: it cannot be part of \
                     an expression",
                )
                .with_label("a path inside an expression")
                .with_help(super::path::expression_help(text)),
            );
            return (node(Op::Nil, span), Type::Any);
        }
        // `x != nil ? x : …` narrows a `let` as well as a record field.
        let narrow = |t: &Type| {
            if self.narrowed.iter().any(|k| k == name) {
                t.non_nil().clone()
            } else {
                t.clone()
            }
        };
        for scope in self.scopes.iter().rev() {
            if let Scope::Let { name: n, slot, ty } = scope {
                if n == name {
                    return (node(Op::Local(*slot), span), narrow(ty));
                }
            }
        }
        if let Some(i) = self.lets.position(name) {
            let ty = narrow(&self.lets.list[i].ty);
            self.lets.list[i].used = true;
            return (node(Op::SectionLet(i), span), ty);
        }
        if let Some(t) = self.record_field(name) {
            // A field of the record schema: the table stays as small as the schema.
            let slot = match self.fields.iter().position(|f| f == name) {
                Some(slot) => slot,
                None => {
                    self.fields.push(name.to_string());
                    self.fields.len() - 1
                }
            };
            return (node(Op::Field(slot), span), narrow(t));
        }
        let fields = match self.record {
            Type::Object(o) => &o.fields[..],
            _ => &[],
        };
        let scope_names = self.scopes.iter().filter_map(|s| match s {
            Scope::Let { name, .. } => Some(name.as_str()),
            _ => None,
        });
        let candidates = fields
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.lets.iter().map(|l| l.name.as_str()))
            .chain(scope_names);
        let suggestion = self.shared.suggest.did_you_mean(name, candidates);
        let record = if self.group { "group" } else { "user" };
        let mut d = Diagnostic::error(
            "scimap::unknown-field",
            span,
            format!(
                "unknown name `{}`: not a field of the JumpCloud {record} record",
                quote(name)
            ),
        )
        .with_label("not a known field");
        d = match suggestion {
            Some(s) => d.with_help(format!("did you mean `{}`?", quote(s))),
            None => d.with_help("`$env[\"name\"]` reads a field the schema does not know"),
        };
        self.error(d);
        (node(Op::Nil, span), Type::Any)
    }

    fn pointer(&mut self, p: Pointer, span: Span) -> (Node, Type) {
        let closure = self.scopes.iter().rev().find_map(|s| match s {
            Scope::Closure { slot, element, acc } => Some((*slot, element.clone(), acc.clone())),
            _ => None,
        });
        let Some((slot, element, acc)) = closure else {
            let what = match p {
                Pointer::Element => "`#` and `.field`",
                Pointer::Index => "`#index`",
                Pointer::Acc => "`#acc`",
            };
            self.error(
                Diagnostic::error(
                    "scimap::pointer-outside-predicate",
                    span,
                    format!("{what} only exist inside a predicate"),
                )
                .with_help("use them in the predicate of a builtin such as `filter(xs, .name == \"x\")`; `//` starts a comment"),
            );
            return (node(Op::Nil, span), Type::Any);
        };
        match (p, acc) {
            (Pointer::Element, _) => (node(Op::Local(slot), span), element),
            (Pointer::Index, _) => (node(Op::Local(slot + 1), span), Type::Int),
            (Pointer::Acc, Some(acc)) => (node(Op::Local(slot + 2), span), acc),
            (Pointer::Acc, None) => {
                self.error(Diagnostic::error(
                    "scimap::pointer-outside-predicate",
                    span,
                    "`#acc` only exists in the predicate of `reduce`",
                ));
                (node(Op::Nil, span), Type::Any)
            }
        }
    }

    /// The type of `.field` on a value of type `t`.
    fn member_type(
        &mut self,
        t: &Type,
        field: &str,
        span: Span,
        optional: bool,
        lenient: bool,
    ) -> Type {
        let ty = match t.non_nil() {
            Type::Object(o) => match o.field(field) {
                Some(ft) => ft.clone(),
                None if lenient => Type::Any,
                None => {
                    let mut d = Diagnostic::error(
                        "scimap::unknown-field",
                        span,
                        format!("`{}` has no field `{}`", o.name, quote(field)),
                    )
                    .with_label("not a known field");
                    let fields = o.fields.iter().map(|(n, _)| n.as_str());
                    if let Some(s) = self.shared.suggest.did_you_mean(field, fields) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.error(d);
                    Type::Any
                }
            },
            Type::Map | Type::Any => Type::Any,
            Type::Nil => Type::Nil,
            other => {
                let other = other.clone();
                self.error(Diagnostic::error(
                    "scimap::type-mismatch",
                    span,
                    format!("a value of type {other} has no field `{}`", quote(field)),
                ));
                Type::Any
            }
        };
        if optional && t.is_nullable() {
            ty.nullable()
        } else {
            ty
        }
    }

    fn member(&mut self, object: &Expr, index: &Expr, optional: bool, span: Span) -> (Node, Type) {
        let (on, ot) = self.check(object);
        let lenient = matches!(&object.kind, ExprKind::Ident(n) if n == "$env");
        // Only while something is narrowed: the key costs the length of the chain.
        let narrowed = !self.narrowed.is_empty()
            && match &index.kind {
                ExprKind::Str(name) => {
                    path_key(object).is_some_and(|k| self.narrowed.contains(&format!("{k}.{name}")))
                }
                _ => false,
            };
        if !optional {
            if ot == Type::Nil {
                self.error(Diagnostic::error(
                    "scimap::nil-access",
                    object.span,
                    "this is always nil: it has no members",
                ));
            }
            self.maybe_nil(object.span, "and reading a member of nil fails", &ot);
        }
        let (index_node, ty) = match &index.kind {
            ExprKind::Str(field) => {
                let t = self.member_type(&ot, field, index.span, optional, lenient);
                (node(Op::Str(field.as_str().into()), index.span), t)
            }
            _ => {
                let (inode, it) = self.check(index);
                let t = match ot.non_nil() {
                    Type::Array(elem) => {
                        if !Want::Int.accepts(&it) {
                            self.error(Diagnostic::error(
                                "scimap::type-mismatch",
                                index.span,
                                format!("array elements can only be selected using an integer, found {it}"),
                            ));
                        }
                        (**elem).clone()
                    }
                    Type::String => {
                        self.error(
                            Diagnostic::error(
                                "scimap::string-index",
                                span,
                                "a string cannot be indexed",
                            )
                            .with_help(
                                "take a slice such as `s[0:1]`, or use `first(split(s, \"\"))`",
                            ),
                        );
                        Type::Any
                    }
                    Type::Object(_) | Type::Map | Type::Any => Type::Any,
                    // `nil?.[0]` is nil; `nil[0]` fails at run time like any nil access.
                    Type::Nil => Type::Nil,
                    // `[nil, 3][0]?.[1]` is nil, as in Expr, whose checker cannot type the
                    // item; an item that is not nil fails at run time there as here.
                    _ if optional && ot.is_nullable() => Type::Any,
                    other => {
                        let other = other.clone();
                        self.error(Diagnostic::error(
                            "scimap::type-mismatch",
                            span,
                            format!("a value of type {other} cannot be indexed"),
                        ));
                        Type::Any
                    }
                };
                let t = if optional && ot.is_nullable() {
                    t.nullable()
                } else {
                    t
                };
                (inode, t)
            }
        };
        let ty = if narrowed { ty.non_nil().clone() } else { ty };
        (
            node(
                Op::Member {
                    object: Box::new(on),
                    index: Box::new(index_node),
                    optional,
                    object_text: self.text(object.span),
                },
                span,
            ),
            ty,
        )
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr, span: Span) -> (Node, Type) {
        let (n, t) = self.check(operand);
        let ty = match op {
            UnaryOp::Not => {
                self.expect_bool(&t, operand.span, "the operand of `not`");
                Type::Bool
            }
            UnaryOp::Neg | UnaryOp::Plus => match t.non_nil() {
                Type::Int | Type::Float | Type::Duration | Type::Any => {
                    self.maybe_nil(operand.span, "and arithmetic on nil fails", &t);
                    t.non_nil().clone()
                }
                other => {
                    let other = other.clone();
                    self.error(Diagnostic::error(
                        "scimap::type-mismatch",
                        span,
                        format!("unary minus or plus needs a number, found {other}"),
                    ));
                    Type::Any
                }
            },
        };
        (node(Op::Unary(op, Box::new(n)), span), ty)
    }

    fn mismatch(&mut self, op: BinaryOp, l: &Type, r: &Type, span: Span) -> Type {
        let (a, b) = (l.non_nil(), r.non_nil());
        let help = match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                "values of different types are never equal; convert one side with `string(…)`, `int(…)` or `float(…)`"
            }
            BinaryOp::Add if matches!(a, Type::String) || matches!(b, Type::String) => {
                "there is no implicit conversion; write `string(…)` around the other operand"
            }
            _ => "convert an operand with `string(…)`, `int(…)` or `float(…)` so both have one type",
        };
        self.error(
            Diagnostic::error(
                "scimap::type-mismatch",
                span,
                format!(
                    "invalid operation: {} (mismatched types {a} and {b})",
                    op.symbol()
                ),
            )
            .with_label(format!("{a} {} {b}", op.symbol()))
            .with_help(help),
        );
        Type::Any
    }

    fn binary(&mut self, op: BinaryOp, l: &Expr, r: &Expr, span: Span) -> (Node, Type) {
        use BinaryOp::*;
        use Type as T;
        if op == Matches || op == NotMatches {
            if let ExprKind::Str(pattern) = &r.kind {
                let (ln, lt) = self.check(l);
                self.operand_str(op, &lt, l.span);
                let regex_bytes = self.shared.patterns.regex_bytes;
                let regex = match self.shared.patterns.compile(pattern) {
                    Ok(re) => re,
                    Err(PatternError::TooBig) => {
                        self.error(
                            Diagnostic::error(
                                "scimap::limit",
                                r.span,
                                format!(
                                    "this regular expression compiles to more than the limit `regex-bytes` ({regex_bytes})"
                                ),
                            )
                            .with_help("simplify the pattern, or raise the limit with `--limit regex-bytes=N`"),
                        );
                        return (node(Op::Nil, span), T::Bool);
                    }
                    Err(PatternError::FileBudget) => {
                        self.error(
                            Diagnostic::error(
                                "scimap::limit",
                                r.span,
                                format!(
                                    "the regular expressions of this mapping compile to more than {} times the limit `regex-bytes` ({regex_bytes})",
                                    super::patterns::FILE_FACTOR
                                ),
                            )
                            .with_help("use fewer or simpler patterns, or raise the limit with `--limit regex-bytes=N`"),
                        );
                        return (node(Op::Nil, span), T::Bool);
                    }
                    Err(PatternError::Invalid(e)) => {
                        self.error(Diagnostic::error(
                            "scimap::bad-regex",
                            r.span,
                            format!("invalid regular expression: {}", quote(regex_reason(&e))),
                        ));
                        return (node(Op::Nil, span), T::Bool);
                    }
                };
                return (
                    node(
                        Op::MatchesConst {
                            subject: Box::new(ln),
                            regex,
                            negate: op == NotMatches,
                        },
                        span,
                    ),
                    T::Bool,
                );
            }
        }
        if let (Mod, ExprKind::Int(0)) = (op, &r.kind) {
            self.divide_by_zero(r.span);
        }
        let (ln, lt) = self.check(l);
        // `x != nil && x.y` narrows x on the right; `x == nil || x.y` too.
        let depth = self.narrowed.len();
        match (op, nil_test(l)) {
            (And, Some((k, false))) | (Or, Some((k, true))) => {
                self.narrowed.extend(with_prefixes(&k))
            }
            _ => {}
        }
        let (rn, rt) = self.check(r);
        self.narrowed.truncate(depth);
        let (a, b) = (lt.non_nil(), rt.non_nil());
        let ty = match op {
            Add | Sub | Mul | Div | Mod | Pow => {
                let what = if op == Add && (a == &T::String || b == &T::String) {
                    "and concatenating nil fails"
                } else {
                    "and arithmetic on nil fails"
                };
                self.maybe_nil(l.span, what, &lt);
                self.maybe_nil(r.span, what, &rt);
                match (op, a, b) {
                    (_, T::Any, _) | (_, _, T::Any) => T::Any,
                    (Div | Pow, T::Int | T::Float, T::Int | T::Float) => T::Float,
                    (Mod, T::Int, T::Int) => T::Int,
                    (Add | Sub | Mul, T::Int, T::Int) => T::Int,
                    (Add | Sub | Mul, T::Int | T::Float, T::Int | T::Float) => T::Float,
                    (Add, T::String, T::String) => T::String,
                    (Add, T::Time, T::Duration) | (Add, T::Duration, T::Time) => T::Time,
                    (Sub, T::Time, T::Duration) => T::Time,
                    (Sub, T::Time, T::Time) => T::Duration,
                    (Add | Sub, T::Duration, T::Duration) => T::Duration,
                    // As Expr's run time: by an integer or a Duration, a Duration; by a float,
                    // a float of nanoseconds.
                    (Mul, T::Duration, T::Int | T::Duration) | (Mul, T::Int, T::Duration) => {
                        T::Duration
                    }
                    (Mul, T::Duration, T::Float) | (Mul, T::Float, T::Duration) => T::Float,
                    _ => self.mismatch(op, &lt, &rt, span),
                }
            }
            Eq | Ne => {
                let comparable = match (a, b) {
                    (T::Any, _) | (_, T::Any) | (T::Nil, _) | (_, T::Nil) => true,
                    (T::Int | T::Float, T::Int | T::Float) => true,
                    (T::Object(_) | T::Map, T::Object(_) | T::Map) => true,
                    (T::Array(_), T::Array(_)) => true,
                    (x, y) => std::mem::discriminant(x) == std::mem::discriminant(y),
                };
                if !comparable {
                    self.mismatch(op, &lt, &rt, span);
                }
                T::Bool
            }
            Lt | Le | Gt | Ge => {
                self.maybe_nil(l.span, "and comparing nil fails", &lt);
                self.maybe_nil(r.span, "and comparing nil fails", &rt);
                match (a, b) {
                    (T::Any, _) | (_, T::Any) => {}
                    (T::Int | T::Float, T::Int | T::Float) => {}
                    (T::String, T::String) | (T::Time, T::Time) | (T::Duration, T::Duration) => {}
                    _ => {
                        self.mismatch(op, &lt, &rt, span);
                    }
                }
                T::Bool
            }
            And | Or => {
                self.expect_bool(&lt, l.span, "an operand of `and`/`or`");
                self.expect_bool(&rt, r.span, "an operand of `and`/`or`");
                T::Bool
            }
            In | NotIn => {
                if !matches!(b, T::Array(_) | T::Map | T::Object(_) | T::Any | T::Nil) {
                    self.error(Diagnostic::error(
                        "scimap::type-mismatch",
                        r.span,
                        format!("operator `in` needs an array or a map on its right, found {rt}"),
                    ));
                }
                // As Expr's checker: an item of another type, or a key that is not a string,
                // can never be found.
                let never = match b {
                    // An array literal holding a nil is Expr's `[]interface{}`: anything goes.
                    T::Array(item) => !item.is_nullable() && !comparable(a, item),
                    T::Map | T::Object(_) => !matches!(lt.non_nil(), T::String | T::Any),
                    _ => false,
                };
                if never {
                    self.error(Diagnostic::error(
                        "scimap::type-mismatch",
                        l.span,
                        format!("operator `in` cannot find {lt} in {rt}"),
                    ));
                }
                T::Bool
            }
            Matches | NotMatches | Contains | NotContains | StartsWith | NotStartsWith
            | EndsWith | NotEndsWith => {
                self.operand_str(op, &lt, l.span);
                self.operand_str(op, &rt, r.span);
                T::Bool
            }
            Range => {
                for (t, s) in [(&lt, l.span), (&rt, r.span)] {
                    if !Want::Int.accepts(t) {
                        self.error(Diagnostic::error(
                            "scimap::type-mismatch",
                            s,
                            format!("a range bound must be an integer, found {t}"),
                        ));
                    }
                }
                T::Array(Box::new(T::Int))
            }
            Coalesce => {
                let rt = empty_list_as(&rn, &rt, &lt);
                if lt == T::Nil {
                    rt.clone()
                } else if lt.is_nullable() || lt == T::Any {
                    unify(a, &rt)
                } else {
                    lt.clone()
                }
            }
        };
        if op == Add && ty == T::String {
            return (concat(ln, rn, span), ty);
        }
        if matches!(op, Eq | Ne) {
            return (equality(op == Ne, ln, rn, span), ty);
        }
        (node(Op::Binary(op, Box::new(ln), Box::new(rn)), span), ty)
    }

    fn operand_str(&mut self, op: BinaryOp, t: &Type, span: Span) {
        if !Want::Str.accepts(t) {
            self.error(Diagnostic::error(
                "scimap::type-mismatch",
                span,
                format!("operator `{}` needs strings, found {t}", op.symbol()),
            ));
        }
        // A `string?` operand needs no warning: a nil one makes the test false, as in Expr.
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) -> (Node, Type) {
        if let Some(func) = Predicate::from_name(name) {
            return self.predicate(func, name, name_span, args, span);
        }
        for a in args {
            if matches!(a.kind, ExprKind::Closure(_)) {
                self.error(Diagnostic::error(
                    "scimap::closure-outside-predicate",
                    a.span,
                    format!("`{}` does not take a predicate", quote(name)),
                ));
            }
        }
        match name {
            "now" => {
                let now = node(Op::Now, span);
                return match args {
                    [] => (now, Type::Time),
                    // `now(tz)` is `now().In(tz)`.
                    [tz] => {
                        let (tz, t) = self.check(tz);
                        if !matches!(t.non_nil(), Type::Location | Type::Any) {
                            self.error(Diagnostic::error(
                                "scimap::argument-type",
                                tz.span,
                                format!("argument 1 of `now` must be a time zone from `timezone(…)`, found {t}"),
                            ));
                        }
                        let method = Op::Method {
                            receiver: Box::new(now),
                            name: "In".into(),
                            args: vec![tz],
                            optional: false,
                            receiver_text: "now()".into(),
                        };
                        (node(method, span), Type::Time)
                    }
                    _ => {
                        self.arity(name, name_span, args.len(), 0, Some(1));
                        (now, Type::Time)
                    }
                };
            }
            "attr" => {
                if args.len() != 1 {
                    self.arity(name, name_span, args.len(), 1, Some(1));
                    return (node(Op::Nil, span), Type::Any);
                }
                let (n, t) = self.check(&args[0]);
                if !Want::Str.accepts(&t) {
                    self.error(Diagnostic::error(
                        "scimap::argument-type",
                        args[0].span,
                        format!("argument 1 of `attr` must be a string, found {t}"),
                    ));
                }
                return (
                    node(
                        Op::Attr {
                            name: Box::new(n),
                            group: self.group,
                        },
                        span,
                    ),
                    if self.group {
                        Type::Any
                    } else {
                        Type::String.nullable()
                    },
                );
            }
            _ => {}
        }
        let Some(native) = builtins::lookup(name) else {
            let names = builtins::all()
                .iter()
                .map(|n| n.name)
                .chain(Predicate::names())
                .chain(["now", "attr"]);
            let mut d = Diagnostic::error(
                "scimap::unknown-function",
                name_span,
                format!("unknown function `{}`", quote(name)),
            )
            .with_label("not a builtin");
            if let Some(s) = self.shared.suggest.did_you_mean(name, names) {
                d = d.with_help(format!("did you mean `{s}`?"));
            } else {
                d = d.with_help("`scimap functions` lists every builtin");
            }
            self.error(d);
            for a in args {
                self.check(a);
            }
            return (node(Op::Nil, span), Type::Any);
        };
        if args.len() < native.min_args || native.max_args.is_some_and(|m| args.len() > m) {
            self.arity(
                name,
                name_span,
                args.len(),
                native.min_args,
                native.max_args,
            );
        }
        let mut nodes = Vec::with_capacity(args.len());
        let mut types = Vec::with_capacity(args.len());
        let want = native.params;
        for (i, a) in args.iter().enumerate() {
            let (n, t) = self.check(a);
            let w = want.get(i).copied().unwrap_or(Want::Any);
            if !w.accepts(&t) || (w != Want::Any && t == Type::Nil) {
                self.error(Diagnostic::error(
                    "scimap::argument-type",
                    a.span,
                    format!(
                        "argument {} of `{name}` must be {}, found {t}",
                        i + 1,
                        w.describe()
                    ),
                ));
            } else if w != Want::Any || matches!(name, "len" | "int" | "float") {
                self.maybe_nil(a.span, &format!("and `{name}` fails on nil"), &t);
            }
            nodes.push(n);
            types.push(t);
        }
        self.refuse_never_valid(name, args, &types);
        // As Expr's checker: `get` indexes an array by an integer and a map by a string.
        if let ("get", [v, k], Some(key)) = (name, types.as_slice(), args.get(1)) {
            let want = match v.non_nil() {
                Type::Array(_) => Want::Int,
                Type::Map | Type::Object(_) => Want::Str,
                _ => Want::Any,
            };
            if !want.accepts(k) || (want != Want::Any && *k == Type::Nil) {
                self.error(Diagnostic::error(
                    "scimap::argument-type",
                    key.span,
                    format!(
                        "argument 2 of `get` must be {} to index {v}, found {k}",
                        want.describe()
                    ),
                ));
            }
        }
        let ty = (native.returns)(&types);
        // Go prints a Month or Weekday by its English name.
        if name == "string" && nodes.len() == 1 {
            if let Op::Method { name: m, .. } = &nodes[0].op {
                if &**m == "Month" || &**m == "Weekday" {
                    let weekday = &**m == "Weekday";
                    let arg = nodes.pop().map(Box::new);
                    if let Some(arg) = arg {
                        return (node(Op::NameOf { arg, weekday }, span), Type::String);
                    }
                }
            }
        }
        if let Some(fused) = fuse(name, args, &mut nodes, &ty, span) {
            return fused;
        }
        if name == "date" && nodes.len() >= 2 {
            if let ExprKind::Str(layout) = &args[1].kind {
                if matches!(types[0].non_nil(), Type::String | Type::Any) {
                    return (
                        node(
                            Op::DateLayout {
                                args: nodes,
                                layout: Arc::new(Layout::compile(layout)),
                            },
                            span,
                        ),
                        ty,
                    );
                }
            }
        }
        (
            node(
                Op::Native {
                    name: native.name,
                    call: native.call,
                    args: nodes,
                },
                span,
            ),
            ty,
        )
    }

    /// `x % 0`, which Expr's optimizer folds into this error.
    fn divide_by_zero(&mut self, span: Span) {
        self.error(Diagnostic::error(
            "scimap::type-mismatch",
            span,
            "integer divide by zero",
        ));
    }

    /// Arguments Expr's checker refuses: what can never be measured, indexed or taken as a
    /// number. Apart from `call` so as not to grow its stack frame, which recursion multiplies.
    fn refuse_never_valid(&mut self, name: &str, args: &[Expr], types: &[Type]) {
        // As Expr's checker: what can never be measured, indexed or taken as a number.
        let scalar = |t: &Type| {
            use Type as T;
            matches!(
                t.non_nil(),
                T::Int | T::Float | T::Bool | T::Nil | T::Time | T::Duration | T::Location
            )
        };
        let refused = match name {
            "len" | "get" => types.first().is_some_and(scalar).then_some(0),
            // Only strings: a map (`$env`) passes Expr's checker, and the types scimap infers
            // for `??` are narrower than Expr's.
            "max" | "min" | "mean" => types.iter().position(|t| *t == Type::String),
            _ => None,
        };
        if let (Some(i), Some(a)) = (refused, refused.and_then(|i| args.get(i))) {
            // In Expr's words.
            let t = types.get(i).cloned().unwrap_or(Type::Any);
            let message = if name == "get" {
                format!("type {t} does not support indexing")
            } else {
                format!("invalid argument for {name} (type {t})")
            };
            self.error(Diagnostic::error("scimap::argument-type", a.span, message));
        }
    }

    fn arity(&mut self, name: &str, span: Span, got: usize, min: usize, max: Option<usize>) {
        let expected = match max {
            Some(1) if min == 1 => "1 argument".to_string(),
            Some(m) if m == min => format!("{min} arguments"),
            Some(m) => format!("{min} to {m} arguments"),
            None if min == 1 => "at least 1 argument".to_string(),
            None => format!("at least {min} arguments"),
        };
        self.error(
            Diagnostic::error(
                "scimap::arity",
                span,
                format!("`{name}` takes {expected}, but {got} were given"),
            )
            .with_label(format!("called with {got}"))
            .with_help(format!("`scimap functions {name}` shows its signature")),
        );
    }

    fn predicate(
        &mut self,
        func: Predicate,
        name: &str,
        name_span: Span,
        args: &[Expr],
        span: Span,
    ) -> (Node, Type) {
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            self.arity(name, name_span, args.len(), min, Some(max));
            for a in args {
                self.check(a);
            }
            return (node(Op::Nil, span), Type::Any);
        }
        let (mut list, lt) = self.check(&args[0]);
        let element = match lt.non_nil() {
            Type::Array(t) => (**t).clone(),
            Type::Any => Type::Any,
            other => {
                let other = other.clone();
                self.error(Diagnostic::error(
                    "scimap::argument-type",
                    args[0].span,
                    format!("`{name}` takes an array, found {other}"),
                ));
                Type::Any
            }
        };
        self.maybe_nil(args[0].span, &format!("and `{name}` fails on nil"), &lt);
        let slot = self.alloc(3);
        // `reduce`'s accumulator starts as its initial value or the first element.
        // With an initial value the accumulator takes its type, which is not yet checked.
        let acc = (func == Predicate::Reduce).then(|| {
            if args.len() == 3 {
                Type::Any
            } else {
                element.clone()
            }
        });
        let mut body = None;
        let mut body_ty = Type::Any;
        if let Some(p) = args.get(1) {
            let inner = match &p.kind {
                ExprKind::Closure(b) => b.as_ref(),
                _ => p,
            };
            self.scopes.push(Scope::Closure {
                slot,
                element: element.clone(),
                acc,
            });
            let (n, t) = self.check(inner);
            self.scopes.pop();
            if !matches!(
                func,
                Predicate::Map
                    | Predicate::Sum
                    | Predicate::GroupBy
                    | Predicate::SortBy
                    | Predicate::Reduce
            ) {
                self.expect_bool(&t, inner.span, &format!("the predicate of `{name}`"));
            }
            body = Some(Box::new(n));
            body_ty = t;
        }
        let mut extra = Vec::new();
        for a in args.iter().skip(2) {
            let (n, t) = self.check(a);
            if func == Predicate::SortBy && !Want::Str.accepts(&t) {
                self.error(Diagnostic::error(
                    "scimap::argument-type",
                    a.span,
                    format!("the order of `sortBy` is \"asc\" or \"desc\", found {t}"),
                ));
            }
            extra.push(n);
        }
        let ty = match func {
            Predicate::All | Predicate::Any | Predicate::One | Predicate::None => Type::Bool,
            Predicate::Map => Type::Array(Box::new(body_ty)),
            Predicate::Filter | Predicate::SortBy => Type::Array(Box::new(element)),
            Predicate::Find | Predicate::FindLast => element.nullable(),
            Predicate::FindIndex | Predicate::FindLastIndex => Type::Int.nullable(),
            Predicate::Count => Type::Int,
            Predicate::Sum => {
                let t = if body.is_some() { body_ty } else { element };
                match t {
                    Type::Int => Type::Int,
                    Type::Float => Type::Float,
                    _ => Type::Any,
                }
            }
            Predicate::GroupBy => Type::Map,
            Predicate::Reduce => Type::Any,
        };
        // `map(filter(xs, p), f)` is one loop, as Expr's optimizer makes it (when `f` does not
        // read `#index`, which would count the filtered items).
        if let (Predicate::Map, Some(f)) = (func, &body) {
            if !f.reads_local(slot + 1) {
                if let Op::Predicate {
                    func: Predicate::Filter,
                    map: map @ None,
                    ..
                } = &mut list.op
                {
                    *map = body.map(|f| (f, slot));
                    return (Node { op: list.op, span }, ty);
                }
            }
        }
        (
            node(
                Op::Predicate {
                    func,
                    list: Box::new(list),
                    body,
                    extra,
                    slot,
                    map: None,
                    written: func,
                },
                span,
            ),
            ty,
        )
    }

    fn method(
        &mut self,
        receiver: &Expr,
        name: &str,
        name_span: Span,
        args: &[Expr],
        optional: bool,
        span: Span,
    ) -> (Node, Type) {
        let (rn, rt) = self.check(receiver);
        if !optional {
            self.maybe_nil(receiver.span, "and calling a method on nil fails", &rt);
        }
        let mut nodes = Vec::with_capacity(args.len());
        for a in args {
            nodes.push(self.check(a).0);
        }
        let ty = match method_type(rt.non_nil(), name) {
            Some(t) => t,
            None => {
                let known: &[&str] = match rt.non_nil() {
                    Type::Time => crate::runtime::builtins::time::time_methods(),
                    Type::Duration => crate::runtime::builtins::time::duration_methods(),
                    Type::Location => crate::runtime::builtins::time::location_methods(),
                    _ => &[],
                };
                let mut d = Diagnostic::error(
                    "scimap::unknown-method",
                    name_span,
                    format!(
                        "a value of type {} has no method `{}`",
                        rt.non_nil(),
                        quote(name)
                    ),
                );
                if let Some(s) = self
                    .shared
                    .suggest
                    .did_you_mean(name, known.iter().copied())
                {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else if known.is_empty() {
                    d = d.with_help("methods exist on times (`date(…)`, `now()`) and durations");
                }
                self.error(d);
                Type::Any
            }
        };
        let ty = if optional && rt.is_nullable() {
            ty.nullable()
        } else {
            ty
        };
        if name == "Format" && args.len() == 1 {
            if let ExprKind::Str(layout) = &args[0].kind {
                return (
                    node(
                        Op::FormatLayout {
                            receiver: Box::new(rn),
                            layout: Arc::new(Layout::compile(layout)),
                            optional,
                        },
                        span,
                    ),
                    ty,
                );
            }
        }
        (
            node(
                Op::Method {
                    receiver: Box::new(rn),
                    name: name.into(),
                    args: nodes,
                    optional,
                    receiver_text: self.text(receiver.span),
                },
                span,
            ),
            ty,
        )
    }
}

/// The type of an empty list literal (`n`) beside a list of known items (`other`): that list's
/// type, so that `xs ?? []` and `c ? xs : []` keep the items' fields and types. `[]` has no
/// item to contradict them; alone it is a list of `any`.
fn empty_list_as(n: &Node, t: &Type, other: &Type) -> Type {
    match (&n.op, other.non_nil()) {
        (Op::Array(items), list @ Type::Array(_)) if items.is_empty() => list.clone(),
        _ => t.clone(),
    }
}

/// `l + r` of strings: left-nested sums are built in one buffer (`Op::Concat`).
fn concat(l: Node, r: Node, span: Span) -> Node {
    let (mut parts, mut joins) = match l.op {
        Op::Concat { parts, joins } => (parts, joins),
        op => (vec![node(op, l.span)], Vec::new()),
    };
    parts.push(r);
    joins.push(span);
    node(Op::Concat { parts, joins }, span)
}

/// `l == r` (`negate`: `!=`), with a string constant or nil on one side as `Op::EqStr` or
/// `Op::IsNil`: the same answer and steps as `Op::Binary` (reference §limits-budget), less work.
fn equality(negate: bool, l: Node, r: Node, span: Span) -> Node {
    let (subject, constant) = match (l.op, r.op) {
        (op, Op::Str(s)) => (node(op, l.span), Some(s)),
        (Op::Str(s), op) => (node(op, r.span), Some(s)),
        (op, Op::Nil) => (node(op, l.span), None),
        (Op::Nil, op) => (node(op, r.span), None),
        (lo, ro) => {
            let op = if negate { BinaryOp::Ne } else { BinaryOp::Eq };
            let (l, r) = (node(lo, l.span), node(ro, r.span));
            return node(Op::Binary(op, Box::new(l), Box::new(r)), span);
        }
    };
    let subject = Box::new(subject);
    let op = match constant {
        Some(constant) => Op::EqStr {
            subject,
            constant,
            negate,
        },
        None => Op::IsNil { subject, negate },
    };
    node(op, span)
}

/// Calls fused as Expr's optimizer fuses them, and `join(split(…))` by a literal separator;
/// `None` for every other call. Apart from `call` so as not to grow its stack frame.
fn fuse(
    name: &str,
    args: &[Expr],
    nodes: &mut Vec<Node>,
    ty: &Type,
    span: Span,
) -> Option<(Node, Type)> {
    // As Expr's optimizer: `first`/`last` of a filter stop at the first item found, and
    // `len` of one counts without building it.
    if let [Node {
        op: Op::Predicate { func, map, .. },
        ..
    }] = nodes.as_mut_slice()
    {
        if *func == Predicate::Filter {
            let fused = match name {
                "first" => Some(Predicate::Find),
                "last" => Some(Predicate::FindLast),
                "len" => {
                    *map = None;
                    Some(Predicate::Count)
                }
                _ => None,
            };
            if let Some(f) = fused {
                *func = f;
                if let Some(n) = nodes.pop() {
                    return Some((Node { op: n.op, span }, ty.clone()));
                }
            }
        }
    }
    // `join(split(s, " "), ".")` builds no list: one replacement (`split_join`).
    if let (
        "join",
        [Expr {
            kind: ExprKind::Call { name: inner, args },
            ..
        }, ..],
    ) = (name, args)
    {
        let constant_sep =
            matches!(args.get(1), Some(Expr { kind: ExprKind::Str(sep), .. }) if !sep.is_empty());
        if inner.node == "split" && args.len() == 2 && constant_sep {
            if let [Node {
                op: Op::Native { args: split, .. },
                ..
            }, glue @ ..] = nodes.as_mut_slice()
            {
                let mut args = std::mem::take(split);
                args.push(match glue {
                    [glue] => std::mem::replace(glue, node(Op::Nil, span)),
                    _ => node(Op::Str("".into()), span),
                });
                let call =
                    crate::runtime::builtins::Call::Text(crate::runtime::builtins::split_join);
                let name = "join";
                return Some((node(Op::Native { name, call, args }, span), ty.clone()));
            }
        }
    }
    None
}

fn regex_reason(s: &str) -> &str {
    s.lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .or_else(|| s.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or(s)
        .trim()
}
