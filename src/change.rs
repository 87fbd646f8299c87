//! Bi-temporal change detection: the enforcement change codes and the combined rule set that
//! maps a pixel's land-cover transition to them.
//!
//! | code | change                         | from → to                              |
//! |------|--------------------------------|----------------------------------------|
//! | 0    | unchanged                      | same class on both dates               |
//! | 1    | earth-moving (推填土)           | vegetation → bare soil                 |
//! | 2    | new construction               | vegetation → built-up                  |
//! | 3    | earth-moving → construction    | bare soil → built-up                   |
//! | 4    | excavation or mining           | vegetation or bare soil → water        |
//! | 5    | other change                   | any other change of class              |
//! | 255  | nodata                         | nodata, NaN or masked on either date   |
//!
//! The fused pass (`shaders/change.wgsl`) reads both dates' bands once and writes both class
//! maps and the change codes. A pixel that is nodata on either date is nodata in all three
//! outputs, so it counts nowhere.

use crate::classify::{BARE_SOIL, BUILT_UP, CLASS_NODATA, ClassThresholds, VEGETATION, WATER};
use crate::error::{Error, Result};
use crate::pixel::PixelJob;
use crate::raster::{BandStack, Raster};

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

/// The name of a change code, for tables and legends.
pub fn change_name(code: u8) -> &'static str {
    match code {
        UNCHANGED => "unchanged",
        EARTH_MOVING => "earth-moving",
        NEW_CONSTRUCTION => "new construction",
        EARTH_TO_CONSTRUCTION => "earth-moving to construction",
        EXCAVATION => "excavation or mining",
        OTHER_CHANGE => "other change",
        CHANGE_NODATA => "nodata",
        _ => "undefined",
    }
}

/// The combined rule set: a from→to class pair to its change code (CPU twin of
/// `change_code` in `shaders/change.wgsl`).
pub fn change_code(before: u8, after: u8) -> u8 {
    match (before, after) {
        (CLASS_NODATA, _) | (_, CLASS_NODATA) => CHANGE_NODATA,
        (b, a) if b == a => UNCHANGED,
        (VEGETATION, BARE_SOIL) => EARTH_MOVING,
        (VEGETATION, BUILT_UP) => NEW_CONSTRUCTION,
        (BARE_SOIL, BUILT_UP) => EARTH_TO_CONSTRUCTION,
        (VEGETATION | BARE_SOIL, WATER) => EXCAVATION,
        _ => OTHER_CHANGE,
    }
}

/// The three outputs of the fused change pass, on the input grid.
#[derive(Debug, Clone)]
pub struct ChangeMaps {
    /// Land-cover classes of the first date.
    pub class_before: Raster<u8>,
    /// Land-cover classes of the second date.
    pub class_after: Raster<u8>,
    /// Change codes.
    pub change: Raster<u8>,
}

/// Area of every from→to class pair, indexed `[before][after]` by class code.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionMatrix {
    /// Pixel counts per pair.
    pub pixels: Box<[[u64; 256]; 256]>,
    /// Area of one pixel in m², when the grid is projected in metres.
    pub pixel_area_m2: Option<f64>,
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
        for (&b, &a) in before.data.iter().zip(&after.data) {
            if b != CLASS_NODATA && a != CLASS_NODATA {
                pixels[b as usize][a as usize] += 1;
            }
        }
        let pixel_area_m2 = before.georef.and_then(|g| {
            let (w, h) = g.transform.pixel_size();
            g.epsg
                .is_some_and(|e| !(4000..5000).contains(&e))
                .then_some(w * h)
        });
        Ok(TransitionMatrix {
            pixels,
            pixel_area_m2,
        })
    }

    /// Area of the `before → after` pair in m² (or in pixels when the grid is not metric).
    pub fn area(&self, before: u8, after: u8) -> f64 {
        self.pixels[before as usize][after as usize] as f64 * self.pixel_area_m2.unwrap_or(1.0)
    }
}

impl ClassThresholds {
    /// Builds the fused change job: slots 0..5 the first date, 5..10 the second.
    pub(crate) fn change_job<'a>(
        &self,
        before: &'a BandStack,
        after: &'a BandStack,
    ) -> Result<PixelJob<'a>> {
        use crate::classify::slot_const::*;
        use crate::sensor::BandRole::*;
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
                what: format!(
                    "the dates lie on different grids: EPSG {:?} {:?} against EPSG {:?} {:?}",
                    a.epsg, a.transform.0, b.epsg, b.transform.0
                ),
            });
        }
        let roles = [Blue, Green, Red, Nir, Swir1];
        let mut job = self.job(before)?;
        job.push_bands(after, &roles, "change detection (second date)")?;
        let r = after.radiometry;
        r.validate()?;
        job.set_const(AFTER_SHIFT2, "offset/scale", 2.0 * r.offset_in_dn())?;
        job.set_const(AFTER_SHIFT4, "offset/scale", 4.0 * r.offset_in_dn())?;
        Ok(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::OTHER;

    #[test]
    fn combined_rules_follow_the_table() {
        assert_eq!(change_code(VEGETATION, BARE_SOIL), EARTH_MOVING);
        assert_eq!(change_code(VEGETATION, BUILT_UP), NEW_CONSTRUCTION);
        assert_eq!(change_code(BARE_SOIL, BUILT_UP), EARTH_TO_CONSTRUCTION);
        assert_eq!(change_code(BARE_SOIL, WATER), EXCAVATION);
        assert_eq!(change_code(VEGETATION, WATER), EXCAVATION);
        assert_eq!(change_code(WATER, VEGETATION), OTHER_CHANGE);
        assert_eq!(change_code(BUILT_UP, OTHER), OTHER_CHANGE);
        assert_eq!(change_code(OTHER, OTHER), UNCHANGED);
        assert_eq!(change_code(CLASS_NODATA, WATER), CHANGE_NODATA);
        assert_eq!(change_code(WATER, CLASS_NODATA), CHANGE_NODATA);
    }
}
