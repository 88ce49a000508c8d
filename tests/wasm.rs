//! The WASM exports (reference §wasm), run under node by wasm-bindgen-test-runner:
//! `cargo test --target wasm32-unknown-unknown --no-default-features --features wasm --test wasm`
//! (or `cargo xtask web-test`).
#![cfg(all(target_arch = "wasm32", feature = "wasm"))]

use js_sys::{Array, Reflect};
use scimap::wasm::{
    check, functions, plan, preview, preview_all, run_tests, schemas, LanguageService,
};
use serde_json::{json, Value as Json};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

/// A JS result as JSON, for results without BigInts.
fn to_json(v: &JsValue) -> Json {
    serde_wasm_bindgen::from_value(v.clone()).expect("a JSON-compatible JS value")
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).expect("an object")
}

fn options(kind: &str, now: Option<&str>) -> JsValue {
    let o = js_sys::Object::new();
    Reflect::set(&o, &"kind".into(), &kind.into()).unwrap();
    if let Some(now) = now {
        Reflect::set(&o, &"now".into(), &now.into()).unwrap();
    }
    o.into()
}

fn run(source: &str, record: &str, kind: &str, now: Option<&str>) -> Json {
    let out = preview(source, record, options(kind, now)).expect("valid options");
    to_json(&out)
}

#[wasm_bindgen_test]
fn check_reports_every_diagnostic_sorted_with_file_null() {
    let source = "user {\n  displayName = lower(nosuchfield)\n  userNam = $.username\n}\n";
    let out = to_json(&check(source).unwrap());
    let diagnostics = out["diagnostics"].as_array().unwrap();
    assert!(diagnostics.len() >= 2, "{out}");
    let offsets: Vec<u64> = diagnostics
        .iter()
        .map(|d| d["offset"].as_u64().unwrap())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
    let first = &diagnostics[0];
    assert_eq!(first["file"], Json::Null);
    assert_eq!(first["severity"], "error");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(2), Some(23))
    );
    assert_eq!(&source[29..40], "nosuchfield");
    assert_eq!(first["offset"], 29);
    assert_eq!(first["end_offset"], 40);
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "file",
            "code",
            "severity",
            "message",
            "line",
            "column",
            "end_line",
            "end_column",
            "offset",
            "end_offset",
            "help",
            "labels"
        ]
    );
    assert!(diagnostics[1]["message"]
        .as_str()
        .unwrap()
        .contains("userNam"));
}

#[wasm_bindgen_test]
fn check_of_a_good_mapping_gives_its_warnings_only() {
    let out = to_json(&check("user {\n  userName = $.username\n}\n").unwrap());
    assert_eq!(
        out,
        json!({"diagnostics": [], "profile": {"update": "patch", "updatable": null,
               "patchOnly": [], "groups": true, "matching": "userName",
               "maxPatchOperations": null}})
    );
    let out = to_json(
        &check("app \"A\" {\n  groups = false\n}\nuser {\n  userName = $.username\n}\n").unwrap(),
    );
    assert_eq!(out["profile"]["groups"], json!(false));
    assert_eq!(
        to_json(&check("user {\n  usrName = $.username\n}\n").unwrap())["profile"],
        json!(null)
    );
}

/// A create-only entry (reference §profile-create) is marked in the explanation, and only it.
#[wasm_bindgen_test]
fn preview_marks_create_only_entries() {
    let source = "user {\n  userName = $.username\n  create externalId = $._id\n}\n";
    let out = run(
        source,
        r#"{"username": "ada", "_id": "5f1b"}"#,
        "user",
        None,
    );
    let marks: Vec<&Json> = out["explain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["createOnly"])
        .collect();
    assert_eq!(marks, [&Json::Null, &json!(true)], "{out}");
    assert_eq!(out["payload"]["externalId"], json!("5f1b"));
}

#[wasm_bindgen_test]
fn preview_gives_the_payload_and_the_explanation() {
    let source = "user {\n  userName = $.username\n  name.givenName = upper(firstname ?? \"\")\n  title = const \"Eng\"\n  nickName = $.displayname\n}\n";
    let out = run(
        source,
        r#"{"username": "ada", "firstname": "Ada"}"#,
        "user",
        None,
    );
    assert_eq!(
        out["payload"],
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada",
            "name": {"givenName": "ADA"},
            "title": "Eng"
        })
    );
    assert_eq!(out["errors"], json!([]));
    assert_eq!(out["diagnostics"], json!([]));
    assert_eq!(
        out["explain"],
        json!([
            {"target": "userName", "kind": "direct", "source": "$.username", "line": 2, "column": 14, "value": "ada"},
            {"target": "name.givenName", "kind": "expression", "source": "upper(firstname ?? \"\")", "line": 3, "column": 20, "value": "ADA"},
            {"target": "title", "kind": "const", "source": "const \"Eng\"", "line": 4, "column": 11, "value": "Eng"},
            {"target": "nickName", "kind": "direct", "source": "$.displayname", "line": 5, "column": 14}
        ])
    );
}

#[wasm_bindgen_test]
fn a_failed_record_has_no_payload_and_its_errors() {
    let source = "user {\n  userName = $.username\n  title = int(jobTitle ?? \"x\")\n}\n";
    let out = run(source, r#"{"username": "ada"}"#, "user", None);
    assert_eq!(out["payload"], Json::Null);
    let errors = out["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{out}");
    assert_eq!(errors[0]["target"], "title");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
        (Some(3), Some(11))
    );
    let explain = out["explain"].as_array().unwrap();
    assert_eq!(explain[0]["value"], "ada");
    assert_eq!(explain[1]["error"]["target"], "title");
    assert!(explain[1].get("value").is_none());
}

#[wasm_bindgen_test]
fn a_record_that_is_not_json_is_a_whole_record_error() {
    let out = run(
        "user {\n  userName = $.username\n}\n",
        "{\"username\": ",
        "user",
        None,
    );
    assert_eq!(out["payload"], Json::Null);
    assert_eq!(out["explain"], json!([]));
    let errors = out["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["target"], Json::Null);
    assert_eq!(errors[0]["code"], "scimap::invalid-json");
    let not_object = run("user {\n  userName = $.username\n}\n", "[1]", "user", None);
    assert_eq!(not_object["errors"][0]["code"], "scimap::not-an-object");
}

#[wasm_bindgen_test]
fn a_mapping_that_does_not_compile_gives_diagnostics_and_no_payload() {
    let out = run("user {\n  userName = \n}\n", "{}", "user", None);
    assert_eq!(out["payload"], Json::Null);
    assert_eq!(out["errors"], json!([]));
    assert_eq!(out["explain"], json!([]));
    assert_eq!(out["diagnostics"][0]["severity"], "error");
}

#[wasm_bindgen_test]
fn group_records_use_the_group_section() {
    let source = "user {\n  userName = $.username\n}\ngroup {\n  displayName = $.name\n}\n";
    let out = run(
        source,
        r#"{"id": "g1", "name": "Engineering"}"#,
        "group",
        None,
    );
    assert_eq!(
        out["payload"],
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering"})
    );
}

#[wasm_bindgen_test]
fn bad_options_throw() {
    let source = "user {\n  userName = $.username\n}\n";
    assert!(preview(source, "{}", options("device", None)).is_err());
    assert!(preview(source, "{}", options("user", Some("yesterday"))).is_err());
    assert!(preview(source, "{}", JsValue::UNDEFINED).is_ok());
}

/// `options.now` fixes the clock; the full time-zone database and the full regex engine are
/// in the module, as on the command line.
#[wasm_bindgen_test]
fn now_time_zones_and_regex_work_as_on_the_command_line() {
    let source = format!(
        "schema \"{ACME}\" {{ year: integer, hour: integer }}\nuser {{\n  userName = $.username\n  \
         {ACME}:year = now().Year()\n  \
         {ACME}:hour = now().In(timezone(\"Asia/Kathmandu\")).Hour()\n  \
         title = username matches \"^\\\\p{{Greek}}+$\" ? \"greek\" : \"other\"\n}}\n"
    );
    let out = run(
        &source,
        r#"{"username": "αλφα"}"#,
        "user",
        Some("2031-05-06T07:08:09+02:00"),
    );
    assert_eq!(out["diagnostics"], json!([]), "{out}");
    assert_eq!(
        out["payload"][ACME],
        json!({"year": 2031, "hour": 10}),
        "{out}"
    );
    assert_eq!(out["payload"]["title"], "greek");
    // Without a fixed clock the browser's clock is read.
    let live = run(&source, r#"{"username": "x"}"#, "user", None);
    assert!(
        live["payload"][ACME]["year"].as_i64().unwrap() >= 2024,
        "{live}"
    );
}

#[wasm_bindgen_test]
fn integers_beyond_2_pow_53_cross_as_bigint() {
    let source = format!(
        "schema \"{ACME}\" {{ big: integer, small: integer, negative: integer }}\nuser {{\n  \
         userName = $.username\n  {ACME}:big = $.unix_uid\n  {ACME}:small = $.unix_guid\n  \
         {ACME}:negative = $.badLoginAttempts\n}}\n"
    );
    let record = r#"{"username": "ada", "unix_uid": 9007199254740993, "unix_guid": 9007199254740991, "badLoginAttempts": -9007199254740993}"#;
    let out = preview(&source, record, options("user", None)).unwrap();
    let acme = get(&get(&out, "payload"), ACME);
    let big = get(&acme, "big");
    assert!(big.is_bigint(), "{big:?}");
    assert_eq!(
        big.dyn_ref::<js_sys::BigInt>()
            .unwrap()
            .to_string(10)
            .unwrap(),
        "9007199254740993"
    );
    let negative = get(&acme, "negative");
    assert!(negative.is_bigint());
    assert_eq!(
        negative
            .dyn_ref::<js_sys::BigInt>()
            .unwrap()
            .to_string(10)
            .unwrap(),
        "-9007199254740993"
    );
    let small = get(&acme, "small");
    assert_eq!(small.as_f64(), Some(9_007_199_254_740_991.0));
    // The explanation carries the same values.
    let explain: Array = get(&out, "explain").dyn_into().unwrap();
    assert!(get(&explain.get(1), "value").is_bigint());
}

#[wasm_bindgen_test]
fn functions_lists_the_catalogue() {
    let out = to_json(&functions().unwrap());
    let all = out.as_array().unwrap();
    assert!(all.len() > 50, "{}", all.len());
    let upper = all.iter().find(|f| f["name"] == "upper").unwrap();
    assert!(upper["signature"].as_str().unwrap().starts_with("upper("));
    assert!(!upper["summary"].as_str().unwrap().is_empty());
    assert!(upper["examples"][0]["expression"].is_string());
    assert!(upper["examples"][0]["expected"].is_string());
    assert_eq!(all.len(), scimap::functions().len());
}

#[wasm_bindgen_test]
fn schemas_give_record_fields_and_targets() {
    let out = to_json(&schemas().unwrap());
    let user = out["user"].as_array().unwrap();
    let field = |fields: &[Json], name: &str| fields.iter().find(|f| f["name"] == name).cloned();
    assert_eq!(field(user, "username").unwrap()["type"], "string");
    let addresses = field(user, "addresses").unwrap();
    let street = field(addresses["fields"].as_array().unwrap(), "streetAddress").unwrap();
    assert_eq!(street["description"], "Street address.");
    assert!(field(out["group"].as_array().unwrap(), "name").is_some());
    let names = |kind: &str| -> Vec<String> {
        out["targets"][kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let user_targets = names("user");
    for t in [
        "userName",
        "name.givenName",
        "emails.value",
        "active",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    ] {
        assert!(
            user_targets.iter().any(|n| n == t),
            "{t} in {user_targets:?}"
        );
    }
    for t in ["id", "meta.created", "schemas", "name", "groups.value"] {
        assert!(
            !user_targets.iter().any(|n| n == t),
            "{t} in {user_targets:?}"
        );
    }
    let user_name = field(out["targets"]["user"].as_array().unwrap(), "userName").unwrap();
    assert!(user_name["description"]
        .as_str()
        .unwrap()
        .starts_with("Unique identifier for the User"));
    let group_targets = names("group");
    assert!(group_targets.iter().any(|n| n == "displayName"));
    assert!(!group_targets.iter().any(|n| n.starts_with("members")));
    // Every listed target compiles as one, given a constant of its type (and canonical value).
    for t in out["targets"]["user"].as_array().unwrap() {
        let value = match t["type"].as_str().unwrap() {
            "boolean" => "true",
            "integer" => "1",
            "decimal" => "1.5",
            "dateTime" => "\"2024-01-01T00:00:00Z\"",
            _ => "\"x\"",
        };
        let value = match t["canonicalValues"][0].as_str() {
            Some(canonical) => format!("{canonical:?}"),
            None => value.to_string(),
        };
        let name = t["name"].as_str().unwrap();
        // userName is required: every other target comes with it.
        let user_name = if name == "userName" {
            ""
        } else {
            "  userName = $.username\n"
        };
        let source = format!("user {{\n{user_name}  {name} = const {value}\n}}\n");
        let diagnostics = to_json(&check(&source).unwrap())["diagnostics"].clone();
        assert_eq!(diagnostics, json!([]), "{source}");
    }
}

const PLANNED: &str = "user {\n  userName = $.username\n  title = $.jobTitle\n  active = state == \"ACTIVATED\"\n}\ngroup {\n  displayName = $.name\n}\n";
const ADA: &str = r#"{"username": "ada", "jobTitle": "Eng", "state": "SUSPENDED"}"#;

fn plan_options(kind: &str, deactivate: bool, members: Option<&[&str]>) -> JsValue {
    let o = options(kind, None);
    if deactivate {
        Reflect::set(&o, &"deactivate".into(), &true.into()).unwrap();
    }
    if let Some(members) = members {
        let ids: Array = members.iter().map(|m| JsValue::from_str(m)).collect();
        Reflect::set(&o, &"members".into(), &ids).unwrap();
    }
    o
}

fn run_plan(source: &str, record: &str, current: &str) -> Json {
    to_json(
        &plan(source, record, current, plan_options("user", false, None)).expect("valid options"),
    )
}

/// The app's resource: its own `id` and `meta` beside what the mapping writes.
const CURRENT: &str = r#"{"id": "42", "userName": "ADA", "title": "Old", "active": true, "meta": {"resourceType": "User"}}"#;

#[wasm_bindgen_test]
fn plan_patches_what_differs_each_operation_with_its_entry() {
    let out = run_plan(PLANNED, ADA, CURRENT);
    assert_eq!(
        out,
        json!({
            "requests": [{
                "method": "PATCH",
                "path": "/Users/42",
                "body": {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [
                        {"op": "replace", "path": "title", "value": "Eng"},
                        {"op": "replace", "path": "active", "value": false}
                    ]
                },
                "causes": [
                    [{"target": "title", "line": 3, "column": 11}],
                    [{"target": "active", "line": 4, "column": 12}]
                ]
            }],
            "error": null
        })
    );
    // userName compares case-insensitively (RFC 7643 caseExact false): nothing to send.
    let same = r#"{"id": "42", "userName": "ADA", "title": "Eng", "active": false}"#;
    assert_eq!(
        run_plan(PLANNED, ADA, same),
        json!({"requests": [], "error": null})
    );
}

#[wasm_bindgen_test]
fn an_empty_current_resource_is_a_post_of_the_payload() {
    for current in ["", "  \n"] {
        let out = run_plan(PLANNED, ADA, current);
        let preview = run(PLANNED, ADA, "user", None);
        assert_eq!(out["error"], Json::Null, "{out}");
        let request = &out["requests"][0];
        assert_eq!(out["requests"].as_array().unwrap().len(), 1);
        assert_eq!(
            (&request["method"], &request["path"]),
            (&json!("POST"), &json!("/Users"))
        );
        assert_eq!(request["body"], preview["payload"]);
        let targets: Vec<&Json> = request["causes"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["target"])
            .collect();
        assert_eq!(targets, ["userName", "title", "active"]);
    }
}

/// The seed apps' profiles: Trello updates only `active`; monday.com PUTs, with a PATCH for
/// its PATCH-only `active` and `userType`.
#[wasm_bindgen_test]
fn plans_follow_the_seed_apps_profiles() {
    let record = r#"{"username": "ada", "firstname": "Ada", "lastname": "Byron", "email": "ada@x.example", "employeeType": "Staff", "state": "SUSPENDED"}"#;
    let current =
        r#"{"id": "t1", "userName": "ada", "name": {"formatted": "Ada Lovelace"}, "active": true}"#;
    let trello = include_str!("../examples/trello.scimap");
    let out = run_plan(trello, record, current);
    assert_eq!(out["error"], Json::Null, "{out}");
    let request = &out["requests"][0];
    assert_eq!(out["requests"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(
        request["body"]["Operations"],
        json!([{"op": "replace", "path": "active", "value": false}])
    );
    let line = trello
        .lines()
        .position(|l| l.trim_start().starts_with("active "))
        .unwrap()
        + 1;
    assert_eq!(request["causes"][0][0]["target"], "active");
    assert_eq!(request["causes"][0][0]["line"], line);

    let monday = include_str!("../examples/monday.scimap");
    let out = run_plan(monday, record, current);
    let methods: Vec<&Json> = out["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["method"])
        .collect();
    assert_eq!(methods, ["PUT", "PATCH"], "{out}");
    let put = &out["requests"][0]["body"];
    assert_eq!(put["id"], "t1");
    // The PUT leaves the PATCH-only attribute as the app has it; the PATCH changes it.
    assert_eq!(put["active"], true);
    let patch = &out["requests"][1];
    let ops: Vec<(&Json, &Json)> = patch["body"]["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (&o["path"], &o["value"]))
        .collect();
    assert_eq!(
        ops,
        [
            (&json!("active"), &json!(false)),
            (&json!("userType"), &json!("Staff"))
        ]
    );
    let causes: Vec<&Json> = patch["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c[0]["target"])
        .collect();
    assert_eq!(causes, ["active", "userType"]);
}

#[wasm_bindgen_test]
fn deactivation_is_a_plan_of_its_own_and_needs_the_current_resource() {
    let on = |current: &str| {
        to_json(
            &plan(
                PLANNED,
                "not read",
                current,
                plan_options("user", true, None),
            )
            .unwrap(),
        )
    };
    let out = on(r#"{"id": "42", "userName": "ada", "title": "Old", "active": true}"#);
    assert_eq!(
        out["requests"][0]["body"]["Operations"],
        json!([{"op": "replace", "path": "active", "value": false}]),
        "{out}"
    );
    assert_eq!(out["requests"][0]["causes"][0][0]["line"], 4);
    let out = on("");
    assert_eq!(out["requests"], json!([]));
    assert_eq!(out["error"]["input"], "current");
    assert_eq!(out["error"]["errors"][0]["code"], "scimap::current");
}

#[wasm_bindgen_test]
fn group_members_are_patched_by_id() {
    let out = to_json(
        &plan(
            PLANNED,
            r#"{"id": "jc1", "name": "Eng"}"#,
            r#"{"id": "g1", "displayName": "Eng", "members": [{"value": "u1"}, {"value": "u2"}]}"#,
            plan_options("group", false, Some(&["u2", "u3"])),
        )
        .unwrap(),
    );
    assert_eq!(out["error"], Json::Null, "{out}");
    assert_eq!(out["requests"][0]["path"], "/Groups/g1");
    assert_eq!(
        out["requests"][0]["body"]["Operations"],
        json!([
            {"op": "remove", "path": "members[value eq \"u1\"]"},
            {"op": "add", "path": "members", "value": [{"value": "u3"}]}
        ])
    );
    // A membership change comes from no line of the file.
    assert_eq!(
        out["requests"][0]["causes"],
        json!([[{"target": "members"}], [{"target": "members"}]])
    );
}

/// What cannot be planned comes back as data naming the input at fault, never as a throw.
#[wasm_bindgen_test]
fn plan_errors_name_the_input_at_fault() {
    let error = |source: &str, record: &str, current: &str| {
        let out = run_plan(source, record, current);
        assert_eq!(out["requests"], json!([]), "{out}");
        out["error"].clone()
    };
    let e = error("user {\n  userName = \n}\n", ADA, "");
    assert_eq!(e["input"], "mapping");
    assert_eq!(e["diagnostics"][0]["severity"], "error");

    let e = error(PLANNED, "{\"username\": ", CURRENT);
    assert_eq!(
        (&e["input"], &e["errors"][0]["code"]),
        (&json!("record"), &json!("scimap::invalid-json"))
    );
    let e = error(
        "user {\n  userName = $.username\n  title = int(jobTitle ?? \"x\")\n}\n",
        ADA,
        CURRENT,
    );
    assert_eq!(
        (&e["input"], &e["errors"][0]["target"]),
        (&json!("record"), &json!("title"))
    );

    let e = error(PLANNED, ADA, "{\"id\": ");
    assert_eq!(e["input"], "current");
    assert_eq!(e["errors"][0]["code"], "scimap::invalid-json");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("the current resource is not valid JSON"),
        "{e}"
    );
    let e = error(PLANNED, ADA, "[{\"id\": \"42\"}]");
    assert_eq!(e["input"], "current");
    assert_eq!(e["errors"][0]["code"], "scimap::not-an-object");
    assert_eq!(
        e["message"],
        "the current resource is an array, not a JSON object"
    );
    let e = error(PLANNED, ADA, r#"{"userName": "ada"}"#);
    assert_eq!(e["input"], "current");
    assert_eq!(e["errors"][0]["code"], "scimap::current");
    assert_eq!(e["message"], "the current resource has no string `id`");

    // The limits of a record hold for the current resource too.
    let deep = format!(
        "{{\"id\": \"42\", \"x\": {}1{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let e = error(PLANNED, ADA, &deep);
    assert_eq!(
        (&e["input"], &e["errors"][0]["code"]),
        (&json!("current"), &json!("scimap::limit"))
    );
    assert!(e["message"].as_str().unwrap().contains("`depth`"), "{e}");
    let huge = format!("{{\"id\": \"{}\"}}", "x".repeat(16 << 20));
    let e = error(PLANNED, ADA, &huge);
    assert_eq!(e["input"], "current");
    assert_eq!(
        e["message"],
        format!(
            "the current resource is over the limit `line-bytes` ({})",
            16 << 20
        )
    );

    let e = to_json(
        &plan(
            "user {\n  userName = $.username\n}\n",
            "{}",
            "",
            plan_options("group", false, None),
        )
        .unwrap(),
    )["error"]
        .clone();
    assert_eq!(
        (&e["input"], &e["errors"][0]["code"]),
        (&json!("mapping"), &json!("scimap::no-section"))
    );
}

#[wasm_bindgen_test]
fn bad_plan_options_throw() {
    assert!(plan(PLANNED, ADA, "", options("device", None)).is_err());
    assert!(plan(PLANNED, ADA, "", options("user", Some("yesterday"))).is_err());
    assert!(plan(PLANNED, "{}", CURRENT, plan_options("group", true, None)).is_err());
    assert!(plan(PLANNED, ADA, "", plan_options("user", false, Some(&["u1"]))).is_err());
    assert!(plan(PLANNED, ADA, "", JsValue::UNDEFINED).is_ok());
}

/// The example of reference §wasm-plan.
#[wasm_bindgen_test]
fn the_reference_example_of_plan() {
    let source = "user {\n  userName = $.username\n  active = state == \"ACTIVATED\"\n}";
    let out = run_plan(
        source,
        r#"{"username": "ada", "state": "SUSPENDED"}"#,
        r#"{"id": "42", "userName": "ada", "active": true, "meta": {"resourceType": "User"}}"#,
    );
    assert_eq!(
        out,
        json!({
            "requests": [{
                "method": "PATCH",
                "path": "/Users/42",
                "body": {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "active", "value": false}]
                },
                "causes": [[{"target": "active", "line": 3, "column": 12}]]
            }],
            "error": null
        })
    );
}

#[wasm_bindgen_test]
fn run_tests_reports_each_case_and_the_coverage() {
    let source = "user {\n  userName = $.username\n  displayName = displayname ?? username\n}\n";
    let tests = r#"
fixtures = "users.ndjson"

[[case]]
name = "picked"
fixture = { where = { username = "bo" } }
expect = { "/displayName" = "Bo D." }

[[case]]
name = "wrong"
record = { username = "ada" }
expect = { "/displayName" = "Ada" }
"#;
    let fixtures = "{\"username\": \"bo\", \"displayname\": \"Bo D.\"}\n";
    let out = to_json(&run_tests(source, tests, fixtures).unwrap());
    assert_eq!(out["error"], Json::Null);
    assert_eq!(
        (out["passed"].as_u64(), out["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(out["cases"][0]["passed"], true);
    assert_eq!(
        out["cases"][1]["mismatches"][0],
        json!({"what": "payload", "path": "/displayName", "expected": "Ada", "actual": "ada",
               "entry": {"target": "displayName", "line": 3, "column": 17}})
    );
    let sides: Vec<(String, u64)> = out["coverage"]["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["side"].as_str().unwrap().to_string(),
                b["hits"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sides, [("left".to_string(), 1), ("right".to_string(), 1)]);

    let broken = to_json(&run_tests(source, "[[case]]\nname = 1\n", "").unwrap());
    assert_eq!(
        (
            broken["error"]["input"].as_str(),
            broken["error"]["line"].as_u64()
        ),
        (Some("tests"), Some(2))
    );
    let uncompiled =
        to_json(&run_tests("user {\n  usrName = $.username\n}\n", tests, fixtures).unwrap());
    assert_eq!(uncompiled["error"]["input"], "mapping");
    assert_eq!(uncompiled["cases"], json!([]));
}

#[wasm_bindgen_test]
fn preview_all_runs_each_line_alone() {
    let source = "user {\n  userName = $.username\n  title = upper(jobTitle)\n}\n";
    let records = concat!(
        r#"{"username": "ada", "jobTitle": "Engineer"}"#,
        "\n\n",
        r#"{"username": "bob"}"#,
        "\n",
        r#"{"username": "#,
        "\n",
    );
    let out = to_json(&preview_all(source, records, options("user", None)).unwrap());
    let results = out["results"].as_array().unwrap();
    let lines: Vec<u64> = results
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 3, 4], "the blank line is skipped: {out}");
    assert_eq!(results[0]["payload"]["title"], "ENGINEER");
    assert_eq!(results[0]["errors"], json!([]));
    assert_eq!(results[1]["payload"], Json::Null);
    assert_eq!(results[1]["errors"][0]["target"], "title");
    assert_eq!(results[1]["errors"][0]["line"], 3);
    assert_eq!(results[2]["errors"][0]["code"], "scimap::invalid-json");
    assert_eq!(out["diagnostics"][0]["code"], "scimap::maybe-nil");

    let uncompiled = to_json(
        &preview_all(
            "user {\n  usrName = $.username\n}\n",
            records,
            JsValue::UNDEFINED,
        )
        .unwrap(),
    );
    assert_eq!(uncompiled["results"], json!([]));
    assert_eq!(
        uncompiled["diagnostics"][0]["code"],
        "scimap::unknown-target"
    );
    assert!(preview_all(source, records, options("robot", None)).is_err());
}

#[wasm_bindgen_test]
fn language_service_answers_as_the_editor_service_does() {
    // `😀` is two UTF-16 units (four bytes): positions count as JavaScript does.
    let source = "user {\n  // é\n  userName = $.usernamx\n  title = \"😀\" + upper(jobTitle)\n}\n";
    let service = LanguageService::new(source);

    let problems = to_json(&service.problems().unwrap());
    let codes: Vec<&str> = problems
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["scimap::unknown-field", "scimap::maybe-nil"]);
    assert_eq!(
        problems[0]["range"],
        json!({"start": {"line": 2, "character": 13}, "end": {"line": 2, "character": 23}})
    );
    assert_eq!(
        problems[1]["range"],
        json!({"start": {"line": 3, "character": 23}, "end": {"line": 3, "character": 31}})
    );
    assert_eq!(problems[0]["severity"], "error");
    assert!(problems[0]["help"].as_str().unwrap().contains("username"));

    let fixes = to_json(&service.code_actions(2, 13, 2, 23).unwrap());
    assert_eq!(fixes[0]["title"], "Replace with `username`");
    assert_eq!(fixes[0]["preferred"], true);
    assert_eq!(fixes[0]["edits"][0]["newText"], "username");
    assert_eq!(fixes[0]["diagnostic"], problems[0]["range"]);

    let items = to_json(&service.completions(3, 25).unwrap());
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"jobTitle"), "{labels:?}");
    let job = items
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "jobTitle")
        .unwrap();
    assert_eq!(job["kind"], "field");

    let hover = to_json(&service.hover(3, 18).unwrap());
    assert!(
        hover["markdown"].as_str().unwrap().contains("upper("),
        "{hover}"
    );
    assert_eq!(hover["range"]["start"], json!({"line": 3, "character": 17}));
    assert_eq!(to_json(&service.hover(0, 0).unwrap()), Json::Null);

    let formatted = LanguageService::new("user {\nuserName=$.username\n}\n").format();
    assert_eq!(
        formatted.as_deref(),
        Some("user {\n  userName = $.username\n}\n")
    );
    assert_eq!(LanguageService::new("user {").format(), None);
}
