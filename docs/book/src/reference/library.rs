// The library chapter's examples (reference/library.md shows them by anchor). They are tests:
// tests/book.rs includes this file, so every example compiles and its assertions hold.

use std::error::Error;

#[test]
fn compile_and_evaluate() -> Result<(), Box<dyn Error>> {
    // ANCHOR: compile
    let source = r#"
user {
  userName       = $.username
  name.formatted = trim((firstname ?? "") + " " + (lastname ?? ""))
  active         = state == "ACTIVATED"
}
"#;
    let mapping = scimap::Mapping::compile(source)?;
    assert!(mapping.warnings().is_empty());

    let user = serde_json::json!({
        "username": "ada", "firstname": "Ada", "lastname": "Lovelace", "state": "ACTIVATED"
    });
    let payload = mapping.evaluate_user(&user)?;
    assert_eq!(payload["name"]["formatted"], "Ada Lovelace");
    assert_eq!(
        scimap::json::to_string(&payload),
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada","name":{"formatted":"Ada Lovelace"},"active":true}"#
    );
    // ANCHOR_END: compile
    Ok(())
}

#[test]
fn options() -> Result<(), Box<dyn Error>> {
    // ANCHOR: options
    let mut limits = scimap::Limits {
        steps: 10_000,
        ..scimap::Limits::default()
    };
    limits.set("memory", 16 << 20)?; // by the name `--limit` uses
    let options = scimap::Options {
        limits,
        now: Some(chrono::DateTime::parse_from_rfc3339("2024-05-06T07:08:09+02:00")?),
        allow: vec!["scimap::maybe-nil".to_string()],
    };
    let mapping = scimap::Mapping::compile_with(
        "user {\n  userName = username\n  title = now().Format(\"2006\") + lower(jobTitle)\n}",
        &options,
    )?;
    assert!(mapping.warnings().is_empty()); // `lower(jobTitle)` is maybe-nil, allowed here
    let payload = mapping.evaluate_user(&serde_json::json!({"username": "ada", "jobTitle": "CEO"}))?;
    assert_eq!(payload["title"], "2024ceo");
    // ANCHOR_END: options
    Ok(())
}

#[test]
fn compile_errors() {
    // ANCHOR: compile-error
    let err = match scimap::Mapping::compile("user {\n  usrName = $.username\n}") {
        Ok(_) => panic!("the mapping has a typo"),
        Err(err) => err,
    };
    let first = &err.diagnostics[0];
    assert_eq!(first.code, "scimap::unknown-target");
    assert_eq!(first.severity, scimap::Severity::Error);
    assert_eq!(first.help.as_deref(), Some("did you mean `userName`?"));
    assert_eq!(&err.source[first.span.start..first.span.end], "usrName");
    // Display: the first error with its line and column.
    assert_eq!(
        err.to_string(),
        "2:3: unknown attribute `usrName` of User [scimap::unknown-target]"
    );
    // The same JSON objects as `scimap check --format json`.
    let index = scimap::render::LineIndex::new(&err.source);
    let json = scimap::render::diagnostic_json(first, Some("bad.scimap"), &index);
    assert_eq!(json["line"], 2);
    assert_eq!(json["end_column"], 10);
    // ANCHOR_END: compile-error
}

#[test]
fn record_errors() -> Result<(), Box<dyn Error>> {
    // ANCHOR: record-error
    let mapping = scimap::Mapping::compile("user {\n  userName = $.username\n  title = mfa?.configured ? \"mfa\" : \"none\"\n}")?;
    let err = mapping
        .evaluate_user(&serde_json::json!({"_id": "u1"}))
        .expect_err("this record has neither a username nor mfa");
    let codes: Vec<&str> = err.errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["scimap::required", "scimap::type-error"]);
    assert_eq!(err.errors[0].target.as_deref(), Some("userName"));
    assert_eq!((err.errors[0].line, err.errors[0].column), (Some(2), Some(14)));
    // The error object of `scimap bulk`, with the input line number and the record's id.
    let line = err.to_json(Some(7), Some("u1"));
    assert_eq!(line["line"], 7);
    assert_eq!(line["error"]["message"], err.message());
    // ANCHOR_END: record-error
    Ok(())
}

#[test]
fn records_read_once() -> Result<(), Box<dyn Error>> {
    // ANCHOR: write-payload
    let trello = scimap::Mapping::compile("user {\n  userName = $.username\n}")?;
    let slack = scimap::Mapping::compile("user {\n  userName = lower(email)\n}")?;
    let line = br#"{"username": "ada", "email": "Ada@Example.com"}"#;
    let limits = scimap::Limits::default();
    let record = scimap::Record::parse(line, &limits)?; // validated once, borrows `line`
    let mut out = Vec::new();
    trello.write_payload(scimap::Kind::User, &record, &mut out)?;
    out.push(b'\n');
    slack.write_payload(scimap::Kind::User, &record, &mut out)?;
    assert_eq!(
        String::from_utf8(out)?,
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada\"}\n\
         {\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada@example.com\"}"
    );
    // `parse_record` reads the same way into a serde_json value.
    let value = scimap::parse_record(line, &limits)?;
    assert_eq!(value["username"], "ada");
    assert!(scimap::parse_record(b"[1]", &limits).is_err());
    // ANCHOR_END: write-payload
    Ok(())
}

#[test]
fn bulk_lines() -> Result<(), Box<dyn Error>> {
    // ANCHOR: evaluate-line
    let mapping = scimap::Mapping::compile("user {\n  userName = $.username\n}")?;
    let mut out = Vec::new();
    let ok = mapping.evaluate_line(scimap::Kind::User, br#"{"username":"ada"}"#, 1, &mut out);
    assert!(ok);
    out.push(b'\n');
    let ok = mapping.evaluate_line(scimap::Kind::User, b"not json", 2, &mut out);
    assert!(!ok);
    let text = String::from_utf8(out)?;
    let second = text.lines().nth(1).unwrap_or_default();
    assert!(second.starts_with(r#"{"error":{"message":"the record is not valid JSON: expected ident"#));
    assert!(second.ends_with(r#""line":2}"#));
    // ANCHOR_END: evaluate-line
    Ok(())
}

#[test]
fn bulk_runs() -> Result<(), Box<dyn Error>> {
    // ANCHOR: bulk-run
    let mapping = scimap::Mapping::compile("user {\n  userName = $.username\n}")?;
    // NDJSON, or one JSON array of records: `scimap bulk`'s input.
    let input = "{\"_id\": \"1\", \"username\": \"ada\"}\n7\n{\"_id\": \"3\", \"username\": \"eve\"}\n";
    let mut output = Vec::new();
    let options = scimap::bulk::Options {
        threads: 2,
        line_bytes: scimap::Limits::default().line_bytes,
        progress: Some(&|done| eprintln!("{done} records")),
    };
    let summary =
        scimap::bulk::evaluate(&mapping, scimap::Kind::User, input.as_bytes(), &mut output, &options)?;
    assert_eq!((summary.total, summary.ok, summary.failed()), (3, 2, 1));
    let text = String::from_utf8(output)?;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada"}"#);
    assert!(lines[1].starts_with(r#"{"error":{"message":"the record is a number, not a JSON object"#));
    assert!(lines[1].ends_with(r#""line":2}"#));
    assert!(lines[2].ends_with(r#""userName":"eve"}"#));
    // ANCHOR_END: bulk-run
    Ok(())
}

#[test]
fn explain() -> Result<(), Box<dyn Error>> {
    // ANCHOR: explain
    let mapping = scimap::Mapping::compile("user {\n  userName = $.username\n  title = const \"Engineer\"\n}")?;
    let explained = mapping.explain(scimap::Kind::User, &serde_json::json!({"username": "ada"}));
    let rows: Vec<(&str, &str, Option<String>)> = explained
        .iter()
        .map(|x| (x.target.as_str(), x.kind, x.value.as_ref().map(|v| v.to_string())))
        .collect();
    assert_eq!(
        rows,
        [
            ("userName", "direct", Some("\"ada\"".to_string())),
            ("title", "const", Some("\"Engineer\"".to_string())),
        ]
    );
    // ANCHOR_END: explain
    Ok(())
}

#[test]
fn expressions() {
    // ANCHOR: expression
    use scimap::{eval_expression, Kind, Options, Phase};
    let user = serde_json::json!({"firstname": "Ada"});
    let value = eval_expression(r#"upper(firstname ?? "") + "!""#, Kind::User, &user, &Options::default());
    assert_eq!(value.ok(), Some(serde_json::json!("ADA!")));
    let err = eval_expression("lowr(firstname)", Kind::User, &user, &Options::default())
        .expect_err("a typo");
    assert_eq!(err.phase, Phase::Compile);
    assert_eq!(err.diagnostics[0].code, "scimap::unknown-function");
    // ANCHOR_END: expression
}

#[test]
fn expression_compiled_once() -> Result<(), Box<dyn Error>> {
    // ANCHOR: expression_compiled
    use scimap::{Expression, Kind, Options, Record};
    let options = Options::default();
    let status = Expression::compile(
        r#"state == "ACTIVATED" ? "active" : "inactive""#,
        Kind::User,
        &options,
    )?;
    for line in [r#"{"state":"ACTIVATED"}"#, r#"{"state":"SUSPENDED"}"#] {
        let record = Record::parse(line.as_bytes(), &options.limits)?;
        println!("{}", status.evaluate(&record)?);
    }
    let user = serde_json::json!({"state": "ACTIVATED"});
    assert_eq!(status.evaluate_json(&user)?, "active");

    // The answer as JSON text, appended to a buffer the caller reuses.
    let mut out = Vec::new();
    let record = Record::parse(br#"{"state":"SUSPENDED"}"#, &options.limits)?;
    status.write_json(&record, &mut out)?;
    assert_eq!(out, br#""inactive""#);
    // ANCHOR_END: expression_compiled
    Ok(())
}

#[test]
fn functions_and_formatting() -> Result<(), Box<dyn Error>> {
    // ANCHOR: functions
    let lower = scimap::functions()
        .iter()
        .find(|f| f.name == "lower")
        .ok_or("lower is a builtin")?;
    assert_eq!(lower.signature, "lower(s: string) -> string");
    assert!(!lower.examples.is_empty());

    let formatted = scimap::fmt::format("user {\nuserName=lower(username)\n}\n")?;
    assert_eq!(formatted, "user {\n  userName = lower(username)\n}\n");
    // ANCHOR_END: functions
    Ok(())
}

#[test]
fn plans() -> Result<(), Box<dyn Error>> {
    // ANCHOR: plan
    use scimap::plan::Method;
    use serde_json::json;
    let mapping = scimap::Mapping::compile(
        r#"app "Example" {
  update    = put
  patchOnly = [active]
}
user {
  userName = $.username
  title    = $.jobTitle
  active   = state == "ACTIVATED"
}
group {
  displayName = $.name
}"#,
    )?;
    let user = json!({"username": "ada", "jobTitle": "Countess", "state": "SUSPENDED"});

    // No current resource: the app has none, so a POST of the payload.
    let create = mapping.plan(scimap::Kind::User, &user, None)?;
    assert_eq!(create.requests[0].method, Method::Post);
    assert_eq!(create.requests[0].path, "/Users");

    // The app's resource as last read back: a PUT of it with the new title, then a PATCH of
    // `active`, which this app takes by PATCH only.
    let current = json!({"id": "42", "userName": "ada", "title": "Analyst", "active": true});
    let update = mapping.plan(scimap::Kind::User, &user, Some(&current))?;
    let methods: Vec<Method> = update.requests.iter().map(|r| r.method).collect();
    assert_eq!(methods, [Method::Put, Method::Patch]);
    assert_eq!(update.requests[0].body["title"], "Countess");
    assert_eq!(
        update.to_json()[1]["body"]["Operations"],
        json!([{"op": "replace", "path": "active", "value": false}])
    );
    // Each PATCH operation's causes: the entries behind it, where their sources start.
    let cause = &update.requests[1].causes[0][0];
    assert_eq!((cause.target.as_str(), cause.line, cause.column), ("active", 8, 14));
    assert_eq!(
        update.to_json_explained()[1]["causes"],
        json!([[{"target": "active", "line": 8, "column": 14}]])
    );

    // Nothing differs: nothing to send, and no id needed.
    let same = json!({"userName": "ADA", "title": "Countess", "active": "false"});
    assert!(mapping.plan(scimap::Kind::User, &user, Some(&same))?.is_empty());

    // Deactivation: `active` false and nothing else, no record evaluated.
    let off = mapping.deactivate(&current)?;
    assert_eq!(off.requests.len(), 1);
    assert_eq!(off.requests[0].method, Method::Patch);

    // A group and its members (the app's ids): the membership PATCH follows the group's.
    let group = json!({"id": "g1", "name": "Engineering"});
    let team = json!({"id": "team-9", "displayName": "Engineering", "members": [{"value": "u1"}]});
    let members = ["u1".to_string(), "u2".to_string()];
    let membership = mapping.plan_group(&group, Some(&team), &members)?;
    assert_eq!(
        membership.to_json(),
        json!([{
            "method": "PATCH",
            "path": "/Groups/team-9",
            "body": {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": "u2"}]}]
            }
        }])
    );

    // A resource that cannot be updated is an error, as a failed record is.
    let err = mapping
        .plan(scimap::Kind::User, &user, Some(&json!({"active": true})))
        .expect_err("a change, and no id to send it to");
    assert_eq!(err.errors[0].code, "scimap::current");
    // ANCHOR_END: plan
    Ok(())
}

#[test]
fn plan_lines() -> Result<(), Box<dyn Error>> {
    // ANCHOR: plan-line
    let mapping = scimap::Mapping::compile("user {\n  userName = $.username\n}")?;
    let mut out = Vec::new();
    let pair = br#"{"record": {"username": "ada"}, "current": {"id": "7", "userName": "eve"}}"#;
    assert!(mapping.plan_line(scimap::Kind::User, pair, 1, &mut out));
    assert_eq!(
        String::from_utf8(out)?,
        r#"[{"method":"PATCH","path":"/Users/7","body":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"ada"}]}}]"#
    );
    let mut out = Vec::new();
    assert!(!mapping.plan_line(scimap::Kind::User, br#"{"current": null}"#, 2, &mut out));
    let error: serde_json::Value = serde_json::from_slice(&out)?;
    assert_eq!(error["error"]["errors"][0]["code"], "scimap::pair");
    assert_eq!(error["line"], 2);
    // ANCHOR_END: plan-line
    Ok(())
}
