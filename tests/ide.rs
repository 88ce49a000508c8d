//! The language service (`scimap::ide`) on every UI, hostile and example mapping: each quick
//! fix leaves a mapping that compiles further than before, fixing all of a file's fixable
//! diagnostics makes it compile, and no question at any position panics.

use scimap::ide::{Analysis, Position, Range};
use scimap::{Kind, Options, Severity};
use std::path::PathBuf;

/// Every fixture mapping that is text (the invalid-UTF-8 ones are not: no editor opens them
/// as text).
fn fixtures() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        "tests/ui",
        "tests/hostile/mappings",
        "examples",
        "examples/mistakes",
    ] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "scimap"))
            .collect();
        paths.sort();
        for path in paths {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let name = path.strip_prefix(&root).unwrap().display().to_string();
                out.push((name, text));
            }
        }
    }
    assert!(out.len() > 80, "the fixtures are there");
    out
}

fn counts(a: &Analysis) -> (usize, usize) {
    let d = a.diagnostics();
    let errors = d.iter().filter(|d| d.severity == Severity::Error).count();
    (errors, d.len() - errors)
}

/// The text after an action's edits (applied last first, so that earlier ranges hold).
fn apply(text: &str, action: &scimap::ide::CodeAction) -> String {
    let mut out = text.to_string();
    let mut edits = action.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
    for e in edits {
        scimap::ide::edit(&mut out, e.range, &e.new_text);
    }
    out
}

#[test]
fn every_quick_fix_leaves_a_mapping_that_compiles_further() {
    let options = Options::default();
    let mut fixes = 0;
    let mut codes = std::collections::BTreeSet::new();
    for (name, text) in fixtures() {
        let before = Analysis::new(&text, &options);
        let (errors, warnings) = counts(&before);
        for d in before.problems() {
            for action in before.code_actions(d.range) {
                if action.diagnostic != d.range || action.code != d.code {
                    continue; // Another diagnostic's, checked with it.
                }
                let fixed = apply(&text, &action);
                let after = Analysis::new(&fixed, &options);
                let (errors_after, warnings_after) = counts(&after);
                let what = format!("{name}: {:?} on {}\n{fixed}", action.title, d.code);
                match d.severity {
                    Severity::Error => assert!(errors_after < errors, "{what}"),
                    Severity::Warning => {
                        assert!(errors_after <= errors, "{what}");
                        assert!(warnings_after < warnings, "{what}");
                    }
                }
                fixes += 1;
                codes.insert(d.code);
            }
        }
    }
    // Each kind of fix met at least once: the property is not vacuous.
    assert!(fixes >= 10, "{fixes} fixes");
    for code in [
        "scimap::unknown-target",
        "scimap::unknown-field",
        "scimap::maybe-nil",
        "scimap::non-singular-path",
    ] {
        assert!(codes.contains(code), "a fix for {code} among {codes:?}");
    }
}

/// Applying the preferred fix of each diagnostic in turn: a file whose diagnostics all have
/// one ends up compiling.
#[test]
fn fixing_everything_fixable_compiles() {
    let options = Options::default();
    let mut compiled = 0;
    for (name, mut text) in fixtures() {
        let mut fixable = true;
        for _ in 0..50 {
            let analysis = Analysis::new(&text, &options);
            let Some(first) = analysis
                .problems()
                .into_iter()
                .find(|d| d.severity == Severity::Error)
            else {
                break;
            };
            let Some(action) = analysis
                .code_actions(first.range)
                .into_iter()
                .find(|a| a.preferred && a.diagnostic == first.range && a.code == first.code)
            else {
                fixable = false;
                break;
            };
            text = apply(&text, &action);
        }
        let after = Analysis::new(&text, &options);
        if fixable {
            assert_eq!(counts(&after).0, 0, "{name}:\n{text}");
            compiled += 1;
        }
    }
    assert!(compiled > 5, "{compiled} fixtures fixed whole");
}

/// Completion, hover, definitions, references, actions and hints at every position where a
/// token starts or ends: answers, never a panic, ranges inside the text.
#[test]
fn questions_at_every_position_never_panic() {
    let options = Options::default();
    let record =
        serde_json::json!({"username": "ada", "email": "ada@example.com", "state": "ACTIVATED"});
    for (name, text) in fixtures() {
        let analysis = Analysis::new(&text, &options);
        let lines: Vec<&str> = text.split('\n').collect();
        let last = Position {
            line: lines.len() as u32 - 1,
            character: lines.last().map_or(0, |l| l.encode_utf16().count()) as u32,
        };
        let inside = |r: &Range| r.start <= r.end && r.end <= last;
        let _ = analysis.symbols();
        let _ = analysis.folding();
        let _ = analysis.format();
        for kind in [Kind::User, Kind::Group] {
            let _ = analysis.inlay_hints(kind, &record);
        }
        for (line, l) in lines.iter().enumerate().take(200) {
            let mut previous = None;
            let mut column = 0u32;
            for c in l.chars().chain(std::iter::once('\n')) {
                let class = (c.is_alphanumeric(), c.is_whitespace());
                if previous != Some(class) {
                    let at = Position {
                        line: line as u32,
                        character: column,
                    };
                    for c in analysis.completions(at) {
                        assert!(inside(&c.range), "{name} {at:?}: {c:?}");
                    }
                    if let Some(h) = analysis.hover(at) {
                        assert!(inside(&h.range), "{name} {at:?}: {h:?}");
                    }
                    let _ = analysis.definition(at);
                    let _ = analysis.references(at, true);
                    let _ = analysis.code_actions(Range { start: at, end: at });
                }
                previous = Some(class);
                column += c.len_utf16() as u32;
            }
        }
    }
}

/// The position of the `nth` (0-based) `needle` in an ASCII text.
fn at(text: &str, needle: &str, nth: usize) -> Position {
    let offset = text.match_indices(needle).nth(nth).expect("in the text").0;
    let line = text[..offset].matches('\n').count() as u32;
    let character = (offset - text[..offset].rfind('\n').map_or(0, |i| i + 1)) as u32;
    Position { line, character }
}

/// An expression's own `let` is found from its uses, and a section `let` of the same name is
/// not one of them: each name has its scope.
#[test]
fn expression_lets_have_their_scope() {
    let text =
        "user {\n  let x = username\n  userName = let x = lower(x); x + x\n  displayName = x\n}\n";
    let analysis = Analysis::new(text, &Options::default());
    // The `x` of `x + x` is the expression's.
    let inner = at(text, "x + x", 0);
    let declared = at(text, "x = lower", 0);
    assert_eq!(analysis.definition(inner).map(|r| r.start), Some(declared));
    let starts = |position: Position| -> Vec<Position> {
        analysis
            .references(position, true)
            .iter()
            .map(|r| r.start)
            .collect()
    };
    let second = Position {
        character: inner.character + 4,
        ..inner
    };
    assert_eq!(starts(inner), [declared, inner, second]);
    // The section `let`: used in the inner `let`'s value and by `displayName`, not in its body.
    let section = at(text, "x = username", 0);
    assert_eq!(
        starts(section),
        [section, at(text, "x); ", 0), at(text, "x\n}", 0)]
    );
}

/// Formatting's edits, applied as an editor applies them (last first), give `scimap fmt`'s
/// text on every fixture that parses; they touch only the lines `fmt` changes.
#[test]
fn formatting_edits_give_the_formatted_text() {
    let options = Options::default();
    let mut formatted_files = 0;
    for (name, text) in fixtures() {
        let analysis = Analysis::new(&text, &options);
        let (Some(formatted), Some(edits)) = (analysis.format(), analysis.format_edits()) else {
            assert!(analysis.format_edits().is_none(), "{name}");
            continue;
        };
        formatted_files += 1;
        let mut applied = text.clone();
        for e in edits.iter().rev() {
            scimap::ide::edit(&mut applied, e.range, &e.new_text);
        }
        assert_eq!(applied, formatted, "{name}");
        assert!(
            edits.windows(2).all(|w| w[0].range.end <= w[1].range.start),
            "{name}: edits in order, apart"
        );
        if formatted == text {
            assert!(edits.is_empty(), "{name}");
        }
    }
    assert!(formatted_files > 30, "{formatted_files}");

    // Alignment changes lines in place: one edit per changed line, none for the others.
    let text =
        "user {\n  userName = $.username\n  displayName = $.displayname\n  title = jobTitle\n}\n";
    let edits = Analysis::new(text, &options).format_edits().unwrap();
    let lines: Vec<u32> = edits.iter().map(|e| e.range.start.line).collect();
    assert_eq!(lines, [1, 3], "{edits:?}");
    assert_eq!(edits[0].new_text, "  userName    = $.username\n");
}

/// The description `stdlib/` gives a field: `path` names it from the record's top (`mfa`,
/// `addresses.country`), through lists.
fn field_description(file: &str, path: &str) -> String {
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file));
    let mut json: serde_json::Value = serde_json::from_str(&text.unwrap()).unwrap();
    let mut field = serde_json::Value::Null;
    for name in path.split('.') {
        field = json["fields"][name].clone();
        json = field["type"].clone();
        while let Some(inner) = json.get("array").or(json.get("array?")) {
            json = inner.clone();
        }
    }
    let description = field["description"].as_str().unwrap_or("");
    assert!(!description.is_empty(), "{file}: {path}");
    description.to_string()
}

fn hover(analysis: &Analysis, text: &str, needle: &str, delta: u32) -> String {
    let mut position = at(text, needle, 0);
    position.character += delta;
    analysis
        .hover(position)
        .unwrap_or_else(|| panic!("a hover at {needle:?}"))
        .markdown
}

const DESCRIBED: &str = r#"user {
  userName = username
  name.givenName = firstname ?? ""
  title = mfa?.configured != nil ? "mfa" : "none"
  displayName = $.recoveryEmail.address
  nickName = join(map(addresses ?? [], .country ?? ""), ",")
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department = department
}
group {
  displayName = name
}
"#;

/// Hover on a target gives its SCIM description (RFC 7643 §8.7.1's) with its properties; on a
/// record field — a name, a member, a predicate's `.field`, a `$.` path — its type and its
/// JumpCloud description.
#[test]
fn hover_describes_targets_and_fields() {
    let text = DESCRIBED;
    let analysis = Analysis::new(text, &Options::default());
    let user_json = "stdlib/jumpcloud-user.json";

    let target = hover(&analysis, text, "userName", 1);
    assert!(
        target.starts_with("**userName**: SCIM `string` of User")
            && target.contains(
                "\n\nUnique identifier for the User, typically used by the user to directly \
                 authenticate to the service provider."
            )
            && target.contains("\n\nmutability: readWrite · required: yes"),
        "{target}"
    );
    let sub = hover(&analysis, text, "givenName", 1);
    assert!(
        sub.contains("The given name of the User, or first name in most Western languages"),
        "{sub}"
    );
    let extension = hover(&analysis, text, "department =", 1);
    assert!(
        extension.contains("of EnterpriseUser")
            && extension.contains("Identifies the name of a department."),
        "{extension}"
    );

    let field = hover(&analysis, text, "username", 1);
    assert_eq!(
        field,
        format!(
            "```scimap\nusername: string\n```\nA field of the JumpCloud user record.\n\n{}",
            field_description(user_json, "username")
        )
    );
    assert!(field.contains("unique in the organization"), "{field}");
    let member = hover(&analysis, text, "configured", 2);
    assert_eq!(
        member,
        format!(
            "```scimap\nmfa?.configured: bool?\n```\nA field of `mfa`.\n\n{}",
            field_description(user_json, "mfa.configured")
        )
    );
    let element = hover(&analysis, text, ".country", 2);
    assert!(
        element.starts_with("```scimap\n.country: ")
            && element.ends_with(&format!(
                "\n```\nA field of `address`.\n\n{}",
                field_description(user_json, "addresses.country")
            )),
        "{element}"
    );
    let path = hover(&analysis, text, "$.recoveryEmail", 3);
    assert!(
        path.starts_with("```scimap\n$.recoveryEmail.address: string?\n```")
            && path.ends_with(&format!(
                "\n\n{}",
                field_description(user_json, "recoveryEmail.address")
            )),
        "{path}"
    );
    let group = hover(&analysis, text, "= name", 3);
    assert!(
        group.ends_with(&field_description("stdlib/jumpcloud-group.json", "name")),
        "{group}"
    );
    // The object a field is read from is described as a field of the record.
    let object = hover(&analysis, text, "mfa?", 1);
    assert!(
        object.ends_with(&field_description(user_json, "mfa")),
        "{object}"
    );
}

/// Completion items carry the same descriptions as their documentation: every target a
/// section may map (each built-in attribute has one), and the fields offered in an expression,
/// after `x.`, after `$.` and inside a predicate.
#[test]
fn completions_carry_descriptions() {
    let options = Options::default();
    let documentation = |text: &str, needle: &str, label: &str| -> String {
        let analysis = Analysis::new(text, &options);
        let position = at(text, needle, 0);
        let position = Position {
            character: position.character + needle.len() as u32,
            ..position
        };
        let items = analysis.completions(position);
        let item = items
            .iter()
            .find(|c| c.label == label)
            .unwrap_or_else(|| panic!("{label} offered after {needle:?}"));
        item.documentation.clone().unwrap_or_default()
    };
    let user_json = "stdlib/jumpcloud-user.json";

    for (section, least) in [("user", 50), ("group", 2)] {
        let text = format!("{section} {{\n  x\n}}\n");
        let analysis = Analysis::new(&text, &options);
        let items = analysis.completions(Position {
            line: 1,
            character: 2,
        });
        let targets: Vec<_> = items
            .iter()
            .filter(|c| c.kind == scimap::ide::CompletionKind::Target)
            .collect();
        assert!(targets.len() >= least, "{section}: {targets:?}");
        for t in targets {
            // heading, description, properties
            let doc = t.documentation.as_deref().unwrap_or("");
            let paragraphs: Vec<&str> = doc.split("\n\n").collect();
            assert!(
                paragraphs.len() >= 3 && paragraphs[1].len() > 10,
                "{section} {}: {doc}",
                t.label
            );
        }
    }
    let text = "user {\n  title = recoveryEmail.\n  nickName = $.addresses[0].\n  \
                displayName = join(map(phoneNumbers ?? [], .), \"\")\n  locale = \n  \
                profileUrl = first(filter(addresses ?? [], t))\n}\n";
    assert!(documentation(text, "recoveryEmail.", "verified")
        .ends_with(&field_description(user_json, "recoveryEmail.verified")));
    assert!(documentation(text, "addresses[0].", "postalCode")
        .ends_with(&field_description(user_json, "addresses.postalCode")));
    assert!(documentation(text, "?? [], .", "number")
        .ends_with(&field_description(user_json, "phoneNumbers.number")));
    assert_eq!(
        documentation(text, "[], t", ".type"),
        format!(
            "A field of the element of `filter`'s list.\n\n{}",
            field_description(user_json, "addresses.type")
        )
    );
    assert_eq!(
        documentation(text, "locale = ", "employeeIdentifier"),
        format!(
            "A field of the JumpCloud user record.\n\n{}",
            field_description(user_json, "employeeIdentifier")
        )
    );
}

/// The nil default of a subject that binds looser than `??` wraps the whole subject: applied to
/// `c ? addresses : []`, it defaults the conditional (still a list of addresses, whose fields
/// are checked), not its last operand.
#[test]
fn the_nil_default_wraps_a_loose_subject() {
    let text = "user {\n  userName = username\n  addresses[type eq \"work\"].locality = first(filter(state == \"ACTIVATED\" ? addresses : [], .tpye == \"work\"))?.locality\n}\n";
    let analysis = Analysis::new(text, &Options::default());
    let nil = analysis
        .problems()
        .into_iter()
        .find(|d| d.code == "scimap::maybe-nil")
        .expect("a maybe-nil warning on the conditional");
    let action = analysis
        .code_actions(nil.range)
        .into_iter()
        .find(|a| a.code == "scimap::maybe-nil")
        .expect("its default");
    let fixed = apply(text, &action);
    assert!(
        fixed.contains("filter(((state == \"ACTIVATED\" ? addresses : []) ?? []), .tpye"),
        "{fixed}"
    );
    let after = Analysis::new(&fixed, &Options::default());
    let codes: Vec<_> = after.problems().into_iter().map(|d| d.code).collect();
    assert_eq!(codes, ["scimap::unknown-field"], "{fixed}");
}
