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
use crate::geo::PixelArea;
use crate::patch::Labels;
use crate::patch::area::AreaSum;
use crate::raster::Raster;
use crate::zones::{BASIC_FARMLAND, Regions, URBAN_BOUNDARY, Zone};

/// The default warning threshold on the farmland share of new construction.
pub const DEFAULT_WARNING_SHARE: f64 = 0.15;

/// Shares within this of the threshold count as reaching it, so that rounding in per-row
/// ellipsoidal areas never decides a warning.
const SHARE_EPSILON: f64 = 1e-9;

/// How one patch lies against the zones and regions.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
/// `pixel_area` the area of the pixels of each row.
pub fn overlay_patches(
    labels: &Labels,
    codes: &Raster<u8>,
    zones: &[Zone],
    regions: Option<&Regions>,
    pixel_area: &PixelArea,
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
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    let mut sums = OverlaySums::new(labels.count, &names);
    let masks: Vec<&[u8]> = zones.iter().map(|z| z.mask.data.as_slice()).collect();
    sums.add(
        &OverlayWindow {
            width: w,
            row0: 0,
            ids: &labels.ids,
            codes: &codes.data,
            zones: &masks,
            regions: regions.map(|r| r.index.data.as_slice()),
        },
        pixel_area,
    );
    Ok(sums.finish(pixel_area))
}

/// One window of whole rows of everything an overlay reads.
#[derive(Debug, Clone, Copy)]
pub struct OverlayWindow<'a> {
    /// Width of the rows.
    pub width: usize,
    /// Grid row of the first row (for per-row pixel areas).
    pub row0: usize,
    /// Patch ids (0: no patch).
    pub ids: &'a [u32],
    /// Change codes.
    pub codes: &'a [u8],
    /// One mask per zone (1 inside), in the order of the zone names.
    pub zones: &'a [&'a [u8]],
    /// Region index + 1 per pixel (0: no region), when regions are given.
    pub regions: Option<&'a [u32]>,
}

/// What one patch has gathered so far.
#[derive(Debug, Clone, Default)]
struct PatchSums {
    code: u8,
    area: AreaSum,
    zones: Vec<AreaSum>,
    outside_urban: bool,
    /// (region index, area) for each region the patch touches.
    regions: Vec<(u32, AreaSum)>,
}

/// Per-patch overlay sums gathered window by window, in any order and tiling: areas are
/// summed exactly (fixed point), so every tiling gives the same bits.
#[derive(Debug, Clone)]
pub struct OverlaySums {
    urban: Option<usize>,
    zones: usize,
    patches: Vec<PatchSums>,
}

impl OverlaySums {
    /// Sums for patches `1..=count` (more as higher ids arrive) against zones named
    /// `zone_names`.
    pub fn new(count: u32, zone_names: &[&str]) -> OverlaySums {
        let empty = PatchSums {
            zones: vec![AreaSum::default(); zone_names.len()],
            ..PatchSums::default()
        };
        OverlaySums {
            urban: zone_names.iter().position(|&z| z == URBAN_BOUNDARY),
            zones: zone_names.len(),
            patches: vec![empty; count as usize],
        }
    }

    /// Adds a window.
    pub fn add(&mut self, w: &OverlayWindow<'_>, pixel_area: &PixelArea) {
        for (r, line) in w.ids.chunks(w.width.max(1)).enumerate() {
            let row = w.row0 + r;
            for (c, &id) in line.iter().enumerate() {
                let Some(k) = id.checked_sub(1).map(|k| k as usize) else {
                    continue;
                };
                if k >= self.patches.len() {
                    let empty = PatchSums {
                        zones: vec![AreaSum::default(); self.zones],
                        ..PatchSums::default()
                    };
                    self.patches.resize(k + 1, empty);
                }
                let p = &mut self.patches[k];
                let i = r * w.width + c;
                p.code = w.codes[i];
                p.area.add(pixel_area, row, c);
                for (z, mask) in w.zones.iter().enumerate() {
                    if mask[i] == 1 {
                        p.zones[z].add(pixel_area, row, c);
                    } else if Some(z) == self.urban {
                        p.outside_urban = true;
                    }
                }
                if let Some(region) = w.regions.map(|r| r[i]).filter(|&r| r > 0) {
                    match p.regions.iter_mut().find(|(k, _)| *k == region - 1) {
                        Some((_, sum)) => sum.add(pixel_area, row, c),
                        None => {
                            let mut sum = AreaSum::default();
                            sum.add(pixel_area, row, c);
                            p.regions.push((region - 1, sum));
                        }
                    }
                }
            }
        }
    }

    /// The overlay of every patch, in id order.
    pub fn finish(self, pixel_area: &PixelArea) -> Vec<PatchOverlay> {
        let urban = self.urban;
        self.patches
            .into_iter()
            .map(|p| {
                // The region holding most of the patch; the lowest index on a tie.
                let region = p
                    .regions
                    .iter()
                    .map(|(r, a)| (*r as usize, a.m2(pixel_area)))
                    .fold(None, |best: Option<(usize, f64)>, (r, a)| match best {
                        Some((b, ba)) if ba > a || (ba == a && b < r) => best,
                        _ => Some((r, a)),
                    })
                    .map(|(r, _)| r);
                debug_assert!(p.code != UNCHANGED && p.code != CHANGE_NODATA);
                PatchOverlay {
                    code: p.code,
                    area_m2: p.area.m2(pixel_area),
                    zone_area_m2: p.zones.iter().map(|a| a.m2(pixel_area)).collect(),
                    in_zone: p.zones.iter().map(|a| a.pixels > 0).collect(),
                    outside_urban_boundary: urban.map(|_| p.outside_urban),
                    region,
                }
            })
            .collect()
    }
}

/// Totals per region from the patch overlays, with the warning flag at `warning_share`.
/// `region_codes` are the regions in index order, `zone_names` the zones in the order of
/// `PatchOverlay::zone_area_m2`.
pub fn region_totals<S: AsRef<str>>(
    region_codes: &[String],
    zone_names: &[S],
    patches: &[PatchOverlay],
    warning_share: f64,
) -> Vec<RegionTotals> {
    let farmland = zone_names.iter().position(|z| z.as_ref() == BASIC_FARMLAND);
    let mut totals: Vec<RegionTotals> = region_codes
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
        let p = overlay_patches(
            &labels,
            &codes,
            &zones,
            Some(&regions),
            &PixelArea::Uniform(100.0),
        )
        .unwrap();
        assert_eq!(p[0].region, Some(0));
        assert_eq!(p[0].area_m2, 500.0);
        assert_eq!(p[0].zone_area_m2, vec![100.0]);
        let t = region_totals(&regions.codes, &[BASIC_FARMLAND], &p, DEFAULT_WARNING_SHARE);
        assert_eq!(t[0].patch_count, 1);
        assert_eq!(t[0].new_construction_m2, 500.0);
        assert_eq!(t[0].farmland_share, 0.2);
        assert!(t[0].warning);
        assert_eq!(t[1].patch_count, 0);
        assert!(!t[1].warning);
    }
}
