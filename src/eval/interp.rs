//! The tree-walking evaluator: one record, one section, no mapping text in sight.

use super::compile::{Code, Program, Written};
use super::coverage::{self, Branch};
use crate::diagnostic::Span;
use crate::ir::{Node, Op, Predicate, Section};
use crate::record::{Doc, Obj, Positions};
use crate::runtime::budget::{compare_cost, Budget};
use crate::runtime::builtins::{self, Call};
use crate::runtime::error::{excerpt, EvalError, EvalResult};
use crate::runtime::format::{self, go_string};
use crate::runtime::time::Layout;
use crate::runtime::time::{self, Time, Zone};
use crate::runtime::value::{List, Str, Value};
use crate::syntax::ast::{BinaryOp, UnaryOp};
use indexmap::IndexMap;
use std::cell::Cell;
use std::cmp::Ordering;
use std::mem::ManuallyDrop;

/// What evaluating a child means: an IR node walked here, or compiled code (`super::compile`).
/// The operations below are written once, generic over it, for both.
pub(super) trait Eval<'a>: Copy {
    fn run(self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>>;
}

impl<'a> Eval<'a> for &'a Node {
    #[inline]
    fn run(self, cx: &mut Ctx<'a>) -> EvalResult<Value<'a>> {
        cx.eval(self)
    }
}

/// A predicate builtin's call, apart from its operands.
#[derive(Clone, Copy)]
pub(super) struct PredicateCall {
    pub func: Predicate,
    /// As written, for messages: `filter` for a fused `find`.
    pub written: Predicate,
    /// Slots of `#`, `#index`, `#acc`.
    pub slot: usize,
    pub span: Span,
}

/// The state of one record's evaluation.
pub struct Ctx<'a> {
    whole: &'a Doc<'a>,
    record: &'a Obj<'a>,
    /// Where `Section::fields` are in the record: from the reader (`found_at`), else learnt as
    /// each is first read.
    positions: Positions,
    /// How far the last field searched for by name was from its hint: the fields before it
    /// that this record lacks or adds, which move the fields after it as far.
    drift: isize,
    section: &'a Section,
    /// The section compiled (`super::compile`); `None` while coverage is recorded, which the
    /// tree walker does.
    program: Option<&'a Program>,
    /// Made when first needed: most single expressions never need one, and a frame not made
    /// costs one word to set up and one test to drop (in `Ctx`'s `drop`, not a call to drop
    /// glue).
    frame: ManuallyDrop<Option<Frame<'a>>>,
    /// The buffer `Op::Concat` builds strings in, kept for the record: the thread's
    /// (`SCRATCH`), taken when first needed.
    scratch: String,
    pub budget: Budget<'a>,
    /// `now()`: fixed by the options, or the system clock once read for this record.
    now: Option<Time>,
    /// Whether branches are recorded (`scimap test --coverage`); shared values are then
    /// evaluated at each occurrence, so that each one's branches count.
    covering: bool,
}

/// What a record's evaluation keeps besides the record: the section's slots.
struct Frame<'a> {
    /// The section's locals, then its `Op::Shared` values (`None`: not computed yet): one
    /// block for both.
    slots: Vec<Option<Value<'a>>>,
    /// Arguments of builtin calls in progress: one buffer for the record instead of a `Vec`
    /// per call.
    stack: Vec<Value<'a>>,
    lets: Vec<Option<EvalResult<Value<'a>>>>,
    /// Where the shared values start in `slots`.
    shared: usize,
}

impl<'a> Frame<'a> {
    #[cold]
    fn new(section: &Section) -> Frame<'a> {
        Frame {
            slots: vec![None; section.locals + section.shared],
            stack: Vec::new(),
            lets: vec![None; section.lets.len()],
            shared: section.locals,
        }
    }
}

thread_local! {
    /// `Ctx::scratch` between records: one buffer a thread rather than one a record.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// A scratch buffer given back at most this large: a record's very long string is not kept.
const SCRATCH_KEPT: usize = 4096;

fn nil_error(what: &str, action: String) -> EvalError {
    EvalError::new(
        "scimap::nil-access",
        format!("cannot {action} of nil: `{what}` is nil for this record"),
    )
}

fn mismatch(op: &str, a: &Value<'_>, b: &Value<'_>) -> EvalError {
    EvalError::type_error(format!(
        "invalid operation: {op} (mismatched types {} and {})",
        a.type_name(),
        b.type_name()
    ))
}

impl Drop for Ctx<'_> {
    fn drop(&mut self) {
        if self.frame.is_some() {
            drop(std::mem::take(&mut *self.frame));
        }
        let kept = self.scratch.capacity();
        if kept != 0 && kept <= SCRATCH_KEPT {
            SCRATCH.set(std::mem::take(&mut self.scratch));
        }
    }
}

impl<'a> Ctx<'a> {
    /// `record` is the object `whole` holds.
    #[inline]
    pub fn new(
        whole: &'a Doc<'a>,
        record: &'a Obj<'a>,
        section: &'a Section,
        program: Option<&'a Program>,
        budget: Budget<'a>,
        now: Option<Time>,
    ) -> Self {
        let covering = coverage::recording();
        Ctx {
            whole,
            record,
            positions: Positions::unknown(),
            drift: 0,
            section,
            program: program.filter(|_| !covering),
            frame: ManuallyDrop::new(None),
            scratch: String::new(),
            budget,
            now,
            covering,
        }
    }

    /// The frame, made when first asked for.
    #[inline]
    fn frame(&mut self) -> &mut Frame<'a> {
        let section = self.section;
        self.frame.get_or_insert_with(|| Frame::new(section))
    }

    /// The scratch buffer, empty; given back by assigning `self.scratch`.
    fn take_scratch(&mut self) -> String {
        let mut buf = std::mem::take(&mut self.scratch);
        if buf.capacity() == 0 {
            buf = SCRATCH.take();
        }
        buf.clear();
        buf
    }

    /// Records the side a branch point took, when coverage is on.
    #[inline]
    fn branch(&self, span: Span, branch: Branch, side: bool) {
        if self.covering {
            coverage::hit(span, branch, side);
        }
    }

    /// The record was read for the section's fields (`Mapping`'s list starts with them), and
    /// the reader says where they are.
    pub fn found_at(&mut self, positions: Option<Positions>) {
        if let Some(positions) = positions {
            self.positions = positions;
        }
    }

    /// Entry `i` of the section, whose expression is `node`: compiled, or walked.
    pub fn entry(&mut self, i: usize, node: &'a Node) -> EvalResult<Value<'a>> {
        match self.program.and_then(|p| p.entry(i)) {
            Some(code) => code.eval(self),
            None => self.eval(node),
        }
    }

    /// Entry `i` as JSON text appended to `out` ([`Expression::write_json`]): a sum of strings
    /// is escaped into `out` as it is summed, never made a value.
    ///
    /// [`Expression::write_json`]: crate::Expression::write_json
    pub fn entry_json(&mut self, i: usize, node: &'a Node, out: &mut Vec<u8>) -> EvalResult<()> {
        match self.program.and_then(|p| p.entry(i)) {
            Some(code) => code.write_json(self, out),
            None => {
                let v = self.eval(node)?;
                format::write_json_bytes(&v, out, &mut self.budget)
            }
        }
    }

    /// Entry `i`, when it is a string, appended to `out` as JSON ([`Code::write_str`]); any
    /// other value handed back.
    pub fn entry_str(
        &mut self,
        i: usize,
        node: &'a Node,
        out: &mut Vec<u8>,
    ) -> EvalResult<Written<'a>> {
        match self.program.and_then(|p| p.entry(i)) {
            Some(code) => code.write_str(self, out),
            None => self.eval(node).map(Written::Value),
        }
    }

    /// When entry `i` is a record field and nothing else, compiled: the field (`None` inside:
    /// the record has none), its step charged.
    #[inline]
    pub fn entry_field(&mut self, i: usize) -> Option<EvalResult<Option<&'a Doc<'a>>>> {
        let field = self.program?.field(i)?;
        Some(self.budget.step(1).map(|()| self.field(field)))
    }

    /// Record field `i` of the section's fields, nil when the record has none.
    #[inline]
    pub(super) fn field_value(&mut self, i: usize) -> Value<'a> {
        self.field(i).map_or(Value::Nil, Value::from_doc)
    }

    #[inline]
    pub(super) fn local(&self, i: usize) -> Value<'a> {
        let slot = self
            .frame
            .as_ref()
            .and_then(|f| f.slots.get(..f.shared)?.get(i));
        slot.cloned().flatten().unwrap_or(Value::Nil)
    }

    /// Shared value `index`, when already computed for this record.
    #[inline]
    pub(super) fn shared_value(&self, index: usize) -> Option<Value<'a>> {
        let slot = self
            .frame
            .as_ref()
            .and_then(|f| f.slots.get(f.shared + index));
        slot.cloned().flatten()
    }

    pub(super) fn keep_shared(&mut self, index: usize, v: &Value<'a>) {
        let frame = self.frame();
        if let Some(slot) = frame.slots.get_mut(frame.shared + index) {
            *slot = Some(v.clone());
        }
    }

    /// One node: the leaves most nodes are, and shared values, are answered here, in a small
    /// frame; everything else goes to `eval_op`.
    #[inline]
    pub fn eval(&mut self, n: &'a Node) -> EvalResult<Value<'a>> {
        self.budget.step(1).map_err(|e| e.at(n.span))?;
        match &n.op {
            Op::Str(s) => Ok(Value::Str(Str::Borrowed(s))),
            Op::Field(i) => Ok(self.field_value(*i)),
            Op::Local(i) => Ok(self.local(*i)),
            Op::Shared { index, node } => self.shared(*index, node, n.span),
            _ => self.eval_op(n).map_err(|e| e.at(n.span)),
        }
    }

    /// An `Op::Shared` value: computed the first time, then the kept value (out of line, so
    /// that `eval` stays small).
    #[inline(never)]
    fn shared(&mut self, index: usize, node: &'a Node, span: Span) -> EvalResult<Value<'a>> {
        if let Some(v) = self.shared_value(index).filter(|_| !self.covering) {
            return Ok(v);
        }
        let v = self.eval_op(node).map_err(|e| e.at(span))?;
        self.keep_shared(index, &v);
        Ok(v)
    }

    #[inline(never)]
    fn eval_op(&mut self, n: &'a Node) -> EvalResult<Value<'a>> {
        Ok(match &n.op {
            Op::Nil => Value::Nil,
            Op::Bool(b) => Value::Bool(*b),
            Op::Int(i) => Value::Int(*i),
            Op::Float(f) => Value::Float(*f),
            Op::Str(s) => Value::Str(Str::Borrowed(s)),
            Op::Field(i) => self.field_value(*i),
            Op::Env => self.env(),
            Op::Local(i) => self.local(*i),
            Op::SectionLet(i) => self.section_let(*i)?,
            Op::Array(items) => self.array(items)?,
            Op::Map(entries) => self.map(entries.iter().map(|(k, v)| (k, k.span, v)))?,
            Op::Unary(op, operand) => {
                let v = self.eval(operand)?;
                unary(*op, v)?
            }
            Op::Binary(op, l, r) => self.binary(*op, &**l, &**r, n.span)?,
            Op::MatchesConst {
                subject,
                regex,
                negate,
            } => {
                let v = self.eval(subject)?;
                self.matches_const(v, regex, *negate)?
            }
            Op::EqStr {
                subject,
                constant,
                negate,
            } => {
                let v = self.eval(subject)?;
                self.eq_str(v, constant, *negate)?
            }
            Op::IsNil { subject, negate } => {
                let v = self.eval(subject)?;
                self.budget.step(2)?;
                Value::Bool(v.is_nil() != *negate)
            }
            Op::Member { .. } | Op::Slice { .. } | Op::Method { .. } | Op::FormatLayout { .. } => {
                self.chain(n)?.unwrap_or(Value::Nil)
            }
            Op::Native { call, args, .. } => self.native(*call, args)?,
            Op::DateLayout { args, layout } => self.date_layout(args, layout)?,
            Op::Predicate {
                func,
                list,
                body,
                extra,
                slot,
                map,
                written,
            } => self.predicate(
                PredicateCall {
                    func: *func,
                    written: *written,
                    slot: *slot,
                    span: n.span,
                },
                &**list,
                list.span,
                extra,
                body.as_deref(),
                map.as_ref().map(|(m, slot)| (&**m, *slot)),
            )?,
            Op::Now => self.now(),
            Op::Attr { name, group } => {
                let name = self.eval(name)?;
                self.attr(&name, *group)?
            }
            Op::NameOf { arg, weekday } => {
                let v = self.eval(arg)?;
                self.name_of(v, *weekday)?
            }
            Op::Conditional {
                cond,
                then,
                otherwise,
            } => self.conditional(&**cond, cond.span, &**then, &**otherwise, n.span)?,
            Op::Let { slot, value, body } => self.let_in(*slot, &**value, &**body)?,
            Op::Sequence(items) => {
                let mut last = Value::Nil;
                for item in items {
                    last = self.eval(item)?;
                }
                last
            }
            Op::Concat { parts, joins } => self.concat(parts, joins)?,
            Op::Shared { node, .. } => self.eval_op(node)?,
        })
    }

    /// `$env`: the whole record.
    pub(super) fn env(&self) -> Value<'a> {
        Value::from_doc(self.whole)
    }

    /// `now()`: the options' clock, or the system clock read once for the record.
    pub(super) fn now(&mut self) -> Value<'a> {
        Value::Time(*self.now.get_or_insert_with(|| Time {
            instant: chrono::Utc::now(),
            zone: Zone::Utc,
        }))
    }

    /// `[a, b, …]`.
    pub(super) fn array<E: Eval<'a>>(
        &mut self,
        items: impl IntoIterator<Item = E, IntoIter: ExactSizeIterator>,
    ) -> EvalResult<Value<'a>> {
        let items = items.into_iter();
        self.budget.fits_list(items.len())?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(item.run(self)?);
        }
        Value::list(out, &mut self.budget)
    }

    /// `{k: v, …}`: each key with its span, for the error of a key that is not a string.
    pub(super) fn map<E: Eval<'a>>(
        &mut self,
        entries: impl IntoIterator<Item = (E, Span, E), IntoIter: ExactSizeIterator>,
    ) -> EvalResult<Value<'a>> {
        let entries = entries.into_iter();
        let mut out = IndexMap::with_capacity(entries.len());
        for (k, k_span, v) in entries {
            let key = match k.run(self)? {
                Value::Str(s) => s.to_string(),
                other => {
                    return Err(EvalError::type_error(format!(
                        "a map key must be a string, got {}",
                        other.type_name()
                    ))
                    .at(k_span))
                }
            };
            let value = v.run(self)?;
            // Expr keeps the first of two equal keys (its VM fills the map backwards).
            out.entry(key).or_insert(value);
        }
        Value::map(out, &mut self.budget)
    }

    /// `string(t.Month())` / `string(t.Weekday())`: Go prints the English name.
    pub(super) fn name_of(&mut self, v: Value<'a>, weekday: bool) -> EvalResult<Value<'a>> {
        match v {
            Value::Int(i) => {
                let name = if weekday {
                    time::weekday_name(i)
                } else {
                    time::month_name(i)
                };
                match name {
                    Some(s) => Ok(Value::Str(Str::Borrowed(s))),
                    None => Value::string(
                        format!("%!{}({i})", if weekday { "Weekday" } else { "Month" }),
                        &mut self.budget,
                    ),
                }
            }
            other => Value::string(go_string(&other, &mut self.budget)?, &mut self.budget),
        }
    }

    /// `t.Format(layout)` with a layout compiled once.
    pub(super) fn format_layout(
        &mut self,
        obj: Value<'a>,
        layout: &Layout,
    ) -> EvalResult<Value<'a>> {
        self.formatted(obj, layout, |s| Value::Str(Str::Owned(s.into())))
    }

    /// `obj.Format(layout)` given to `with`, charged as the string value it is.
    pub(super) fn formatted<R>(
        &mut self,
        obj: Value<'a>,
        layout: &Layout,
        with: impl FnOnce(&str) -> R,
    ) -> EvalResult<R> {
        match obj {
            Value::Time(t) => {
                let mut buf = self.take_scratch();
                time::format_into(&t, layout, &mut buf);
                let formatted = self.budget.string(buf.len()).map(|()| with(&buf));
                self.scratch = buf;
                formatted
            }
            Value::Nil => Err(nil_error("receiver", "call `Format`".into())),
            other => Err(EvalError::type_error(format!(
                "type {} has no method Format",
                other.type_name()
            ))),
        }
    }

    /// `date(arg).Format(layout)` (`date` is `call`) given to `with`, errors at `date_span` and
    /// `span` as the chain places them. An RFC 3339 timestamp in UTC is read and formatted
    /// without a time value between (`time::format_rfc3339_utc`), charged as `date` and
    /// `Format` charge it.
    pub(super) fn date_format<R>(
        &mut self,
        call: Call,
        arg: Value<'a>,
        layout: &Layout,
        (date_span, span): (Span, Span),
        with: impl FnOnce(&str) -> R,
    ) -> EvalResult<R> {
        let mut buf = self.take_scratch();
        let read = match &arg {
            Value::Str(s) => time::format_rfc3339_utc(s, layout, &mut buf).then_some(&**s),
            _ => None,
        };
        if let Some(s) = read {
            let charged = builtins::time::charge_date(s, &mut self.budget)
                .map_err(|e| e.at(date_span))
                .and_then(|()| self.budget.string(buf.len()).map_err(|e| e.at(span)));
            let formatted = charged.map(|()| with(&buf));
            self.scratch = buf;
            return formatted;
        }
        self.scratch = buf;
        let time = call
            .value(std::slice::from_ref(&arg), &mut self.budget)
            .map_err(|e| e.at(date_span))?;
        self.formatted(time, layout, with).map_err(|e| e.at(span))
    }

    /// `x == "constant"` (`negate`: `!=`) of a value already evaluated.
    pub(super) fn eq_str(
        &mut self,
        v: Value<'a>,
        constant: &str,
        negate: bool,
    ) -> EvalResult<Value<'a>> {
        self.eq_text(v.as_str(), constant, negate)
    }

    /// `eq_str` of a string, or of something else (`None`).
    #[inline]
    pub(super) fn eq_text(
        &mut self,
        s: Option<&str>,
        constant: &str,
        negate: bool,
    ) -> EvalResult<Value<'a>> {
        // The steps of the constant's node and of comparing, as `Op::Binary` charges.
        let same = match s {
            Some(s) => {
                self.budget.step(1 + compare_cost(s, constant))?;
                crate::record::same_key(s.as_bytes(), constant.as_bytes())
            }
            None => {
                self.budget.step(2)?;
                false
            }
        };
        Ok(Value::Bool(same != negate))
    }

    /// `x matches "constant"` (`negate`: `not matches`) of a value already evaluated.
    pub(super) fn matches_const(
        &mut self,
        v: Value<'a>,
        regex: &crate::runtime::pattern::Pattern,
        negate: bool,
    ) -> EvalResult<Value<'a>> {
        match v {
            Value::Str(s) => Ok(Value::Bool(regex.is_match(&s, &mut self.budget)? != negate)),
            Value::Nil => Ok(Value::Bool(negate)),
            other => Err(EvalError::type_error(format!(
                "operator `matches` needs a string, got {}",
                other.type_name()
            ))),
        }
    }

    /// A builtin call: its arguments on the argument stack for the call.
    pub(super) fn native<E: Eval<'a>>(
        &mut self,
        call: Call,
        args: impl IntoIterator<Item = E>,
    ) -> EvalResult<Value<'a>> {
        self.with_args(args, |args, budget| call.value(args, budget))
    }

    /// `f` of the arguments' values.
    pub(super) fn with_args<E: Eval<'a>, R>(
        &mut self,
        args: impl IntoIterator<Item = E>,
        f: impl FnOnce(&[Value<'a>], &mut Budget<'a>) -> EvalResult<R>,
    ) -> EvalResult<R> {
        let mut args = args.into_iter();
        // Up to three arguments (most calls) are passed from the Rust stack: no argument stack,
        // which a record would allocate for its first such call.
        match args.size_hint() {
            (1, Some(1)) => {
                if let Some(a) = args.next() {
                    let a = a.run(self)?;
                    return f(std::slice::from_ref(&a), &mut self.budget);
                }
            }
            (2, Some(2)) => {
                if let (Some(a), Some(b)) = (args.next(), args.next()) {
                    let a = a.run(self)?;
                    let b = b.run(self)?;
                    return f(&[a, b], &mut self.budget);
                }
            }
            (3, Some(3)) => {
                if let (Some(a), Some(b), Some(c)) = (args.next(), args.next(), args.next()) {
                    let a = a.run(self)?;
                    let b = b.run(self)?;
                    let c = c.run(self)?;
                    return f(&[a, b, c], &mut self.budget);
                }
            }
            _ => {}
        }
        let base = self.frame().stack.len();
        let result = self.push_args(args).and_then(|()| {
            let stack = self.frame.as_ref().map_or(&[][..], |f| &f.stack[..]);
            f(stack.get(base..).unwrap_or_default(), &mut self.budget)
        });
        self.frame().stack.truncate(base);
        result
    }

    /// `date(s, layout[, zone])` with a layout compiled once.
    pub(super) fn date_layout<E: Eval<'a>>(
        &mut self,
        args: impl IntoIterator<Item = E>,
        layout: &Layout,
    ) -> EvalResult<Value<'a>> {
        let values = self.args(args)?;
        let s = match values.first() {
            Some(Value::Str(s)) => s,
            Some(other) => {
                return Err(EvalError::type_error(format!(
                    "invalid argument for date: expected string, got {}",
                    other.type_name()
                )))
            }
            None => return Err(EvalError::invalid("date needs a string")),
        };
        let zone = match values.get(2) {
            None => Zone::Utc,
            Some(Value::Location(z)) => *z,
            Some(Value::Str(name)) => {
                match crate::runtime::builtins::time::timezone(
                    &[Value::Str(name.clone())],
                    &mut self.budget,
                )? {
                    Value::Location(z) => z,
                    _ => Zone::Utc,
                }
            }
            Some(other) => {
                return Err(EvalError::type_error(format!(
                    "invalid time zone for date: {}",
                    other.type_name()
                )))
            }
        };
        self.budget.step(1 + s.len() as u64 / 16)?;
        Ok(Value::Time(
            time::parse_with(s, layout, zone).map_err(EvalError::invalid)?,
        ))
    }

    /// `cond ? then : otherwise`.
    pub(super) fn conditional<E: Eval<'a>, B: Eval<'a>>(
        &mut self,
        cond: E,
        cond_span: Span,
        then: B,
        otherwise: B,
        span: Span,
    ) -> EvalResult<Value<'a>> {
        if self.condition(cond, cond_span, span)? {
            then.run(self)
        } else {
            otherwise.run(self)
        }
    }

    /// The condition of `c ? a : b` (at `span`): whether `a` is taken.
    pub(super) fn condition<E: Eval<'a>>(
        &mut self,
        cond: E,
        cond_span: Span,
        span: Span,
    ) -> EvalResult<bool> {
        match cond.run(self)? {
            Value::Bool(taken) => {
                self.branch(span, Branch::Conditional, !taken);
                Ok(taken)
            }
            other => Err(EvalError::type_error(format!(
                "non-bool expression (type {}) used as condition",
                other.type_name()
            ))
            .at(cond_span)),
        }
    }

    /// `let x = value; body`, `x` in local `slot`.
    pub(super) fn let_in<E: Eval<'a>>(
        &mut self,
        slot: usize,
        value: E,
        body: E,
    ) -> EvalResult<Value<'a>> {
        let v = value.run(self)?;
        self.set(slot, v);
        body.run(self)
    }

    /// `parts[0] + parts[1] + …`: strings are appended to one buffer, and the string is made
    /// once; from the first operand that is not a string on, the sum goes on as `arith` adds.
    pub(super) fn concat<E: Eval<'a>>(
        &mut self,
        parts: impl IntoIterator<Item = E>,
        joins: &[Span],
    ) -> EvalResult<Value<'a>> {
        let mut buf = self.take_scratch();
        // Room for a name or two at once, rather than regrowing from 8 bytes.
        buf.reserve(64);
        let result = self
            .concat_into(&mut buf, parts, joins)
            .and_then(|sum| match sum {
                Some(v) => Ok(v),
                None => Value::string(buf.as_str(), &mut self.budget),
            });
        self.scratch = buf;
        result
    }

    /// [`concat`](Self::concat) as JSON text appended to `out`: a sum of strings is escaped
    /// into `out` part by part, charged as the string value it would have been and then
    /// printed. At the first part that is not a string, the sum is made as `concat` makes it
    /// instead, from the budget as it was: the same value, error and steps either way. (Not
    /// when the section caches values, whose second evaluation would not be charged again.)
    pub(super) fn concat_json<E: Eval<'a>>(
        &mut self,
        parts: impl IntoIterator<Item = E> + Clone,
        joins: &[Span],
        out: &mut Vec<u8>,
    ) -> EvalResult<()> {
        let cached = self.section.shared != 0 || !self.section.lets.is_empty();
        if !cached {
            let start = out.len();
            let mark = self.budget.mark();
            let string = |cx: &mut Self, part: E| match part.run(cx)? {
                Value::Str(s) => Ok(Some(s)),
                _ => Ok(None),
            };
            if let Some(len) = self.concat_escaped(parts.clone(), joins, out, string)? {
                return format::charge_string(len, &mut self.budget);
            }
            out.truncate(start);
            self.budget.rewind(mark);
        }
        let sum = self.concat(parts, joins)?;
        format::write_json_bytes(&sum, out, &mut self.budget)
    }

    /// The sum of `parts` escaped into `out` as one JSON string, charged as `concat` charges
    /// it, and its length; `None` at the first part that `string` says is not a string.
    pub(super) fn concat_escaped<P>(
        &mut self,
        parts: impl IntoIterator<Item = P>,
        joins: &[Span],
        out: &mut Vec<u8>,
        mut string: impl FnMut(&mut Self, P) -> EvalResult<Option<Str<'a>>>,
    ) -> EvalResult<Option<usize>> {
        let mut parts = parts.into_iter();
        let first = parts
            .next()
            .ok_or_else(|| EvalError::invalid("empty sum"))?;
        self.budget.step(joins.len() as u64)?;
        out.push(b'"');
        let Some(s) = string(self, first)? else {
            return Ok(None);
        };
        crate::json::escape_into(&s, out);
        let mut len = s.len();
        for (part, &join) in parts.zip(joins) {
            let Some(s) = string(self, part)? else {
                return Ok(None);
            };
            len += s.len();
            self.budget.fits_string(len).map_err(|e| e.at(join))?;
            crate::json::escape_into(&s, out);
        }
        out.push(b'"');
        self.budget.alloc(len)?;
        Ok(Some(len))
    }

    /// The sum into `buf`: `None` when every part was a string (the sum is `buf`), else the
    /// sum's value.
    fn concat_into<E: Eval<'a>>(
        &mut self,
        buf: &mut String,
        parts: impl IntoIterator<Item = E>,
        joins: &[Span],
    ) -> EvalResult<Option<Value<'a>>> {
        let mut parts = parts.into_iter();
        let first = parts
            .next()
            .ok_or_else(|| EvalError::invalid("empty sum"))?;
        // Each `+` of the source is a node the budget counts.
        self.budget.step(joins.len() as u64)?;
        let mut sum = match first.run(self)? {
            Value::Str(s) => {
                buf.push_str(&s);
                None
            }
            other => Some(other),
        };
        for (part, &join) in parts.zip(joins) {
            let v = part.run(self)?;
            sum = match (sum, v) {
                (None, Value::Str(s)) => {
                    self.budget
                        .fits_string(buf.len() + s.len())
                        .map_err(|e| e.at(join))?;
                    buf.push_str(&s);
                    None
                }
                (None, v) => {
                    let so_far = Value::string(buf.as_str(), &mut self.budget)?;
                    Some(
                        arith(BinaryOp::Add, so_far, v, &mut self.budget)
                            .map_err(|e| e.at(join))?,
                    )
                }
                (Some(a), v) => {
                    Some(arith(BinaryOp::Add, a, v, &mut self.budget).map_err(|e| e.at(join))?)
                }
            };
        }
        Ok(sum)
    }

    /// An item a filter keeps, through the `map` body fused into it, if any.
    fn mapped<E: Eval<'a>>(
        &mut self,
        map: Option<(E, usize)>,
        item: Value<'a>,
    ) -> EvalResult<Value<'a>> {
        let Some((body, slot)) = map else {
            return Ok(item);
        };
        self.set(slot, item);
        body.run(self)
    }

    /// Evaluates arguments onto the argument stack.
    fn push_args<E: Eval<'a>>(&mut self, args: impl IntoIterator<Item = E>) -> EvalResult<()> {
        for a in args {
            let v = a.run(self)?;
            self.frame().stack.push(v);
        }
        Ok(())
    }

    fn args<E: Eval<'a>>(
        &mut self,
        args: impl IntoIterator<Item = E>,
    ) -> EvalResult<Vec<Value<'a>>> {
        let args = args.into_iter();
        let mut out = Vec::with_capacity(args.size_hint().0);
        for a in args {
            out.push(a.run(self)?);
        }
        Ok(out)
    }

    /// A section `let`: evaluated when first needed, then remembered (its error too).
    pub fn section_let(&mut self, i: usize) -> EvalResult<Value<'a>> {
        let done = self.frame.as_ref().and_then(|f| f.lets.get(i));
        if let Some(done) = done.and_then(Clone::clone) {
            return done;
        }
        let section = self.section;
        let Some(l) = section.lets.get(i) else {
            return Ok(Value::Nil);
        };
        // Every entry that uses a failed `let` fails with its error, naming the `let`.
        let result = match self.program.and_then(|p| p.section_let(i)) {
            Some(code) => code.eval(self),
            None => self.eval(&l.value),
        }
        .map_err(|e| e.reword(|m| format!("in `let {}`: {m}", l.name)));
        if let Some(slot) = self.frame().lets.get_mut(i) {
            *slot = Some(result.clone());
        }
        result
    }

    /// Record field `i` of the section's fields, if the record has it: where it is known to be,
    /// or else by name, and then known.
    #[inline]
    pub(super) fn field(&mut self, i: usize) -> Option<&'a Doc<'a>> {
        match self.positions.entry(i) {
            Some(at) => at.and_then(|e| self.record.entry(e)).map(|(_, v)| v),
            None => self.find_field(i),
        }
    }

    /// Field `i` by name, then known: first where the last record searched had it
    /// (`FieldHints`).
    #[inline(never)]
    fn find_field(&mut self, i: usize) -> Option<&'a Doc<'a>> {
        let record = self.record;
        let name = self.section.fields.get(i)?;
        let hints = &self.section.hints;
        let hint = hints.get(i);
        let guess = hint.wrapping_add_signed(self.drift);
        let found = match record.get_at(guess, name) {
            Some(found) => Some((guess, found)),
            None => record
                .find_hashed(name, || hints.hash(i))
                .inspect(|(at, _)| {
                    hints.set(i, *at);
                    self.drift = at.wrapping_sub(hint) as isize;
                }),
        };
        self.positions.learn(i, found.map(|(at, _)| at));
        found.map(|(_, v)| v)
    }

    /// `attr(name)`: a custom attribute of the user or group.
    pub(super) fn attr(&self, name: &Value<'_>, group: bool) -> EvalResult<Value<'a>> {
        let Some(name) = name.as_str() else {
            return Err(EvalError::type_error(format!(
                "invalid argument for attr: expected string, got {}",
                name.type_name()
            )));
        };
        Ok(self.attr_named(name, group))
    }

    fn attr_named(&self, name: &str, group: bool) -> Value<'a> {
        let Some(attrs) = self.record.get("attributes") else {
            return Value::Nil;
        };
        let found = match attrs {
            Doc::Object(m) if group => m.get(name),
            Doc::Array(items) if !group => items
                .iter()
                .filter_map(|item| match item {
                    Doc::Object(m) => Some(m),
                    _ => None,
                })
                .find(|m| matches!(m.get("name"), Some(Doc::Str(n)) if n == name))
                .and_then(|m| m.get("value")),
            _ => None,
        };
        found.map_or(Value::Nil, Value::from_doc)
    }

    /// Member access, slices and method calls; `None` when a `?.` met nil, which ends the
    /// whole chain (`a?.b.c` is nil when `a` is).
    fn chain(&mut self, n: &'a Node) -> EvalResult<Option<Value<'a>>> {
        let (object, optional) = match &n.op {
            Op::Member {
                object, optional, ..
            } => (object, *optional),
            Op::Method {
                receiver, optional, ..
            }
            | Op::FormatLayout {
                receiver, optional, ..
            } => (receiver, *optional),
            Op::Slice { object, .. } => (object, false),
            _ => return self.eval(n).map(Some),
        };
        self.budget.step(1)?;
        let Some(obj) = self.chain(object).map_err(|e| e.at(object.span))? else {
            return Ok(None);
        };
        if optional && obj.is_nil() {
            return Ok(None);
        }
        let result = match &n.op {
            Op::Member {
                index, object_text, ..
            } => self.member_of(obj, &**index, object_text),
            Op::Slice { from, to, .. } => self.slice_of(obj, from.as_deref(), to.as_deref()),
            Op::FormatLayout { layout, .. } => self.format_layout(obj, layout),
            Op::Method {
                name,
                args,
                receiver_text,
                ..
            } => self.method_of(obj, name, args, receiver_text, n.span),
            _ => unreachable!("chain() only handles chain nodes"),
        };
        result.map(Some).map_err(|e| e.at(n.span))
    }

    /// `obj[index]`, `obj.name`.
    pub(super) fn member_of<E: Eval<'a>>(
        &mut self,
        obj: Value<'a>,
        index: E,
        object_text: &str,
    ) -> EvalResult<Value<'a>> {
        let idx = index.run(self)?;
        member(obj, idx, object_text)
    }

    /// `obj[from:to]`.
    pub(super) fn slice_of<E: Eval<'a>>(
        &mut self,
        obj: Value<'a>,
        from: Option<E>,
        to: Option<E>,
    ) -> EvalResult<Value<'a>> {
        let from = match from {
            Some(f) => Some(f.run(self)?),
            None => None,
        };
        let to = match to {
            Some(t) => Some(t.run(self)?),
            None => None,
        };
        slice(obj, from, to, &mut self.budget)
    }

    /// `obj.name(args)`: the methods of times and durations.
    pub(super) fn method_of<E: Eval<'a>>(
        &mut self,
        obj: Value<'a>,
        name: &str,
        args: impl IntoIterator<Item = E>,
        receiver_text: &str,
        span: Span,
    ) -> EvalResult<Value<'a>> {
        let args = self.args(args)?;
        if obj.is_nil() {
            return Err(nil_error(receiver_text, format!("call `{name}`")).at(span));
        }
        match crate::runtime::builtins::time::call_method(&obj, name, &args, &mut self.budget) {
            Some(r) => r,
            None => Err(EvalError::type_error(format!(
                "type {} has no method {name}",
                obj.type_name()
            ))),
        }
    }

    pub(super) fn binary<E: Eval<'a>>(
        &mut self,
        op: BinaryOp,
        l: E,
        r: E,
        span: Span,
    ) -> EvalResult<Value<'a>> {
        use BinaryOp::*;
        match op {
            And | Or => {
                let a = l.run(self)?;
                let Value::Bool(a) = a else {
                    return Err(EvalError::type_error(format!(
                        "invalid operation: {} (mismatched types {} and bool)",
                        op.symbol(),
                        a.type_name()
                    )));
                };
                let kind = if op == And { Branch::And } else { Branch::Or };
                let stops = (op == And) != a;
                self.branch(span, kind, !stops);
                if stops {
                    return Ok(Value::Bool(a));
                }
                // Expr's VM leaves the right operand as it is: `true && x` is `x`.
                return r.run(self);
            }
            Coalesce => {
                let a = l.run(self)?;
                self.branch(span, Branch::Coalesce, a.is_nil());
                return if a.is_nil() { r.run(self) } else { Ok(a) };
            }
            _ => {}
        }
        let a = l.run(self)?;
        let b = r.run(self)?;
        Ok(match op {
            Add | Sub | Mul | Div | Mod | Pow => arith(op, a, b, &mut self.budget)?,
            Eq => Value::Bool(a.equals(&b, &mut self.budget)?),
            Ne => Value::Bool(!a.equals(&b, &mut self.budget)?),
            Lt | Le | Gt | Ge => {
                let Some(ord) = compare(&a, &b) else {
                    // Two numbers without an order hold a NaN: every ordering test is false, as in Go.
                    if a.as_f64().is_some() && b.as_f64().is_some() {
                        return Ok(Value::Bool(false));
                    }
                    return Err(mismatch(op.symbol(), &a, &b));
                };
                Value::Bool(match op {
                    Lt => ord == Ordering::Less,
                    Le => ord != Ordering::Greater,
                    Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                })
            }
            In | NotIn => Value::Bool(contains(&b, &a, &mut self.budget)? == (op == In)),
            // Expr: a nil operand of a string operator gives false (true negated), not an error.
            Matches | NotMatches | Contains | NotContains | StartsWith | NotStartsWith
            | EndsWith | NotEndsWith
                if matches!(a, Value::Nil) || matches!(b, Value::Nil) =>
            {
                Value::Bool(matches!(
                    op,
                    NotMatches | NotContains | NotStartsWith | NotEndsWith
                ))
            }
            Matches | NotMatches => {
                let (Value::Str(s), Value::Str(p)) = (&a, &b) else {
                    return Err(mismatch(op.symbol(), &a, &b));
                };
                // Compiling costs about as much as scanning the pattern's compiled form once.
                self.budget.step(1 + p.len() as u64)?;
                let re =
                    crate::runtime::builtins::re2::compile(p, self.budget.limits().regex_bytes)
                        .map_err(|e| match e {
                            regex::Error::CompiledTooBig(_) => {
                                EvalError::limit("regex-bytes", self.budget.limits().regex_bytes)
                            }
                            e => EvalError::invalid(format!("invalid regular expression: {e}")),
                        })?;
                Value::Bool(re.is_match(s, &mut self.budget)? == (op == Matches))
            }
            Contains | NotContains | StartsWith | NotStartsWith | EndsWith | NotEndsWith => {
                let (Value::Str(s), Value::Str(t)) = (&a, &b) else {
                    return Err(mismatch(op.symbol(), &a, &b));
                };
                self.budget.step(1 + (s.len() + t.len()) as u64 / 16)?;
                let yes = match op {
                    Contains | NotContains => s.contains(&**t),
                    StartsWith | NotStartsWith => s.starts_with(&**t),
                    _ => s.ends_with(&**t),
                };
                Value::Bool(yes == matches!(op, Contains | StartsWith | EndsWith))
            }
            Range => {
                let (Value::Int(from), Value::Int(to)) = (&a, &b) else {
                    return Err(mismatch("..", &a, &b));
                };
                if to < from {
                    return Value::list(Vec::new(), &mut self.budget);
                }
                let len = usize::try_from(to.abs_diff(*from))
                    .unwrap_or(usize::MAX)
                    .saturating_add(1);
                let mut items = self.budget.vec(len)?;
                self.budget.step(len as u64)?;
                items.extend((*from..=*to).map(Value::Int));
                Value::list(items, &mut self.budget)?
            }
            And | Or | Coalesce => unreachable!("handled above"),
        })
    }

    /// An `Op::Predicate`, named in messages as written (`filter` for a fused `find`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn predicate<E: Eval<'a>, B: Eval<'a>>(
        &mut self,
        call: PredicateCall,
        list: E,
        list_span: Span,
        extra: impl IntoIterator<Item = E>,
        body: Option<B>,
        map: Option<(B, usize)>,
    ) -> EvalResult<Value<'a>> {
        let PredicateCall {
            func,
            written,
            slot,
            span,
        } = call;
        let name = written.name();
        let items = match list.run(self)? {
            Value::List(items) => items,
            other => {
                return Err(EvalError::type_error(format!(
                    "builtin {name} takes only array, got {}",
                    other.type_name()
                ))
                .at(list_span))
            }
        };
        let extra_values = self.args(extra)?;
        let len = items.len();
        self.branch(span, Branch::Closure, len > 0);
        self.budget.step(len as u64)?;
        // Runs the body for item i; the predicate's own result.
        macro_rules! run {
            ($i:expr, $item:expr) => {{
                self.set(slot, $item);
                self.set(slot + 1, Value::Int($i as i64));
                match body {
                    Some(b) => b.run(self)?,
                    None => self.local(slot),
                }
            }};
        }
        let truth = |v: Value<'_>, name: &str| match v {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError::type_error(format!(
                "the predicate of {name} must return a bool, got {}",
                other.type_name()
            ))),
        };
        Ok(match func {
            Predicate::All | Predicate::Any | Predicate::None | Predicate::One => {
                let mut hits = 0;
                for (i, item) in items.iter().enumerate() {
                    let yes = truth(run!(i, item), name)?;
                    match func {
                        Predicate::All if !yes => return Ok(Value::Bool(false)),
                        Predicate::Any if yes => return Ok(Value::Bool(true)),
                        Predicate::None if yes => return Ok(Value::Bool(false)),
                        _ => hits += usize::from(yes),
                    }
                }
                Value::Bool(match func {
                    Predicate::All | Predicate::None => true,
                    Predicate::Any => false,
                    _ => hits == 1,
                })
            }
            Predicate::Map => {
                let mut out = Vec::with_capacity(len);
                for (i, item) in items.iter().enumerate() {
                    out.push(run!(i, item));
                }
                Value::list(out, &mut self.budget)?
            }
            Predicate::Filter => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if truth(run!(i, item.clone()), name)? {
                        out.push(self.mapped(map, item)?);
                    }
                }
                Value::list(out, &mut self.budget)?
            }
            Predicate::Find | Predicate::FindIndex => {
                for (i, item) in items.iter().enumerate() {
                    if truth(run!(i, item.clone()), name)? {
                        return if func == Predicate::Find {
                            self.mapped(map, item)
                        } else {
                            Ok(Value::Int(i as i64))
                        };
                    }
                }
                Value::Nil
            }
            Predicate::FindLast | Predicate::FindLastIndex => {
                for i in (0..len).rev() {
                    let item = items.get(i).unwrap_or(Value::Nil);
                    if truth(run!(i, item.clone()), name)? {
                        return if func == Predicate::FindLast {
                            self.mapped(map, item)
                        } else {
                            Ok(Value::Int(i as i64))
                        };
                    }
                }
                Value::Nil
            }
            Predicate::Count => {
                let mut n = 0i64;
                for (i, item) in items.iter().enumerate() {
                    n += i64::from(truth(run!(i, item), name)?);
                }
                Value::Int(n)
            }
            Predicate::Sum => {
                let mut acc = Value::Int(0);
                for (i, item) in items.iter().enumerate() {
                    let v = run!(i, item);
                    if !matches!(v, Value::Int(_) | Value::Float(_)) {
                        return Err(EvalError::type_error(format!(
                            "invalid operation: + (mismatched types {} and {})",
                            acc.type_name(),
                            v.type_name()
                        )));
                    }
                    acc = arith(BinaryOp::Add, acc, v, &mut self.budget)?;
                }
                acc
            }
            Predicate::GroupBy => {
                let mut groups: IndexMap<String, Vec<Value<'a>>> = IndexMap::new();
                for (i, item) in items.iter().enumerate() {
                    let key = match run!(i, item.clone()) {
                        Value::Str(s) => s,
                        other => Str::Owned(go_string(&other, &mut self.budget)?.into()),
                    };
                    // Hashing reads the key: long keys cost more.
                    self.budget.step(1 + key.len() as u64 / 16)?;
                    match groups.get_mut(&*key) {
                        Some(group) => group.push(item),
                        None => {
                            groups.insert(key.to_string(), vec![item]);
                        }
                    }
                }
                let mut map = IndexMap::with_capacity(groups.len());
                for (k, v) in groups {
                    map.insert(k, Value::list(v, &mut self.budget)?);
                }
                Value::map(map, &mut self.budget)?
            }
            Predicate::SortBy => {
                let desc = match extra_values.first() {
                    None => false,
                    Some(Value::Str(s)) if &**s == "asc" => false,
                    Some(Value::Str(s)) if &**s == "desc" => true,
                    Some(_) => {
                        return Err(EvalError::invalid("invalid order, expected asc or desc"))
                    }
                };
                let mut keyed = Vec::with_capacity(len);
                for (i, item) in items.iter().enumerate() {
                    keyed.push((run!(i, item.clone()), item));
                }
                self.budget.sort_by(&mut keyed, |(a, _), (b, _)| {
                    let o = compare(a, b).ok_or_else(|| mismatch("<", a, b))?;
                    let cost = match (a, b) {
                        (Value::Str(x), Value::Str(y)) => compare_cost(x, y),
                        _ => 1,
                    };
                    Ok((if desc { o.reverse() } else { o }, cost))
                })?;
                Value::list(
                    keyed.into_iter().map(|(_, v)| v).collect(),
                    &mut self.budget,
                )?
            }
            Predicate::Reduce => {
                let mut iter = items.iter().enumerate();
                let mut acc = match extra_values.into_iter().next() {
                    Some(init) => init,
                    None => match iter.next() {
                        Some((_, first)) => first,
                        None => {
                            return Err(EvalError::invalid(
                                "reduce of empty array with no initial value",
                            ))
                        }
                    },
                };
                for (i, item) in iter {
                    self.set(slot + 2, acc);
                    acc = run!(i, item);
                }
                acc
            }
        })
    }

    pub(super) fn set(&mut self, slot: usize, v: Value<'a>) {
        let frame = self.frame();
        if let Some(l) = frame
            .slots
            .get_mut(..frame.shared)
            .and_then(|l| l.get_mut(slot))
        {
            *l = Some(v);
        }
    }
}

pub(super) fn unary<'a>(op: UnaryOp, v: Value<'a>) -> EvalResult<Value<'a>> {
    Ok(match (op, v) {
        (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnaryOp::Neg, Value::Int(i)) => Value::Int(i.wrapping_neg()),
        (UnaryOp::Neg, Value::Float(f)) => Value::Float(-f),
        (UnaryOp::Neg, Value::Duration(d)) => Value::Duration(d.wrapping_neg()),
        (UnaryOp::Plus, v @ (Value::Int(_) | Value::Float(_) | Value::Duration(_))) => v,
        (op, v) => {
            let sym = match op {
                UnaryOp::Not => "!",
                UnaryOp::Neg => "-",
                UnaryOp::Plus => "+",
            };
            return Err(EvalError::type_error(format!(
                "invalid operation: {sym} (mismatched type {})",
                v.type_name()
            )));
        }
    })
}

fn arith<'a>(
    op: BinaryOp,
    a: Value<'a>,
    b: Value<'a>,
    budget: &mut Budget,
) -> EvalResult<Value<'a>> {
    use BinaryOp::*;
    Ok(match (op, &a, &b) {
        (Add, Value::Int(x), Value::Int(y)) => Value::Int(x.wrapping_add(*y)),
        (Sub, Value::Int(x), Value::Int(y)) => Value::Int(x.wrapping_sub(*y)),
        (Mul, Value::Int(x), Value::Int(y)) => Value::Int(x.wrapping_mul(*y)),
        (Mod, Value::Int(_), Value::Int(0)) => {
            return Err(EvalError::invalid("integer divide by zero"))
        }
        (Mod, Value::Int(x), Value::Int(y)) => Value::Int(x.wrapping_rem(*y)),
        (
            Add | Sub | Mul | Div | Pow,
            Value::Int(_) | Value::Float(_),
            Value::Int(_) | Value::Float(_),
        ) => {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            Value::Float(match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div => x / y,
                _ => crate::runtime::gomath::pow(x, y),
            })
        }
        (Add, Value::Str(x), Value::Str(y)) => {
            budget.fits_string(x.len() + y.len())?;
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Value::string(s, budget)?
        }
        (Add, Value::Time(t), Value::Duration(d)) | (Add, Value::Duration(d), Value::Time(t)) => {
            Value::Time(time::add_duration(t, *d))
        }
        (Sub, Value::Time(t), Value::Duration(d)) => {
            Value::Time(time::add_duration(t, d.wrapping_neg()))
        }
        (Sub, Value::Time(x), Value::Time(y)) => Value::Duration(time::sub_times(x, y)?),
        // A Go Duration is an int64: sums wrap as integer sums do.
        (Add, Value::Duration(x), Value::Duration(y)) => Value::Duration(x.wrapping_add(*y)),
        (Sub, Value::Duration(x), Value::Duration(y)) => Value::Duration(x.wrapping_sub(*y)),
        // Expr multiplies a Duration by an integer (or a Duration) as int64s, and by a float as
        // float64s, giving a plain float of nanoseconds.
        (Mul, Value::Duration(x), Value::Int(y) | Value::Duration(y))
        | (Mul, Value::Int(x), Value::Duration(y)) => Value::Duration(x.wrapping_mul(*y)),
        (Mul, Value::Duration(d), Value::Float(f)) | (Mul, Value::Float(f), Value::Duration(d)) => {
            Value::Float(*d as f64 * f)
        }
        _ => return Err(mismatch(op.symbol(), &a, &b)),
    })
}

/// Ordering of numbers, strings (by bytes), times and durations; None for anything else.
pub fn compare(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64()?.partial_cmp(&b.as_f64()?)
        }
        (Value::Str(x), Value::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Time(x), Value::Time(y)) => Some(x.instant.cmp(&y.instant)),
        (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// `needle in haystack`.
fn contains(haystack: &Value<'_>, needle: &Value<'_>, budget: &mut Budget) -> EvalResult<bool> {
    match haystack {
        Value::List(items) => {
            for item in items.iter() {
                if item.equals(needle, budget)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Map(m) => match needle {
            Value::Str(k) => Ok(m.get(k).is_some()),
            // Expr: no map holds a nil key.
            Value::Nil => Ok(false),
            other => Err(EvalError::type_error(format!(
                "cannot use {} as a map key",
                other.type_name()
            ))),
        },
        Value::Nil => Ok(false),
        other => Err(EvalError::type_error(format!(
            "operator \"in\" not defined on {}",
            other.type_name()
        ))),
    }
}

pub(super) fn member<'a>(
    obj: Value<'a>,
    idx: Value<'a>,
    object_text: &str,
) -> EvalResult<Value<'a>> {
    match (&obj, &idx) {
        (Value::Map(m), Value::Str(k)) => Ok(m.get(k).unwrap_or(Value::Nil)),
        (Value::Map(_), other) => Err(EvalError::type_error(format!(
            "cannot use {} as a map key",
            other.type_name()
        ))),
        (Value::List(items), Value::Int(i)) => {
            let len = items.len();
            let pos = if *i < 0 {
                i.checked_add(len as i64)
            } else {
                Some(*i)
            };
            pos.and_then(|p| usize::try_from(p).ok())
                .and_then(|p| items.get(p))
                .ok_or_else(|| {
                    EvalError::invalid(format!("index out of range: {i} (array length is {len})"))
                })
        }
        (Value::List(_), other) => Err(EvalError::type_error(format!(
            "array elements can only be selected using an integer, got {}",
            other.type_name()
        ))),
        (Value::Nil, Value::Str(k)) => {
            Err(nil_error(object_text, format!("read `.{}`", excerpt(k))))
        }
        (Value::Nil, other) => Err(nil_error(
            object_text,
            format!("index it with {}", other.type_name()),
        )),
        (other, Value::Str(k)) => Err(EvalError::type_error(format!(
            "cannot fetch {} from {}",
            excerpt(k),
            other.type_name()
        ))),
        (other, _) => Err(EvalError::type_error(format!(
            "a value of type {} cannot be indexed",
            other.type_name()
        ))),
    }
}

/// `s[a:b]`: byte offsets for strings, items for lists; negative from the end; clamped.
fn slice<'a>(
    obj: Value<'a>,
    from: Option<Value<'a>>,
    to: Option<Value<'a>>,
    budget: &mut Budget,
) -> EvalResult<Value<'a>> {
    let len = match &obj {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Nil => return Err(nil_error("value", "slice".into())),
        other => {
            return Err(EvalError::type_error(format!(
                "cannot slice a value of type {}",
                other.type_name()
            )))
        }
    };
    let bound = |v: Option<Value<'a>>, default: usize| -> EvalResult<usize> {
        match v {
            None => Ok(default),
            Some(Value::Int(i)) => {
                let i = if i < 0 {
                    i.saturating_add(len as i64)
                } else {
                    i
                };
                Ok(usize::try_from(i.max(0)).unwrap_or(usize::MAX).min(len))
            }
            Some(other) => Err(EvalError::type_error(format!(
                "a slice bound must be an integer, got {}",
                other.type_name()
            ))),
        }
    };
    let a = bound(from, 0)?;
    let b = bound(to, len)?.max(a);
    match obj {
        Value::Str(s) => match s.get(a..b) {
            Some(_) => Ok(match s {
                Str::Borrowed(b0) => Value::Str(Str::Borrowed(&b0[a..b])),
                Str::Owned(o) => Value::string(&o[a..b], budget)?,
            }),
            None => Err(EvalError::invalid(format!(
                "slice [{a}:{b}] falls inside a multi-byte character"
            ))),
        },
        Value::List(l) => {
            budget.fits_list(b - a)?;
            Ok(match l {
                List::Doc(items) => Value::List(List::Doc(&items[a..b])),
                List::Owned(v) => Value::list(v[a..b].to_vec(), budget)?,
            })
        }
        _ => Ok(Value::Nil),
    }
}
