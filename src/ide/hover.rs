//! Hover: a target's SCIM attribute, a function's catalogue entry, a field of the record (or of
//! an object in it), a `let`, or else the type of the expression under the cursor. Attributes
//! and fields come with their description from `stdlib/`.

use super::{
    builtin_schemas, contains, declared_schemas, item_expr, record_of, walk, Analysis, Position,
    Range,
};
use crate::diagnostic::Span;
use crate::schema::{Mutability, ScimAttribute, ScimSchema};
use crate::syntax::ast::{self, ExprKind, SectionKind};
use crate::types::{ObjectType, Type};
use std::sync::Arc;

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
        if let Some(hover) = self.member_hover(file, kind, e, offset, &types) {
            return Some(hover);
        }
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
                        markdown.push('\n');
                        markdown.push_str(&field_markdown(&owner(o, kind), o, name));
                    }
                }
            } else {
                markdown.push_str("\nA `let` of this section.");
            }
        }
        Some((markdown, *span))
    }

    /// A field read from an object: `mfa.configured` (the cursor on `configured`), or `.type`
    /// inside a predicate over a list of objects. Its type and the field's description.
    fn member_hover(
        &self,
        file: &ast::File,
        kind: SectionKind,
        e: &ast::Expr,
        offset: usize,
        types: &[(Span, Type)],
    ) -> Option<(String, Span)> {
        // The innermost: `walk` visits an expression before those inside it.
        let mut found = None;
        let mut list = None;
        walk(e, &mut |x| match &x.kind {
            ExprKind::Member { object, index, .. } if contains(index.span, offset) => {
                if let ExprKind::Str(name) = &index.kind {
                    found = Some((x.span, object.as_ref(), name, false));
                }
            }
            ExprKind::PointerField(name) if contains(x.span, offset) => {
                found = list.map(|l| (x.span, l, name, true));
            }
            ExprKind::Call { args, .. }
                if args.iter().any(|a| {
                    matches!(a.kind, ExprKind::Closure(_)) && contains(a.span, offset)
                }) =>
            {
                list = args.first();
            }
            _ => {}
        });
        let (span, object, name, element) = found?;
        // The object's type, asked where its span ends (the cursor is past it).
        let object_type = self
            .types_at(file, object.span.end)
            .into_iter()
            .find(|(s, _)| *s == object.span)?
            .1;
        let owner_type = if element {
            non_array(&object_type)
        } else {
            object_type.non_nil()
        };
        let Type::Object(o) = owner_type else {
            return None;
        };
        let ty = match types.iter().find(|(s, _)| *s == span) {
            Some((_, t)) => t.clone(),
            None => o.field(name)?.clone(),
        };
        let text = self.text.get(span.start..span.end).unwrap_or("");
        let markdown = format!(
            "```scimap\n{}: {ty}\n```\n{}",
            super::one_line(text),
            field_markdown(&owner(o, kind), o, name)
        );
        Some((markdown, span))
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
        "**{name}**: SCIM `{}` of {} (`{}`)\n\n",
        attr.ty.name(),
        schema.name,
        schema.urn,
    );
    if !attr.description.is_empty() {
        out.push_str(&attr.description);
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "mutability: {mutability} · required: {} · multi-valued: {} · case-exact: {}",
        yes(attr.required),
        yes(multi),
        yes(attr.case_exact),
    ));
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

/// `$.a.b`: the type of the record field the path names, when it names one, and what the
/// field is.
fn direct_hover(kind: SectionKind, path: &str) -> Option<String> {
    let mut ty = record_of(kind);
    let mut last = None;
    let rest = path.strip_prefix('$')?;
    for name in rest.split('.').skip(1) {
        let name = name.split('[').next()?;
        let Type::Object(o) = non_array(ty) else {
            return None;
        };
        ty = o.field(name)?;
        last = Some((o, name));
    }
    let mut out = format!(
        "```scimap\n{path}: {ty}\n```\nA path into the JumpCloud {} record, copied as it is.",
        section_name(kind)
    );
    if let Some(description) = last.and_then(|(o, name)| o.description(name)) {
        out.push_str("\n\n");
        out.push_str(description);
    }
    Some(out)
}

/// Whose field a field of `o` is: "the JumpCloud user record", or "`address`".
pub(super) fn owner(o: &Arc<ObjectType>, kind: SectionKind) -> String {
    match record_of(kind) {
        Type::Object(record) if Arc::ptr_eq(record, o) => {
            format!("the JumpCloud {} record", section_name(kind))
        }
        _ => format!("`{}`", o.name),
    }
}

/// "A field of OWNER." and the field's description from the record schema.
pub(super) fn field_markdown(owner: &str, o: &ObjectType, name: &str) -> String {
    match o.description(name) {
        Some(description) => format!("A field of {owner}.\n\n{description}"),
        None => format!("A field of {owner}."),
    }
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
