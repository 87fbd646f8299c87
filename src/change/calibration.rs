//! From stored samples to reflectance: the per-band map that the contextual detector applies
//! to each date before anything else, so that its class rules and cloud tests read
//! reflectance whatever the input.
//!
//! Every band of a date is mapped to integers in units of 10⁻⁴ reflectance:
//! `value = round(sample × factor) + offset`, in f32 then i32, the same on both backends.
//!
//! * Calibrated input (a reflectance scale other than 1, or float samples) uses its own
//!   radiometry: `factor = scale × 10⁴`, `offset = round(offset × 10⁴)`.
//! * Raw digital numbers (integer samples with the identity radiometry: `landsat-dn`, the
//!   GF/ZY presets, or a stack read as stored) get a per-scene *relative* calibration: each
//!   band's 2nd and 98th percentiles are mapped linearly onto the reference reflectances of
//!   [`REFERENCE_LOW`] and [`REFERENCE_HIGH`]. Both percentiles come from the scene itself,
//!   so the map follows its own gain and offset (path radiance included); the references are
//!   the median percentiles of Sentinel-2 L1C top-of-atmosphere reflectance over the nine
//!   OSCD development cities (`docs/ACCURACY.md`). The class rules then mean the same thing
//!   on digital numbers as on reflectance, to the extent that a scene's brightest and darkest
//!   2% resemble those of the reference cities.

use crate::raster::{BandStack, DataType};
use crate::sensor::BandRole;

/// Reference top-of-atmosphere reflectance at the 2nd percentile of a scene, per role
/// (blue, green, red, NIR, SWIR1, SWIR2): the median over the 18 dates of the nine OSCD
/// development cities.
pub const REFERENCE_LOW: [f64; 6] = [0.0981, 0.0765, 0.0532, 0.0600, 0.0334, 0.0201];
/// Reference top-of-atmosphere reflectance at the 98th percentile of a scene, per role (the
/// same median).
pub const REFERENCE_HIGH: [f64; 6] = [0.1941, 0.1884, 0.2075, 0.3156, 0.2948, 0.2236];
/// Integer units per unit of reflectance.
pub const UNITS: f64 = 1e4;
/// Calibrated values are clamped to ±this many units (±13 reflectance), so that the Q12
/// normalization of a value never overflows an i32.
pub const MAX_UNITS: i32 = 131_071;

/// The highest median reflectance accepted in any band of a calibrated date. Top-of-atmosphere
/// reflectance of snow and cloud stays below about 1.2, so a median above this is not
/// reflectance: most often digital numbers stored as floats or without their scale.
pub const MAX_MEDIAN_REFLECTANCE: f64 = 1.5;

/// Pixels per band read by [`median_reflectance_above_limit`].
const PLAUSIBILITY_SAMPLES: usize = 65_536;

/// For a calibrated stack (not [raw digital numbers](is_raw_dn)), the first band, as
/// `(role, median)`, whose median reflectance under the stack's radiometry exceeds
/// [`MAX_MEDIAN_REFLECTANCE`]; `None` when every band is plausible or the stack is raw.
/// Reads at most 65,536 evenly spread valid samples per band.
pub fn median_reflectance_above_limit(stack: &BandStack) -> Option<(Option<BandRole>, f64)> {
    if is_raw_dn(stack) {
        return None;
    }
    let r = stack.radiometry;
    let step = (stack.len() / PLAUSIBILITY_SAMPLES).max(1);
    stack.bands().iter().find_map(|band| {
        let mut values: Vec<f32> = (0..band.data.len())
            .step_by(step)
            .map(|i| band.data.get_f32(i))
            .filter(|&v| band.is_valid(v))
            .collect();
        if values.is_empty() {
            return None;
        }
        let middle = values.len() / 2;
        let (_, median, _) = values.select_nth_unstable_by(middle, f32::total_cmp);
        let reflectance = f64::from(*median) * r.scale + r.offset;
        (reflectance > MAX_MEDIAN_REFLECTANCE).then_some((band.role, reflectance))
    })
}

/// The map of one band of one date onto 10⁻⁴ reflectance.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BandMap {
    /// Multiplies the stored sample (f32 on both backends).
    pub factor: f32,
    /// Added after rounding, in 10⁻⁴ reflectance.
    pub offset: i32,
}

impl BandMap {
    /// The identity on values already in 10⁻⁴ reflectance.
    pub const IDENTITY: BandMap = BandMap {
        factor: 1.0,
        offset: 0,
    };

    /// The calibrated value of a valid sample `x` (the CPU twin of `calibrate` in
    /// `shaders/change_context.wgsl`).
    #[inline(always)]
    pub fn apply(self, x: f32) -> i32 {
        const TWO_23: f32 = 8_388_608.0;
        let v = x * self.factor;
        // Round half to even, as WGSL's round(): exact for |v| < 2²³, and larger values are
        // integers already (and clamped below).
        let m = TWO_23.copysign(v);
        let rounded = if v.abs() < TWO_23 { (v + m) - m } else { v };
        let limit = MAX_UNITS as f32;
        let clamped = rounded.clamp(-limit, limit);
        let clamped = if clamped.is_nan() { 0.0 } else { clamped };
        (clamped as i32)
            .saturating_add(self.offset)
            .clamp(-MAX_UNITS, MAX_UNITS)
    }
}

/// How a date's samples become reflectance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum CalibrationKind {
    /// The stack's own radiometry.
    Radiometry,
    /// Relative calibration of raw digital numbers by percentiles.
    Percentiles,
}

/// The band maps of one date, in the order of the change vector's roles.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Calibration {
    /// How the maps were made.
    pub kind: CalibrationKind,
    /// One map per role of the change vector (unused entries are the identity).
    pub bands: [BandMap; 6],
}

/// True when a stack holds raw digital numbers: integer samples with the identity radiometry.
pub fn is_raw_dn(stack: &BandStack) -> bool {
    let r = stack.radiometry;
    let integer = stack
        .bands()
        .iter()
        .all(|b| b.data.data_type() != DataType::F32);
    integer && r.scale == 1.0 && r.offset == 0.0
}

impl Calibration {
    /// The calibration of `stack` for the bands `roles`: its radiometry, or for raw digital
    /// numbers the percentile map from `samples` (per role, the valid samples of a sample of
    /// the scene; they are sorted in place).
    pub fn of(stack: &BandStack, roles: &[BandRole], samples: &mut [Vec<f32>]) -> Calibration {
        let mut bands = [BandMap::IDENTITY; 6];
        if !is_raw_dn(stack) {
            let r = stack.radiometry;
            let float = stack
                .bands()
                .iter()
                .any(|b| b.data.data_type() == DataType::F32);
            // Float samples with the identity radiometry are reflectance already.
            let scale = if float && r.scale == 1.0 {
                1.0
            } else {
                r.scale
            };
            let map = BandMap {
                factor: (scale * UNITS) as f32,
                offset: (r.offset * UNITS).round().clamp(-1e9, 1e9) as i32,
            };
            bands[..roles.len()].fill(map);
            return Calibration {
                kind: CalibrationKind::Radiometry,
                bands,
            };
        }
        for (j, (&role, values)) in roles.iter().zip(samples.iter_mut()).enumerate() {
            let k = role as usize;
            bands[j] = percentile_map(values, REFERENCE_LOW[k], REFERENCE_HIGH[k]);
        }
        Calibration {
            kind: CalibrationKind::Percentiles,
            bands,
        }
    }
}

/// The map sending the 2nd and 98th percentiles of `values` to `low` and `high`
/// reflectance; the identity scaled by 10⁻⁴ when the band is flat or empty.
fn percentile_map(values: &mut [f32], low: f64, high: f64) -> BandMap {
    if values.is_empty() {
        return BandMap::IDENTITY;
    }
    values.sort_unstable_by(f32::total_cmp);
    let at = |p: f64| f64::from(values[((values.len() - 1) as f64 * p).round() as usize]);
    let (p2, p98) = (at(0.02), at(0.98));
    if p98 <= p2 {
        return BandMap::IDENTITY;
    }
    let factor = (high - low) * UNITS / (p98 - p2);
    BandMap {
        factor: factor as f32,
        offset: ((low * UNITS) - p2 * f64::from(factor as f32))
            .round()
            .clamp(-1e9, 1e9) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_land_on_the_references() {
        let mut v: Vec<f32> = (0..1000).map(|i| (20 + i % 100) as f32).collect();
        let m = percentile_map(&mut v, 0.05, 0.35);
        // Ten copies of 20..=119: the 2nd percentile (rank 20 of 999) is 22, the 98th
        // (rank 979) is 117.
        assert!((m.apply(22.0) - 500).abs() <= 1, "{}", m.apply(22.0));
        assert!((m.apply(117.0) - 3500).abs() <= 1, "{}", m.apply(117.0));
    }

    #[test]
    fn apply_rounds_half_to_even_and_clamps() {
        let m = BandMap {
            factor: 1.0,
            offset: 0,
        };
        assert_eq!(m.apply(2.5), 2);
        assert_eq!(m.apply(3.5), 4);
        assert_eq!(m.apply(-2.5), -2);
        assert_eq!(m.apply(1e12), MAX_UNITS);
        assert_eq!(m.apply(f32::NAN), 0);
    }

    #[test]
    fn a_flat_band_keeps_the_identity() {
        let mut v = vec![7.0f32; 50];
        assert_eq!(percentile_map(&mut v, 0.1, 0.2), BandMap::IDENTITY);
    }
}
