//! CPU twins of the change kernels: pass 1 (`shaders/change.wgsl` with `change_pass1.wgsl`),
//! the magnitude histogram (`change_histogram.wgsl`), pass 2 (`change_codes.wgsl`) and the
//! fused pass (`change_fused.wgsl`).
//!
//! Pass 1 and the fused pass share one block of arithmetic ([`block`]) over 16 pixels at a
//! time, written as loops over lane arrays with no per-pixel branch, and compiled once per
//! vector extension ([`super::simd`]). Jobs of one small integer type and six bands a date, the
//! shape of nearly every enforcement job, get loops over constant bounds; exact integers skip
//! quantization, and unshifted radiometry skips the shift terms of the class rules.

// Lane loops index several arrays in step; an iterator chain would hide the lane.
#![allow(clippy::needless_range_loop)]

use super::classify::{class_code_with, vnir_class_code};
use super::lanes::{JobSamples, LANES, MAX_BANDS, Samples, slots};
use super::simd::{SimdLevel, VectorKernel, run_at};
use crate::change::{
    CHANGE_NODATA, ChangePlanes, EARTH_MOVING, EARTH_TO_CONSTRUCTION, EXCAVATION, NEW_CONSTRUCTION,
    OTHER_CHANGE, UNCHANGED,
};
use crate::classify::{BARE_SOIL, BUILT_UP, CLASS_NODATA, OTHER, VEGETATION, WATER};
use crate::pixel::PixelJob;
use crate::pixel::slots::{change as sc, change_codes, classify as cc};
use crate::raster::BandData;
use rayon::prelude::*;

/// Largest per-band difference, so that six squares fit a u32.
const MAX_DIFFERENCE: i32 = 23170;

use crate::change::pass_one::{HISTOGRAM_BINS, NODATA_CLASS, PassOneWord};

/// Integer square root, exact: the f64 square root is correctly rounded, and below 2³² it
/// never rounds up to the next integer (the gap to it is far above half an f64 ulp), so
/// truncation gives ⌊√m⌋ with no fix-up (the WGSL kernel, on f32, needs one).
#[inline(always)]
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
/// kernel (0 for NaN, whose pixel is invalid anyway). Rounding adds and removes ±2²³, which
/// leaves an integer under the default rounding mode for |v| < 2²³ (the sum lies where the
/// spacing of f32 is exactly 1; larger f32 values are integers already). Every step is a
/// select or a correctly rounded operation, and the conversion is of a finite value in range,
/// so the whole function vectorises (Rust's saturating `as i32` would not).
#[inline(always)]
fn quantize(x: f32, q: f32) -> i32 {
    const TWO_23: f32 = 8_388_608.0;
    let v = x * q;
    let m = TWO_23.copysign(v);
    let rounded = if v.abs() < TWO_23 { (v + m) - m } else { v };
    let clamped = if rounded < -1e9 { -1e9 } else { rounded };
    let clamped = if clamped > 1e9 { 1e9 } else { clamped };
    let finite = if clamped.is_nan() { 0.0 } else { clamped };
    // SAFETY: `finite` is an integer-valued f32 within ±1e9, far inside i32.
    unsafe { finite.to_int_unchecked() }
}

/// Pixels per parallel task.
const TASK_PIXELS: usize = 1 << 14;

/// The constants of a change job, read once from its parameters.
#[derive(Clone, Copy)]
struct ChangeConsts {
    k: [f32; 16],
    /// The change measure: 0 the change vector, 1–3 an index difference.
    kind: i32,
    quantize: [f32; 2],
    offset: [i32; 2],
    gain_q12: [i32; MAX_BANDS],
    /// Per band, `gain·offset[1] + offset_q12` (wrapping): `gain·(a + offset[1]) + offset_q12`
    /// is `gain·a` plus this, bit for bit, in two's-complement arithmetic.
    mapped_offset: [i32; MAX_BANDS],
    /// Every sample of the change vector is an 8- or 16-bit integer, quantized by 1.
    exact: bool,
    /// No date has a radiometric shift or offset.
    unshifted: bool,
}

impl ChangeConsts {
    fn new(job: &PixelJob<'_>) -> ChangeConsts {
        let (p, g) = (&job.params, &job.params.iconsts);
        let nb = g[sc::BANDS_PER_DATE] as usize;
        let small_integers = (job.slots[..2 * nb].iter())
            .all(|d| matches!(d, BandData::U8(_) | BandData::U16(_) | BandData::I16(_)));
        let unit = p.consts[sc::QUANTIZE_BEFORE] == 1.0 && p.consts[sc::QUANTIZE_AFTER] == 1.0;
        let shifts = [cc::SHIFT2, cc::SHIFT4, sc::AFTER_SHIFT2, sc::AFTER_SHIFT4];
        ChangeConsts {
            exact: small_integers && unit,
            unshifted: shifts.iter().all(|&i| p.consts[i] == 0.0)
                && g[sc::OFFSET_BEFORE] == 0
                && g[sc::OFFSET_AFTER] == 0,
            k: p.consts,
            kind: g[sc::MEASURE],
            quantize: [p.consts[sc::QUANTIZE_BEFORE], p.consts[sc::QUANTIZE_AFTER]],
            offset: [g[sc::OFFSET_BEFORE], g[sc::OFFSET_AFTER]],
            gain_q12: g[sc::GAIN_Q12].try_into().expect("six gains"),
            mapped_offset: std::array::from_fn(|j| {
                let (gain, offset) = (g[sc::GAIN_Q12][j], g[sc::OFFSET_Q12][j]);
                gain.wrapping_mul(g[sc::OFFSET_AFTER]).wrapping_add(offset)
            }),
        }
    }
}

/// Pass 1's arithmetic over one block of pixels.
struct Block {
    valid: [bool; LANES],
    class_before: [u8; LANES],
    class_after: [u8; LANES],
    /// The squared change-vector magnitude.
    m2: [u32; LANES],
    /// The direction sector: bit j set when band j increased.
    direction: [u32; LANES],
    /// |Δindex| in thousandths when the measure is an index difference, else 0.
    index_change: [u32; LANES],
}

/// Classes of one date over a block: `first` is the date's first slot (`PLAIN`: see
/// [`class_code_with`]).
#[inline(always)]
fn block_classes<const PLAIN: bool>(
    c: &ChangeConsts,
    nb: usize,
    v: &[[f32; LANES]; 2 * MAX_BANDS],
    first: usize,
    shifts: [f32; 2],
) -> [u8; LANES] {
    let mut out = [OTHER; LANES];
    // Without SWIR1, the four-band rules.
    if nb < 5 {
        for l in 0..LANES {
            let px = [
                v[first][l],
                v[first + 1][l],
                v[first + 2][l],
                v[first + 3][l],
            ];
            out[l] = vnir_class_code(&c.k, px, shifts[0]);
        }
    } else {
        for l in 0..LANES {
            let px = [
                v[first][l],
                v[first + 1][l],
                v[first + 2][l],
                v[first + 3][l],
                v[first + 4][l],
            ];
            out[l] = class_code_with::<PLAIN>(&c.k, px, shifts[0], shifts[1]);
        }
    }
    out
}

/// Pass 1 of the pixels `start..start + n` (`n ≤ LANES`), in the order of operations of
/// `change_word` in `shaders/change.wgsl`. `INDEX` is set when the measure is an index
/// difference, which needs every band's values. `EXACT` is set when every sample is an 8- or
/// 16-bit integer and both quantization factors are 1: then `quantize(x, 1)` is `x`, and the
/// integer lanes are used as they are. `PLAIN` is set when, moreover, the samples are unsigned
/// and no date has a radiometric shift (see [`class_code_with`]).
#[inline(always)]
fn block<Src: Samples, const INDEX: bool, const EXACT: bool, const PLAIN: bool>(
    c: &ChangeConsts,
    src: &Src,
    start: usize,
    n: usize,
) -> Block {
    let nb = src.bands();
    let mut valid = [false; LANES];
    for (l, v) in valid.iter_mut().enumerate() {
        *v = l < n;
    }
    let mut v = [[0.0f32; LANES]; 2 * MAX_BANDS];
    let mut int = [[0i32; LANES]; 2 * MAX_BANDS];
    for s in 0..src.slot_count() {
        let (x, i) = src.lanes(s, start, n, &mut valid);
        if s < 2 * nb {
            (v[s], int[s]) = (x, i);
        }
    }
    let k = &c.k;
    let shifts = (
        [k[cc::SHIFT2], k[cc::SHIFT4]],
        [k[sc::AFTER_SHIFT2], k[sc::AFTER_SHIFT4]],
    );
    let class_before = block_classes::<PLAIN>(c, nb, &v, 0, shifts.0);
    let class_after = block_classes::<PLAIN>(c, nb, &v, nb, shifts.1);
    let mut m2 = [0u32; LANES];
    let mut direction = [0u32; LANES];
    let mut values = [[[0i32; LANES]; MAX_BANDS]; 2];
    for j in 0..nb {
        let (gain, offset) = (c.gain_q12[j], c.mapped_offset[j]);
        for l in 0..LANES {
            let (b, a) = if EXACT {
                (int[j][l], int[nb + j][l])
            } else {
                (
                    quantize(v[j][l], c.quantize[0]),
                    quantize(v[nb + j][l], c.quantize[1]),
                )
            };
            // Plain dates have no offsets; the second date's is folded into `offset`.
            let b = if PLAIN {
                b
            } else {
                b.wrapping_add(c.offset[0])
            };
            let a = gain.wrapping_mul(a).wrapping_add(offset) >> 12;
            let d = a.wrapping_sub(b).clamp(-MAX_DIFFERENCE, MAX_DIFFERENCE);
            m2[l] = m2[l].wrapping_add((d * d) as u32);
            direction[l] |= u32::from(d > 0) << j;
            if INDEX {
                values[0][j][l] = b;
                values[1][j][l] = a;
            }
        }
    }
    let mut index = [0u32; LANES];
    if INDEX {
        for (l, x) in index.iter_mut().enumerate() {
            let (mut b, mut a) = ([0; MAX_BANDS], [0; MAX_BANDS]);
            for j in 0..MAX_BANDS {
                (b[j], a[j]) = (values[0][j][l], values[1][j][l]);
            }
            *x = index_change(c.kind, &b, &a);
        }
    }
    Block {
        valid,
        class_before,
        class_after,
        m2,
        direction,
        index_change: index,
    }
}

/// Runs `$task.$body::<Samples, INDEX, EXACT, PLAIN>(samples)` for the job's shape of
/// samples, with the variants that occur: only the uniform u16 shapes can be plain.
macro_rules! by_shape {
    ($task:ident . $body:ident) => {{
        let c = $task.consts;
        let (vector, exact, plain) = (c.kind == 0, c.exact, c.exact && c.unshifted);
        macro_rules! flavour {
            ($s:expr) => {
                match (vector, exact, plain) {
                    (true, _, true) => $task.$body::<_, false, true, true>($s),
                    (true, true, false) => $task.$body::<_, false, true, false>($s),
                    (true, false, _) => $task.$body::<_, false, false, false>($s),
                    (false, _, _) => $task.$body::<_, true, false, false>($s),
                }
            };
        }
        match $task.samples {
            JobSamples::U16(s) => flavour!(s),
            JobSamples::U16Nodata(s) => flavour!(s),
            // Anything else is rare: no plain variant.
            JobSamples::Mixed(s) if vector && exact => $task.$body::<_, false, true, false>(s),
            JobSamples::Mixed(s) if vector => $task.$body::<_, false, false, false>(s),
            JobSamples::Mixed(s) => $task.$body::<_, true, false, false>(s),
        }
    }};
}

/// Pass 1 of one task: packed words (see `change_word` in `shaders/change.wgsl`).
struct PassOneTask<'a, 's> {
    consts: &'a ChangeConsts,
    samples: &'a JobSamples<'s>,
    start: usize,
    out: &'a mut [u32],
}

impl PassOneTask<'_, '_> {
    #[inline(always)]
    fn words<Src: Samples, const INDEX: bool, const EXACT: bool, const PLAIN: bool>(
        self,
        src: &Src,
    ) -> u64 {
        let mut valid_count = 0;
        let c = self.consts;
        let out = self.out;
        let src = &src.window(self.start, out.len());
        // Whole blocks, then the tail, in plain loops: a closure would be compiled apart,
        // for the baseline, and whole blocks copy out with constant sizes.
        let mut at = 0;
        while at + LANES <= out.len() {
            let b = block::<Src, INDEX, EXACT, PLAIN>(c, src, at, LANES);
            let (words, valid) = block_words::<INDEX>(&b);
            out[at..at + LANES].copy_from_slice(&words);
            (valid_count, at) = (valid_count + u64::from(valid), at + LANES);
        }
        if at < out.len() {
            let n = out.len() - at;
            let b = block::<Src, INDEX, EXACT, PLAIN>(c, src, at, n);
            let (words, valid) = block_words::<INDEX>(&b);
            out[at..].copy_from_slice(&words[..n]);
            valid_count += u64::from(valid);
        }
        valid_count
    }
}

/// The pass-1 words of a block and its count of valid pixels.
#[inline(always)]
fn block_words<const INDEX: bool>(b: &Block) -> ([u32; LANES], u32) {
    let mut words = [0u32; LANES];
    let mut valid = 0;
    for l in 0..LANES {
        let measure = if INDEX {
            b.index_change[l]
        } else {
            isqrt(b.m2[l])
        };
        let word = PassOneWord::pack(b.class_before[l], b.class_after[l], b.direction[l], measure);
        words[l] = if b.valid[l] {
            word
        } else {
            PassOneWord::NODATA
        }
        .0;
        valid += u32::from(b.valid[l]);
    }
    (words, valid)
}

impl VectorKernel for PassOneTask<'_, '_> {
    type Output = u64;
    #[inline(always)]
    fn run(self) -> u64 {
        by_shape!(self.words)
    }
}

/// Pass 1 of change detection: one packed word per pixel, as `shaders/change.wgsl` writes it;
/// returns the count of pixels valid on both dates.
pub(crate) fn pass_one(job: &PixelJob<'_>, out: &mut [u32]) -> u64 {
    pass_one_at(SimdLevel::current(), job, out)
}

/// [`pass_one`] compiled for `level`.
pub(crate) fn pass_one_at(level: SimdLevel, job: &PixelJob<'_>, out: &mut [u32]) -> u64 {
    let consts = ChangeConsts::new(job);
    let slots = slots(job);
    let samples = JobSamples::new(&slots, job.params.iconsts[sc::BANDS_PER_DATE] as usize);
    out.par_chunks_mut(TASK_PIXELS)
        .enumerate()
        .map(|(t, out)| {
            let task = PassOneTask {
                consts: &consts,
                samples: &samples,
                start: t * TASK_PIXELS,
                out,
            };
            run_at(level, task)
        })
        .sum()
}

/// The fused pass over one task.
struct FusedTask<'a, 's> {
    consts: &'a ChangeConsts,
    samples: &'a JobSamples<'s>,
    rule: Rule,
    start: usize,
    out: ChangePlanes<'a>,
}

impl FusedTask<'_, '_> {
    #[inline(always)]
    fn codes<Src: Samples, const INDEX: bool, const EXACT: bool, const PLAIN: bool>(
        self,
        src: &Src,
    ) -> u64 {
        let (c, rule) = (self.consts, self.rule);
        let src = &src.window(self.start, self.out.change.len());
        let out = self.out;
        let mut valid_count = 0;
        let mut at = 0;
        while at + LANES <= out.change.len() {
            let b = block::<Src, INDEX, EXACT, PLAIN>(c, src, at, LANES);
            let ([before, after, change], valid) = block_codes::<INDEX>(&b, rule);
            out.class_before[at..at + LANES].copy_from_slice(&before);
            out.class_after[at..at + LANES].copy_from_slice(&after);
            out.change[at..at + LANES].copy_from_slice(&change);
            (valid_count, at) = (valid_count + u64::from(valid), at + LANES);
        }
        if at < out.change.len() {
            let n = out.change.len() - at;
            let b = block::<Src, INDEX, EXACT, PLAIN>(c, src, at, n);
            let ([before, after, change], valid) = block_codes::<INDEX>(&b, rule);
            out.class_before[at..].copy_from_slice(&before[..n]);
            out.class_after[at..].copy_from_slice(&after[..n]);
            out.change[at..].copy_from_slice(&change[..n]);
            valid_count += u64::from(valid);
        }
        valid_count
    }
}

/// Pass 2's rule with a known threshold.
#[derive(Clone, Copy)]
struct Rule {
    /// The change vector is above the threshold when m2 reaches this.
    m2_above: u32,
    /// An index difference is above when it exceeds this.
    threshold: u32,
    /// The method code.
    method: i32,
}

impl Rule {
    /// The rule of a fused job (see `decide_in_pass` in `src/change/detect.rs`): the threshold is
    /// `consts[CHANGE_THRESHOLD]`, an integer up to 65,536, and the method is `op`.
    fn of(job: &PixelJob<'_>) -> Rule {
        let threshold = job.params.consts[sc::CHANGE_THRESHOLD] as u32;
        // ⌊√m2⌋ > t exactly when m2 ≥ (t + 1)², which needs no square root; six clamped
        // squares stay below u32::MAX, so a bound past it is never reached.
        let m2_above = (u64::from(threshold) + 1).pow(2).min(u64::from(u32::MAX)) as u32;
        Rule {
            m2_above,
            threshold,
            method: job.params.op as i32,
        }
    }
}

/// The classes and change codes of a block (nodata where invalid), and its count of valid
/// pixels.
#[inline(always)]
fn block_codes<const INDEX: bool>(b: &Block, rule: Rule) -> ([[u8; LANES]; 3], u32) {
    let mut out = [[0u8; LANES]; 3];
    let mut valid = 0;
    for l in 0..LANES {
        let above = if INDEX {
            b.index_change[l] > rule.threshold
        } else {
            b.m2[l] >= rule.m2_above
        };
        let (before, after, ok) = (b.class_before[l], b.class_after[l], b.valid[l]);
        let code = decide(before, after, above, rule.method);
        out[0][l] = if ok { before } else { CLASS_NODATA };
        out[1][l] = if ok { after } else { CLASS_NODATA };
        out[2][l] = if ok { code } else { CHANGE_NODATA };
        valid += u32::from(ok);
    }
    (out, valid)
}

impl VectorKernel for FusedTask<'_, '_> {
    type Output = u64;
    #[inline(always)]
    fn run(self) -> u64 {
        by_shape!(self.codes)
    }
}

/// The change type of a changed pixel from its two valid classes, without branches
/// (`change_type` in `shaders/change_rules.wgsl`; the table is [`crate::change::change_type`]).
#[inline(always)]
pub(crate) fn change_type(before: u8, after: u8) -> u8 {
    let onto_built = if (before == BARE_SOIL) | (before == BUILT_UP) {
        EARTH_TO_CONSTRUCTION
    } else {
        NEW_CONSTRUCTION
    };
    let onto_water = if before == WATER {
        OTHER_CHANGE
    } else {
        EXCAVATION
    };
    let thinned = if (before == VEGETATION) & (after == OTHER) {
        EARTH_MOVING
    } else {
        OTHER_CHANGE
    };
    let typed = if after == BUILT_UP {
        onto_built
    } else {
        thinned
    };
    let typed = if after == BARE_SOIL {
        EARTH_MOVING
    } else {
        typed
    };
    if after == WATER { onto_water } else { typed }
}

/// The transition code of two valid classes: unchanged when they are equal, else the change
/// type (`transition_code` in `shaders/change_rules.wgsl`; the table is [`change_code`]).
#[inline(always)]
fn transition(before: u8, after: u8) -> u8 {
    let typed = change_type(before, after);
    if before == after { UNCHANGED } else { typed }
}

/// Pass 2's decision for a valid pixel (`decide` in `shaders/change_rules.wgsl`).
#[inline(always)]
fn decide(before: u8, after: u8, above: bool, method: i32) -> u8 {
    let typed = transition(before, after);
    // Combined: the measure decides, the classes type.
    let combined = if above {
        change_type(before, after)
    } else {
        UNCHANGED
    };
    // The measure alone: changed or not, untyped.
    let measure = if above { OTHER_CHANGE } else { UNCHANGED };
    // Post-classification: the class transition decides and types. The method is the same
    // for every lane, so these selects cost no more than branches would.
    match method {
        0 => combined,
        1 => measure,
        _ => typed,
    }
}

/// Pass 1 and pass 2 in one: classes of both dates and the change code of every pixel, for
/// the threshold and method in the job (the twin of `shaders/change_fused.wgsl`); returns the
/// count of pixels valid on both dates.
pub(crate) fn fused(job: &PixelJob<'_>, out: &mut ChangePlanes<'_>) -> u64 {
    fused_at(SimdLevel::current(), job, out)
}

/// [`fused`] compiled for `level`.
pub(crate) fn fused_at(level: SimdLevel, job: &PixelJob<'_>, out: &mut ChangePlanes<'_>) -> u64 {
    let (consts, rule) = (ChangeConsts::new(job), Rule::of(job));
    let slots = slots(job);
    let samples = JobSamples::new(&slots, job.params.iconsts[sc::BANDS_PER_DATE] as usize);
    let tasks = (out.class_before.par_chunks_mut(TASK_PIXELS))
        .zip(out.class_after.par_chunks_mut(TASK_PIXELS))
        .zip(out.change.par_chunks_mut(TASK_PIXELS));
    tasks
        .enumerate()
        .map(|(t, ((class_before, class_after), change))| {
            let task = FusedTask {
                consts: &consts,
                samples: &samples,
                rule,
                start: t * TASK_PIXELS,
                out: ChangePlanes {
                    class_before,
                    class_after,
                    change,
                },
            };
            run_at(level, task)
        })
        .sum()
}

/// Histogram of pass-1 magnitudes over valid pixels.
pub(crate) fn magnitude_histogram(words: &[u32]) -> Vec<u32> {
    words
        .par_chunks(1 << 16)
        .fold(
            || vec![0u32; HISTOGRAM_BINS],
            |mut h, chunk| {
                for &w in chunk {
                    let w = PassOneWord(w);
                    if w.is_valid() {
                        h[w.measure() as usize] += 1;
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
    let threshold = job.params.iconsts[change_codes::CODES_THRESHOLD] as u32;
    let method = job.params.iconsts[change_codes::CODES_METHOD];
    out.par_chunks_mut(1 << 16)
        .zip(words.par_chunks(1 << 16))
        .map(|(out, words)| {
            let mut valid = 0;
            for (o, &w) in out.iter_mut().zip(words) {
                let w = PassOneWord(w);
                let (before, after, magnitude) = (w.before(), w.after(), w.measure());
                *o = if before == NODATA_CLASS || after == NODATA_CLASS {
                    CHANGE_NODATA
                } else {
                    valid += 1;
                    decide(before as u8, after as u8, magnitude > threshold, method)
                };
            }
            valid
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{ChangeMethod, DifferencedIndex, Normalization, change_code};
    use crate::classify::ClassThresholds;
    use crate::raster::{Band, BandStack};
    use crate::sensor::{BandRole, Radiometry, Sensor};

    #[test]
    fn transition_follows_the_table() {
        for before in 1..=OTHER {
            for after in 1..=OTHER {
                assert_eq!(transition(before, after), change_code(before, after));
                assert_eq!(
                    change_type(before, after),
                    crate::change::change_type(before, after)
                );
            }
        }
    }

    /// The sample types of [`random_pair`].
    #[derive(Debug, Clone, Copy)]
    enum Kind {
        U16,
        /// u16 without a nodata value.
        U16Valid,
        U8,
        F32,
    }

    /// A pair of six-band stacks of `kind` with about 3% nodata (NaN and infinities for f32),
    /// with `radiometry`.
    fn random_pair(seed: u64, n: usize, kind: Kind, radiometry: Radiometry) -> [BandStack; 2] {
        let nodata = !matches!(kind, Kind::U16Valid);
        let mut next = crate::test_rng::xorshift(seed);
        std::array::from_fn(|_| {
            let bands = BandRole::ALL
                .iter()
                .map(|&role| {
                    let mut sample = |span: u64| match next() % 33 {
                        0 => 0,
                        _ => next() % span,
                    };
                    let data = match kind {
                        Kind::F32 => BandData::F32(
                            (0..n)
                                .map(|_| match sample(40) {
                                    1 => f32::NAN,
                                    2 => f32::INFINITY,
                                    r => (r * 997 % 5000) as f32 * 1e-4,
                                })
                                .collect(),
                        ),
                        Kind::U16 | Kind::U16Valid => {
                            BandData::U16((0..n).map(|_| sample(9000) as u16).collect())
                        }
                        Kind::U8 => BandData::U8((0..n).map(|_| sample(256) as u8).collect()),
                    };
                    let band = Band::new(role, data);
                    if nodata { band.with_nodata(0.0) } else { band }
                })
                .collect();
            let mut stack = BandStack::new(n, 1, bands).unwrap();
            stack.set_radiometry(radiometry).unwrap();
            stack
        })
    }

    /// Every vector level gives the same bits, and the fused pass gives what pass 1 and pass 2
    /// give, for every method and measure, on lengths that end inside a block.
    #[test]
    fn every_level_and_the_fused_pass_agree() {
        let normalization = Normalization {
            gain_q12: [4100, 4000, 4200, 3900, 4096, 4150],
            offset_q12: [-9000, 300, 0, 12000, -40, 5],
        };
        let methods = [
            ChangeMethod::Combined,
            ChangeMethod::ChangeVector,
            ChangeMethod::PostClassification,
            ChangeMethod::IndexDifference(DifferencedIndex::Ndvi),
            ChangeMethod::IndexDifference(DifferencedIndex::Bsi),
        ];
        let (identity, l2a) = (Radiometry::IDENTITY, Sensor::sentinel2_l2a().radiometry);
        let landsat = Sensor::landsat89_c2l2().radiometry;
        // With the shortcuts each case takes: exact integers, plain (unshifted) classes.
        let cases = [
            (1, 1, Kind::U16, identity, (true, true)),
            (2, 37, Kind::U16, identity, (true, true)),
            (3, 40_000, Kind::U16, identity, (true, true)),
            (4, 40_000, Kind::U16, l2a, (true, false)),
            (5, 40_000, Kind::U16, landsat, (false, false)),
            (6, 20_000, Kind::U8, identity, (true, true)),
            (7, 20_000, Kind::U8, l2a, (true, false)),
            (8, 999, Kind::F32, identity, (false, false)),
            (9, 40_000, Kind::U16Valid, identity, (true, true)),
            (10, 40_000, Kind::U16Valid, l2a, (true, false)),
        ];
        for (seed, n, kind, radiometry, shortcuts) in cases {
            let [before, after] = random_pair(seed, n, kind, radiometry);
            for method in methods {
                let job = ClassThresholds::default()
                    .change_job(&before, &after, &normalization, method)
                    .unwrap();
                let consts = ChangeConsts::new(&job);
                let taken = (consts.exact, consts.exact && consts.unshifted);
                assert_eq!(taken, shortcuts, "{kind:?} {radiometry:?}");
                let mut words = vec![0u32; n];
                let valid = pass_one_at(SimdLevel::Portable, &job, &mut words);
                // Some pixels are nodata, except without a nodata value (or in one pixel).
                let all = matches!(kind, Kind::U16Valid) || n == 1;
                assert!(
                    valid > 0 && (valid < n as u64 || all),
                    "{kind:?}: {valid} valid"
                );
                for level in SimdLevel::available() {
                    let mut w = vec![0u32; n];
                    assert_eq!(pass_one_at(level, &job, &mut w), valid);
                    assert!(w == words, "{level:?} {method:?} pass 1 differs");
                }
                let word_data = BandData::U32(words.clone());
                for threshold in [0, 300, 2000, 65_535, u32::MAX] {
                    let codes_job =
                        crate::change::detect::codes_job(&word_data, n, threshold, method);
                    let mut codes = vec![0u8; n];
                    change_codes(&codes_job, &mut codes);
                    let class = |shift: u32| -> Vec<u8> {
                        (words.iter())
                            .map(|&w| match w >> shift & 0xf {
                                NODATA_CLASS => CLASS_NODATA,
                                c => c as u8,
                            })
                            .collect()
                    };
                    let mut fused_job = job.clone();
                    crate::change::detect::decide_in_pass(&mut fused_job, threshold, method);
                    for level in SimdLevel::available() {
                        let mut planes = [vec![0u8; n], vec![0u8; n], vec![0u8; n]];
                        let [class_before, class_after, change] = &mut planes;
                        let mut out = ChangePlanes {
                            class_before,
                            class_after,
                            change,
                        };
                        assert_eq!(fused_at(level, &fused_job, &mut out), valid);
                        let what = format!("{level:?} {method:?} threshold {threshold}");
                        assert!(planes[0] == class(0), "{what}: class before");
                        assert!(planes[1] == class(4), "{what}: class after");
                        assert!(planes[2] == codes, "{what}: codes");
                    }
                }
            }
        }
    }
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
