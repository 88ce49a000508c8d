//! The payload (reference §payload) through the library API: payload shape, absent values,
//! elements, conversions and per-record errors.

use scimap::{Kind, Limits, Mapping, Options};
use serde_json::{json, Value};

fn compile(src: &str) -> Mapping {
    match Mapping::compile(src) {
        Ok(m) => m,
        Err(e) => panic!("did not compile: {:#?}", e.diagnostics),
    }
}

fn user(src: &str, record: Value) -> Value {
    compile(src)
        .evaluate_user(&record)
        .unwrap_or_else(|e| panic!("record failed: {e}"))
}

fn text(v: &Value) -> String {
    scimap::json::to_string(v)
}

#[test]
fn schemas_come_first_and_keys_keep_the_order_of_first_entries() {
    let src = r#"
user {
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department = $.department
  displayName = $.displayname
  userName = $.username
  name.familyName = $.lastname
  title = $.jobTitle
  name.givenName = $.firstname
}
"#;
    let out = user(
        src,
        json!({"username": "ada", "firstname": "Ada", "lastname": "Lovelace", "displayname": "Ada L.", "department": "R&D", "jobTitle": "Countess"}),
    );
    assert_eq!(
        text(&out),
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"},"displayName":"Ada L.","userName":"ada","name":{"familyName":"Lovelace","givenName":"Ada"},"title":"Countess"}"#
    );
}

#[test]
fn nil_missing_and_empty_strings_leave_attributes_out_and_empty_extensions_are_dropped() {
    let src = r#"
user {
  userName = $.username
  displayName = $.displayname
  title = jobTitle
  name.givenName = $.firstname
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department = $.department
}
"#;
    let out = user(
        src,
        json!({"username": "ada", "displayname": "", "jobTitle": null, "department": ""}),
    );
    assert_eq!(
        text(&out),
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada"}"#
    );
}

#[test]
fn filtered_elements_are_created_with_their_filter_values_and_dropped_when_empty() {
    let src = r#"
user {
  userName = $.username
  emails[type eq "work"].value = $.email
  phoneNumbers[type eq "mobile" and primary eq true].value = find(phoneNumbers ?? [], .type == "mobile")?.number
  phoneNumbers[type eq "work"].value = find(phoneNumbers ?? [], .type == "work")?.number
}
"#;
    let out = user(
        src,
        json!({"username": "ada", "email": "ada@example.com", "phoneNumbers": [{"type": "work", "number": "+1 555"}]}),
    );
    assert_eq!(
        text(&out),
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada","emails":[{"type":"work","value":"ada@example.com"}],"phoneNumbers":[{"type":"work","value":"+1 555"}]}"#
    );
}

#[test]
fn the_unfiltered_element_is_shared_and_gets_an_automatic_primary() {
    let src = r#"
user {
  userName = $.username
  emails.value = lower(email)
  emails.display = $.email
}
"#;
    let out = user(src, json!({"username": "ada", "email": "Ada@Example.com"}));
    assert_eq!(
        out["emails"],
        json!([{"value": "ada@example.com", "display": "Ada@Example.com", "primary": true}])
    );
    // No automatic primary when an entry of the attribute maps it.
    let src = r#"
user {
  userName = $.username
  emails.value = $.email
  emails.primary = false
}
"#;
    let out = user(src, json!({"username": "ada", "email": "a@x.example"}));
    assert_eq!(
        out["emails"],
        json!([{"value": "a@x.example", "primary": false}])
    );
}

#[test]
fn element_wise_targets_align_positions_and_drop_emptied_elements() {
    let src = r#"
user {
  userName = $.username
  addresses[].type = $.addresses[*].type
  addresses[].locality = $.addresses[*].locality
  addresses[].country = map(addresses ?? [], upper(.country ?? ""))
}
"#;
    let out = user(
        src,
        json!({"username": "ada", "addresses": [
            {"type": "work", "locality": "London", "country": "gb"},
            {"type": "home"},
            {"locality": "Paris", "country": ""},
        ]}),
    );
    assert_eq!(
        out["addresses"],
        json!([
            {"type": "work", "locality": "London", "country": "GB"},
            {"locality": "Paris"}
        ])
    );
    // No list at all: the attribute is left out.
    let out = user(src, json!({"username": "ada", "addresses": null}));
    assert!(out.get("addresses").is_none());
}

#[test]
fn values_convert_to_the_targets_scim_types() {
    let src = r#"
schema "urn:example:params:scim:schemas:extension:acme:2.0:User" { hireYear: integer, score: decimal, remote: boolean, since: dateTime }
user {
  userName = unix_uid
  active = "TRUE"
  urn:example:params:scim:schemas:extension:acme:2.0:User:hireYear = "070707"
  urn:example:params:scim:schemas:extension:acme:2.0:User:score = 4 / 2
  urn:example:params:scim:schemas:extension:acme:2.0:User:remote = const true
  urn:example:params:scim:schemas:extension:acme:2.0:User:since = $.created
}
"#;
    let out = user(
        src,
        json!({"unix_uid": 5001, "created": "2021-03-04T17:22:05.120Z"}),
    );
    assert_eq!(
        text(&out),
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:example:params:scim:schemas:extension:acme:2.0:User"],"userName":"5001","active":true,"urn:example:params:scim:schemas:extension:acme:2.0:User":{"hireYear":70707,"score":2,"remote":true,"since":"2021-03-04T17:22:05.12Z"}}"#
    );
}

#[test]
fn every_failing_entry_is_reported_in_file_order_with_its_location() {
    let src = "user {\n  userName = $.username\n  active = $.state\n  title = mfa.configured ? \"y\" : \"n\"\n}\n";
    let m = compile(src);
    let err = m
        .evaluate_user(&json!({"_id": "u1", "username": "ada", "state": "yes"}))
        .unwrap_err();
    let out = err.to_json(Some(3), Some("u1"));
    assert_eq!(
        text(&out),
        r#"{"error":{"message":"\"yes\" cannot become a SCIM boolean (only \"true\" and \"false\" can)","errors":[{"target":"active","code":"scimap::conversion","message":"\"yes\" cannot become a SCIM boolean (only \"true\" and \"false\" can)","line":3,"column":12},{"target":"title","code":"scimap::nil-access","message":"cannot read `.configured` of nil: `mfa` is nil for this record","line":4,"column":11}]},"line":3,"id":"u1"}"#
    );
}

#[test]
fn a_required_attribute_left_absent_fails_the_record_once() {
    let m = compile("user {\n  userName = $.username\n}\n");
    let err = m.evaluate_user(&json!({"username": ""})).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert_eq!(err.errors[0].code, "scimap::required");
    assert_eq!(err.errors[0].target.as_deref(), Some("userName"));
    // Its own entry failed: reported once, by that failure.
    let m = compile("user {\n  userName = mfa.configured ? \"a\" : \"b\"\n}\n");
    let err = m.evaluate_user(&json!({"username": "x"})).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert_eq!(err.errors[0].code, "scimap::nil-access");
}

#[test]
fn a_section_let_runs_once_and_its_failure_fails_each_entry_that_uses_it() {
    let src = r#"
user {
  let domain = emailDomain(email).x
  userName = $.username
  title = domain
  nickName = domain
}
"#;
    let m = Mapping::compile(src);
    // `.x` on a string is a compile-time error: the checker knows the type.
    assert!(m.is_err());
    let src = r#"
user {
  let part = split(email, "@")[5]
  userName = $.username
  title = part
  nickName = part
}
"#;
    let err = compile(src)
        .evaluate_user(&json!({"username": "ada", "email": "a@b"}))
        .unwrap_err();
    let targets: Vec<_> = err
        .errors
        .iter()
        .map(|e| e.target.clone().unwrap())
        .collect();
    assert_eq!(targets, ["title", "nickName"]);
    assert!(err.errors[0]
        .message
        .starts_with("in `let part`: index out of range"));
    assert_eq!(err.errors[0].message, err.errors[1].message);
}

#[test]
fn records_that_are_not_objects_fail_as_a_whole() {
    let m = compile("user {\n  userName = $.username\n}\n");
    let mut out = Vec::new();
    assert!(!m.evaluate_line(Kind::User, b"[1,2]", 7, &mut out));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"error":{"message":"the record is an array, not a JSON object","errors":[{"target":null,"code":"scimap::not-an-object","message":"the record is an array, not a JSON object"}]},"line":7}"#
    );
    let mut out = Vec::new();
    assert!(!m.evaluate_line(
        Kind::User,
        br#"{"_id":"x","username":"\uD800"}"#,
        1,
        &mut out
    ));
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("scimap::invalid-json"));
    let mut out = Vec::new();
    assert!(m.evaluate_line(
        Kind::User,
        br#"{"_id":"x","username":"a","username":"b"}"#,
        1,
        &mut out
    ));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b"}"#
    );
}

#[test]
fn now_is_fixed_by_the_options_with_its_offset_kept() {
    let options = Options {
        now: Some(chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05+02:00").unwrap()),
        ..Options::default()
    };
    let v = scimap::eval_expression("now()", Kind::User, &json!({}), &options).unwrap();
    assert_eq!(v, json!("2026-01-02T03:04:05+02:00"));
}

#[test]
fn group_sections_map_group_records() {
    let m = compile("group {\n  displayName = $.name\n  externalId = attr(\"costCenter\")\n}\n");
    let out = m
        .evaluate_group(
            &json!({"id": "g1", "name": "Engineering", "attributes": {"costCenter": "CC-1"}}),
        )
        .unwrap();
    assert_eq!(
        text(&out),
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","externalId":"CC-1"}"#
    );
    assert!(m.evaluate_user(&json!({})).is_err());
}

#[test]
fn a_record_read_once_serves_several_mappings_and_bad_records_fail_to_read() {
    let limits = scimap::Limits::default();
    for (bad, code) in [
        (&b"[1]"[..], "scimap::not-an-object"),
        (br#"{"username":"\uDC00"}"#, "scimap::invalid-json"),
        (b"{\"username\":\"\xff\"}", "scimap::invalid-utf8"),
        (br#"{"a":1} {"#, "scimap::invalid-json"),
    ] {
        let e = scimap::Record::parse(bad, &limits).unwrap_err();
        assert_eq!(e.errors[0].code, code, "{}", String::from_utf8_lossy(bad));
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
    let e = scimap::Record::parse(deep.as_bytes(), &limits).unwrap_err();
    assert_eq!(e.errors[0].code, "scimap::limit");

    let line = br#"{"_id":"1","username":"Ada","email":"ADA@example.com"}"#;
    let record = scimap::Record::parse(line, &limits).unwrap();
    let by_name = compile("user {\n  userName = $.username\n}\n");
    let by_mail = compile("user {\n  userName = lower(email)\n}\n");
    let group_only = compile("group {\n  displayName = name\n}\n");
    let mut out = Vec::new();
    by_name
        .write_payload(Kind::User, &record, &mut out)
        .unwrap();
    by_mail
        .write_payload(Kind::User, &record, &mut out)
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        concat!(
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Ada"}"#,
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com"}"#
        )
    );
    let e = group_only
        .write_payload(Kind::User, &record, &mut Vec::new())
        .unwrap_err();
    assert_eq!(e.errors[0].code, "scimap::no-section");
}

/// The payload written as its entries are evaluated (`write_payload`, `evaluate_line`) lists the
/// URNs of exactly the extensions that have a value, in order, as `evaluate_user` does, for
/// every combination of three extensions present and absent.
#[test]
fn written_payloads_list_the_extensions_with_a_value_whichever_are_absent() {
    let src = r#"
schema "urn:example:params:scim:schemas:extension:a:2.0:User" { x: string }
schema "urn:example:params:scim:schemas:extension:b:2.0:User" { y: string }
user {
  urn:example:params:scim:schemas:extension:a:2.0:User:x = company
  userName = username
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department = department
  urn:example:params:scim:schemas:extension:b:2.0:User:y = location
}
"#;
    let mapping = compile(src);
    for mask in 0..8 {
        let mut record = json!({"username": "ada"});
        for (bit, field) in ["company", "department", "location"]
            .into_iter()
            .enumerate()
        {
            if mask & (1 << bit) != 0 {
                record[field] = json!(field.to_uppercase());
            }
        }
        let want = text(&mapping.evaluate_user(&record).expect("the record maps"));
        assert_eq!(written(&mapping, &record).as_ref(), Ok(&want), "{record}");
        assert_eq!(bulk_line(&mapping, &record), Some(want), "{record}");
    }
}

/// Every conversion of LANGUAGE §5 the written payload makes as its entries are evaluated
/// (`write_payload`, `evaluate_line`: a record field or a value written straight, or through a
/// conversion) gives what `evaluate_user` gives, failures included: fields and expressions of
/// each type, for each target type, with empty, absent and unconvertible values.
#[test]
fn written_payloads_convert_as_evaluated_ones() {
    let entries = [
        "displayName = department",
        "nickName = department + \"!\"",
        "userType = lower(department)",
        "active = department == \"yes\"",
        "active = department",
        "locale = $.department",
        "urn:example:params:scim:schemas:extension:acme:2.0:User:n = department",
        "urn:example:params:scim:schemas:extension:acme:2.0:User:d = department",
        "urn:example:params:scim:schemas:extension:acme:2.0:User:b = department",
        "urn:example:params:scim:schemas:extension:acme:2.0:User:t = department",
        "urn:example:params:scim:schemas:extension:acme:2.0:User:r = department",
    ];
    // `None`: the record has no such field.
    let values = [
        None,
        Some(json!(null)),
        Some(json!("")),
        Some(json!("x \"y\"\n")),
        Some(json!("yes")),
        Some(json!("true")),
        Some(json!("FALSE")),
        Some(json!("070707")),
        Some(json!("1.5")),
        Some(json!("2021-03-04T17:22:05.120Z")),
        Some(json!(7)),
        Some(json!(-2.5)),
        Some(json!(true)),
        Some(json!([1])),
        Some(json!({"k": 1})),
    ];
    let mut compared = (0, 0);
    for entry in entries {
        let mapping = compile(&format!(
            "schema \"urn:example:params:scim:schemas:extension:acme:2.0:User\" \
             {{ n: integer, d: decimal, b: boolean, t: dateTime, r: reference }}\n\
             user {{\n  userName = username\n  {entry}\n}}"
        ));
        for value in &values {
            let mut record = json!({"username": "ada"});
            if let Some(value) = value {
                record["department"] = value.clone();
            }
            let want = mapping.evaluate_user(&record).map(|v| text(&v));
            let got = written(&mapping, &record);
            match &want {
                Ok(want) => {
                    assert_eq!(got.as_ref().ok(), Some(want), "{entry}: {record}");
                    let line = bulk_line(&mapping, &record);
                    assert_eq!(line.as_ref(), Some(want), "{entry}: {record}");
                    compared.0 += 1;
                }
                Err(e) => {
                    let got = got.expect_err("the evaluated payload failed");
                    assert_eq!(got.to_string(), e.to_string(), "{entry}: {record}");
                    assert_eq!(bulk_line(&mapping, &record), None, "{entry}: {record}");
                    compared.1 += 1;
                }
            }
        }
    }
    // Both outcomes were compared, many times each.
    assert!(compared.0 > 50 && compared.1 > 20, "{compared:?}");
}

/// Strings an entry makes (builtins that build them, `Format`, sums, branches) are written to
/// the payload as they are made, never made values: what is written, and each limit it runs
/// into (the steps, one at a time, string sizes and memory), are what `evaluate_user` gives.
#[test]
fn strings_written_as_made_are_the_evaluated_ones_up_to_each_limit() {
    let entries = [
        "displayName = lower(department)",
        "displayName = upper(department)",
        "displayName = titleCase(department)",
        "displayName = replace(department, \"a\", \"-\")",
        "displayName = repeat(department, 2)",
        "displayName = join(split(department, \" \"), \".\")",
        "displayName = join([department, \"x\"], \"+\")",
        "displayName = date(department).Format(\"Jan 2, 2006\")",
        "displayName = department + \" \" + username",
        "displayName = department == \"ada\" ? upper(username) : lower(department)",
        "urn:example:params:scim:schemas:extension:acme:2.0:User:n = lower(department)",
    ];
    let values = [
        None,
        Some(json!(null)),
        Some(json!("")),
        Some(json!("ada")),
        Some(json!("Data Science Lab")),
        Some(json!("Straße \"Ünï\"\n")),
        Some(json!("2021-03-04T17:22:05.120Z")),
        Some(json!(7)),
    ];
    let mut limits = vec![Limits::default()];
    for steps in 1..=24 {
        limits.push(Limits {
            steps,
            ..Limits::default()
        });
    }
    for string_bytes in [2, 3, 16] {
        limits.push(Limits {
            string_bytes,
            ..Limits::default()
        });
    }
    let with_memory = |memory| Limits {
        memory,
        ..Limits::default()
    };
    let mut compared = (0, 0);
    for entry in entries {
        let source = format!(
            "schema \"urn:example:params:scim:schemas:extension:acme:2.0:User\" {{ n: integer }}\n\
             user {{\n  userName = username\n  {entry}\n}}"
        );
        for value in &values {
            let mut record = json!({"username": "ada"});
            if let Some(value) = value {
                record["department"] = value.clone();
            }
            // A parsed record charges its own size first, which a JSON value does not: the
            // written payload is given that much more memory.
            let fits = |memory| {
                let options = Options {
                    limits: with_memory(memory),
                    ..Options::default()
                };
                let plain = Mapping::compile_with("user {\n  userName = username\n}", &options);
                written(&plain.expect("compiles"), &record).is_ok()
            };
            let record_bytes = (0..4096).find(|&m| fits(m)).expect("a record that fits");
            let memory = (0..48)
                .step_by(3)
                .map(|m| (with_memory(m), record_bytes + m));
            let others = limits.iter().map(|l| (*l, l.memory));
            for (limits, written_memory) in others.chain(memory) {
                let compile = |limits| {
                    let options = Options {
                        limits,
                        ..Options::default()
                    };
                    Mapping::compile_with(&source, &options).expect("compiles")
                };
                let mapping = compile(limits);
                let writing = compile(Limits {
                    memory: written_memory,
                    ..limits
                });
                let want = mapping.evaluate_user(&record).map(|v| text(&v));
                let got = written(&writing, &record);
                match (&want, got) {
                    (Ok(want), got) => {
                        assert_eq!(got.ok().as_ref(), Some(want), "{entry}: {record}");
                        compared.0 += 1;
                    }
                    (Err(e), got) => {
                        let got = got.expect_err("the evaluated payload failed").to_string();
                        let got = got.replace(
                            &format!("(the limit is {written_memory})"),
                            &format!("(the limit is {})", limits.memory),
                        );
                        assert_eq!(got, e.to_string(), "{entry}: {record}");
                        compared.1 += 1;
                    }
                }
            }
        }
    }
    // Both outcomes were compared, many times each.
    assert!(compared.0 > 500 && compared.1 > 500, "{compared:?}");
}

/// A field the evaluator finds by name past the 254th key of a record, read by several entries,
/// is found each time (it cannot be remembered by position there).
#[test]
fn fields_far_into_a_large_record_are_found_each_time_they_are_read() {
    let mapping = compile(
        "user {\n  userName = username\n  title = department\n  nickName = department + \"!\"\n  displayName = lower(department)\n}",
    );
    let mut record = serde_json::Map::new();
    for i in 0..300 {
        record.insert(format!("custom{i}"), json!(i));
    }
    record.insert("username".into(), json!("ada"));
    record.insert("department".into(), json!("R&D"));
    let record = Value::Object(record);
    let want = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada","title":"R&D","nickName":"R&D!","displayName":"r&d"}"#;
    let evaluated = mapping.evaluate_user(&record).expect("the record maps");
    assert_eq!(text(&evaluated), want);
    assert_eq!(written(&mapping, &record).as_deref(), Ok(want));
}

/// The payload `write_payload` writes for `record`, read by `Record::parse`.
fn written(mapping: &Mapping, record: &Value) -> Result<String, scimap::RecordError> {
    let line = record.to_string();
    let parsed =
        scimap::Record::parse(line.as_bytes(), &scimap::Limits::default()).expect("a record");
    let mut out = Vec::new();
    mapping
        .write_payload(Kind::User, &parsed, &mut out)
        .map(|()| String::from_utf8(out).expect("UTF-8"))
}

/// The bulk line `evaluate_line` writes for `record`, when the record succeeds.
fn bulk_line(mapping: &Mapping, record: &Value) -> Option<String> {
    let mut out = Vec::new();
    let ok = mapping.evaluate_line(Kind::User, record.to_string().as_bytes(), 1, &mut out);
    ok.then(|| String::from_utf8(out).expect("UTF-8"))
}
