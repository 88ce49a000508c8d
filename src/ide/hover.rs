//! Hover: a target's SCIM attribute, a function's catalogue entry, a field of the record, a
//! `let`, or else the type of the expression under the cursor.

use super::{
    builtin_schemas, contains, declared_schemas, item_expr, record_of, walk, Analysis, Position,
    Range,
};
use crate::diagnostic::Span;
use crate::schema::{Mutability, ScimAttribute, ScimSchema};
use crate::syntax::ast::{self, ExprKind, SectionKind};
use crate::types::Type;

/// Markdown about what is under the cursor, and the range it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Hover {
    pub markdown: String,
    pub range: Range,
}

impl Analysis {
    pub fn hover(&self, position: Position) -> Option<Hover> {
        let offset = self.offset(position);
        let file = self.tree_at(offset)?;
        let file = file.as_ref();
        let section = file.sections.iter().find(|s| contains(s.span, offset))?;
        let item = section
            .items
            .iter()
            .find(|i| contains(super::item_span(i), offset))?;
        let (markdown, span) = match item {
            ast::Item::Entry(e) if contains(e.target.span, offset) => (
                self.target_hover(file, section.kind, &e.target)?,
                e.target.span,
            ),
            ast::Item::Entry(ast::Entry {
                source: ast::Source::Direct(p),
                ..
            }) if contains(p.span, offset) => (direct_hover(section.kind, &p.node)?, p.span),
            ast::Item::Let(l) if contains(l.name.span, offset) => {
                let ty = self
                    .let_types(file)
                    .into_iter()
                    .find(|(s, _)| *s == l.name.span)
                    .map(|(_, t)| t)?;
                (
                    format!(
                        "```scimap\nlet {}: {ty}\n```\nA `let` of this section.",
                        l.name.node
                    ),
                    l.name.span,
                )
            }
            _ => self.expression_hover(file, section.kind, item_expr(item)?, offset)?,
        };
        Some(Hover {
            markdown,
            range: self.range(span),
        })
    }

    fn expression_hover(
        &self,
        file: &ast::File,
        kind: SectionKind,
        e: &ast::Expr,
        offset: usize,
    ) -> Option<(String, Span)> {
        if !contains(e.span, offset) {
            return None;
        }
        // A function's name first: it is no expression of its own.
        let mut call = None;
        walk(e, &mut |x| match &x.kind {
            ExprKind::Call { name, .. } if contains(name.span, offset) => call = Some(name),
            _ => {}
        });
        if let Some(name) = call {
            let doc = crate::functions().iter().find(|f| f.name == name.node)?;
            return Some((function_markdown(doc), name.span));
        }
        let types = self.types_at(file, offset);
        let (span, ty) = types.last()?;
        let text = self.text.get(span.start..span.end).unwrap_or("");
        let mut innermost = None;
        walk(e, &mut |x| {
            if x.span == *span {
                innermost = Some(x);
            }
        });
        let mut markdown = format!("```scimap\n{}: {ty}\n```", super::one_line(text));
        if let Some(ExprKind::Ident(name)) = innermost.map(|x| &x.kind) {
            let section = file.sections.iter().find(|s| contains(s.span, offset));
            let is_let = section.is_some_and(|s| {
                s.items.iter().any(
                    |i| matches!(i, ast::Item::Let(l) if &l.name.node == name && l.span.start < offset),
                )
            });
            let record = record_of(kind);
            if !is_let {
                if let Type::Object(o) = record {
                    if o.field(name).is_some() {
                        markdown.push_str(&format!(
                            "\nA field of the JumpCloud {} record.",
                            section_name(kind)
                        ));
                    }
                }
            } else {
                markdown.push_str("\nA `let` of this section.");
            }
        }
        Some((markdown, *span))
    }

    fn target_hover(
        &self,
        file: &ast::File,
        kind: SectionKind,
        target: &ast::Target,
    ) -> Option<String> {
        let declared = declared_schemas(file);
        let mut schemas: Vec<&ScimSchema> = builtin_schemas(kind);
        schemas.extend(declared.iter());
        let schema = match &target.urn {
            None => schemas[0],
            Some(u) => schemas
                .iter()
                .copied()
                .find(|s| s.urn.eq_ignore_ascii_case(&u.node))?,
        };
        let attr = schema.attribute(&target.attr.node)?;
        let (attr, parent) = match &target.sub {
            Some(sub) => (attr.sub(&sub.node)?, Some(attr)),
            None => (attr, None),
        };
        Some(attribute_markdown(attr, parent, schema))
    }
}

/// `**name.givenName**` — its SCIM type and properties, where it is from.
pub(super) fn attribute_markdown(
    attr: &ScimAttribute,
    parent: Option<&ScimAttribute>,
    schema: &ScimSchema,
) -> String {
    let name = match parent {
        Some(p) => format!("{}.{}", p.name, attr.name),
        None => attr.name.clone(),
    };
    let yes = |b: bool| if b { "yes" } else { "no" };
    let mutability = match attr.mutability {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    };
    let multi = parent.map_or(attr.multi_valued, |p| p.multi_valued);
    let mut out = format!(
        "**{name}**: SCIM `{}` of {} (`{}`)\n\nmutability: {mutability} · required: {} · multi-valued: {} · case-exact: {}",
        attr.ty.name(),
        schema.name,
        schema.urn,
        yes(attr.required),
        yes(multi),
        yes(attr.case_exact),
    );
    if !attr.canonical_values.is_empty() {
        out.push_str(&format!(
            "\n\ncanonical values: {}",
            attr.canonical_values.join(", ")
        ));
    }
    out
}

pub(super) fn function_markdown(doc: &crate::FunctionDoc) -> String {
    let mut out = format!("```scimap\n{}\n```\n{}", doc.signature, doc.summary);
    if !doc.details.is_empty() {
        out.push_str("\n\n");
        out.push_str(&doc.details);
    }
    if !doc.examples.is_empty() {
        out.push_str("\n\n```scimap\n");
        for (expression, expected) in &doc.examples {
            out.push_str(&format!("{expression}  // {expected}\n"));
        }
        out.push_str("```");
    }
    out
}

/// `$.a.b`: the type of the record field the path names, when it names one.
fn direct_hover(kind: SectionKind, path: &str) -> Option<String> {
    let mut ty = record_of(kind);
    let rest = path.strip_prefix('$')?;
    for name in rest.split('.').skip(1) {
        let name = name.split('[').next()?;
        let Type::Object(o) = non_array(ty) else {
            return None;
        };
        ty = o.field(name)?;
    }
    Some(format!(
        "```scimap\n{path}: {ty}\n```\nA path into the JumpCloud {} record, copied as it is.",
        section_name(kind)
    ))
}

/// The type behind nullables and arrays (an array literal may nest as deep as `depth`).
pub(super) fn non_array(mut ty: &Type) -> &Type {
    while let Type::Nullable(t) | Type::Array(t) = ty {
        ty = t;
    }
    ty
}

pub(super) fn section_name(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::User => "user",
        SectionKind::Group => "group",
    }
}
