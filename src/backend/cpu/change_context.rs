//! CPU twin of `shaders/change_context.wgsl`: the scores and decisions of the contextual
//! change detector ([`crate::change::context`]).
//!
//! The window is processed in blocks of rows, in parallel, each in three passes over whole
//! rows, one property at a time, so that every loop runs over contiguous pixels with no branch
//! and vectorises (the block is compiled once per vector extension, [`super::simd`]):
//! 1. *pixels*: calibrate the block's rows and the halo rows it needs; keep each band's value
//!    in σ/256 (the first date's, and the second's less the median difference) and, for the
//!    output rows, the classes, change type, sky flags and direction;
//! 2. *scores*: for each shift ε within the misregistration radius, the squared difference
//!    `D_ε(u) = Σ_j (second_j(u) − first_j(u + ε))²` is computed once and serves both ways: as
//!    the second date at `u` against the first at `u + ε`, and as the first date at `u + ε`
//!    against the second at `u` (the kernel's shift −ε from `u + ε`);
//! 3. *decisions*: scores summed over the smoothing window (a horizontal, then a vertical box
//!    sum), the level, and the two words.
//!
//! Every operation is the kernel's, in integers or correctly rounded floating point, so the
//! words are the GPU's bit for bit.

use super::change::change_type;
use super::classify::{class_code, vnir_class_code};
use super::simd::{SimdLevel, VectorKernel, run_at};
use crate::change::calibration::BandMap;
use crate::change::context::{ContextJob, ContextParams};
use crate::change::noise::{MAX_Z, map_q12};
use crate::classify::{VEGETATION, WATER};
use rayon::prelude::*;

/// A pixel with no score (not valid on both dates), and the "invalid" mask of a plane.
const NO_SCORE: u32 = u32::MAX;
/// Values are clamped to ±this before weighting (`MAX_DIFFERENCE` in the kernel).
const MAX_DIFFERENCE: i32 = 262_144;
/// Pixels a block of rows aims at.
const BLOCK_PIXELS: usize = 1 << 17;

/// A value in σ/256 (`z_first`, and `z_second` with the median subtracted first).
#[inline(always)]
fn z_value(v: i32, weight: i32, shift: u32) -> i32 {
    (v.clamp(-MAX_DIFFERENCE, MAX_DIFFERENCE) * weight) >> shift
}

/// The squared difference of two values in σ/256, clamped (`z2` of the kernel).
#[inline(always)]
fn z2(second: i32, first: i32) -> u32 {
    let z = (second - first).clamp(-MAX_Z, MAX_Z);
    (z * z) as u32
}

/// `isqrt(m2 / bands)` of the kernel: ⌊√(m2 / bands)⌋ with real division is the same integer
/// (⌊√⌊x⌋⌋ = ⌊√x⌋), and f64 holds m2 / bands within 2⁻²¹ while a value below a square lies at
/// least 1/6 below it, so the rounding never crosses an integer.
#[inline(always)]
fn rms_score(m2: u32, bands: f64) -> u32 {
    (f64::from(m2) / bands).sqrt() as u32
}

/// `m[x] = Σ_j z2(second_j[x], first_j[x])` over `NB` bands, in one loop over the pixels.
#[inline(always)]
fn squared_distances<const NB: usize>(m: &mut [u32], second: [&[i32]; NB], first: [&[i32]; NB]) {
    let n = m.len();
    let second = second.map(|s| &s[..n]);
    let first = first.map(|f| &f[..n]);
    for x in 0..n {
        let mut acc = 0u32;
        for j in 0..NB {
            acc += z2(second[j][x], first[j][x]);
        }
        m[x] = acc;
    }
}

/// Buffers of one thread, reused from block to block.
#[derive(Default)]
struct Scratch {
    raw: Vec<f32>,
    valid: Vec<bool>,
    /// Calibrated values, the second date mapped onto the first, per band (rows of the block
    /// and its halo).
    first: [Vec<i32>; 6],
    second: [Vec<i32>; 6],
    /// The same in σ/256 (the second less the median difference).
    z_first: [Vec<i32>; 6],
    z_second: [Vec<i32>; 6],
    /// 0 where a pixel is valid on both dates, [`NO_SCORE`] where not.
    invalid: Vec<u32>,
    /// Per pixel of the output rows: class before (byte 0), class after (1), change type (2),
    /// sky flags (3).
    pixel: Vec<u32>,
    direction: Vec<u32>,
    /// Over the score rows: the best squared differences each way.
    best_second: Vec<u32>,
    best_first: Vec<u32>,
    /// One row.
    m: Vec<u32>,
    /// Over the score rows: scores, and their horizontal window sums and counts.
    scores: Vec<u32>,
    row_sums: Vec<u32>,
    row_counts: Vec<u32>,
    /// One row each.
    sum: Vec<u32>,
    count: Vec<u32>,
    rise: [Vec<i32>; 2],
    shadow: [Vec<bool>; 2],
    classes: [Vec<u8>; 2],
    /// One date's whiteness tests: for a cloud core, for cloud growth.
    white: [Vec<u8>; 2],
}

/// Sets `v` to `n` copies of `value`.
fn resize<T: Clone>(v: &mut Vec<T>, n: usize, value: T) {
    v.clear();
    v.resize(n, value);
}

/// Sets the length of `v` to `n`, keeping what it holds: for buffers that are written whole
/// before they are read (clearing them would write every byte twice).
fn sized<T: Clone + Default>(v: &mut Vec<T>, n: usize) {
    v.resize(n, T::default());
}

/// The class of calibrated values (`class_of` or `vnir_class_of` of the rules, on values in
/// reflectance units, so with no shift). A function, not a closure: a closure could be
/// compiled apart, without the caller's vector extensions.
#[inline(always)]
fn classify(k: &[f32; 16], bands: usize, v: [i32; 5]) -> u8 {
    let v = v.map(|x| x as f32);
    if bands >= 5 {
        class_code(k, v, 0.0, 0.0)
    } else {
        vnir_class_code(k, [v[0], v[1], v[2], v[3]], 0.0)
    }
}

/// The thresholds of the sky tests, copied out of the parameters so that the loops over
/// pixels keep them in registers.
#[derive(Clone, Copy)]
struct SkyTests {
    blue: i32,
    core_rise: i32,
    grow_rise: i32,
    core_white: i32,
    grow_white: i32,
    dark: i32,
    haze_rise: i32,
    haze_swir: i32,
}

impl SkyTests {
    fn of(p: &ContextParams) -> SkyTests {
        SkyTests {
            blue: p.cloud_blue,
            core_rise: p.cloud_core_rise,
            grow_rise: p.cloud_grow_rise,
            core_white: p.cloud_core_white,
            grow_white: p.cloud_grow_white,
            dark: p.shadow_dark,
            haze_rise: p.haze_rise,
            haze_swir: p.haze_swir,
        }
    }

    /// The haze candidates of both dates over a row, or'ed into bits 6 (first date) and 7
    /// (second) of the flags byte of `pixel`: blue risen by more than `haze_rise`, red by no
    /// more than blue and NIR by no more than red; every SWIR band within `haze_swir` of the
    /// other date's, or without SWIR, NIR risen by less than half as much as blue.
    #[inline(always)]
    fn haze_row(self, [blue, red, nir]: [[&[i32]; 2]; 3], swir: &[[&[i32]; 2]], pixel: &mut [u32]) {
        let m = pixel.len();
        let [b1, b2, r1, r2, n1, n2] = [blue, red, nir].concat()[..] else {
            unreachable!("three pairs of rows")
        };
        let (b1, b2, r1, r2, n1, n2) = (&b1[..m], &b2[..m], &r1[..m], &r2[..m], &n1[..m], &n2[..m]);
        let has_swir = !swir.is_empty();
        for x in 0..m {
            // The second date's rises; the first date's are their opposites.
            let (db, dr, dn) = (b2[x] - b1[x], r2[x] - r1[x], n2[x] - n1[x]);
            let second = (db > self.haze_rise) & (db >= dr) & (dr >= dn);
            let first = (-db > self.haze_rise) & (-db >= -dr) & (-dr >= -dn);
            let (second, first) = if has_swir {
                (second, first)
            } else {
                (second & (2 * dn < db), first & (-2 * dn < -db))
            };
            pixel[x] |= (u32::from(first) << 6 | u32::from(second) << 7) << 24;
        }
        for [s1, s2] in swir {
            let (s1, s2) = (&s1[..m], &s2[..m]);
            for x in 0..m {
                let still = (s2[x] - s1[x]).abs() < self.haze_swir;
                // Clears both haze bits where this SWIR band moved.
                pixel[x] &= if still { u32::MAX } else { !(0xc0 << 24) };
            }
        }
    }

    /// Whether blue, green and red values are white enough for a cloud core and for cloud
    /// growth (`white` of the kernel).
    #[inline(always)]
    fn whiteness(self, visible: [i32; 3]) -> (bool, bool) {
        let [b, g, r] = visible.map(|x| x.clamp(0, 65535));
        let s = b + g + r;
        let dev = (3 * b - s).abs() + (3 * g - s).abs() + (3 * r - s).abs();
        let scaled = dev * 1000;
        (
            (s > 0) & (scaled < self.core_white * s),
            (s > 0) & (scaled < self.grow_white * s),
        )
    }

    /// [`SkyTests::whiteness`] over a row.
    #[inline(always)]
    fn whiteness_row(self, [b, g, r]: [&[i32]; 3], [core, grow]: [&mut [u8]; 2]) {
        let m = core.len();
        let (b, g, r, grow) = (&b[..m], &g[..m], &r[..m], &mut grow[..m]);
        for x in 0..m {
            let (c, w) = self.whiteness([b[x], g[x], r[x]]);
            (core[x], grow[x]) = (u8::from(c), u8::from(w));
        }
    }

    /// [`SkyTests::flags`] over a row, or'ed into the flags byte (byte 3) of `pixel`: cloud
    /// core and growth shifted by `shift[0]`, shadow by `shift[1]`.
    #[inline(always)]
    fn flags_row(
        self,
        [b, nir]: [&[i32]; 2],
        [core, grow]: [&[u8]; 2],
        (rise, shadow): (&[i32], &[bool]),
        shift: [u32; 2],
        pixel: &mut [u32],
    ) {
        let m = pixel.len();
        let (b, nir, core, grow) = (&b[..m], &nir[..m], &core[..m], &grow[..m]);
        let (rise, shadow) = (&rise[..m], &shadow[..m]);
        for x in 0..m {
            let sky = self.flags(
                [b[x], nir[x]],
                [core[x] != 0, grow[x] != 0],
                rise[x],
                shadow[x],
            );
            pixel[x] |= ((sky & 3) << shift[0] | (sky >> 2 & 1) << shift[1]) << 24;
        }
    }

    /// Cloud core, cloud growth and shadow candidate bits of one date's blue and NIR values,
    /// given its whiteness, its smallest rise over the other date and whether every infrared
    /// band fell below half of the other date's (`sky_flags` of the kernel).
    #[inline(always)]
    fn flags(
        self,
        [blue, nir]: [i32; 2],
        [core_white, grow_white]: [bool; 2],
        rise: i32,
        infrared_halved: bool,
    ) -> u32 {
        let core = (blue > self.blue) & core_white & (rise > self.core_rise);
        let grow = core | ((rise > self.grow_rise) & grow_white);
        let shadow = infrared_halved & (nir < self.dark);
        u32::from(core) | u32::from(grow) << 1 | u32::from(shadow) << 2
    }
}

/// The map of one band of one date from samples to calibrated values and values in σ/256.
#[derive(Clone, Copy)]
struct Calibrate {
    map: BandMap,
    gain_q12: i32,
    offset_q12: i32,
    median: i32,
    weight: i32,
    shift: u32,
}

impl Calibrate {
    /// The calibrated value of a sample (mapped onto the first date) and its value in σ/256.
    #[inline(always)]
    fn value(self, x: f32) -> (i32, i32) {
        let v = map_q12(self.gain_q12, self.offset_q12, self.map.apply(x));
        (v, z_value(v - self.median, self.weight, self.shift))
    }

    /// A row of decoded samples.
    #[inline(always)]
    fn row(self, raw: &[f32], values: &mut [i32], z: &mut [i32]) {
        let n = values.len();
        let (raw, z) = (&raw[..n], &mut z[..n]);
        for x in 0..n {
            (values[x], z[x]) = self.value(raw[x]);
        }
    }

    /// A row of u16 samples, clearing `valid` where a sample is `nodata`.
    #[inline(always)]
    fn u16_row(
        self,
        data: &[u16],
        nodata: f32,
        valid: &mut [bool],
        values: &mut [i32],
        z: &mut [i32],
    ) {
        let n = values.len();
        let (data, valid, z) = (&data[..n], &mut valid[..n], &mut z[..n]);
        for x in 0..n {
            let v = f32::from(data[x]);
            valid[x] &= v != nodata;
            (values[x], z[x]) = self.value(v);
        }
    }
}

/// 0 where valid, [`NO_SCORE`] where not.
#[inline(always)]
fn invalid_mask(valid: &[bool], invalid: &mut [u32]) {
    let valid = &valid[..invalid.len()];
    for (m, &ok) in invalid.iter_mut().zip(valid) {
        *m = if ok { 0 } else { NO_SCORE };
    }
}

/// Sets bit `j` of `direction` where band `j` rose beyond its median difference.
#[inline(always)]
fn direction_row(first: &[i32], second: &[i32], median: i32, j: usize, direction: &mut [u32]) {
    let n = direction.len();
    let (first, second) = (&first[..n], &second[..n]);
    for x in 0..n {
        direction[x] |= u32::from(second[x] - first[x] - median > 0) << j;
    }
}

/// The smallest rise of each date over the other, so far.
#[inline(always)]
fn rise_row(first: &[i32], second: &[i32], rise_first: &mut [i32], rise_second: &mut [i32]) {
    let n = rise_first.len();
    let (first, second, rise_second) = (&first[..n], &second[..n], &mut rise_second[..n]);
    for x in 0..n {
        rise_first[x] = rise_first[x].min(first[x] - second[x]);
        rise_second[x] = rise_second[x].min(second[x] - first[x]);
    }
}

/// Whether each date's band stayed below half of the other date's, so far.
#[inline(always)]
fn halved_row(
    first: &[i32],
    second: &[i32],
    halved_first: &mut [bool],
    halved_second: &mut [bool],
) {
    let n = halved_first.len();
    let (first, second, halved_second) = (&first[..n], &second[..n], &mut halved_second[..n]);
    for x in 0..n {
        halved_first[x] &= 2 * first[x] < second[x];
        halved_second[x] &= 2 * second[x] < first[x];
    }
}

/// `best = min(best, m | bad)`: the smaller of the best so far and `m`, unless `bad`.
#[inline(always)]
fn min_masked(best: &mut [u32], m: &[u32], bad: &[u32]) {
    let n = best.len();
    let (m, bad) = (&m[..n], &bad[..n]);
    for x in 0..n {
        best[x] = best[x].min(m[x] | bad[x]);
    }
}

/// One block of output rows.
struct Block<'a, 'j> {
    job: &'a ContextJob<'j>,
    scratch: &'a mut Scratch,
    /// Output rows, in window rows.
    rows: std::ops::Range<usize>,
    out: &'a mut [u32],
}

impl Block<'_, '_> {
    /// Pass 1 over window rows `top..bottom`: calibrated values, values in σ/256 and
    /// validity, and per-pixel properties of the output rows.
    #[inline(always)]
    fn pixels(&mut self, top: usize, bottom: usize) {
        self.calibrate(top, bottom);
        self.output_row_properties(top);
    }

    /// Calibrated values, values in σ/256 and validity over window rows `top..bottom`.
    #[inline(always)]
    fn calibrate(&mut self, top: usize, bottom: usize) {
        let (job, p, sc) = (self.job, &self.job.params, &mut *self.scratch);
        let (w, nb) = (p.width as usize, p.bands as usize);
        let n = (bottom - top) * w;
        sized(&mut sc.raw, n);
        resize(&mut sc.valid, n, true);
        for slot in 0..2 * nb {
            let params = &job.pixels.params;
            let nodata = (params.slot_has_nodata[slot] != 0).then_some(params.slot_nodata[slot]);
            let (j, date) = (slot % nb, slot / nb);
            let map = BandMap {
                factor: p.factor[6 * date + j],
                offset: p.offset[6 * date + j],
            };
            let (weight, shift) = (p.weight[j], p.shift[j]);
            // The second date is mapped onto the first, and its values in σ/256 have the
            // median difference taken off; the first date's map is the identity.
            let (g, c, med) = match date {
                0 => (4096, 0, 0),
                _ => (p.gain_q12[j], p.offset_q12[j], p.median[j]),
            };
            let (plane, z) = match date {
                0 => (&mut sc.first[j], &mut sc.z_first[j]),
                _ => (&mut sc.second[j], &mut sc.z_second[j]),
            };
            sized(plane, n);
            sized(z, n);
            let calibration = Calibrate {
                map,
                gain_q12: g,
                offset_q12: c,
                median: med,
                weight,
                shift,
            };
            match job.pixels.slots[slot] {
                // The common case, decoded and calibrated in one loop.
                crate::raster::BandData::U16(data) => {
                    let data = &data[top * w..top * w + n];
                    let nodata = nodata.unwrap_or(f32::NAN);
                    calibration.u16_row(data, nodata, &mut sc.valid, plane, z);
                }
                other => {
                    super::decode(other, top * w, &mut sc.raw, &mut sc.valid, nodata);
                    calibration.row(&sc.raw, plane, z);
                }
            }
        }
        sized(&mut sc.invalid, n);
        invalid_mask(&sc.valid, &mut sc.invalid);
    }

    /// The output rows' own properties (direction, rises, shadow tests, classes, the
    /// per-pixel word and the sky flags), from planes that start at window row `top`.
    #[inline(always)]
    fn output_row_properties(&mut self, top: usize) {
        let (job, p, sc) = (self.job, &self.job.params, &mut *self.scratch);
        let (w, nb) = (p.width as usize, p.bands as usize);
        let here = (self.rows.start - top) * w..(self.rows.end - top) * w;
        let m = here.len();
        resize(&mut sc.direction, m, 0);
        for d in 0..2 {
            resize(&mut sc.rise[d], m, i32::MAX);
            resize(&mut sc.shadow[d], m, true);
            sized(&mut sc.classes[d], m);
            sized(&mut sc.white[d], m);
        }
        for j in 0..nb {
            let first = &sc.first[j][here.clone()];
            let second = &sc.second[j][here.clone()];
            direction_row(first, second, p.median[j], j, &mut sc.direction);
            let [rise_first, rise_second] = &mut sc.rise;
            rise_row(first, second, rise_first, rise_second);
            if j >= 3 {
                let [shadow_first, shadow_second] = &mut sc.shadow;
                halved_row(first, second, shadow_first, shadow_second);
            }
        }
        let k = &job.pixels.params.consts;
        let last = nb - 1;
        for (d, planes) in [&sc.first, &sc.second].into_iter().enumerate() {
            let [b, g, r, n, s1] = [0, 1, 2, 3, 4].map(|j| &planes[j.min(last)][here.clone()]);
            for (x, c) in sc.classes[d].iter_mut().enumerate() {
                *c = classify(k, nb, [b[x], g[x], r[x], n[x], s1[x]]);
            }
        }
        sized(&mut sc.pixel, m);
        for ((px, &before), &after) in sc.pixel.iter_mut().zip(&sc.classes[0]).zip(&sc.classes[1]) {
            // Vegetation now, or water on both dates, is no land-use change.
            let ruled_out = (after == VEGETATION) | ((before == WATER) & (after == WATER));
            let kind = if ruled_out {
                0
            } else {
                u32::from(change_type(before, after))
            };
            *px = u32::from(before) | u32::from(after) << 8 | kind << 16;
        }
        // Haze candidates of each date, into the flags' bits 6 and 7.
        let tests = SkyTests::of(p);
        let (first, second) = (&sc.first, &sc.second);
        let pair = |j: usize| [&first[j][here.clone()], &second[j][here.clone()]];
        let swir: Vec<[&[i32]; 2]> = (4..nb).map(pair).collect();
        tests.haze_row([0, 2, 3].map(pair), &swir, &mut sc.pixel[..m]);
        // The sky flags of each date: bits 0 and 1 (cloud core and growth) go to bits 0-1 of
        // the flags for the first date and 2-3 for the second, bit 2 (shadow) to bit 4 or 5.
        for (d, planes) in [&sc.first, &sc.second].into_iter().enumerate() {
            let [b, g, r, nir] = [0, 1, 2, 3].map(|j| &planes[j][here.clone()][..m]);
            let (rise, shadow) = (&sc.rise[d][..m], &sc.shadow[d][..m]);
            let pixel = &mut sc.pixel[..m];
            // Whiteness first, in a loop of its own (so that it vectorises).
            let [white_core, white_grow] = &mut sc.white;
            tests.whiteness_row([b, g, r], [&mut white_core[..m], &mut white_grow[..m]]);
            let shift = [2 * d as u32, 4 + d as u32];
            tests.flags_row(
                [b, nir],
                [white_core, white_grow],
                (rise, shadow),
                shift,
                pixel,
            );
        }
    }

    /// Pass 2: the best squared differences each way over score rows `score_top..
    /// score_bottom` (the planes hold rows `top..bottom`), then the scores and their
    /// horizontal window sums.
    #[inline(always)]
    fn scores(&mut self, [top, bottom]: [usize; 2], [score_top, score_bottom]: [usize; 2]) {
        let p = &self.job.params;
        let sc = &mut *self.scratch;
        let (w, nb) = (p.width as usize, p.bands as usize);
        let r = p.radius as isize;
        let n = (score_bottom - score_top) * w;
        resize(&mut sc.best_second, n, NO_SCORE);
        resize(&mut sc.best_first, n, NO_SCORE);
        sized(&mut sc.m, w);
        for ey in -r..=r {
            // D_ε at rows u: for best_second when u is a score row, for best_first when
            // u + ε is; u and u + ε must lie in the planes.
            let rows_from = (score_top as isize)
                .min(score_top as isize - ey)
                .max(top as isize);
            let rows_to = (score_bottom as isize).max(score_bottom as isize - ey);
            let rows_to = rows_to
                .min(bottom as isize - ey.max(0))
                .min(bottom as isize);
            let rows_from = rows_from.max(top as isize - ey.min(0));
            for ex in -r..=r {
                let lo = (-ex).max(0) as usize;
                let hi = (w as isize - ex.max(0)).max(0) as usize;
                if lo >= hi {
                    continue;
                }
                for u in rows_from..rows_to {
                    let (u, q) = (u as usize, (u + ey) as usize);
                    let here = (u - top) * w;
                    let there = (q - top) * w;
                    let at = (there as isize + ex) as usize;
                    let m = &mut sc.m[lo..hi];
                    let zs = |j: usize| &sc.z_second[j][here + lo..here + hi];
                    let zf = |j: usize| &sc.z_first[j][at + lo..at + hi];
                    match nb {
                        4 => squared_distances::<4>(m, [0, 1, 2, 3].map(zs), [0, 1, 2, 3].map(zf)),
                        5 => squared_distances::<5>(
                            m,
                            [0, 1, 2, 3, 4].map(zs),
                            [0, 1, 2, 3, 4].map(zf),
                        ),
                        _ => squared_distances::<6>(
                            m,
                            [0, 1, 2, 3, 4, 5].map(zs),
                            [0, 1, 2, 3, 4, 5].map(zf),
                        ),
                    }
                    // The second date at u against the first at u + ε, when q is valid.
                    if (score_top..score_bottom).contains(&u) {
                        let best = &mut sc.best_second[(u - score_top) * w + lo..][..hi - lo];
                        min_masked(best, m, &sc.invalid[at + lo..at + hi]);
                    }
                    // The first date at u + ε against the second at u, when u is valid.
                    if (score_top..score_bottom).contains(&q) {
                        let row = (q - score_top) * w;
                        let best =
                            &mut sc.best_first[row + (lo as isize + ex) as usize..][..hi - lo];
                        min_masked(best, m, &sc.invalid[here + lo..here + hi]);
                    }
                }
            }
        }
        let bands = nb as f64;
        sized(&mut sc.scores, n);
        let own = &sc.invalid[(score_top - top) * w..(score_bottom - top) * w];
        for (((o, &bs), &bf), &bad) in (sc.scores.iter_mut())
            .zip(&sc.best_second)
            .zip(&sc.best_first)
            .zip(own)
        {
            let score = rms_score(bs.max(bf), bands);
            *o = if bad == 0 { score } else { NO_SCORE };
        }
        resize(&mut sc.row_sums, n, 0);
        resize(&mut sc.row_counts, n, 0);
        let s = p.smoothing as isize;
        for ((row, sums), counts) in (sc.scores.chunks(w))
            .zip(sc.row_sums.chunks_mut(w))
            .zip(sc.row_counts.chunks_mut(w))
        {
            for dx in -s..=s {
                let lo = (-dx).max(0) as usize;
                let hi = (w as isize - dx.max(0)).max(0) as usize;
                if lo >= hi {
                    continue;
                }
                let from = &row[(lo as isize + dx) as usize..][..hi - lo];
                for ((sum, count), &m) in
                    (sums[lo..hi].iter_mut().zip(&mut counts[lo..hi])).zip(from)
                {
                    let ok = m != NO_SCORE;
                    *sum += if ok { m } else { 0 };
                    *count += u32::from(ok);
                }
            }
        }
    }

    /// Pass 3 for output row `y`: the smoothing window's sums, the level and the words.
    /// Returns the valid count.
    #[inline(always)]
    fn decide_row(&mut self, [top, score_top]: [usize; 2], y: usize, out: &mut [u32]) -> u64 {
        let p = &self.job.params;
        let sc = &mut *self.scratch;
        let w = p.width as usize;
        resize(&mut sc.sum, w, 0);
        resize(&mut sc.count, w, 0);
        let s = p.smoothing as isize;
        for dy in -s..=s {
            let qy = y as isize + dy;
            if qy < 0 || qy >= p.rows as isize {
                continue;
            }
            let row = (qy as usize - score_top) * w;
            let (sums, counts) = (&sc.row_sums[row..row + w], &sc.row_counts[row..row + w]);
            for ((a, b), (&c, &d)) in
                (sc.sum.iter_mut().zip(&mut sc.count)).zip(sums.iter().zip(counts))
            {
                *a += c;
                *b += d;
            }
        }
        let own = (y - self.rows.start) * w;
        let pixel = &sc.pixel[own..own + w];
        let direction = &sc.direction[own..own + w];
        let invalid = &sc.invalid[(y - top) * w..(y - top) * w + w];
        let (sums, counts) = (&sc.sum[..w], &sc.count[..w]);
        let out = &mut out[..2 * w];
        let (seed, grow) = (p.seed, p.grow);
        let mut valid = 0u64;
        for x in 0..w {
            let (sum, count) = (sums[x], counts[x]);
            let level = if sum > seed * count {
                2
            } else if sum > grow * count {
                1
            } else {
                0
            };
            let kind = pixel[x] >> 16 & 0xff;
            let precode = if (kind == 0) | (level == 0) {
                0
            } else {
                kind | level << 3
            };
            // count ≥ 1 for a valid pixel (its own score); f64 holds sum / count within far
            // less than 1/49 of it, so truncation is integer division.
            let score = ((f64::from(sum) / f64::from(count.max(1))) as u32).min(65535);
            let ok = invalid[x] == 0;
            let word0 = (pixel[x] & 0xff00_ffff) | precode << 16;
            out[2 * x] = if ok { word0 } else { 0x00ff_ffff };
            out[2 * x + 1] = if ok { score | direction[x] << 16 } else { 0 };
            valid += u64::from(ok);
        }
        valid
    }
}

impl VectorKernel for Block<'_, '_> {
    type Output = u64;

    #[inline(always)]
    fn run(mut self) -> u64 {
        let p = self.job.params;
        let (w, rows) = (p.width as usize, p.rows as usize);
        let (radius, smoothing) = (p.radius as usize, p.smoothing as usize);
        let (y0, y1) = (self.rows.start, self.rows.end);
        // Scores of rows y0 - s..y1 + s, which need planes of r more rows each way.
        let score_top = y0.saturating_sub(smoothing);
        let score_bottom = (y1 + smoothing).min(rows);
        let top = score_top.saturating_sub(radius);
        let bottom = (score_bottom + radius).min(rows);
        self.pixels(top, bottom);
        self.scores([top, bottom], [score_top, score_bottom]);
        let out = std::mem::take(&mut self.out);
        let mut valid = 0;
        for (y, row) in (y0..y1).zip(out.chunks_mut(2 * w)) {
            valid += self.decide_row([top, score_top], y, row);
        }
        valid
    }
}

/// Runs the contextual kernels over `job`: `out` receives two words per output pixel (see
/// `decide_pixel` in the kernel). Returns the count of valid output pixels.
pub(crate) fn context_words(job: &ContextJob<'_>, out: &mut [u32]) -> u64 {
    context_words_at(SimdLevel::current(), job, out)
}

/// [`context_words`] compiled for `level`.
pub(crate) fn context_words_at(level: SimdLevel, job: &ContextJob<'_>, out: &mut [u32]) -> u64 {
    let p = &job.params;
    let w = p.width as usize;
    let (first_row, out_rows) = (p.first_row as usize, p.out_rows as usize);
    debug_assert_eq!(out.len(), 2 * out_rows * w);
    if w == 0 || out_rows == 0 {
        return 0;
    }
    let block_rows = (BLOCK_PIXELS / w).max(8);
    out.par_chunks_mut(2 * block_rows * w)
        .enumerate()
        .map_init(Scratch::default, |scratch, (b, out)| {
            let y0 = first_row + b * block_rows;
            let block = Block {
                job,
                scratch,
                rows: y0..y0 + out.len() / (2 * w),
                out,
            };
            run_at(level, block)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::context::{ContextModel, ContextSettings};
    use crate::classify::ClassThresholds;
    use crate::raster::{Band, BandData, BandStack};
    use crate::sensor::BandRole;

    /// A pair of random u16 stacks of `bands` bands with some nodata.
    fn pair(w: usize, h: usize, bands: usize, seed: u64) -> [BandStack; 2] {
        let mut next = crate::test_rng::xorshift(seed);
        std::array::from_fn(|_| {
            let bands = BandRole::ALL[..bands]
                .iter()
                .map(|&role| {
                    let data = (0..w * h)
                        .map(|_| match next() % 50 {
                            0 => 0,
                            r => (r * 90 + next() % 400) as u16,
                        })
                        .collect();
                    Band::new(role, BandData::U16(data)).with_nodata(0.0)
                })
                .collect();
            let mut s = BandStack::new(w, h, bands).unwrap();
            s.set_radiometry(crate::sensor::Sensor::sentinel2_l1c().radiometry)
                .unwrap();
            s
        })
    }

    /// Every vector level gives the same words, and a window with halo rows gives the rows of
    /// the whole-window run, for every misregistration and smoothing radius.
    #[test]
    fn every_level_and_every_window_agree() {
        let (w, h) = (123, 57);
        for (bands, pixel_m) in [(6, 10.0), (4, 10.0), (6, 5.0), (6, 30.0), (5, 20.0)] {
            let [before, after] = pair(w, h, bands, 7 + bands as u64);
            let model =
                ContextModel::estimate(&before, &after, pixel_m, &ContextSettings::default())
                    .unwrap();
            let settings = ContextSettings::default();
            let classes = ClassThresholds::default();
            let whole =
                ContextJob::new(&before, &after, (0, h), &model, &settings, &classes).unwrap();
            let mut reference = vec![0u32; 2 * w * h];
            let valid = context_words_at(SimdLevel::Portable, &whole, &mut reference);
            assert!(valid > 0 && valid < (w * h) as u64);
            for level in SimdLevel::available() {
                let mut words = vec![0u32; 2 * w * h];
                context_words_at(level, &whole, &mut words);
                assert!(words == reference, "{level:?} differs");
            }
            // Rows 20..31 from a window of rows 16..35 (four halo rows each way).
            let crop = |s: &BandStack| {
                let window = crate::io::Window {
                    col: 0,
                    row: 16,
                    width: w,
                    height: 19,
                };
                crate::io::align::crop_stack(s, &window).unwrap()
            };
            let (b, a) = (crop(&before), crop(&after));
            let part = ContextJob::new(&b, &a, (4, 11), &model, &settings, &classes).unwrap();
            let mut words = vec![0u32; 2 * w * 11];
            context_words(&part, &mut words);
            assert!(words == reference[2 * w * 20..2 * w * 31], "{bands} bands");
        }
    }
}
