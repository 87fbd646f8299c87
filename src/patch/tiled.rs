//! Patches of rasters larger than memory: change codes are read tile by tile, labelled per
//! tile, and the tile labels are joined across tile borders (edges and corners) with a
//! union-find over border pixels. The result is exactly that of the whole-raster run: the
//! same canonical ids, attributes and polygons.
//!
//! Three passes: (1) label every tile, keep its border pixels and per-patch sums;
//! (2) label every tile again, hand its canonical ids to a sink and trace the patches that
//! lie inside it; (3) trace each patch that crosses a tile border from a window of its
//! bounding box. Memory holds one tile per thread, the border rows and columns, one record
//! per patch, and the bounding box of the largest border-crossing patch.

use super::attributes::{Accumulator, PatchAttributes, WindowLayers, accumulate, finish};
use super::label::{join_rows, label_codes};
use super::polygon::{PatchPolygons, trace_patch};
use super::unionfind::UnionFind;
use super::{Connectivity, PixelBox};
use crate::error::{Error, Result};
use crate::geo::PixelArea;
use crate::io::{GeoTiffInfo, ReadLimits, Window, read_info, read_window};
use crate::raster::{BandData, GeoReference, Raster};
use rayon::prelude::*;
use std::path::PathBuf;

/// Where change codes come from, a window at a time.
pub trait CodeSource: Sync {
    /// Width in pixels.
    fn width(&self) -> usize;
    /// Height in pixels.
    fn height(&self) -> usize;
    /// The georeference of the full grid.
    fn georef(&self) -> Option<GeoReference>;
    /// The codes of `window`, row-major.
    fn read(&self, window: Window) -> Result<Vec<u8>>;
}

impl CodeSource for Raster<u8> {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn georef(&self) -> Option<GeoReference> {
        self.georef
    }
    fn read(&self, w: Window) -> Result<Vec<u8>> {
        if w.col + w.width > self.width || w.row + w.height > self.height {
            return Err(Error::InvalidParameter {
                name: "window".into(),
                value: w.to_string(),
                reason: format!("outside the {}×{} raster", self.width, self.height),
            });
        }
        Ok((w.row..w.row + w.height)
            .flat_map(|r| &self.data[r * self.width + w.col..r * self.width + w.col + w.width])
            .copied()
            .collect())
    }
}

/// A single-band u8 GeoTIFF of change codes, read window by window.
#[derive(Debug, Clone)]
pub struct GeoTiffCodes {
    path: PathBuf,
    info: GeoTiffInfo,
}

impl GeoTiffCodes {
    /// Opens the header of `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<GeoTiffCodes> {
        let path = path.into();
        let info = read_info(&path)?;
        Ok(GeoTiffCodes { path, info })
    }
}

impl CodeSource for GeoTiffCodes {
    fn width(&self) -> usize {
        self.info.width
    }
    fn height(&self) -> usize {
        self.info.height
    }
    fn georef(&self) -> Option<GeoReference> {
        self.info.georef
    }
    fn read(&self, w: Window) -> Result<Vec<u8>> {
        let tif = read_window(
            &self.path,
            w.col,
            w.row,
            w.width,
            w.height,
            &ReadLimits::default(),
        )?;
        match tif.bands.into_iter().next() {
            Some(BandData::U8(v)) => Ok(v),
            _ => Err(Error::InvalidTiff {
                path: self.path.clone(),
                reason: "change codes must be a single u8 band".into(),
            }),
        }
    }
}

/// Tile size, connectivity and the minimum mapping unit.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TilingOptions {
    /// Tile width in pixels.
    pub tile_width: usize,
    /// Tile height in pixels.
    pub tile_height: usize,
    /// Which neighbours join a patch.
    pub connectivity: Connectivity,
    /// Patches smaller than this many m² are dropped and the rest renumbered, as
    /// [`super::sieve()`] does (0 keeps every patch).
    pub min_area_m2: f64,
}

impl TilingOptions {
    /// Tiles of `tile_width` × `tile_height` pixels, 8-connectivity, every patch kept.
    pub fn new(tile_width: usize, tile_height: usize) -> TilingOptions {
        TilingOptions {
            tile_width,
            tile_height,
            connectivity: Connectivity::Eight,
            min_area_m2: 0.0,
        }
    }
}

with_setters!(TilingOptions {
    with_connectivity => connectivity: Connectivity,
    with_min_area_m2 => min_area_m2: f64,
});

/// The patches of a tiled run (the label raster went to the sink).
#[derive(Debug, Clone, PartialEq)]
pub struct TiledPatches {
    /// Number of patches (after the minimum-area sieve).
    pub count: u32,
    /// Patches removed by the minimum-area sieve.
    pub removed: u32,
    /// Attributes by id (change type, size, area, boxes, centroids; no class or NDVI).
    pub attributes: Vec<PatchAttributes>,
    /// Polygons by id.
    pub polygons: Vec<PatchPolygons>,
}

/// What pass 1 keeps of a tile.
struct TileSummary {
    window: Window,
    /// Patches in the tile.
    count: u32,
    /// Per local patch (index 0 unused): sums and the raster index of its first pixel.
    accs: Vec<Accumulator>,
    first: Vec<u64>,
    /// Codes and local labels of the top, bottom, left and right border lines.
    border_codes: [Vec<u8>; 4],
    border_ids: [Vec<u32>; 4],
}

fn tiles(width: usize, height: usize, o: &TilingOptions) -> Vec<Window> {
    let mut out = Vec::new();
    for row in (0..height).step_by(o.tile_height) {
        for col in (0..width).step_by(o.tile_width) {
            out.push(Window {
                col,
                row,
                width: o.tile_width.min(width - col),
                height: o.tile_height.min(height - row),
            });
        }
    }
    out
}

/// Labels a window and returns its codes and local canonical labels.
fn label_window(
    source: &dyn CodeSource,
    w: Window,
    connectivity: Connectivity,
) -> Result<(Vec<u8>, super::Labels)> {
    let codes = source.read(w)?;
    let labels = label_codes(&codes, w.width, w.height, connectivity)?;
    Ok((codes, labels))
}

fn summarize(
    source: &dyn CodeSource,
    w: Window,
    o: &TilingOptions,
    pixel_area: &PixelArea,
) -> Result<TileSummary> {
    let (codes, labels) = label_window(source, w, o.connectivity)?;
    let n = labels.count as usize + 1;
    let mut accs = vec![Accumulator::default(); n];
    let layers = WindowLayers {
        codes: &codes,
        ..Default::default()
    };
    accumulate(
        &mut accs,
        &labels.ids,
        w.width,
        (w.col, w.row),
        &layers,
        pixel_area,
        None,
    );
    let mut first = vec![u64::MAX; n];
    let full_w = source.width() as u64;
    for (i, &id) in labels.ids.iter().enumerate() {
        let f = &mut first[id as usize];
        if id != 0 && *f == u64::MAX {
            *f = (w.row + i / w.width) as u64 * full_w + (w.col + i % w.width) as u64;
        }
    }
    let col = |data: &[u32], c: usize| (0..w.height).map(|r| data[r * w.width + c]).collect();
    let col8 = |data: &[u8], c: usize| (0..w.height).map(|r| data[r * w.width + c]).collect();
    let last = (w.height - 1) * w.width;
    Ok(TileSummary {
        window: w,
        count: labels.count,
        border_codes: [
            codes[..w.width].to_vec(),
            codes[last..].to_vec(),
            col8(&codes, 0),
            col8(&codes, w.width - 1),
        ],
        border_ids: [
            labels.ids[..w.width].to_vec(),
            labels.ids[last..].to_vec(),
            col(&labels.ids, 0),
            col(&labels.ids, w.width - 1),
        ],
        accs,
        first,
    })
}

/// Finds the patches of `source` tile by tile, drops those below the minimum area and
/// renumbers the rest canonically. `sink` receives each tile's window and its patch ids
/// (row-major, 0 where no patch survives), tiles in row-major order.
pub fn patches_tiled(
    source: &dyn CodeSource,
    options: &TilingOptions,
    sink: impl FnMut(Window, &[u32]) -> Result<()>,
) -> Result<TiledPatches> {
    let (width, height) = (source.width(), source.height());
    super::label::check_grid(width * height, width, height)?;
    check_options(options)?;
    let georef = source.georef().ok_or_else(|| Error::InvalidParameter {
        name: "georeference".into(),
        value: "none".into(),
        reason: "patch areas need a georeferenced change raster".into(),
    })?;
    let pixel_area = PixelArea::of_grid(Some(&georef), width, height)?;
    let windows = tiles(width, height, options);
    let summaries = windows
        .par_iter()
        .map(|&w| summarize(source, w, options, &pixel_area))
        .collect::<Result<Vec<_>>>()?;
    let numbering = Numbering::of(summaries, width, height, options, &pixel_area);
    let attributes = finish(&numbering.kept, &georef, &pixel_area);
    let mut polygons = trace_inside(source, &windows, &numbering, options, &attributes, sink)?;
    trace_crossing(source, &numbering, options, &attributes, &mut polygons)?;
    Ok(TiledPatches {
        count: numbering.count,
        removed: numbering.found as u32 - numbering.count,
        attributes,
        polygons: polygons.into_iter().skip(1).flatten().collect(),
    })
}

/// Refuses a minimum mapping unit that is not a finite area ≥ 0, and empty tiles.
fn check_options(options: &TilingOptions) -> Result<()> {
    if !(options.min_area_m2.is_finite() && options.min_area_m2 >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "min_area_m2".into(),
            value: options.min_area_m2.to_string(),
            reason: "the minimum mapping unit must be a finite area ≥ 0".into(),
        });
    }
    if options.tile_width == 0 || options.tile_height == 0 {
        return Err(Error::InvalidParameter {
            name: "tile size".into(),
            value: format!("{}×{}", options.tile_width, options.tile_height),
            reason: "tiles need at least one pixel".into(),
        });
    }
    Ok(())
}

/// How the tiles' local labels become the final patch ids: joined across tile borders,
/// numbered by first pixel and sieved by the minimum area.
struct Numbering {
    /// Tile t's local label k is the global provisional label `offsets[t] + k`.
    offsets: Vec<u32>,
    /// The final id of each global provisional label (0: no patch, or sieved out).
    canon: Vec<u32>,
    /// The raster index of each final patch's first pixel (index = id).
    first_px: Vec<u64>,
    /// Patches found before the sieve.
    found: usize,
    /// Patches kept by the sieve.
    count: u32,
    /// The kept patches' sums (index = id; index 0 unused).
    kept: Vec<Accumulator>,
}

impl Numbering {
    /// Joins the tiles of pass 1 across their borders, numbers the patches canonically (by
    /// their first pixel) and applies the minimum-area sieve: survivors keep their order.
    fn of(
        summaries: Vec<TileSummary>,
        width: usize,
        height: usize,
        options: &TilingOptions,
        pixel_area: &PixelArea,
    ) -> Numbering {
        // Global provisional labels: tile t's label k is offsets[t] + k.
        let mut uf = UnionFind::new();
        let mut offsets = Vec::with_capacity(summaries.len());
        for s in &summaries {
            let local = UnionFind {
                parent: (0..=s.count).collect(),
            };
            offsets.push(uf.append(&local));
        }
        join_borders(&mut uf, &summaries, &offsets, width, height, options);

        // Canonical ids: roots ordered by the first pixel of their set.
        let total = uf.len();
        let mut first = vec![u64::MAX; total];
        for (s, &off) in summaries.iter().zip(&offsets) {
            for k in 1..=s.count as usize {
                let r = uf.find(off + k as u32) as usize;
                first[r] = first[r].min(s.first[k]);
            }
        }
        let mut roots: Vec<u32> = (1..total as u32)
            .filter(|&l| uf.parent[l as usize] == l)
            .collect();
        roots.sort_unstable_by_key(|&r| first[r as usize]);
        let mut canon = vec![0u32; total];
        for (i, &r) in roots.iter().enumerate() {
            canon[r as usize] = i as u32 + 1;
        }
        for l in 1..total as u32 {
            canon[l as usize] = canon[uf.find(l) as usize];
        }
        let found = roots.len();
        let mut accs = vec![Accumulator::default(); found + 1];
        for (s, &off) in summaries.iter().zip(&offsets) {
            for k in 1..=s.count as usize {
                let id = canon[off as usize + k] as usize;
                accs[id].merge(&s.accs[k]);
            }
        }
        drop(summaries);
        // The minimum-area sieve: survivors keep their canonical order.
        let mut sieved = vec![0u32; found + 1];
        let mut count = 0u32;
        for (id, a) in accs.iter().enumerate().skip(1) {
            if a.area_m2(pixel_area) >= options.min_area_m2 {
                count += 1;
                sieved[id] = count;
            }
        }
        let mut first_px = vec![0u64; count as usize + 1];
        for &r in &roots {
            let id = sieved[canon[r as usize] as usize];
            if id != 0 {
                first_px[id as usize] = first[r as usize];
            }
        }
        for c in &mut canon {
            *c = sieved[*c as usize];
        }
        let mut kept = Vec::with_capacity(count as usize + 1);
        kept.push(Accumulator::default());
        kept.extend((1..=found).filter(|&id| sieved[id] != 0).map(|id| accs[id]));
        Numbering {
            offsets,
            canon,
            first_px,
            found,
            count,
            kept,
        }
    }
}

/// Pass 2: labels every tile again, hands its final ids to `sink` and traces the patches
/// that lie inside it. The polygons by id (index 0 unused), `None` for patches that cross a
/// tile border.
fn trace_inside(
    source: &dyn CodeSource,
    windows: &[Window],
    numbering: &Numbering,
    options: &TilingOptions,
    attributes: &[PatchAttributes],
    mut sink: impl FnMut(Window, &[u32]) -> Result<()>,
) -> Result<Vec<Option<PatchPolygons>>> {
    let bbox = |id: usize| attributes[id - 1].bbox_px;
    let mut polygons: Vec<Option<PatchPolygons>> = vec![None; numbering.count as usize + 1];
    for (&w, &off) in windows.iter().zip(&numbering.offsets) {
        let (_, labels) = label_window(source, w, options.connectivity)?;
        let map = &numbering.canon[off as usize..];
        let ids: Vec<u32> = labels
            .ids
            .iter()
            .map(|&l| if l == 0 { 0 } else { map[l as usize] })
            .collect();
        sink(w, &ids)?;
        let inside: Vec<usize> = (1..=labels.count as usize)
            .map(|k| map[k] as usize)
            .filter(|&id| id != 0 && within(&bbox(id), &w))
            .collect();
        let traced: Vec<PatchPolygons> = inside
            .par_iter()
            .map(|&id| trace_in(&ids, &w, id as u32, &bbox(id)))
            .collect();
        for p in traced {
            let id = p.id as usize;
            polygons[id] = Some(p);
        }
    }
    Ok(polygons)
}

/// Pass 3: traces each patch that crosses a tile border (those still without `polygons`)
/// from a window of its bounding box.
fn trace_crossing(
    source: &dyn CodeSource,
    numbering: &Numbering,
    options: &TilingOptions,
    attributes: &[PatchAttributes],
    polygons: &mut [Option<PatchPolygons>],
) -> Result<()> {
    let width = source.width();
    let bbox = |id: usize| attributes[id - 1].bbox_px;
    let crossing: Vec<usize> = (1..=numbering.count as usize)
        .filter(|&id| polygons[id].is_none())
        .collect();
    let traced = crossing
        .par_iter()
        .map(|&id| {
            let b = bbox(id);
            let w = Window {
                col: b.col_min,
                row: b.row_min,
                width: b.width(),
                height: b.height(),
            };
            let (_, labels) = label_window(source, w, options.connectivity)?;
            let f = numbering.first_px[id];
            let (r, c) = (
                (f / width as u64) as usize - w.row,
                (f % width as u64) as usize - w.col,
            );
            let local = labels.ids[r * w.width + c];
            let mut p = trace_in(&labels.ids, &w, local, &b);
            p.id = id as u32;
            Ok(p)
        })
        .collect::<Result<Vec<_>>>()?;
    for p in traced {
        let id = p.id as usize;
        polygons[id] = Some(p);
    }
    Ok(())
}

fn within(b: &PixelBox, w: &Window) -> bool {
    b.col_min >= w.col
        && b.row_min >= w.row
        && b.col_max < w.col + w.width
        && b.row_max < w.row + w.height
}

/// Traces patch `id` of the window `ids` covering `w`; `bbox` is in full-grid pixels.
fn trace_in(ids: &[u32], w: &Window, id: u32, bbox: &PixelBox) -> PatchPolygons {
    let local = PixelBox {
        col_min: bbox.col_min - w.col,
        row_min: bbox.row_min - w.row,
        col_max: bbox.col_max - w.col,
        row_max: bbox.row_max - w.row,
    };
    PatchPolygons {
        id,
        polygons: trace_patch(ids, w.width, id, &local, (w.col, w.row)),
    }
}

/// Joins provisional labels across every tile border: full-width rows on each side of a
/// horizontal border (which covers the diagonal at tile corners), then full-height columns
/// on each side of a vertical border.
fn join_borders(
    uf: &mut UnionFind,
    tiles: &[TileSummary],
    offsets: &[u32],
    width: usize,
    height: usize,
    o: &TilingOptions,
) {
    // Assemble a full line from one border line of each tile it crosses.
    let line = |len: usize, pick: &dyn Fn(&TileSummary) -> Option<(usize, usize)>| {
        let mut codes = vec![0u8; len];
        let mut ids = vec![0u32; len];
        for (t, &off) in tiles.iter().zip(offsets) {
            if let Some((side, start)) = pick(t) {
                for (i, (&c, &l)) in t.border_codes[side]
                    .iter()
                    .zip(&t.border_ids[side])
                    .enumerate()
                {
                    codes[start + i] = c;
                    ids[start + i] = if l == 0 { 0 } else { l + off };
                }
            }
        }
        (codes, ids)
    };
    for y in (o.tile_height..height).step_by(o.tile_height) {
        let above = line(width, &|t| {
            (t.window.row + t.window.height == y).then_some((1, t.window.col))
        });
        let below = line(width, &|t| (t.window.row == y).then_some((0, t.window.col)));
        join_rows(
            uf,
            [&above.0, &below.0],
            [&above.1, &below.1],
            [0, 0],
            o.connectivity,
        );
    }
    for x in (o.tile_width..width).step_by(o.tile_width) {
        let left = line(height, &|t| {
            (t.window.col + t.window.width == x).then_some((3, t.window.row))
        });
        let right = line(height, &|t| {
            (t.window.col == x).then_some((2, t.window.row))
        });
        join_rows(
            uf,
            [&left.0, &right.0],
            [&left.1, &right.1],
            [0, 0],
            o.connectivity,
        );
    }
}
