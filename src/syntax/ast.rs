//! The syntax tree of a mapping file: what was written, with spans, before any name is resolved.

use crate::diagnostic::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// `app "Trello"`.
    pub app: Option<Spanned<String>>,
    /// The `{ … }` after the app's name: what the app accepts (reference §profile).
    pub profile: Option<ProfileDecl>,
    pub schemas: Vec<SchemaDecl>,
    pub sections: Vec<Section>,
}

/// `app "…" { key = value … }`: the settings as written, checked by `check::profile`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileDecl {
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `update = patch`, `maxPatchOperations = 100`, `updatable = [active, name.givenName]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub key: Spanned<String>,
    pub value: SettingValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SettingValue {
    /// A word or an attribute path: `patch`, `true`, `userName`, `urn:…:User:employeeNumber`.
    Word(Spanned<String>),
    /// A run of decimal digits, as written.
    Count(Spanned<String>),
    /// `[active, name.givenName]`; the span covers the brackets.
    List(Vec<Spanned<String>>, Span),
}

/// `schema "urn:…" { name: type, … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDecl {
    pub urn: Spanned<String>,
    /// Attribute name and SCIM type name (`integer`), as written.
    pub attributes: Vec<(Spanned<String>, Spanned<String>)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SectionKind {
    User,
    Group,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub kind: SectionKind,
    /// The `user`/`group` keyword (where "required attribute never mapped" points).
    pub keyword: Span,
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Let(LetDecl),
    Entry(Entry),
}

/// `let NAME = EXPRESSION` at section level.
#[derive(Clone, Debug, PartialEq)]
pub struct LetDecl {
    pub name: Spanned<String>,
    pub value: Expr,
    pub span: Span,
}

/// `TARGET = SOURCE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The `create` of a create-only entry: sent on creation, never on update.
    pub create: Option<Span>,
    pub target: Target,
    pub source: Source,
    /// Codes named by a trailing `// scimap:allow(CODE, …)` comment on the entry's last line.
    pub allow: Vec<String>,
    pub span: Span,
}

/// A SCIM attribute path as written (names keep their written case).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The schema URN of a qualified target (`urn:…:User` of `urn:…:User:employeeNumber`).
    pub urn: Option<Spanned<String>>,
    pub attr: Spanned<String>,
    pub selector: Selector,
    pub sub: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Selector {
    /// `emails.value`, `userName`.
    None,
    /// `addresses[].streetAddress`; the span covers `[]`.
    ElementWise(Span),
    /// `emails[type eq "work" and primary eq true]`.
    Filter(Vec<FilterTerm>),
}

/// `type eq "work"`; the value is a JSON literal (string, number, bool, null).
#[derive(Clone, Debug, PartialEq)]
pub struct FilterTerm {
    pub attr: Spanned<String>,
    pub value: Spanned<serde_json::Value>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `$.a.b[0]`: the JSON Path text, trailing blanks removed.
    Direct(Spanned<String>),
    /// `const …`: integers stay integers; duplicate keys were rejected by the parser.
    Const(Spanned<serde_json::Value>),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    /// Calls `f` on each expression directly below this one, in source order.
    pub fn for_each_child<'e>(&'e self, mut f: impl FnMut(&'e Expr)) {
        match &self.kind {
            ExprKind::Array(items) | ExprKind::Sequence(items) => items.iter().for_each(f),
            ExprKind::Call { args, .. } => args.iter().for_each(f),
            ExprKind::Map(pairs) => pairs.iter().for_each(|(k, v)| {
                f(k);
                f(v);
            }),
            ExprKind::Unary(_, x) | ExprKind::Closure(x) => f(x),
            ExprKind::Binary(_, l, r) => {
                f(l);
                f(r);
            }
            ExprKind::Member { object, index, .. } => {
                f(object);
                f(index);
            }
            ExprKind::Slice { object, from, to } => {
                f(object);
                from.iter().chain(to).for_each(|b| f(b));
            }
            ExprKind::Method { receiver, args, .. } => {
                f(receiver);
                args.iter().for_each(f);
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                f(cond);
                f(then);
                f(otherwise);
            }
            ExprKind::Let { value, body, .. } => {
                f(value);
                f(body);
            }
            ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Ident(_)
            | ExprKind::Pointer(_)
            | ExprKind::PointerField(_) => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A bare name: a record field, a `let`, or `$env`.
    Ident(String),
    /// `#`, `#index`, `#acc` inside a predicate.
    Pointer(Pointer),
    /// `.field` inside a predicate: a member of `#`.
    PointerField(String),
    Array(Vec<Expr>),
    /// `{a: 1, "b": 2, (k): v}`: identifier, string and number keys become string literals.
    Map(Vec<(Expr, Expr)>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `a.b` (index is a Str literal), `a[i]`; `optional` for `?.` / `?.[ ]`.
    Member {
        object: Box<Expr>,
        index: Box<Expr>,
        optional: bool,
    },
    /// `a[from:to]`.
    Slice {
        object: Box<Expr>,
        from: Option<Box<Expr>>,
        to: Option<Box<Expr>>,
    },
    /// `name(args)`; a pipe `x | f(a)` arrives here as `f(x, a)`.
    Call {
        name: Spanned<String>,
        args: Vec<Expr>,
    },
    /// `receiver.Name(args)`: time and duration methods.
    Method {
        receiver: Box<Expr>,
        name: Spanned<String>,
        args: Vec<Expr>,
        optional: bool,
    },
    /// A predicate argument (`{ … }` or a bare expression in the predicate position).
    Closure(Box<Expr>),
    /// `c ? a : b`, `if c { a } else { b }`; `c ?: b` has `then` = a copy of `c`.
    Conditional {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `let x = value; body`.
    Let {
        name: Spanned<String>,
        value: Box<Expr>,
        body: Box<Expr>,
    },
    /// `e1; e2; …`: the value of the last.
    Sequence(Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pointer {
    Element,
    Index,
    Acc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    In,
    NotIn,
    Matches,
    NotMatches,
    Contains,
    NotContains,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    Range,
    Coalesce,
}

impl BinaryOp {
    /// The operator as written in error messages.
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            Pow => "**",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            And => "and",
            Or => "or",
            In => "in",
            NotIn => "not in",
            Matches => "matches",
            NotMatches => "not matches",
            Contains => "contains",
            NotContains => "not contains",
            StartsWith => "startsWith",
            NotStartsWith => "not startsWith",
            EndsWith => "endsWith",
            NotEndsWith => "not endsWith",
            Range => "..",
            Coalesce => "??",
        }
    }
}

/// A builtin whose second argument is a predicate (a closure over `#`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    All,
    Any,
    One,
    None,
    Map,
    Filter,
    Find,
    FindIndex,
    FindLast,
    FindLastIndex,
    Count,
    Sum,
    GroupBy,
    SortBy,
    Reduce,
}

impl Predicate {
    /// Every predicate builtin with its name: the one list the parser, the checker and the
    /// evaluator use (the grammar's `pred_name` lists the same words, which a test checks).
    const NAMES: [(Predicate, &'static str); 15] = {
        use Predicate::*;
        [
            (All, "all"),
            (Any, "any"),
            (One, "one"),
            (None, "none"),
            (Map, "map"),
            (Filter, "filter"),
            (Find, "find"),
            (FindIndex, "findIndex"),
            (FindLast, "findLast"),
            (FindLastIndex, "findLastIndex"),
            (Count, "count"),
            (Sum, "sum"),
            (GroupBy, "groupBy"),
            (SortBy, "sortBy"),
            (Reduce, "reduce"),
        ]
    };

    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::NAMES.iter().map(|(_, n)| *n)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("", |(_, n)| n)
    }

    /// The fewest and most arguments it takes (Expr's `predicates`).
    pub fn arity(self) -> (usize, usize) {
        match self {
            Predicate::Count | Predicate::Sum => (1, 2),
            Predicate::SortBy | Predicate::Reduce => (2, 3),
            _ => (2, 2),
        }
    }

    pub fn from_name(name: &str) -> Option<Predicate> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(p, _)| *p)
    }
}
