//! The f32 meaning of every operation, shared by the CPU evaluator and constant folding.
//! The generated WGSL (see `wgsl.rs`) implements the same rules with an explicit validity
//! flag per value instead of NaN, because WGSL does not guarantee how NaN propagates.
//!
//! NaN stands for "undefined". An operation is undefined when an operand is, when it divides
//! by zero, leaves its domain (`sqrt` of a negative, `log` of a non-positive, a negative base
//! with a non-integer exponent, zero to a negative power) or gives an infinite result. A
//! comparison gives 1.0 or 0.0; `where` takes the branch its condition selects, so an
//! undefined value in the branch not taken does not matter.

/// `x`, or NaN when it is infinite.
#[inline(always)]
pub(crate) fn finite(x: f32) -> f32 {
    if x.is_finite() { x } else { f32::NAN }
}

#[inline(always)]
pub(crate) fn add(a: f32, b: f32) -> f32 {
    finite(a + b)
}

#[inline(always)]
pub(crate) fn sub(a: f32, b: f32) -> f32 {
    finite(a - b)
}

#[inline(always)]
pub(crate) fn mul(a: f32, b: f32) -> f32 {
    finite(a * b)
}

#[inline(always)]
pub(crate) fn div(a: f32, b: f32) -> f32 {
    if b == 0.0 { f32::NAN } else { finite(a / b) }
}

#[inline(always)]
pub(crate) fn sqrt(a: f32) -> f32 {
    if a >= 0.0 { a.sqrt() } else { f32::NAN }
}

#[inline(always)]
pub(crate) fn exp(a: f32) -> f32 {
    finite(a.exp())
}

#[inline(always)]
pub(crate) fn log(a: f32) -> f32 {
    if a > 0.0 { finite(a.ln()) } else { f32::NAN }
}

/// `x ** y` for any real exponent (integer exponents written as literals are expanded to
/// multiplications before this is reached).
#[inline(always)]
pub(crate) fn pow(x: f32, y: f32) -> f32 {
    if x.is_nan() || y.is_nan() {
        return f32::NAN;
    }
    if x > 0.0 {
        return finite(x.powf(y));
    }
    if x == 0.0 {
        return if y > 0.0 {
            0.0
        } else if y == 0.0 {
            1.0
        } else {
            f32::NAN
        };
    }
    if y != y.floor() {
        return f32::NAN;
    }
    let m = finite((-x).powf(y));
    if 0.5 * y != (0.5 * y).floor() { -m } else { m }
}

#[inline(always)]
pub(crate) fn min(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if b < a {
        b
    } else {
        a
    }
}

#[inline(always)]
pub(crate) fn max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if b > a {
        b
    } else {
        a
    }
}

/// A comparison result as 1.0 (true) or 0.0 (false), NaN when an operand is undefined.
#[inline(always)]
pub(crate) fn truth(a: f32, b: f32, holds: bool) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if holds {
        1.0
    } else {
        0.0
    }
}

/// `where(c, a, b)`: `a` where `c` is true, `b` where false, undefined when `c` is.
#[inline(always)]
pub(crate) fn select(c: f32, a: f32, b: f32) -> f32 {
    if c.is_nan() {
        f32::NAN
    } else if c != 0.0 {
        a
    } else {
        b
    }
}
