//! Resolve and type-check a syntax tree into the IR, collecting every diagnostic.

pub mod expr;
pub mod path;
pub mod patterns;
pub mod profile;
mod share;
pub mod target;

use crate::diagnostic::{self, quote, Diagnostic, LineIndex, Severity, Span};
use crate::ir;
use crate::limits::Limits;
use crate::schema::{self, ScimSchema, ScimType};
use crate::suggest::Suggester;
use crate::syntax::ast::{self, SectionKind};
// `types` also for expr.rs, which names it `super::types`.
use crate::types::{self, Type};
use expr::{ExprChecker, SectionLet, SectionLets};
use patterns::Patterns;
use std::collections::HashMap;
use target::{Declared, Resolved, Schemas, Selection};

/// What the checks of one file share: the budgets of its "did you mean" searches and of its
/// constant patterns.
pub struct Shared {
    pub limits: Limits,
    pub suggest: Suggester,
    pub patterns: Patterns,
    /// The language service's question (`probe`): the expressions around one offset and
    /// their types, recorded as they are checked.
    pub probe: Option<Probe>,
}

impl Shared {
    fn new(limits: &Limits) -> Self {
        Shared {
            limits: *limits,
            suggest: Suggester::new(diagnostic::MAX_DIAGNOSTICS),
            patterns: Patterns::new(limits.regex_bytes),
            probe: None,
        }
    }
}

/// The expressions whose span holds `at`, with the type the checker gave each; and every
/// section `let` (its name's span) with its type.
pub struct Probe {
    at: usize,
    found: std::cell::RefCell<Vec<(Span, Type)>>,
    lets: std::cell::RefCell<Vec<(Span, Type)>>,
}

impl Probe {
    pub fn record(&self, span: Span, ty: &Type) {
        if span.start <= self.at && self.at <= span.end {
            self.found.borrow_mut().push((span, ty.clone()));
        }
    }
}

/// What [`probe`] found.
#[derive(Default)]
pub struct Probed {
    /// The expressions around the offset (nested ones after those they are in).
    pub around: Vec<(Span, Type)>,
    /// The `let`s of every section, by their name's span.
    pub lets: Vec<(Span, Type)>,
}

/// The checked program: each section's IR, and its diagnostics (errors and warnings) in
/// source order, at most `diagnostic::MAX_DIAGNOSTICS` and a note counting the rest.
pub struct Checked {
    pub sections: Vec<(SectionKind, ir::Section)>,
    pub profile: crate::profile::Profile,
    /// The file's `schema` declarations.
    pub schemas: Vec<ScimSchema>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn check(file: &ast::File, source: &str, limits: &Limits, allow: &[String]) -> Checked {
    check_in(file, source, Shared::new(limits), allow).0
}

/// Checks a file and answers what the language service asks (`ide`): the expressions whose
/// span holds the offset `at`, and the `let`s, with their types.
pub fn probe(file: &ast::File, source: &str, limits: &Limits, at: usize) -> Probed {
    let shared = Shared {
        probe: Some(Probe {
            at,
            found: Default::default(),
            lets: Default::default(),
        }),
        ..Shared::new(limits)
    };
    let shared = check_in(file, source, shared, &[]).1;
    shared.probe.map_or_else(Probed::default, |p| Probed {
        around: p.found.into_inner(),
        lets: p.lets.into_inner(),
    })
}

fn check_in(file: &ast::File, source: &str, shared: Shared, allow: &[String]) -> (Checked, Shared) {
    let mut diagnostics = Vec::new();
    let declared = declare_schemas(file, &mut diagnostics);
    let app_profile = profile::check(
        file.profile.as_ref(),
        &declared,
        &shared.suggest,
        &mut diagnostics,
    );
    let mut sections = Vec::new();
    for section in &file.sections {
        let mut diags = Vec::new();
        let mut facts = Vec::new();
        let ir = check_section(section, source, &declared, &shared, &mut diags, &mut facts);
        let group = (section.kind == SectionKind::Group).then_some(section.keyword);
        let mut entry_diags = Vec::new();
        profile::check_entries(&app_profile, group, &facts, &mut entry_diags);
        // An entry's allow comment silences the profile's warnings about it too.
        entry_diags.retain(|d| d.is_error() || !allowed_by_entry(section, d));
        diags.extend(entry_diags);
        diagnostics.extend(diags);
        sections.push((section.kind, ir));
    }
    let allowed =
        |d: &Diagnostic| d.severity == Severity::Warning && allow.iter().any(|c| c == d.code);
    diagnostics.retain(|d| !allowed(d));
    let checked = Checked {
        sections,
        profile: app_profile.profile,
        schemas: declared.into_schemas(),
        diagnostics: diagnostic::cap(diagnostics),
    };
    (checked, shared)
}

/// Whether the entry a warning points into names its code in its allow comment.
fn allowed_by_entry(section: &ast::Section, d: &Diagnostic) -> bool {
    section.items.iter().any(|item| {
        matches!(item, ast::Item::Entry(e)
            if e.span.start <= d.span.start
                && d.span.end <= e.span.end
                && e.allow.iter().any(|c| c == d.code))
    })
}

fn declare_schemas(file: &ast::File, diagnostics: &mut Vec<Diagnostic>) -> Declared {
    let mut declared = Declared::default();
    for decl in &file.schemas {
        let urn = &decl.urn.node;
        if schema::builtin_urns()
            .iter()
            .any(|u| u.eq_ignore_ascii_case(urn))
        {
            diagnostics.push(Diagnostic::error(
                "scimap::duplicate-schema",
                decl.urn.span,
                format!("`{urn}` is built in and cannot be declared again"),
            ));
            continue;
        }
        if declared.get(urn).is_some() {
            diagnostics.push(Diagnostic::error(
                "scimap::duplicate-schema",
                decl.urn.span,
                format!("schema `{}` is declared twice", quote(urn)),
            ));
            continue;
        }
        if !urn.starts_with("urn:") || urn.contains(char::is_whitespace) {
            diagnostics.push(Diagnostic::error(
                "scimap::bad-schema",
                decl.urn.span,
                format!("`{}` is not a URN", quote(urn)),
            ).with_help("a schema URN looks like `urn:example:params:scim:schemas:extension:acme:2.0:User`"));
            continue;
        }
        let attrs: Vec<(&str, &str)> = decl
            .attributes
            .iter()
            .map(|(n, t)| (n.node.as_str(), t.node.as_str()))
            .collect();
        match ScimSchema::declared(urn, &attrs) {
            Ok(s) => declared.push(s),
            Err((i, message)) => {
                let span = decl
                    .attributes
                    .get(i)
                    .map_or(decl.span, |(n, t)| n.span.to(t.span));
                diagnostics.push(Diagnostic::error("scimap::bad-schema", span, message));
            }
        }
    }
    declared
}

fn check_section(
    section: &ast::Section,
    source: &str,
    declared: &Declared,
    shared: &Shared,
    diagnostics: &mut Vec<Diagnostic>,
    facts: &mut Vec<profile::EntryFacts>,
) -> ir::Section {
    let group = section.kind == SectionKind::Group;
    let record = if group {
        schema::group_record()
    } else {
        schema::user_record()
    };
    let schemas = Schemas {
        kind: section.kind,
        declared,
        suggest: &shared.suggest,
    };
    let mut lets = SectionLets::default();
    let mut let_nodes: Vec<ir::Let> = Vec::new();
    // How deep evaluating each `let` recurses, lets used inside it included.
    let mut let_depths: Vec<usize> = Vec::new();
    let mut resolved: Vec<Resolved> = Vec::new();
    let mut entries: Vec<ir::Entry> = Vec::new();
    // Lookups by key, not scans: a mapping may have thousands of entries.
    let mut first_span: HashMap<String, Span> = HashMap::new();
    let mut element_wise_of: HashMap<(Option<String>, String), (bool, Span)> = HashMap::new();
    let lines = LineIndex::new(source);
    // Targets that did not resolve: a near miss of a required attribute (`usrName`) already
    // says what is wrong, so "never mapped" would only repeat it.
    let mut unresolved: Vec<String> = Vec::new();
    let mut locals = 0;
    let mut fields = Vec::new();
    let limits = &shared.limits;
    for item in &section.items {
        match item {
            ast::Item::Let(l) => {
                let mut diags = Vec::new();
                let mut checker =
                    ExprChecker::new(source, group, &mut lets, &mut fields, &mut diags, shared);
                let shadowed = matches!(record, Type::Object(o) if o.field(&l.name.node).is_some())
                    || crate::runtime::builtins::lookup(&l.name.node).is_some()
                    || ir::Predicate::from_name(&l.name.node).is_some()
                    || matches!(l.name.node.as_str(), "now" | "attr" | "$env");
                let (node, ty) = checker.check_whole(&l.value);
                locals = locals.max(checker.max_slot);
                drop(checker);
                diagnostics.extend(diags);
                let earlier = lets
                    .position(&l.name.node)
                    .and_then(|i| lets.get(i))
                    .map(|l| l.span);
                if shadowed || earlier.is_some() {
                    let what = if earlier.is_some() {
                        "a `let` of this section".to_string()
                    } else if matches!(record, Type::Object(o) if o.field(&l.name.node).is_some()) {
                        format!(
                            "a field of the JumpCloud {} record",
                            if group { "group" } else { "user" }
                        )
                    } else {
                        "a builtin function".to_string()
                    };
                    let mut d = Diagnostic::error(
                        "scimap::shadowing",
                        l.name.span,
                        format!("`{}` is already {what}", quote(&l.name.node)),
                    )
                    .with_label("a `let` may not hide another name")
                    .with_help("choose another name");
                    if let Some(first) = earlier {
                        d = d.with_secondary(first, "first defined here");
                    }
                    diagnostics.push(d);
                    continue;
                }
                let mut depth = node.eval_depth(&let_depths);
                if depth > limits.nesting() {
                    diagnostics.push(too_deep(l.name.span, limits.nesting()));
                    // Reported once, where the chain crosses the limit, not at every later link.
                    depth = 0;
                }
                let_depths.push(depth);
                if let Some(probe) = &shared.probe {
                    probe.lets.borrow_mut().push((l.name.span, ty.clone()));
                }
                lets.push(SectionLet {
                    name: l.name.node.clone(),
                    ty,
                    span: l.name.span,
                    used: false,
                });
                let_nodes.push(ir::Let {
                    name: l.name.node.clone(),
                    value: node,
                });
            }
            ast::Item::Entry(e) => {
                let mut diags = Vec::new();
                let target = match schemas.resolve(&e.target) {
                    Ok((r, warnings)) => {
                        diags.extend(warnings);
                        Some(r)
                    }
                    Err(d) => {
                        diags.push(d);
                        unresolved.push(e.target.attr.node.clone());
                        None
                    }
                };
                let mut checker =
                    ExprChecker::new(source, group, &mut lets, &mut fields, &mut diags, shared);
                let checked =
                    check_source(&e.source, target.as_ref(), record, limits, &mut checker);
                let may_be_nil = checked.as_ref().is_some_and(|(_, ty)| ty.is_nullable());
                let checked = checked.map(|(source, _)| source);
                locals = locals.max(checker.max_slot);
                drop(checker);
                diags.retain(|d| d.is_error() || !e.allow.iter().any(|c| c == d.code));
                diagnostics.extend(diags);
                let Some(target) = target else { continue };
                let Some(source_ir) = checked else { continue };
                if let (ir::Source::Expr(node), ast::Source::Expr(expr)) = (&source_ir, &e.source) {
                    if node.eval_depth(&let_depths) > limits.nesting() {
                        diagnostics.push(too_deep(expr.span, limits.nesting()));
                    }
                }
                let key = target.key();
                if let Some(first) = first_span.get(&key) {
                    diagnostics.push(
                        Diagnostic::error(
                            "scimap::duplicate-target",
                            e.target.span,
                            format!("`{}` is mapped twice", quote(&target.canonical())),
                        )
                        .with_label("mapped again here")
                        .with_secondary(*first, "first mapped here")
                        .with_help("remove one of the two entries"),
                    );
                    continue;
                }
                let element_wise = target.selection == Selection::ElementWise;
                let mode = element_wise_of
                    .entry((target.urn.clone(), target.attr.clone()))
                    .or_insert((element_wise, e.target.span));
                if mode.0 != element_wise {
                    let first = mode.1;
                    diagnostics.push(
                        Diagnostic::error(
                            "scimap::element-wise-conflict",
                            e.target.span,
                            format!(
                                "`{}` is mapped element-wise (`{}[]`) and also by filter or unfiltered",
                                quote(&target.attr), quote(&target.attr)
                            ),
                        )
                        .with_secondary(first, "mapped here")
                        .with_help("map every sub-attribute of it the same way"),
                    );
                    continue;
                }
                first_span.insert(key, e.target.span);
                let (source_text, source_span) = source_text(&e.source, source);
                let (line, column) = lines.line_col(source_span.start);
                facts.push(profile::EntryFacts {
                    target: target.clone(),
                    create: e.create,
                    source_text: source_text.clone(),
                    source_span,
                    may_be_nil,
                });
                entries.push(ir::Entry {
                    create_only: e.create.is_some(),
                    target: target.canonical(),
                    ty: target.ty,
                    element_wise: target.selection == Selection::ElementWise,
                    source: source_ir,
                    source_text,
                    line,
                    column,
                });
                resolved.push(target);
            }
        }
    }
    for l in lets.iter() {
        if !l.used {
            diagnostics.push(
                Diagnostic::warning(
                    "scimap::unused-let",
                    l.span,
                    format!("`{}` is never used", quote(&l.name)),
                )
                .with_help("remove it, or use it in an entry"),
            );
        }
    }
    let core = schemas.core();
    let mut required = Vec::new();
    for attr in core.attributes.iter().filter(|a| a.required) {
        match resolved
            .iter()
            .position(|r| r.urn.is_none() && r.attr == attr.name && r.sub.is_none())
        {
            Some(i) => required.push((i, attr.name.clone())),
            None if unresolved
                .iter()
                .any(|u| crate::suggest::did_you_mean(u, [attr.name.as_str()]).is_some()) => {}
            None => diagnostics.push(
                Diagnostic::error(
                    "scimap::missing-required",
                    section.keyword,
                    format!("the required attribute `{}` is never mapped", attr.name),
                )
                .with_label(format!(
                    "this {} section",
                    if group { "group" } else { "user" }
                ))
                .with_help(format!("add an entry such as `{} = …`", attr.name)),
            ),
        }
    }
    let mut section = ir::Section {
        core_urn: core_urn(group),
        payload: target::plan(&resolved),
        entries,
        lets: let_nodes,
        hints: ir::FieldHints::new(&fields),
        fields,
        locals,
        shared: 0,
        required,
    };
    share::share(&mut section);
    section
}

/// An expression whose evaluation, through the `let`s it uses, nests deeper than `depth`: the
/// evaluator recurses once per level, so a chain of thousands of `let`s would exhaust the stack.
fn too_deep(span: Span, limit: usize) -> Diagnostic {
    Diagnostic::error(
        "scimap::limit",
        span,
        format!("evaluating this nests deeper than the limit `depth` ({limit})"),
    )
    .with_label("counting the `let`s it uses, and theirs")
    .with_help("each `let` used inside another adds its own depth: flatten the chain of `let`s")
}

/// Checks an entry's source and lowers it.
fn check_source(
    source: &ast::Source,
    target: Option<&Resolved>,
    record: &'static Type,
    limits: &Limits,
    checker: &mut ExprChecker<'_>,
) -> Option<(ir::Source, Type)> {
    let element_wise = target.is_some_and(|t| t.selection == Selection::ElementWise);
    match source {
        ast::Source::Direct(p) => {
            let path = match path::compile(&p.node, p.span, limits) {
                Ok(path) => path,
                Err(d) => {
                    checker.diagnostics.push(d);
                    return None;
                }
            };
            let ty = path::check(
                &path,
                record,
                p.span,
                checker.diagnostics,
                &checker.shared.suggest,
            );
            let singular = path::is_singular(&path);
            if let Some(t) = target {
                if !singular && !element_wise {
                    checker.diagnostics.push(
                        Diagnostic::warning(
                            "scimap::non-singular-path",
                            p.span,
                            format!(
                                "this path can find several values, but `{}` holds one",
                                quote(&t.canonical())
                            ),
                        )
                        .with_help(path::non_singular_help(&path, &p.node)),
                    );
                }
                // A Direct path yields the items of an array node element-wise.
                let ty = match (&ty, element_wise) {
                    (Type::Array(_), false) if !singular => Type::Any,
                    _ => ty.clone(),
                };
                convertible(&ty, t, p.span, checker.diagnostics);
            }
            Some((ir::Source::Direct(path), ty))
        }
        ast::Source::Const(v) => {
            if let Some(t) = target {
                let ty = const_type(&v.node);
                convertible(&ty, t, v.span, checker.diagnostics);
                if let (Some(s), false) = (v.node.as_str(), t.canonical_values.is_empty()) {
                    if !t.canonical_values.iter().any(|c| c.eq_ignore_ascii_case(s)) {
                        checker.diagnostics.push(
                            Diagnostic::warning(
                                "scimap::non-canonical",
                                v.span,
                                format!(
                                    "\"{}\" is not a canonical value of `{}` ({})",
                                    quote(s),
                                    quote(&t.canonical()),
                                    t.canonical_values.join(", ")
                                ),
                            )
                            .with_help("service providers may reject or ignore other values"),
                        );
                    }
                }
            }
            Some((
                ir::Source::Const(crate::record::Doc::from_json(&v.node).into_static()),
                const_type(&v.node),
            ))
        }
        ast::Source::Expr(e) => {
            let (node, ty) = checker.check_whole(e);
            if let Some(t) = target {
                convertible(&ty, t, e.span, checker.diagnostics);
            }
            Some((ir::Source::Expr(node), ty))
        }
    }
}

fn const_type(v: &serde_json::Value) -> Type {
    match v {
        serde_json::Value::Null => Type::Nil,
        serde_json::Value::Bool(_) => Type::Bool,
        serde_json::Value::Number(n) if n.is_i64() => Type::Int,
        serde_json::Value::Number(_) => Type::Float,
        serde_json::Value::String(_) => Type::String,
        serde_json::Value::Array(items) => Type::Array(Box::new(
            items
                .iter()
                .map(const_type)
                .reduce(|a, b| types::unify(&a, &b))
                .unwrap_or(Type::Any),
        )),
        serde_json::Value::Object(_) => Type::Map,
    }
}

/// Reports a value type that can never become the target's SCIM type.
fn convertible(ty: &Type, target: &Resolved, span: Span, diagnostics: &mut Vec<Diagnostic>) {
    let element_wise = target.selection == Selection::ElementWise;
    let ty = if element_wise {
        match ty.non_nil() {
            Type::Array(item) => item.as_ref().clone(),
            Type::Any | Type::Nil => Type::Any,
            other => {
                diagnostics.push(
                    Diagnostic::error(
                        "scimap::not-a-list",
                        span,
                        format!(
                            "`{}` is element-wise and needs a list, but this is {other}",
                            quote(&target.canonical())
                        ),
                    )
                    .with_help("map a list, e.g. `$.addresses[*].locality` or `map(addresses ?? [], .locality)`"),
                );
                return;
            }
        }
    } else {
        ty.clone()
    };
    let ok = match (target.ty, ty.non_nil()) {
        (_, Type::Any | Type::Nil) => true,
        (ScimType::String | ScimType::Reference | ScimType::Binary, t) => matches!(
            t,
            Type::String | Type::Int | Type::Float | Type::Bool | Type::Time | Type::Duration
        ),
        (ScimType::Boolean, t) => matches!(t, Type::Bool | Type::String),
        (ScimType::Integer | ScimType::Decimal, t) => {
            matches!(t, Type::Int | Type::Float | Type::String)
        }
        (ScimType::DateTime, t) => matches!(t, Type::Time | Type::String),
        (ScimType::Complex, _) => false,
    };
    if !ok {
        let help = match (target.ty, ty.non_nil()) {
            (_, Type::Array(_)) => {
                "pick one item, e.g. `first(…)`, or `join(…, \", \")` for text".to_string()
            }
            (_, Type::Object(_) | Type::Map) => "map one of its fields, e.g. `.value`".to_string(),
            (ScimType::Boolean, _) => {
                "compare it to get a bool, e.g. `x == \"ACTIVATED\"`".to_string()
            }
            (ScimType::DateTime, _) => "parse it with `date(…)`".to_string(),
            _ => "convert it with `string(…)`, `int(…)` or `float(…)`".to_string(),
        };
        diagnostics.push(
            Diagnostic::error(
                "scimap::target-type",
                span,
                format!(
                    "a value of type {} can never become `{}`, a SCIM {}",
                    ty.non_nil(),
                    quote(&target.canonical()),
                    target.ty.name()
                ),
            )
            .with_label(format!("this is `{ty}`"))
            .with_help(help),
        );
    }
}

fn source_text(source: &ast::Source, text: &str) -> (String, Span) {
    let span = match source {
        ast::Source::Direct(p) => p.span,
        ast::Source::Const(c) => {
            // Include the `const` keyword, which the value's span does not.
            let start = text[..c.span.start].rfind("const").unwrap_or(c.span.start);
            Span::new(start, c.span.end)
        }
        ast::Source::Expr(e) => e.span,
    };
    (
        text.get(span.start..span.end).unwrap_or("").to_string(),
        span,
    )
}

/// Checks a lone expression (`scimap expr`): an empty section to evaluate it in, and its IR.
pub fn check_expression(
    e: &ast::Expr,
    source: &str,
    group: bool,
    limits: &Limits,
) -> Result<(ir::Section, ir::Node), Vec<Diagnostic>> {
    let mut lets = SectionLets::default();
    let mut fields = Vec::new();
    let mut diagnostics = Vec::new();
    let shared = Shared::new(limits);
    let mut checker = ExprChecker::new(
        source,
        group,
        &mut lets,
        &mut fields,
        &mut diagnostics,
        &shared,
    );
    let (node, _) = checker.check_whole(e);
    let locals = checker.max_slot;
    drop(checker);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostic::cap(diagnostics));
    }
    let section = ir::Section {
        core_urn: core_urn(group),
        entries: Vec::new(),
        lets: Vec::new(),
        hints: ir::FieldHints::new(&fields),
        fields,
        locals,
        shared: 0,
        payload: ir::PayloadPlan::default(),
        required: Vec::new(),
    };
    Ok((section, node))
}

/// The payload's core schema URN for a section.
fn core_urn(group: bool) -> ir::Key {
    let urn = if group {
        schema::CORE_GROUP
    } else {
        schema::CORE_USER
    };
    ir::Key::new(urn.to_string())
}
