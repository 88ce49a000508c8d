//! The building blocks of adversarial mappings, shared by `tests/adversarial.rs` (proptest)
//! and the `adversarial` fuzz target (which includes this file by path): leaves, wrappers that
//! nest an expression one level deeper, links that make a chain longer, and JSONPath segments.
#![allow(dead_code)] // Each user takes what it needs.

/// Leaves: fields of every type, `$env` paths, literals of every kind (escapes included).
pub const ATOMS: &[&str] = &[
    "username",
    "email ?? \"\"",
    "description ?? \"\"",
    "firstname ?? \"x\"",
    "string($env.x)",
    "$env.x",
    "$env.list",
    "$env[\"odd key\"]",
    "$env?.attributes?.[0]?.value",
    "attr(\"dept\")",
    "#",
    "#acc",
    "1",
    "-0.0",
    "9223372036854775807",
    "1e308",
    "0x_fF",
    "\"\\u00e9\\n\\t\\\\\\\"\\u0000\"",
    "'single \\' quote'",
    "`raw\n  string`",
    "b\"by\\xfftes\"",
    "now()",
    "nil",
    "[]",
    "{}",
    "true",
];

/// A wrapper is a prefix and a suffix around an inner expression. These keep a string a
/// string (so that most generated entries type-check and run)…
pub const TYPED: &[(&str, &str)] = &[
    ("(", ")"),
    ("trim(", ")"),
    ("lower(", ")"),
    ("string(", ")"),
    ("[", "][0]"),
    ("{a: ", "}.a"),
    ("{\"k\\u0041\": ", "}?.kA"),
    ("true ? ", " : \"t\""),
    ("false ? \"f\" : ", ""),
    ("username == \"\" ? \"c\" : (", ")"),
    ("if true { ", " } else { \"e\" }"),
    ("if false { \"i\" } else if true { ", " } else { \"j\" }"),
    ("let v = ", "; v"),
    ("(let w = 1; ", ")"),
    ("first(map([1], ", "))"),
    ("reduce([1], ", ", \"\")"),
    ("(nil ?? ", ")"),
    ("(", " + \"\")"),
    ("(\"\" + ", ")"),
    ("(", " | trim())"),
    ("(", " | lower() | upper())"),
    ("(\n", "\n)"),
    ("/* c */ (", ")"),
    ("(", " /* c */)"),
    ("(", ")[0:]"),
    ("(", ")[:]"),
    ("join([", "], \",\")"),
    ("string(filter([", "], # != nil))"),
    ("any([1], {true}) ? ", " : \"a\""),
    ("none([1], .x == 1) ? (", ") : \"n\""),
];

/// …and these do not: operators, closures, conversions and indexes over any type.
pub const UNTYPED: &[(&str, &str)] = &[
    ("!", ""),
    ("-", ""),
    ("not ", ""),
    ("2 ** (", ")"),
    ("$env[", "]"),
    ("[", "]"),
    ("{k: ", "}"),
    ("(", ")?.a"),
    ("(", ")[1:2]"),
    ("map(", ", #)"),
    ("map($env.list, ", ")"),
    ("all(", ", # == nil)"),
    ("(", " in [1])"),
    ("sortBy(", ", #)"),
    ("groupBy(", ", #)"),
    ("toJSON(", ")"),
    ("fromJSON(", ")"),
    ("(", " matches \"(a+)+$\")"),
    ("(", " == nil)"),
    ("len(", ")"),
    ("uniq([", ", 1])"),
    ("count(", ", {# != 1})"),
];

/// Links repeated after an expression: long chains in postfix and infix positions.
pub const LINKS: &[&str] = &[
    " + \"s\"",
    " | trim()",
    "?.a",
    "?.[0]",
    "[0]",
    " ?? \"n\"",
    " && true",
    " == \"x\"",
    "; \"q\"",
    " + 1",
    ".b",
    "[1:]",
];

/// An expression: an atom inside `wrappers` (outermost first), then `links` repeated.
pub fn build(atom: &str, wrappers: &[(&str, &str)], link: Option<(&str, usize)>) -> String {
    let mut s = String::new();
    for (prefix, _) in wrappers {
        s.push_str(prefix);
    }
    s.push_str(atom);
    for (_, suffix) in wrappers.iter().rev() {
        s.push_str(suffix);
    }
    if let Some((link, n)) = link {
        s = format!("({s}){}", link.repeat(n));
    }
    s
}

/// JSONPath segments for Direct sources.
pub const SEGMENTS: &[&str] = &[
    ".username",
    ".attributes",
    "[*]",
    "..*",
    "..value",
    "[0]",
    "[-1]",
    "[1:3:2]",
    "['name','value',0,*]",
    "[?@.name == 'dept']",
    "[?match(@.value, 'a.*')]",
    "[?search(@, '[a-z]+')]",
    "[?length(@) > 1]",
    "[?count(@.*) > 0]",
    "[?!@.a || @.b && @.c]",
    "['odd key']",
    "[\"\\u00e9\"]",
    ".x",
    "[?value(@..value) == 'v']",
];

/// Targets of one string value.
pub const SCALAR_TARGETS: &[&str] = &[
    "title",
    "nickName",
    "displayName",
    "profileUrl",
    "userType",
    "locale",
    "name.formatted",
    "name.givenName",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:x:y:User:a0",
];

/// Element-wise targets: a list of strings.
pub const LIST_TARGETS: &[&str] = &[
    "emails[].value",
    "phoneNumbers[].value",
    "addresses[].locality",
];
