//! Hostile mappings of a given size, one per shape a compiler may be slow on: long names, many
//! declarations and diagnostics, nesting up to the depth limit in every position, long chains,
//! huge literals and lines, text that must not reach a terminal raw. `tests/compile_scale.rs`
//! compiles each (through the library and the binary); `cargo xtask hostile-compile` measures
//! the CPU time of `scimap check` on each near the `source-bytes` limit (1 MiB). Plain string
//! building with no dependency, so that both can include it.

/// Nesting used for the deep shapes: under the default `depth` limit (128).
pub const DEPTH: usize = 120;

pub struct Shape {
    pub name: &'static str,
    /// The first error `scimap check` reports, or "ok" if the mapping compiles (with or
    /// without warnings).
    pub first: &'static str,
    /// Builds the mapping, at most `size` bytes (a little less, a whole number of units).
    pub make: fn(usize) -> String,
}

/// A declared schema whose undeclared attributes are strings: entries `{EXT}:aN = …` are
/// valid targets without a declaration each.
const EXT: &str = "urn:x:2.0:User";

/// `head`, then `unit(0)`, `unit(1)`… while they fit in `size` with `tail`, then `tail`.
fn fill(size: usize, head: &str, tail: &str, mut unit: impl FnMut(usize) -> String) -> String {
    let mut out = String::with_capacity(size);
    out.push_str(head);
    for i in 0.. {
        let u = unit(i);
        if out.len() + u.len() + tail.len() > size {
            break;
        }
        out.push_str(&u);
    }
    out.push_str(tail);
    out
}

/// A user section whose body repeats `unit`, after `userName = username`.
fn section(size: usize, unit: impl FnMut(usize) -> String) -> String {
    fill(
        size,
        &format!("schema \"{EXT}\" {{}}\nuser {{\n  userName = username\n"),
        "}\n",
        unit,
    )
}

/// One entry per line: `{EXT}:aN = {expr}`.
fn entries(size: usize, expr: impl Fn(usize) -> String) -> String {
    section(size, |i| format!("  {EXT}:a{i} = {}\n", expr(i)))
}

/// One `let` per line: `let vN = {expr}` (never used: one warning each).
fn lets(size: usize, expr: impl Fn(usize) -> String) -> String {
    section(size, |i| format!("  let v{i} = {}\n", expr(i)))
}

/// `open` DEPTH times, `inner`, `close` DEPTH times.
fn nest(open: &str, inner: &str, close: &str) -> String {
    format!("{}{inner}{}", open.repeat(DEPTH), close.repeat(DEPTH))
}

/// `first`, then `sep item` until the chain has DEPTH links.
fn chain(first: &str, link: &str) -> String {
    format!("{first}{}", link.repeat(DEPTH))
}

/// A name of `n` characters.
fn long_name(n: usize) -> String {
    "a".repeat(n.max(1))
}

pub fn all() -> Vec<Shape> {
    vec![
        // Names and "did you mean".
        Shape {
            name: "long-let-name",
            first: "ok",
            make: |size| {
                let n = long_name(size / 2 - 40);
                format!("user {{\n  let {n} = username\n  userName = {n}\n}}\n")
            },
        },
        Shape {
            name: "long-let-typo",
            first: "scimap::unknown-field",
            make: |size| {
                let n = long_name(size / 2 - 40);
                format!(
                    "user {{\n  let {n} = username\n  userName = {}b\n}}\n",
                    &n[1..]
                )
            },
        },
        Shape {
            name: "long-unknown-name",
            first: "scimap::unknown-field",
            make: |size| format!("user {{\n  userName = {}\n}}\n", long_name(size - 40)),
        },
        Shape {
            name: "long-urn-typo",
            first: "scimap::unknown-schema",
            make: |size| {
                let n = long_name(size / 2 - 60);
                format!(
                    "schema \"urn:{n}\" {{}}\nuser {{\n  userName = username\n  urn:{}b:x = username\n}}\n",
                    &n[1..]
                )
            },
        },
        Shape {
            name: "lets-x-unknown-names",
            first: "scimap::unknown-field",
            make: |size| {
                // A third of the file declares `let`s of 30 characters (used by one array, so
                // that their warnings do not fill the report), the rest uses names one edit
                // away from them: each unknown name is compared with every `let`.
                let stem = "q".repeat(24);
                let count = size / 3 / 40;
                let names: Vec<String> = (0..count).map(|i| format!("{stem}{i:06}")).collect();
                let head: String = names.iter().map(|n| format!("  let {n} = 1\n")).collect();
                let all = names.join(", ");
                fill(
                    size,
                    &format!("user {{\n  userName = username\n{head}  let used = [{all}]\n"),
                    "}\n",
                    |i| format!("  let r{i} = {stem}{:06}x\n", i % count.max(1)),
                )
            },
        },
        Shape {
            name: "unknown-names",
            first: "scimap::unknown-field",
            make: |size| lets(size, |i| format!("zz{i}")),
        },
        Shape {
            name: "unknown-names-one-line",
            first: "scimap::unknown-field",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = username\n  let v = [u",
                    "]\n}\n",
                    |i| format!("{i}, u"),
                )
            },
        },
        Shape {
            name: "unknown-functions",
            first: "scimap::unknown-function",
            make: |size| lets(size, |i| format!("lowr{i}(username)")),
        },
        Shape {
            name: "unknown-members",
            first: "scimap::unknown-field",
            make: |size| lets(size, |i| format!("mfa?.configurd{i}")),
        },
        Shape {
            name: "unknown-targets",
            first: "scimap::unknown-target",
            make: |size| section(size, |i| format!("  usrNam{i} = username\n")),
        },
        Shape {
            name: "unknown-urns",
            first: "scimap::unknown-schema",
            make: |size| {
                let count = size / 2 / 48;
                let schemas: String = (0..count)
                    .map(|i| format!("schema \"urn:x:params:{i:08}\" {{}}\n"))
                    .collect();
                fill(
                    size,
                    &format!("{schemas}user {{\n  userName = username\n"),
                    "}\n",
                    |i| format!("  urn:x:params:{:08}x:a = username\n", i % count.max(1)),
                )
            },
        },
        Shape {
            name: "unknown-path-fields",
            first: "scimap::unknown-field",
            make: |size| entries(size, |i| format!("$.usernme{i}")),
        },
        // Many declarations, entries and diagnostics.
        Shape {
            name: "unused-lets",
            first: "ok",
            make: |size| lets(size, |_| "1".into()),
        },
        Shape {
            name: "let-chain",
            // Each `let` used in the next adds a level the evaluator recurses through.
            first: "scimap::limit",
            make: |size| {
                let mut body = String::from("user {\n  let a0 = username\n");
                let mut last = 0;
                loop {
                    let line = format!("  let a{} = a{last}\n", last + 1);
                    if body.len() + line.len() + 40 > size {
                        break;
                    }
                    body.push_str(&line);
                    last += 1;
                }
                body + &format!("  userName = a{last}\n}}\n")
            },
        },
        Shape {
            name: "many-entries",
            first: "ok",
            make: |size| entries(size, |_| "username".into()),
        },
        Shape {
            name: "many-declared-attributes",
            first: "ok",
            make: |size| {
                let tail =
                    format!("}}\nuser {{\n  userName = username\n  {EXT}:a0 = username\n}}\n");
                fill(size, &format!("schema \"{EXT}\" {{\n"), &tail, |i| {
                    format!("  a{i}: string,\n")
                })
            },
        },
        Shape {
            name: "many-schemas",
            first: "ok",
            make: |size| {
                // As many schemas as entries, one entry each.
                let count = size / (40 + 30);
                let schemas: String = (0..count)
                    .map(|i| format!("schema \"urn:x:{i:08}\" {{ a: string }}\n"))
                    .collect();
                let entries: String = (0..count)
                    .map(|i| format!("  urn:x:{i:08}:a = username\n"))
                    .collect();
                format!("{schemas}user {{\n  userName = username\n{entries}}}\n")
            },
        },
        Shape {
            // A warning each (`w0` is not a canonical type).
            name: "many-filters",
            first: "ok",
            make: |size| {
                section(size, |i| {
                    format!("  emails[type eq \"w{i}\"].value = email\n")
                })
            },
        },
        Shape {
            name: "many-allow-comments",
            first: "ok",
            make: |size| {
                entries(size, |_| {
                    "lower(displayname)  // scimap:allow(maybe-nil, non-singular-path, non-canonical)"
                        .into()
                })
            },
        },
        Shape {
            name: "many-maybe-nil",
            first: "ok",
            make: |size| entries(size, |_| "lower(displayname)".into()),
        },
        Shape {
            name: "many-type-errors",
            first: "scimap::type-mismatch",
            make: |size| entries(size, |_| "username + 1".into()),
        },
        Shape {
            name: "many-duplicate-targets",
            first: "scimap::duplicate-target",
            make: |size| section(size, |_| "  title = username\n".into()),
        },
        Shape {
            name: "many-sections",
            first: "scimap::duplicate-section",
            make: |size| {
                fill(size, "", "", |_| {
                    "user {\n  userName = username\n}\n".into()
                })
            },
        },
        Shape {
            name: "many-hash-lines",
            first: "scimap::hash-comment",
            make: |size| section(size, |i| format!("  # comment {i}\n")),
        },
        Shape {
            name: "many-bad-escapes",
            first: "scimap::bad-escape",
            make: |size| entries(size, |_| "\"\\q\"".into()),
        },
        Shape {
            name: "many-big-numbers",
            first: "scimap::number-range",
            make: |size| entries(size, |_| "string(99999999999999999999)".into()),
        },
        Shape {
            name: "many-direct-paths",
            first: "ok",
            make: |size| entries(size, |_| "$.addresses[0].locality".into()),
        },
        Shape {
            name: "many-filter-paths",
            first: "ok",
            make: |size| {
                entries(size, |_| {
                    "$.addresses[?@.type == 'work'].locality  // scimap:allow(non-singular-path)"
                        .into()
                })
            },
        },
        Shape {
            name: "many-regexes",
            first: "ok",
            make: |size| {
                entries(size, |i| {
                    format!("username matches \"^[a-z]+{i}$\" ? \"a\" : \"b\"")
                })
            },
        },
        Shape {
            // Each compiles to some 100 KiB: the file's patterns are over their budget.
            name: "many-big-regexes",
            first: "scimap::limit",
            make: |size| {
                entries(size, |i| {
                    format!("username matches \"(?:[a-z]{{1,50}}){{1,20}}{i}\" ? \"a\" : \"b\"")
                })
            },
        },
        // Nesting up to the depth limit, in every position.
        Shape {
            name: "deep-parens",
            first: "ok",
            make: |size| lets(size, |_| nest("(", "username", ")")),
        },
        Shape {
            name: "deep-arrays",
            first: "ok",
            make: |size| lets(size, |_| nest("[", "1", "]")),
        },
        Shape {
            name: "deep-maps",
            first: "ok",
            make: |size| lets(size, |_| nest("{a: ", "1", "}")),
        },
        Shape {
            name: "deep-calls",
            first: "ok",
            make: |size| lets(size, |_| nest("lower(", "username", ")")),
        },
        Shape {
            name: "deep-predicates",
            first: "ok",
            // Each level is a call and a predicate: two levels of nesting.
            make: |size| {
                lets(size, |_| {
                    format!(
                        "{}#{}",
                        "map([1], ".repeat(DEPTH / 2),
                        ")".repeat(DEPTH / 2)
                    )
                })
            },
        },
        Shape {
            name: "deep-ternaries",
            first: "ok",
            make: |size| lets(size, |_| chain("", "true ? 1 : ") + "1"),
        },
        Shape {
            name: "deep-if-else",
            first: "ok",
            make: |size| {
                lets(size, |_| {
                    format!("{}{{ 2 }}", "if true { 1 } else ".repeat(DEPTH))
                })
            },
        },
        Shape {
            name: "deep-let-expressions",
            first: "ok",
            make: |size| {
                lets(size, |_| {
                    let binds: String = (0..DEPTH).map(|j| format!("let x{j} = {j}; ")).collect();
                    format!("{binds}x0")
                })
            },
        },
        Shape {
            name: "deep-unary",
            first: "ok",
            make: |size| lets(size, |_| chain("", "!") + "true"),
        },
        Shape {
            name: "deep-power",
            first: "ok",
            make: |size| lets(size, |_| chain("2", " ** 2")),
        },
        Shape {
            name: "deep-const",
            first: "scimap::target-type",
            make: |size| entries(size, |_| format!("const {}", nest("[", "1", "]"))),
        },
        Shape {
            name: "deep-const-objects",
            first: "scimap::target-type",
            make: |size| entries(size, |_| format!("const {}", nest("{\"a\": ", "1", "}"))),
        },
        // Long chains, up to the depth limit.
        Shape {
            name: "member-chain",
            first: "ok",
            make: |size| lets(size, |_| chain("$env", ".a")),
        },
        Shape {
            name: "member-chain-long-names",
            first: "ok",
            make: |size| {
                // One line, narrowed first: the narrowing key of each member is the whole chain.
                let name = long_name((size - 300) / (2 * DEPTH) - 1);
                let members = format!(".{name}").repeat(DEPTH);
                format!(
                    "user {{\n  userName = username\n  let v = $env{members} != nil ? $env{members} : 1\n}}\n"
                )
            },
        },
        Shape {
            name: "member-chain-narrowed",
            first: "ok",
            make: |size| {
                lets(size, |_| {
                    format!(
                        "$env.a != nil && $env.a.b != nil ? {} : 1",
                        chain("$env", ".a")
                    )
                })
            },
        },
        Shape {
            name: "index-chain",
            first: "ok",
            make: |size| lets(size, |_| chain("$env", "[0]")),
        },
        Shape {
            name: "pipe-chain",
            first: "ok",
            make: |size| lets(size, |_| chain("username", " | lower()")),
        },
        Shape {
            name: "binary-chain",
            first: "ok",
            make: |size| lets(size, |_| chain("username", " + username")),
        },
        Shape {
            name: "coalesce-chain",
            first: "ok",
            make: |size| {
                lets(size, |_| {
                    chain("displayname", " ?? displayname") + " ?? \"\""
                })
            },
        },
        Shape {
            name: "nil-test-chain",
            first: "ok",
            make: |size| lets(size, |_| chain("true", " && displayname != nil")),
        },
        // Huge literals and lines.
        Shape {
            name: "huge-string",
            first: "ok",
            make: |size| format!("user {{\n  userName = \"{}\"\n}}\n", "a".repeat(size - 40)),
        },
        Shape {
            name: "huge-raw-string",
            first: "ok",
            make: |size| format!("user {{\n  userName = `{}`\n}}\n", "a".repeat(size - 40)),
        },
        Shape {
            name: "huge-const-string",
            first: "ok",
            make: |size| {
                format!(
                    "user {{\n  userName = const \"{}\"\n}}\n",
                    "a".repeat(size - 40)
                )
            },
        },
        Shape {
            name: "huge-comment",
            first: "ok",
            make: |size| {
                format!(
                    "user {{\n  // {}\n  userName = username\n}}\n",
                    "a".repeat(size - 60)
                )
            },
        },
        Shape {
            name: "huge-block-comment",
            first: "ok",
            make: |size| {
                format!(
                    "/*{}*/\nuser {{\n  userName = username\n}}\n",
                    "a\n".repeat((size - 60) / 2)
                )
            },
        },
        Shape {
            name: "huge-app-name",
            first: "ok",
            make: |size| {
                format!(
                    "app \"{}\"\nuser {{\n  userName = username\n}}\n",
                    "a".repeat(size - 60)
                )
            },
        },
        Shape {
            name: "wide-array",
            first: "ok",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = username\n  let v = [1",
                    "]\n}\n",
                    |_| ", 1".into(),
                )
            },
        },
        // A syntax error at the end of one entry as long as the file: the parser that names
        // what was expected (pest) is not asked past 64 KiB into an entry.
        Shape {
            name: "wide-array-syntax-error",
            first: "scimap::syntax",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = username\n  let v = [1",
                    ",,]\n}\n",
                    |_| ", [1]".into(),
                )
            },
        },
        Shape {
            name: "deep-parens-syntax-error",
            first: "scimap::syntax",
            make: |size| {
                let mut text = lets(size.saturating_sub(64), |_| nest("(", "username", ")"));
                text.truncate(text.rfind('}').unwrap_or(text.len()));
                text.push_str("  x = (((username +)))\n}\n");
                text
            },
        },
        Shape {
            name: "wide-map",
            first: "ok",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = username\n  let v = {k: 1",
                    "}\n}\n",
                    |i| format!(", k{i}: 1"),
                )
            },
        },
        Shape {
            name: "wide-sequence",
            first: "ok",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = username\n  let v = (1",
                    ")\n}\n",
                    |_| "; 1".into(),
                )
            },
        },
        Shape {
            name: "wide-call",
            first: "scimap::arity",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = lower(username",
                    ")\n}\n",
                    |_| ", 1".into(),
                )
            },
        },
        Shape {
            // An object is not a SCIM value: the one error comes after the whole constant.
            name: "wide-const-object",
            first: "scimap::target-type",
            make: |size| {
                let head = format!(
                    "schema \"{EXT}\" {{}}\nuser {{\n  userName = username\n  {EXT}:a = const {{\"k\": 1"
                );
                fill(size, &head, "}\n}\n", |i| format!(", \"k{i}\": 1"))
            },
        },
        Shape {
            name: "duplicate-const-keys",
            first: "scimap::duplicate-key",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = username\n  title = const {\"k\": 1",
                    "}\n}\n",
                    |_| ", \"k\": 1".into(),
                )
            },
        },
        Shape {
            name: "wide-target-filter",
            first: "scimap::filter-fixed",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = username\n  emails[type eq \"work\"",
                    "].value = email\n}\n",
                    |_| " and value eq \"x\"".into(),
                )
            },
        },
        Shape {
            name: "long-bad-regex",
            first: "scimap::bad-regex",
            make: |size| {
                format!(
                    "user {{\n  userName = username matches \"[{}\" ? \"a\" : \"b\"\n}}\n",
                    "a".repeat(size - 80)
                )
            },
        },
        Shape {
            name: "long-direct-path",
            first: "scimap::unknown-field",
            make: |size| {
                format!(
                    "user {{\n  userName = ${}\n}}\n",
                    ".a".repeat((size - 40) / 2)
                )
            },
        },
        Shape {
            name: "long-lines-with-errors",
            first: "scimap::unknown-field",
            make: |size| lets(size, |_| format!("\"{}\" + zz", "a".repeat(2000))),
        },
        // What the output must bound and escape.
        Shape {
            name: "control-characters",
            first: "scimap::unknown-field",
            make: |size| {
                // In comments, in string literals of lines with an error, and in a message
                // (the value quoted by `non-canonical`).
                let head = "user {\n  userName = username\n  emails.type = const \"\\u001b[2J\"\n";
                fill(size, head, "}\n", |i| {
                    format!(
                        "  // \u{1b}[2J\u{1b}]0;title\u{7}\u{202e}txt\u{9b}31m\r\n  let v{i} = zz + \"\u{1b}[31m\u{2066}\"\n"
                    )
                })
            },
        },
        Shape {
            name: "multi-line-spans",
            first: "scimap::target-type",
            make: |size| entries(size, |_| format!("[\n{}    1]", "    1,\n".repeat(200))),
        },
        Shape {
            name: "far-apart-labels",
            first: "scimap::duplicate-target",
            make: |size| {
                fill(
                    size,
                    "user {\n  userName = username\n  title = username\n",
                    "  title = username\n}\n",
                    |i| format!("  // filler {i}\n"),
                )
            },
        },
    ]
}
