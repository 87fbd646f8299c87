//! Patches against zones and regions: the area of each patch inside each protected zone, its
//! zone flags, the region that holds most of it, and per-region totals with the warning flag
//! that enforcement offices publish.
//!
//! New construction is change code 2 (vegetation → built-up) or 3 (bare soil → built-up):
//! both end as new built-up land. A region's farmland share is its new construction on basic
//! farmland over all its new construction; the region is flagged when the share is at or
//! above the warning threshold (15% by default). A patch counts, whole, towards the region
//! that holds most of its area (the lowest region index on a tie); pixels outside every region
//! count towards none.

use crate::change::{CHANGE_NODATA, EARTH_TO_CONSTRUCTION, NEW_CONSTRUCTION, UNCHANGED};
use crate::error::{Error, Result};
use crate::patch::Labels;
use crate::raster::Raster;
use crate::zones::{BASIC_FARMLAND, Regions, URBAN_BOUNDARY, Zone};

/// The default warning threshold on the farmland share of new construction.
pub const DEFAULT_WARNING_SHARE: f64 = 0.15;

/// Shares within this of the threshold count as reaching it, so that rounding in per-row
/// ellipsoidal areas never decides a warning.
const SHARE_EPSILON: f64 = 1e-9;

/// How one patch lies against the zones and regions.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOverlay {
    /// The patch's change code.
    pub code: u8,
    /// The patch's area in m².
    pub area_m2: f64,
    /// Area inside each zone, in the order of the zones given, in m².
    pub zone_area_m2: Vec<f64>,
    /// Whether any of the patch lies inside each zone.
    pub in_zone: Vec<bool>,
    /// Whether any of the patch lies outside the urban development boundary, when one is given.
    pub outside_urban_boundary: Option<bool>,
    /// Index into `Regions::codes` of the region holding most of the patch, if any.
    pub region: Option<usize>,
}

/// Per-region totals.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionTotals {
    /// The region's code.
    pub code: String,
    /// Patches assigned to the region.
    pub patch_count: u64,
    /// Changed area by change code (index = code, 1..=5), in m².
    pub area_by_type_m2: [f64; 6],
    /// New construction (codes 2 and 3), in m².
    pub new_construction_m2: f64,
    /// New construction inside basic farmland, in m².
    pub new_construction_on_farmland_m2: f64,
    /// `new_construction_on_farmland_m2 / new_construction_m2` (0 without new construction).
    pub farmland_share: f64,
    /// The share is at or above the warning threshold.
    pub warning: bool,
}

/// True for the change codes that count as new construction.
pub fn is_new_construction(code: u8) -> bool {
    code == NEW_CONSTRUCTION || code == EARTH_TO_CONSTRUCTION
}

/// Overlays labelled patches on zones and regions in one pass over the pixels.
/// `codes` holds the change code of every pixel (the same grid as `labels`), and
/// `row_area_m2(row)` the area of one pixel of that row.
pub fn overlay_patches(
    labels: &Labels,
    codes: &Raster<u8>,
    zones: &[Zone],
    regions: Option<&Regions>,
    row_area_m2: &dyn Fn(usize) -> f64,
) -> Result<Vec<PatchOverlay>> {
    let (w, h) = (labels.width, labels.height);
    let same = |rw: usize, rh: usize| rw == w && rh == h;
    let grids_match = same(codes.width, codes.height)
        && zones.iter().all(|z| same(z.mask.width, z.mask.height))
        && regions.is_none_or(|r| same(r.index.width, r.index.height));
    if !grids_match || labels.ids.len() != w * h {
        return Err(Error::GridMismatch {
            what: "labels, change codes, zones and regions must share one grid".into(),
        });
    }
    let n = labels.count as usize;
    let urban = zones.iter().position(|z| z.name == URBAN_BOUNDARY);
    let n_regions = regions.map_or(0, |r| r.codes.len());
    let mut out: Vec<PatchOverlay> = (0..n)
        .map(|_| PatchOverlay {
            code: UNCHANGED,
            area_m2: 0.0,
            zone_area_m2: vec![0.0; zones.len()],
            in_zone: vec![false; zones.len()],
            outside_urban_boundary: urban.map(|_| false),
            region: None,
        })
        .collect();
    let mut region_area = vec![0.0f64; n * n_regions];
    for row in 0..h {
        let area = row_area_m2(row);
        for col in 0..w {
            let i = row * w + col;
            let id = labels.ids[i] as usize;
            if id == 0 {
                continue;
            }
            let p = &mut out[id - 1];
            p.code = codes.data[i];
            p.area_m2 += area;
            for (z, zone) in zones.iter().enumerate() {
                if zone.mask.data[i] == 1 {
                    p.zone_area_m2[z] += area;
                    p.in_zone[z] = true;
                } else if Some(z) == urban {
                    p.outside_urban_boundary = Some(true);
                }
            }
            if let Some(r) = regions {
                let region = r.index.data[i] as usize;
                if region > 0 {
                    region_area[(id - 1) * n_regions + region - 1] += area;
                }
            }
        }
    }
    for (id, p) in out.iter_mut().enumerate() {
        let areas = &region_area[id * n_regions..(id + 1) * n_regions];
        p.region = areas
            .iter()
            .enumerate()
            .filter(|(_, a)| **a > 0.0)
            .fold(None, |best: Option<(usize, f64)>, (r, &a)| match best {
                Some((_, b)) if b >= a => best,
                _ => Some((r, a)),
            })
            .map(|(r, _)| r);
        debug_assert!(p.code != UNCHANGED && p.code != CHANGE_NODATA);
    }
    Ok(out)
}

/// Totals per region from the patch overlays, with the warning flag at `warning_share`.
pub fn region_totals(
    regions: &Regions,
    zones: &[Zone],
    patches: &[PatchOverlay],
    warning_share: f64,
) -> Vec<RegionTotals> {
    let farmland = zones.iter().position(|z| z.name == BASIC_FARMLAND);
    let mut totals: Vec<RegionTotals> = regions
        .codes
        .iter()
        .map(|code| RegionTotals {
            code: code.clone(),
            patch_count: 0,
            area_by_type_m2: [0.0; 6],
            new_construction_m2: 0.0,
            new_construction_on_farmland_m2: 0.0,
            farmland_share: 0.0,
            warning: false,
        })
        .collect();
    for p in patches {
        let Some(r) = p.region else { continue };
        let t = &mut totals[r];
        t.patch_count += 1;
        if let Some(slot) = t.area_by_type_m2.get_mut(p.code as usize) {
            *slot += p.area_m2;
        }
        if is_new_construction(p.code) {
            t.new_construction_m2 += p.area_m2;
            t.new_construction_on_farmland_m2 += farmland.map_or(0.0, |z| p.zone_area_m2[z]);
        }
    }
    for t in &mut totals {
        if t.new_construction_m2 > 0.0 {
            t.farmland_share = t.new_construction_on_farmland_m2 / t.new_construction_m2;
            t.warning = t.farmland_share >= warning_share - SHARE_EPSILON;
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raster<T: Copy>(w: usize, h: usize, data: Vec<T>, nodata: T) -> Raster<T> {
        Raster {
            width: w,
            height: h,
            data,
            nodata,
            georef: None,
        }
    }

    #[test]
    fn a_patch_straddling_two_regions_goes_whole_to_the_larger_share() {
        // One 1×5 new-construction patch: 3 pixels in region A, 2 in region B.
        let labels = Labels {
            width: 5,
            height: 1,
            ids: vec![1; 5],
            count: 1,
        };
        let codes = raster(5, 1, vec![NEW_CONSTRUCTION; 5], 255);
        let regions = Regions {
            codes: vec!["A".into(), "B".into()],
            index: raster(5, 1, vec![1, 1, 1, 2, 2], 0),
        };
        let farmland = Zone {
            name: BASIC_FARMLAND.into(),
            mask: raster(5, 1, vec![0, 0, 0, 0, 1], 255),
        };
        let zones = [farmland];
        let p = overlay_patches(&labels, &codes, &zones, Some(&regions), &|_| 100.0).unwrap();
        assert_eq!(p[0].region, Some(0));
        assert_eq!(p[0].area_m2, 500.0);
        assert_eq!(p[0].zone_area_m2, vec![100.0]);
        let t = region_totals(&regions, &zones, &p, DEFAULT_WARNING_SHARE);
        assert_eq!(t[0].patch_count, 1);
        assert_eq!(t[0].new_construction_m2, 500.0);
        assert_eq!(t[0].farmland_share, 0.2);
        assert!(t[0].warning);
        assert_eq!(t[1].patch_count, 0);
        assert!(!t[1].warning);
    }
}
