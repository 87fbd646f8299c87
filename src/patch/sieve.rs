//! The minimum mapping unit: patches smaller than a given area in m² are dropped (their
//! pixels become unchanged) and the survivors are renumbered canonically.

use super::Labels;
use super::area::patch_areas;
use crate::change::UNCHANGED;
use crate::error::{Error, Result};
use crate::geo::PixelArea;
use crate::raster::Raster;

/// The result of [`sieve`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sieved {
    /// The change codes with removed patches set to unchanged.
    pub codes: Raster<u8>,
    /// The surviving patches, renumbered 1..n canonically.
    pub labels: Labels,
    /// How many patches were removed.
    pub removed: u32,
}

/// Removes the patches of `labels` whose area is below `min_area_m2` (patches of exactly
/// that area stay). Pixel areas come from the georeference of `codes`: `|det|` of the
/// transform in a projected CRS, the ellipsoidal area per row in a geographic one.
pub fn sieve(codes: &Raster<u8>, labels: &Labels, min_area_m2: f64) -> Result<Sieved> {
    if !(min_area_m2.is_finite() && min_area_m2 >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "min_area_m2".into(),
            value: min_area_m2.to_string(),
            reason: "the minimum mapping unit must be a finite area ≥ 0".into(),
        });
    }
    check_same_grid(codes, labels)?;
    let pixel_area = PixelArea::of_grid(codes.georef.as_ref(), codes.width, codes.height)?;
    let areas = patch_areas(&labels.ids, labels.width, labels.count, &pixel_area);
    let mut map = vec![0u32; areas.len()];
    let mut next = 0u32;
    for (id, &a) in areas.iter().enumerate().skip(1) {
        if a >= min_area_m2 {
            next += 1;
            map[id] = next;
        }
    }
    let mut out_codes = codes.data.clone();
    let mut ids = labels.ids.clone();
    for (id, code) in ids.iter_mut().zip(out_codes.iter_mut()) {
        if *id != 0 {
            *id = map.get(*id as usize).copied().unwrap_or(0);
            if *id == 0 {
                *code = UNCHANGED;
            }
        }
    }
    Ok(Sieved {
        codes: Raster {
            width: codes.width,
            height: codes.height,
            data: out_codes,
            nodata: codes.nodata,
            georef: codes.georef,
        },
        labels: Labels {
            width: labels.width,
            height: labels.height,
            ids,
            count: next,
        },
        removed: labels.count - next,
    })
}

/// Errors unless `labels` lies on the grid of `codes`.
pub(crate) fn check_same_grid<T>(codes: &Raster<T>, labels: &Labels) -> Result<()> {
    if codes.width != labels.width
        || codes.height != labels.height
        || codes.data.len() != labels.ids.len()
        || labels.ids.len() != labels.width * labels.height
    {
        return Err(Error::GridMismatch {
            what: format!(
                "a {}×{} raster and a {}×{} label raster",
                codes.width, codes.height, labels.width, labels.height
            ),
        });
    }
    Ok(())
}
