//! `summary.json`, the completion record of a job's output set, as types: written with
//! `serde_json`, and read back by anyone with the same types.
//!
//! The schema is documented field by field here and in `docs/SUMMARY.md`. Fields are
//! declared in alphabetical order (after `schema_version`, which comes first), because
//! `summary.json` has always listed its keys that way and serde writes fields in declaration
//! order. A reader refuses a summary whose `schema_version` is not [`SCHEMA_VERSION`] and
//! one that lacks a field that is not optional; it ignores fields it does not know.

use super::*;
use crate::change::calibration::CalibrationKind;
use crate::change::{
    EARTH_MOVING, EARTH_TO_CONSTRUCTION, EXCAVATION, NEW_CONSTRUCTION, OTHER_CHANGE,
};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// The version of the `summary.json` schema these types write and read.
pub const SCHEMA_VERSION: u32 = 1;

/// The contents of `summary.json`: inputs, settings, backend, change detection, stage times,
/// totals and the outputs of the set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The version of this schema: always [`SCHEMA_VERSION`] (1); a reader refuses others.
    #[serde(deserialize_with = "schema_version")]
    pub schema_version: u32,
    /// Area of the patches of each change type, in m² (after the sieve and clean-up).
    pub area_by_type_m2: AreaByType,
    /// The backend asked for and the device that ran the per-pixel stages.
    pub backend: BackendSummary,
    /// How change was decided: the method, its threshold and the date relation.
    pub change_detection: DetectionSummary,
    /// The two dates' imagery.
    pub inputs: Inputs,
    /// The file names of the set this record completes, in the order they were written
    /// (`summary.json` last); all lie in the same folder.
    pub outputs: Vec<String>,
    /// Number of patches (rows of `patches.csv`).
    pub patch_count: usize,
    /// Pixel counts of the scene.
    pub pixels: PixelCounts,
    /// Codes of the regions whose farmland share of new construction reached the warning
    /// share, in the order of the regions file (empty without regions).
    pub regions_warned: Vec<String>,
    /// The job's settings as it ran.
    pub settings: Settings,
    /// Wall time of each stage that ran, in seconds, by stage name (`plan`, `change`,
    /// `morphology`, `patches`, `write`; a run on a change raster has no `plan` or `change`).
    pub stages_seconds: BTreeMap<String, f64>,
    /// What the job left out of or repaired in its inputs, for people.
    pub warnings: Vec<String>,
}

/// Refuses a schema version other than [`SCHEMA_VERSION`].
fn schema_version<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    let version = u32::deserialize(d)?;
    if version != SCHEMA_VERSION {
        return Err(serde::de::Error::custom(format!(
            "summary.json schema version {version} is not supported (this reader knows \
             version {SCHEMA_VERSION})"
        )));
    }
    Ok(version)
}

/// Patch area by change type, in m²; 0 for a type without patches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AreaByType {
    /// Earth-moving (vegetation to bare soil, code 1).
    #[serde(rename = "earth-moving")]
    pub earth_moving: f64,
    /// Earth-moving to construction (bare soil to built-up, code 3).
    #[serde(rename = "earth-moving to construction")]
    pub earth_moving_to_construction: f64,
    /// Excavation or mining (code 4).
    #[serde(rename = "excavation or mining")]
    pub excavation_or_mining: f64,
    /// New construction (to built-up, code 2).
    #[serde(rename = "new construction")]
    pub new_construction: f64,
    /// Any other change (code 5; every patch of the untyped methods).
    #[serde(rename = "other change")]
    pub other_change: f64,
}

impl AreaByType {
    /// The areas indexed by change code (index 0, unchanged, is ignored).
    pub fn from_codes(area_by_code: &[f64; 6]) -> AreaByType {
        AreaByType {
            earth_moving: area_by_code[EARTH_MOVING as usize],
            earth_moving_to_construction: area_by_code[EARTH_TO_CONSTRUCTION as usize],
            excavation_or_mining: area_by_code[EXCAVATION as usize],
            new_construction: area_by_code[NEW_CONSTRUCTION as usize],
            other_change: area_by_code[OTHER_CHANGE as usize],
        }
    }
}

/// The backend asked for and the device that ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendSummary {
    /// The device that ran the per-pixel stages, as people read it (`CPU (8 threads)`,
    /// `GPU <adapter> (<api>, <type>, <driver>)`).
    pub device: String,
    /// Why the CPU ran when a GPU was asked for or available (`null` when it was not needed).
    pub fallback: Option<String>,
    /// Under `Auto` with a GPU: both backends timed on the plan sample (`null` otherwise).
    pub measured: Option<MeasuredBackends>,
    /// The backend asked for: `Auto`, `Cpu` or `Gpu`.
    pub requested: String,
    /// In a merged sharded run, where each shard was computed, in shard order (`device` and
    /// `fallback` above are the merge's own); empty for other runs, and when read from a
    /// summary written before this field.
    #[serde(default)]
    pub shards: Vec<ShardExecution>,
}

/// Both backends timed on the plan sample under `Auto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredBackends {
    /// The device chosen for the strips, as in [`BackendSummary::device`].
    pub chosen: String,
    /// Seconds the sample strip took on the CPU.
    pub cpu_seconds: f64,
    /// Seconds the sample strip took on the GPU.
    pub gpu_seconds: f64,
}

/// How change was decided: one shape for the contextual detector, one for the per-pixel
/// methods with a threshold on a measure (and for a run on a change raster made elsewhere,
/// which has no plan). The shapes are told apart by their fields, not by a tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DetectionSummary {
    /// The contextual detector (the default); boxed, being the larger.
    Contextual(Box<ContextualDetection>),
    /// A per-pixel method: combined, change vector, index differences, post-classification.
    PerPixel(PerPixelDetection),
}

/// How a per-pixel method decided change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerPixelDetection {
    /// The method's name in Rust (`Combined`, `ChangeVector`, `IndexDifference(Ndvi)`,
    /// `PostClassification`, …).
    pub method: String,
    /// The relative normalization of the second date onto the first.
    pub normalization: PerPixelNormalization,
    /// The threshold on the change measure.
    pub threshold: PerPixelThreshold,
}

/// The per-band linear map of the second date onto the first that a per-pixel method
/// applied, `mapped = (gain·after + offset) >> 12`, by band of the change vector (blue,
/// green, red, NIR, then SWIR1 and SWIR2 when both dates have them); the identity (gain 4096,
/// offset 0) for unused entries and when normalization is off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerPixelNormalization {
    /// Gains in Q12 (4096 = 1).
    pub gain_q12: [i32; 6],
    /// Offsets in Q12 of quantized units.
    pub offset_q12: [i32; 6],
}

/// The threshold of a per-pixel method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerPixelThreshold {
    /// RMS change magnitude of pixels unlikely to have changed, in the measure's units
    /// (quantized units: digital numbers, or 10⁻⁴ reflectance).
    pub noise: f64,
    /// How the threshold was chosen, in words.
    pub rule: String,
    /// The threshold, in the measure's units (|Δindex| in thousandths for index differences).
    pub value: u32,
}

/// How the contextual detector decided change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextualDetection {
    /// How each date's samples became reflectance, in words.
    pub calibration: DatePair,
    /// Always `contextual`.
    pub method: String,
    /// Misregistration tolerated between the dates, in pixels (a radius).
    pub misregistration_px: usize,
    /// The relation of the dates per band of the change vector.
    pub normalization: ContextNormalization,
    /// The nominal ground size of a pixel, in metres.
    pub pixel_m: f64,
    /// What clouds, shadows and haze took.
    pub sky: Sky,
    /// Side of the square the scores are averaged over, in pixels (odd).
    pub smoothing_px: usize,
    /// The noise model and the hysteresis thresholds.
    pub threshold: ContextThreshold,
}

/// A text for each date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatePair {
    /// The second date.
    pub after: String,
    /// The first date.
    pub before: String,
}

/// The contextual detector's relation of the dates, one entry per band of the change vector
/// (blue, green, red, NIR, then SWIR1 and SWIR2 when present).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextNormalization {
    /// Gain of the map of the second date onto the first, in Q12 (4096 = 1).
    pub gain_q12: Vec<i32>,
    /// Median difference (mapped second date − first date), in 10⁻⁴ reflectance.
    pub median_difference: Vec<i32>,
    /// Offset of that map, in Q12 of 10⁻⁴ reflectance.
    pub offset_q12: Vec<i32>,
}

/// The contextual detector's thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextThreshold {
    /// Pixels above this many σ join a change region that touches a seed.
    pub grow_sigma: f64,
    /// Robust σ of the difference per band, in reflectance, by band name (`blue`, `green`,
    /// `red`, `nir`, `swir1`, `swir2`; the bands of the change vector only).
    pub noise_sigma_reflectance: BTreeMap<String, f64>,
    /// How the thresholds were reached, in words.
    pub rule: String,
    /// A change region needs a pixel whose smoothed score exceeds this many σ.
    pub seed_sigma: f64,
    /// The units of `value`: always `σ/256`.
    pub units: String,
    /// The growth threshold in score units (`grow_sigma` × 256).
    pub value: u32,
}

/// What the contextual detector masked; each pair is (before, after), each share a fraction
/// (0 to 1) of the valid pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sky {
    /// Cloud regions of each date.
    pub cloud_regions: [u64; 2],
    /// Share of each date under cloud.
    pub cloud_share: [f64; 2],
    /// Share of each date under haze.
    pub haze_share: [f64; 2],
    /// Share masked on either date (cloud, shadow or haze).
    pub masked_share: f64,
    /// More than the mostly-cloud share is masked: the comparison covers only the rest.
    pub mostly_cloud: bool,
    /// Share of each date under cloud shadow.
    pub shadow_share: [f64; 2],
}

/// The two dates' imagery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    /// The second date: the GeoTIFF's path as given to the job, or an in-memory source's name.
    pub after: String,
    /// The first date, as `after`.
    pub before: String,
}

/// Pixel counts of the scene.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PixelCounts {
    /// All pixels (width × height).
    pub total: u64,
    /// Pixels with a change code: not nodata on either date.
    pub valid: u64,
}

/// The job's settings as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Patch connectivity: `Four` or `Eight`.
    pub connectivity: String,
    /// The change method's name in Rust (`Contextual`, `Combined`, `ChangeVector`, …).
    pub method: String,
    /// The minimum mapping unit, in m².
    pub min_area_m2: f64,
    /// Side of the clean-up opening in pixels (`null` without one).
    pub opening: Option<usize>,
    /// The sensor preset's name (`null` when none was given).
    pub sensor: Option<String>,
    /// Rows per strip of the streamed stages.
    pub strip_rows: usize,
    /// The change threshold used, as in the change detection's `threshold.value`.
    pub threshold: u32,
    /// The farmland share of new construction at which a region is warned, 0 to 1.
    pub warning_share: f64,
    /// The protected zones' names, in the order of their columns.
    pub zones: Vec<String>,
}

impl Job {
    /// The contents of `summary.json` for the run that produced `report` on `engine`.
    pub(super) fn summary(&self, report: &JobReport, engine: &Engine) -> Summary {
        Summary {
            schema_version: SCHEMA_VERSION,
            area_by_type_m2: AreaByType::from_codes(&report.area_by_type_m2),
            backend: BackendSummary {
                device: report.execution.device.to_string(),
                fallback: report.execution.fallback.as_ref().map(ToString::to_string),
                measured: report.backend_choice.as_ref().map(|c| MeasuredBackends {
                    chosen: c.chosen.to_string(),
                    cpu_seconds: c.cpu_seconds,
                    gpu_seconds: c.gpu_seconds,
                }),
                requested: format!("{:?}", engine.requested()),
                shards: report.shards.clone(),
            },
            change_detection: self.detection_summary(report),
            inputs: Inputs {
                after: self.after.name(),
                before: self.before.name(),
            },
            // The set this record completes, published together.
            outputs: report
                .outputs
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect(),
            patch_count: report.patch_count,
            pixels: PixelCounts {
                total: report.pixels,
                valid: report.valid_pixels,
            },
            regions_warned: report
                .regions
                .iter()
                .filter(|r| r.warning)
                .map(|r| r.code.clone())
                .collect(),
            settings: self.settings_summary(report),
            stages_seconds: report
                .stages
                .iter()
                .map(|s| (s.stage.to_string(), s.seconds))
                .collect(),
            warnings: report.warnings.clone(),
        }
    }

    /// The settings the run used.
    fn settings_summary(&self, report: &JobReport) -> Settings {
        Settings {
            connectivity: format!("{:?}", self.connectivity),
            method: format!("{:?}", self.options.method),
            min_area_m2: self.min_area_m2,
            opening: report.opening,
            sensor: self.sensor.as_ref().map(|s| s.name.clone()),
            strip_rows: report.strip_rows,
            threshold: report.threshold,
            warning_share: self.warning_share,
            zones: report.zone_names.clone(),
        }
    }

    /// How change was decided: the method, how its threshold was reached (rule, noise level
    /// and value), and for the contextual detector the calibration, the distances in pixels
    /// and what clouds and shadows took.
    fn detection_summary(&self, report: &JobReport) -> DetectionSummary {
        let Some(model) = report.relation.context else {
            let rule = match self.options.threshold {
                Threshold::Otsu if self.options.method.measure() == 0 => {
                    "Otsu's threshold, floored at three times the noise level"
                }
                Threshold::Otsu => "Otsu's threshold",
                Threshold::Fixed(_) => "fixed by the caller",
            };
            return DetectionSummary::PerPixel(PerPixelDetection {
                method: format!("{:?}", self.options.method),
                normalization: PerPixelNormalization {
                    gain_q12: report.relation.normalization.gain_q12,
                    offset_q12: report.relation.normalization.offset_q12,
                },
                threshold: PerPixelThreshold {
                    noise: report.relation.noise,
                    rule: rule.into(),
                    value: report.threshold,
                },
            });
        };
        let settings = &self.options.context;
        let kind = |d: usize| {
            match model.calibration[d].kind {
                CalibrationKind::Radiometry => "the sensor's radiometry",
                CalibrationKind::Percentiles => {
                    "relative: 2nd and 98th percentiles onto reference reflectance"
                }
            }
            .to_string()
        };
        let bands = model.bands;
        DetectionSummary::Contextual(Box::new(ContextualDetection {
            calibration: DatePair {
                after: kind(1),
                before: kind(0),
            },
            method: "contextual".into(),
            misregistration_px: settings.radius_px(model.pixel_m),
            normalization: ContextNormalization {
                gain_q12: model.noise.gain_q12[..bands].to_vec(),
                median_difference: model.noise.median[..bands].to_vec(),
                offset_q12: model.noise.offset_q12[..bands].to_vec(),
            },
            pixel_m: model.pixel_m,
            sky: sky_summary(report),
            smoothing_px: 2 * settings.smoothing_px(model.pixel_m) + 1,
            threshold: context_threshold(report, &model, settings),
        }))
    }
}

/// The contextual detector's noise model and thresholds.
fn context_threshold(
    report: &JobReport,
    model: &crate::change::ContextModel,
    settings: &crate::change::ContextSettings,
) -> ContextThreshold {
    let roles = ["blue", "green", "red", "nir", "swir1", "swir2"];
    ContextThreshold {
        grow_sigma: settings.grow_sigma,
        noise_sigma_reflectance: (0..model.bands)
            .map(|j| (roles[j].to_string(), model.noise.sigma[j] / 1e4))
            .collect(),
        rule: "noise model: per-band median and 1.4826 × MAD of the normalized difference; \
               hysteresis on the smoothed, misregistration-tolerant score"
            .into(),
        seed_sigma: settings.seed_sigma,
        units: "σ/256".into(),
        value: report.threshold,
    }
}

/// What clouds, shadows and haze took, as shares of the valid pixels.
fn sky_summary(report: &JobReport) -> Sky {
    let sky = report.sky.unwrap_or_default();
    let share = |px: u64| sky.share(px);
    Sky {
        cloud_regions: sky.cloud_regions,
        cloud_share: sky.cloud_px.map(share),
        haze_share: sky.haze_px.map(share),
        masked_share: share(sky.masked_px),
        mostly_cloud: report.mostly_cloud,
        shadow_share: sky.shadow_px.map(share),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_names_are_the_change_names() {
        let areas = AreaByType::from_codes(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let value = serde_json::to_value(areas).unwrap();
        for code in 1..6u8 {
            assert_eq!(value[change_name(code)], f64::from(code), "code {code}");
        }
    }
}
