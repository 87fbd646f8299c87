//! Per-pixel land-cover classification into documented u8 codes.
//!
//! With SWIR1 (Sentinel-2, Landsat):
//!
//! | code | class      | rule (first match wins)                                   |
//! |------|------------|-----------------------------------------------------------|
//! | 1    | water      | NDWI > `water_ndwi` and MNDWI > `water_mndwi`              |
//! | 2    | vegetation | NDVI > `vegetation_ndvi`                                   |
//! | 3    | bare soil  | BSI > `bare_soil_bsi`                                      |
//! | 4    | built-up   | NDBI > `built_up_ndbi`                                     |
//! | 5    | other      | none of the above                                         |
//! | 255  | nodata     | a band is nodata, NaN or infinite                          |
//!
//! Blue, green, red and NIR only (GF-1, GF-2, ZY-3):
//!
//! | code | class      | rule (first match wins)                                             |
//! |------|------------|---------------------------------------------------------------------|
//! | 1    | water      | NDWI > `water_ndwi`                                                  |
//! | 2    | vegetation | NDVI > `vegetation_ndvi`                                             |
//! | 5    | other      | NDVI > `bare_or_built_ndvi` (sparse or mixed cover)                  |
//! | 3    | bare soil  | (red − blue)/(red + blue) > `bare_soil_redness` (reddish ground)     |
//! | 4    | built-up   | the rest: grey, non-vegetated surfaces                              |
//!
//! Code 0 is never produced, so a zeroed buffer cannot pass for a result.
//!
//! Every comparison is made without dividing: `(a − b)/(a + b + k) > t` is evaluated as
//! `(a + b + k) > 0 && (a − b) > t·(a + b + k)`. Additions, subtractions and products are
//! correctly rounded in both Rust and WGSL, so both backends take the same decision on every
//! pixel, bit for bit. A pixel whose denominator is not positive never exceeds a threshold.

use crate::backend::{Computed, Engine, Execution, cpu};
use crate::error::{Error, Result};
use crate::pixel::PixelJob;
use crate::raster::{BandStack, Raster};
use crate::sensor::BandRole::*;

/// Class code: water.
pub const WATER: u8 = 1;
/// Class code: vegetation.
pub const VEGETATION: u8 = 2;
/// Class code: bare soil.
pub const BARE_SOIL: u8 = 3;
/// Class code: built-up.
pub const BUILT_UP: u8 = 4;
/// Class code: anything else (shadow, cloud-free dark surfaces, mixed pixels).
pub const OTHER: u8 = 5;
/// Class code: nodata.
pub const CLASS_NODATA: u8 = 255;

/// The fixed colours of the class codes (RGBA), for class-map pictures and legends.
pub const CLASS_PALETTE: [(u8, [u8; 4]); 5] = [
    (WATER, [31, 120, 180, 255]),
    (VEGETATION, [51, 160, 44, 255]),
    (BARE_SOIL, [222, 170, 90, 255]),
    (BUILT_UP, [227, 26, 28, 255]),
    (OTHER, [190, 190, 190, 255]),
];

/// The names of the class codes (nodata aside), for tables, legends and the category names
/// of class maps.
pub const CLASS_NAMES: [(u8, &str); 5] = [
    (WATER, "water"),
    (VEGETATION, "vegetation"),
    (BARE_SOIL, "bare soil"),
    (BUILT_UP, "built-up"),
    (OTHER, "other"),
];

/// The name of a class code, for tables and legends.
pub fn class_name(code: u8) -> &'static str {
    match CLASS_NAMES.iter().find(|&&(c, _)| c == code) {
        Some(&(_, name)) => name,
        None if code == CLASS_NODATA => "nodata",
        None => "undefined",
    }
}

/// The thresholds of the classification rules, on reflectance-based indices.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ClassThresholds {
    /// Water needs NDWI above this. Default 0.0.
    pub water_ndwi: f64,
    /// Water also needs MNDWI above this. Default 0.0.
    pub water_mndwi: f64,
    /// Vegetation: NDVI above this. Default 0.4.
    pub vegetation_ndvi: f64,
    /// Bare soil: BSI above this. Default 0.1.
    pub bare_soil_bsi: f64,
    /// Built-up: NDBI above this. Default 0.0.
    pub built_up_ndbi: f64,
    /// Four-band rules: bare soil needs (red − blue)/(red + blue) above this. Default 0.15.
    pub bare_soil_redness: f64,
    /// Four-band rules: bare soil and built-up need NDVI at or below this; between it and
    /// `vegetation_ndvi` a pixel is "other" (sparse or mixed cover). Default 0.25.
    pub bare_or_built_ndvi: f64,
}

impl Default for ClassThresholds {
    fn default() -> Self {
        ClassThresholds {
            water_ndwi: 0.0,
            water_mndwi: 0.0,
            vegetation_ndvi: 0.4,
            bare_soil_bsi: 0.1,
            built_up_ndbi: 0.0,
            bare_soil_redness: 0.15,
            bare_or_built_ndvi: 0.25,
        }
    }
}

impl ClassThresholds {
    /// Builds the classification job over `stack`: blue, green, red, NIR and, when the stack
    /// has it, SWIR1 (without it the four-band rules apply).
    pub(crate) fn job<'a>(&self, stack: &'a BandStack) -> Result<PixelJob<'a>> {
        let roles: &[_] = match stack.band(Swir1) {
            Some(_) => &[Blue, Green, Red, Nir, Swir1],
            None => &[Blue, Green, Red, Nir],
        };
        let mut job = PixelJob::new(stack, 0, roles, "land-cover classification")?;
        self.set_consts(&mut job, stack)?;
        Ok(job)
    }

    /// Sets the thresholds and `stack`'s radiometric shifts as the job's constants.
    pub(crate) fn set_consts(&self, job: &mut PixelJob<'_>, stack: &BandStack) -> Result<()> {
        let r = stack.radiometry;
        r.validate()?;
        use crate::pixel::slots::classify::*;
        for (slot, name, t) in [
            (NDWI, "water_ndwi", self.water_ndwi),
            (MNDWI, "water_mndwi", self.water_mndwi),
            (NDVI, "vegetation_ndvi", self.vegetation_ndvi),
            (BSI, "bare_soil_bsi", self.bare_soil_bsi),
            (NDBI, "built_up_ndbi", self.built_up_ndbi),
            (REDNESS, "bare_soil_redness", self.bare_soil_redness),
            (BARE_NDVI, "bare_or_built_ndvi", self.bare_or_built_ndvi),
        ] {
            if !(-1.0..=1.0).contains(&t) {
                return Err(Error::InvalidParameter {
                    name: name.into(),
                    value: t.to_string(),
                    reason: "a normalized-difference threshold lies in [-1, 1]".into(),
                });
            }
            job.set_const(slot, name, t)?;
        }
        job.set_const(SHIFT2, "offset/scale", 2.0 * r.offset_in_dn())?;
        job.set_const(SHIFT4, "offset/scale", 4.0 * r.offset_in_dn())?;
        Ok(())
    }
}

/// [`Engine::classify`]: the classes as a raster on the stack's grid.
pub(crate) fn compute(
    engine: &Engine,
    stack: &BandStack,
    thresholds: &ClassThresholds,
) -> Result<Computed<Raster<u8>>> {
    let mut out = Vec::new();
    let execution = compute_into(engine, stack, thresholds, &mut out)?;
    Ok(Computed {
        output: stack.raster_of(out, CLASS_NODATA),
        execution,
    })
}

/// [`Engine::classify_into`]: the classes into a caller's buffer, resized to the stack.
pub(crate) fn compute_into(
    engine: &Engine,
    stack: &BandStack,
    thresholds: &ClassThresholds,
    out: &mut Vec<u8>,
) -> Result<Execution> {
    let job = thresholds.job(stack)?;
    out.resize(stack.len(), 0);
    engine.run(
        &job,
        out,
        |gpu, job, out| gpu.classify(job, out),
        |job, out| cpu::run_pixels(job, out, cpu::classify::classify_chunk),
        "land-cover classification",
    )
}

with_setters!(ClassThresholds {
    with_water_ndwi => water_ndwi: f64,
    with_water_mndwi => water_mndwi: f64,
    with_vegetation_ndvi => vegetation_ndvi: f64,
    with_bare_soil_bsi => bare_soil_bsi: f64,
    with_built_up_ndbi => built_up_ndbi: f64,
    with_bare_soil_redness => bare_soil_redness: f64,
    with_bare_or_built_ndvi => bare_or_built_ndvi: f64,
});
