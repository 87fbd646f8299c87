//! Name resolution and type checking of a syntax tree, lowering it to a [`Program`].
//!
//! Names are bands (`B G R N S1 S2`), named constants (resolved by the caller's lookup) or
//! functions. Values are numbers or booleans: comparisons give booleans, which only
//! `where(...)` accepts as its first argument; the formula itself must give a number.

use super::ast::{BinOp, Expr, ExprKind};
use super::error::FormulaError;
use super::program::{Builder, Op, Program};
use super::symbols::{self, Func};
use crate::sensor::BandRole;

/// Named constants a formula may use: the job constants after scale and offset.
pub(crate) const MAX_CONSTANTS: usize = crate::pixel::slots::formula::FORMULA_CONSTANTS.len();

/// The checked formula: its program, the bands in slot order and the named constants in
/// order with their default values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Checked {
    pub program: Program,
    pub bands: Vec<BandRole>,
    pub constants: Vec<(String, Option<f64>)>,
}

/// Looks a constant name up: `None` when it is not a constant, `Some(default)` when it is.
pub(crate) type ConstantLookup<'a> = &'a dyn Fn(&str) -> Option<Option<f64>>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Num,
    Bool,
}

/// Checks `expr` (parsed from `text`) and lowers it.
pub(crate) fn check(
    text: &str,
    expr: &Expr,
    constant: ConstantLookup<'_>,
) -> Result<Checked, FormulaError> {
    let mut c = Checker {
        text,
        constant,
        builder: Builder::default(),
        bands: Vec::new(),
        constants: Vec::new(),
    };
    let root = c.num(expr, "the formula's value")?;
    if c.bands.is_empty() {
        return Err(FormulaError::new(
            text,
            1,
            "the formula reads no band (use B, G, R, N, S1 or S2)",
        ));
    }
    Ok(Checked {
        program: c.builder.finish(root),
        bands: c.bands,
        constants: c.constants,
    })
}

struct Checker<'a> {
    text: &'a str,
    constant: ConstantLookup<'a>,
    builder: Builder,
    bands: Vec<BandRole>,
    constants: Vec<(String, Option<f64>)>,
}

impl Checker<'_> {
    fn error(&self, col: usize, msg: impl Into<String>) -> FormulaError {
        FormulaError::new(self.text, col, msg)
    }

    /// Lowers `e`, which must be a number; `role` names its place for messages.
    fn num(&mut self, e: &Expr, role: &str) -> Result<u32, FormulaError> {
        match self.lower(e)? {
            (id, Ty::Num) => Ok(id),
            (_, Ty::Bool) => Err(self.error(
                e.col,
                format!(
                    "{role} must be a number, not a comparison; turn a comparison into a \
                     number with where(condition, a, b)"
                ),
            )),
        }
    }

    fn lower(&mut self, e: &Expr) -> Result<(u32, Ty), FormulaError> {
        let b = |op| (op, Ty::Num);
        Ok(match &e.kind {
            ExprKind::Num(v) => b(self.builder.lit(*v)),
            ExprKind::Name(name) => b(self.name(name, e.col)?),
            ExprKind::Neg(a) => {
                let a = self.num(a, "the operand of '-'")?;
                b(self.builder.push(Op::Neg(a)))
            }
            ExprKind::Binary(op, l, r) => {
                let what = match op {
                    BinOp::Add => "an operand of '+'",
                    BinOp::Sub => "an operand of '-'",
                    BinOp::Mul => "an operand of '*'",
                    BinOp::Div => "an operand of '/'",
                    BinOp::Pow => "an operand of a power",
                };
                let l = self.num(l, what)?;
                let r = self.num(r, what)?;
                b(match op {
                    BinOp::Add => self.builder.push(Op::Add(l, r)),
                    BinOp::Sub => self.builder.push(Op::Sub(l, r)),
                    BinOp::Mul => self.builder.push(Op::Mul(l, r)),
                    BinOp::Div => self.builder.push(Op::Div(l, r)),
                    BinOp::Pow => self.builder.pow(l, r),
                })
            }
            ExprKind::Compare(op, l, r) => {
                let what = format!("an operand of '{}'", op.symbol());
                let l = self.num(l, &what)?;
                let r = self.num(r, &what)?;
                (self.builder.push(Op::Cmp(*op, l, r)), Ty::Bool)
            }
            ExprKind::Call(name, args) => b(self.call(name, args, e.col)?),
        })
    }

    fn name(&mut self, name: &str, col: usize) -> Result<u32, FormulaError> {
        if let Some(role) = symbols::band_role(name) {
            let slot = match self.bands.iter().position(|&r| r == role) {
                Some(s) => s,
                None => {
                    self.bands.push(role);
                    self.bands.len() - 1
                }
            };
            return Ok(self.builder.push(Op::Band(slot as u32)));
        }
        if let Some(why) = symbols::unavailable_band(name) {
            return Err(self.error(col, why));
        }
        if let Some(default) = (self.constant)(name) {
            let index = match self.constants.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    if self.constants.len() == MAX_CONSTANTS {
                        return Err(
                            self.error(col, format!("more than {MAX_CONSTANTS} named constants"))
                        );
                    }
                    self.constants.push((name.to_string(), default));
                    self.constants.len() - 1
                }
            };
            return Ok(self.builder.push(Op::Const(index as u32)));
        }
        if symbols::function(name).is_some() {
            return Err(self.error(
                col,
                format!("{name} is a function: call it with arguments, as {name}(...)"),
            ));
        }
        let hint = match symbols::band_role(&name.to_ascii_uppercase()) {
            Some(_) => format!(
                " (band names are upper case: did you mean {}?)",
                name.to_ascii_uppercase()
            ),
            None => String::new(),
        };
        Err(self.error(
            col,
            format!(
                "unknown name '{name}': not a band (B, G, R, N, S1, S2) nor a known constant{hint}"
            ),
        ))
    }

    fn call(&mut self, name: &str, args: &[Expr], col: usize) -> Result<u32, FormulaError> {
        let Some((func, arity, usage)) = symbols::function(name) else {
            return Err(self.error(
                col,
                format!(
                    "unknown function '{name}' (known: {})",
                    symbols::function_names()
                ),
            ));
        };
        if args.len() != arity {
            let s = if arity == 1 { "" } else { "s" };
            return Err(self.error(
                col,
                format!(
                    "{name} takes {arity} argument{s}, as {usage}, but was given {}",
                    args.len()
                ),
            ));
        }
        if func == Func::Where {
            let (cond, ty) = self.lower(&args[0])?;
            if ty != Ty::Bool {
                return Err(self.error(
                    args[0].col,
                    "the first argument of where must be a comparison, such as N > R",
                ));
            }
            let a = self.num(&args[1], "the second argument of where")?;
            let b = self.num(&args[2], "the third argument of where")?;
            return Ok(self.builder.push(Op::Where(cond, a, b)));
        }
        let mut ids = Vec::with_capacity(arity);
        for (i, arg) in args.iter().enumerate() {
            ids.push(self.num(arg, &format!("argument {} of {name}", i + 1))?);
        }
        let b = &mut self.builder;
        Ok(match func {
            Func::Sqrt => b.push(Op::Sqrt(ids[0])),
            Func::Abs => b.push(Op::Abs(ids[0])),
            Func::Exp => b.push(Op::Exp(ids[0])),
            Func::Log => b.push(Op::Log(ids[0])),
            Func::Min => b.push(Op::Min(ids[0], ids[1])),
            Func::Max => b.push(Op::Max(ids[0], ids[1])),
            Func::Clamp => {
                let low = b.push(Op::Max(ids[0], ids[1]));
                b.push(Op::Min(low, ids[2]))
            }
            // Handled above with its boolean condition; this arm is never reached.
            Func::Where => b.push(Op::Where(ids[0], ids[1], ids[2])),
        })
    }
}
