//! The builtin functions that take no predicate, by name (reference §functions;
//! Expr v1.17.8 semantics).
//!
//! Predicate builtins (`all`, `map`, `filter`, …), `now` and `attr` belong to the evaluator.
//! Every function here checks its argument types at run time (the checker catches most misuse
//! earlier), spends a step per element it visits (per 16 bytes of a string) and checks the size
//! of what it builds before building it.

pub mod catalogue;
mod collections;
mod convert;
mod numbers;
pub mod re2;
mod strings;
pub mod time;

use super::budget::Budget;
use super::error::{EvalError, EvalResult};
use super::value::{List, Str, Value};
use crate::types::{Type, Want};
use std::cell::Cell;

pub use strings::split_join;

pub type NativeFn = for<'a> fn(&[Value<'a>], &mut Budget) -> EvalResult<Value<'a>>;

/// A builtin whose result is a string: an argument's string (or part of it) as it is, or one it
/// wrote into the empty buffer it is given. Run by [`text`], which charges what it built; the
/// evaluator makes a value of it, or writes it where it goes without making one.
pub type TextFn = for<'a> fn(&[Value<'a>], &mut Budget, &mut String) -> EvalResult<Text<'a>>;

/// What a [`TextFn`] gave.
pub enum Text<'a> {
    Same(Str<'a>),
    /// The string is in the buffer.
    Built,
}

/// How a builtin is called.
#[derive(Clone, Copy, Debug)]
pub enum Call {
    Value(NativeFn),
    Text(TextFn),
}

impl Call {
    /// The builtin's value.
    #[inline]
    pub fn value<'a>(self, args: &[Value<'a>], budget: &mut Budget) -> EvalResult<Value<'a>> {
        match self {
            Call::Value(f) => f(args, budget),
            Call::Text(f) => text(f, args, budget, |made, built| match made {
                Text::Same(s) => Value::Str(s),
                Text::Built => Value::Str(Str::Owned(built.into())),
            }),
        }
    }
}

/// Runs `f` in the thread's buffer and gives `with` what it made (and the buffer): a string it
/// built is charged first, as [`Value::string`] charges one.
pub fn text<'a, R>(
    f: TextFn,
    args: &[Value<'a>],
    budget: &mut Budget,
    with: impl FnOnce(Text<'a>, &str) -> R,
) -> EvalResult<R> {
    let mut buf = BUILDING.take();
    buf.clear();
    let made = f(args, budget, &mut buf).and_then(|made| {
        if let Text::Built = made {
            budget.string(buf.len())?;
        }
        Ok(with(made, &buf))
    });
    if buf.capacity() <= BUILDING_KEPT {
        BUILDING.set(buf);
    }
    made
}

/// A builtin: one row holding everything about it but its documentation (`stdlib/functions.md`):
/// name, arity bounds (`max_args: None` = variadic), what each argument must be and the result
/// type, which the checker types calls by, and the implementation the evaluator calls.
pub struct Native {
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: Option<usize>,
    /// What each argument must be; arguments past the list may be anything.
    pub params: &'static [Want],
    /// The result type, from the argument types.
    pub returns: fn(&[Type]) -> Type,
    pub call: Call,
}

const fn native(
    name: &'static str,
    min: usize,
    max: Option<usize>,
    params: &'static [Want],
    returns: fn(&[Type]) -> Type,
    call: NativeFn,
) -> Native {
    row(name, (min, max), params, returns, Call::Value(call))
}

/// A row whose result is always a string: `native`, called as a [`TextFn`].
const fn text_native(
    name: &'static str,
    min: usize,
    max: Option<usize>,
    params: &'static [Want],
    call: TextFn,
) -> Native {
    row(name, (min, max), params, returns::string, Call::Text(call))
}

const fn row(
    name: &'static str,
    (min_args, max_args): (usize, Option<usize>),
    params: &'static [Want],
    returns: fn(&[Type]) -> Type,
    call: Call,
) -> Native {
    Native {
        name,
        min_args,
        max_args,
        params,
        returns,
        call,
    }
}

/// Result types of the rows below.
mod returns {
    use crate::types::{unify, Type};

    fn first(args: &[Type]) -> Option<&Type> {
        args.first().map(Type::non_nil)
    }

    pub fn any(_: &[Type]) -> Type {
        Type::Any
    }
    pub fn bool(_: &[Type]) -> Type {
        Type::Bool
    }
    pub fn int(_: &[Type]) -> Type {
        Type::Int
    }
    pub fn float(_: &[Type]) -> Type {
        Type::Float
    }
    pub fn string(_: &[Type]) -> Type {
        Type::String
    }
    pub fn maybe_string(_: &[Type]) -> Type {
        Type::String.nullable()
    }
    pub fn string_list(_: &[Type]) -> Type {
        Type::Array(Box::new(Type::String))
    }
    pub fn any_list(_: &[Type]) -> Type {
        Type::Array(Box::new(Type::Any))
    }
    pub fn map(_: &[Type]) -> Type {
        Type::Map
    }
    pub fn time(_: &[Type]) -> Type {
        Type::Time
    }
    pub fn duration(_: &[Type]) -> Type {
        Type::Duration
    }
    pub fn location(_: &[Type]) -> Type {
        Type::Location
    }
    /// `abs`: the number's own type.
    pub fn same_number(args: &[Type]) -> Type {
        match first(args) {
            Some(t @ (Type::Int | Type::Float)) => t.clone(),
            _ => Type::Any,
        }
    }
    /// `first`, `last`: an item of the list, or nil.
    pub fn item(args: &[Type]) -> Type {
        match first(args) {
            Some(Type::Array(t)) => t.clone().nullable(),
            _ => Type::Any,
        }
    }
    /// `take`, `reverse`, `uniq`, `sort`: a list like the one given.
    pub fn same_list(args: &[Type]) -> Type {
        match first(args) {
            Some(t @ Type::Array(_)) => t.clone(),
            _ => Type::Array(Box::new(Type::Any)),
        }
    }
    /// `coalesce`: any of its arguments, nil when all are.
    pub fn coalesce(args: &[Type]) -> Type {
        args.iter()
            .map(|t| t.non_nil().clone())
            .reduce(|a, b| unify(&a, &b))
            .map_or(Type::Nil, Type::nullable)
    }
}

/// Sorted by name (byte order) for `lookup`'s binary search.
static NATIVES: &[Native] = {
    use Want::*;
    &[
        native(
            "abs",
            1,
            Some(1),
            &[Num],
            returns::same_number,
            numbers::abs,
        ),
        native(
            "bitand",
            2,
            Some(2),
            &[Int, Int],
            returns::int,
            numbers::bitand,
        ),
        native(
            "bitnand",
            2,
            Some(2),
            &[Int, Int],
            returns::int,
            numbers::bitnand,
        ),
        native("bitnot", 1, Some(1), &[Int], returns::int, numbers::bitnot),
        native(
            "bitor",
            2,
            Some(2),
            &[Int, Int],
            returns::int,
            numbers::bitor,
        ),
        native(
            "bitshl",
            2,
            Some(2),
            &[Int, Int],
            returns::int,
            numbers::bitshl,
        ),
        native(
            "bitshr",
            2,
            Some(2),
            &[Int, Int],
            returns::int,
            numbers::bitshr,
        ),
        native(
            "bitushr",
            2,
            Some(2),
            &[Int, Int],
            returns::int,
            numbers::bitushr,
        ),
        native(
            "bitxor",
            2,
            Some(2),
            &[Int, Int],
            returns::int,
            numbers::bitxor,
        ),
        native("ceil", 1, Some(1), &[Num], returns::float, numbers::ceil),
        native(
            "coalesce",
            1,
            None,
            &[],
            returns::coalesce,
            strings::coalesce,
        ),
        native(
            "concat",
            1,
            None,
            &[],
            returns::any_list,
            collections::concat,
        ),
        native("date", 1, Some(3), &[], returns::time, time::date),
        native(
            "duration",
            1,
            Some(1),
            &[Str],
            returns::duration,
            time::duration,
        ),
        native(
            "emailDomain",
            1,
            Some(1),
            &[Str],
            returns::maybe_string,
            strings::email_domain,
        ),
        native(
            "emailLocal",
            1,
            Some(1),
            &[Str],
            returns::maybe_string,
            strings::email_local,
        ),
        native("first", 1, Some(1), &[], returns::item, collections::first),
        native(
            "flatten",
            1,
            Some(1),
            &[List],
            returns::any_list,
            collections::flatten,
        ),
        native("float", 1, Some(1), &[], returns::float, convert::float),
        native("floor", 1, Some(1), &[Num], returns::float, numbers::floor),
        native(
            "fromBase64",
            1,
            Some(1),
            &[Str],
            returns::string,
            convert::from_base64,
        ),
        native(
            "fromJSON",
            1,
            Some(1),
            &[Str],
            returns::any,
            convert::from_json,
        ),
        native(
            "fromPairs",
            1,
            Some(1),
            &[List],
            returns::map,
            collections::from_pairs,
        ),
        native("get", 2, Some(2), &[], returns::any, collections::get),
        native(
            "hasPrefix",
            2,
            Some(2),
            &[Str, Str],
            returns::bool,
            strings::has_prefix,
        ),
        native(
            "hasSuffix",
            2,
            Some(2),
            &[Str, Str],
            returns::bool,
            strings::has_suffix,
        ),
        native(
            "indexOf",
            2,
            Some(2),
            &[Str, Str],
            returns::int,
            strings::index_of,
        ),
        native("int", 1, Some(1), &[], returns::int, convert::int),
        text_native("join", 1, Some(2), &[List, Str], strings::join),
        native(
            "keys",
            1,
            Some(1),
            &[Map],
            returns::string_list,
            collections::keys,
        ),
        native("last", 1, Some(1), &[], returns::item, collections::last),
        native(
            "lastIndexOf",
            2,
            Some(2),
            &[Str, Str],
            returns::int,
            strings::last_index_of,
        ),
        native("len", 1, Some(1), &[], returns::int, collections::len),
        text_native("lower", 1, Some(1), &[Str], strings::lower),
        native("max", 1, None, &[], returns::any, numbers::max),
        native("mean", 1, None, &[], returns::float, numbers::mean),
        native("median", 1, None, &[], returns::float, numbers::median),
        native("min", 1, None, &[], returns::any, numbers::min),
        native(
            "normalizeDiacritics",
            1,
            Some(1),
            &[Str],
            returns::string,
            strings::normalize_diacritics,
        ),
        text_native("repeat", 2, Some(2), &[Str, Int], strings::repeat),
        text_native(
            "replace",
            3,
            Some(4),
            &[Str, Str, Str, Int],
            strings::replace,
        ),
        native(
            "reverse",
            1,
            Some(1),
            &[List],
            returns::same_list,
            collections::reverse,
        ),
        native("round", 1, Some(1), &[Num], returns::float, numbers::round),
        native(
            "sort",
            1,
            Some(2),
            &[List, Str],
            returns::same_list,
            collections::sort,
        ),
        native(
            "split",
            2,
            Some(3),
            &[Str, Str, Int],
            returns::string_list,
            strings::split,
        ),
        native(
            "splitAfter",
            2,
            Some(3),
            &[Str, Str, Int],
            returns::string_list,
            strings::split_after,
        ),
        native("string", 1, Some(1), &[], returns::string, convert::string),
        native(
            "take",
            2,
            Some(2),
            &[List, Int],
            returns::same_list,
            collections::take,
        ),
        native(
            "timezone",
            1,
            Some(1),
            &[Str],
            returns::location,
            time::timezone,
        ),
        text_native("titleCase", 1, Some(1), &[Str], strings::title_case),
        native(
            "toBase64",
            1,
            Some(1),
            &[Str],
            returns::string,
            convert::to_base64,
        ),
        native("toJSON", 1, Some(1), &[], returns::string, convert::to_json),
        native(
            "toPairs",
            1,
            Some(1),
            &[Map],
            returns::any_list,
            collections::to_pairs,
        ),
        native(
            "trim",
            1,
            Some(2),
            &[Str, Str],
            returns::string,
            strings::trim,
        ),
        native(
            "trimPrefix",
            1,
            Some(2),
            &[Str, Str],
            returns::string,
            strings::trim_prefix,
        ),
        native(
            "trimSuffix",
            1,
            Some(2),
            &[Str, Str],
            returns::string,
            strings::trim_suffix,
        ),
        native(
            "type",
            1,
            Some(1),
            &[],
            returns::string,
            collections::type_of,
        ),
        native(
            "uniq",
            1,
            Some(1),
            &[List],
            returns::same_list,
            collections::uniq,
        ),
        text_native("upper", 1, Some(1), &[Str], strings::upper),
        native(
            "values",
            1,
            Some(1),
            &[Map],
            returns::any_list,
            collections::values,
        ),
    ]
};

/// The builtin called `name`; `None` for names that are not (non-predicate) builtins.
pub fn lookup(name: &str) -> Option<&'static Native> {
    NATIVES
        .binary_search_by(|n| n.name.cmp(name))
        .ok()
        .and_then(|i| NATIVES.get(i))
}

/// Every non-predicate builtin, sorted by name.
pub fn all() -> &'static [Native] {
    NATIVES
}

// ---- helpers shared by the builtin modules ----

/// String work costs one step per this many bytes: linear scans are cheap, but a loop that
/// calls `upper(bigField)` 100k times must still run out of steps.
const BYTES_PER_STEP: usize = 16;

fn step_bytes(budget: &mut Budget, bytes: usize) -> EvalResult<()> {
    budget.step((bytes / BYTES_PER_STEP) as u64 + 1)
}

/// The `i`th argument, nil when missing (the evaluator checks arity; this keeps natives total).
fn arg<'a>(args: &[Value<'a>], i: usize) -> Value<'a> {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

/// "invalid argument for upper: expected string, got int".
fn bad_arg(name: &str, expected: &str, got: &Value) -> EvalError {
    EvalError::type_error(format!(
        "invalid argument for {name}: expected {expected}, got {}",
        got.type_name()
    ))
}

/// Go's `%T` of a value, for messages that quote Expr's ("invalid argument for max (type string)").
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::Str(_) => "string",
        Value::Time(_) => "time.Time",
        Value::Duration(_) => "time.Duration",
        Value::Location(_) => "*time.Location",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
    }
}

/// The `i`th argument's string, borrowed (most are only read).
fn str_arg<'v, 'a>(name: &str, args: &'v [Value<'a>], i: usize) -> EvalResult<&'v Str<'a>> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s),
        other => Err(bad_arg(name, "string", other.unwrap_or(&Value::Nil))),
    }
}

fn int_arg(name: &str, args: &[Value], i: usize) -> EvalResult<i64> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        other => Err(bad_arg(name, "int", other.unwrap_or(&Value::Nil))),
    }
}

fn list_arg<'a>(name: &str, args: &[Value<'a>], i: usize) -> EvalResult<List<'a>> {
    match arg(args, i) {
        Value::List(l) => Ok(l),
        other => Err(bad_arg(name, "array", &other)),
    }
}

thread_local! {
    /// The buffer `text` gives builtins to build strings in: one a thread, not one a string.
    static BUILDING: Cell<String> = const { Cell::new(String::new()) };
}

/// A buffer given back at most this large: a very long result is not kept.
const BUILDING_KEPT: usize = 4096;

/// A string of `len` bytes written into `out` by `fill`, room checked against the limits and
/// the bytes charged as steps first.
fn build<'a>(
    out: &mut String,
    len: usize,
    budget: &mut Budget,
    fill: impl FnOnce(&mut String),
) -> EvalResult<Text<'a>> {
    budget.reserve(out, len)?;
    step_bytes(budget, len)?;
    fill(out);
    Ok(Text::Built)
}

/// A part of `s` chosen by `pick` (which returns a sub-slice of its argument): borrowed when `s`
/// is borrowed, the same `Rc` when the part is the whole string, else a charged copy.
fn sub_str<'a>(
    s: &Str<'a>,
    budget: &mut Budget,
    pick: impl FnOnce(&str) -> &str,
) -> EvalResult<Value<'a>> {
    Ok(match s {
        Str::Borrowed(b) => Value::Str(Str::Borrowed(pick(b))),
        Str::Owned(rc) => {
            let part = pick(rc);
            if part.len() == rc.len() {
                Value::Str(Str::Owned(rc.clone()))
            } else {
                Value::string(part, budget)?
            }
        }
    })
}

/// Test helpers: call a builtin with JSON-literal arguments and print its result as JSON.
#[cfg(test)]
mod test_util {
    use super::*;
    use crate::limits::Limits;
    use crate::runtime::format::write_json;

    /// A value that lives for the test (the JSON is leaked).
    pub fn lit(j: serde_json::Value) -> Value<'static> {
        let doc = crate::record::Doc::from_json(&j).into_static();
        Value::from_doc(Box::leak(Box::new(doc)))
    }

    pub fn call_with(
        name: &str,
        args: &[Value<'static>],
        budget: &mut Budget,
    ) -> EvalResult<Value<'static>> {
        let native = lookup(name).unwrap_or_else(|| panic!("no builtin {name}"));
        native.call.value(args, budget)
    }

    pub fn call(name: &str, args: serde_json::Value) -> EvalResult<Value<'static>> {
        let args: Vec<_> = match lit(args) {
            Value::List(l) => l.iter().collect(),
            _ => panic!("arguments must be a JSON array"),
        };
        call_with(name, &args, &mut Budget::new(&Limits::DEFAULT))
    }

    pub fn json(v: &Value) -> String {
        let mut out = String::new();
        write_json(v, &mut out, &mut Budget::new(&Limits::DEFAULT)).unwrap();
        out
    }

    /// Asserts `name(args…)` prints as `want` (JSON).
    #[track_caller]
    pub fn ok(name: &str, args: serde_json::Value, want: &str) {
        match call(name, args.clone()) {
            Ok(v) => assert_eq!(json(&v), want, "{name}({args})"),
            Err(e) => panic!("{name}({args}) failed: {}", e.message),
        }
    }

    /// Asserts `name(args…)` fails with a message containing `want`; returns the error code.
    #[track_caller]
    pub fn err(name: &str, args: serde_json::Value, want: &str) -> &'static str {
        match call(name, args.clone()) {
            Ok(v) => panic!("{name}({args}) gave {}", json(&v)),
            Err(e) => {
                assert!(
                    e.message.contains(want),
                    "{name}({args}): {:?} lacks {want:?}",
                    e.message
                );
                e.code
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_complete() {
        assert!(NATIVES.windows(2).all(|w| w[0].name < w[1].name));
        for n in all() {
            assert!(std::ptr::eq(lookup(n.name).unwrap(), n));
            assert!(n.max_args.is_none_or(|m| m >= n.min_args));
        }
        assert!(lookup("filter").is_none());
        assert!(lookup("attr").is_none());
        assert!(lookup("now").is_none());
        assert_eq!(
            lookup("replace").map(|n| (n.min_args, n.max_args)),
            Some((3, Some(4)))
        );
        assert_eq!(
            lookup("max").map(|n| (n.min_args, n.max_args)),
            Some((1, None))
        );
    }
}
