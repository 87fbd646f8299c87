//! CPU twins of `shaders/change.wgsl`, `shaders/change_histogram.wgsl` and
//! `shaders/change_codes.wgsl`.

use super::Chunk;
use super::classify::class_code;
use crate::change::{CHANGE_NODATA, OTHER_CHANGE, UNCHANGED, change_code};
use crate::classify::slot_const as c;
use crate::pixel::{PixelJob, PixelParams};
use rayon::prelude::*;

/// Largest per-band difference, so that six squares fit a u32.
const MAX_DIFFERENCE: i32 = 23170;

/// The 4-bit class value that marks nodata in a pass-1 word.
pub(crate) const NODATA_CLASS: u32 = 15;

/// The pass-1 word of a nodata pixel.
const NODATA_WORD: u32 = NODATA_CLASS | NODATA_CLASS << 4;

/// Bins of the magnitude histogram: one per possible u16 magnitude.
pub(crate) const HISTOGRAM_BINS: usize = 65536;

/// Integer square root, exact.
fn isqrt(m: u32) -> u32 {
    let mut s = (m as f64).sqrt() as u32;
    while s * s > m {
        s -= 1;
    }
    while (s + 1) * (s + 1) <= m {
        s += 1;
    }
    s
}

/// A normalized difference of two integer sums in thousandths, truncated toward zero; `None`
/// when the denominator is not positive (WGSL twin: `nd_thousandths`).
fn nd_thousandths(p: i32, m: i32) -> Option<i32> {
    let den = p.wrapping_add(m);
    (den > 0).then(|| p.wrapping_sub(m).wrapping_mul(1000) / den)
}

/// |ΔND| in thousandths of the index `kind` (1 NDVI, 2 BSI, 3 NDBI) over blue, green, red,
/// NIR, SWIR1 values; 0 where either date's index is undefined.
fn index_change(kind: i32, b: &[i32; 6], a: &[i32; 6]) -> u32 {
    let nd = |v: &[i32; 6]| match kind {
        1 => nd_thousandths(v[3], v[2]),
        2 => nd_thousandths(v[4].wrapping_add(v[2]), v[3].wrapping_add(v[0])),
        _ => nd_thousandths(v[4], v[3]),
    };
    match (nd(b), nd(a)) {
        (Some(before), Some(after)) => after.wrapping_sub(before).unsigned_abs().min(65535),
        _ => 0,
    }
}

/// `round(x·q)` clamped to ±1e9 and converted, like `quantize` in the WGSL kernel.
#[inline]
fn quantize(x: f32, q: f32) -> i32 {
    (x * q).round_ties_even().clamp(-1e9, 1e9) as i32
}

/// Pass 1 over one chunk: classes of both dates and the integer change-vector magnitude,
/// packed like the WGSL kernel; returns the count of pixels valid on both dates.
pub(crate) fn change_chunk(p: &PixelParams, chunk: &Chunk<'_>, out: &mut [u32]) -> u64 {
    let k = &p.consts;
    let g = &p.iconsts;
    let nb = g[12] as usize;
    let s = &chunk.slots;
    let (qb, qa) = (k[c::QUANTIZE_BEFORE], k[c::QUANTIZE_AFTER]);
    for (i, o) in out.iter_mut().enumerate() {
        if !chunk.valid[i] {
            *o = NODATA_WORD;
            continue;
        }
        let date = |first: usize| [0, 1, 2, 3, 4].map(|b| s[first + b][i]);
        let before = class_code(k, date(0), k[c::SHIFT2], k[c::SHIFT4]);
        let after = class_code(k, date(nb), k[c::AFTER_SHIFT2], k[c::AFTER_SHIFT4]);
        let (mut b, mut a) = ([0i32; 6], [0i32; 6]);
        let mut m2 = 0u32;
        let mut direction = 0u32;
        for j in 0..nb {
            b[j] = quantize(s[j][i], qb).wrapping_add(g[14]);
            let after = quantize(s[nb + j][i], qa).wrapping_add(g[15]);
            a[j] = g[j].wrapping_mul(after).wrapping_add(g[6 + j]) >> 12;
            let d = a[j]
                .wrapping_sub(b[j])
                .clamp(-MAX_DIFFERENCE, MAX_DIFFERENCE);
            m2 += (d * d) as u32;
            direction |= u32::from(d > 0) << j;
        }
        let measure = match g[13] {
            0 => isqrt(m2),
            kind => index_change(kind, &b, &a),
        };
        *o = u32::from(before) | u32::from(after) << 4 | direction << 8 | measure << 16;
    }
    chunk.valid.iter().map(|&v| u64::from(v)).sum()
}

/// Histogram of pass-1 magnitudes over valid pixels.
pub(crate) fn magnitude_histogram(words: &[u32]) -> Vec<u32> {
    words
        .par_chunks(1 << 16)
        .fold(
            || vec![0u32; HISTOGRAM_BINS],
            |mut h, chunk| {
                for &w in chunk {
                    if w & 0xf != NODATA_CLASS {
                        h[(w >> 16) as usize] += 1;
                    }
                }
                h
            },
        )
        .reduce(
            || vec![0u32; HISTOGRAM_BINS],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x = x.wrapping_add(y);
                }
                a
            },
        )
}

/// Pass 2 over one chunk: change codes from pass-1 words (slot 0, raw u32 words).
pub(crate) fn change_codes(job: &PixelJob<'_>, out: &mut [u8]) -> u64 {
    let crate::raster::BandData::U32(words) = job.slots[0] else {
        unreachable!("pass 2 reads the u32 words of pass 1");
    };
    let threshold = job.params.iconsts[0] as u32;
    let method = job.params.iconsts[1];
    out.par_chunks_mut(1 << 16)
        .zip(words.par_chunks(1 << 16))
        .map(|(out, words)| {
            let mut valid = 0;
            for (o, &w) in out.iter_mut().zip(words) {
                let (before, after, magnitude) = ((w & 0xf) as u8, (w >> 4 & 0xf) as u8, w >> 16);
                *o = if u32::from(before) == NODATA_CLASS || u32::from(after) == NODATA_CLASS {
                    CHANGE_NODATA
                } else {
                    valid += 1;
                    let typed = change_code(before, after);
                    let above = magnitude > threshold;
                    match method {
                        0 if !above => UNCHANGED,
                        0 if typed == UNCHANGED => OTHER_CHANGE,
                        0 => typed,
                        1 if above => OTHER_CHANGE,
                        1 => UNCHANGED,
                        _ => typed,
                    }
                };
            }
            valid
        })
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn isqrt_is_exact() {
        for m in [0u32, 1, 2, 3, 4, 15, 16, 17, 99_999, 1 << 31, 3_221_225_472] {
            let s = super::isqrt(m);
            assert!(u64::from(s) * u64::from(s) <= u64::from(m));
            assert!(u64::from(s + 1) * u64::from(s + 1) > u64::from(m));
        }
    }
}
