//! The contextual change detector, the default method: spatial context against a noise model.
//!
//! 1. **Calibration** ([`super::calibration`]): each date's bands become 10⁻⁴ reflectance
//!    (raw digital numbers by a per-scene relative calibration).
//! 2. **Noise model** ([`super::noise`]): the second date is mapped onto the first by median
//!    and MAD; the per-band difference of unchanged pixels has a median and a robust σ.
//! 3. **Score** (kernel `context_scores`): a pixel's change magnitude is the RMS over bands of
//!    its standardized differences, taken against the *best match* among the other date's
//!    pixels within the misregistration radius, both ways, so that a pixel of shift between
//!    the dates does not light up edges. The score is then averaged over the smoothing
//!    window, so that evidence from neighbours counts and isolated noise does not.
//! 4. **Decision** (kernel `context_decide`): classes of both dates, the change type, and a
//!    *level*: strong above `seed_sigma`, weak above `grow_sigma`. Vegetation on the second
//!    date, or water on both, is no land-use change. Per date, cloud, shadow and haze tests.
//! 5. **Regions** ([`super::regions`]): clouds are bright, white, every-band brightenings
//!    with a core of at least `cloud_min_core_m2`, grown and dilated; shadows are dark
//!    near-infrared drops near a cloud of the same date; haze is an extensive brightening
//!    that falls with wavelength and leaves SWIR alone. Masked pixels are nodata (255). The
//!    weak pixels connected to a strong one are change (hysteresis), and every pixel of such
//!    a region takes one type, voted over its pixels: enforcement types (1–4) against
//!    "other change" first, then the most common enforcement type.
//!
//! Distances are set in metres and turned into pixels from the grid, so one set of defaults
//! serves 0.8 m to 30 m imagery. Every default was chosen over the whole development set at
//! once (`docs/ACCURACY.md`).

use super::calibration::{Calibration, UNITS};
use super::noise::{MAX_BANDS, NoiseModel, SCORE_UNITS};
use crate::classify::ClassThresholds;
use crate::error::{Error, Result};
use crate::pixel::PixelJob;
use crate::raster::{Band, BandStack, DataType};
use crate::sensor::BandRole;

/// Settings of the contextual detector.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ContextSettings {
    /// A change region needs a pixel whose smoothed score exceeds this many σ. Default 4.5.
    pub seed_sigma: f64,
    /// Pixels above this many σ join a change region that touches a seed. Default 2.0.
    pub grow_sigma: f64,
    /// Misregistration tolerated between the dates, in metres (rounded to whole pixels, at
    /// most [`MAX_RADIUS`]). Default 10.
    pub misregistration_m: f64,
    /// Side of the square over which scores are averaged, in metres (rounded to an odd
    /// number of pixels, radius at most [`MAX_RADIUS`]). Default 30.
    pub smoothing_m: f64,
    /// Cloud core: blue reflectance above this. Default 0.18.
    pub cloud_blue: f64,
    /// Cloud core: every band at least this much brighter than on the other date. Default 0.10.
    pub cloud_core_rise: f64,
    /// Cloud growth: every band at least this much brighter. Default 0.02.
    pub cloud_grow_rise: f64,
    /// Cloud core: visible whiteness (Σ|band − mean| / mean over blue, green, red) below
    /// this. Default 0.3.
    pub cloud_core_whiteness: f64,
    /// Cloud growth: whiteness below this. Default 0.5.
    pub cloud_grow_whiteness: f64,
    /// A cloud needs a connected core of at least this many m². Default 10,000 (1 ha).
    pub cloud_min_core_m2: f64,
    /// Clouds are widened by this many metres. Default 30.
    pub cloud_dilation_m: f64,
    /// Shadow: NIR reflectance below this (and NIR, SWIR below half the other date's).
    /// Default 0.12.
    pub shadow_dark: f64,
    /// Shadows are looked for within this many metres of a cloud. Default 2,000.
    pub shadow_distance_m: f64,
    /// Shadows are widened by this many metres. Default 20.
    pub shadow_dilation_m: f64,
    /// Haze: blue at least this much brighter than on the other date, red no more than blue
    /// and NIR no more than red (scattering falls with wavelength). Default 0.03.
    pub haze_rise: f64,
    /// Haze: SWIR within this of the other date's (haze barely reaches it; without SWIR, NIR
    /// must rise less than half as much as blue). Default 0.02.
    pub haze_swir: f64,
    /// Haze is masked where its candidates form a connected area of at least this many m²
    /// (haze is extensive; a changed roof is not). Default 250,000 (25 ha).
    pub haze_min_area_m2: f64,
    /// A pair with more than this share of its valid pixels under cloud or shadow is
    /// reported as mostly cloud. Default 0.5.
    pub mostly_cloud_share: f64,
}

/// The largest misregistration or smoothing radius, in pixels.
pub const MAX_RADIUS: usize = 2;

impl Default for ContextSettings {
    fn default() -> Self {
        ContextSettings {
            seed_sigma: 4.5,
            grow_sigma: 2.0,
            misregistration_m: 10.0,
            smoothing_m: 30.0,
            cloud_blue: 0.18,
            cloud_core_rise: 0.10,
            cloud_grow_rise: 0.02,
            cloud_core_whiteness: 0.3,
            cloud_grow_whiteness: 0.5,
            cloud_min_core_m2: 10_000.0,
            cloud_dilation_m: 30.0,
            shadow_dark: 0.12,
            shadow_distance_m: 2_000.0,
            shadow_dilation_m: 20.0,
            haze_rise: 0.03,
            haze_swir: 0.02,
            haze_min_area_m2: 250_000.0,
            mostly_cloud_share: 0.5,
        }
    }
}

impl ContextSettings {
    /// Every setting by name, with the range it must lie in.
    fn fields(&mut self) -> [(&'static str, &mut f64, f64, f64); 18] {
        [
            ("seed_sigma", &mut self.seed_sigma, 0.0, 200.0),
            ("grow_sigma", &mut self.grow_sigma, 0.0, 200.0),
            ("misregistration_m", &mut self.misregistration_m, 0.0, 1e5),
            ("smoothing_m", &mut self.smoothing_m, 0.0, 1e5),
            ("cloud_blue", &mut self.cloud_blue, -1.0, 10.0),
            ("cloud_core_rise", &mut self.cloud_core_rise, -1.0, 10.0),
            ("cloud_grow_rise", &mut self.cloud_grow_rise, -1.0, 10.0),
            (
                "cloud_core_whiteness",
                &mut self.cloud_core_whiteness,
                0.0,
                2.0,
            ),
            (
                "cloud_grow_whiteness",
                &mut self.cloud_grow_whiteness,
                0.0,
                2.0,
            ),
            ("cloud_min_core_m2", &mut self.cloud_min_core_m2, 0.0, 1e12),
            ("cloud_dilation_m", &mut self.cloud_dilation_m, 0.0, 1e5),
            ("shadow_dark", &mut self.shadow_dark, -1.0, 10.0),
            ("shadow_distance_m", &mut self.shadow_distance_m, 0.0, 1e6),
            ("shadow_dilation_m", &mut self.shadow_dilation_m, 0.0, 1e5),
            ("haze_rise", &mut self.haze_rise, 0.0, 10.0),
            ("haze_swir", &mut self.haze_swir, 0.0, 10.0),
            ("haze_min_area_m2", &mut self.haze_min_area_m2, 0.0, 1e12),
            ("mostly_cloud_share", &mut self.mostly_cloud_share, 0.0, 1.0),
        ]
    }

    /// Checks every setting, naming the first that is out of range.
    pub fn validate(&self) -> Result<()> {
        let mut copy = *self;
        for (name, value, low, high) in copy.fields() {
            if !(value.is_finite() && (low..=high).contains(value)) {
                return Err(Error::InvalidParameter {
                    name: name.into(),
                    value: value.to_string(),
                    reason: format!("must lie in {low}..={high}"),
                });
            }
        }
        if self.grow_sigma > self.seed_sigma {
            return Err(Error::InvalidParameter {
                name: "grow_sigma".into(),
                value: self.grow_sigma.to_string(),
                reason: format!("must not exceed seed_sigma ({})", self.seed_sigma),
            });
        }
        Ok(())
    }

    /// Sets the setting called `name` (as the fields are named) to `value`, refusing unknown
    /// names; ranges are checked by [`ContextSettings::validate`].
    pub fn set(&mut self, name: &str, value: f64) -> Result<()> {
        let mut fields = self.fields();
        let known: Vec<&str> = fields.iter().map(|f| f.0).collect();
        let known = known.join(", ");
        match fields.iter_mut().find(|f| f.0 == name) {
            Some(field) => {
                *field.1 = value;
                Ok(())
            }
            None => Err(Error::UnknownName {
                kind: "contextual setting",
                name: name.into(),
                known,
            }),
        }
    }

    /// Pixels for `metres` at `pixel_m` metres a pixel, rounded.
    fn pixels(metres: f64, pixel_m: f64) -> usize {
        (metres / pixel_m).round().clamp(0.0, 1e9) as usize
    }

    /// The misregistration radius in pixels.
    pub fn radius_px(&self, pixel_m: f64) -> usize {
        Self::pixels(self.misregistration_m, pixel_m).min(MAX_RADIUS)
    }

    /// The smoothing radius in pixels: half the odd window side nearest `smoothing_m`.
    pub fn smoothing_px(&self, pixel_m: f64) -> usize {
        let side = Self::pixels(self.smoothing_m, pixel_m).max(1);
        let odd = if side % 2 == 1 { side } else { side - 1 };
        (odd / 2).min(MAX_RADIUS)
    }

    /// Rows a window needs above and below its output rows.
    pub fn halo_rows(&self, pixel_m: f64) -> usize {
        self.radius_px(pixel_m) + self.smoothing_px(pixel_m)
    }
}

/// What the contextual detector learned about a pair of scenes: how each date becomes
/// reflectance, how the dates relate, and the ground size of a pixel.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContextModel {
    /// Bands of the change vector: 4 (blue, green, red, NIR), 5 (and SWIR1) or 6 (and SWIR2).
    pub bands: usize,
    /// Each date's calibration.
    pub calibration: [Calibration; 2],
    /// The relation of the dates and the noise of their difference.
    pub noise: NoiseModel,
    /// The nominal ground size of a pixel, in metres.
    pub pixel_m: f64,
}

/// At most this many pixels of a sample are used to estimate a model.
const MODEL_PIXELS: usize = 200_000;
/// Clear pixels the model needs before cloud-like ones are left out of it.
const MIN_MODEL_PIXELS: usize = 1_000;
/// Cloud-like pixels are left out of the model when more than one in this many of the sample
/// are: the median and MAD bear a few, and bright white roofs and dry ground make up to a
/// tenth of a city (Cupertino 10%, Beirut 10%), which the model needs.
const CLOUDY_MODEL_SHARE: usize = 4;

/// Whether blue, green and red values (10⁻⁴ reflectance) are whiter than `whiteness`:
/// Σ|band − mean| / mean below it (the kernel's `white`, in floating point here).
fn whiteness_below(visible: [i32; 3], whiteness: f64) -> bool {
    let v = visible.map(|x| f64::from(x.clamp(0, 65535)));
    let sum = v[0] + v[1] + v[2];
    let dev: f64 = v.iter().map(|&x| (3.0 * x - sum).abs()).sum();
    sum > 0.0 && dev < whiteness * sum
}

/// When pixels bright and white on either date (cloud, mostly) are many, leaves them out of
/// the model's calibrated `pairs` (per band, first and second date), so that a pair under
/// much cloud is still related through its clear pixels (unless that leaves too few); a few
/// white roofs stay in.
fn drop_cloud_like(pairs: &mut [Vec<(i32, i32)>], settings: &ContextSettings) {
    let Some(samples) = pairs.first().map(Vec::len) else {
        return;
    };
    let cloud_like = |k: usize, date: usize| {
        let v = |j: usize| {
            if date == 0 {
                pairs[j][k].0
            } else {
                pairs[j][k].1
            }
        };
        let visible = [v(0), v(1), v(2)];
        visible[0] > units(settings.cloud_blue)
            && whiteness_below(visible, settings.cloud_core_whiteness)
    };
    let clear: Vec<bool> = (0..samples)
        .map(|k| !cloud_like(k, 0) && !cloud_like(k, 1))
        .collect();
    let kept = clear.iter().filter(|&&c| c).count();
    let cloudy = clear.len() - kept;
    if cloudy * CLOUDY_MODEL_SHARE > clear.len() && kept >= MIN_MODEL_PIXELS {
        for band in pairs {
            let mut k = 0;
            band.retain(|_| {
                k += 1;
                clear[k - 1]
            });
        }
    }
}

/// Per band, the calibrated step of one stored unit on each date (1 for float samples,
/// which have no step of their own).
fn sample_steps(
    nb: usize,
    calibration: &[Calibration; 2],
    before: &BandStack,
    after: &BandStack,
) -> Vec<(f64, f64)> {
    let step = |d: usize, j: usize, stack: &BandStack| {
        let factor = f64::from(calibration[d].bands[j].factor).abs();
        let float = (stack.bands().iter()).any(|b| b.data.data_type() == DataType::F32);
        if float { 1.0 } else { factor }
    };
    (0..nb)
        .map(|j| (step(0, j, before), step(1, j, after)))
        .collect()
}

impl ContextModel {
    /// Estimates the model on a sample of the scene: `before` and `after` on the same grid
    /// (for a tiled job, rows sampled over the whole scene), with a pixel of `pixel_m` metres.
    pub fn estimate(
        before: &BandStack,
        after: &BandStack,
        pixel_m: f64,
        settings: &ContextSettings,
    ) -> Result<ContextModel> {
        if !(pixel_m.is_finite() && pixel_m > 0.0) {
            return Err(Error::InvalidParameter {
                name: "pixel size".into(),
                value: pixel_m.to_string(),
                reason: "the ground size of a pixel must be a positive number of metres".into(),
            });
        }
        let roles = super::change_roles(before, after);
        let nb = roles.len();
        fn bands<'s>(stack: &'s BandStack, roles: &[BandRole]) -> Result<Vec<&'s Band>> {
            roles
                .iter()
                .map(|&r| stack.require(r, "change detection"))
                .collect()
        }
        let (first, second) = (bands(before, &roles)?, bands(after, &roles)?);
        if before.len() != after.len() {
            return Err(Error::GridMismatch {
                what: format!(
                    "the first date has {} pixels, the second {}",
                    before.len(),
                    after.len()
                ),
            });
        }
        let valid = |band: &Band, i: usize| {
            let v = band.data.get_f32(i);
            (v.is_finite() && band.nodata.is_none_or(|nd| v != nd as f32)).then_some(v)
        };
        // Pixels valid on both dates, evenly spread.
        let step = (before.len() / MODEL_PIXELS).max(1);
        let picked: Vec<usize> = (0..before.len())
            .step_by(step)
            .filter(|&i| {
                first.iter().all(|b| valid(b, i).is_some())
                    && second.iter().all(|b| valid(b, i).is_some())
            })
            .collect();
        let raw = |bands: &[&Band]| -> Vec<Vec<f32>> {
            bands
                .iter()
                .map(|b| picked.iter().map(|&i| b.data.get_f32(i)).collect())
                .collect()
        };
        let (raw_first, raw_second) = (raw(&first), raw(&second));
        let calibration = [
            Calibration::of(before, &roles, &mut raw_first.clone()),
            Calibration::of(after, &roles, &mut raw_second.clone()),
        ];
        let mut pairs: Vec<Vec<(i32, i32)>> = (0..nb)
            .map(|j| {
                raw_first[j]
                    .iter()
                    .zip(&raw_second[j])
                    .map(|(&b, &a)| {
                        (
                            calibration[0].bands[j].apply(b),
                            calibration[1].bands[j].apply(a),
                        )
                    })
                    .collect()
            })
            .collect();
        drop_cloud_like(&mut pairs, settings);
        let steps = sample_steps(nb, &calibration, before, after);
        Ok(ContextModel {
            bands: nb,
            calibration,
            noise: NoiseModel::estimate(nb, &pairs, &steps),
            pixel_m,
        })
    }
}

/// The parameters of the contextual kernels, laid out exactly like `ContextParams` in
/// `shaders/change_context.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct ContextParams {
    /// Pixels per row of the window.
    pub width: u32,
    /// Rows of the window.
    pub rows: u32,
    /// The first output row, in window rows.
    pub first_row: u32,
    /// Output rows.
    pub out_rows: u32,
    /// Bands of the change vector.
    pub bands: u32,
    /// Misregistration radius, pixels.
    pub radius: u32,
    /// Smoothing radius, pixels.
    pub smoothing: u32,
    /// Seed threshold, σ/256.
    pub seed: u32,
    /// Growth threshold, σ/256.
    pub grow: u32,
    /// Cloud core: blue above this, 10⁻⁴ reflectance.
    pub cloud_blue: i32,
    /// Cloud core: every band risen by more than this.
    pub cloud_core_rise: i32,
    /// Cloud growth: every band risen by more than this.
    pub cloud_grow_rise: i32,
    /// Cloud core whiteness bound, thousandths.
    pub cloud_core_white: i32,
    /// Cloud growth whiteness bound, thousandths.
    pub cloud_grow_white: i32,
    /// Shadow: NIR below this.
    pub shadow_dark: i32,
    /// Haze: blue risen by more than this.
    pub haze_rise: i32,
    /// Haze: SWIR within this.
    pub haze_swir: i32,
    pub _pad: u32,
    /// Calibration factors: the first date's bands 0..6, the second's 6..12.
    pub factor: [f32; 12],
    /// Calibration offsets, likewise.
    pub offset: [i32; 12],
    /// Q12 gains of the second date onto the first.
    pub gain_q12: [i32; 6],
    /// Q12 offsets of that map.
    pub offset_q12: [i32; 6],
    /// Median differences.
    pub median: [i32; 6],
    /// Weights of a difference in σ/256.
    pub weight: [i32; 6],
    /// Shifts of those weights.
    pub shift: [u32; 6],
}

#[cfg(all(test, feature = "gpu"))]
impl ContextParams {
    /// Every field but the padding with its byte offset, for the layout check against WGSL.
    pub(crate) fn field_offsets() -> Vec<(&'static str, usize)> {
        use std::mem::offset_of;
        vec![
            ("width", offset_of!(ContextParams, width)),
            ("rows", offset_of!(ContextParams, rows)),
            ("first_row", offset_of!(ContextParams, first_row)),
            ("out_rows", offset_of!(ContextParams, out_rows)),
            ("bands", offset_of!(ContextParams, bands)),
            ("radius", offset_of!(ContextParams, radius)),
            ("smoothing", offset_of!(ContextParams, smoothing)),
            ("seed", offset_of!(ContextParams, seed)),
            ("grow", offset_of!(ContextParams, grow)),
            ("cloud_blue", offset_of!(ContextParams, cloud_blue)),
            (
                "cloud_core_rise",
                offset_of!(ContextParams, cloud_core_rise),
            ),
            (
                "cloud_grow_rise",
                offset_of!(ContextParams, cloud_grow_rise),
            ),
            (
                "cloud_core_white",
                offset_of!(ContextParams, cloud_core_white),
            ),
            (
                "cloud_grow_white",
                offset_of!(ContextParams, cloud_grow_white),
            ),
            ("shadow_dark", offset_of!(ContextParams, shadow_dark)),
            ("haze_rise", offset_of!(ContextParams, haze_rise)),
            ("haze_swir", offset_of!(ContextParams, haze_swir)),
            ("factor", offset_of!(ContextParams, factor)),
            ("offset", offset_of!(ContextParams, offset)),
            ("gain_q12", offset_of!(ContextParams, gain_q12)),
            ("offset_q12", offset_of!(ContextParams, offset_q12)),
            ("median", offset_of!(ContextParams, median)),
            ("weight", offset_of!(ContextParams, weight)),
            ("shift", offset_of!(ContextParams, shift)),
        ]
    }
}

/// One run of the contextual kernels: the bands of both dates over a window of whole rows
/// (with the halo rows above and below that the output rows need:
/// [`ContextSettings::halo_rows`]), and the parameters. Run it with
/// [`crate::Engine::context_words`]; a tiled caller makes one per strip.
pub struct ContextJob<'a> {
    /// The bands (first date in slots `0..nb`, second in `nb..2nb`) and the class thresholds.
    pub(crate) pixels: PixelJob<'a>,
    /// The detector's parameters.
    pub(crate) params: ContextParams,
}

/// Reflectance (or a reflectance difference) in 10⁻⁴ units, rounded.
fn units(reflectance: f64) -> i32 {
    (reflectance * UNITS).round().clamp(-1e9, 1e9) as i32
}

impl<'a> ContextJob<'a> {
    /// The job over windows `before` and `after` (same size), whose rows
    /// `first_row..first_row + out_rows` are the output and the others halo.
    pub fn new(
        before: &'a BandStack,
        after: &'a BandStack,
        rows: (usize, usize),
        model: &ContextModel,
        settings: &ContextSettings,
        classes: &ClassThresholds,
    ) -> Result<ContextJob<'a>> {
        settings.validate()?;
        let (first_row, out_rows) = rows;
        if first_row + out_rows > before.height() || after.len() != before.len() {
            return Err(Error::GridMismatch {
                what: format!(
                    "output rows {first_row}..{} of windows of {} and {} pixels",
                    first_row + out_rows,
                    before.len(),
                    after.len()
                ),
            });
        }
        let roles = super::change_roles(before, after);
        if roles.len() != model.bands {
            return Err(Error::InvalidParameter {
                name: "bands".into(),
                value: roles.len().to_string(),
                reason: format!("the model was estimated on {} bands", model.bands),
            });
        }
        let mut pixels = PixelJob::new(before, 0, &roles, "change detection (first date)")?;
        pixels.push_bands(after, &roles, "change detection (second date)")?;
        classes.set_consts(&mut pixels, before)?;
        let (weight, shift) = model.noise.weights();
        let mut factor = [1.0f32; 12];
        let mut offset = [0i32; 12];
        for d in 0..2 {
            for j in 0..MAX_BANDS {
                let map = model.calibration[d].bands[j];
                factor[6 * d + j] = map.factor;
                offset[6 * d + j] = map.offset;
            }
        }
        let threshold = |sigma: f64| (sigma * SCORE_UNITS).round() as u32;
        let params = ContextParams {
            width: before.width() as u32,
            rows: before.height() as u32,
            first_row: first_row as u32,
            out_rows: out_rows as u32,
            bands: model.bands as u32,
            radius: settings.radius_px(model.pixel_m) as u32,
            smoothing: settings.smoothing_px(model.pixel_m) as u32,
            seed: threshold(settings.seed_sigma),
            grow: threshold(settings.grow_sigma),
            cloud_blue: units(settings.cloud_blue),
            cloud_core_rise: units(settings.cloud_core_rise),
            cloud_grow_rise: units(settings.cloud_grow_rise),
            cloud_core_white: (settings.cloud_core_whiteness * 1000.0).round() as i32,
            cloud_grow_white: (settings.cloud_grow_whiteness * 1000.0).round() as i32,
            shadow_dark: units(settings.shadow_dark),
            haze_rise: units(settings.haze_rise),
            haze_swir: units(settings.haze_swir),
            _pad: 0,
            factor,
            offset,
            gain_q12: model.noise.gain_q12,
            offset_q12: model.noise.offset_q12,
            median: model.noise.median,
            weight,
            shift,
        };
        Ok(ContextJob { pixels, params })
    }
}

/// The parameters of the region stage for a model's pixel size.
pub(crate) fn region_params(
    settings: &ContextSettings,
    pixel_m: f64,
) -> super::regions::RegionParams {
    let px = |m: f64| (m / pixel_m).round().clamp(0.0, 1e9) as usize;
    let area_px = |m2: f64| (m2 / (pixel_m * pixel_m)).ceil().clamp(1.0, 1e15) as u64;
    super::regions::RegionParams {
        cloud_min_core_px: area_px(settings.cloud_min_core_m2),
        haze_min_px: area_px(settings.haze_min_area_m2),
        cloud_dilation_px: px(settings.cloud_dilation_m),
        shadow_distance_px: px(settings.shadow_distance_m),
        shadow_dilation_px: px(settings.shadow_dilation_m),
    }
}

/// The planes of context words: classes of both dates, pre-codes and flags, and optionally
/// the smoothed score and the direction.
pub(crate) struct ContextPlanes<'a> {
    /// Classes of the first date.
    pub class_before: &'a mut [u8],
    /// Classes of the second date.
    pub class_after: &'a mut [u8],
    /// Pre-codes (see `decide_pixel` in the kernel).
    pub precodes: &'a mut [u8],
    /// Cloud and shadow flags.
    pub flags: &'a mut [u8],
    /// Smoothed scores in σ/256 and directions, when wanted.
    pub scores: Option<(&'a mut [u16], &'a mut [u8])>,
}

/// Splits context words (two per pixel) into planes.
pub(crate) fn split_words(words: &[u32], out: ContextPlanes<'_>) {
    use rayon::prelude::*;
    const PART: usize = 1 << 14;
    let ContextPlanes {
        class_before,
        class_after,
        precodes,
        flags,
        scores,
    } = out;
    let parts = (words.par_chunks(2 * PART))
        .zip(class_before.par_chunks_mut(PART))
        .zip(class_after.par_chunks_mut(PART))
        .zip(precodes.par_chunks_mut(PART))
        .zip(flags.par_chunks_mut(PART));
    parts.for_each(|((((w, b), a), p), f)| {
        for (i, pair) in w.chunks_exact(2).enumerate() {
            let [cb, ca, pc, fl] = pair[0].to_le_bytes();
            (b[i], a[i], p[i], f[i]) = (cb, ca, pc, fl);
        }
    });
    if let Some((score, direction)) = scores {
        (words.par_chunks(2 * PART))
            .zip(score.par_chunks_mut(PART))
            .zip(direction.par_chunks_mut(PART))
            .for_each(|((w, s), d)| {
                for (i, pair) in w.chunks_exact(2).enumerate() {
                    let valid = pair[0] & 0xff != 0xff;
                    s[i] = (pair[1] & 0xffff) as u16;
                    d[i] = if valid {
                        (pair[1] >> 16 & 0x3f) as u8
                    } else {
                        255
                    };
                }
            });
    }
}

/// The pixel size assumed for stacks without a georeference, in metres.
pub const DEFAULT_PIXEL_M: f64 = 10.0;
