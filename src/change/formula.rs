//! Change detection by differencing any formula index between two dates.
//!
//! The second date is mapped onto the first by the same relative radiometric normalization
//! as the other change methods, the formula is evaluated on both dates, |Δ| is quantized to
//! thousandths, and the threshold
//! (fixed, or Otsu's on the histogram of |Δ|) decides. Formula values are floats whose last
//! bits differ between WGSL and Rust (see the module's tolerance), so a decision taken on GPU
//! values could flip at the threshold. To keep decisions identical on every backend, as every
//! change method's are, the values behind the decision are always computed by the CPU twin;
//! the report says so.

use crate::backend::{Computed, Engine, Execution, cpu_device};
use crate::change::{
    CHANGE_NODATA, OTHER_CHANGE, Threshold, UNCHANGED, normalized_copy, otsu, relate_dates,
};
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::pixel::INDEX_NODATA;
use crate::raster::{BandStack, Raster};

/// The result of formula differencing.
#[derive(Debug, Clone)]
pub struct FormulaChange {
    /// `after − before` of the formula (nodata −9999 where either date is undefined).
    pub delta: Raster<f32>,
    /// Change codes: 5 (other change) where |Δ| exceeds the threshold, 0 elsewhere, 255 nodata.
    pub change: Raster<u8>,
    /// The threshold on |Δ|, in thousandths.
    pub threshold: u32,
    /// Histogram of |Δ| in thousandths (one bin per thousandth, the last bin open-ended).
    pub histogram: Vec<u32>,
}

/// Bins of the |Δ| histogram: thousandths up to 65.535.
const BINS: usize = 65536;

/// [`Engine::formula_change`]: differences `formula` between two dates on one grid and
/// thresholds |Δ| (in thousandths of the index) with `threshold`, a fixed value or Otsu's,
/// on values of the CPU twin.
pub(crate) fn difference(
    before: &BandStack,
    after: &BandStack,
    formula: &Formula,
    threshold: Threshold,
) -> Result<Computed<FormulaChange>> {
    if (before.width(), before.height()) != (after.width(), after.height())
        || before.georef.zip(after.georef).is_some_and(|(a, b)| a != b)
    {
        return Err(Error::GridMismatch {
            what: format!(
                "the dates are {}×{} and {}×{} pixels, or on different grids",
                before.width(),
                before.height(),
                after.width(),
                after.height()
            ),
        });
    }
    // The second date is first mapped onto the first's radiometry, as for every other
    // change method (a season must not light up everywhere).
    let relation = relate_dates(before, after, true)?;
    let after = normalized_copy(before, after, &relation.normalization)?;
    let cpu = Engine::cpu();
    let b = cpu.formula(before, formula)?.output;
    let a = cpu.formula(&after, formula)?.output;
    let quantized: Vec<Option<u32>> = b
        .data
        .iter()
        .zip(&a.data)
        .map(|(&x, &y)| {
            let defined = x != INDEX_NODATA && y != INDEX_NODATA;
            let d = (f64::from(y) - f64::from(x)).abs() * 1000.0;
            (defined && d.is_finite()).then(|| d.round().min((BINS - 1) as f64) as u32)
        })
        .collect();
    let mut histogram = vec![0u32; BINS];
    for q in quantized.iter().flatten() {
        histogram[*q as usize] += 1;
    }
    if histogram.iter().all(|&c| c == 0) {
        return Err(Error::AllNodata {
            what: format!("{formula} on both dates"),
        });
    }
    let threshold = match threshold {
        Threshold::Otsu => otsu(&histogram),
        Threshold::Fixed(t) => t,
    };
    let change = quantized
        .iter()
        .map(|q| match q {
            None => CHANGE_NODATA,
            Some(q) if *q > threshold => OTHER_CHANGE,
            Some(_) => UNCHANGED,
        })
        .collect();
    let delta = b
        .data
        .iter()
        .zip(&a.data)
        .map(|(&x, &y)| {
            if x == INDEX_NODATA || y == INDEX_NODATA {
                INDEX_NODATA
            } else {
                y - x
            }
        })
        .collect();
    Ok(Computed {
        output: FormulaChange {
            delta: Raster {
                width: before.width(),
                height: before.height(),
                data: delta,
                nodata: INDEX_NODATA,
                georef: before.georef,
            },
            change: Raster {
                width: before.width(),
                height: before.height(),
                data: change,
                nodata: CHANGE_NODATA,
                georef: before.georef,
            },
            threshold,
            histogram,
        },
        execution: Execution {
            device: cpu_device(),
            fallback: None,
        },
    })
}
