//! CPU twin of the generated kernel: runs a [`Program`] over the decoded chunk slices that
//! `backend::cpu::run_pixels` gives, one operation at a time over the whole chunk (plain
//! loops the compiler vectorises), with NaN standing for "undefined" (see `semantics.rs`).

use super::ast::CmpOp;
use super::program::{Op, Program};
use super::semantics as sem;
use crate::backend::cpu::Chunk;
use crate::pixel::slots::formula::{FORMULA_CONSTANTS, FORMULA_OFFSET, FORMULA_SCALE};
use crate::pixel::{INDEX_NODATA, PixelParams};
use std::cell::RefCell;

/// A program with its values assigned to reusable registers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CpuPlan {
    /// Each operation with register operands, and its destination register.
    steps: Vec<(Op, usize)>,
    registers: usize,
    root: usize,
}

impl CpuPlan {
    /// Assigns registers: a value's register is freed after its last use, and a result never
    /// shares a register with its own operands.
    pub fn new(program: &Program) -> CpuPlan {
        let n = program.ops.len();
        let mut last_use = vec![0usize; n];
        for (i, op) in program.ops.iter().enumerate() {
            for a in op.args() {
                last_use[a as usize] = i;
            }
        }
        last_use[program.root as usize] = usize::MAX;
        let mut reg_of = vec![0usize; n];
        let mut free: Vec<usize> = Vec::new();
        let mut registers = 0;
        let mut steps = Vec::with_capacity(n);
        for (i, op) in program.ops.iter().enumerate() {
            let dst = free.pop().unwrap_or_else(|| {
                registers += 1;
                registers - 1
            });
            reg_of[i] = dst;
            steps.push((op.map_args(|a| reg_of[a as usize] as u32), dst));
            let mut args = op.args();
            args.dedup();
            for a in args {
                if last_use[a as usize] == i {
                    free.push(reg_of[a as usize]);
                }
            }
            if last_use[i] <= i {
                // Never used (the builder removes dead values, so this is only a guard).
                free.push(dst);
            }
        }
        CpuPlan {
            steps,
            registers,
            root: reg_of[program.root as usize],
        }
    }

    /// Evaluates one chunk into `out`; returns the count of valid outputs.
    pub fn eval_chunk(&self, p: &PixelParams, chunk: &Chunk<'_>, out: &mut [f32]) -> u64 {
        thread_local! {
            static REGISTERS: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
        }
        REGISTERS.with(|cell| {
            let mut regs = cell.borrow_mut();
            if regs.len() < self.registers {
                regs.resize_with(self.registers, Vec::new);
            }
            self.eval_into(p, chunk, out, &mut regs)
        })
    }

    fn eval_into(
        &self,
        p: &PixelParams,
        chunk: &Chunk<'_>,
        out: &mut [f32],
        regs: &mut [Vec<f32>],
    ) -> u64 {
        let n = out.len();
        let (scale, offset) = (p.consts[FORMULA_SCALE], p.consts[FORMULA_OFFSET]);
        for &(op, dst) in &self.steps {
            let mut d = std::mem::take(&mut regs[dst]);
            d.resize(n, 0.0);
            let r = |i: u32| &regs[i as usize][..n];
            match op {
                Op::Lit(bits) => d.fill(f32::from_bits(bits)),
                Op::Const(c) => d.fill(p.consts[FORMULA_CONSTANTS.at(c as usize)]),
                Op::Band(s) => {
                    let x = chunk.slots.get(s as usize).copied().unwrap_or(&[]);
                    map1(&mut d, x, |x| sem::finite(x * scale + offset));
                }
                Op::Neg(a) => map1(&mut d, r(a), |x| -x),
                Op::Abs(a) => map1(&mut d, r(a), f32::abs),
                Op::Sqrt(a) => map1(&mut d, r(a), sem::sqrt),
                Op::Exp(a) => map1(&mut d, r(a), sem::exp),
                Op::Log(a) => map1(&mut d, r(a), sem::log),
                Op::Add(a, b) => map2(&mut d, r(a), r(b), sem::add),
                Op::Sub(a, b) => map2(&mut d, r(a), r(b), sem::sub),
                Op::Mul(a, b) => map2(&mut d, r(a), r(b), sem::mul),
                Op::Div(a, b) => map2(&mut d, r(a), r(b), sem::div),
                Op::Pow(a, b) => map2(&mut d, r(a), r(b), sem::pow),
                Op::Min(a, b) => map2(&mut d, r(a), r(b), sem::min),
                Op::Max(a, b) => map2(&mut d, r(a), r(b), sem::max),
                Op::Cmp(c, a, b) => {
                    let (x, y) = (r(a), r(b));
                    match c {
                        CmpOp::Lt => map2(&mut d, x, y, |a, b| sem::truth(a, b, a < b)),
                        CmpOp::Le => map2(&mut d, x, y, |a, b| sem::truth(a, b, a <= b)),
                        CmpOp::Gt => map2(&mut d, x, y, |a, b| sem::truth(a, b, a > b)),
                        CmpOp::Ge => map2(&mut d, x, y, |a, b| sem::truth(a, b, a >= b)),
                        CmpOp::Eq => map2(&mut d, x, y, |a, b| sem::truth(a, b, a == b)),
                        CmpOp::Ne => map2(&mut d, x, y, |a, b| sem::truth(a, b, a != b)),
                    }
                }
                Op::Where(c, a, b) => {
                    for (o, ((&c, &a), &b)) in d.iter_mut().zip(r(c).iter().zip(r(a)).zip(r(b))) {
                        *o = sem::select(c, a, b);
                    }
                }
            }
            regs[dst] = d;
        }
        let root = &regs[self.root][..n];
        let mut valid = 0;
        for ((o, &v), &ok) in out.iter_mut().zip(root).zip(chunk.valid) {
            *o = if ok && v.is_finite() { v } else { INDEX_NODATA };
            valid += u64::from(*o != INDEX_NODATA);
        }
        valid
    }
}

#[inline(always)]
fn map1(d: &mut [f32], a: &[f32], f: impl Fn(f32) -> f32) {
    for (o, &a) in d.iter_mut().zip(a) {
        *o = f(a);
    }
}

#[inline(always)]
fn map2(d: &mut [f32], a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) {
    for (o, (&a, &b)) in d.iter_mut().zip(a.iter().zip(b)) {
        *o = f(a, b);
    }
}
