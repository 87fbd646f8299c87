//! The noise model of the contextual detector: how the two dates relate when nothing
//! changed, estimated with medians only, so that neither heavy tails, clouds nor a large
//! changed area can pull it.
//!
//! On calibrated values (see [`super::calibration`]) of pixels valid on both dates:
//! 1. each band of the second date is mapped onto the first by matching median and median
//!    absolute deviation (MAD): `gain = MAD₁ / MAD₂` (clamped to 0.25–4), `offset = median₁ −
//!    gain × median₂`, in Q12 fixed point, so both backends apply the same integers. Values
//!    quantized in coarse steps (8-bit digital numbers) have their ties spread over their
//!    step first, so that the medians and MADs are not whole steps;
//! 2. the per-band difference `mapped second date − first date` then has a median (kept, so
//!    that a residual bias is not taken for change) and a robust spread
//!    `σ = 1.4826 × MAD`: the standard deviation of an unchanged pixel's difference if
//!    unchanged pixels are the majority and their differences are normal. σ is never below
//!    the quantization noise of the difference (`√(q₁² + q₂²)/√12` for sample steps `q₁`
//!    and `q₂`): on coarse digital numbers most unchanged differences are exactly 0, and their
//!    MAD says nothing about the noise.
//!
//! A difference is measured in units of σ/256 through an integer weight and shift
//! ([`NoiseModel::weights`]), so the change score of a pixel is the same on every backend.

use super::calibration::MAX_UNITS;

/// The most bands of a change vector.
pub const MAX_BANDS: usize = 6;
/// Score units per σ: scores and thresholds are in σ/256.
pub const SCORE_UNITS: f64 = 256.0;
/// A standardized difference is clamped to ±this many σ/256 units, so that six squares fit a
/// u32.
pub const MAX_Z: i32 = 26_000;

/// The relation of the two dates and the noise of their difference, per band.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NoiseModel {
    /// Bands in use.
    pub bands: usize,
    /// Q12 gain of the map of the second date onto the first.
    pub gain_q12: [i32; MAX_BANDS],
    /// Q12 offset of that map, in 10⁻⁴ reflectance.
    pub offset_q12: [i32; MAX_BANDS],
    /// Median difference (mapped second date − first date), in 10⁻⁴ reflectance.
    pub median: [i32; MAX_BANDS],
    /// Robust standard deviation of the difference, in 10⁻⁴ reflectance (at least 1).
    pub sigma: [f64; MAX_BANDS],
    /// Pixels the model was estimated on.
    pub samples: usize,
}

/// The median of `v` (sorted in place): the lower middle value for an even count.
fn median(v: &mut [i64]) -> i64 {
    if v.is_empty() {
        return 0;
    }
    let mid = (v.len() - 1) / 2;
    *v.select_nth_unstable(mid).1
}

/// Median and MAD of `v` (reordered in place).
fn median_mad(v: &mut [i64]) -> (i64, i64) {
    let m = median(v);
    let mut dev: Vec<i64> = v.iter().map(|&x| (x - m).abs()).collect();
    (m, median(&mut dev))
}

/// Median and MAD of values quantized in steps of `step`, each tie spread evenly over its
/// step (the continuity correction): on coarse digital numbers the plain MAD is a whole
/// number of steps, off by up to half a step, and a gain from it by as much.
fn continuous_median_mad(v: &mut [i64], step: f64) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    v.sort_unstable();
    let mut spread = Vec::with_capacity(v.len());
    let mut start = 0;
    while start < v.len() {
        let end = start + v[start..].partition_point(|&x| x == v[start]);
        let ties = (end - start) as f64;
        spread.extend(
            (0..end - start).map(|k| v[start] as f64 + step * ((k as f64 + 0.5) / ties - 0.5)),
        );
        start = end;
    }
    spread.sort_unstable_by(f64::total_cmp);
    let middle = |s: &[f64]| s[(s.len() - 1) / 2];
    let m = middle(&spread);
    let mut dev: Vec<f64> = spread.iter().map(|&x| (x - m).abs()).collect();
    dev.sort_unstable_by(f64::total_cmp);
    (m, middle(&dev))
}

/// `(gain · after + offset) >> 12` in the kernels' i32 arithmetic (the Q12 map of a
/// calibrated second-date value onto the first date).
#[inline(always)]
pub fn map_q12(gain_q12: i32, offset_q12: i32, after: i32) -> i32 {
    gain_q12.wrapping_mul(after).wrapping_add(offset_q12) >> 12
}

impl NoiseModel {
    /// The model of `bands` bands from calibrated pairs: `pairs[j]` holds, for band `j`, the
    /// (first date, second date) values of the same pixels in the same order, and `steps[j]`
    /// the value of one step of each date's samples (10⁻⁴ reflectance per digital number).
    pub fn estimate(bands: usize, pairs: &[Vec<(i32, i32)>], steps: &[(f64, f64)]) -> NoiseModel {
        let mut model = NoiseModel {
            bands,
            gain_q12: [4096; MAX_BANDS],
            offset_q12: [0; MAX_BANDS],
            median: [0; MAX_BANDS],
            sigma: [1.0; MAX_BANDS],
            samples: pairs.first().map_or(0, Vec::len),
        };
        for (j, p) in pairs.iter().enumerate().take(bands) {
            if p.is_empty() {
                continue;
            }
            let mut first: Vec<i64> = p.iter().map(|&(b, _)| i64::from(b)).collect();
            let mut second: Vec<i64> = p.iter().map(|&(_, a)| i64::from(a)).collect();
            let (q1, q2) = steps.get(j).copied().unwrap_or((1.0, 1.0));
            let (m1, d1) = continuous_median_mad(&mut first, q1.max(1.0));
            let (m2, d2) = continuous_median_mad(&mut second, q2.max(1.0));
            let gain = if d1 > 0.0 && d2 > 0.0 {
                (d1 / d2).clamp(0.25, 4.0)
            } else {
                1.0
            };
            let gain_q12 = (gain * 4096.0).round() as i32;
            let offset = (m1 - gain_q12 as f64 / 4096.0 * m2) * 4096.0;
            let limit = f64::from(MAX_UNITS) * 4096.0;
            let offset_q12 = offset.round().clamp(-limit, limit) as i32;
            model.gain_q12[j] = gain_q12;
            model.offset_q12[j] = offset_q12;
            let mut differences: Vec<i64> = p
                .iter()
                .map(|&(b, a)| i64::from(map_q12(gain_q12, offset_q12, a)) - i64::from(b))
                .collect();
            let (m, mad) = median_mad(&mut differences);
            model.median[j] = m.clamp(-i64::from(MAX_UNITS), i64::from(MAX_UNITS)) as i32;
            let q2 = q2 * f64::from(gain_q12) / 4096.0;
            let quantization = (q1 * q1 + q2 * q2).sqrt() / 12f64.sqrt();
            model.sigma[j] = (1.4826 * mad as f64).max(quantization).max(1.0);
        }
        model
    }

    /// Per band, the integer weight and right shift that turn a difference `e` (in 10⁻⁴
    /// reflectance, |e| ≤ 2¹⁸) into σ/256 units: `z = (e · weight) >> shift`. The weight is
    /// below 2¹² so that the product fits an i32.
    pub fn weights(&self) -> ([i32; MAX_BANDS], [u32; MAX_BANDS]) {
        let mut weight = [0; MAX_BANDS];
        let mut shift = [0; MAX_BANDS];
        for j in 0..self.bands {
            let per_unit = SCORE_UNITS / self.sigma[j];
            // The largest shift that keeps the weight below 2¹².
            let mut s = 0u32;
            while s < 30 && per_unit * f64::from(1u32 << (s + 1)) < 4096.0 {
                s += 1;
            }
            weight[j] = (per_unit * f64::from(1u32 << s)).round().max(1.0) as i32;
            shift[j] = s;
        }
        (weight, shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gain_and_bias_are_undone_and_the_noise_is_measured() {
        // Second date = 2 × first date + 300, plus noise spread evenly over −20..=20.
        let pairs: Vec<(i32, i32)> = (0..4001)
            .map(|i| {
                let b = 1000 + (i * 37) % 2000;
                let noise = (i * 7919) % 41 - 20;
                (b, 2 * b + 300 + noise)
            })
            .collect();
        let model = NoiseModel::estimate(1, &[pairs], &[(1.0, 1.0)]);
        assert!((model.gain_q12[0] - 2048).abs() <= 16, "{model:?}");
        // After the gain of one half the differences spread evenly over −10..=10: MAD 5,
        // σ ≈ 7.4.
        assert!((model.sigma[0] - 7.41).abs() < 1.6, "{model:?}");
        assert!(model.median[0].abs() <= 2, "{model:?}");
        let (w, s) = model.weights();
        let z = (i64::from(7) * i64::from(w[0])) >> s[0];
        let want = 7.0 * SCORE_UNITS / model.sigma[0];
        assert!(
            (z as f64 - want).abs() < 3.0,
            "7 units in σ/256: {z}, want {want}"
        );
    }

    #[test]
    fn coarse_digital_numbers_set_the_noise_floor() {
        // Steps of 40 units (8-bit digital numbers): most differences are exactly 0.
        let pairs: Vec<(i32, i32)> = (0..1000)
            .map(|i| {
                (
                    40 * (i % 50),
                    40 * (i % 50) + if i % 7 == 0 { 40 } else { 0 },
                )
            })
            .collect();
        let model = NoiseModel::estimate(1, &[pairs], &[(40.0, 40.0)]);
        let floor = (2.0f64 * 1600.0).sqrt() / 12f64.sqrt();
        assert!((model.sigma[0] - floor).abs() < 1.0, "{model:?}");
    }

    #[test]
    fn weights_stay_below_the_overflow_bound() {
        for sigma in [1.0, 3.3, 100.0, 1e4, 1e6] {
            let mut model = NoiseModel::estimate(1, &[vec![(0, 0)]], &[(1.0, 1.0)]);
            model.sigma[0] = sigma;
            let (w, s) = model.weights();
            assert!(w[0] < 4096 && w[0] >= 1, "{sigma}: {w:?}");
            let z = (f64::from(1000) * f64::from(w[0])) / f64::from(1u32 << s[0]);
            let want = 1000.0 * SCORE_UNITS / sigma;
            assert!((z - want).abs() <= want * 0.02 + 1.0, "{sigma}: {z} {want}");
        }
    }
}
