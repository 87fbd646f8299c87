//! CPU twins of `shaders/change.wgsl`, `shaders/change_histogram.wgsl` and
//! `shaders/change_codes.wgsl`.

use super::Chunk;
use super::classify::class_code;
use crate::change::{CHANGE_NODATA, OTHER_CHANGE, UNCHANGED, change_code};
use crate::classify::{OTHER, slot_const as c};
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

/// Integer square root, exact: the f64 square root is correctly rounded, and below 2³² it
/// never rounds up to the next integer (the gap to it is far above half an f64 ulp), so
/// truncation gives ⌊√m⌋ with no fix-up (the WGSL kernel, on f32, needs one).
#[inline]
fn isqrt(m: u32) -> u32 {
    f64::from(m).sqrt() as u32
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

/// `round(x·q)` (ties to even) clamped to ±1e9 and converted, like `quantize` in the WGSL
/// kernel. Rounding adds and removes ±2²³, which leaves an integer under the default rounding
/// mode for |v| < 2²³ (the sum lies where the spacing of f32 is exactly 1; larger f32 values
/// are integers already); unlike `f32::round_ties_even` it needs no SSE4.1, so the loops
/// around it vectorise.
#[inline]
fn quantize(x: f32, q: f32) -> i32 {
    const TWO_23: f32 = 8_388_608.0;
    let v = x * q;
    let rounded = if v.abs() < TWO_23 {
        let m = TWO_23.copysign(v);
        (v + m) - m
    } else {
        v
    };
    rounded.clamp(-1e9, 1e9) as i32
}

/// One date's samples of one band, quantized and shifted by the date's offset.
#[inline]
fn quantize_band(samples: &[f32], q: f32, offset: i32, out: &mut [i32]) {
    for (o, &x) in out.iter_mut().zip(samples) {
        *o = quantize(x, q).wrapping_add(offset);
    }
}

/// Scratch of one chunk of pass 1.
#[derive(Default)]
struct PassOne {
    before: Vec<i32>,
    after: Vec<i32>,
    m2: Vec<u32>,
    direction: Vec<u32>,
    class_before: Vec<u8>,
    class_after: Vec<u8>,
    /// Per band, both dates' values, kept only for index differencing.
    bands: Vec<(Vec<i32>, Vec<i32>)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<PassOne> = std::cell::RefCell::default();
}

/// Pass 1 over one chunk: classes of both dates, the direction sector and the change
/// measure, packed like the WGSL kernel; returns the count of pixels valid on both dates.
///
/// Each step runs over the whole chunk as a loop over plain slices (per band for the change
/// vector), so the compiler vectorises it; the arithmetic is the kernel's, in the same order.
pub(crate) fn change_chunk(p: &PixelParams, chunk: &Chunk<'_>, out: &mut [u32]) -> u64 {
    let k = &p.consts;
    let g = &p.iconsts;
    let nb = g[12] as usize;
    let kind = g[13];
    let s = &chunk.slots;
    let n = out.len();
    let (qb, qa) = (k[c::QUANTIZE_BEFORE], k[c::QUANTIZE_AFTER]);
    SCRATCH.with_borrow_mut(|t| {
        for v in [&mut t.before, &mut t.after] {
            v.resize(n, 0);
        }
        t.m2.clear();
        t.m2.resize(n, 0);
        t.direction.clear();
        t.direction.resize(n, 0);
        t.bands.resize_with(nb, Default::default);
        for j in 0..nb {
            quantize_band(&s[j][..n], qb, g[14], &mut t.before);
            quantize_band(&s[nb + j][..n], qa, g[15], &mut t.after);
            let (gain, offset) = (g[j], g[6 + j]);
            for a in t.after.iter_mut() {
                *a = gain.wrapping_mul(*a).wrapping_add(offset) >> 12;
            }
            let lanes = t
                .before
                .iter()
                .zip(&t.after)
                .zip(t.m2.iter_mut().zip(&mut t.direction));
            for ((&b, &a), (m2, dir)) in lanes {
                let d = a.wrapping_sub(b).clamp(-MAX_DIFFERENCE, MAX_DIFFERENCE);
                *m2 += (d * d) as u32;
                *dir |= u32::from(d > 0) << j;
            }
            if kind != 0 {
                let (bj, aj) = &mut t.bands[j];
                bj.clone_from(&t.before);
                aj.clone_from(&t.after);
            }
        }
        let classes = |first: usize, shift2, shift4, out: &mut Vec<u8>| {
            out.resize(n, 0);
            let bands = (s[first].iter().zip(s[first + 1]))
                .zip(s[first + 2].iter().zip(s[first + 3]))
                .zip(s[first + 4]);
            for (o, (((&b, &g), (&r, &nir)), &s1)) in out.iter_mut().zip(bands) {
                *o = class_code(k, [b, g, r, nir, s1], shift2, shift4);
            }
        };
        if nb >= 5 {
            classes(0, k[c::SHIFT2], k[c::SHIFT4], &mut t.class_before);
            classes(
                nb,
                k[c::AFTER_SHIFT2],
                k[c::AFTER_SHIFT4],
                &mut t.class_after,
            );
        } else {
            // Without SWIR1 there are no classes: every valid pixel is "other".
            for v in [&mut t.class_before, &mut t.class_after] {
                v.clear();
                v.resize(n, OTHER);
            }
        }
        if kind == 0 {
            for (m2, &dir) in t.m2.iter_mut().zip(&t.direction) {
                *m2 = dir << 8 | isqrt(*m2) << 16;
            }
        } else {
            for (i, m2) in t.m2.iter_mut().enumerate() {
                let mut b = [0i32; 6];
                let mut a = [0i32; 6];
                for (j, (bj, aj)) in t.bands.iter().enumerate() {
                    b[j] = bj[i];
                    a[j] = aj[i];
                }
                *m2 = t.direction[i] << 8 | index_change(kind, &b, &a) << 16;
            }
        }
        let lanes = (t.class_before.iter().zip(&t.class_after)).zip(t.m2.iter().zip(chunk.valid));
        for (o, ((&before, &after), (&rest, &ok))) in out.iter_mut().zip(lanes) {
            let word = u32::from(before) | u32::from(after) << 4 | rest;
            *o = if ok { word } else { NODATA_WORD };
        }
    });
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
    fn quantize_rounds_ties_to_even_everywhere() {
        let mut x = 1.0e-3f32;
        while x < 3.0e9 {
            for v in [x, -x, x.floor() + 0.5, -(x.floor() + 0.5)] {
                let want = v.round_ties_even().clamp(-1e9, 1e9) as i32;
                assert_eq!(super::quantize(v, 1.0), want, "{v}");
            }
            x *= 1.0001;
        }
    }

    #[test]
    fn isqrt_is_exact() {
        let squares = (1u64..=65535).flat_map(|k| [k * k - 1, k * k, k * k + 1]);
        for m in squares
            .filter_map(|m| u32::try_from(m).ok())
            .chain([0, u32::MAX])
        {
            let s = super::isqrt(m);
            assert!(u64::from(s) * u64::from(s) <= u64::from(m));
            assert!(u64::from(s + 1) * u64::from(s + 1) > u64::from(m));
        }
    }
}
