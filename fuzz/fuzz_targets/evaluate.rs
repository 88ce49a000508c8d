//! Fixed mappings × any record bytes through `evaluate_line`: never a panic, always exactly one
//! output line (no newline inside), and the same bytes give the same line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::{Kind, Mapping};
use std::sync::OnceLock;

mod common;

/// Mappings that read records in many ways: Direct paths, filters, element-wise targets,
/// builtins over strings, lists, maps, dates and numbers.
const MAPPINGS: [&str; 3] = [
    r#"user {
  let full = trim((firstname ?? "") + " " + (lastname ?? ""))
  userName = $.username
  name.formatted = full
  name.givenName = $.firstname
  displayName = coalesce(trim(displayname ?? ""), full, username)
  emails[type eq "work"].value = lower(email)
  phoneNumbers[type eq "mobile"].value = $.phoneNumbers[?@.type == "mobile"].number
  addresses[].streetAddress = $.addresses[*].streetAddress
  active = state == "ACTIVATED"
  title = string($env.x ?? "")
  nickName = toJSON($env)
  externalId = string(len(keys($env)))
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber = $.employeeIdentifier
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department = attr("dept")
}
group {
  displayName = $.name
  externalId = $..id
}"#,
    r#"user {
  userName = username matches "^[a-z]+$" ? upper(username) : normalizeDiacritics(username)
  nickName = join(map(filter(split(email ?? "", "@"), # != ""), titleCase(#)), ".")
  title = date(created).Format("2006-01-02")
  locale = string(sum(map($env.list ?? [], len(string(#)))))
  profileUrl = emailDomain(email)
  displayName = string(toPairs($env))
  userType = $env.y?.z ?? "none"
}"#,
    r#"user {
  userName = string($env)
  active = $env.active
  timezone = $.timezone
  nickName = $..*
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value = $.manager
}"#,
];

fn mappings() -> &'static [Mapping] {
    static COMPILED: OnceLock<Vec<Mapping>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let options = common::options();
        MAPPINGS
            .iter()
            .map(|m| Mapping::compile_with(m, &options).expect("the fuzz mappings compile"))
            .collect()
    })
}

fuzz_target!(init: common::init(), |data: &[u8]| {
    // A record line never holds '\n': bulk splits there first.
    if data.contains(&b'\n') {
        return;
    }
    for mapping in mappings() {
        for kind in [Kind::User, Kind::Group] {
            if !mapping.has_section(kind) {
                continue;
            }
            let mut first = Vec::new();
            let ok = mapping.evaluate_line(kind, data, 7, &mut first);
            assert!(!first.contains(&b'\n'), "an output line holds a newline");
            let parsed: serde_json::Value =
                serde_json::from_slice(&first).expect("every output line is JSON");
            assert_eq!(ok, parsed.get("error").is_none());
            let mut second = Vec::new();
            mapping.evaluate_line(kind, data, 7, &mut second);
            assert_eq!(first, second, "evaluation is not deterministic");
        }
    }
});
