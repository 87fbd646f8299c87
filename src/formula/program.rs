//! The checked formula as a straight-line program: every value computed once, in order, each
//! operation reading earlier values only. Both backends run this program, so they cannot
//! disagree about what a formula means.
//!
//! The builder folds operations on literals (with the f32 rules of `semantics`), shares
//! repeated sub-expressions and expands integer powers written as literals (`x ** 2`,
//! `x ^ -3`) into multiplications, `x ** 0.5` into `sqrt(x)`.

use super::ast::CmpOp;
use super::semantics as sem;
use std::collections::HashMap;

/// Largest literal integer exponent expanded into multiplications.
pub(crate) const MAX_EXPANDED_POWER: i32 = 32;

/// One operation; operands are indices of earlier operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    /// A literal, as f32 bits.
    Lit(u32),
    /// The reflectance of band slot `n`.
    Band(u32),
    /// Named constant `n` (job slot `FORMULA_CONSTANTS` + n).
    Const(u32),
    Neg(u32),
    Abs(u32),
    Sqrt(u32),
    Exp(u32),
    Log(u32),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Pow(u32, u32),
    Min(u32, u32),
    Max(u32, u32),
    /// A comparison: a boolean value.
    Cmp(CmpOp, u32, u32),
    /// `where(condition, if_true, if_false)`.
    Where(u32, u32, u32),
}

impl Op {
    /// The operands, in order.
    pub fn args(&self) -> Vec<u32> {
        use Op::*;
        match *self {
            Lit(_) | Band(_) | Const(_) => vec![],
            Neg(a) | Abs(a) | Sqrt(a) | Exp(a) | Log(a) => vec![a],
            Add(a, b) | Sub(a, b) | Mul(a, b) | Div(a, b) | Pow(a, b) | Min(a, b) | Max(a, b) => {
                vec![a, b]
            }
            Cmp(_, a, b) => vec![a, b],
            Where(c, a, b) => vec![c, a, b],
        }
    }

    /// `self` with every operand `a` replaced by `f(a)`.
    pub fn map_args(&self, f: impl Fn(u32) -> u32) -> Op {
        use Op::*;
        match *self {
            Lit(_) | Band(_) | Const(_) => *self,
            Neg(a) => Neg(f(a)),
            Abs(a) => Abs(f(a)),
            Sqrt(a) => Sqrt(f(a)),
            Exp(a) => Exp(f(a)),
            Log(a) => Log(f(a)),
            Add(a, b) => Add(f(a), f(b)),
            Sub(a, b) => Sub(f(a), f(b)),
            Mul(a, b) => Mul(f(a), f(b)),
            Div(a, b) => Div(f(a), f(b)),
            Pow(a, b) => Pow(f(a), f(b)),
            Min(a, b) => Min(f(a), f(b)),
            Max(a, b) => Max(f(a), f(b)),
            Cmp(c, a, b) => Cmp(c, f(a), f(b)),
            Where(c, a, b) => Where(f(c), f(a), f(b)),
        }
    }
}

/// A straight-line program; the value of `ops[root]` is the formula's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Program {
    pub ops: Vec<Op>,
    pub root: u32,
}

/// Builds a [`Program`], folding, sharing and expanding as it goes.
#[derive(Default)]
pub(crate) struct Builder {
    ops: Vec<Op>,
    seen: HashMap<Op, u32>,
}

impl Builder {
    /// The literal value of operation `id`, if it is one.
    pub fn literal(&self, id: u32) -> Option<f32> {
        match self.ops[id as usize] {
            Op::Lit(bits) => Some(f32::from_bits(bits)),
            _ => None,
        }
    }

    /// A literal value.
    pub fn lit(&mut self, v: f32) -> u32 {
        self.push(Op::Lit(v.to_bits()))
    }

    /// Adds `op` (folded when all operands are literals, shared when already present).
    pub fn push(&mut self, op: Op) -> u32 {
        let op = canonical(op);
        if let Some(v) = self.fold(&op) {
            return self.intern(Op::Lit(v.to_bits()));
        }
        self.intern(op)
    }

    /// `base ** exponent`, expanded when the exponent is a small literal integer or 0.5.
    pub fn pow(&mut self, base: u32, exponent: u32) -> u32 {
        if let Some(e) = self.literal(exponent) {
            if e == 0.5 {
                return self.push(Op::Sqrt(base));
            }
            let n = e as i32;
            if n as f32 == e && n != 0 && n.abs() <= MAX_EXPANDED_POWER {
                let positive = self.powi(base, n.unsigned_abs());
                if n > 0 {
                    return positive;
                }
                let one = self.lit(1.0);
                return self.push(Op::Div(one, positive));
            }
        }
        self.push(Op::Pow(base, exponent))
    }

    /// `base ** n` for n ≥ 1 by squaring: x², x²·x, (x²)², ...
    fn powi(&mut self, base: u32, n: u32) -> u32 {
        if n == 1 {
            base
        } else if n.is_multiple_of(2) {
            let half = self.powi(base, n / 2);
            self.push(Op::Mul(half, half))
        } else {
            let rest = self.powi(base, n - 1);
            self.push(Op::Mul(rest, base))
        }
    }

    /// The finished program whose value is `root`, without the values it does not need
    /// (literals consumed by folding, for instance).
    pub fn finish(self, root: u32) -> Program {
        let mut live = vec![false; self.ops.len()];
        if let Some(r) = live.get_mut(root as usize) {
            *r = true;
        }
        for i in (0..self.ops.len()).rev() {
            if live[i] {
                for a in self.ops[i].args() {
                    live[a as usize] = true;
                }
            }
        }
        let mut new_id = vec![0u32; self.ops.len()];
        let mut ops = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            if live[i] {
                new_id[i] = ops.len() as u32;
                ops.push(op.map_args(|a| new_id[a as usize]));
            }
        }
        Program {
            ops,
            root: new_id.get(root as usize).copied().unwrap_or(0),
        }
    }

    fn intern(&mut self, op: Op) -> u32 {
        if let Some(&id) = self.seen.get(&op) {
            return id;
        }
        let id = self.ops.len() as u32;
        self.ops.push(op);
        self.seen.insert(op, id);
        id
    }

    /// The value of `op` when its operands are all literals and the result is defined.
    /// Comparisons and `where` are never folded, so that a boolean stays a boolean.
    fn fold(&self, op: &Op) -> Option<f32> {
        let l = |id: u32| self.literal(id);
        let v = match *op {
            Op::Neg(a) => -l(a)?,
            Op::Abs(a) => l(a)?.abs(),
            Op::Sqrt(a) => sem::sqrt(l(a)?),
            Op::Exp(a) => sem::exp(l(a)?),
            Op::Log(a) => sem::log(l(a)?),
            Op::Add(a, b) => sem::add(l(a)?, l(b)?),
            Op::Sub(a, b) => sem::sub(l(a)?, l(b)?),
            Op::Mul(a, b) => sem::mul(l(a)?, l(b)?),
            Op::Div(a, b) => sem::div(l(a)?, l(b)?),
            Op::Pow(a, b) => sem::pow(l(a)?, l(b)?),
            Op::Min(a, b) => sem::min(l(a)?, l(b)?),
            Op::Max(a, b) => sem::max(l(a)?, l(b)?),
            _ => return None,
        };
        // An undefined result is left to run time, where it makes the pixel nodata.
        v.is_finite().then_some(v)
    }
}

/// Orders the operands of `+` and `*` (exactly commutative in IEEE arithmetic) so that
/// `a + b` and `b + a` are shared.
fn canonical(op: Op) -> Op {
    match op {
        Op::Add(a, b) if b < a => Op::Add(b, a),
        Op::Mul(a, b) if b < a => Op::Mul(b, a),
        op => op,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{catalogue, check, parser};
    use super::*;

    fn program(text: &str) -> Program {
        let expr = parser::parse(text).unwrap();
        check::check(text, &expr, &catalogue::free_constant_default)
            .unwrap()
            .program
    }

    fn count(p: &Program, f: impl Fn(&Op) -> bool) -> usize {
        p.ops.iter().filter(|op| f(op)).count()
    }

    #[test]
    fn integer_powers_become_multiplications() {
        let p = program("N ** 4");
        assert_eq!(count(&p, |o| matches!(o, Op::Mul(..))), 2);
        assert_eq!(count(&p, |o| matches!(o, Op::Pow(..))), 0);
        let p = program("N ^ -3");
        assert_eq!(count(&p, |o| matches!(o, Op::Mul(..))), 2);
        assert_eq!(count(&p, |o| matches!(o, Op::Div(..))), 1);
        assert!(matches!(program("N ** 0.5").ops.last(), Some(Op::Sqrt(_))));
        assert_eq!(count(&program("N ** 2.5"), |o| matches!(o, Op::Pow(..))), 1);
        assert_eq!(count(&program("N ** 0"), |o| matches!(o, Op::Pow(..))), 1);
    }

    #[test]
    fn literals_fold_and_repeats_are_shared() {
        // 1/3 is folded to one literal; the two (N - R) and N + R / R + N are shared.
        let p = program("(N - R) ** (1/3) + (N - R) * (N + R) / (R + N)");
        assert_eq!(count(&p, |o| matches!(o, Op::Lit(_))), 1);
        assert_eq!(count(&p, |o| matches!(o, Op::Sub(..))), 1);
        assert_eq!(count(&p, |o| matches!(o, Op::Add(..))), 2);
        // Division by a literal zero is left to run time (nodata), not folded.
        assert_eq!(
            count(&program("N + 1 / 0"), |o| matches!(o, Op::Div(..))),
            1
        );
    }
}
