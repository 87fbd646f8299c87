//! Patch polygons that follow pixel edges exactly, by boundary tracing on the lattice of
//! pixel corners, with vertices only where the boundary turns.
//!
//! Representation: one feature per patch. A patch whose pixels touch only at a corner
//! (8-connectivity) becomes several polygons that touch at that corner (a MultiPolygon);
//! a hole that touches its shell (or another hole) at a corner stays a separate ring that
//! touches it there. Every ring is simple and rings meet only at isolated corners, so the
//! geometry is OGC-valid, and its point set is exactly the union of the patch's pixels.
//! (The tracer keeps the patch's pixels on its right; where two of them meet diagonally it
//! turns to stay with the current pixel, and a ring that comes back to such a corner is
//! split there.)

use super::Labels;
use super::attributes::PixelBox;
use crate::error::{Error, Result};
use crate::geo::LonLat;
use crate::io::geojson::Polygon;
use crate::raster::GeoTransform;
use rayon::prelude::*;

/// A pixel corner `[col, row]` of the full grid.
pub type Corner = [i64; 2];

/// A polygon in pixel-corner coordinates: an exterior ring and its holes, each listed once
/// (not closed), exterior clockwise and holes counter-clockwise on screen (row down), which
/// is counter-clockwise / clockwise in a north-up map.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LatticePolygon {
    /// Outer ring.
    pub exterior: Vec<Corner>,
    /// Holes.
    pub holes: Vec<Vec<Corner>>,
}

/// The geometry of one patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPolygons {
    /// Canonical patch id.
    pub id: u32,
    /// One polygon per edge-connected part, in raster order of their first pixel.
    pub polygons: Vec<LatticePolygon>,
}

/// Twice the signed area of a ring in lattice units (positive for exteriors).
pub fn ring_area2(ring: &[Corner]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

impl PatchPolygons {
    /// Area in pixels (exact).
    pub fn pixel_area(&self) -> i64 {
        self.polygons
            .iter()
            .map(|p| ring_area2(&p.exterior) + p.holes.iter().map(|h| ring_area2(h)).sum::<i64>())
            .sum::<i64>()
            / 2
    }

    /// The polygons in the CRS of `transform`: closed rings, exteriors counter-clockwise,
    /// holes clockwise.
    pub fn to_crs(&self, transform: &GeoTransform) -> Vec<Polygon> {
        self.map(|[c, r]| Some(transform.apply(c as f64, r as f64)))
            .unwrap_or_default()
    }

    /// The polygons in longitude/latitude (RFC 7946 orientation), with the grid's
    /// `transform` and the converter of its CRS. Errors when a vertex lies outside the
    /// projection's domain.
    pub fn to_lon_lat(&self, transform: &GeoTransform, lon_lat: &LonLat) -> Result<Vec<Polygon>> {
        self.map(|[c, r]| {
            let (x, y) = transform.apply(c as f64, r as f64);
            lon_lat.to_lon_lat(x, y)
        })
        .ok_or_else(|| Error::InvalidParameter {
            name: "polygon".into(),
            value: "a vertex".into(),
            reason: "lies outside the projection's domain: no longitude/latitude".into(),
        })
    }

    fn map(&self, f: impl Fn(Corner) -> Option<(f64, f64)>) -> Option<Vec<Polygon>> {
        let ring = |r: &[Corner], ccw: bool| -> Option<Vec<[f64; 2]>> {
            let mut out = r
                .iter()
                .map(|&c| f(c).map(|(x, y)| [x, y]))
                .collect::<Option<Vec<_>>>()?;
            out.push(*out.first()?);
            if (signed_area2(&out) > 0.0) != ccw {
                out.reverse();
            }
            Some(out)
        };
        self.polygons
            .iter()
            .map(|p| {
                Some(Polygon {
                    exterior: ring(&p.exterior, true)?,
                    holes: p
                        .holes
                        .iter()
                        .map(|h| ring(h, false))
                        .collect::<Option<_>>()?,
                })
            })
            .collect()
    }
}

/// Twice the signed area of a closed ring of floats (positive counter-clockwise, y up),
/// computed relative to its first vertex to avoid cancellation far from the origin.
pub fn signed_area2(ring: &[[f64; 2]]) -> f64 {
    let Some(&[x0, y0]) = ring.first() else {
        return 0.0;
    };
    ring.windows(2)
        .map(|w| (w[0][0] - x0) * (w[1][1] - y0) - (w[1][0] - x0) * (w[0][1] - y0))
        .sum()
}

/// The bounding boxes of patches 1..=count (index 0 unused).
pub fn patch_boxes(labels: &Labels) -> Vec<Option<PixelBox>> {
    let w = labels.width.max(1);
    let n = labels.count as usize + 1;
    let rows = labels.height.div_ceil(rayon::current_num_threads()).max(1);
    labels
        .ids
        .par_chunks(rows * w)
        .enumerate()
        .map(|(s, ids)| {
            let mut boxes: Vec<Option<PixelBox>> = vec![None; n];
            for (r, line) in ids.chunks(w).enumerate() {
                let row = s * rows + r;
                for (col, &id) in line.iter().enumerate() {
                    if let Some(b) = boxes.get_mut(id as usize)
                        && id != 0
                    {
                        grow(
                            b,
                            &PixelBox {
                                col_min: col,
                                row_min: row,
                                col_max: col,
                                row_max: row,
                            },
                        );
                    }
                }
            }
            boxes
        })
        .reduce_with(|mut a, b| {
            for (x, y) in a.iter_mut().zip(&b) {
                if let Some(y) = y {
                    grow(x, y);
                }
            }
            a
        })
        .unwrap_or_default()
}

fn grow(b: &mut Option<PixelBox>, o: &PixelBox) {
    *b = Some(match *b {
        None => *o,
        Some(p) => PixelBox {
            col_min: p.col_min.min(o.col_min),
            row_min: p.row_min.min(o.row_min),
            col_max: p.col_max.max(o.col_max),
            row_max: p.row_max.max(o.row_max),
        },
    });
}

/// The polygons of every patch, traced in parallel, in id order.
pub fn polygonize(labels: &Labels) -> Result<Vec<PatchPolygons>> {
    super::label::check_grid(labels.ids.len(), labels.width, labels.height)?;
    let boxes = patch_boxes(labels);
    Ok(boxes
        .par_iter()
        .enumerate()
        .skip(1)
        .map(|(id, b)| PatchPolygons {
            id: id as u32,
            polygons: b
                .map(|b| trace_patch(&labels.ids, labels.width, id as u32, &b, (0, 0)))
                .unwrap_or_default(),
        })
        .collect())
}

/// A window of a label raster: `ids` row-major, `width` columns.
struct Window<'a> {
    ids: &'a [u32],
    width: usize,
    height: usize,
    id: u32,
}

impl Window<'_> {
    #[inline]
    fn is(&self, c: i64, r: i64) -> bool {
        c >= 0
            && r >= 0
            && (c as usize) < self.width
            && (r as usize) < self.height
            && self.ids[r as usize * self.width + c as usize] == self.id
    }
}

/// Direction steps, clockwise on screen: east, south, west, north.
const STEP: [Corner; 4] = [[1, 0], [0, 1], [-1, 0], [0, -1]];

/// Traces the polygons of patch `id` inside `bbox` (window coordinates) of the label
/// window `ids` (`width` columns); corners are shifted by `origin` (the window's first
/// pixel in the full grid). The result depends only on the patch's pixels, not on the
/// window, so tiles and the whole raster give identical polygons.
pub fn trace_patch(
    ids: &[u32],
    width: usize,
    id: u32,
    bbox: &PixelBox,
    origin: (usize, usize),
) -> Vec<LatticePolygon> {
    let win = Window {
        ids,
        width,
        height: ids.len() / width.max(1),
        id,
    };
    let (bw, bh) = (bbox.width(), bbox.height());
    let mut visited = vec![false; bw * bh];
    let mut shells: Vec<Vec<Corner>> = Vec::new();
    let mut holes: Vec<(Vec<Corner>, Corner)> = Vec::new();
    for r in bbox.row_min..=bbox.row_max {
        for c in bbox.col_min..=bbox.col_max {
            let (ci, ri) = (c as i64, r as i64);
            if !win.is(ci, ri) || win.is(ci, ri - 1) {
                continue;
            }
            if visited[(r - bbox.row_min) * bw + (c - bbox.col_min)] {
                continue;
            }
            let (ring, saddles) = trace_ring(&win, [ci, ri], bbox, &mut visited);
            for ring in split_at_touches(ring, saddles) {
                if ring_area2(&ring) > 0 {
                    shells.push(ring);
                } else {
                    let cell = right_cell(ring[0], ring[1]);
                    holes.push((ring, cell));
                }
            }
        }
    }
    let mut polygons: Vec<LatticePolygon> = shells
        .into_iter()
        .map(|exterior| LatticePolygon {
            exterior,
            holes: Vec::new(),
        })
        .collect();
    for (hole, cell) in holes {
        let owner = if polygons.len() == 1 {
            0
        } else {
            owner_of(&polygons, cell)
        };
        polygons[owner].holes.push(hole);
    }
    let shift = [origin.0 as i64, origin.1 as i64];
    for p in &mut polygons {
        for ring in std::iter::once(&mut p.exterior).chain(p.holes.iter_mut()) {
            for v in ring.iter_mut() {
                v[0] += shift[0];
                v[1] += shift[1];
            }
        }
    }
    polygons
}

/// The innermost shell containing the centre of `cell`.
fn owner_of(polygons: &[LatticePolygon], cell: Corner) -> usize {
    let p = [2 * cell[0] + 1, 2 * cell[1] + 1];
    polygons
        .iter()
        .enumerate()
        .filter(|(_, poly)| contains_doubled(&poly.exterior, p))
        .min_by_key(|(_, poly)| ring_area2(&poly.exterior))
        .map_or(0, |(i, _)| i)
}

/// Crossing-number test of a point in doubled coordinates (odd, so never on an edge)
/// against a lattice ring.
fn contains_doubled(ring: &[Corner], p: Corner) -> bool {
    let n = ring.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        let (ay, by) = (2 * a[1], 2 * b[1]);
        if (ay > p[1]) != (by > p[1]) {
            // Lattice edges are axis-parallel: a crossing edge is vertical.
            if 2 * a[0] > p[0] {
                inside = !inside;
            }
        }
    }
    inside
}

/// The pixel on the right of the edge `a → b` (row down).
fn right_cell(a: Corner, b: Corner) -> Corner {
    match [(b[0] - a[0]).signum(), (b[1] - a[1]).signum()] {
        [1, 0] => a,
        [0, 1] => [a[0] - 1, a[1]],
        [-1, 0] => [a[0] - 1, a[1] - 1],
        _ => [a[0], a[1] - 1],
    }
}

/// Splits a ring that passes a corner twice (only possible at the corners where two of
/// the patch's pixels meet diagonally, `saddles` lists them) into simple rings touching
/// there. Splitting re-pairs the boundary edges at that corner, which turns a shell
/// pinched around a hole into a shell and a hole.
fn split_at_touches(ring: Vec<Corner>, mut saddles: Vec<Corner>) -> Vec<Vec<Corner>> {
    saddles.sort_unstable();
    if saddles.windows(2).all(|w| w[0] != w[1]) {
        return vec![ring];
    }
    let mut out = Vec::new();
    let mut path: Vec<Corner> = Vec::with_capacity(ring.len());
    let mut at = std::collections::HashMap::new();
    for v in ring {
        if let Some(&i) = at.get(&v) {
            let lobe: Vec<Corner> = path.drain(i + 1..).collect();
            for u in &lobe {
                at.remove(u);
            }
            let mut r = vec![v];
            r.extend(lobe);
            out.push(r);
        } else {
            at.insert(v, path.len());
            path.push(v);
        }
    }
    out.push(path);
    out
}

/// Follows one ring from the top edge of `start`'s cell, heading east with the patch on
/// the right; returns its turning corners and the saddle corners it passed, and marks the
/// top edges it walks east.
fn trace_ring(
    win: &Window<'_>,
    start: Corner,
    bbox: &PixelBox,
    visited: &mut [bool],
) -> (Vec<Corner>, Vec<Corner>) {
    let bw = bbox.width();
    let mut ring = Vec::new();
    let mut saddles = Vec::new();
    let (mut p, mut d) = (start, 0usize);
    loop {
        if d == 0 {
            let (c, r) = (p[0] as usize - bbox.col_min, p[1] as usize - bbox.row_min);
            visited[r * bw + c] = true;
        }
        p = [p[0] + STEP[d][0], p[1] + STEP[d][1]];
        // The two cells ahead, to the right and left of the direction of travel.
        let (ahead_right, ahead_left) = match d {
            0 => ([p[0], p[1]], [p[0], p[1] - 1]),
            1 => ([p[0] - 1, p[1]], [p[0], p[1]]),
            2 => ([p[0] - 1, p[1] - 1], [p[0] - 1, p[1]]),
            _ => ([p[0], p[1] - 1], [p[0] - 1, p[1] - 1]),
        };
        let nd = if !win.is(ahead_right[0], ahead_right[1]) {
            if win.is(ahead_left[0], ahead_left[1]) {
                saddles.push(p);
            }
            (d + 1) % 4
        } else if win.is(ahead_left[0], ahead_left[1]) {
            (d + 3) % 4
        } else {
            d
        };
        if nd != d {
            ring.push(p);
        }
        d = nd;
        if p == start && d == 0 {
            break;
        }
    }
    (ring, saddles)
}
