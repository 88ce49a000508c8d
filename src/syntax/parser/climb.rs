//! Precedence climbing: the flat operator sequence of one `binary` rule (prefix operators,
//! operands, infix operators, pipes) into a tree, with Expr's binding powers.

use super::lower::{Lower, Piece, PipeCall, E};
use crate::diagnostic::Span;
use crate::syntax::ast::{BinaryOp, Spanned, UnaryOp};

fn binding_power(op: BinaryOp) -> u32 {
    use BinaryOp::*;
    match op {
        Coalesce => 500,
        Pow => 100,
        Mul | Div | Mod => 60,
        Add | Sub => 30,
        Range => 25,
        Eq | Ne | Lt | Le | Gt | Ge | In | NotIn | Matches | NotMatches | Contains
        | NotContains | StartsWith | NotStartsWith | EndsWith | NotEndsWith => 20,
        And => 15,
        Or => 10,
    }
}

pub(super) fn infix_op(text: &str) -> BinaryOp {
    use BinaryOp::*;
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or_default();
    if first == "not" {
        return match words.last().unwrap_or_default() {
            "in" => NotIn,
            "matches" => NotMatches,
            "contains" => NotContains,
            "startsWith" => NotStartsWith,
            _ => NotEndsWith,
        };
    }
    match first {
        "??" => Coalesce,
        "**" | "^" => Pow,
        "*" => Mul,
        "/" => Div,
        "%" => Mod,
        "+" => Add,
        "-" => Sub,
        ".." => Range,
        "==" => Eq,
        "!=" => Ne,
        "<=" => Le,
        ">=" => Ge,
        "<" => Lt,
        ">" => Gt,
        "&&" | "and" => And,
        "||" | "or" => Or,
        "in" => In,
        "matches" => Matches,
        "contains" => Contains,
        "startsWith" => StartsWith,
        _ => EndsWith,
    }
}

fn is_ordering(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
    )
}

impl Lower<'_> {
    /// Climbs the flat pieces of one `binary` rule into a tree.
    pub(super) fn climb(&mut self, start: usize, mut pieces: Vec<Piece>) -> E {
        if let [Piece::Operand(_)] = pieces.as_slice() {
            if let Some(Piece::Operand(only)) = pieces.pop() {
                return only;
            }
        }
        let errors = self.errors.len();
        let mut climber = Climber {
            lower: self,
            pieces: pieces.into_iter().peekable(),
        };
        match climber.expr(0) {
            Some(e) => e,
            None => {
                let span = Span::new(start, start);
                if self.errors.len() == errors {
                    self.error(span, "expected an expression");
                }
                Lower::invalid(span)
            }
        }
    }
}

/// Climbs the flat operator sequence of one `binary` rule the way Expr's parser does.
struct Climber<'l, 's> {
    lower: &'l mut Lower<'s>,
    pieces: std::iter::Peekable<std::vec::IntoIter<Piece>>,
}

impl Climber<'_, '_> {
    /// Expr's parseExpression(precedence), minus the statements and the ternary. A run of
    /// prefix operators is unwound in a loop: each one's operand continues at its own level.
    fn expr(&mut self, min: u32) -> Option<E> {
        let mut prefixes = Vec::new();
        let mut left = loop {
            match self.pieces.next()? {
                Piece::Prefix(op, span) => prefixes.push((op, span)),
                Piece::Operand(e) => break e,
                Piece::Infix(_, span)
                | Piece::Pipe(PipeCall {
                    name: Spanned { span, .. },
                    ..
                }) => {
                    self.lower.error(span, "expected an expression");
                    return None;
                }
            }
        };
        while let Some((op, span)) = prefixes.pop() {
            let power = if op == UnaryOp::Not { 50 } else { 90 };
            left = self.climb(left, power)?;
            left = self.lower.unary(op, span, left);
        }
        self.climb(left, min)
    }

    /// The binary operators after `left` that bind at least as tightly as `min`.
    fn climb(&mut self, mut left: E, min: u32) -> Option<E> {
        let mut after_coalesce = false;
        loop {
            let power = match self.pieces.peek() {
                Some(Piece::Infix(op, _)) => binding_power(*op),
                Some(Piece::Pipe(_)) => 0,
                _ => break,
            };
            if power < min {
                break;
            }
            match self.pieces.next() {
                Some(Piece::Pipe(call)) => {
                    left = self.pipe(left, call);
                    after_coalesce = false;
                }
                Some(Piece::Infix(op, span)) => {
                    if after_coalesce && op != BinaryOp::Coalesce {
                        self.lower
                            .error(
                                span,
                                format!("operator `{}` and `??` cannot be mixed; wrap either in parentheses", op.symbol()),
                            )
                            .help = Some("write `(a ?? b) + c` or `a ?? (b + c)`".into());
                        return None;
                    }
                    left = if is_ordering(op) {
                        self.comparison(left, op)?
                    } else {
                        let right_power = if op == BinaryOp::Pow {
                            power
                        } else {
                            power + 1
                        };
                        let right = self.expr(right_power)?;
                        self.lower.binary_node(op, left, right)
                    };
                    after_coalesce = op == BinaryOp::Coalesce;
                }
                _ => break,
            }
        }
        Some(left)
    }

    /// `a < b < c` is `(a < b) and (b < c)`.
    fn comparison(&mut self, mut left: E, mut op: BinaryOp) -> Option<E> {
        let mut root: Option<E> = None;
        loop {
            let right = self.expr(binding_power(op) + 1)?;
            let middle = right.duplicate();
            let compare = self.lower.binary_node(op, left, right);
            root = Some(match root.take() {
                None => compare,
                Some(r) => self.lower.binary_node(BinaryOp::And, r, compare),
            });
            left = middle;
            match self.pieces.peek() {
                Some(Piece::Infix(next, _)) if is_ordering(*next) => {
                    op = *next;
                    self.pieces.next();
                }
                _ => break,
            }
        }
        root
    }

    fn pipe(&mut self, left: E, call: PipeCall) -> E {
        let span = Span::new(left.span().start, call.end);
        let mut args = Vec::with_capacity(call.args.len() + 1);
        args.push(left);
        args.extend(call.args);
        self.lower
            .check_predicate_arity(&call.name, args.len(), span);
        self.lower.call_node(call.name, args, span)
    }
}
