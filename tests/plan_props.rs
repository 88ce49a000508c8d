//! Property tests of update plans: for generated app resources, mapped payloads and profiles,
//! applying the plan with a small RFC 7644 server model (below) gives the mapped value on every
//! attribute the profile lets change, keeps the app's value on every other, and a second plan
//! is empty.

use proptest::prelude::*;
use scimap::plan::{deactivate, membership, plan, Catalogue, Cause, Method, Plan};
use scimap::profile::{Profile, UpdateStyle};
use serde_json::{json, Map, Value};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The targets generated mappings draw from.
const TARGETS: [&str; 12] = [
    "userName",
    "displayName",
    "name.givenName",
    "name.familyName",
    "active",
    "emails[type eq \"work\"].value",
    "emails[type eq \"home\"].value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "phoneNumbers[].value",
    "emails[type eq \"work\"].display",
    "phoneNumbers[].type",
];

/// Paths a profile may name: whole attributes as well as targets.
const PROFILE_PATHS: [&str; 6] = ["name", "emails", "active", "userName", ENT, "phoneNumbers"];

const MULTI_VALUED: [&str; 4] = ["emails", "phoneNumbers", "addresses", "members"];

// ---- An RFC 7644 §3.5 server model, literal and independent of scimap's own code. ----

/// `[URN ":"] attr ["[" sub eq VALUE (and sub eq VALUE)* "]"] ["." sub]` (RFC 7644 §3.5.2).
struct PatchPath {
    urn: Option<String>,
    attr: String,
    filter: Option<Vec<(String, Value)>>,
    sub: Option<String>,
}

fn parse_path(path: &str) -> Result<PatchPath, String> {
    let bracket = path.find('[').unwrap_or(path.len());
    let (urn, rest) = match path[..bracket].rfind(':') {
        Some(colon) if path.to_ascii_lowercase().starts_with("urn:") => {
            (Some(path[..colon].to_owned()), &path[colon + 1..])
        }
        _ => (None, path),
    };
    let (head, filter, tail) = match rest.find('[') {
        Some(open) => {
            let close = rest.rfind(']').ok_or("unclosed filter")?;
            let mut pairs = Vec::new();
            for clause in rest[open + 1..close].split(" and ") {
                let (sub, value) = clause.split_once(" eq ").ok_or("not an eq filter")?;
                let value = serde_json::from_str(value).map_err(|e| e.to_string())?;
                pairs.push((sub.trim().to_owned(), value));
            }
            (&rest[..open], Some(pairs), &rest[close + 1..])
        }
        None => (rest, None, ""),
    };
    let (attr, sub) = match (filter.is_some(), head.split_once('.')) {
        (false, Some((attr, sub))) => (attr, Some(sub.to_owned())),
        (false, None) => (head, None),
        (true, _) => (head, tail.strip_prefix('.').map(str::to_owned)),
    };
    Ok(PatchPath {
        urn,
        attr: attr.to_owned(),
        filter,
        sub,
    })
}

fn key_of(map: &Map<String, Value>, name: &str) -> String {
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

fn lookup<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    let map = v.as_object()?;
    map.get(&key_of(map, name))
}

/// RFC 7644 §3.5.2 filter equality: strings compared without case (every sub-attribute filtered
/// on here is caseExact false).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.to_lowercase() == b.to_lowercase(),
        _ => a == b,
    }
}

fn matches(element: &Value, pairs: &[(String, Value)]) -> bool {
    pairs
        .iter()
        .all(|(k, v)| lookup(element, k).is_some_and(|e| same(e, v)))
}

/// One value at most has `primary: true` (RFC 7643 §2.4): the others lose it.
fn one_primary(items: &mut [Value], keep: usize) {
    for (i, item) in items.iter_mut().enumerate() {
        if let (true, Some(e)) = (i != keep, item.as_object_mut()) {
            let k = key_of(e, "primary");
            e.remove(&k);
        }
    }
}

fn apply_op(resource: &mut Value, op: &Value) -> Result<(), String> {
    let kind = op["op"].as_str().ok_or("no op")?.to_ascii_lowercase();
    let path = parse_path(op["path"].as_str().ok_or("a path-less operation")?)?;
    let value = op.get("value").cloned();
    let root = resource.as_object_mut().ok_or("resource not an object")?;
    let scope = match &path.urn {
        Some(urn) if !urn.eq_ignore_ascii_case(CORE) => {
            let k = key_of(root, urn);
            root.entry(k).or_insert_with(|| json!({}))
        }
        _ => resource,
    };
    let scope = scope.as_object_mut().ok_or("extension not an object")?;
    let k = key_of(scope, &path.attr);
    let multi = MULTI_VALUED
        .iter()
        .any(|m| m.eq_ignore_ascii_case(&path.attr));
    match (kind.as_str(), &path.filter, &path.sub) {
        ("remove", None, None) => {
            scope.remove(&k);
        }
        ("remove", None, Some(sub)) => {
            if let Some(Value::Object(o)) = scope.get_mut(&k) {
                let s = key_of(o, sub);
                o.remove(&s);
            }
        }
        ("add", None, None) if multi => {
            let new = value.ok_or("add without value")?;
            let new = new.as_array().ok_or("add of a non-array")?.clone();
            let items = scope.entry(k.clone()).or_insert_with(|| json!([]));
            let items = items.as_array_mut().ok_or("not an array")?;
            items.extend(new);
            let last_primary = items
                .iter()
                .rposition(|e| lookup(e, "primary") == Some(&json!(true)));
            if let Some(p) = last_primary {
                one_primary(items, p);
            }
        }
        ("add" | "replace", None, None) => {
            let new = value.ok_or("without value")?;
            match (scope.get_mut(&k), new) {
                // A complex value: the sub-attributes given are set, the others kept.
                (Some(Value::Object(old)), Value::Object(new)) if !multi => {
                    for (s, v) in new {
                        let s = key_of(old, &s);
                        old.insert(s, v);
                    }
                }
                (_, new) => {
                    scope.insert(k, new);
                }
            }
        }
        ("add" | "replace", None, Some(sub)) => {
            let new = value.ok_or("without value")?;
            let o = scope.entry(k).or_insert_with(|| json!({}));
            let o = o.as_object_mut().ok_or("not complex")?;
            let s = key_of(o, sub);
            o.insert(s, new);
        }
        (kind, Some(pairs), sub) => {
            let Some(Value::Array(items)) = scope.get_mut(&k) else {
                return Err("noTarget".into());
            };
            let chosen: Vec<usize> = (0..items.len())
                .filter(|&i| matches(&items[i], pairs))
                .collect();
            if chosen.is_empty() {
                return Err("noTarget".into());
            }
            match (kind, sub) {
                ("remove", None) => {
                    let mut i = 0;
                    items.retain(|_| {
                        i += 1;
                        !chosen.contains(&(i - 1))
                    });
                }
                ("remove", Some(sub)) => {
                    for &i in &chosen {
                        if let Some(e) = items[i].as_object_mut() {
                            let s = key_of(e, sub);
                            e.remove(&s);
                        }
                    }
                }
                ("replace" | "add", Some(sub)) => {
                    let new = value.ok_or("without value")?;
                    for &i in &chosen {
                        let e = items[i].as_object_mut().ok_or("element not an object")?;
                        let s = key_of(e, sub);
                        e.insert(s, new.clone());
                    }
                    if sub.eq_ignore_ascii_case("primary") && new == json!(true) {
                        one_primary(items, chosen[0]);
                    }
                }
                _ => return Err(format!("unsupported {kind} on a filter")),
            }
            if items.is_empty() {
                scope.remove(&k);
            }
        }
        (kind, ..) => return Err(format!("unknown op {kind}")),
    }
    // An extension left empty is unassigned.
    if let Some(urn) = &path.urn {
        let k = key_of(root_of(resource)?, urn);
        let root = root_of(resource)?;
        if root
            .get(&k)
            .is_some_and(|e| e.as_object().is_some_and(Map::is_empty))
        {
            root.remove(&k);
        }
    }
    Ok(())
}

fn root_of(resource: &mut Value) -> Result<&mut Map<String, Value>, String> {
    resource
        .as_object_mut()
        .ok_or_else(|| "not an object".into())
}

/// Sends a plan to the model: PUT replaces every attribute but `id` and `meta`; PATCH applies
/// its operations in order.
fn serve(resource: &Value, plan: &Plan) -> Result<Value, String> {
    let mut resource = resource.clone();
    for request in &plan.requests {
        let id = resource["id"].as_str().ok_or("no id")?;
        // The generated ids' only reserved character is `/`.
        if request.path != format!("/Users/{}", id.replace('/', "%2F")) {
            return Err(format!("wrong path {}", request.path));
        }
        match request.method {
            Method::Put => {
                let mut body = request.body.clone();
                body["id"] = resource["id"].clone();
                body["meta"] = resource["meta"].clone();
                resource = body;
            }
            Method::Patch => {
                if request.body["schemas"] != json!([PATCH_OP]) {
                    return Err("not a PatchOp".into());
                }
                let ops = request.body["Operations"]
                    .as_array()
                    .ok_or("no Operations")?;
                if ops.is_empty() || ops.len() != request.causes.len() {
                    return Err("operations and causes differ".into());
                }
                for op in ops {
                    apply_op(&mut resource, op)?;
                }
            }
            Method::Post => return Err("POST to an existing resource".into()),
        }
    }
    Ok(resource)
}

// ---- Reading a target's value, and comparing the way the schema does. ----

fn get(resource: &Value, target: usize) -> Option<Value> {
    let ent = lookup(resource, ENT);
    let email = |kind: &str| {
        let items = lookup(resource, "emails")?.as_array()?;
        let e = items
            .iter()
            .find(|e| matches(e, &[("type".into(), json!(kind))]))?;
        Some(json!([
            lookup(e, "value")?,
            lookup(e, "primary") == Some(&json!(true))
        ]))
    };
    let v = match target {
        0 => lookup(resource, "userName").cloned(),
        1 => lookup(resource, "displayName").cloned(),
        2 => lookup(resource, "name")
            .and_then(|n| lookup(n, "givenName"))
            .cloned(),
        3 => lookup(resource, "name")
            .and_then(|n| lookup(n, "familyName"))
            .cloned(),
        4 => lookup(resource, "active").cloned(),
        5 => email("work"),
        6 => email("home"),
        7 => ent.and_then(|e| lookup(e, "department")).cloned(),
        8 => ent
            .and_then(|e| lookup(e, "manager"))
            .and_then(|m| lookup(m, "value"))
            .cloned(),
        10 => lookup(resource, "emails")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .find(|e| matches(e, &[("type".into(), json!("work"))]))
            })
            .and_then(|e| lookup(e, "display"))
            .cloned(),
        _ => lookup(resource, "phoneNumbers").map(|p| {
            let mut values: Vec<Value> = p
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| json!([lookup(e, "value"), lookup(e, "type")]))
                .collect();
            values.sort_by_key(|v| v.to_string().to_lowercase());
            Value::Array(values)
        }),
    };
    norm(v)
}

fn norm(v: Option<Value>) -> Option<Value> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(Value::String(s.to_lowercase())),
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) => Some(Value::Array(
            a.into_iter()
                .map(|v| norm(Some(v)).unwrap_or(Value::Null))
                .collect(),
        )),
        v => Some(v),
    }
}

// ---- Generators. ----

/// A value for each target: short strings that differ often only in case.
#[derive(Clone, Debug)]
struct Values {
    strings: [Option<&'static str>; 12],
    active: Option<bool>,
    work_primary: bool,
    phones: Vec<&'static str>,
}

fn values() -> impl Strategy<Value = Values> {
    let s = prop::option::of(prop::sample::select(vec!["a", "A", "b", "c d", "é"]));
    (
        prop::array::uniform12(s),
        prop::option::of(any::<bool>()),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(vec!["1", "2", "3"]), 0..3),
    )
        .prop_map(|(strings, active, work_primary, phones)| Values {
            strings,
            active,
            work_primary,
            phones,
        })
}

/// The payload scimap would produce for these values, `keys` spelling attribute names.
fn payload(v: &Values, mapped: &[bool; 12], upper: bool) -> Value {
    let s = |i: usize| v.strings[i].filter(|_| mapped[i]);
    let name = |n: &str| {
        if upper {
            n.to_uppercase()
        } else {
            n.to_owned()
        }
    };
    let mut r = Map::new();
    let mut schemas = vec![json!(CORE)];
    if let Some(x) = s(0) {
        r.insert(name("userName"), json!(x));
    }
    if let Some(x) = s(1) {
        r.insert("displayName".into(), json!(x));
    }
    let mut n = Map::new();
    if let Some(x) = s(2) {
        n.insert(name("givenName"), json!(x));
    }
    if let Some(x) = s(3) {
        n.insert("familyName".into(), json!(x));
    }
    if !n.is_empty() {
        r.insert(name("name"), Value::Object(n));
    }
    if let Some(x) = v.active.filter(|_| mapped[4]) {
        r.insert("active".into(), json!(x));
    }
    let mut emails = Vec::new();
    if s(5).is_some() || s(10).is_some() {
        let mut e = json!({"type": "work"});
        if let Some(x) = s(5) {
            e["value"] = json!(x);
        }
        if let Some(x) = s(10) {
            e["display"] = json!(x);
        }
        if v.work_primary {
            e["primary"] = json!(true);
        }
        emails.push(e);
    }
    if let Some(x) = s(6) {
        emails.push(json!({"type": "home", "value": x}));
    }
    if !emails.is_empty() {
        r.insert("emails".into(), Value::Array(emails));
    }
    let mut ent = Map::new();
    if let Some(x) = s(7) {
        ent.insert("department".into(), json!(x));
    }
    if let Some(x) = s(8) {
        ent.insert("manager".into(), json!({"value": x}));
    }
    if !v.phones.is_empty() && (mapped[9] || s(11).is_some()) {
        let phones = v.phones.iter().map(|p| {
            let mut e = Map::new();
            if mapped[9] {
                e.insert("value".into(), json!(p));
            }
            if let Some(t) = s(11) {
                e.insert("type".into(), json!(t));
            }
            Value::Object(e)
        });
        r.insert("phoneNumbers".into(), Value::Array(phones.collect()));
    }
    if !ent.is_empty() {
        schemas.push(json!(ENT));
        r.insert(ENT.into(), Value::Object(ent));
    }
    r.insert("schemas".into(), Value::Array(schemas));
    Value::Object(r)
}

/// The app's resource: the values it holds, plus what it alone keeps.
fn app_resource(v: &Values, upper: bool, other_email: bool) -> Value {
    let mut r = payload(v, &[true; 12], upper);
    r["id"] = json!("u/1");
    r["meta"] = json!({"resourceType": "User", "version": "W/\"1\""});
    r["nickName"] = json!("app's own");
    if other_email {
        let o = json!({"type": "other", "value": "o@x", "display": "kept"});
        match r.get_mut("emails").and_then(Value::as_array_mut) {
            Some(items) => items.push(o),
            None => r["emails"] = json!([o]),
        }
    }
    r
}

fn pick(mask: u16, list: &[&str]) -> Vec<String> {
    list.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// Whether a profile path list names the target or an attribute holding it.
fn names(list: &[String], target: &str) -> bool {
    list.iter().any(|p| {
        target.to_lowercase().starts_with(&p.to_lowercase())
            && matches!(
                target.as_bytes().get(p.len()),
                None | Some(b'.' | b'[' | b':')
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn plans_converge_and_keep_what_may_not_change(
        old in values(),
        new in values(),
        mapped_mask in 1u16..4096,
        upper in any::<bool>(),
        other_email in any::<bool>(),
        put in any::<bool>(),
        updatable_mask in prop::option::of(0u16..64),
        patch_only_mask in 0u16..64,
        create_only_mask in 0u16..4096,
    ) {
        let mapped_flags: [bool; 12] = std::array::from_fn(|i| mapped_mask & (1 << i) != 0);
        let mapped: Vec<Cause> = pick(mapped_mask, &TARGETS).iter().map(|t| Cause::target(t)).collect();
        let create_only = pick(create_only_mask & mapped_mask, &TARGETS);
        let profile = Profile {
            update: if put { UpdateStyle::Put } else { UpdateStyle::Patch },
            updatable: updatable_mask.map(|m| pick(m, &PROFILE_PATHS)),
            patch_only: pick(patch_only_mask, &PROFILE_PATHS),
            ..Profile::default()
        };
        let desired = payload(&new, &mapped_flags, false);
        let current = app_resource(&old, upper, other_email);
        let user = Catalogue::user();

        let first = plan(&desired, Some(&current), &mapped, &create_only, &profile, &user).unwrap();
        for request in &first.requests {
            prop_assert!(request.method != Method::Post);
            if request.method == Method::Put {
                prop_assert_eq!(&request.body["id"], &json!("u/1"));
                prop_assert!(request.body.get("meta").is_none());
            }
            let patch_only = |c: &Cause| names(&profile.patch_only, &c.target);
            // A PATCH under a PUT profile carries only PATCH-only attributes.
            if put && request.method == Method::Patch {
                prop_assert!(request.causes.iter().flatten().all(patch_only));
            }
        }
        let result = serve(&current, &first).map_err(TestCaseError::fail)?;

        let may_change = |i: usize| {
            let t = TARGETS[i].to_string();
            !create_only.contains(&t) && profile.updatable.as_ref().is_none_or(|u| names(u, &t))
        };
        for (i, target) in TARGETS.iter().enumerate() {
            // phoneNumbers, mapped element-wise, changes as a whole or not at all.
            let changes = match i {
                9 | 11 => (mapped_flags[9] || mapped_flags[11])
                    && [9, 11].iter().all(|&j| !mapped_flags[j] || may_change(j)),
                _ => mapped_flags[i] && may_change(i),
            };
            let mut want = if changes { get(&desired, i) } else { get(&current, i) };
            let mut got = get(&result, i);
            // phoneNumbers are compared on the sub-attributes mapped: what the app keeps in
            // the others is its own.
            if matches!(i, 9 | 11) && changes {
                let project = |v: Option<Value>| v.map(|list| {
                    let mut kept: Vec<Value> = list.as_array().into_iter().flatten()
                        .map(|e| json!([
                            if mapped_flags[9] { e[0].clone() } else { json!(null) },
                            if mapped_flags[11] { e[1].clone() } else { json!(null) },
                        ]))
                        .filter(|e| e != &json!([null, null]))
                        .collect();
                    kept.sort_by_key(|v| v.to_string().to_lowercase());
                    Value::Array(kept)
                });
                (got, want) = (project(got), project(want));
            }
            // `primary` is the server's to clear when another element takes it, and an element
            // the payload does not mark primary keeps the app's own mark.
            let marked = want.as_ref().is_some_and(|w| w[1] == json!(true));
            if matches!(i, 5 | 6) && (!changes || !marked) {
                got = got.map(|g| json!([g[0], want.as_ref().map_or(json!(null), |w| w[1].clone())]));
            }
            prop_assert_eq!(got, want, "target {} (changes: {})", target, changes);
        }
        prop_assert_eq!(&result["nickName"], &json!("app's own"));
        prop_assert_eq!(&result["meta"], &current["meta"]);
        let other = |r: &Value| lookup(r, "emails").and_then(Value::as_array)
            .and_then(|a| a.iter().find(|e| e["type"] == "other").cloned());
        prop_assert_eq!(other(&result), other(&current));

        let second = plan(&desired, Some(&result), &mapped, &create_only, &profile, &user).unwrap();
        prop_assert!(second.is_empty(), "second plan: {}", second.to_json());

        // Deactivation: `active` false, everything else as the app has it.
        let off = deactivate(&current, &mapped, &profile, &user).unwrap();
        let after = serve(&current, &off).map_err(TestCaseError::fail)?;
        prop_assert_eq!(norm(lookup(&after, "active").cloned()), Some(json!(false)));
        for i in (0..TARGETS.len()).filter(|&i| i != 4) {
            prop_assert_eq!(get(&after, i), get(&current, i), "target {}", TARGETS[i]);
        }
        prop_assert_eq!(&after["nickName"], &json!("app's own"));
        let again = deactivate(&after, &mapped, &profile, &user).unwrap();
        prop_assert!(again.is_empty(), "second deactivation: {}", again.to_json());
    }

    #[test]
    fn membership_plans_converge(
        have in prop::collection::vec("[a-e\"]{1,2}", 0..12),
        want in prop::collection::vec("[a-e\"]{1,2}", 0..12),
        max in prop::option::of(0usize..5),
    ) {
        let plan = membership("g", &have, &want, max);
        let mut members: Vec<Value> = have.iter().map(|id| json!({"value": id})).collect();
        let mut group = json!({"id": "g", "members": members.clone()});
        for request in &plan.requests {
            let ops = request.body["Operations"].as_array().unwrap();
            prop_assert!(max.filter(|&m| m > 0).is_none_or(|m| ops.len() <= m));
            for op in ops {
                apply_op(&mut group, op).map_err(TestCaseError::fail)?;
            }
        }
        members = lookup(&group, "members").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut got: Vec<&str> = members.iter().filter_map(|m| m["value"].as_str()).collect();
        let mut expected: Vec<&str> = want.iter().map(String::as_str).collect();
        got.sort_unstable();
        got.dedup();
        expected.sort_unstable();
        expected.dedup();
        prop_assert_eq!(got, expected);
    }
}
