//! `scimap fmt` (reference §cli-fmt): the canonical layout, idempotence, `--check`, and formatting
//! never changing what a mapping evaluates to.

use std::path::{Path, PathBuf};
use std::process::Command;

use scimap::fmt::format;
use scimap::{Kind, Mapping};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("list examples")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "scimap"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    files
}

/// A valid mapping in a far from canonical layout, touching every rule.
const UGLY: &str = "\u{feff}\n\n// header comment\r\napp   \"X\"\n\n\n\
schema \"urn:example:params:scim:schemas:extension:acme:2.0:User\" {\n\
hireYear: integer,\n  cost: string\n}\n\
user{\n\
    let   full   =  trim((firstname??\"\")+\" \"+(lastname ?? \"\"))  // the name\n\
userName=lower(username)   // scimap:allow(maybe-nil)\n\
\tname.formatted =full\n\
  displayName = coalesce(\n\
trim(displayname ?? \"\"),\n    full\n)\n\
  title = if manager!=nil {\n  manager\n  } else {\n  \"none\"\n  }   /* tail */\n\n\n\
  nickName = `raw\n   keep   this   \n too` + \"x\"\n\
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization = const \"Acme\"\n\
  active = state==\"ACTIVATED\" && len(filter(phoneNumbers ?? [], .type  ==\"work\"))>0\n\
  locale = $.locale   // a path comment\n\
  timezone = string(1 +\n    2) | lower()\n\
  addresses[].locality = const [\n    \"a\", \"b\"]\n\
  /* block\n     comment */\n\
  emails[type eq \"work\"].value = email\n\
}\n\ngroup {\ndisplayName = $.name\n}\n\n\n";

const UGLY_FORMATTED: &str = "// header comment
app   \"X\"

schema \"urn:example:params:scim:schemas:extension:acme:2.0:User\" {
    hireYear: integer,
    cost: string
}
user {
  let full = trim((firstname ?? \"\") + \" \" + (lastname ?? \"\"))  // the name
  userName       = lower(username)      // scimap:allow(maybe-nil)
  name.formatted = full
  displayName    = coalesce(
      trim(displayname ?? \"\"),
      full
  )
  title          = if manager != nil {
      manager
  } else {
      \"none\"
  }                                     /* tail */

  nickName             = `raw
   keep   this   
 too` + \"x\"
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization = const \"Acme\"
  active               = state == \"ACTIVATED\" && len(filter(phoneNumbers ?? [], .type == \"work\")) > 0
  locale               = $.locale    // a path comment
  timezone             = string(1 +
      2) | lower()
  addresses[].locality = const [
      \"a\", \"b\"]
  /* block
     comment */
  emails[type eq \"work\"].value = email
}

group {
  displayName = $.name
}
";

#[test]
fn formats_every_rule() {
    let out = format(UGLY).expect("UGLY parses");
    assert_eq!(out, UGLY_FORMATTED);
    assert_eq!(format(&out).expect("formatted parses"), out);
}

/// The app profile is laid out as a section (reference §profile): settings indented, the `=` of
/// consecutive ones aligned, a list's later lines indented as a continuation; `create` is one space before its
/// target, and the `=` of a create-only entry aligns with the others.
#[test]
fn formats_the_profile_and_create_only_entries() {
    let ugly = "app \"X\" {\nupdate=put\n     // PATCH-only\n  patchOnly   =  [active,\nuserType]\n\n\n maxPatchOperations=100\n}\nuser {\nuserName = $.username\ncreate    externalId=$._id\n  active = state == \"ACTIVATED\"\n  userType = $.employeeType\n}\n";
    let expected = "app \"X\" {\n  update = put\n  // PATCH-only\n  patchOnly = [active,\n      userType]\n\n  maxPatchOperations = 100\n}\nuser {\n  userName          = $.username\n  create externalId = $._id\n  active            = state == \"ACTIVATED\"\n  userType          = $.employeeType\n}\n";
    let out = format(ugly).expect("parses");
    assert_eq!(out, expected);
    assert_eq!(format(&out).expect("formatted parses"), out);
}

#[test]
fn examples_are_canonical_and_idempotent() {
    for path in examples() {
        let source = std::fs::read_to_string(&path).expect("read an example");
        let once = format(&source).expect("an example parses");
        assert_eq!(format(&once).expect("parses"), once, "{}", path.display());
    }
}

#[test]
fn long_targets_and_lines_do_not_push_the_alignment() {
    let long = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    let source = format!(
        "user {{\n  userName = username // a\n  {long} = $.department // b\n  title = $.jobTitle\n}}\n"
    );
    let out = format(&source).expect("parses");
    assert_eq!(
        out,
        format!(
            "user {{\n  userName = username    // a\n  {long} = $.department  // b\n  title    = $.jobTitle\n}}\n"
        )
    );
}

#[test]
fn a_file_that_does_not_parse_is_an_error() {
    let e = format("user {\n  userName = lower(username\n}\n").expect_err("does not parse");
    assert_eq!(e.diagnostics[0].code, "scimap::syntax");
}

/// Payloads of every example over the user and group fixtures, before and after formatting.
#[test]
fn formatting_never_changes_payloads() {
    let records = |name: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(root().join("tests/fixtures").join(name))
            .expect("read fixtures")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a fixture is JSON"))
            .collect()
    };
    let users = records("users.ndjson");
    let groups = records("groups.ndjson");
    let mut sources: Vec<String> = examples()
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read an example"))
        .collect();
    sources.push(UGLY.to_string());
    for source in sources {
        let before = Mapping::compile(&source).expect("compiles");
        let after = Mapping::compile(&format(&source).expect("parses")).expect("still compiles");
        for (kind, records) in [(Kind::User, &users), (Kind::Group, &groups)] {
            if !before.has_section(kind) {
                continue;
            }
            // Errors move with their entries; what failed and why stays.
            let outcome = |m: &Mapping, r| {
                m.evaluate(kind, r).map_err(|e| {
                    e.errors
                        .into_iter()
                        .map(|x| (x.target, x.code, x.message))
                        .collect::<Vec<_>>()
                })
            };
            for r in records {
                assert_eq!(outcome(&before, r), outcome(&after, r), "{source}");
            }
        }
    }
}

fn scimap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scimap"))
        .args(args)
        .output()
        .expect("run scimap")
}

#[test]
fn cli_rewrites_in_place_and_check_reports() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ugly = dir.path().join("ugly.scimap");
    let clean = dir.path().join("clean.scimap");
    std::fs::write(&ugly, UGLY).expect("write");
    std::fs::write(&clean, UGLY_FORMATTED).expect("write");
    let (u, c) = (
        ugly.to_str().expect("utf-8"),
        clean.to_str().expect("utf-8"),
    );

    let o = scimap(&["fmt", "--check", c]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(o.stdout.is_empty(), "no diff for a formatted file");
    let o = scimap(&["fmt", "--check", u, c]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("ugly.scimap") && !stderr.contains("clean.scimap"),
        "{stderr}"
    );
    // A unified diff of what would change, on stdout: applied to the file, it gives the
    // formatted text.
    let diff = String::from_utf8(o.stdout.clone()).expect("UTF-8");
    assert!(
        diff.starts_with(&format!("--- {u}\n+++ {u} (formatted)\n@@ -")),
        "{diff}"
    );
    assert_eq!(apply_diff(UGLY, &diff), UGLY_FORMATTED, "{diff}");
    assert_eq!(
        std::fs::read_to_string(&ugly).expect("read"),
        UGLY,
        "--check writes nothing"
    );

    let o = scimap(&["fmt", u, c]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        std::fs::read_to_string(&ugly).expect("read"),
        UGLY_FORMATTED
    );
    assert_eq!(scimap(&["fmt", "--check", u]).status.code(), Some(0));

    let bad = dir.path().join("bad.scimap");
    let broken = "user {\n  userName = lower(username\n}\n";
    std::fs::write(&bad, broken).expect("write");
    let o = scimap(&["fmt", bad.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("scimap::syntax"));
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), broken);

    let o = scimap(&["fmt", "no/such/file.scimap"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_comment_before_an_entry_stays_before_it() {
    let source = "user {\n  /* a */ userName=username\n  title=username\n}\n";
    assert_eq!(
        format(source).expect("parses"),
        "user {\n  /* a */ userName=username\n  title = username\n}\n"
    );
}

/// `fmt` never lays out trees deeper than `Limits::MAX_DEPTH` levels, whatever `depth` says:
/// comparing and dropping syntax trees recurses. Deeper ones are the parser's depth error.
#[test]
fn raised_depth_limits_stop_at_what_fmt_can_lay_out() {
    let raised = scimap::Limits {
        depth: usize::MAX,
        source_bytes: usize::MAX,
        ..scimap::Limits::default()
    };
    let chains = |n: usize| {
        format!(
            "user {{\n  userName    = username{}\n  title       = x{}\n  displayName = 1{}\n}}\n",
            ".b".repeat(n),
            " | lower()".repeat(n),
            " + 1".repeat(n)
        )
    };
    // Already canonical (not printed on failure: it is long).
    let max = scimap::Limits::MAX_DEPTH;
    let fine = chains(max - 10);
    assert!(scimap::fmt::format_with(&fine, &raised).is_ok_and(|out| out == fine));
    for n in [max + 10, 20_000] {
        let e = scimap::fmt::format_with(&chains(n), &raised).expect_err("too deep");
        assert_eq!(e.diagnostics[0].code, "scimap::limit");
        assert!(
            e.diagnostics[0]
                .message
                .contains(&format!("`depth` ({max})")),
            "{:?}",
            e.diagnostics[0]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Comments: every one survives formatting, wherever it is written

/// A mapping touching every construct, with comment slots: `@` between tokens (a block
/// comment, possibly spanning lines), `%` at a line end (a block or line comment), `^` a line
/// of its own. The first entry is written off the canonical layout, alone in its run, so a
/// formatter that gave up (returning its input) is seen.
const SLOTTED: &str = r#"^
app @ "X" %
^
schema @ "urn:example:params:scim:schemas:extension:acme:2.0:User" @ { %
  hireYear @ : @ integer @ , %
  cost @ : @ string %
@ } %
^
user @ { %
     title=username

^
  let @ full @ = @ trim(@ (@ firstname @ ?? @ "" @ ) @ + @ " " @ ) %
^
@ userName @ = @ lower(@ username @ ) %
  displayName @ = @ coalesce( %
      @ displayname @ ?? @ "" @ , %
      @ full %
  @ ) %
  nickName @ = @ $.nick @ %
  active @ = @ state @ == @ "ACTIVATED" @ && @ len(@ filter(@ phoneNumbers @ ?? @ [ @ ] @ , @ .type @ == @ "work" @ ) @ ) @ > @ 0 %
  locale @ = @ if @ manager @ != @ nil @ { %
      @ manager %
  @ } @ else @ { @ "none" @ } %
  timezone @ = @ string(@ 1 @ + %
      @ 2 @ ) @ | @ lower() %
  addresses[].locality @ = @ const @ ["a", "b"] %
  urn:example:params:scim:schemas:extension:acme:2.0:User:hireYear @ = @ 2020 @ - @ 1 %
^
@ } %
^
group @ { %
  displayName @ = @ $.name %
@ } %
^
"#;

/// Fills the slots of `SLOTTED`: a comment for each non-zero choice, each carrying a unique
/// marker `cN_`. Returns the mapping and the markers.
fn slotted(choices: &[u8]) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut markers = Vec::new();
    let mut choices = choices.iter().copied().cycle();
    for line in SLOTTED.lines() {
        if line == "^" {
            let c = choices.next().unwrap_or(0);
            if c != 0 {
                let m = format!("c{}_", markers.len());
                let indent = " ".repeat(usize::from(c % 5));
                out.push_str(&match c % 3 {
                    0 => format!("{indent}// {m} a line /* not a block\n"),
                    1 => format!("{indent}/* {m} a block // not a line */\n"),
                    _ => format!("{indent}/* {m} over\n   two lines */\n"),
                });
                markers.push(m);
            }
            continue;
        }
        for ch in line.chars() {
            let eol = match ch {
                '@' => false,
                '%' => true,
                _ => {
                    out.push(ch);
                    continue;
                }
            };
            let c = choices.next().unwrap_or(0);
            let m = format!("c{}_", markers.len());
            let comment = match c {
                0..=3 => None,
                4 => Some(format!("/* {m} */")),
                5 => Some(format!("/*{m} /* looks nested */")),
                6 => Some(format!("/* {m}\n      continued */")),
                _ if eol => Some(format!("// {m} /* unclosed-looking")),
                _ => Some(format!("/* {m} // */")),
            };
            if let Some(comment) = comment {
                out.push_str(&comment);
                markers.push(m);
            }
        }
        out.push('\n');
    }
    (out, markers)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn formatting_keeps_every_comment(choices in proptest::collection::vec(0u8..8, 160)) {
        let (source, markers) = slotted(&choices);
        let out = format(&source);
        proptest::prop_assert!(out.is_ok(), "does not parse:\n{source}\n{out:?}");
        let out = out.unwrap_or_default();
        for m in &markers {
            proptest::prop_assert_eq!(out.matches(m.as_str()).count(), 1, "{} in:\n{}\nfrom:\n{}", m, out, source);
        }
        proptest::prop_assert!(out.contains("\n  title = username\n"), "not formatted:\n{out}\nfrom:\n{source}");
        proptest::prop_assert_eq!(format(&out).ok(), Some(out.clone()), "not idempotent");
    }
}

/// Applies a unified diff (lines only) to `old`: what `patch` would make of it.
fn apply_diff(old: &str, diff: &str) -> String {
    let old: Vec<&str> = old.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut at = 0;
    for line in diff.lines().skip(2) {
        if let Some(header) = line.strip_prefix("@@ -") {
            let numbers: Vec<usize> = header
                .split([',', ' '])
                .take(2)
                .map(|n| n.parse().expect("a hunk header"))
                .collect();
            // Lines before the hunk are unchanged; `-N,0` inserts after line N.
            let first = if numbers[1] == 0 {
                numbers[0]
            } else {
                numbers[0] - 1
            };
            out.extend(&old[at..first]);
            at = first;
        } else if let Some(kept) = line.strip_prefix(' ') {
            assert_eq!(old[at], kept, "a context line matches");
            out.push(kept);
            at += 1;
        } else if let Some(removed) = line.strip_prefix('-') {
            assert_eq!(old[at], removed, "a removed line matches");
            at += 1;
        } else if let Some(added) = line.strip_prefix('+') {
            out.push(added);
        } else {
            panic!("not a diff line: {line:?}");
        }
    }
    out.extend(&old[at..]);
    out.iter().map(|l| format!("{l}\n")).collect()
}

/// A mapping just under `source-bytes` that the layout would take over it is a `scimap::limit`
/// error, not handed back unchanged (which `fmt --check` would call formatted).
#[test]
fn a_mapping_that_formats_past_source_bytes_is_a_limit_error() {
    let source = "user {\nuserName=lower(username)\ntitle=displayname??username\nactive=state==\"ACTIVATED\"\n}\n";
    let limits = |source_bytes| scimap::Limits {
        source_bytes,
        ..scimap::Limits::default()
    };
    let err = scimap::fmt::format_with(source, &limits(source.len())).expect_err("over the limit");
    assert_eq!(err.diagnostics[0].code, "scimap::limit");
    assert!(err.diagnostics[0].message.contains("source-bytes"));
    let out = scimap::fmt::format_with(source, &limits(1 << 10)).expect("formats");
    assert!(out.len() > source.len() && out.len() <= 1 << 10);
}
