//! Targets: resolve SCIM attribute paths against the schemas and fix the payload's shape.

use crate::diagnostic::{quote, Diagnostic, Span};
use crate::ir::{Element, Key, PayloadPlan, PlanNode, TopNode};
use crate::schema::{self, Mutability, ScimAttribute, ScimSchema, ScimType};
use crate::suggest::Suggester;
use crate::syntax::ast::{SectionKind, Selector, Target};
use std::collections::HashMap;

/// A target resolved to canonical names.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The extension URN, or None for the section's core schema.
    pub urn: Option<String>,
    pub attr: String,
    pub sub: Option<String>,
    pub selection: Selection,
    pub ty: ScimType,
    /// Whether the attribute itself is multi-valued.
    pub multi: bool,
    /// The canonical values of the target (`type` of `emails`), for the constant check.
    pub canonical_values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    None,
    ElementWise,
    /// Canonical sub-attribute names and their values, in the order written.
    Filter(Vec<(String, serde_json::Value)>),
}

impl Resolved {
    /// The target as errors write it: `emails[type eq "work"].value`, `addresses[].locality`.
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        if let Some(urn) = &self.urn {
            s.push_str(urn);
            s.push(':');
        }
        s.push_str(&self.attr);
        match &self.selection {
            Selection::None => {}
            Selection::ElementWise => s.push_str("[]"),
            Selection::Filter(terms) => {
                s.push('[');
                for (i, (name, value)) in terms.iter().enumerate() {
                    if i > 0 {
                        s.push_str(" and ");
                    }
                    s.push_str(name);
                    s.push_str(" eq ");
                    s.push_str(&value.to_string());
                }
                s.push(']');
            }
        }
        if let Some(sub) = &self.sub {
            s.push('.');
            s.push_str(sub);
        }
        s
    }

    /// Identifies the value slot: two entries with the same key are duplicates.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.urn.as_deref().unwrap_or("").to_ascii_lowercase(),
            self.attr.to_ascii_lowercase(),
            self.element_key(),
            self.sub.as_deref().unwrap_or("").to_ascii_lowercase()
        )
    }

    /// Identifies the element of a multi-valued attribute: filter names and values, any order.
    fn element_key(&self) -> String {
        match &self.selection {
            Selection::None => String::new(),
            Selection::ElementWise => "[]".into(),
            Selection::Filter(terms) => {
                let mut parts: Vec<String> = terms
                    .iter()
                    .map(|(n, v)| format!("{}={v}", n.to_ascii_lowercase()))
                    .collect();
                parts.sort();
                parts.join("&")
            }
        }
    }
}

/// The schemas a mapping declares, found by URN: a mapping may declare thousands.
#[derive(Default)]
pub struct Declared {
    schemas: Vec<ScimSchema>,
    /// Lower-cased URN → index.
    by_urn: HashMap<String, usize>,
    /// Lower-cased attribute name → the first schema declaring it.
    by_attr: HashMap<String, usize>,
}

impl Declared {
    /// Adds a schema whose URN is not declared yet.
    pub fn push(&mut self, schema: ScimSchema) {
        let i = self.schemas.len();
        self.by_urn.insert(schema.urn.to_ascii_lowercase(), i);
        for a in &schema.attributes {
            self.by_attr.entry(a.name.to_ascii_lowercase()).or_insert(i);
        }
        self.schemas.push(schema);
    }

    /// The declared schema of a URN, compared case-insensitively.
    pub fn get(&self, urn: &str) -> Option<&ScimSchema> {
        self.by_urn
            .get(&urn.to_ascii_lowercase())
            .map(|&i| &self.schemas[i])
    }

    /// The schemas, for update plans to compare by.
    pub fn into_schemas(self) -> Vec<ScimSchema> {
        self.schemas
    }

    fn with_attribute(&self, name: &str) -> Option<&ScimSchema> {
        self.by_attr
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.schemas[i])
    }
}

/// The schemas a section can target.
pub struct Schemas<'s> {
    pub kind: SectionKind,
    pub declared: &'s Declared,
    pub suggest: &'s Suggester,
}

impl Schemas<'_> {
    pub fn core(&self) -> &'static ScimSchema {
        match self.kind {
            SectionKind::User => schema::core_user(),
            SectionKind::Group => schema::core_group(),
        }
    }

    fn enterprise(&self) -> Option<&'static ScimSchema> {
        match self.kind {
            SectionKind::User => Some(schema::enterprise_user()),
            SectionKind::Group => None,
        }
    }

    /// Resolves a target or explains why it is not one.
    // The error is the diagnostic itself, built once per entry at compile time.
    #[allow(clippy::result_large_err)]
    pub fn resolve(&self, t: &Target) -> Result<(Resolved, Vec<Diagnostic>), Diagnostic> {
        let core = self.core();
        let mut warnings = Vec::new();
        let (schema, urn, declared) = match &t.urn {
            None => (core, None, false),
            Some(u) if u.node.eq_ignore_ascii_case(&core.urn) => (core, None, false),
            Some(u) => match self
                .enterprise()
                .filter(|s| s.urn.eq_ignore_ascii_case(&u.node))
            {
                Some(s) => (s, Some(s.urn.clone()), false),
                None => match self.declared.get(&u.node) {
                    Some(s) => (s, Some(s.urn.clone()), true),
                    None => return Err(self.unknown_urn(&u.node, u.span)),
                },
            },
        };
        let undeclared;
        let attr = match schema.attribute(&t.attr.node) {
            Some(a) => a,
            // A declared schema's attributes it does not list are strings (reference §file-schema).
            None if declared && !t.attr.node.contains('.') => {
                undeclared = ScimAttribute::undeclared(&t.attr.node);
                &undeclared
            }
            // The schema files do not list `schemas`: scimap writes it.
            None if urn.is_none() && t.attr.node.eq_ignore_ascii_case("schemas") => {
                return Err(Diagnostic::error(
                    "scimap::forbidden-target",
                    t.attr.span,
                    "`schemas` cannot be mapped: scimap writes it from the targets used",
                )
                .with_label("not a target")
                .with_help("remove this entry; each extension URN is listed when one of its attributes is mapped"));
            }
            None => {
                return Err(self.unknown_attr(schema, urn.is_none(), &t.attr.node, t.attr.span))
            }
        };
        forbid(attr, t.attr.span, self.kind)?;
        let selection = match &t.selector {
            Selector::None => Selection::None,
            Selector::ElementWise(span) => {
                if !attr.multi_valued {
                    return Err(single_valued(attr, *span, "`[]`"));
                }
                Selection::ElementWise
            }
            Selector::Filter(terms) => {
                let span = terms
                    .first()
                    .map(|f| f.span)
                    .unwrap_or(t.attr.span)
                    .to(terms.last().map(|f| f.span).unwrap_or(t.attr.span));
                if !attr.multi_valued {
                    return Err(single_valued(attr, span, "a filter"));
                }
                let mut resolved = Vec::with_capacity(terms.len());
                for term in terms {
                    let sub = attr.sub(&term.attr.node).ok_or_else(|| {
                        unknown_sub(attr, &term.attr.node, term.attr.span, self.suggest)
                    })?;
                    if sub.name == "type"
                        && !sub.canonical_values.is_empty()
                        && term.value.node.as_str().is_some_and(|v| {
                            !sub.canonical_values
                                .iter()
                                .any(|c| c.eq_ignore_ascii_case(v))
                        })
                    {
                        warnings.push(non_canonical(
                            sub,
                            &term.value.node,
                            term.value.span,
                            attr,
                            self.suggest,
                        ));
                    }
                    resolved.push((sub.name.clone(), term.value.node.clone()));
                }
                Selection::Filter(resolved)
            }
        };
        let (ty, sub, canonical_values) = match &t.sub {
            Some(s) => {
                if attr.sub_attributes.is_empty() {
                    return Err(Diagnostic::error(
                        "scimap::unknown-target",
                        s.span,
                        format!("`{}` has no sub-attributes", quote(&attr.name)),
                    )
                    .with_help(format!("map `{}` itself", quote(&attr.name))));
                }
                let sub = attr
                    .sub(&s.node)
                    .ok_or_else(|| unknown_sub(attr, &s.node, s.span, self.suggest))?;
                if sub.mutability == Mutability::ReadOnly {
                    return Err(Diagnostic::error(
                        "scimap::forbidden-target",
                        s.span,
                        format!(
                            "`{}.{}` is read-only: the service provider sets it",
                            attr.name, sub.name
                        ),
                    )
                    .with_label("not a target")
                    .with_help("remove this entry"));
                }
                if let Selection::Filter(terms) = &selection {
                    if terms.iter().any(|(n, _)| n == &sub.name) {
                        return Err(Diagnostic::error(
                            "scimap::filter-fixed",
                            s.span,
                            format!("`{}` is fixed by this entry's own filter", sub.name),
                        )
                        .with_help("the filter already sets it; map another sub-attribute"));
                    }
                }
                (sub.ty, Some(sub.name.clone()), sub.canonical_values.clone())
            }
            None => {
                if attr.ty == ScimType::Complex {
                    let example = attr
                        .sub_attributes
                        .first()
                        .map(|s| format!(" such as `{}.{}`", attr.name, s.name))
                        .unwrap_or_default();
                    let subs: Vec<&str> = attr
                        .sub_attributes
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect();
                    return Err(Diagnostic::error(
                        "scimap::complex-target",
                        t.span,
                        format!(
                            "`{}` is a complex attribute: map its sub-attributes{example}",
                            attr.name
                        ),
                    )
                    .with_label("an object, not a value")
                    .with_help(format!("its sub-attributes are {}", subs.join(", "))));
                }
                if attr.multi_valued {
                    return Err(Diagnostic::error(
                        "scimap::complex-target",
                        t.span,
                        format!(
                            "`{}` is multi-valued without sub-attributes; scimap cannot target it",
                            attr.name
                        ),
                    ));
                }
                (attr.ty, None, attr.canonical_values.clone())
            }
        };
        Ok((
            Resolved {
                urn,
                attr: attr.name.clone(),
                sub,
                selection,
                ty,
                multi: attr.multi_valued,
                canonical_values,
            },
            warnings,
        ))
    }

    fn unknown_urn(&self, urn: &str, span: Span) -> Diagnostic {
        let known = schema::builtin_urns()
            .iter()
            .copied()
            .chain(self.declared.schemas.iter().map(|s| s.urn.as_str()));
        let d = Diagnostic::error(
            "scimap::unknown-schema",
            span,
            format!("unknown schema `{}`", quote(urn)),
        )
        .with_label("not built in and not declared");
        match self.suggest.did_you_mean(urn, known) {
            Some(s) => d.with_help(format!("did you mean `{}`?", quote(s))),
            None => d.with_help(format!(
                "declare it first: schema \"{}\" {{ name: string }}",
                quote(urn)
            )),
        }
    }

    fn unknown_attr(&self, schema: &ScimSchema, core: bool, name: &str, span: Span) -> Diagnostic {
        let d = Diagnostic::error(
            "scimap::unknown-target",
            span,
            format!(
                "unknown attribute `{}` of {}",
                quote(name),
                quote(&schema.name)
            ),
        )
        .with_label("not a SCIM attribute here");
        let attributes = schema.attributes.iter().map(|a| a.name.as_str());
        if let Some(s) = self.suggest.did_you_mean(name, attributes) {
            return d.with_help(format!("did you mean `{}`?", quote(s)));
        }
        if core {
            let extension = self
                .enterprise()
                .filter(|s| s.attribute(name).is_some())
                .or_else(|| self.declared.with_attribute(name));
            if let Some(ext) = extension {
                return d.with_help(format!(
                    "`{}` belongs to an extension: write `{}:{}`",
                    quote(name),
                    quote(&ext.urn),
                    quote(name)
                ));
            }
        }
        d
    }
}

// The error is the diagnostic itself, built once per entry at compile time.
#[allow(clippy::result_large_err)]
fn forbid(attr: &ScimAttribute, span: Span, kind: SectionKind) -> Result<(), Diagnostic> {
    let why = if attr.mutability == Mutability::ReadOnly {
        Some("it is read-only: the service provider sets it")
    } else if kind == SectionKind::Group && attr.name == "members" {
        Some("group membership is synced separately")
    } else {
        None
    };
    match why {
        Some(why) => Err(Diagnostic::error(
            "scimap::forbidden-target",
            span,
            format!("`{}` cannot be mapped: {why}", attr.name),
        )
        .with_label("not a target")
        .with_help("remove this entry")),
        None => Ok(()),
    }
}

fn single_valued(attr: &ScimAttribute, span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        "scimap::single-valued-filter",
        span,
        format!(
            "`{}` is single-valued, so {what} cannot select an element of it",
            quote(&attr.name)
        ),
    )
    .with_label("only multi-valued attributes have elements")
    .with_help(format!(
        "remove the brackets and map `{}` directly",
        match attr.sub_attributes.first() {
            Some(sub) => format!("{}.{}", attr.name, sub.name),
            None => quote(&attr.name).to_string(),
        }
    ))
}

fn unknown_sub(attr: &ScimAttribute, name: &str, span: Span, suggest: &Suggester) -> Diagnostic {
    let d = Diagnostic::error(
        "scimap::unknown-target",
        span,
        format!(
            "`{}` has no sub-attribute `{}`",
            quote(&attr.name),
            quote(name)
        ),
    );
    match suggest.did_you_mean(name, attr.sub_attributes.iter().map(|s| s.name.as_str())) {
        Some(s) => d.with_help(format!("did you mean `{}`?", quote(s))),
        None => {
            let names: Vec<&str> = attr
                .sub_attributes
                .iter()
                .map(|s| s.name.as_str())
                .collect();
            d.with_help(format!("its sub-attributes are {}", names.join(", ")))
        }
    }
}

fn non_canonical(
    sub: &ScimAttribute,
    value: &serde_json::Value,
    span: Span,
    attr: &ScimAttribute,
    suggest: &Suggester,
) -> Diagnostic {
    let d = Diagnostic::warning(
        "scimap::non-canonical",
        span,
        format!(
            "{} is not a canonical `{}` of `{}` ({})",
            quote(&value.to_string()),
            sub.name,
            attr.name,
            sub.canonical_values.join(", ")
        ),
    );
    let v = value.as_str().unwrap_or("");
    match suggest.did_you_mean(v, sub.canonical_values.iter().map(String::as_str)) {
        Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
        None => d.with_help("service providers may reject or ignore other values"),
    }
}

/// Builds the payload's shape from the resolved entries, in file order. Positions are found
/// through maps, not scans: a mapping may have thousands of entries.
pub fn plan(entries: &[Resolved]) -> PayloadPlan {
    let mut plan = PayloadPlan::default();
    // Top-level attribute or extension → its index in `plan.top`.
    let mut tops: HashMap<(bool, String), usize> = HashMap::new();
    // Extension URN and attribute → its index among the extension's keys.
    let mut ext_keys: HashMap<(String, String), usize> = HashMap::new();
    // URN, attribute and element key → the element's index in its attribute.
    let mut elements: HashMap<String, usize> = HashMap::new();
    for (i, r) in entries.iter().enumerate() {
        let element = match &r.selection {
            Selection::Filter(_) => Some(format!(
                "{}|{}|{}",
                r.urn.as_deref().unwrap_or(""),
                r.attr,
                r.element_key()
            )),
            _ => None,
        };
        let node = match &r.urn {
            None => {
                let top = *tops.entry((false, r.attr.clone())).or_insert_with(|| {
                    plan.top
                        .push(TopNode::Attr(Key::new(r.attr.clone()), new_node(r)));
                    plan.top.len() - 1
                });
                match &mut plan.top[top] {
                    TopNode::Attr(_, node) => node,
                    TopNode::Extension(..) => continue,
                }
            }
            Some(urn) => {
                let top = *tops.entry((true, urn.clone())).or_insert_with(|| {
                    plan.top
                        .push(TopNode::Extension(Key::new(urn.clone()), Vec::new()));
                    plan.top.len() - 1
                });
                let TopNode::Extension(_, keys) = &mut plan.top[top] else {
                    continue;
                };
                let k = *ext_keys
                    .entry((urn.clone(), r.attr.clone()))
                    .or_insert_with(|| {
                        keys.push((Key::new(r.attr.clone()), new_node(r)));
                        keys.len() - 1
                    });
                &mut keys[k].1
            }
        };
        extend(node, r, i, element, &mut elements);
    }
    for node in &mut plan.top {
        match node {
            TopNode::Attr(name, n) => auto_primary(name, n, entries),
            TopNode::Extension(_, keys) => {
                for (name, n) in keys {
                    auto_primary(name, n, entries);
                }
            }
        }
    }
    plan
}

/// An empty node of the right shape for the attribute.
fn new_node(r: &Resolved) -> PlanNode {
    if r.multi {
        PlanNode::Multi {
            elements: Vec::new(),
            element_wise: Vec::new(),
        }
    } else if r.sub.is_some() {
        PlanNode::Complex(Vec::new())
    } else {
        PlanNode::Value(usize::MAX)
    }
}

fn extend(
    node: &mut PlanNode,
    r: &Resolved,
    i: usize,
    element: Option<String>,
    index: &mut HashMap<String, usize>,
) {
    let sub = Key::new(r.sub.clone().unwrap_or_default());
    match node {
        PlanNode::Value(entry) => *entry = i,
        PlanNode::Complex(subs) => subs.push((sub, i)),
        PlanNode::Multi {
            elements,
            element_wise,
        } => match (&r.selection, element) {
            (Selection::ElementWise, _) => element_wise.push((sub, i)),
            (Selection::Filter(terms), Some(key)) => {
                let e = *index.entry(key).or_insert_with(|| {
                    elements.push(Element {
                        fixed: terms
                            .iter()
                            .map(|(n, v)| (Key::new(n.clone()), v.clone()))
                            .collect(),
                        subs: Vec::new(),
                        auto_primary: false,
                    });
                    elements.len() - 1
                });
                elements[e].subs.push((sub, i));
            }
            _ => match elements.iter_mut().find(|e| e.fixed.is_empty()) {
                Some(e) => e.subs.push((sub, i)),
                None => elements.push(Element {
                    fixed: Vec::new(),
                    subs: vec![(sub, i)],
                    auto_primary: false,
                }),
            },
        },
    }
}

/// The unfiltered element gets `primary: true` unless an entry of the attribute maps or filters
/// on `primary`.
fn auto_primary(name: &str, node: &mut PlanNode, entries: &[Resolved]) {
    if let PlanNode::Multi { elements, .. } = node {
        let mentions_primary = entries.iter().any(|r| {
            r.attr == name
                && (r.sub.as_deref() == Some("primary")
                    || matches!(&r.selection, Selection::Filter(t) if t.iter().any(|(n, _)| n == "primary")))
        });
        if !mentions_primary {
            if let Some(e) = elements.iter_mut().find(|e| e.fixed.is_empty()) {
                e.auto_primary = true;
            }
        }
    }
}
