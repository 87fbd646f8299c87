//! CPU twin of `shaders/change_context.wgsl`: the scores and decisions of the contextual
//! change detector ([`crate::change::context`]).
//!
//! The window is processed in blocks of rows, in parallel. A block first calibrates its rows
//! and the halo rows it needs into integer planes (one per band and date, and a validity
//! row), then computes the scores of its rows and of `smoothing` rows around them, shift by
//! shift over whole rows (loops over contiguous pixels that vectorise), then decides each of
//! its output pixels. Every operation is the kernel's, in integers or correctly rounded f32,
//! so the words are the GPU's bit for bit.

// Row loops index several planes in step; an iterator chain would hide the pixel.
#![allow(clippy::needless_range_loop)]

use super::change::change_type;
use super::classify::{class_code, vnir_class_code};
use crate::change::context::{ContextJob, ContextParams};
use crate::change::noise::MAX_Z;
use crate::classify::{VEGETATION, WATER};
use crate::pixel::PixelJob;
use rayon::prelude::*;

/// A pixel with no score (not valid on both dates).
const NO_SCORE: u32 = u32::MAX;
/// Differences are clamped to ±this before weighting (`MAX_DIFFERENCE` in the kernel).
const MAX_DIFFERENCE: i32 = 262_144;
/// Pixels a block of rows aims at.
const BLOCK_PIXELS: usize = 1 << 18;

/// Integer square root, exact (see `isqrt` in the change kernels).
#[inline(always)]
fn isqrt(m: u32) -> u32 {
    f64::from(m).sqrt() as u32
}

/// `calibrate` of the kernel for a valid sample.
#[inline(always)]
fn calibrate(p: &ContextParams, x: f32, k: usize) -> i32 {
    crate::change::calibration::BandMap {
        factor: p.factor[k],
        offset: p.offset[k],
    }
    .apply(x)
}

/// The squared standardized difference of band `j` (`z2` of the kernel).
#[inline(always)]
fn z2(p: &ContextParams, j: usize, second: i32, first: i32) -> u32 {
    let e = (second - first - p.median[j]).clamp(-MAX_DIFFERENCE, MAX_DIFFERENCE);
    let z = ((e * p.weight[j]) >> p.shift[j]).clamp(-MAX_Z, MAX_Z);
    (z * z) as u32
}

/// Calibrated planes of some rows of the window: per band, the first date's values and the
/// second date's mapped onto the first, and whether each pixel is valid on both dates.
struct Planes {
    /// The first window row held.
    top: usize,
    width: usize,
    bands: usize,
    /// `first[j]` and `second[j]`, row-major over the rows held.
    first: Vec<Vec<i32>>,
    second: Vec<Vec<i32>>,
    valid: Vec<bool>,
}

impl Planes {
    /// The planes of window rows `top..bottom`.
    fn new(job: &PixelJob<'_>, p: &ContextParams, top: usize, bottom: usize) -> Planes {
        let (w, nb) = (p.width as usize, p.bands as usize);
        let n = (bottom - top) * w;
        let start = top * w;
        let mut valid = vec![true; n];
        let mut raw = vec![0.0f32; n];
        let mut first = Vec::with_capacity(nb);
        let mut second = Vec::with_capacity(nb);
        for slot in 0..2 * nb {
            let nodata =
                (job.params.slot_has_nodata[slot] != 0).then_some(job.params.slot_nodata[slot]);
            super::decode(job.slots[slot], start, &mut raw, &mut valid, nodata);
            let (j, date) = (slot % nb, slot / nb);
            let k = 6 * date + j;
            let plane: Vec<i32> = if date == 0 {
                raw.iter().map(|&x| calibrate(p, x, k)).collect()
            } else {
                let (g, c) = (p.gain_q12[j], p.offset_q12[j]);
                raw.iter()
                    .map(|&x| crate::change::noise::map_q12(g, c, calibrate(p, x, k)))
                    .collect()
            };
            if date == 0 {
                first.push(plane);
            } else {
                second.push(plane);
            }
        }
        Planes {
            top,
            width: w,
            bands: nb,
            first,
            second,
            valid,
        }
    }

    /// The index of window pixel (x, y).
    #[inline(always)]
    fn at(&self, x: usize, y: usize) -> usize {
        (y - self.top) * self.width + x
    }
}

/// The scores of window row `y` (`context_scores` of the kernel), into `out`.
fn score_row(p: &ContextParams, planes: &Planes, y: usize, out: &mut [u32]) {
    let (w, nb) = (planes.width, planes.bands);
    let r = p.radius as isize;
    let rows = p.rows as isize;
    let mut best_second = vec![NO_SCORE; w];
    let mut best_first = vec![NO_SCORE; w];
    let mut m_second = vec![0u32; w];
    let mut m_first = vec![0u32; w];
    let here = planes.at(0, y);
    for dy in -r..=r {
        let qy = y as isize + dy;
        if qy < 0 || qy >= rows {
            continue;
        }
        let there_row = planes.at(0, qy as usize);
        for dx in -r..=r {
            // Pixels x whose neighbour x + dx lies in the row.
            let lo = (-dx).max(0) as usize;
            let hi = (w as isize - dx.max(0)).max(0) as usize;
            if lo >= hi {
                continue;
            }
            let there = (there_row as isize + dx) as usize;
            m_second[lo..hi].fill(0);
            m_first[lo..hi].fill(0);
            for j in 0..nb {
                let (f, s) = (&planes.first[j], &planes.second[j]);
                for x in lo..hi {
                    m_second[x] += z2(p, j, s[here + x], f[there + x]);
                    m_first[x] += z2(p, j, s[there + x], f[here + x]);
                }
            }
            let valid = &planes.valid;
            for x in lo..hi {
                let ok = valid[there + x];
                let (ms, mf) = if ok {
                    (m_second[x], m_first[x])
                } else {
                    (NO_SCORE, NO_SCORE)
                };
                best_second[x] = best_second[x].min(ms);
                best_first[x] = best_first[x].min(mf);
            }
        }
    }
    for x in 0..w {
        out[x] = if planes.valid[here + x] {
            isqrt(best_second[x].max(best_first[x]) / nb as u32)
        } else {
            NO_SCORE
        };
    }
}

/// Whiteness of the visible values below `t` thousandths (`white` of the kernel).
#[inline(always)]
fn white(v: &[i32; 6], t: i32) -> bool {
    let [b, g, r] = [v[0], v[1], v[2]].map(|x| x.clamp(0, 65535));
    let s = b + g + r;
    let dev = (3 * b - s).abs() + (3 * g - s).abs() + (3 * r - s).abs();
    s > 0 && dev * 1000 < t * s
}

/// Cloud core, cloud growth and shadow candidate bits of date `x` against `o` (`sky_flags`).
#[inline(always)]
fn sky_flags(p: &ContextParams, x: &[i32; 6], o: &[i32; 6]) -> u32 {
    let nb = p.bands as usize;
    let rise = (0..nb).map(|j| x[j] - o[j]).min().unwrap_or(i32::MAX);
    let core = x[0] > p.cloud_blue && white(x, p.cloud_core_white) && rise > p.cloud_core_rise;
    let grow = core || (rise > p.cloud_grow_rise && white(x, p.cloud_grow_white));
    let shadow = x[3] < p.shadow_dark && (3..nb).all(|j| 2 * x[j] < o[j]);
    u32::from(core) | u32::from(grow) << 1 | u32::from(shadow) << 2
}

/// The two words of window pixel (x, y) (`decide_pixel` of the kernel), given the scores of
/// window rows `score_top..` in `scores`.
fn decide_pixel(
    job: &PixelJob<'_>,
    p: &ContextParams,
    planes: &Planes,
    (scores, score_top): (&[u32], usize),
    (x, y): (usize, usize),
) -> [u32; 2] {
    let i = planes.at(x, y);
    if !planes.valid[i] {
        return [0x00ff_ffff, 0];
    }
    let (w, nb) = (planes.width, planes.bands);
    let mut first = [0i32; 6];
    let mut second = [0i32; 6];
    let mut direction = 0u32;
    for j in 0..nb {
        first[j] = planes.first[j][i];
        second[j] = planes.second[j][i];
        direction |= u32::from(second[j] - first[j] - p.median[j] > 0) << j;
    }
    let k = &job.params.consts;
    let f = |v: &[i32; 6], j: usize| v[j] as f32;
    let (before, after) = if nb >= 5 {
        let class = |v: &[i32; 6]| class_code(k, [0, 1, 2, 3, 4].map(|j| f(v, j)), 0.0, 0.0);
        (class(&first), class(&second))
    } else {
        let class = |v: &[i32; 6]| vnir_class_code(k, [0, 1, 2, 3].map(|j| f(v, j)), 0.0);
        (class(&first), class(&second))
    };
    let s = p.smoothing as isize;
    let (mut sum, mut count) = (0u32, 0u32);
    for dy in -s..=s {
        let qy = y as isize + dy;
        if qy < 0 || qy >= p.rows as isize {
            continue;
        }
        for dx in -s..=s {
            let qx = x as isize + dx;
            if qx < 0 || qx >= w as isize {
                continue;
            }
            let m = scores[(qy as usize - score_top) * w + qx as usize];
            if m != NO_SCORE {
                sum += m;
                count += 1;
            }
        }
    }
    let level = if sum > p.seed * count {
        2
    } else if sum > p.grow * count {
        1
    } else {
        0
    };
    let ruled_out = after == VEGETATION || (before == WATER && after == WATER);
    let kind = if ruled_out {
        0
    } else {
        u32::from(change_type(before, after))
    };
    let precode = if kind == 0 || level == 0 {
        0
    } else {
        kind | level << 3
    };
    let (sky_first, sky_second) = (sky_flags(p, &first, &second), sky_flags(p, &second, &first));
    let flags =
        (sky_first & 3) | (sky_second & 3) << 2 | (sky_first >> 2) << 4 | (sky_second >> 2) << 5;
    let score = (sum / count).min(65535);
    [
        u32::from(before) | u32::from(after) << 8 | precode << 16 | flags << 24,
        score | direction << 16,
    ]
}

/// Runs the contextual kernels over `job`: `out` receives two words per output pixel (see
/// `decide_pixel` in the kernel). Returns the count of valid output pixels.
pub(crate) fn context_words(job: &ContextJob<'_>, out: &mut [u32]) -> u64 {
    let p = &job.params;
    let (w, rows) = (p.width as usize, p.rows as usize);
    let (first_row, out_rows) = (p.first_row as usize, p.out_rows as usize);
    let (radius, smoothing) = (p.radius as usize, p.smoothing as usize);
    debug_assert_eq!(out.len(), 2 * out_rows * w);
    if w == 0 || out_rows == 0 {
        return 0;
    }
    let block_rows = (BLOCK_PIXELS / w).max(4);
    out.par_chunks_mut(2 * block_rows * w)
        .enumerate()
        .map(|(b, out)| {
            let y0 = first_row + b * block_rows;
            let y1 = y0 + out.len() / (2 * w);
            // Scores of rows y0 - s..y1 + s, which need planes of r more rows each way.
            let score_top = y0.saturating_sub(smoothing);
            let score_bottom = (y1 + smoothing).min(rows);
            let top = score_top.saturating_sub(radius);
            let bottom = (score_bottom + radius).min(rows);
            let planes = Planes::new(&job.pixels, p, top, bottom);
            let mut scores = vec![0u32; (score_bottom - score_top) * w];
            for (k, row) in scores.chunks_mut(w).enumerate() {
                score_row(p, &planes, score_top + k, row);
            }
            let mut valid = 0u64;
            for y in y0..y1 {
                for x in 0..w {
                    let words = decide_pixel(&job.pixels, p, &planes, (&scores, score_top), (x, y));
                    let o = 2 * ((y - y0) * w + x);
                    out[o] = words[0];
                    out[o + 1] = words[1];
                    valid += u64::from(words[0] & 0xff != 0xff);
                }
            }
            valid
        })
        .sum()
}
