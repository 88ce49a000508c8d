//! Update plans (issue #13): the SCIM requests that bring an app's resource, as last read back,
//! to the mapped one. POST when there is none; otherwise a PATCH (RFC 7644 §3.5.2) of the
//! attributes that differ, or a PUT (§3.5.1) of the whole resource as the profile says, each
//! operation naming the targets that caused it. Only mapped attributes are compared (RFC 7643
//! equality, `compare`); what the mapping does not map is left as the app has it.

mod compare;
mod path;
#[cfg(test)]
mod tests;

use crate::profile::{Profile, UpdateStyle};
use crate::record::Doc;
use crate::schema::{self, Mutability, ScimAttribute, ScimSchema, ScimType};
use compare::{absent, canon, equal, equal_on};
use path::{Path, Select};
use serde_json::{json, Map, Value as Json};
use std::collections::HashSet;
use std::fmt::Write;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The schemas of one resource type and where it is sent.
#[derive(Clone, Debug)]
pub struct Catalogue<'s> {
    core: &'s ScimSchema,
    extensions: Vec<&'s ScimSchema>,
    endpoint: &'static str,
}

impl Catalogue<'static> {
    /// The core User and the Enterprise User extension, at `/Users`.
    pub fn user() -> Catalogue<'static> {
        Catalogue {
            core: schema::core_user(),
            extensions: vec![schema::enterprise_user()],
            endpoint: "/Users",
        }
    }

    /// The core Group, at `/Groups`.
    pub fn group() -> Catalogue<'static> {
        Catalogue {
            core: schema::core_group(),
            extensions: Vec::new(),
            endpoint: "/Groups",
        }
    }
}

impl<'s> Catalogue<'s> {
    /// The resource type's built-in catalogue with a mapping file's declared extensions.
    pub(crate) fn extended(
        base: Catalogue<'static>,
        declared: impl IntoIterator<Item = &'s ScimSchema>,
    ) -> Catalogue<'s> {
        let mut extensions: Vec<&'s ScimSchema> = base.extensions;
        extensions.extend(declared);
        Catalogue {
            core: base.core,
            extensions,
            endpoint: base.endpoint,
        }
    }

    fn schema(&self, urn: Option<&str>) -> Option<&'s ScimSchema> {
        match urn {
            None => Some(self.core),
            Some(urn) if urn.eq_ignore_ascii_case(&self.core.urn) => Some(self.core),
            Some(urn) => self
                .extensions
                .iter()
                .copied()
                .find(|s| s.urn.eq_ignore_ascii_case(urn)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
        }
    }
}

/// A mapping entry behind an operation: its target, and where the entry starts (1-based;
/// 0 and 0 for what no entry of the file caused: an unmapped `active` deactivated, a
/// membership change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    pub target: String,
    pub line: usize,
    pub column: usize,
}

impl Cause {
    /// A target that no line of a file wrote.
    pub fn target(target: &str) -> Cause {
        Cause {
            target: target.to_owned(),
            line: 0,
            column: 0,
        }
    }

    /// `{"target", "line", "column"}`, without the position when there is none.
    pub fn to_json(&self) -> Json {
        match self.line {
            0 => json!({"target": self.target}),
            _ => json!({"target": self.target, "line": self.line, "column": self.column}),
        }
    }
}

/// One request to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: Method,
    /// `/Users`, `/Users/{id}`, `/Groups/{id}`, the id percent-encoded.
    pub path: String,
    pub body: Json,
    /// The entries behind the request: for a PATCH, `causes[i]` are those of
    /// `Operations[i]`; for a POST or PUT, one list of the entries sent (POST) or changed (PUT).
    pub causes: Vec<Vec<Cause>>,
}

/// The requests, in the order they are to be sent; none when nothing differs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub requests: Vec<Request>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// `[{"method", "path", "body"}, …]`: what `scimap plan` prints.
    pub fn to_json(&self) -> Json {
        self.requests
            .iter()
            .map(|r| {
                let mut request = Map::new();
                request.insert("method".to_owned(), Json::from(r.method.as_str()));
                request.insert("path".to_owned(), Json::from(r.path.as_str()));
                request.insert("body".to_owned(), r.body.clone());
                Json::Object(request)
            })
            .collect()
    }

    /// `to_json` written as compact JSON (`plan --input`'s lines), without building it.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, r) in self.requests.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_request(r.method, &r.path, out);
            crate::json::write(&r.body, out);
            out.push(b'}');
        }
        out.push(b']');
    }

    /// As `to_json`, each request with its `causes` (lists of `Cause::to_json`): what
    /// `scimap plan --explain` and the preview page show.
    pub fn to_json_explained(&self) -> Json {
        self.requests
            .iter()
            .map(|r| {
                let causes: Vec<Json> = r
                    .causes
                    .iter()
                    .map(|c| c.iter().map(Cause::to_json).collect())
                    .collect();
                json!({"method": r.method.as_str(), "path": r.path, "body": r.body, "causes": causes})
            })
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("`{0}` is not an attribute path of this resource type")]
    Target(String),
    #[error("the current resource is not a JSON object")]
    NotAnObject,
    #[error("the current resource has no string `id`")]
    NoId,
    #[error("the resource nests deeper than the limit `depth`")]
    TooDeep,
}

/// The requests that make `current` (the app's resource; `None`: it has none) equal to
/// `desired` (the mapped payload) on every attribute in `mapped` (the mapping's targets) that
/// the profile lets change and that is not in `create_only`.
pub fn plan(
    desired: &Json,
    current: Option<&Json>,
    mapped: &[Cause],
    create_only: &[String],
    profile: &Profile,
    catalogue: &Catalogue<'_>,
) -> Result<Plan, PlanError> {
    let targets = Targets::new(mapped.to_vec(), create_only.to_vec(), catalogue)?;
    let Some(current) = current else {
        return Ok(create(desired.clone(), mapped, catalogue));
    };
    let (desired, current) = (view(desired)?, view(current)?);
    update(&desired, &current, &targets, profile, catalogue)
}

/// A `serde_json` value seen as plans read values, once its nesting is known to be bounded.
fn view(v: &Json) -> Result<Doc<'_>, PlanError> {
    crate::record::check_depth(v, &crate::Limits::default()).map_err(|_| PlanError::TooDeep)?;
    Ok(Doc::from_json(v))
}

/// `{"method":…,"path":…,"body":`, the body and `}` left to the caller.
pub(crate) fn write_request(method: Method, path: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"method\":");
    crate::json::write_str(method.as_str(), out);
    out.extend_from_slice(b",\"path\":");
    crate::json::write_str(path, out);
    out.extend_from_slice(b",\"body\":");
}

/// Where a new resource of the catalogue's type is POSTed.
pub(crate) fn endpoint(catalogue: &Catalogue<'_>) -> &'static str {
    catalogue.endpoint
}

/// The POST of a new resource.
pub(crate) fn create(desired: Json, mapped: &[Cause], catalogue: &Catalogue<'_>) -> Plan {
    Plan {
        requests: vec![Request {
            method: Method::Post,
            path: catalogue.endpoint.to_owned(),
            body: desired,
            causes: vec![mapped.to_vec()],
        }],
    }
}

/// `plan` of an existing resource, on values as read.
pub(crate) fn update(
    desired: &Doc<'_>,
    current: &Doc<'_>,
    targets: &Targets,
    profile: &Profile,
    catalogue: &Catalogue<'_>,
) -> Result<Plan, PlanError> {
    let (units, create_only) = (&targets.units, &targets.create_only);
    if !matches!(current, Doc::Object(_)) {
        return Err(PlanError::NotAnObject);
    }
    let updatable = |c: &Cause| {
        let t = c.target.as_str();
        // Create-only entries are named by their own targets, filter included.
        !create_only.iter().any(|e| e.eq_ignore_ascii_case(t))
            && profile.updatable.as_deref().is_none_or(|u| covered(u, t))
    };
    let patch_only = |c: &Cause| covered(&profile.patch_only, &c.target);
    let mut requests = Vec::new();
    let (put, patch) = match profile.update {
        UpdateStyle::Patch => (Vec::new(), operations(units, desired, current, &updatable)),
        UpdateStyle::Put => (
            operations(units, desired, current, &|t| updatable(t) && !patch_only(t)),
            operations(units, desired, current, &|t| updatable(t) && patch_only(t)),
        ),
    };
    if !put.is_empty() {
        let causes = put
            .iter()
            .flat_map(|op| op.causes.iter().cloned())
            .collect();
        requests.push(Request {
            method: Method::Put,
            path: resource_path(catalogue, current)?,
            body: put_body(current, &put, catalogue),
            causes: vec![causes],
        });
    }
    if !patch.is_empty() {
        requests.push(patch_request(resource_path(catalogue, current)?, patch));
    }
    Ok(Plan { requests })
}

/// Deactivation as a plan of its own: `active` set to false and nothing else changed.
pub fn deactivate(
    current: &Json,
    mapped: &[Cause],
    profile: &Profile,
    catalogue: &Catalogue<'_>,
) -> Result<Plan, PlanError> {
    let current = view(current)?;
    let desired = Doc::Object(crate::record::Obj::new(vec![(
        "active".into(),
        Doc::Bool(false),
    )]));
    let mut mapped = mapped.to_vec();
    if !mapped
        .iter()
        .any(|c| c.target.eq_ignore_ascii_case("active"))
    {
        mapped.push(Cause::target("active"));
    }
    let profile = Profile {
        updatable: Some(vec!["active".to_owned()]),
        ..profile.clone()
    };
    let targets = Targets::new(mapped, Vec::new(), catalogue)?;
    update(&desired, &current, &targets, &profile, catalogue)
}

/// Group membership: PATCH `add` of each member in `desired` but not in `current` and `remove`
/// (`members[value eq "…"]`) of each in `current` but not in `desired`, one member an
/// operation, at most `max_operations` operations a request.
pub fn membership(
    group_id: &str,
    current: &[String],
    desired: &[String],
    max_operations: Option<usize>,
) -> Plan {
    let have: HashSet<&str> = current.iter().map(String::as_str).collect();
    let want: HashSet<&str> = desired.iter().map(String::as_str).collect();
    let (mut removed, mut added) = (HashSet::new(), HashSet::new());
    let members = |id: &str| Path {
        urn: None,
        attr: "members".to_owned(),
        select: Select::Filter(vec![("value".to_owned(), Json::from(id))]),
        sub: None,
    };
    let removes = current
        .iter()
        .filter(|id| !want.contains(id.as_str()) && removed.insert(id.as_str()))
        .map(|id| Op {
            kind: Kind::Remove,
            path: members(id),
            value: None,
            causes: vec![Cause::target("members")],
        });
    let adds = desired
        .iter()
        .filter(|id| !have.contains(id.as_str()) && added.insert(id.as_str()))
        .map(|id| Op {
            kind: Kind::Add,
            path: Path {
                select: Select::All,
                ..members(id)
            },
            value: Some(json!([{ "value": id }])),
            causes: vec![Cause::target("members")],
        });
    let ops: Vec<Op> = removes.chain(adds).collect();
    let size = max_operations.filter(|&n| n > 0).unwrap_or(usize::MAX);
    let path = format!("/Groups/{}", encode(group_id));
    Plan {
        requests: ops
            .chunks(size)
            .map(|chunk| patch_request(path.clone(), chunk.to_vec()))
            .collect(),
    }
}

/// `membership` of a group resource as the app holds it: its id and members read from it.
pub(crate) fn membership_of(
    group: &Doc<'_>,
    desired: &[String],
    max_operations: Option<usize>,
) -> Result<Plan, PlanError> {
    let Some(Doc::Str(id)) = field(Some(group), "id") else {
        return Err(PlanError::NoId);
    };
    Ok(membership(id, &member_ids(group), desired, max_operations))
}

/// The ids in a group resource's `members` (their `value`s).
fn member_ids(group: &Doc<'_>) -> Vec<String> {
    let Some(Doc::Array(members)) = field(Some(group), "members") else {
        return Vec::new();
    };
    members
        .iter()
        .filter_map(|m| match field(Some(m), "value") {
            Some(Doc::Str(id)) => Some(id.to_string()),
            _ => None,
        })
        .collect()
}

/// Whether a profile's path list names `target` or an attribute that contains it. Profile
/// paths have no filter (reference §profile): `emails.value` names every `emails` entry that
/// maps `value`, whatever its filter, so the target is compared without its own.
pub(crate) fn covered(list: &[String], target: &str) -> bool {
    if list.is_empty() {
        return false;
    }
    let unfiltered = Path::parse(target).map(|p| {
        Path {
            select: Select::All,
            ..p
        }
        .render()
    });
    let target = unfiltered.as_deref().unwrap_or(target);
    list.iter().any(|p| {
        target
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
            && matches!(
                target.as_bytes().get(p.len()),
                None | Some(b'.' | b'[' | b':')
            )
    })
}

/// A mapping's targets as plans compare them, resolved once (a compiled mapping keeps them):
/// every target in file order, the create-only ones, and the units they form.
#[derive(Clone, Debug)]
pub(crate) struct Targets {
    mapped: Vec<Cause>,
    create_only: Vec<String>,
    units: Vec<Unit>,
}

impl Targets {
    pub(crate) fn new(
        mapped: Vec<Cause>,
        create_only: Vec<String>,
        catalogue: &Catalogue<'_>,
    ) -> Result<Targets, PlanError> {
        Ok(Targets {
            units: units(&mapped, catalogue)?,
            mapped,
            create_only,
        })
    }

    pub(crate) fn mapped(&self) -> &[Cause] {
        &self.mapped
    }
}

/// What plans compare: a whole attribute, a sub-attribute of a single-valued complex one, or
/// the elements of a multi-valued one that a filter selects. Owns its schema attributes, so
/// that it outlives the catalogue it was resolved in.
#[derive(Clone, Debug)]
struct Unit {
    /// The extension's URN; `None` for the core schema.
    urn: Option<String>,
    attr: ScimAttribute,
    part: Part,
    targets: Vec<Cause>,
}

#[derive(Clone, Debug)]
enum Part {
    /// The attribute as a whole; a multi-valued one mapped unfiltered or element-wise is
    /// replaced as a whole when it differs, compared on the sub-attributes the mapping maps
    /// (`None`: all of them), so that what the app adds to its elements is no difference.
    Whole(Option<Vec<String>>),
    Sub(ScimAttribute),
    /// The filter (canonical names), and each mapped sub-attribute with its target.
    Element(Vec<(String, Json)>, Vec<(ScimAttribute, Cause)>),
}

impl Unit {
    fn is(&self, urn: Option<&str>, attr: &ScimAttribute) -> bool {
        self.urn.as_deref() == urn && self.attr.name == attr.name
    }
}

fn units(mapped: &[Cause], catalogue: &Catalogue<'_>) -> Result<Vec<Unit>, PlanError> {
    let mut units: Vec<Unit> = Vec::new();
    for target in mapped {
        let wrong = || PlanError::Target(target.target.clone());
        let path = Path::parse(&target.target).ok_or_else(wrong)?;
        let schema = catalogue.schema(path.urn.as_deref()).ok_or_else(wrong)?;
        let builtin = crate::schema::builtin_urns().contains(&schema.urn.as_str());
        let undeclared;
        let attr = match schema.attribute(&path.attr) {
            Some(attr) => attr,
            // As the checker takes them: strings.
            None if !builtin && path.sub.is_none() => {
                undeclared = ScimAttribute::undeclared(&path.attr);
                &undeclared
            }
            None => return Err(wrong()),
        };
        let urn = (!std::ptr::eq(schema, catalogue.core)).then_some(schema.urn.as_str());
        let sub = match &path.sub {
            Some(name) => Some(attr.sub(name).ok_or_else(wrong)?),
            None => None,
        };
        let part = match (path.select, sub) {
            (Select::Filter(pairs), Some(sub)) if attr.multi_valued => {
                let pairs = pairs
                    .into_iter()
                    .map(|(k, v)| Some((attr.sub(&k)?.name.clone(), v)))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(wrong)?;
                Part::Element(pairs, vec![(sub.clone(), target.clone())])
            }
            (Select::Filter(_), _) => return Err(wrong()),
            (Select::All, Some(sub)) if !attr.multi_valued => Part::Sub(sub.clone()),
            // As in the language: a complex attribute is reached through its sub-attributes
            // (a whole-value `replace` would keep sub-attributes it leaves out).
            (Select::All, None) if !attr.multi_valued && attr.ty == ScimType::Complex => {
                return Err(wrong())
            }
            (Select::All, sub) => Part::Whole(sub.map(|s| vec![s.name.clone()])),
        };
        let same = units.iter_mut().find(|u| {
            u.is(urn, attr)
                && match (&u.part, &part) {
                    (Part::Whole(_), Part::Whole(_)) => true,
                    (Part::Sub(a), Part::Sub(b)) => a.name == b.name,
                    (Part::Element(a, _), Part::Element(b, _)) => a == b,
                    _ => false,
                }
        });
        match (same, part) {
            (Some(unit), Part::Element(_, subs)) => {
                if let Part::Element(_, mine) = &mut unit.part {
                    mine.extend(subs);
                }
                unit.targets.push(target.clone());
            }
            (Some(unit), Part::Whole(more)) => {
                if let Part::Whole(only) = &mut unit.part {
                    match (only.as_mut(), more) {
                        (Some(only), Some(more)) => only.extend(more),
                        _ => *only = None,
                    }
                }
                unit.targets.push(target.clone());
            }
            (Some(unit), _) => unit.targets.push(target.clone()),
            (None, part) => units.push(Unit {
                urn: urn.map(str::to_owned),
                attr: attr.clone(),
                part,
                targets: vec![target.clone()],
            }),
        }
    }
    // A multi-valued attribute mapped as a whole owns its filtered elements too.
    let wholes: Vec<(Option<String>, String)> = units
        .iter()
        .filter(|u| matches!(u.part, Part::Whole(_)))
        .map(|u| (u.urn.clone(), u.attr.name.clone()))
        .collect();
    let (owned, mut kept): (Vec<_>, Vec<_>) = units.into_iter().partition(|u| {
        matches!(u.part, Part::Element(..))
            && wholes
                .iter()
                .any(|(urn, name)| u.urn == *urn && u.attr.name == *name)
    });
    for unit in owned {
        let whole = kept
            .iter_mut()
            .find(|u| u.is(unit.urn.as_deref(), &unit.attr) && matches!(u.part, Part::Whole(_)));
        if let Some(whole) = whole {
            if let (Part::Whole(Some(only)), Part::Element(pairs, subs)) =
                (&mut whole.part, &unit.part)
            {
                only.extend(pairs.iter().map(|(k, _)| k.clone()));
                only.extend(subs.iter().map(|(s, _)| s.name.clone()));
            }
            whole.targets.extend(unit.targets);
        }
    }
    Ok(kept)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Add,
    Replace,
    Remove,
}

#[derive(Clone, Debug)]
struct Op {
    kind: Kind,
    path: Path,
    value: Option<Json>,
    causes: Vec<Cause>,
}

impl Op {
    fn to_json(&self) -> Json {
        let op = match self.kind {
            Kind::Add => "add",
            Kind::Replace => "replace",
            Kind::Remove => "remove",
        };
        let mut out = json!({"op": op, "path": self.path.render()});
        if let Some(value) = &self.value {
            out["value"] = value.clone();
        }
        out
    }
}

/// The member of an object called `name`, matched case-insensitively (RFC 7643 §2.1).
fn field<'v, 'a>(v: Option<&'v Doc<'a>>, name: &str) -> Option<&'v Doc<'a>> {
    let Doc::Object(obj) = v? else { return None };
    // The exact spelling is the common case.
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn get<'j>(map: &'j Map<String, Json>, name: &str) -> Option<&'j Json> {
    // The exact spelling is the common case, and a hash lookup.
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Sets `name`, keeping the key's spelling when the object already has it in another case.
/// The key is the one `get` reads.
fn set(map: &mut Map<String, Json>, name: &str, value: Json) {
    let key = match map.contains_key(name) {
        true => name.to_owned(),
        false => map
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
            .unwrap_or_else(|| name.to_owned()),
    };
    map.insert(key, value);
}

fn unset(map: &mut Map<String, Json>, name: &str) {
    map.retain(|k, _| !k.eq_ignore_ascii_case(name));
}

/// add when there is nothing, remove when nothing is wanted, replace otherwise.
fn change(path: Path, d: Option<&Doc<'_>>, c: Option<&Doc<'_>>, causes: Vec<Cause>) -> Op {
    let (kind, value) = match (absent(d), absent(c)) {
        (true, _) => (Kind::Remove, None),
        (false, true) => (Kind::Add, d.map(Doc::to_json)),
        (false, false) => (Kind::Replace, d.map(Doc::to_json)),
    };
    Op {
        kind,
        path,
        value,
        causes,
    }
}

/// The first element of a multi-valued attribute that the filter selects.
fn element<'v, 'a>(
    items: Option<&'v Doc<'a>>,
    attr: &ScimAttribute,
    pairs: &[(String, Json)],
) -> Option<&'v Doc<'a>> {
    let Doc::Array(items) = items? else {
        return None;
    };
    items.iter().find(|e| selected(e, attr, pairs))
}

fn selected(e: &Doc<'_>, attr: &ScimAttribute, pairs: &[(String, Json)]) -> bool {
    pairs.iter().all(|(k, v)| {
        attr.sub(k)
            .is_some_and(|sub| equal(field(Some(e), k), Some(&Doc::from_json(v)), sub))
    })
}

/// `selected` and `absent` for the PUT body `apply` edits (`serde_json` values made from the
/// current resource, whose nesting was checked, and the operations).
fn selected_json(e: &Json, attr: &ScimAttribute, pairs: &[(String, Json)]) -> bool {
    selected(&Doc::from_json(e), attr, pairs)
}

fn absent_json(v: Option<&Json>) -> bool {
    absent(v.map(Doc::from_json).as_ref())
}

/// The operations for the targets `include` accepts, in the order of the units.
fn operations(
    units: &[Unit],
    desired: &Doc<'_>,
    current: &Doc<'_>,
    include: &dyn Fn(&Cause) -> bool,
) -> Vec<Op> {
    let mut ops = Vec::new();
    // Updates change readWrite attributes only: the app sets readOnly ones, immutable ones
    // are fixed at creation, and writeOnly ones (`password`) are never read back, so they
    // cannot be compared.
    let writable = |a: &ScimAttribute| a.mutability == Mutability::ReadWrite;
    for unit in units.iter().filter(|u| writable(&u.attr)) {
        let (d, c) = match unit.urn.as_deref() {
            None => (Some(desired), Some(current)),
            Some(urn) => (field(Some(desired), urn), field(Some(current), urn)),
        };
        let (d, c) = (field(d, &unit.attr.name), field(c, &unit.attr.name));
        let at = |select: Select, sub: Option<&ScimAttribute>| Path {
            urn: unit.urn.clone(),
            attr: unit.attr.name.clone(),
            select,
            sub: sub.map(|s| s.name.clone()),
        };
        match &unit.part {
            Part::Whole(only) => {
                let same = match only {
                    Some(subs) => equal_on(d, c, &unit.attr, subs),
                    None => equal(d, c, &unit.attr),
                };
                if unit.targets.iter().all(include) && !same {
                    ops.push(change(at(Select::All, None), d, c, unit.targets.clone()));
                }
            }
            Part::Sub(sub) => {
                let (d, c) = (field(d, &sub.name), field(c, &sub.name));
                let include = writable(sub) && unit.targets.iter().all(include);
                if include && !equal(d, c, sub) {
                    ops.push(change(
                        at(Select::All, Some(sub)),
                        d,
                        c,
                        unit.targets.clone(),
                    ));
                }
            }
            Part::Element(pairs, subs) => {
                let included: Vec<_> = subs
                    .iter()
                    .filter(|(sub, t)| writable(sub) && include(t))
                    .collect();
                if included.is_empty() {
                    continue;
                }
                let filter = || Select::Filter(pairs.clone());
                let only = |e: &Doc<'_>| {
                    let Doc::Object(e) = e else { return true };
                    e.iter().all(|(k, v)| {
                        absent(Some(v))
                            || k.eq_ignore_ascii_case("primary")
                            || pairs.iter().any(|(p, _)| p.eq_ignore_ascii_case(k))
                            || subs.iter().any(|(s, _)| s.name.eq_ignore_ascii_case(k))
                    })
                };
                let (de, ce) = (element(d, &unit.attr, pairs), element(c, &unit.attr, pairs));
                // `primary` set by the payload itself (an element marked primary), not through
                // the filter or a mapped sub-attribute, which have operations of their own.
                let primary = unit.attr.sub("primary").filter(|_| {
                    !pairs.iter().any(|(k, _)| k == "primary")
                        && !subs.iter().any(|(s, _)| s.name == "primary")
                });
                let is_primary = |e: Option<&Doc<'_>>| {
                    primary.is_some_and(|p| canon(field(e, "primary"), p, false) == json!(true))
                };
                match (de, ce) {
                    (None, None) => {}
                    (Some(de), None) => {
                        let mut new: Map<String, Json> = pairs.iter().cloned().collect();
                        let mut causes = Vec::new();
                        for (sub, target) in &included {
                            if let Some(v) = field(Some(de), &sub.name).filter(|v| !absent(Some(v)))
                            {
                                new.insert(sub.name.clone(), v.to_json());
                                causes.push(target.clone());
                            }
                        }
                        if is_primary(Some(de)) {
                            new.insert("primary".to_owned(), Json::Bool(true));
                        }
                        if !causes.is_empty() {
                            ops.push(Op {
                                kind: Kind::Add,
                                path: at(Select::All, None),
                                value: Some(Json::Array(vec![Json::Object(new)])),
                                causes,
                            });
                        }
                    }
                    // Nothing left to keep: the element goes (an element without its
                    // mapped sub-attributes would be a shell). One holding sub-attributes the
                    // mapping does not map loses only the mapped ones, below.
                    (None, Some(ce)) if included.len() == subs.len() && only(ce) => {
                        ops.push(Op {
                            kind: Kind::Remove,
                            path: at(filter(), None),
                            value: None,
                            causes: unit.targets.clone(),
                        });
                    }
                    (de, Some(ce)) => {
                        for (sub, target) in &included {
                            let (dv, cv) = (field(de, &sub.name), field(Some(ce), &sub.name));
                            if !equal(dv, cv, sub) {
                                let path = at(filter(), Some(sub));
                                ops.push(change(path, dv, cv, vec![target.clone()]));
                            }
                        }
                        // Only made primary: an app's own `primary` on an element the payload
                        // does not mark is the app's (taking it away would be sent every sync).
                        if let Some(p) = primary {
                            if is_primary(de) && !is_primary(Some(ce)) {
                                ops.push(Op {
                                    kind: Kind::Replace,
                                    path: at(filter(), Some(p)),
                                    value: Some(Json::Bool(true)),
                                    causes: included.iter().map(|(_, t)| t.clone()).collect(),
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    ops
}

fn patch_request(path: String, ops: Vec<Op>) -> Request {
    let mut body = Map::new();
    body.insert(
        "schemas".to_owned(),
        Json::Array(vec![Json::from(PATCH_OP)]),
    );
    let operations = ops.iter().map(Op::to_json).collect();
    body.insert("Operations".to_owned(), Json::Array(operations));
    let body = Json::Object(body);
    Request {
        method: Method::Patch,
        path,
        body,
        causes: ops.into_iter().map(|op| op.causes).collect(),
    }
}

fn resource_path(catalogue: &Catalogue<'_>, current: &Doc<'_>) -> Result<String, PlanError> {
    let Some(Doc::Str(id)) = field(Some(current), "id") else {
        return Err(PlanError::NoId);
    };
    Ok(format!("{}/{}", catalogue.endpoint, encode(id)))
}

/// Percent-encodes all but RFC 3986 unreserved characters, so that an id cannot reach another
/// path or add a query.
fn encode(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The PUT body: the app's resource without `meta` (read-only), its `id` kept, with the
/// operations applied, and `schemas` naming the core schema and each extension left.
fn put_body(current: &Doc<'_>, ops: &[Op], catalogue: &Catalogue<'_>) -> Json {
    let mut body = match current {
        Doc::Object(obj) => obj.to_json(),
        _ => Map::new(),
    };
    unset(&mut body, "meta");
    for op in ops {
        apply(&mut body, op, catalogue);
    }
    let mut schemas = vec![Json::from(catalogue.core.urn.as_str())];
    let held = match field(Some(current), "schemas") {
        Some(Doc::Array(held)) => held.as_slice(),
        _ => &[],
    };
    let extensions = catalogue.extensions.iter().map(|s| s.urn.as_str());
    let others = held.iter().filter_map(|s| match s {
        Doc::Str(s) => Some(&**s),
        _ => None,
    });
    for urn in extensions.chain(others) {
        let present = body
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(urn) && !absent_json(Some(v)));
        let listed = schemas
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
        if present && !listed {
            schemas.push(Json::from(urn));
        }
    }
    for ext in &catalogue.extensions {
        if absent_json(get(&body, &ext.urn)) {
            unset(&mut body, &ext.urn);
        }
    }
    set(&mut body, "schemas", Json::Array(schemas));
    Json::Object(body)
}

/// Applies one of this module's own operations to a resource, as RFC 7644 §3.5.2 says a
/// server does (for the PUT body).
fn apply(root: &mut Map<String, Json>, op: &Op, catalogue: &Catalogue<'_>) {
    let Some(schema) = catalogue.schema(op.path.urn.as_deref()) else {
        return;
    };
    // The operations are this module's own: an attribute no schema lists is one of a declared
    // schema's strings (`units`).
    let undeclared;
    let attr = match schema.attribute(&op.path.attr) {
        Some(attr) => attr,
        None => {
            undeclared = ScimAttribute::undeclared(&op.path.attr);
            &undeclared
        }
    };
    let scope = match &op.path.urn {
        None => root,
        Some(urn) => {
            if op.kind == Kind::Remove && get(root, urn).is_none() {
                return;
            }
            let key = root
                .keys()
                .find(|k| k.eq_ignore_ascii_case(urn))
                .cloned()
                .unwrap_or_else(|| urn.clone());
            let slot = root.entry(key).or_insert_with(|| json!({}));
            if !slot.is_object() {
                *slot = json!({});
            }
            match slot.as_object_mut() {
                Some(scope) => scope,
                None => return,
            }
        }
    };
    let name = &attr.name;
    let value = op.value.clone().unwrap_or(Json::Null);
    match (&op.path.select, &op.path.sub, op.kind) {
        (Select::All, None, Kind::Remove) => unset(scope, name),
        (Select::All, None, Kind::Add) if attr.multi_valued => {
            let mut items = match get(scope, name) {
                Some(Json::Array(items)) => items.clone(),
                _ => Vec::new(),
            };
            items.extend(value.as_array().cloned().unwrap_or_default());
            set(scope, name, Json::Array(items));
        }
        (Select::All, None, _) => set(scope, name, value),
        (Select::All, Some(sub), kind) => {
            let mut object = match get(scope, name) {
                Some(Json::Object(o)) => o.clone(),
                _ => Map::new(),
            };
            if kind == Kind::Remove {
                unset(&mut object, sub);
            } else {
                set(&mut object, sub, value);
            }
            if object.is_empty() {
                unset(scope, name);
            } else {
                set(scope, name, Json::Object(object));
            }
        }
        (Select::Filter(pairs), sub, kind) => {
            let Some(Json::Array(mut items)) = get(scope, name).cloned() else {
                return;
            };
            match sub {
                None => items.retain(|e| !selected_json(e, attr, pairs)),
                Some(sub) => {
                    let primary = sub.eq_ignore_ascii_case("primary") && value == json!(true);
                    for item in &mut items {
                        let chosen = selected_json(item, attr, pairs);
                        if let Json::Object(e) = item {
                            if chosen && kind == Kind::Remove {
                                unset(e, sub);
                            } else if chosen {
                                set(e, sub, value.clone());
                            } else if primary {
                                // RFC 7644 §3.5.2: one primary value at most.
                                unset(e, "primary");
                            }
                        }
                    }
                }
            }
            if items.is_empty() {
                unset(scope, name);
            } else {
                set(scope, name, Json::Array(items));
            }
        }
    }
}
