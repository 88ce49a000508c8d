//! The evaluator's compiled forms through the library API: sums of strings built in one buffer
//! and subexpressions written more than once evaluated once per record answer exactly as the
//! plain forms do, errors and limits included.

use scimap::{Limits, Mapping, Options};
use serde_json::{json, Value};

fn compile(src: &str, limits: Limits) -> Mapping {
    let options = Options {
        limits,
        ..Options::default()
    };
    Mapping::compile_with(src, &options)
        .unwrap_or_else(|e| panic!("did not compile: {:#?}", e.diagnostics))
}

/// The payload, or the whole error as `scimap bulk` prints it.
fn outcome(m: &Mapping, record: &Value) -> Value {
    match m.evaluate_user(record) {
        Ok(v) => v,
        Err(e) => e.to_json(None, None),
    }
}

/// Records whose name fields hold what the schema says, and what it does not.
fn records() -> Vec<Value> {
    let odd = [
        json!("Ada"),
        json!(""),
        json!(null),
        json!(7),
        json!(2.5),
        json!(true),
        json!(["A", "B"]),
        json!({"x": 1}),
        json!("ß".repeat(40)),
    ];
    let mut out = Vec::new();
    for first in &odd {
        for last in &odd {
            out.push(json!({"username": "ada", "firstname": first, "lastname": last}));
        }
    }
    out.push(json!({"username": "ada"}));
    out
}

/// Both mappings give the same payload or the same error on every record of `records()`, with
/// the default limits and with a `string-bytes` limit some of them exceed.
fn assert_same_outcomes(a: &str, b: &str) {
    for limits in [
        Limits::default(),
        Limits {
            string_bytes: 60,
            ..Limits::default()
        },
    ] {
        let (a, b) = (compile(a, limits), compile(b, limits));
        for r in records() {
            assert_eq!(outcome(&a, &r), outcome(&b, &r), "record {r}, {limits:?}");
        }
    }
}

#[test]
fn sums_of_strings_answer_as_sums_of_unknown_types() {
    // Typed fields make `Op::Concat`; `$env.…` is of unknown type, so the same sums stay
    // `Binary(Add)` — the dynamic path, which gives Expr's answers.
    let typed = r#"user {
  userName = username
  displayName = firstname + " " + lastname
  nickName = firstname + lastname + "." + username
  title = (firstname + "-") + (lastname + "-")
}"#;
    let dynamic = r#"user {
  userName = username
  displayName = $env.firstname + " " + $env.lastname
  nickName = $env.firstname + $env.lastname + "." + $env.username
  title = ($env.firstname + "-") + ($env.lastname + "-")
}"#;
    assert_same_outcomes(typed, dynamic);
}

#[test]
fn a_sum_of_strings_fails_at_the_plus_that_meets_a_non_string() {
    let options = Options::default();
    let user = json!({"firstname": "Ada", "lastname": 7});
    let e = scimap::eval_expression(
        r#"firstname + " " + lastname"#,
        scimap::Kind::User,
        &user,
        &options,
    )
    .expect_err("a number added to a string");
    assert_eq!(
        e.message,
        "invalid operation: + (mismatched types string and int)"
    );
    let user = json!({"firstname": "Ada", "lastname": "L"});
    let v = scimap::eval_expression(
        r#"firstname + " " + lastname"#,
        scimap::Kind::User,
        &user,
        &options,
    )
    .expect("strings");
    assert_eq!(v, "Ada L");
}

/// The fewest steps `src` needs for `record`, found by bisection over the `steps` limit.
fn fewest_steps(src: &str, record: &Value) -> u64 {
    let (mut fails, mut passes) = (0u64, 100_000u64);
    let ok = |steps| {
        let m = compile(
            src,
            Limits {
                steps,
                ..Limits::default()
            },
        );
        m.evaluate_user(record).is_ok()
    };
    assert!(ok(passes), "{src} fails within {passes} steps");
    while passes - fails > 1 {
        let mid = (fails + passes) / 2;
        if ok(mid) {
            passes = mid;
        } else {
            fails = mid;
        }
    }
    passes
}

#[test]
fn a_subexpression_written_three_times_is_evaluated_once_per_record() {
    let record = json!({"username": "ada", "firstname": "Ada", "lastname": "Lovelace", "email": "ADA@X.ORG"});
    let e =
        r#"join(split(trim(lower(firstname + " " + lastname) + " " + lower(email)), " "), ".")"#;
    let once = fewest_steps(
        &format!("user {{\n  userName = username\n  displayName = {e}\n}}"),
        &record,
    );
    let thrice = fewest_steps(
        &format!(
            "user {{\n  userName = username\n  displayName = {e}\n  nickName = {e}\n  title = {e}\n}}"
        ),
        &record,
    );
    // Each further entry costs only its own node: the shared value is reused.
    assert!(once > 10, "the expression costs {once} steps");
    assert_eq!(thrice, once + 2);
    let m = compile(
        &format!("user {{\n  userName = username\n  displayName = {e}\n  nickName = {e}\n  title = {e}\n}}"),
        Limits::default(),
    );
    let out = m.evaluate_user(&record).expect("evaluates");
    for key in ["displayName", "nickName", "title"] {
        assert_eq!(out[key], "ada.lovelace.ada@x.org", "{key}");
    }
}

#[test]
fn a_shared_subexpression_that_fails_fails_every_entry_that_uses_it() {
    let src = r#"user {
  userName = username
  displayName = upper(firstname + "!")
  nickName = upper(firstname + "!") + "?"
  title = lastname
}"#;
    let m = compile(src, Limits::default());
    let e = m
        .evaluate_user(&json!({"username": "ada", "firstname": 7, "lastname": "L"}))
        .expect_err("firstname is a number");
    let failed: Vec<_> = e
        .errors
        .iter()
        .map(|e| (e.target.as_deref(), e.line, e.message.as_str()))
        .collect();
    let message = "invalid operation: + (mismatched types int and string)";
    assert_eq!(
        failed,
        [
            (Some("displayName"), Some(3), message),
            (Some("nickName"), Some(4), message)
        ]
    );
    let ok = m
        .evaluate_user(&json!({"username": "ada", "firstname": "a", "lastname": "L"}))
        .expect("strings");
    assert_eq!(
        (&ok["displayName"], &ok["nickName"]),
        (&json!("A!"), &json!("A!?"))
    );
}

#[test]
fn join_of_split_by_a_constant_answers_as_join_of_split() {
    // A literal separator fuses `join(split(…))` into one replacement; one from a `let` does not.
    let fused = r#"user {
  let space = " "
  let eszett = "ß"
  userName = username + space + eszett
  displayName = join(split(firstname, " "), ".")
  nickName = join(split(lastname, "ß"))
}"#;
    let plain = r#"user {
  let space = " "
  let eszett = "ß"
  userName = username + space + eszett
  displayName = join(split(firstname, space), ".")
  nickName = join(split(lastname, eszett))
}"#;
    assert_same_outcomes(fused, plain);
}

#[test]
fn comparisons_with_a_constant_answer_as_comparisons_of_two_values() {
    // A string or nil constant on either side of `==`/`!=` compiles to `Op::EqStr`/`Op::IsNil`;
    // the same constant from a section `let` leaves `Binary(Eq)`, the general comparison.
    let constant = r#"user {
  // (two lines, so that the entries are on the same lines
  // as in the mapping with `let`s)
  userName = username
  displayName = firstname == "Ada" ? "yes" : "no"
  nickName = "Ada" != firstname ? lastname : "same"
  title = lastname == nil ? "none" : "some"
  profileUrl = nil != lastname ? "has" : "has not"
}"#;
    let general = r#"user {
  let ada = "Ada"
  let nothing = nil
  userName = username
  displayName = firstname == ada ? "yes" : "no"
  nickName = ada != firstname ? lastname : "same"
  title = lastname == nothing ? "none" : "some"
  profileUrl = nothing != lastname ? "has" : "has not"
}"#;
    assert_same_outcomes(constant, general);
}

#[test]
fn a_comparison_with_a_constant_costs_the_steps_of_a_comparison() {
    let record = json!({"username": "ada", "firstname": "Ada", "lastname": "Ada"});
    let steps = |e: &str| {
        fewest_steps(
            &format!("user {{\n  userName = username\n  displayName = {e} ? \"y\" : \"n\"\n}}"),
            &record,
        )
    };
    let general = steps("firstname == lastname");
    assert_eq!(steps(r#"firstname == "Ada""#), general);
    assert_eq!(steps(r#""Ada" != firstname"#), general);
    assert_eq!(steps("firstname == nil"), general);
}
