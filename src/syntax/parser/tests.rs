use super::*;
use crate::diagnostic::Span;
use crate::syntax::ast::*;
use serde_json::json;

/// The tree as an s-expression: `(+ 1 (* 2 3))`, calls `(f a)`, members `(. a "b")`.
fn sx(e: &Expr) -> String {
    let list = |xs: &[Expr]| xs.iter().map(sx).collect::<Vec<_>>().join(" ");
    match &e.kind {
        ExprKind::Nil => "nil".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Pointer(Pointer::Element) => "#".into(),
        ExprKind::Pointer(Pointer::Index) => "#index".into(),
        ExprKind::Pointer(Pointer::Acc) => "#acc".into(),
        ExprKind::PointerField(n) => format!(".{n}"),
        ExprKind::Array(xs) => format!("[{}]", list(xs)),
        ExprKind::Map(kvs) => {
            let kvs: Vec<String> = kvs
                .iter()
                .map(|(k, v)| format!("{}: {}", sx(k), sx(v)))
                .collect();
            format!("{{{}}}", kvs.join(", "))
        }
        ExprKind::Unary(op, x) => {
            let op = match op {
                UnaryOp::Neg => "neg",
                UnaryOp::Plus => "pos",
                UnaryOp::Not => "not",
            };
            format!("({op} {})", sx(x))
        }
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), sx(a), sx(b)),
        ExprKind::Member {
            object,
            index,
            optional,
        } => {
            format!(
                "({} {} {})",
                if *optional { "?." } else { "." },
                sx(object),
                sx(index)
            )
        }
        ExprKind::Slice { object, from, to } => {
            let bound = |b: &Option<Box<Expr>>| b.as_ref().map_or("_".into(), |b| sx(b));
            format!("(slice {} {} {})", sx(object), bound(from), bound(to))
        }
        ExprKind::Call { name, args } if args.is_empty() => format!("({})", name.node),
        ExprKind::Call { name, args } => format!("({} {})", name.node, list(args)),
        ExprKind::Method {
            receiver,
            name,
            args,
            optional,
        } => {
            let dot = if *optional { "?." } else { "." };
            let args = if args.is_empty() {
                String::new()
            } else {
                format!(" {}", list(args))
            };
            format!("({dot}{} {}{args})", name.node, sx(receiver))
        }
        ExprKind::Closure(body) => format!("{{{}}}", sx(body)),
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => {
            format!("(if {} {} {})", sx(cond), sx(then), sx(otherwise))
        }
        ExprKind::Let { name, value, body } => {
            format!("(let {} {} {})", name.node, sx(value), sx(body))
        }
        ExprKind::Sequence(xs) => format!("(seq {})", list(xs)),
    }
}

fn expr(src: &str) -> Expr {
    match parse_expression(src, &Limits::default()) {
        Ok(e) => e,
        Err(d) => panic!("{src:?} failed: {d:#?}"),
    }
}

fn p(src: &str) -> String {
    sx(&expr(src))
}

fn expr_err(src: &str) -> Diagnostic {
    match parse_expression(src, &Limits::default()) {
        Ok(e) => panic!("{src:?} parsed as {}", sx(&e)),
        Err(mut d) => d.remove(0),
    }
}

fn file(src: &str) -> File {
    match parse_file(src, &Limits::default()) {
        Ok(f) => f,
        Err(d) => panic!("{src:?} failed: {d:#?}"),
    }
}

fn file_errs(src: &str) -> Vec<Diagnostic> {
    match parse_file(src, &Limits::default()) {
        Ok(f) => panic!("{src:?} parsed: {f:#?}"),
        Err(d) => d,
    }
}

fn file_err(src: &str) -> Diagnostic {
    file_errs(src).remove(0)
}

fn entries(src: &str) -> Vec<Entry> {
    file(&format!("user {{\n{src}\n}}\n"))
        .sections
        .remove(0)
        .items
        .into_iter()
        .filter_map(|i| match i {
            Item::Entry(e) => Some(e),
            Item::Let(_) => None,
        })
        .collect()
}

fn entry(src: &str) -> Entry {
    entries(src).remove(0)
}

fn source_sx(src: &str) -> String {
    match entry(src).source {
        Source::Expr(e) => sx(&e),
        other => panic!("not an expression: {other:?}"),
    }
}

fn at(src: &str, d: &Diagnostic) -> String {
    src[d.span.start..d.span.end].to_string()
}

#[test]
fn literals() {
    assert_eq!(p("42"), "42");
    assert_eq!(p("1_000"), "1000");
    assert_eq!(p("1__0"), "10");
    assert_eq!(p("1_"), "1");
    assert_eq!(p("0x2A"), "42");
    assert_eq!(p("0X_ff"), "255");
    assert_eq!(p("0o52"), "42");
    assert_eq!(p("0b101"), "5");
    assert_eq!(p("0.5"), "0.5");
    assert_eq!(p(".5"), "0.5");
    assert_eq!(p("1."), "1.0");
    assert_eq!(p("1e3"), "1000.0");
    assert_eq!(p("1.5e-2"), "0.015");
    assert_eq!(p("1E3"), "1000.0");
    assert_eq!(p("9223372036854775807"), "9223372036854775807");
    assert_eq!(p("1..3"), "(.. 1 3)");
    assert_eq!(p("true"), "true");
    assert_eq!(p("false"), "false");
    assert_eq!(p("nil"), "nil");
    assert_eq!(p("[1, 'a', x,]"), "[1 \"a\" x]");
    assert_eq!(p("[]"), "[]");
    assert_eq!(p("{}"), "{}");
    assert_eq!(
        p("{a: 1, \"b\": 2, 3: \"c\", (k): v,}"),
        "{\"a\": 1, \"b\": 2, \"3\": \"c\", k: v}"
    );
    assert_eq!(
        p("{1_0: 1, 0x1: 2, true: 3, `r`: 4}"),
        "{\"1_0\": 1, \"0x1\": 2, \"true\": 3, \"r\": 4}"
    );
    assert_eq!(p("{(a) + \"x\": 1}"), "{(+ a \"x\"): 1}");
}

#[test]
fn number_errors() {
    let d = expr_err("9223372036854775808");
    assert_eq!((d.code, d.span), ("scimap::number-range", Span::new(0, 19)));
    assert_eq!(
        expr_err("-9223372036854775808").code,
        "scimap::number-range"
    );
    assert_eq!(expr_err("0x8000000000000000").code, "scimap::number-range");
    assert_eq!(expr_err("1e400").code, "scimap::number-range");
    let d = expr_err("1abc");
    assert_eq!(
        (d.code, d.message.as_str()),
        ("scimap::syntax", "invalid number `1abc`")
    );
    assert_eq!(expr_err("1e").message, "invalid number `1e`");
    assert_eq!(expr_err("0x").message, "invalid number `0x`");
    assert_eq!(expr_err("0b12").message, "invalid number `0b12`");
}

#[test]
fn strings_and_escapes() {
    assert_eq!(p(r#""a\"b""#), r#""a\"b""#);
    assert_eq!(p(r"'a\'b'"), r#""a'b""#);
    assert_eq!(
        p(r#""\a\b\f\n\r\t\v\\""#),
        r#""\u{7}\u{8}\u{c}\n\r\t\u{b}\\""#
    );
    assert_eq!(
        p(r#""\101\x41\u0041\U00000041\u{41}\u{1F600}""#),
        "\"AAAAA😀\""
    );
    assert_eq!(p(r#""\377""#), "\"ÿ\"");
    assert_eq!(p("\"héllo\""), "\"héllo\"");
    assert_eq!(p("`a\\n``b`"), r#""a\\n`b""#);
    assert_eq!(p("`line\r\nnext`"), r#""line\nnext""#);
    assert_eq!(p("``"), r#""""#);
    for bad in [
        r#""\'""#,
        r#"'\"'"#,
        r#""\q""#,
        r#""\400""#,
        r#""\8""#,
        r#""\x4""#,
        r#""\u12""#,
        r#""\u{}""#,
        r#""\u{1234567}""#,
        r#""\0""#,
    ] {
        assert_eq!(expr_err(bad).code, "scimap::bad-escape", "{bad}");
    }
    let d = expr_err(r#""ok \q ok""#);
    assert_eq!(
        (d.span, d.message.as_str()),
        (Span::new(4, 6), "invalid escape `\\q` in a string literal")
    );
    let d = expr_err(r#""\uD800""#);
    assert_eq!((d.code, d.span), ("scimap::bad-escape", Span::new(1, 7)));
    assert_eq!(d.message, "`\\uD800` is not a Unicode scalar value");
    assert_eq!(expr_err(r#""\U00110000""#).code, "scimap::bad-escape");
    let d = expr_err("\"abc\ndef\"");
    assert_eq!(
        (d.code, d.message.as_str()),
        ("scimap::syntax", "string literal not terminated")
    );
    assert_eq!(
        expr_err("`abc").message,
        "raw string literal not terminated"
    );
    let d = expr_err("b\"abc\"");
    assert_eq!((d.code, d.span), ("scimap::bytes-literal", Span::new(0, 6)));
    assert_eq!(expr_err("b'x'").code, "scimap::bytes-literal");
    // The literal is reported, not the escapes inside it (found by fuzzing: the hand-written
    // parser reported `\*` as well, and disagreed with the grammar).
    let all = parse_expression(r#"b"<\*<*==""#, &Limits::default()).expect_err("a byte string");
    assert_eq!(
        all.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["scimap::bytes-literal"]
    );
    assert_eq!(p("b"), "b");
}

#[test]
fn identifiers_pointers_and_calls() {
    assert_eq!(p("$env"), "$env");
    assert_eq!(p("$env.firstname"), "(. $env \"firstname\")");
    assert_eq!(p("_x1"), "_x1");
    assert_eq!(p("naïve"), "naïve");
    assert_eq!(p("timezone"), "timezone");
    assert_eq!(p("timezone(\"UTC\")"), "(timezone \"UTC\")");
    assert_eq!(p("now()"), "(now)");
    assert_eq!(p("::upper(x)"), "(upper x)");
    assert_eq!(p("f(a, b,)"), "(f a b)");
    assert_eq!(
        p("m.in + m.not + m.let"),
        "(+ (+ (. m \"in\") (. m \"not\")) (. m \"let\"))"
    );
    assert_eq!(p("a?.b.c"), "(. (?. a \"b\") \"c\")");
    assert_eq!(p("a[0]?.[1]"), "(?. (. a 0) 1)");
    assert_eq!(p("a[1:2]"), "(slice a 1 2)");
    assert_eq!(p("a[:2]"), "(slice a _ 2)");
    assert_eq!(p("a[1:]"), "(slice a 1 _)");
    assert_eq!(p("a[:]"), "(slice a _ _)");
    assert_eq!(p("a[b ? 1 : 2]"), "(. a (if b 1 2))");
    assert_eq!(p("\"abc\"[0:1]"), "(slice \"abc\" 0 1)");
    assert_eq!(p("date(x).Format(\"2006\")"), "(.Format (date x) \"2006\")");
    assert_eq!(p("d?.Year()"), "(?.Year d)");
    assert_eq!(p("f(x).y[0]"), "(. (. (f x) \"y\") 0)");
    assert_eq!(p("#"), "#");
    assert_eq!(p("#index + #acc"), "(+ #index #acc)");
    assert_eq!(p(".name"), ".name");
    assert_eq!(p(".a.b"), "(. .a \"b\")");
    assert_eq!(p(".Year()"), "(.Year #)");
    assert_eq!(p("#.a"), "(. # \"a\")");
    assert_eq!(expr_err("#foo").message, "unknown pointer `#foo`");
}

#[test]
fn precedence() {
    assert_eq!(p("1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_eq!(p("(1 + 2) * 3"), "(* (+ 1 2) 3)");
    assert_eq!(p("1 - 2 - 3"), "(- (- 1 2) 3)");
    assert_eq!(p("a / b % c"), "(% (/ a b) c)");
    assert_eq!(p("2 ** 3 ** 2"), "(** 2 (** 3 2))");
    assert_eq!(p("2 ^ 3 ^ 2"), "(** 2 (** 3 2))");
    assert_eq!(p("-2 ** 2"), "(neg (** 2 2))");
    assert_eq!(p("-a * b"), "(* (neg a) b)");
    assert_eq!(p("+a"), "(pos a)");
    assert_eq!(p("- - a"), "(neg (neg a))");
    assert_eq!(p("!a * b"), "(not (* a b))");
    assert_eq!(p("not a == b"), "(== (not a) b)");
    assert_eq!(p("!a && b"), "(and (not a) b)");
    assert_eq!(p("not not a"), "(not (not a))");
    assert_eq!(p("a + b .. c * d"), "(.. (+ a b) (* c d))");
    assert_eq!(p("a .. b == c"), "(== (.. a b) c)");
    assert_eq!(
        p("a == b and c != d or e"),
        "(or (and (== a b) (!= c d)) e)"
    );
    assert_eq!(p("a || b && c"), "(or a (and b c))");
    assert_eq!(p("a in b"), "(in a b)");
    assert_eq!(p("a not in b"), "(not in a b)");
    assert_eq!(p("a not   matches b"), "(not matches a b)");
    assert_eq!(p("a not\n contains b"), "(not contains a b)");
    assert_eq!(
        p("a not startsWith b or a not endsWith c"),
        "(or (not startsWith a b) (not endsWith a c))"
    );
    assert_eq!(
        p("a matches b and a contains c"),
        "(and (matches a b) (contains a c))"
    );
    assert_eq!(p("a + b not in c"), "(not in (+ a b) c)");
    assert_eq!(p("a == b == c"), "(== (== a b) c)");
}

#[test]
fn chained_comparisons() {
    assert_eq!(p("a < b < c"), "(and (< a b) (< b c))");
    assert_eq!(p("a < b <= c > d"), "(and (and (< a b) (<= b c)) (> c d))");
    assert_eq!(p("1 < x + 1 >= 2"), "(and (< 1 (+ x 1)) (>= (+ x 1) 2))");
    assert_eq!(p("a < b == c"), "(== (< a b) c)");
    assert_eq!(p("a == b < c"), "(< (== a b) c)");
}

#[test]
fn coalesce() {
    assert_eq!(p("a ?? b"), "(?? a b)");
    assert_eq!(p("a ?? b ?? c"), "(?? (?? a b) c)");
    assert_eq!(p("a + b ?? c"), "(+ a (?? b c))");
    assert_eq!(p("a * b ?? c + d"), "(+ (* a (?? b c)) d)");
    assert_eq!(p("-a ?? b"), "(neg (?? a b))");
    assert_eq!(p("a ?? b | lower()"), "(lower (?? a b))");
    assert_eq!(p("(a ?? b) + c"), "(+ (?? a b) c)");
    assert_eq!(p("a ?? (b + c)"), "(?? a (+ b c))");
    assert_eq!(p("a ?? b ? c : d"), "(if (?? a b) c d)");
    let d = expr_err("a ?? b + c");
    assert_eq!(
        d.message,
        "operator `+` and `??` cannot be mixed; wrap either in parentheses"
    );
    assert_eq!(d.span, Span::new(7, 8));
    assert_eq!(
        expr_err("a ?? b == c").message,
        "operator `==` and `??` cannot be mixed; wrap either in parentheses"
    );
    assert_eq!(expr_err("x ?? y and z").code, "scimap::syntax");
}

#[test]
fn pipes() {
    assert_eq!(p("x | lower()"), "(lower x)");
    assert_eq!(p("x | f(a, b)"), "(f x a b)");
    assert_eq!(p("x | trim() | upper()"), "(upper (trim x))");
    assert_eq!(p("a + b | f()"), "(f (+ a b))");
    assert_eq!(p("a or b | f()"), "(f (or a b))");
    assert_eq!(p("a | f() + 1"), "(+ (f a) 1)");
    assert_eq!(p("a | f() ? b : c"), "(if (f a) b c)");
    assert_eq!(p("xs | filter(.a > 1)"), "(filter xs {(> .a 1)})");
    assert_eq!(p("xs | map({# * 2})"), "(map xs {(* # 2)})");
    assert_eq!(p("xs | count()"), "(count xs)");
    assert_eq!(p("xs | reduce(#acc + #, 0)"), "(reduce xs {(+ #acc #)} 0)");
    assert_eq!(
        expr_err("x | lower").message,
        "expected `(`, found the end of the file"
    );
    assert_eq!(
        expr_err("x | 1").message,
        "expected a function call after `|`, found `1`"
    );
}

#[test]
fn predicates_closures_and_maps() {
    assert_eq!(p("filter(xs, .a > 1)"), "(filter xs {(> .a 1)})");
    assert_eq!(p("filter(xs, {.a > 1})"), "(filter xs {(> .a 1)})");
    assert_eq!(p("map(xs, {{a: #}})"), "(map xs {{\"a\": #}})");
    assert_eq!(p("all(xs, # in [1, 2])"), "(all xs {(in # [1 2])})");
    assert_eq!(p("count(xs)"), "(count xs)");
    assert_eq!(p("sum(xs, .n)"), "(sum xs {.n})");
    assert_eq!(
        p("sortBy(xs, .name, \"desc\")"),
        "(sortBy xs {.name} \"desc\")"
    );
    assert_eq!(p("reduce(xs, #acc + #, 0)"), "(reduce xs {(+ #acc #)} 0)");
    assert_eq!(
        p("map(xs, {let y = #; y + 1})"),
        "(map xs {(let y # (+ y 1))})"
    );
    assert_eq!(
        p("map(xs, let y = #; y + 1)"),
        "(map xs {(let y # (+ y 1))})"
    );
    assert_eq!(p("filter(xs, {a; b})"), "(filter xs {(seq a b)})");
    assert_eq!(
        p("map(xs, any(.ys, # == 1))"),
        "(map xs {(any .ys {(== # 1)})})"
    );
    assert_eq!(p("find(xs, .a)?.b"), "(?. (find xs {.a}) \"b\")");
    assert_eq!(p("f(xs, {a: 1})"), "(f xs {\"a\": 1})");
    assert_eq!(p("{a: {b: []}}"), "{\"a\": {\"b\": []}}");
    // A field may share a predicate builtin's name.
    assert_eq!(p("filter + count"), "(+ filter count)");
    let d = expr_err("filter(xs)");
    assert_eq!(d.message, "`filter` takes 2 arguments, not 1");
    assert_eq!(
        expr_err("map(xs, .a, 1)").message,
        "`map` takes 2 arguments, not 3"
    );
    assert_eq!(
        expr_err("xs | filter()").message,
        "`filter` takes 2 arguments, not 1"
    );
    assert_eq!(
        expr_err("sortBy(xs, .a, 1, 2)").message,
        "`sortBy` takes 2 to 3 arguments, not 4"
    );
    assert_eq!(expr_err("filter(xs, {a: 1})").code, "scimap::syntax");
    assert_eq!(
        expr_err("filter(xs, {})").message,
        "expected an expression, found `}`"
    );
}

#[test]
fn ternary_if_let_and_sequences() {
    assert_eq!(p("a ? b : c"), "(if a b c)");
    assert_eq!(p("a ? b : c ? d : e"), "(if a b (if c d e))");
    assert_eq!(p("a ? b ? c : d : e"), "(if a (if b c d) e)");
    assert_eq!(p("a ?: b"), "(if a a b)");
    assert_eq!(p("a ? : b"), "(if a a b)");
    assert_eq!(p("a or b ? c + 1 : d"), "(if (or a b) (+ c 1) d)");
    assert_eq!(p("if a { b } else { c }"), "(if a b c)");
    assert_eq!(
        p("if a { b } else if c { d } else { e }"),
        "(if a b (if c d e))"
    );
    assert_eq!(
        p("if x > 1 { let y = 2; y } else { 0 }"),
        "(if (> x 1) (let y 2 y) 0)"
    );
    assert_eq!(p("let x = 1; x + 1"), "(let x 1 (+ x 1))");
    assert_eq!(
        p("let x = 1; let y = 2; x + y"),
        "(let x 1 (let y 2 (+ x y)))"
    );
    assert_eq!(p("let x = a ? 1 : 2; x"), "(let x (if a 1 2) x)");
    assert_eq!(p("let x = 1; x; x + 1"), "(let x 1 (seq x (+ x 1)))");
    assert_eq!(p("a; b; c"), "(seq a b c)");
    assert_eq!(p("a;"), "a");
    assert_eq!(p("(a; b)"), "(seq a b)");
    assert_eq!(p("[let x = 1; x, 2]"), "[(let x 1 x) 2]");
    assert_eq!(p("f(if a { 1 } else { 2 })"), "(f (if a 1 2))");
    assert_eq!(p("a ? let x = 1; x : 2"), "(if a (let x 1 x) 2)");
    assert_eq!(p("if a {b} else {c}; d"), "(seq (if a b c) d)");
    assert_eq!(
        expr_err("if a { b }").message,
        "expected `else`: an `if` needs an `else` branch, found the end of the file"
    );
    assert_eq!(
        expr_err("1 + let x = 1; x").message,
        "expected an expression, found `let`"
    );
    assert_eq!(
        expr_err("let x = 1").message,
        "expected an operator or `;`, found the end of the file"
    );
}

#[test]
fn control_characters_are_named_not_echoed() {
    let e = parse_file("user {\n  userName = \u{1b}[31m\n}\n", &Limits::default()).unwrap_err();
    assert!(!e[0].message.contains('\u{1b}'), "{}", e[0].message);
    assert!(e[0].message.contains("U+001B"), "{}", e[0].message);
}

#[test]
fn spans() {
    let e = expr("a + f(b, c)");
    assert_eq!(e.span, Span::new(0, 11));
    let ExprKind::Binary(_, l, r) = &e.kind else {
        panic!()
    };
    assert_eq!((l.span, r.span), (Span::new(0, 1), Span::new(4, 11)));
    assert_eq!(expr("  (a)  ").span, Span::new(2, 5));
    assert_eq!(expr("-x.y").span, Span::new(0, 4));
    assert_eq!(expr("a?.b ").span, Span::new(0, 4));
    assert_eq!(expr("x | f() ").span, Span::new(0, 7));
    let ExprKind::Member { index, .. } = expr("abc.def").kind else {
        panic!()
    };
    assert_eq!(index.span, Span::new(4, 7));
    let ExprKind::Call { name, args } = expr("filter(xs, {.a})").kind else {
        panic!()
    };
    assert_eq!(
        (name.span, args[1].span),
        (Span::new(0, 6), Span::new(11, 15))
    );
}

#[test]
fn expression_errors() {
    let d = expr_err("(1 + 2");
    assert_eq!(
        (d.message.as_str(), d.span),
        (
            "expected a closing `)`, found the end of the file",
            Span::new(6, 6)
        )
    );
    let d = expr_err("f(a b)");
    assert_eq!(
        (d.message.as_str(), at("f(a b)", &d)),
        ("expected `,` or `)`, found `b`", "b".into())
    );
    let d = expr_err("1 +");
    assert_eq!(
        d.message,
        "expected an expression, found the end of the file"
    );
    let d = expr_err("1 + * 2");
    assert_eq!(
        (d.message.as_str(), d.span),
        ("expected an expression, found `*`", Span::new(4, 5))
    );
    let d = expr_err("a b");
    assert_eq!(
        d.message,
        "expected an operator or the end of the expression, found `b`"
    );
    let d = expr_err("a.");
    assert_eq!(
        d.message,
        "expected a name after `.`, found the end of the file"
    );
    let d = expr_err("[1, 2");
    assert_eq!(d.message, "expected `,` or `]`, found the end of the file");
    assert_eq!(
        expr_err("x = 1").message,
        "expected an operator or the end of the expression, found `=`"
    );
    assert_eq!(expr_err("a # b").code, "scimap::hash-comment");
    assert_eq!(
        expr_err("").message,
        "expected an expression, found the end of the file"
    );
    assert_eq!(expr_err("1 /* open").code, "scimap::syntax");
}

const EXAMPLE: &str = r#"// A Trello-style mapping                    (comments: '//' to end of line, or /* … */)
app "Trello"                                 // optional display name
schema "urn:example:params:scim:schemas:extension:acme:2.0:User" { hireYear: integer }

user {
  let fullName = trim(trim(firstname ?? "") + " " + trim(lastname ?? ""))

  userName                     = $.username              // Direct (JSON Path)
  name.formatted               = fullName                // Expression
  name.givenName               = $.firstname
  name.familyName              = $.lastname
  displayName                  = coalesce(trim(displayname ?? ""), fullName)
  emails[type eq "work"].value = lower(email)
  active                       = state == "ACTIVATED"
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization = const "Acme Corp"   // Constant
  urn:example:params:scim:schemas:extension:acme:2.0:User:hireYear = date(created).Year()
}

group {
  displayName = $.name
}
"#;

#[test]
fn the_language_example_parses() {
    let f = file(EXAMPLE);
    assert_eq!(f.app.as_ref().map(|a| a.node.as_str()), Some("Trello"));
    assert_eq!(f.schemas.len(), 1);
    let schema = &f.schemas[0];
    assert_eq!(
        schema.urn.node,
        "urn:example:params:scim:schemas:extension:acme:2.0:User"
    );
    assert_eq!(schema.attributes.len(), 1);
    assert_eq!(
        (
            schema.attributes[0].0.node.as_str(),
            schema.attributes[0].1.node.as_str()
        ),
        ("hireYear", "integer")
    );
    assert_eq!(f.sections.len(), 2);
    let user = &f.sections[0];
    assert_eq!(
        (user.kind, &EXAMPLE[user.keyword.start..user.keyword.end]),
        (SectionKind::User, "user")
    );
    assert_eq!(user.items.len(), 10);
    let Item::Let(full) = &user.items[0] else {
        panic!()
    };
    assert_eq!(full.name.node, "fullName");
    assert_eq!(
        sx(&full.value),
        r#"(trim (+ (+ (trim (?? firstname "")) " ") (trim (?? lastname ""))))"#
    );
    let Item::Entry(user_name) = &user.items[1] else {
        panic!()
    };
    assert_eq!(
        user_name.source,
        Source::Direct(Spanned::new("$.username".into(), user_name.source_span()))
    );
    assert_eq!(
        &EXAMPLE[user_name.span.start..user_name.span.end],
        "userName                     = $.username"
    );
    let Item::Entry(org) = &user.items[8] else {
        panic!()
    };
    assert_eq!(
        org.target.urn.as_ref().map(|u| u.node.as_str()),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(org.target.attr.node, "organization");
    assert!(matches!(&org.source, Source::Const(c) if c.node == json!("Acme Corp")));
    let Item::Entry(hire) = &user.items[9] else {
        panic!()
    };
    assert!(matches!(&hire.source, Source::Expr(e) if sx(e) == "(.Year (date created))"));
    assert_eq!(f.sections[1].kind, SectionKind::Group);
}

impl Entry {
    fn source_span(&self) -> Span {
        match &self.source {
            Source::Direct(s) => s.span,
            Source::Const(c) => c.span,
            Source::Expr(e) => e.span,
        }
    }
}

#[test]
fn targets() {
    let t = entry("userName = x").target;
    assert_eq!(
        (t.urn, t.attr.node.as_str(), t.selector, t.sub),
        (None, "userName", Selector::None, None)
    );
    let t = entry("name.givenName = x").target;
    assert_eq!(
        (t.attr.node.as_str(), t.sub.map(|s| s.node)),
        ("name", Some("givenName".into()))
    );
    let src = "emails[type eq \"work\"].value = x";
    let t = entry(src).target;
    let Selector::Filter(terms) = &t.selector else {
        panic!()
    };
    assert_eq!(terms.len(), 1);
    assert_eq!(
        (terms[0].attr.node.as_str(), &terms[0].value.node),
        ("type", &json!("work"))
    );
    assert_eq!(t.sub.map(|s| s.node), Some("value".into()));
    let t = entry(
        "phoneNumbers[type EQ \"mobile\" AND primary eq true and n eq 1.5 and z eq null].value = x",
    )
    .target;
    let Selector::Filter(terms) = &t.selector else {
        panic!()
    };
    let values: Vec<_> = terms.iter().map(|t| t.value.node.clone()).collect();
    assert_eq!(
        values,
        vec![json!("mobile"), json!(true), json!(1.5), json!(null)]
    );
    let src = "addresses[].streetAddress = x";
    let t = entry(src).target;
    let Selector::ElementWise(span) = t.selector else {
        panic!()
    };
    assert_eq!(span, Span::new(16, 18));
    let src = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value = x";
    let t = entry(src).target;
    assert_eq!(
        t.urn.as_ref().map(|u| u.node.as_str()),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(
        (
            t.attr.node.as_str(),
            t.sub.as_ref().map(|s| s.node.as_str())
        ),
        ("manager", Some("value"))
    );
    assert_eq!(t.attr.span, Span::new(66, 73));
    let t = entry("urn:x:y:User:emails[type eq \"work\"].value = x").target;
    assert_eq!(
        (t.urn.map(|u| u.node), t.attr.node.as_str()),
        (Some("urn:x:y:User".into()), "emails")
    );
    assert!(matches!(t.selector, Selector::Filter(_)));
    let t = entry("urn:x:y:User:manager.$ref = x").target;
    assert_eq!(t.sub.map(|s| s.node), Some("$ref".into()));
    let t = entry("members[].$ref = x").target;
    assert_eq!(t.sub.map(|s| s.node), Some("$ref".into()));
}

#[test]
fn target_errors() {
    let src = "user {\n  emails[type co \"x\"].value = a\n}";
    assert_eq!(
        file_err(src).message,
        "expected `eq`: a target filter can only test equality, found `co`"
    );
    let src = "user {\n  emails[type eq work].value = a\n}";
    assert_eq!(
        file_err(src).message,
        "expected a JSON literal: a string, a number, `true`, `false` or `null`, found `work`"
    );
    let src = "user {\n  urn:x:User:manager.value[type eq 1] = a\n}";
    assert_eq!(
        file_err(src).message,
        "a filter belongs after the attribute, before its sub-attribute"
    );
    let src = "user {\n  urn:User = a\n}";
    assert_eq!(
        file_err(src).message,
        "a qualified target is a schema URN, `:` and an attribute name"
    );
}

#[test]
fn sources() {
    let e = entry("userName = $.username   ");
    assert_eq!(
        e.source,
        Source::Direct(Spanned::new("$.username".into(), Span::new(18, 28)))
    );
    let e = entry("a = $['first name'] // a comment");
    assert!(matches!(&e.source, Source::Direct(s) if s.node == "$['first name']"));
    let e = entry("a = $.x[?(@.y == 'a//b')] /* c */");
    assert!(matches!(&e.source, Source::Direct(s) if s.node == "$.x[?(@.y == 'a//b')]"));
    let e = entry("a = $");
    assert!(matches!(&e.source, Source::Direct(s) if s.node == "$"));
    let e = entry("a = $ // root");
    assert!(matches!(&e.source, Source::Direct(s) if s.node == "$"));
    assert_eq!(source_sx("a = $env.firstname"), "(. $env \"firstname\")");
    assert_eq!(source_sx("a = $foo"), "$foo");
    assert_eq!(source_sx("a = $env[\"x y\"]"), "(. $env \"x y\")");
    let c = |src: &str| match entry(src).source {
        Source::Const(c) => c.node,
        other => panic!("{other:?}"),
    };
    assert_eq!(c("a = const 42"), json!(42));
    assert!(c("a = const 42").is_i64());
    assert!(c("a = const 18446744073709551615").is_u64());
    assert!(c("a = const 1.0").is_f64());
    assert!(c("a = const 1e2").is_f64());
    assert_eq!(c("a = const -7"), json!(-7));
    assert_eq!(c("a = const true"), json!(true));
    assert_eq!(c("a = const \"\\u00e9\\n\""), json!("é\n"));
    assert_eq!(
        c("a = const {\"a\": [1, {\"b\": null}],\n  \"c\": \"d\"\n} // done"),
        json!({"a": [1, {"b": null}], "c": "d"})
    );
    assert_eq!(c("a = const []"), json!([]));
    let keys: Vec<String> = match c("a = const {\"z\": 1, \"a\": 2}") {
        serde_json::Value::Object(m) => m.keys().cloned().collect(),
        _ => vec![],
    };
    assert_eq!(keys, ["z", "a"]);
}

#[test]
fn constant_errors() {
    let src = "user {\n  a = const {\"k\": 1, \"k\": 2}\n}";
    let d = file_err(src);
    assert_eq!(
        (d.code, at(src, &d).as_str()),
        ("scimap::duplicate-key", "\"k\"")
    );
    assert_eq!(d.span.start, 28);
    assert_eq!(d.labels[0].span, Span::new(20, 23));
    let d = file_err("user {\n  a = const null\n}");
    assert_eq!((d.code, d.span), ("scimap::const-null", Span::new(19, 23)));
    assert!(parse_file("user {\n  a = const [null]\n}", &Limits::default()).is_ok());
    let d = file_err("user {\n  a = const \"\\uD800\"\n}");
    assert_eq!(d.code, "scimap::bad-escape");
    assert_eq!(
        file_err("user {\n  a = const 1e999\n}").code,
        "scimap::number-range"
    );
    assert_eq!(
        file_err("user {\n  a = const {'a': 1}\n}").message,
        "expected a closing `}`, found `'`"
    );
    assert_eq!(
        file_err("user {\n  a = const [1,]\n}").message,
        "expected a JSON value, found `]`"
    );
}

#[test]
fn entries_and_line_breaks() {
    let es = entries("  a = b\n  c = d");
    assert_eq!(es.len(), 2);
    assert_eq!(source_sx("a = b +\n   c"), "(+ b c)");
    assert_eq!(source_sx("a = f(b,\n c\n)"), "(f b c)");
    assert_eq!(source_sx("a =\n  b"), "b");
    assert_eq!(source_sx("a = b ?\n c :\n d"), "(if b c d)");
    assert_eq!(source_sx("a = b ? c\n : d"), "(if b c d)");
    assert_eq!(source_sx("a = if b {\n c\n}\nelse {\n d\n}"), "(if b c d)");
    assert_eq!(source_sx("a = let x = 1;\n x"), "(let x 1 x)");
    assert_eq!(source_sx("a = [\n 1,\n 2,\n]"), "[1 2]");
    assert_eq!(source_sx("a = x | // c\n f()"), "(f x)");
    assert_eq!(source_sx("a = (b\n + c)"), "(+ b c)");
    assert_eq!(source_sx("a = not\n b"), "(not b)");
    let es = entries("a = f(x)\nb = [1]\nc = {k: 1}\nd = (1)");
    assert_eq!(es.len(), 4);
    let src = "user {\n  a = b\n  + c\n}";
    let d = file_err(src);
    assert_eq!(
        d.message,
        "expected an entry `TARGET = SOURCE`, a `let` or the `}` closing the section, found `+`"
    );
    assert_eq!(at(src, &d), "+");
    assert!(d
        .help
        .as_deref()
        .is_some_and(|h| h.starts_with("a line cannot start with an operator")));
    let src = "user {\n  a = b c\n}";
    assert_eq!(
        file_err(src).message,
        "expected an operator or the end of the line, found `c`"
    );
    let src = "user {\n  a = b }";
    assert_eq!(
        file_err(src).message,
        "expected an operator or the end of the line, found `}`"
    );
    let src = "user {\n  a = b\n  a = $.x\n  a = const 1\n}";
    assert_eq!(file(src).sections[0].items.len(), 3);
}

#[test]
fn allow_comments() {
    assert_eq!(
        entry("a = b // scimap:allow(scimap::maybe-nil)").allow,
        ["scimap::maybe-nil"]
    );
    assert_eq!(
        entry("a = $.b   //scimap:allow(maybe-nil, scimap::non-singular-path )").allow,
        ["scimap::maybe-nil", "scimap::non-singular-path"]
    );
    assert_eq!(
        entry("a = f(\n b) /* x */ // scimap:allow(unused-let)").allow,
        ["scimap::unused-let"]
    );
    assert_eq!(
        entry("a = const 1 // scimap:allow(non-canonical)").allow,
        ["scimap::non-canonical"]
    );
    assert!(entry("a = b // just a comment").allow.is_empty());
    assert!(entry("a = b").allow.is_empty());
    let d = file_err("user {\n  a = b // scimap:allow()\n}");
    assert_eq!(d.message, "malformed `scimap:allow` comment");
    // Only warnings can be allowed, and a typo is named rather than ignored.
    let d = file_err("user {\n  a = b // scimap:allow(maybe-nill)\n}");
    assert!(
        d.message.contains("did you mean `scimap::maybe-nil`"),
        "{}",
        d.message
    );
    let d = file_err("user {\n  a = b // scimap:allow(scimap::type-mismatch)\n}");
    assert!(d.message.contains("not a warning code"), "{}", d.message);
}

#[test]
fn lets_and_items() {
    let f = file("user {\n  let x = 1 + 2\n  let y = let z = 1; z\n  a = x\n}");
    let items = &f.sections[0].items;
    let Item::Let(x) = &items[0] else { panic!() };
    assert_eq!(
        (x.name.node.as_str(), sx(&x.value), x.span),
        ("x", "(+ 1 2)".into(), Span::new(9, 22))
    );
    let Item::Let(y) = &items[1] else { panic!() };
    assert_eq!(sx(&y.value), "(let z 1 z)");
    assert!(matches!(items[2], Item::Entry(_)));
    let f = file("user {\n  letter = x\n}");
    assert!(matches!(&f.sections[0].items[0], Item::Entry(e) if e.target.attr.node == "letter"));
}

#[test]
fn file_structure_errors() {
    let src = "user {\n  # a comment\n  a = b\n}";
    let d = file_err(src);
    assert_eq!(
        (d.code, d.span, d.message.as_str()),
        (
            "scimap::hash-comment",
            Span::new(9, 10),
            "`#` is not a comment here"
        )
    );
    assert_eq!(d.help.as_deref(), Some("use `//` for comments"));
    let errs = file_errs("# top\nuser {\n  # one\n  # two\n}");
    assert_eq!(
        errs.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["scimap::hash-comment"; 3]
    );
    let d = file_err("user {\n  a = b # trailing\n}");
    assert_eq!(d.code, "scimap::hash-comment");
    let src = "user {\n  a = b\n}\ngroup {\n}\nuser {\n  c = d\n}";
    let d = file_err(src);
    assert_eq!(
        (d.code, d.span),
        ("scimap::duplicate-section", Span::new(27, 31))
    );
    assert_eq!(d.labels[0].span, Span::new(0, 4));
    for src in ["", "// only a comment\n\n/* and */\n", "app \"x\"\n"] {
        let d = file_err(src);
        assert_eq!(d.code, "scimap::no-section", "{src:?}");
    }
    let src = "user {\n  userName $.x\n}";
    let d = file_err(src);
    assert_eq!(
        (d.message.as_str(), at(src, &d).as_str()),
        ("expected `=` after the target, found `$`", "$")
    );
    let src = "user {\n  a = f(b\n}";
    let d = file_err(src);
    assert_eq!(
        (d.message.as_str(), at(src, &d).as_str()),
        ("expected `,` or `)`, found `}`", "}")
    );
    let src = "user {\n  a = 1 +\n}";
    assert_eq!(file_err(src).message, "expected an expression, found `}`");
    let src = "user {\n  a = 1 @ 2\n}";
    assert_eq!(
        file_err(src).message,
        "expected an operator or the end of the line, found `@`"
    );
    assert_eq!(file_err("user {\n  a = b\n").message, "expected an entry `TARGET = SOURCE`, a `let` or the `}` closing the section, found the end of the file");
    assert_eq!(
        file_err("users {\n}").message,
        "expected `app \"…\"`, `schema \"…\"`, `user {` or `group {`, found `users`"
    );
    assert_eq!(file_err("user { a = b }").code, "scimap::syntax");
    assert_eq!(
        file_err("user {\n}\napp \"x\"").message,
        "the `app` header must come first, and only once"
    );
    let d = file_err("user {\n  a =\n  $.x\n}");
    assert_eq!(
        d.message,
        "a JSON Path source must start on the line of its `=`"
    );
    // Several errors found while lowering are all reported, in source order.
    let errs = file_errs("user {\n  a = \"\\q\"\n  b = 99999999999999999999\n}");
    assert_eq!(
        errs.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["scimap::bad-escape", "scimap::number-range"]
    );
}

#[test]
fn crlf_and_bom_free_offsets() {
    let f = file("user {\r\n  a = b\r\n  c = $.d  \r\n}\r\n");
    let items = &f.sections[0].items;
    assert_eq!(items.len(), 2);
    let Item::Entry(c) = &items[1] else { panic!() };
    assert!(matches!(&c.source, Source::Direct(s) if s.node == "$.d"));
}

#[test]
fn depth_limits() {
    let deep = |n: usize| "(".repeat(n) + "1" + &")".repeat(n);
    assert_eq!(p(&deep(100)), "1");
    let d = expr_err(&deep(100_000));
    assert_eq!(
        (d.code, d.message.as_str()),
        (
            "scimap::limit",
            "nesting is deeper than the limit `depth` (128)"
        )
    );
    assert_eq!(d.span, Span::new(128, 129));
    assert_eq!(
        expr_err(&"-".repeat(200).add_str("x")).code,
        "scimap::limit"
    );
    assert_eq!(
        expr_err(&"not ".repeat(200).add_str("x")).code,
        "scimap::limit"
    );
    assert_eq!(expr_err(&vec!["2"; 200].join(" ** ")).code, "scimap::limit");
    assert_eq!(
        expr_err(&"a ? b : ".repeat(200).add_str("c")).code,
        "scimap::limit"
    );
    // A long left-associative chain is a deep tree too.
    let d = expr_err(&vec!["a"; 200].join(" + "));
    assert_eq!((d.code, d.span.start), ("scimap::limit", 0));
    assert!(parse_expression(&vec!["a"; 120].join(" + "), &Limits::default()).is_ok());
    let small = Limits {
        depth: 2,
        ..Limits::default()
    };
    assert!(parse_expression("f(g(h(1)))", &small).is_err());
    assert!(parse_expression("f(g(1))", &small).is_ok());
    let d = parse_file(
        &format!("user {{\n  a = {}\n}}", deep(500)),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(d[0].code, "scimap::limit");
    let big = Limits {
        source_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        parse_file("user {\n  a = b\n}", &big).unwrap_err()[0].code,
        "scimap::limit"
    );
}

#[test]
fn the_deepest_accepted_nesting_fits_a_small_stack() {
    // 128 levels of every recursive construct, parsed on a 1 MiB thread.
    let src = format!(
        "{}{}{}",
        "f([{a: (if x { let y = 1; y ? ".repeat(10),
        "1",
        " : 2 } else { 3 })}])".repeat(10)
    );
    let ok = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || parse_expression(&src, &Limits::default()).is_ok())
        .map(|h| h.join().unwrap_or(false))
        .unwrap_or(false);
    assert!(ok);
    let parens = "(".repeat(128) + "1" + &")".repeat(128);
    let ok = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || parse_expression(&parens, &Limits::default()).is_ok())
        .map(|h| h.join().unwrap_or(false))
        .unwrap_or(false);
    assert!(ok);
}

trait AddStr {
    fn add_str(self, s: &str) -> String;
}

impl AddStr for String {
    fn add_str(mut self, s: &str) -> String {
        self.push_str(s);
        self
    }
}

#[test]
fn comments_and_line_breaks_in_expressions() {
    assert_eq!(p("1 + // one\n 2 /* two */ * 3"), "(+ 1 (* 2 3))");
    assert_eq!(p("\n a\n +\n b\n"), "(+ a b)");
    assert_eq!(p("a\n.b"), "(. a \"b\")");
}

/// The profile and `create` (reference §profile): both parsers agree (debug builds compare
/// them on every parse) and build this tree; a target named `create` stays a target.
#[test]
fn profile_and_create_only_entries() {
    let f = file(
            "app \"T\" { // the app\n  update = put\n\n  updatable = [active,\n    urn:a:b:User:x, name.givenName,]\n  maxPatchOperations = 100\n}\nuser {\n  create  externalId = $._id\n  create = 1\n  createdAt = 2\n}\n",
        );
    let profile = f.profile.expect("a profile");
    let settings: Vec<String> = profile
        .settings
        .iter()
        .map(|s| match &s.value {
            SettingValue::Word(w) => format!("{}={}", s.key.node, w.node),
            SettingValue::Count(c) => format!("{}#{}", s.key.node, c.node),
            SettingValue::List(l, _) => {
                let paths: Vec<&str> = l.iter().map(|p| p.node.as_str()).collect();
                format!("{}={:?}", s.key.node, paths)
            }
        })
        .collect();
    assert_eq!(
        settings,
        [
            "update=put",
            r#"updatable=["active", "urn:a:b:User:x", "name.givenName"]"#,
            "maxPatchOperations#100",
        ]
    );
    let entries: Vec<(bool, &str)> = f.sections[0]
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Entry(e) => Some((e.create.is_some(), e.target.attr.node.as_str())),
            Item::Let(_) => None,
        })
        .collect();
    assert_eq!(
        entries,
        [
            (true, "externalId"),
            (false, "create"),
            (false, "createdAt")
        ]
    );
    assert!(file("app \"T\" {}\nuser {\n  a = 1\n}\n").profile.is_some());
    for bad in [
        "app \"T\" { update = put }\nuser {\n  a = 1\n}\n",
        "app \"T\" {\n  update = put x\n}\nuser {\n  a = 1\n}\n",
        "app \"T\" {\n  maxPatchOperations = 1e3\n}\nuser {\n  a = 1\n}\n",
        "app \"T\"\n{\n}\nuser {\n  a = 1\n}\n",
        "user {\n  create\n  a = 1\n}\n",
    ] {
        assert_eq!(file_errs(bad)[0].code, "scimap::syntax", "{bad:?}");
    }
}

#[test]
fn the_grammar_names_the_predicates_the_syntax_tree_knows() {
    let grammar = include_str!("../../../grammar/mapping.pest");
    let rule = grammar
        .split("pred_name = @{")
        .nth(1)
        .and_then(|r| r.split('}').next())
        .expect("the grammar has pred_name");
    let mut in_grammar: Vec<&str> = rule.split('"').skip(1).step_by(2).collect();
    let mut known: Vec<&str> = crate::syntax::ast::Predicate::names().collect();
    in_grammar.sort_unstable();
    known.sort_unstable();
    assert_eq!(in_grammar, known);
}
