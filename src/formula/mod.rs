//! Spectral indices from formulas: any expression over the bands, parsed and checked once,
//! then run on either backend with the same meaning.
//!
//! ```
//! use landwatch::formula::Formula;
//! use landwatch::{Band, BandData, BandRole, BandStack, Engine};
//!
//! let red = Band::new(BandRole::Red, BandData::F32(vec![0.1, 0.2]));
//! let nir = Band::new(BandRole::Nir, BandData::F32(vec![0.3, 0.2]));
//! let stack = BandStack::new(2, 1, vec![red, nir]).unwrap();
//! let ndvi = Formula::parse("(N - R) / (N + R)").unwrap();
//! let out = Engine::cpu().formula(&stack, &ndvi).unwrap().output;
//! assert!((out.data[0] - 0.5).abs() < 1e-6 && out.data[1] == 0.0);
//!
//! let savi = Formula::catalogue("SAVI").unwrap().with_constant("L", 0.25).unwrap();
//! assert_eq!(savi.constants()[0], ("L", Some(0.25)));
//! assert!(Formula::parse("(N - R) / (N + Q)").unwrap_err().column == 16);
//! ```
//!
//! # Language
//! Numbers (`2`, `0.5`, `1e-3`); the catalogue's band symbols `B G R N S1 S2` (blue, green,
//! red, NIR, SWIR 1, SWIR 2; `RE1`, `T1`, `A`, ... are refused as unavailable); named
//! constants (`L`, `g`, `C1`, `C2`, `alpha`, ... with the catalogue's defaults, overridable
//! with [`Formula::with_constant`]); `+ - * /`, unary minus, `**` or `^` (Python precedence:
//! `-x**2` is `-(x**2)`); parentheses; `sqrt abs min max exp log clamp`; comparisons
//! `< <= > >= == !=`, usable only as the condition of `where(condition, a, b)`.
//!
//! # Semantics
//! Bands are reflectance: each sample is converted with the stack's radiometry,
//! `dn × scale + offset`, then the formula is evaluated in f32 on both backends from the same
//! checked program (never from the user's text). A pixel is [`crate::INDEX_NODATA`] when an
//! input is nodata, NaN or infinite, or when the value it needs divides by zero, leaves a
//! function's domain or overflows; `where` ignores the branch it does not take. Integer
//! literal powers (`x ** 2`, `x ^ -3`, up to 32) are multiplications and `x ** 0.5` is
//! `sqrt(x)` on both backends.
//!
//! # Agreement of the backends
//! WGSL's division (2.5 ULP), `sqrt`, `exp`, `log` and `pow` are not correctly rounded, and a
//! GPU may fuse `a * b + c`; so GPU and CPU agree within `1e-6 × max(1, |v|)` for formulas of
//! `+ - * /` and within `1e-5 × max(1, |v|)` relative for formulas with `sqrt`, `exp`, `log`
//! or a real power ([`Formula::backend_tolerance`]), where the formula is well conditioned at
//! that pixel. Where it subtracts nearly equal quantities, rounding differences grow by the
//! condition number: on an NVIDIA H200, IBI, NDDI and VIBI differed by up to 4e-4 relative.
//! `tests/formula_catalogue.rs` checks every runnable catalogue index against the larger of
//! the two bounds, estimating the conditioning per pixel by finite differences. Pixels within
//! rounding of a domain edge or a `where` threshold, and subnormal values that a GPU may flush
//! to zero, are exceptions.

mod ast;
mod catalogue;
mod check;
mod error;
mod eval;
mod evaluate;
mod lexer;
mod parser;
mod program;
mod semantics;
mod symbols;
mod wgsl;

pub use catalogue::{CatalogueEntry, catalogue, catalogue_entry};
pub use error::FormulaError;
pub(crate) use evaluate::evaluate;
pub use symbols::{AVAILABLE_BANDS, UNAVAILABLE_BANDS};

use crate::error::{Error, Result};
use crate::sensor::BandRole;
use check::Checked;
use eval::CpuPlan;
use std::fmt;

/// A checked formula, ready to run on either backend with [`crate::Engine::formula`].
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    text: String,
    name: Option<String>,
    checked: Checked,
    /// Current constant values, in the order of `checked.constants`.
    values: Vec<Option<f64>>,
    plan: CpuPlan,
    wgsl: String,
}

impl Formula {
    /// Parses and checks a formula. Named constants take the catalogue's most common default
    /// (`L` = 0.5, `g` = 2.5, ...); those without one must be set with
    /// [`Formula::with_constant`] before running.
    pub fn parse(text: &str) -> std::result::Result<Formula, FormulaError> {
        Formula::build(text, None, &catalogue::free_constant_default)
    }

    /// The catalogue index `short_name` (`NDVI`, `EVI`, ...) with its own constant defaults.
    /// Fails with [`Error::UnknownName`] for a name not in the catalogue and with
    /// [`Error::InvalidParameter`] for an index that needs an unavailable band (`RE1`, ...)
    /// or a function landwatch lacks.
    pub fn catalogue(short_name: &str) -> Result<Formula> {
        let entry = catalogue_entry(short_name)?;
        let own = |name: &str| {
            entry
                .constants
                .iter()
                .find(|(n, _)| n == name)
                .map(|&(_, v)| v)
                .or_else(|| catalogue::free_constant_default(name))
        };
        Formula::build(&entry.formula, Some(&entry.short_name), &own).map_err(|e| {
            Error::InvalidParameter {
                name: "formula".into(),
                value: format!("{} = {}", entry.short_name, entry.formula),
                reason: format!("column {}: {}\n{}", e.column, e.message, e.pointer()),
            }
        })
    }

    fn build(
        text: &str,
        name: Option<&str>,
        constant: check::ConstantLookup<'_>,
    ) -> std::result::Result<Formula, FormulaError> {
        let expr = parser::parse(text)?;
        let checked = check::check(text, &expr, constant)?;
        let plan = CpuPlan::new(&checked.program);
        let wgsl = wgsl::generate(&checked.program, checked.bands.len());
        Ok(Formula {
            text: text.to_string(),
            name: name.map(String::from),
            values: checked.constants.iter().map(|&(_, v)| v).collect(),
            checked,
            plan,
            wgsl,
        })
    }

    /// Sets named constant `name`, failing when the formula does not use it or the value is
    /// not finite.
    pub fn with_constant(mut self, name: &str, value: f64) -> Result<Formula> {
        let Some(i) = self.checked.constants.iter().position(|(n, _)| n == name) else {
            let used: Vec<&str> = self
                .checked
                .constants
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            return Err(Error::UnknownName {
                kind: "formula constant",
                name: name.to_string(),
                known: if used.is_empty() {
                    "none: this formula uses no named constant".into()
                } else {
                    used.join(", ")
                },
            });
        };
        if !(value.is_finite() && (value as f32).is_finite()) {
            return Err(Error::InvalidParameter {
                name: name.to_string(),
                value: value.to_string(),
                reason: "must be a finite number within f32 range".into(),
            });
        }
        self.values[i] = Some(value);
        Ok(self)
    }

    /// The formula text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The catalogue short name, for a formula from [`Formula::catalogue`].
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The bands the formula reads, in slot order.
    pub fn bands(&self) -> &[BandRole] {
        &self.checked.bands
    }

    /// The named constants and their current values (`None`: no default, must be set).
    pub fn constants(&self) -> Vec<(&str, Option<f64>)> {
        self.checked
            .constants
            .iter()
            .zip(&self.values)
            .map(|((n, _), &v)| (n.as_str(), v))
            .collect()
    }

    /// The bound within which the GPU and the CPU agree on this formula, relative to
    /// `max(1, |value|)`: `1e-5` when it uses `sqrt`, `exp`, `log` or a real power, else
    /// `1e-6`, for pixels where the formula is well conditioned (see the module
    /// documentation).
    pub fn backend_tolerance(&self) -> f64 {
        let transcendental = self.checked.program.ops.iter().any(|op| {
            matches!(
                op,
                program::Op::Sqrt(_)
                    | program::Op::Exp(_)
                    | program::Op::Log(_)
                    | program::Op::Pow(..)
            )
        });
        if transcendental { 1e-5 } else { 1e-6 }
    }

    /// The generated WGSL kernel (without the common prefix of `shaders/common.wgsl`).
    pub fn wgsl(&self) -> &str {
        &self.wgsl
    }
}

impl std::str::FromStr for Formula {
    type Err = FormulaError;
    fn from_str(s: &str) -> std::result::Result<Formula, FormulaError> {
        Formula::parse(s)
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => f.write_str(n),
            None => write!(f, "formula {}", self.text),
        }
    }
}
