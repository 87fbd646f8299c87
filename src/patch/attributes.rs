//! Patch attributes: change type, size in pixels, m², mu and ha, bounding box, centroid,
//! dominant land-cover classes before and after, and mean NDVI before and after, from one
//! pass over the label raster with one accumulator per patch.

use super::Labels;
use super::area::AreaSum;
use super::sieve::check_same_grid;
use crate::change::change_name;
use crate::error::{Error, Result};
use crate::geo::{GeodeticFrame, LonLat, PixelArea};
use crate::pixel::INDEX_NODATA;
use crate::raster::{GeoReference, Raster};
use rayon::prelude::*;

/// A name the crate owns. Spelled as an alias so that serde's derive (feature `serde`)
/// reads it back through its `deserialize_with` function instead of borrowing it from the
/// input for `'static`.
type StaticName = &'static str;

/// Square metres in one mu (亩): exactly 10000/15.
pub const M2_PER_MU: f64 = 10_000.0 / 15.0;

/// Class codes counted for the dominant class (0..CLASS_BINS); others are ignored.
const CLASS_BINS: usize = 8;

/// A box of pixels, bounds included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PixelBox {
    /// First column.
    pub col_min: usize,
    /// First row.
    pub row_min: usize,
    /// Last column.
    pub col_max: usize,
    /// Last row.
    pub row_max: usize,
}

impl PixelBox {
    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.col_max + 1 - self.col_min
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.row_max + 1 - self.row_min
    }
}

/// The attributes of one patch.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PatchAttributes {
    /// Canonical patch id.
    pub id: u32,
    /// Change code of its pixels.
    pub code: u8,
    /// Name of the change type.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::serde_remote::change_type_name")
    )]
    pub change_type: StaticName,
    /// Pixel count.
    pub pixels: u64,
    /// Area in m².
    pub area_m2: f64,
    /// Area in mu (1 mu = 10000/15 m²).
    pub area_mu: f64,
    /// Area in hectares.
    pub area_ha: f64,
    /// Bounding box in pixels.
    pub bbox_px: PixelBox,
    /// Bounding box in the raster CRS: `[min_x, min_y, max_x, max_y]`.
    pub bbox: [f64; 4],
    /// Mean of the pixel centres, in the raster CRS.
    pub centroid: [f64; 2],
    /// The centroid as `[longitude, latitude]`, when the CRS converts.
    pub centroid_lon_lat: Option<[f64; 2]>,
    /// Most frequent class code before (codes 0..8; ties to the lower code).
    pub class_before: Option<u8>,
    /// Most frequent class code after.
    pub class_after: Option<u8>,
    /// Mean NDVI before over valid pixels (not -9999, finite).
    pub ndvi_before: Option<f64>,
    /// Mean NDVI after.
    pub ndvi_after: Option<f64>,
}

/// The rasters attributes are read from; all must share the grid of `codes`.
#[derive(Debug, Clone, Copy)]
pub struct PatchLayers<'a> {
    /// Change codes (georeferenced: areas need it).
    pub codes: &'a Raster<u8>,
    /// Land-cover classes before.
    pub class_before: Option<&'a Raster<u8>>,
    /// Land-cover classes after.
    pub class_after: Option<&'a Raster<u8>>,
    /// NDVI before (nodata -9999).
    pub ndvi_before: Option<&'a Raster<f32>>,
    /// NDVI after (nodata -9999).
    pub ndvi_after: Option<&'a Raster<f32>>,
}

impl<'a> PatchLayers<'a> {
    /// Only change codes.
    pub fn codes(codes: &'a Raster<u8>) -> PatchLayers<'a> {
        PatchLayers {
            codes,
            class_before: None,
            class_after: None,
            ndvi_before: None,
            ndvi_after: None,
        }
    }
}

/// Row-major samples of a window of every layer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WindowLayers<'a> {
    pub(crate) codes: &'a [u8],
    pub(crate) class: [Option<&'a [u8]>; 2],
    pub(crate) ndvi: [Option<&'a [f32]>; 2],
}

/// Running sums of one patch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accumulator {
    area: AreaSum,
    sum_col: u64,
    sum_row: u64,
    bbox: PixelBox,
    code: u8,
    class: [[u32; CLASS_BINS]; 2],
    ndvi_sum: [f64; 2],
    ndvi_n: [u64; 2],
}

impl Default for Accumulator {
    fn default() -> Self {
        Accumulator {
            area: AreaSum::default(),
            sum_col: 0,
            sum_row: 0,
            bbox: PixelBox {
                col_min: usize::MAX,
                row_min: usize::MAX,
                col_max: 0,
                row_max: 0,
            },
            code: 0,
            class: [[0; CLASS_BINS]; 2],
            ndvi_sum: [0.0; 2],
            ndvi_n: [0; 2],
        }
    }
}

impl Accumulator {
    /// The patch's area so far, in m².
    pub(crate) fn area_m2(&self, pixel_area: &PixelArea) -> f64 {
        self.area.m2(pixel_area)
    }

    /// Adds one pixel's classes and NDVI before and after (each when known).
    #[inline]
    pub(crate) fn add_layers(&mut self, class: [Option<u8>; 2], ndvi: [Option<f32>; 2]) {
        for t in 0..2 {
            if let Some(k) = class[t]
                && (k as usize) < CLASS_BINS
            {
                self.class[t][k as usize] += 1;
            }
            if let Some(v) = ndvi[t]
                && v.is_finite()
                && v != INDEX_NODATA
            {
                self.ndvi_sum[t] += f64::from(v);
                self.ndvi_n[t] += 1;
            }
        }
    }

    /// Sets the class and NDVI attributes from the layers added.
    pub(crate) fn apply_layers(&self, a: &mut PatchAttributes) {
        a.class_before = dominant(&self.class[0]);
        a.class_after = dominant(&self.class[1]);
        a.ndvi_before = (self.ndvi_n[0] > 0).then(|| self.ndvi_sum[0] / self.ndvi_n[0] as f64);
        a.ndvi_after = (self.ndvi_n[1] > 0).then(|| self.ndvi_sum[1] / self.ndvi_n[1] as f64);
    }

    /// Adds the other patch part.
    pub(crate) fn merge(&mut self, o: &Accumulator) {
        if o.area.pixels == 0 {
            return;
        }
        if self.area.pixels == 0 {
            self.code = o.code;
        }
        self.area.merge(&o.area);
        self.sum_col += o.sum_col;
        self.sum_row += o.sum_row;
        self.bbox.col_min = self.bbox.col_min.min(o.bbox.col_min);
        self.bbox.row_min = self.bbox.row_min.min(o.bbox.row_min);
        self.bbox.col_max = self.bbox.col_max.max(o.bbox.col_max);
        self.bbox.row_max = self.bbox.row_max.max(o.bbox.row_max);
        for t in 0..2 {
            for (a, b) in self.class[t].iter_mut().zip(&o.class[t]) {
                *a += b;
            }
            self.ndvi_sum[t] += o.ndvi_sum[t];
            self.ndvi_n[t] += o.ndvi_n[t];
        }
    }
}

/// Accumulates a window of `width` columns whose first pixel is `(col0, row0)` of the
/// full grid; `ids` are mapped through `map` (identity when `None`).
pub(crate) fn accumulate(
    accs: &mut [Accumulator],
    ids: &[u32],
    width: usize,
    (col0, row0): (usize, usize),
    layers: &WindowLayers<'_>,
    pixel_area: &PixelArea,
    map: Option<&[u32]>,
) {
    for (r, line) in ids.chunks(width).enumerate() {
        let row = row0 + r;
        for (c, &raw) in line.iter().enumerate() {
            if raw == 0 {
                continue;
            }
            let id = map.map_or(raw, |m| m.get(raw as usize).copied().unwrap_or(0));
            let Some(a) = accs.get_mut(id as usize) else {
                continue;
            };
            let i = r * width + c;
            let col = col0 + c;
            a.area.add(pixel_area, row, col);
            a.sum_col += col as u64;
            a.sum_row += row as u64;
            a.bbox.col_min = a.bbox.col_min.min(col);
            a.bbox.row_min = a.bbox.row_min.min(row);
            a.bbox.col_max = a.bbox.col_max.max(col);
            a.bbox.row_max = a.bbox.row_max.max(row);
            a.code = layers.codes.get(i).copied().unwrap_or(0);
            a.add_layers(
                [0, 1].map(|t| layers.class[t].and_then(|s| s.get(i)).copied()),
                [0, 1].map(|t| layers.ndvi[t].and_then(|s| s.get(i)).copied()),
            );
        }
    }
}

/// Turns accumulators `1..` into attributes.
pub(crate) fn finish(
    accs: &[Accumulator],
    georef: &GeoReference,
    pixel_area: &PixelArea,
) -> Vec<PatchAttributes> {
    let t = &georef.transform;
    let lon_lat = (georef.crs).and_then(|crs| LonLat::new(&crs, GeodeticFrame::Wgs84).ok());
    accs.iter()
        .enumerate()
        .skip(1)
        .map(|(id, a)| {
            let n = a.area.pixels.max(1) as f64;
            let (cx, cy) = t.apply(a.sum_col as f64 / n + 0.5, a.sum_row as f64 / n + 0.5);
            let b = a.bbox;
            let corners = [
                t.apply(b.col_min as f64, b.row_min as f64),
                t.apply(b.col_max as f64 + 1.0, b.row_min as f64),
                t.apply(b.col_min as f64, b.row_max as f64 + 1.0),
                t.apply(b.col_max as f64 + 1.0, b.row_max as f64 + 1.0),
            ];
            let fold = |f: fn(f64, f64) -> f64, init: f64, y: bool| {
                corners
                    .iter()
                    .map(|p| if y { p.1 } else { p.0 })
                    .fold(init, f)
            };
            let area_m2 = a.area.m2(pixel_area);
            PatchAttributes {
                id: id as u32,
                code: a.code,
                change_type: change_name(a.code),
                pixels: a.area.pixels,
                area_m2,
                area_mu: area_m2 / M2_PER_MU,
                area_ha: area_m2 / 10_000.0,
                bbox_px: b,
                bbox: [
                    fold(f64::min, f64::INFINITY, false),
                    fold(f64::min, f64::INFINITY, true),
                    fold(f64::max, f64::NEG_INFINITY, false),
                    fold(f64::max, f64::NEG_INFINITY, true),
                ],
                centroid: [cx, cy],
                centroid_lon_lat: (lon_lat.as_ref())
                    .and_then(|c| c.to_lon_lat(cx, cy))
                    .map(|(lon, lat)| [lon, lat]),
                class_before: dominant(&a.class[0]),
                class_after: dominant(&a.class[1]),
                ndvi_before: (a.ndvi_n[0] > 0).then(|| a.ndvi_sum[0] / a.ndvi_n[0] as f64),
                ndvi_after: (a.ndvi_n[1] > 0).then(|| a.ndvi_sum[1] / a.ndvi_n[1] as f64),
            }
        })
        .collect()
}

/// The most frequent bin (lowest on ties), `None` when all are empty.
fn dominant(hist: &[u32; CLASS_BINS]) -> Option<u8> {
    let (k, &n) = hist.iter().enumerate().rev().max_by_key(|&(_, n)| *n)?;
    (n > 0).then_some(k as u8)
}

/// The georeference of `codes`, or an error: attributes need CRS coordinates and areas.
pub(crate) fn require_georef(codes: &Raster<u8>) -> Result<GeoReference> {
    codes.georef.ok_or_else(|| Error::InvalidParameter {
        name: "georeference".into(),
        value: "none".into(),
        reason: "patch attributes need a georeferenced change raster".into(),
    })
}

/// The attributes of every patch of `labels` (in id order), computed in one parallel pass.
pub fn attributes(labels: &Labels, layers: &PatchLayers<'_>) -> Result<Vec<PatchAttributes>> {
    let codes = layers.codes;
    check_same_grid(codes, labels)?;
    for r in [layers.class_before, layers.class_after]
        .into_iter()
        .flatten()
    {
        check_same_grid(r, labels)?;
    }
    for r in [layers.ndvi_before, layers.ndvi_after]
        .into_iter()
        .flatten()
    {
        check_same_grid(r, labels)?;
    }
    let georef = require_georef(codes)?;
    let pixel_area = PixelArea::of_grid(Some(&georef), codes.width, codes.height)?;
    let w = labels.width;
    let rows = labels.height.div_ceil(rayon::current_num_threads()).max(1);
    let n = labels.count as usize + 1;
    let accs = labels
        .ids
        .par_chunks(rows * w)
        .enumerate()
        .map(|(s, ids)| {
            let (a, b) = (s * rows * w, s * rows * w + ids.len());
            let window = WindowLayers {
                codes: &codes.data[a..b],
                class: [layers.class_before, layers.class_after].map(|r| r.map(|r| &r.data[a..b])),
                ndvi: [layers.ndvi_before, layers.ndvi_after].map(|r| r.map(|r| &r.data[a..b])),
            };
            let mut accs = vec![Accumulator::default(); n];
            accumulate(&mut accs, ids, w, (0, s * rows), &window, &pixel_area, None);
            accs
        })
        .reduce_with(|mut x, y| {
            x.iter_mut().zip(&y).for_each(|(a, b)| a.merge(b));
            x
        })
        .unwrap_or_default();
    Ok(finish(&accs, &georef, &pixel_area))
}
