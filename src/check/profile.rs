//! The app profile (reference §profile): its settings checked and lowered to a [`Profile`], and
//! the entries checked against it (create-only entries, the matching attribute, groups).

use super::target::{Declared, Resolved};
use crate::diagnostic::{quote, Diagnostic, Span};
use crate::profile::{Profile, UpdateStyle};
use crate::schema::{self, Mutability, ScimSchema, ScimType};
use crate::suggest::Suggester;
use crate::syntax::ast::{ProfileDecl, SettingValue, Spanned};
use std::collections::HashMap;

/// The settings a profile may have, as written.
pub const SETTINGS: [&str; 6] = [
    "update",
    "updatable",
    "patchOnly",
    "groups",
    "matching",
    "maxPatchOperations",
];

/// An attribute path of the profile, resolved against the user schemas.
#[derive(Debug)]
struct Path {
    urn: Option<String>,
    attr: String,
    sub: Option<String>,
    span: Span,
}

impl Path {
    fn canonical(&self) -> String {
        let mut s = self.urn.as_ref().map_or(String::new(), |u| format!("{u}:"));
        s.push_str(&self.attr);
        if let Some(sub) = &self.sub {
            s.push('.');
            s.push_str(sub);
        }
        s
    }

    /// Whether an entry's target is this attribute or one of its sub-attributes.
    fn covers(&self, r: &Resolved) -> bool {
        self.urn == r.urn && self.attr == r.attr && (self.sub.is_none() || self.sub == r.sub)
    }
}

/// Attribute paths by key, so that the checks stay linear when a list or a section is long.
type Key = (Option<String>, String, Option<String>);

/// The first path of `paths` that is the attribute `(urn, attr, sub)` or its parent.
fn find<'p>(
    paths: &'p HashMap<Key, &Path>,
    urn: &Option<String>,
    attr: &str,
    sub: &Option<String>,
) -> Option<&'p Path> {
    let exact = (urn.clone(), attr.to_string(), sub.clone());
    let parent = (urn.clone(), attr.to_string(), None);
    paths.get(&exact).or_else(|| paths.get(&parent)).copied()
}

fn index<'p>(paths: impl Iterator<Item = &'p Path>) -> HashMap<Key, &'p Path> {
    let mut map = HashMap::new();
    for p in paths {
        map.entry((p.urn.clone(), p.attr.clone(), p.sub.clone()))
            .or_insert(p);
    }
    map
}

/// The profile and where its settings were written, for the entry checks.
#[derive(Debug, Default)]
pub struct CheckedProfile {
    pub profile: Profile,
    updatable: Vec<Path>,
    patch_only: Vec<Path>,
    matching: Option<Path>,
    /// The `groups = false` setting.
    no_groups: Option<Span>,
}

/// What the entry checks need of one user or group entry.
pub struct EntryFacts {
    pub target: Resolved,
    pub create: Option<Span>,
    /// The source as written, where it is, and whether its type may be nil.
    pub source_text: String,
    pub source_span: Span,
    pub may_be_nil: bool,
}

pub fn check(
    decl: Option<&ProfileDecl>,
    declared: &Declared,
    suggest: &Suggester,
    diagnostics: &mut Vec<Diagnostic>,
) -> CheckedProfile {
    let mut out = CheckedProfile::default();
    let Some(decl) = decl else { return out };
    let mut seen: Vec<&Spanned<String>> = Vec::new();
    for setting in &decl.settings {
        let key = &setting.key;
        let Some(&name) = SETTINGS.iter().find(|s| **s == key.node) else {
            let d = Diagnostic::error(
                "scimap::unknown-setting",
                key.span,
                format!("unknown profile setting `{}`", quote(&key.node)),
            )
            .with_label("not a setting");
            diagnostics.push(match suggest.did_you_mean(&key.node, SETTINGS) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("the settings are {}", SETTINGS.join(", "))),
            });
            continue;
        };
        if let Some(first) = seen.iter().find(|k| k.node == name) {
            diagnostics.push(
                Diagnostic::error(
                    "scimap::duplicate-setting",
                    key.span,
                    format!("`{name}` is set twice"),
                )
                .with_secondary(first.span, "first set here")
                .with_help("remove one of the two settings"),
            );
            continue;
        }
        seen.push(key);
        let value = &setting.value;
        let wrong = |expected: &str| {
            let span = match value {
                SettingValue::Word(w) | SettingValue::Count(w) => w.span,
                SettingValue::List(_, span) => *span,
            };
            Diagnostic::error(
                "scimap::setting-value",
                span,
                format!("`{name}` takes {expected}"),
            )
        };
        match (name, value) {
            ("update", SettingValue::Word(w)) if w.node == "patch" => {
                out.profile.update = UpdateStyle::Patch;
            }
            ("update", SettingValue::Word(w)) if w.node == "put" => {
                out.profile.update = UpdateStyle::Put;
            }
            ("update", _) => diagnostics.push(wrong("`patch` or `put`")),
            ("groups", SettingValue::Word(w)) if w.node == "true" => out.profile.groups = true,
            ("groups", SettingValue::Word(w)) if w.node == "false" => {
                out.profile.groups = false;
                out.no_groups = Some(setting.span);
            }
            ("groups", _) => diagnostics.push(wrong("`true` or `false`")),
            ("maxPatchOperations", SettingValue::Count(c)) => match c.node.parse::<usize>() {
                Ok(n) if n > 0 => out.profile.max_patch_operations = Some(n),
                _ => diagnostics.push(wrong("a count of at least 1")),
            },
            ("maxPatchOperations", _) => diagnostics.push(wrong("a count such as `100`")),
            ("matching", SettingValue::Word(w)) => {
                match resolve(w, declared, suggest, diagnostics) {
                    Some(path) if holds_no_value(&path, declared) => diagnostics.push(wrong(
                        "an attribute that holds one value, such as `userName` or `emails.value`",
                    )),
                    Some(path) => {
                        out.profile.matching = path.canonical();
                        out.matching = Some(path);
                    }
                    None => {}
                }
            }
            ("matching", _) => diagnostics.push(wrong("one attribute, such as `userName`")),
            ("updatable" | "patchOnly", SettingValue::List(paths, _)) => {
                let mut list = Vec::new();
                for p in paths {
                    let Some(path) = resolve(p, declared, suggest, diagnostics) else {
                        continue;
                    };
                    if let Some(why) = refused(&path, declared) {
                        diagnostics.push(
                            Diagnostic::error(
                                "scimap::not-updatable",
                                p.span,
                                format!(
                                    "`{}` cannot change after creation: {why}",
                                    path.canonical()
                                ),
                            )
                            .with_help("remove it from the list"),
                        );
                        continue;
                    }
                    list.push(path);
                }
                if name == "updatable" {
                    out.profile.updatable = Some(list.iter().map(Path::canonical).collect());
                    out.updatable = list;
                } else {
                    out.profile.patch_only = list.iter().map(Path::canonical).collect();
                    out.patch_only = list;
                }
            }
            (_, _) => diagnostics.push(wrong("a list of attributes, such as `[active]`")),
        }
    }
    if out.profile.updatable.is_some() {
        let updatable = index(out.updatable.iter());
        for p in &out.patch_only {
            if find(&updatable, &p.urn, &p.attr, &p.sub).is_none() {
                diagnostics.push(
                    Diagnostic::error(
                        "scimap::not-updatable",
                        p.span,
                        format!(
                            "`{}` is PATCH-only but not updatable: it never changes after creation",
                            p.canonical()
                        ),
                    )
                    .with_help("add it to `updatable`, or remove it from `patchOnly`"),
                );
            }
        }
    }
    out
}

/// Checks a section's entries against the profile: a `group` section the app refuses,
/// create-only entries the profile says change after creation, and (for users) the matching
/// attribute.
pub fn check_entries(
    profile: &CheckedProfile,
    group: Option<Span>,
    entries: &[EntryFacts],
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(keyword) = group {
        if let Some(setting) = profile.no_groups {
            diagnostics.push(
                Diagnostic::error(
                    "scimap::groups-disabled",
                    keyword,
                    "this app takes no groups, but the mapping has a `group` section",
                )
                .with_secondary(setting, "groups are turned off here")
                .with_help("remove the `group` section, or the `groups = false` setting"),
            );
        }
        return;
    }
    let changing = index(profile.updatable.iter().chain(&profile.patch_only));
    for e in entries {
        let Some(create) = e.create else { continue };
        let t = &e.target;
        let conflict = find(&changing, &t.urn, &t.attr, &t.sub);
        if let Some(path) = conflict {
            diagnostics.push(
                Diagnostic::error(
                    "scimap::create-only-conflict",
                    create,
                    format!(
                        "`{}` is create-only, but the profile lets it change after creation",
                        quote(&e.target.canonical())
                    ),
                )
                .with_secondary(path.span, "listed as changing here")
                .with_help("remove `create`, or take the attribute out of the profile's list"),
            );
        }
    }
    let Some(matching) = &profile.matching else {
        // The default, `userName`, is a required attribute: always mapped and never nil.
        return;
    };
    let mapped: Vec<&EntryFacts> = entries
        .iter()
        .filter(|e| matching.covers(&e.target))
        .collect();
    if mapped.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                "scimap::matching-absent",
                matching.span,
                format!(
                    "the matching attribute `{}` is never mapped",
                    matching.canonical()
                ),
            )
            .with_help("map it, or match on `userName`"),
        );
    } else if mapped.iter().all(|e| e.may_be_nil) {
        let e = mapped[0];
        diagnostics.push(
            Diagnostic::warning(
                "scimap::matching-absent",
                e.source_span,
                format!(
                    "the matching attribute `{}` may be absent: `{}` may be nil",
                    quote(&e.target.canonical()),
                    quote(&e.source_text)
                ),
            )
            .with_label("nil for some records")
            .with_secondary(matching.span, "the app matches users on it")
            .with_help("give it a fallback with `??`, or match on `userName`"),
        );
    }
}

/// Resolves an attribute path of the profile against the user schemas.
fn resolve(
    path: &Spanned<String>,
    declared: &Declared,
    suggest: &Suggester,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Path> {
    let text = path.node.as_str();
    let core = schema::core_user();
    let enterprise = schema::enterprise_user();
    let (schema, urn, rest): (&ScimSchema, Option<String>, &str) =
        match text.strip_prefix("urn:").and(text.rfind(':')) {
            Some(i) => {
                let (u, rest) = (&text[..i], &text[i + 1..]);
                let schema = [core, enterprise]
                    .into_iter()
                    .find(|s| s.urn.eq_ignore_ascii_case(u))
                    .or_else(|| declared.get(u));
                match schema {
                    Some(s) if std::ptr::eq(s, core) => (s, None, rest),
                    Some(s) => (s, Some(s.urn.clone()), rest),
                    None => {
                        diagnostics.push(
                            Diagnostic::error(
                                "scimap::unknown-schema",
                                path.span,
                                format!("unknown schema `{}`", quote(u)),
                            )
                            .with_label("not built in and not declared"),
                        );
                        return None;
                    }
                }
            }
            None => (core, None, text),
        };
    let (attr_name, sub_name) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    let unknown = |what: &str, name: &str, candidates: Vec<&str>| {
        let d = Diagnostic::error(
            "scimap::unknown-target",
            path.span,
            format!("unknown attribute `{}` of {what}", quote(name)),
        )
        .with_label("not a SCIM attribute here");
        match suggest.did_you_mean(name, candidates) {
            Some(s) => d.with_help(format!("did you mean `{}`?", quote(s))),
            None => d,
        }
    };
    let Some(attr) = schema.attribute(attr_name) else {
        // A declared schema's attributes it does not list are strings (reference §file-schema).
        if urn.is_some() && declared.get(&schema.urn).is_some() && sub_name.is_none() {
            return Some(Path {
                urn,
                attr: attr_name.to_string(),
                sub: None,
                span: path.span,
            });
        }
        let names = schema.attributes.iter().map(|a| a.name.as_str()).collect();
        diagnostics.push(unknown(&schema.name, attr_name, names));
        return None;
    };
    let sub = match sub_name {
        None => None,
        Some(s) => match attr.sub(s) {
            Some(sub) => Some(sub.name.clone()),
            None => {
                let names = attr
                    .sub_attributes
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect();
                diagnostics.push(unknown(&format!("`{}`", attr.name), s, names));
                return None;
            }
        },
    };
    Some(Path {
        urn,
        attr: attr.name.clone(),
        sub,
        span: path.span,
    })
}

/// A complex or multi-valued attribute without a sub-attribute: nothing to match a user on.
fn holds_no_value(path: &Path, declared: &Declared) -> bool {
    let schema = match &path.urn {
        None => schema::core_user(),
        Some(u) if u.eq_ignore_ascii_case(&schema::enterprise_user().urn) => {
            schema::enterprise_user()
        }
        Some(u) => match declared.get(u) {
            Some(s) => s,
            None => return false,
        },
    };
    match schema.attribute(&path.attr) {
        Some(a) => path.sub.is_none() && (a.ty == ScimType::Complex || a.multi_valued),
        None => false,
    }
}

/// Why SCIM lets no client change an attribute after creation, if it does not.
fn refused(path: &Path, declared: &Declared) -> Option<&'static str> {
    let schema = match &path.urn {
        None => schema::core_user(),
        Some(u) if u.eq_ignore_ascii_case(&schema::enterprise_user().urn) => {
            schema::enterprise_user()
        }
        Some(u) => declared.get(u)?,
    };
    let attr = schema.attribute(&path.attr)?;
    let mutability = match &path.sub {
        Some(s) => attr.sub(s).map_or(attr.mutability, |s| s.mutability),
        None => attr.mutability,
    };
    match mutability {
        Mutability::ReadOnly => Some("it is read-only, the service provider sets it"),
        Mutability::Immutable => Some("it is immutable, set once on creation"),
        _ => None,
    }
}
