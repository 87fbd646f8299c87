//! Bi-temporal change detection: the enforcement change codes and the rule that types a
//! changed pixel from its land-cover classes on the two dates.
//!
//! What the land became decides the type, as an inspector finds it on the ground; for land
//! that became built-up, what it was decides between new construction and construction on
//! ground already cleared or built:
//!
//! | code | change                               | → to (from)                                   |
//! |------|--------------------------------------|-----------------------------------------------|
//! | 0    | unchanged                            |                                               |
//! | 1    | earth-moving (推填土)                 | → bare soil (from anything: cleared, dug, filled or levelled); vegetation → other (cover cleared or thinned) |
//! | 2    | new construction                     | → built-up (from vegetation, water or other)  |
//! | 3    | earth-moving → construction          | → built-up (from bare soil or built-up: built on cleared ground, or rebuilt) |
//! | 4    | excavation or mining                 | → water (from land: pits, ponds)              |
//! | 5    | other change                         | → vegetation; → other from anything but vegetation; water → water |
//! | 255  | nodata                               | nodata, NaN, cloud or cloud shadow on either date |
//!
//! Post-classification comparison calls a pixel changed when its class differs, and types it
//! by the same table ([`change_code`]).
//!
//! Detection runs in two passes on either backend. Pass 1 (`shaders/change.wgsl`, fused) reads
//! both dates' bands once and writes, per pixel, both classes and the change-vector magnitude
//! over all bands, in exact integer arithmetic after relative radiometric normalization. Then
//! the magnitude histogram (`shaders/change_histogram.wgsl`) gives Otsu's threshold, and pass 2
//! (`shaders/change_codes.wgsl`) turns the compact pass-1 words into change codes. A pixel that
//! is nodata on either date is nodata in every output, so it counts nowhere.
//!
//! When the threshold is known beforehand (a tiled job fixes it once from a sample), both
//! passes run as one (`shaders/change_fused.wgsl`, [`crate::Engine::detect_change_codes`]):
//! every input sample is read once and only the classes and change codes are written.

pub mod calibration;
pub mod context;
pub(crate) mod detect;
pub mod formula;
pub mod noise;
pub(crate) mod pass_one;
pub mod regions;

pub use context::{ContextModel, ContextSettings};
pub use formula::FormulaChange;

use crate::classify::{
    BARE_SOIL, BUILT_UP, CLASS_NODATA, ClassThresholds, OTHER, VEGETATION, WATER,
};
use crate::error::{Error, Result};
use crate::geo::PixelArea;
use crate::pixel::PixelJob;
use crate::raster::{Band, BandData, BandStack, DataType, Raster};
use crate::sensor::BandRole::{self, *};

/// Change code: unchanged.
pub const UNCHANGED: u8 = 0;
/// Change code: vegetation → bare soil (earth-moving, 推填土).
pub const EARTH_MOVING: u8 = 1;
/// Change code: vegetation → built-up.
pub const NEW_CONSTRUCTION: u8 = 2;
/// Change code: bare soil → built-up.
pub const EARTH_TO_CONSTRUCTION: u8 = 3;
/// Change code: vegetation or bare soil → water (excavation, open-pit mining, ponds).
pub const EXCAVATION: u8 = 4;
/// Change code: any other change of class.
pub const OTHER_CHANGE: u8 = 5;
/// Change code: nodata on either date.
pub const CHANGE_NODATA: u8 = 255;

/// The fixed colours of the change codes (RGBA); unchanged and nodata are transparent.
pub const CHANGE_PALETTE: [(u8, [u8; 4]); 5] = [
    (EARTH_MOVING, [255, 170, 0, 255]),
    (NEW_CONSTRUCTION, [230, 0, 0, 255]),
    (EARTH_TO_CONSTRUCTION, [170, 0, 170, 255]),
    (EXCAVATION, [0, 90, 255, 255]),
    (OTHER_CHANGE, [255, 255, 0, 255]),
];

/// The names of the change codes (nodata aside), for tables, legends and the category
/// names of change maps.
pub const CHANGE_NAMES: [(u8, &str); 6] = [
    (UNCHANGED, "unchanged"),
    (EARTH_MOVING, "earth-moving"),
    (NEW_CONSTRUCTION, "new construction"),
    (EARTH_TO_CONSTRUCTION, "earth-moving to construction"),
    (EXCAVATION, "excavation or mining"),
    (OTHER_CHANGE, "other change"),
];

/// The name of a change code, for tables and legends.
pub fn change_name(code: u8) -> &'static str {
    match CHANGE_NAMES.iter().find(|&&(c, _)| c == code) {
        Some(&(_, name)) => name,
        None if code == CHANGE_NODATA => "nodata",
        None => "undefined",
    }
}

/// The type of a changed pixel from its classes before and after (the table above; twin of
/// `change_type` in `shaders/change_rules.wgsl`).
pub fn change_type(before: u8, after: u8) -> u8 {
    match (before, after) {
        (WATER, WATER) => OTHER_CHANGE,
        (_, WATER) => EXCAVATION,
        (_, BARE_SOIL) => EARTH_MOVING,
        (BARE_SOIL | BUILT_UP, BUILT_UP) => EARTH_TO_CONSTRUCTION,
        (_, BUILT_UP) => NEW_CONSTRUCTION,
        (VEGETATION, OTHER) => EARTH_MOVING,
        _ => OTHER_CHANGE,
    }
}

/// The code of a from→to class pair under post-classification comparison: nodata, unchanged
/// when the classes are equal, else [`change_type`] (twin of `transition_code` in
/// `shaders/change_rules.wgsl`).
pub fn change_code(before: u8, after: u8) -> u8 {
    match (before, after) {
        (CLASS_NODATA, _) | (_, CLASS_NODATA) => CHANGE_NODATA,
        (b, a) if b == a => UNCHANGED,
        (b, a) => change_type(b, a),
    }
}

/// How a pixel is declared changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ChangeMethod {
    /// The default: the contextual detector ([`context`]): a change score that tolerates
    /// misregistration, smoothed over the neighbourhood, thresholded against the noise of
    /// unchanged pixels with hysteresis; clouds and shadows masked; typed by the classes,
    /// one voted type per change region.
    #[default]
    Contextual,
    /// Per pixel: changed when the change-vector magnitude exceeds the threshold; typed by
    /// the classes.
    Combined,
    /// Change vector analysis alone: changed (code 5) when the magnitude exceeds the
    /// threshold, untyped.
    ChangeVector,
    /// Index differencing: changed (code 5) when |Δindex| of NDVI, BSI or NDBI, in
    /// thousandths, exceeds the threshold, untyped.
    IndexDifference(DifferencedIndex),
    /// Post-classification comparison: changed when the class differs.
    PostClassification,
}

/// The indices that index differencing can difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum DifferencedIndex {
    /// ΔNDVI: vegetation loss or gain.
    Ndvi,
    /// ΔBSI: bare soil appearing or disappearing.
    Bsi,
    /// ΔNDBI: built-up surfaces appearing or disappearing.
    Ndbi,
}

impl ChangeMethod {
    /// Pass 2's method code (`shaders/change_codes.wgsl`).
    pub(crate) fn code(self) -> i32 {
        match self {
            ChangeMethod::Contextual | ChangeMethod::Combined => 0,
            ChangeMethod::ChangeVector | ChangeMethod::IndexDifference(_) => 1,
            ChangeMethod::PostClassification => 2,
        }
    }

    /// Pass 1's change measure (`change_measure` in `shaders/change.wgsl`).
    pub(crate) fn measure(self) -> i32 {
        match self {
            ChangeMethod::IndexDifference(DifferencedIndex::Ndvi) => 1,
            ChangeMethod::IndexDifference(DifferencedIndex::Bsi) => 2,
            ChangeMethod::IndexDifference(DifferencedIndex::Ndbi) => 3,
            _ => 0,
        }
    }
}

impl std::str::FromStr for ChangeMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "contextual" => Ok(ChangeMethod::Contextual),
            "combined" => Ok(ChangeMethod::Combined),
            "cva" | "change-vector" => Ok(ChangeMethod::ChangeVector),
            "postclass" | "post-classification" => Ok(ChangeMethod::PostClassification),
            "dndvi" => Ok(ChangeMethod::IndexDifference(DifferencedIndex::Ndvi)),
            "dbsi" => Ok(ChangeMethod::IndexDifference(DifferencedIndex::Bsi)),
            "dndbi" => Ok(ChangeMethod::IndexDifference(DifferencedIndex::Ndbi)),
            _ => Err(Error::UnknownName {
                kind: "change method",
                name: s.into(),
                known: "contextual, combined, cva, postclass, dndvi, dbsi, dndbi".into(),
            }),
        }
    }
}

/// How the threshold of a per-pixel measure (combined, change vector, index differences) is
/// chosen. The contextual detector takes its thresholds, in units of the noise level, from
/// [`ContextSettings`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Threshold {
    /// Otsu's method on the histogram of magnitudes of the image itself, but never below
    /// three times the noise level of unchanged pixels (the default).
    #[default]
    Otsu,
    /// A fixed magnitude, in quantized units (see [`ChangeOptions`]).
    Fixed(u32),
}

/// Settings of change detection.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ChangeOptions {
    /// How a pixel is declared changed.
    pub method: ChangeMethod,
    /// The threshold of the per-pixel measures. Magnitudes are Euclidean norms of the
    /// per-band differences in quantized units: digital numbers for integer samples, 1e-4
    /// reflectance for calibrated or float samples.
    pub threshold: Threshold,
    /// Settings of the contextual detector (thresholds in σ, distances in metres, clouds).
    pub context: ContextSettings,
    /// Class thresholds for both dates.
    pub classes: ClassThresholds,
    /// Relative radiometric normalization of the second date onto the first (default on when
    /// built with [`ChangeOptions::new`]).
    pub normalize: bool,
    /// A relation between the dates estimated beforehand (for instance on a sample of a
    /// scene processed in tiles), used instead of fitting one on these pixels.
    pub relation: Option<DateRelation>,
}

with_setters!(ChangeOptions {
    with_method => method: ChangeMethod,
    with_threshold => threshold: Threshold,
    with_context => context: ContextSettings,
    with_classes => classes: ClassThresholds,
    with_normalize => normalize: bool,
    with_relation => relation: Option<DateRelation>,
});

impl ChangeOptions {
    /// The defaults: the contextual detector, default classes, normalization on.
    pub fn new() -> ChangeOptions {
        ChangeOptions {
            normalize: true,
            ..ChangeOptions::default()
        }
    }
}

/// A per-band linear map of the second date onto the first, in Q12 fixed point of quantized
/// units: `mapped = (gain·after + offset) >> 12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Gains in Q12 (4096 = 1).
    pub gain_q12: [i32; 6],
    /// Offsets in Q12 of quantized units.
    pub offset_q12: [i32; 6],
}

impl Normalization {
    /// The identity map.
    pub const IDENTITY: Normalization = Normalization {
        gain_q12: [4096; 6],
        offset_q12: [0; 6],
    };
}

/// Everything change detection produces, on the input grid.
#[derive(Debug, Clone)]
pub struct ChangeMaps {
    /// Land-cover classes of the first date.
    pub class_before: Raster<u8>,
    /// Land-cover classes of the second date.
    pub class_after: Raster<u8>,
    /// The change measure: the change-vector magnitude in quantized units, or |Δindex| in
    /// thousandths for index differencing (0 where nodata).
    pub magnitude: Raster<u16>,
    /// Change-vector direction as a sector code: bit j is set when band j (blue, green, red,
    /// NIR, SWIR1, SWIR2) increased from the first date to the second (255 = nodata). For
    /// example 0b001000 is a NIR gain alone (vegetation growth), 0b110111 brightening of all
    /// but NIR (clearing to bare soil or construction).
    pub direction: Raster<u8>,
    /// Change codes.
    pub change: Raster<u8>,
    /// The magnitude threshold used (chosen by Otsu or given).
    pub threshold: u32,
    /// How the dates relate: the normalization applied to the second date and the noise
    /// level of unchanged pixels.
    pub relation: DateRelation,
    /// Histogram of magnitudes over valid pixels, one bin per integer magnitude.
    pub histogram: Vec<u32>,
    /// What the contextual detector masked as cloud and shadow (`None` for the per-pixel
    /// methods, which mask nothing).
    pub sky: Option<regions::RegionStats>,
}

/// The classes of both dates and the change codes: what a tiled job keeps of change detection.
#[derive(Debug, Clone)]
pub struct ChangeCodes {
    /// Land-cover classes of the first date.
    pub class_before: Raster<u8>,
    /// Land-cover classes of the second date.
    pub class_after: Raster<u8>,
    /// Change codes.
    pub change: Raster<u8>,
    /// The threshold used.
    pub threshold: u32,
    /// How the dates relate.
    pub relation: DateRelation,
}

/// Caller-owned outputs of [`crate::Engine::detect_change_codes_into`], one byte per pixel
/// each: reusing them across strips avoids faulting in fresh pages for every call.
#[derive(Debug)]
pub struct ChangePlanes<'a> {
    /// Land-cover classes of the first date.
    pub class_before: &'a mut [u8],
    /// Land-cover classes of the second date.
    pub class_after: &'a mut [u8],
    /// Change codes.
    pub change: &'a mut [u8],
}

/// The threshold and the date relation that a detection used.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChangeSettings {
    /// The threshold.
    pub threshold: u32,
    /// How the dates relate.
    pub relation: DateRelation,
}

impl From<ChangeMaps> for ChangeCodes {
    fn from(maps: ChangeMaps) -> ChangeCodes {
        ChangeCodes {
            class_before: maps.class_before,
            class_after: maps.class_after,
            change: maps.change,
            threshold: maps.threshold,
            relation: maps.relation,
        }
    }
}

/// Area of every from→to class pair, indexed `[before][after]` by class code.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionMatrix {
    /// Pixel counts per pair.
    pub pixels: Box<[[u64; 256]; 256]>,
    /// Ground area per pair in m², when the grid's CRS is known and usable.
    pub area_m2: Option<Box<[[f64; 256]; 256]>>,
}

impl TransitionMatrix {
    /// Counts the class pairs of two class maps on the same grid; nodata pairs are skipped.
    pub fn from_classes(before: &Raster<u8>, after: &Raster<u8>) -> Result<TransitionMatrix> {
        if before.data.len() != after.data.len() {
            return Err(Error::GridMismatch {
                what: format!(
                    "class maps of {}×{} and {}×{} pixels",
                    before.width, before.height, after.width, after.height
                ),
            });
        }
        let mut pixels = Box::new([[0u64; 256]; 256]);
        let areas = PixelArea::of_grid(before.georef.as_ref(), before.width, before.height).ok();
        let mut area_m2 = areas.as_ref().map(|_| Box::new([[0f64; 256]; 256]));
        let pairs = before.data.iter().zip(&after.data).enumerate();
        for (i, (&b, &a)) in pairs {
            if b != CLASS_NODATA && a != CLASS_NODATA {
                pixels[b as usize][a as usize] += 1;
                if let (Some(areas), Some(sum)) = (&areas, &mut area_m2) {
                    let (row, col) = (i / before.width.max(1), i % before.width.max(1));
                    sum[b as usize][a as usize] += areas.at(row, col);
                }
            }
        }
        Ok(TransitionMatrix { pixels, area_m2 })
    }

    /// Area of the `before → after` pair in m² (or in pixels when the grid's CRS is unknown).
    pub fn area(&self, before: u8, after: u8) -> f64 {
        match &self.area_m2 {
            Some(area) => area[before as usize][after as usize],
            None => self.pixels[before as usize][after as usize] as f64,
        }
    }
}

/// Otsu's threshold on a histogram: the bin that maximises the between-class variance. Pixels
/// with magnitude strictly above it are "changed". Ties go to the lowest bin.
pub fn otsu(histogram: &[u32]) -> u32 {
    let total: f64 = histogram.iter().map(|&c| f64::from(c)).sum();
    if total == 0.0 {
        return 0;
    }
    let sum_all: f64 = histogram
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * f64::from(c))
        .sum();
    let (mut weight_low, mut sum_low) = (0.0, 0.0);
    let (mut best, mut best_var) = (0u32, -1.0f64);
    for (t, &c) in histogram.iter().enumerate() {
        weight_low += f64::from(c);
        sum_low += t as f64 * f64::from(c);
        let weight_high = total - weight_low;
        if weight_low == 0.0 || weight_high == 0.0 {
            continue;
        }
        let mean_low = sum_low / weight_low;
        let mean_high = (sum_all - sum_low) / weight_high;
        let var = weight_low * weight_high * (mean_low - mean_high).powi(2);
        if var > best_var {
            best_var = var;
            best = t as u32;
        }
    }
    best
}

/// The factor that turns a date's samples into quantized units: digital numbers for raw
/// integer samples, 1e-4 reflectance for calibrated or float samples.
fn quantization(stack: &BandStack) -> f64 {
    let float = stack
        .bands()
        .iter()
        .any(|b| b.data.data_type() == DataType::F32);
    match (float, stack.radiometry.scale == 1.0) {
        (false, true) => 1.0,
        (true, true) => 1e4,
        _ => stack.radiometry.scale * 1e4,
    }
}

/// A date's radiometric offset in quantized units, so that `round(dn·q) + offset` is
/// proportional to reflectance.
fn quantized_offset(stack: &BandStack) -> i32 {
    (stack.radiometry.offset_in_dn() * quantization(stack))
        .round()
        .clamp(-1e9, 1e9) as i32
}

/// The roles of the change vector: blue, green, red and NIR, then SWIR1 and SWIR2 when both
/// dates carry them. Without SWIR1 (GF-1, GF-2, ZY-3) the four-band class rules apply.
pub(crate) fn change_roles(before: &BandStack, after: &BandStack) -> Vec<BandRole> {
    let both = |role| before.band(role).is_some() && after.band(role).is_some();
    let mut roles = vec![Blue, Green, Red, Nir];
    for role in [Swir1, Swir2] {
        if !both(role) {
            break;
        }
        roles.push(role);
    }
    roles
}

/// The radiometric relation between two dates, estimated on the host from pixels unlikely to
/// have changed, and shared by both backends.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DateRelation {
    /// The normalization applied to the second date (identity when not fitted).
    pub normalization: Normalization,
    /// Root-mean-square change magnitude of those pixels after the normalization: the noise
    /// level of an unchanged pixel, in quantized units.
    pub noise: f64,
    /// The contextual detector's model of the pair, when that detector ran.
    pub context: Option<ContextModel>,
}

impl DateRelation {
    /// No normalization, no noise, no model.
    pub const IDENTITY: DateRelation = DateRelation {
        normalization: Normalization::IDENTITY,
        noise: 0.0,
        context: None,
    };
}

/// Estimates how the two dates relate, on a subsample of at most 200,000 valid pixels. When
/// `fit`, each band of the second date is mapped onto the first by matching mean and spread,
/// first over all pixels, then twice over the 30% that the current map fits best (pixels
/// unlikely to have changed). The noise level is the RMS change magnitude of the final 30%.
/// Computed once on the host, so both backends apply the same integers.
pub fn relate_dates(before: &BandStack, after: &BandStack, fit: bool) -> Result<DateRelation> {
    let roles = change_roles(before, after);
    let nb = roles.len();
    // Every sampled pixel valid on both dates, as nb (first date, second date) pairs.
    fn columns<'s>(stack: &'s BandStack, roles: &[BandRole]) -> Result<Vec<&'s Band>> {
        roles
            .iter()
            .map(|&r| stack.require(r, "change detection"))
            .collect()
    }
    let (bands_b, bands_a) = (columns(before, &roles)?, columns(after, &roles)?);
    let value = |band: &Band, i: usize, q: f64, offset: f64| -> Option<f64> {
        let v = band.data.get_f32(i);
        let nodata = band.nodata.is_some_and(|nd| v == nd as f32);
        (v.is_finite() && !nodata).then(|| (f64::from(v) * q).round_ties_even() + offset)
    };
    let (qb, qa) = (quantization(before), quantization(after));
    let (ob, oa) = (
        f64::from(quantized_offset(before)),
        f64::from(quantized_offset(after)),
    );
    let step = (before.len() / 200_000).max(1);
    let mut pairs: Vec<(f64, f64)> = Vec::with_capacity(before.len() / step * nb + nb);
    let mut px = Vec::with_capacity(nb);
    for i in (0..before.len()).step_by(step) {
        px.clear();
        for (b, a) in bands_b.iter().zip(&bands_a) {
            match (value(b, i, qb, ob), value(a, i, qa, oa)) {
                (Some(vb), Some(va)) => px.push((vb, va)),
                _ => break,
            }
        }
        if px.len() == nb {
            pairs.extend_from_slice(&px);
        }
    }
    let samples = pairs.len() / nb;
    let mut relation = DateRelation::IDENTITY;
    if samples < 100 {
        return Ok(relation);
    }
    // Mean and spread matching, per band, over the given pixels: symmetric in the two dates,
    // so unlike a least-squares slope it is not attenuated by noise in the second date.
    let match_moments = |keep: &mut dyn Iterator<Item = usize>, lines: &mut Vec<(f64, f64)>| {
        let mut sums = vec![[0.0f64; 4]; nb];
        let mut n = 0.0;
        for i in keep {
            n += 1.0;
            for (sum, &(b, a)) in sums.iter_mut().zip(&pairs[i * nb..(i + 1) * nb]) {
                *sum = [sum[0] + a, sum[1] + b, sum[2] + a * a, sum[3] + b * b];
            }
        }
        for (line, [sa, sb, saa, sbb]) in lines.iter_mut().zip(sums) {
            let (ma, mb) = (sa / n, sb / n);
            let (va, vb) = (saa / n - ma * ma, sbb / n - mb * mb);
            if va > 0.0 && vb > 0.0 {
                let g = (vb / va).sqrt().clamp(0.25, 4.0);
                *line = (g, mb - g * ma);
            }
        }
    };
    let mut lines = vec![(1.0, 0.0); nb];
    if fit {
        match_moments(&mut (0..samples), &mut lines);
    }
    let rounds = if fit { 3 } else { 1 };
    let kept = samples * 3 / 10;
    let mut order: Vec<(f64, usize)> = Vec::with_capacity(samples);
    for round in 0..rounds {
        order.clear();
        order.extend((0..samples).map(|i| {
            let r = pairs[i * nb..(i + 1) * nb]
                .iter()
                .zip(&lines)
                .map(|(&(b, a), &(g, c))| (g * a + c - b).powi(2))
                .sum::<f64>();
            (r, i)
        }));
        // The 30% that fit best, as a set: ties broken by index, so the set is unique.
        order.select_nth_unstable_by(kept, |x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let best = &mut order[..kept];
        best.sort_unstable_by_key(|&(_, i)| i);
        relation.noise = (best.iter().map(|&(r, _)| r).sum::<f64>() / kept as f64).sqrt();
        if round + 1 < rounds {
            match_moments(&mut best.iter().map(|&(_, i)| i), &mut lines);
        }
    }
    for (j, &(g, c)) in lines.iter().enumerate() {
        relation.normalization.gain_q12[j] = (g * 4096.0).round() as i32;
        relation.normalization.offset_q12[j] = (c * 4096.0).round().clamp(-1e9, 1e9) as i32;
    }
    Ok(relation)
}

/// A copy of `after` with its change-vector bands mapped onto `before`'s radiometry by
/// `normalization` (as f32 digital numbers of the first date; nodata, NaN and infinite
/// samples become NaN), so that float computations such as formula indices can compare the
/// two dates. Other bands are kept as they are.
pub fn normalized_copy(
    before: &BandStack,
    after: &BandStack,
    normalization: &Normalization,
) -> Result<BandStack> {
    let roles = change_roles(before, after);
    let (qb, qa) = (quantization(before), quantization(after));
    let (ob, oa) = (
        f64::from(quantized_offset(before)),
        f64::from(quantized_offset(after)),
    );
    let bands = after
        .bands()
        .iter()
        .map(|band| {
            let Some(j) = band.role.and_then(|r| roles.iter().position(|&x| x == r)) else {
                return band.clone();
            };
            let (g, c) = (
                f64::from(normalization.gain_q12[j]) / 4096.0,
                f64::from(normalization.offset_q12[j]) / 4096.0,
            );
            let data = (0..band.data.len())
                .map(|i| {
                    let v = band.data.get_f32(i);
                    if !v.is_finite() || band.nodata.is_some_and(|nd| v == nd as f32) {
                        return f32::NAN;
                    }
                    let mapped = g * (f64::from(v) * qa + oa) + c;
                    ((mapped - ob) / qb) as f32
                })
                .collect();
            Band {
                role: band.role,
                data: BandData::F32(data),
                nodata: None,
            }
        })
        .collect();
    let mut copy = BandStack::new(after.width(), after.height(), bands)?;
    copy.set_radiometry(before.radiometry)?;
    copy.georef = after.georef;
    Ok(copy)
}

/// The Otsu threshold, raised to three times the noise level of unchanged pixels: Otsu always
/// splits a histogram in two, even when nothing changed, and the floor stops it from calling
/// noise change.
pub fn otsu_above_noise(histogram: &[u32], noise: f64) -> u32 {
    otsu(histogram).max((3.0 * noise).ceil() as u32)
}

impl ClassThresholds {
    /// Builds pass 1 of change detection: slots `0..nb` the first date, `nb..2nb` the second.
    pub(crate) fn change_job<'a>(
        &self,
        before: &'a BandStack,
        after: &'a BandStack,
        normalization: &Normalization,
        method: ChangeMethod,
    ) -> Result<PixelJob<'a>> {
        use crate::pixel::slots::change::*;
        check_same_grid(before, after)?;
        let roles = change_roles(before, after);
        if roles.len() < 5 {
            let needed_by = match method {
                ChangeMethod::PostClassification => Some("post-classification comparison"),
                ChangeMethod::IndexDifference(DifferencedIndex::Bsi) => Some("BSI differencing"),
                ChangeMethod::IndexDifference(DifferencedIndex::Ndbi) => Some("NDBI differencing"),
                _ => None,
            };
            if let Some(needed_by) = needed_by {
                let stack = if before.band(Swir1).is_none() {
                    before
                } else {
                    after
                };
                stack.require(Swir1, needed_by)?;
            }
        }
        let mut job = PixelJob::new(before, 0, &roles, "change detection (first date)")?;
        self.set_consts(&mut job, before)?;
        job.push_bands(after, &roles, "change detection (second date)")?;
        let r = after.radiometry;
        r.validate()?;
        job.set_const(AFTER_SHIFT2, "offset/scale", 2.0 * r.offset_in_dn())?;
        job.set_const(AFTER_SHIFT4, "offset/scale", 4.0 * r.offset_in_dn())?;
        job.set_const(QUANTIZE_BEFORE, "quantization", quantization(before))?;
        job.set_const(QUANTIZE_AFTER, "quantization", quantization(after))?;
        let k = &mut job.params.iconsts;
        k[GAIN_Q12].copy_from_slice(&normalization.gain_q12);
        k[OFFSET_Q12].copy_from_slice(&normalization.offset_q12);
        k[BANDS_PER_DATE] = roles.len() as i32;
        k[MEASURE] = method.measure();
        k[OFFSET_BEFORE] = quantized_offset(before);
        k[OFFSET_AFTER] = quantized_offset(after);
        Ok(job)
    }
}

/// Fails unless both dates have the same size and, when both are georeferenced, the same grid.
pub(crate) fn check_same_grid(before: &BandStack, after: &BandStack) -> Result<()> {
    if (before.width(), before.height()) != (after.width(), after.height()) {
        return Err(Error::GridMismatch {
            what: format!(
                "the first date is {}×{} pixels, the second {}×{}",
                before.width(),
                before.height(),
                after.width(),
                after.height()
            ),
        });
    }
    if let (Some(a), Some(b)) = (before.georef, after.georef)
        && a != b
    {
        return Err(Error::GridMismatch {
            what: format!("the dates lie on different grids: {a} against {b}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_rules_follow_the_table() {
        assert_eq!(change_code(VEGETATION, BARE_SOIL), EARTH_MOVING);
        assert_eq!(change_code(BUILT_UP, BARE_SOIL), EARTH_MOVING);
        assert_eq!(change_code(WATER, BARE_SOIL), EARTH_MOVING);
        assert_eq!(change_code(VEGETATION, BUILT_UP), NEW_CONSTRUCTION);
        assert_eq!(change_code(WATER, BUILT_UP), NEW_CONSTRUCTION);
        assert_eq!(change_code(OTHER, BUILT_UP), NEW_CONSTRUCTION);
        assert_eq!(change_code(BARE_SOIL, BUILT_UP), EARTH_TO_CONSTRUCTION);
        assert_eq!(change_code(BARE_SOIL, WATER), EXCAVATION);
        assert_eq!(change_code(VEGETATION, WATER), EXCAVATION);
        assert_eq!(change_code(BUILT_UP, WATER), EXCAVATION);
        assert_eq!(change_code(WATER, VEGETATION), OTHER_CHANGE);
        assert_eq!(change_code(BUILT_UP, OTHER), OTHER_CHANGE);
        assert_eq!(change_code(VEGETATION, OTHER), EARTH_MOVING);
        assert_eq!(change_code(OTHER, OTHER), UNCHANGED);
        assert_eq!(change_code(CLASS_NODATA, WATER), CHANGE_NODATA);
        assert_eq!(change_code(WATER, CLASS_NODATA), CHANGE_NODATA);
        // A changed pixel that kept its class is typed by what it is now.
        assert_eq!(change_type(BARE_SOIL, BARE_SOIL), EARTH_MOVING);
        assert_eq!(change_type(BUILT_UP, BUILT_UP), EARTH_TO_CONSTRUCTION);
        assert_eq!(change_type(WATER, WATER), OTHER_CHANGE);
        assert_eq!(change_type(VEGETATION, VEGETATION), OTHER_CHANGE);
    }
}
