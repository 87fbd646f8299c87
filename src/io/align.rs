//! Grid alignment: whether two rasters share one pixel grid (size, pixel size, CRS,
//! origin), and the pixel windows of their common extent when only the extents differ.

use crate::error::{Error, Result};
use crate::geo::Crs;
use crate::io::geotiff::GeoTiff;
use crate::raster::{Band, BandData, BandStack, GeoReference, GeoTransform, Raster};

/// A pixel grid: size and, when known, georeferencing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Transform and CRS.
    pub georef: Option<GeoReference>,
}

impl Grid {
    /// The grid of a band stack.
    pub fn of_stack(stack: &BandStack) -> Grid {
        Grid {
            width: stack.width(),
            height: stack.height(),
            georef: stack.georef,
        }
    }

    /// The grid of a decoded GeoTIFF.
    pub fn of_image(image: &GeoTiff) -> Grid {
        Grid {
            width: image.width,
            height: image.height,
            georef: image.georef,
        }
    }

    /// The grid of a single-band raster.
    pub fn of_raster<T>(raster: &Raster<T>) -> Grid {
        Grid {
            width: raster.width,
            height: raster.height,
            georef: raster.georef,
        }
    }
}

/// A rectangle of pixels: top-left pixel and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First column.
    pub col: usize,
    /// First row.
    pub row: usize,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
}

impl std::fmt::Display for Window {
    /// `W×H at column C, row R`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}×{} at column {}, row {}",
            self.width, self.height, self.col, self.row
        )
    }
}

/// Relative tolerance on transform coefficients, as a fraction of the pixel size.
const TOLERANCE: f64 = 1e-6;

/// Map coordinates to fractional pixel coordinates; `None` for a degenerate transform.
pub(crate) fn invert(t: &GeoTransform, x: f64, y: f64) -> Option<(f64, f64)> {
    let c = &t.0;
    let det = c[1] * c[5] - c[2] * c[4];
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let (dx, dy) = (x - c[0], y - c[3]);
    Some(((c[5] * dx - c[2] * dy) / det, (c[1] * dy - c[4] * dx) / det))
}

fn crs(crs: Option<Crs>) -> String {
    crs.map_or_else(|| "no CRS".into(), |c| c.to_string())
}

/// What differs between the pixel shapes and CRSs of two georeferences (not origins).
fn shape_differences(a: &GeoReference, b: &GeoReference) -> Vec<String> {
    let mut diffs = Vec::new();
    if a.crs != b.crs {
        diffs.push(format!("CRS {} vs {}", crs(a.crs), crs(b.crs)));
    }
    let (ta, tb) = (&a.transform.0, &b.transform.0);
    let scale = a.transform.pixel_size().0.max(a.transform.pixel_size().1);
    if [1, 2, 4, 5]
        .iter()
        .any(|&i| (ta[i] - tb[i]).abs() > TOLERANCE * scale)
    {
        let (pa, pb) = (a.transform.pixel_size(), b.transform.pixel_size());
        if ta[2] != 0.0 || ta[4] != 0.0 || tb[2] != 0.0 || tb[4] != 0.0 {
            diffs.push(format!(
                "pixel axes [{}, {}, {}, {}] vs [{}, {}, {}, {}]",
                ta[1], ta[2], ta[4], ta[5], tb[1], tb[2], tb[4], tb[5]
            ));
        } else {
            diffs.push(format!("pixel size {}×{} vs {}×{}", pa.0, pa.1, pb.0, pb.1));
        }
    }
    diffs
}

/// Checks that two rasters share one grid: same size, pixel size and orientation, CRS and
/// origin (to a millionth of a pixel). The error lists every difference.
pub fn check_same_grid(a: &Grid, b: &Grid) -> Result<()> {
    let mut diffs = Vec::new();
    if (a.width, a.height) != (b.width, b.height) {
        diffs.push(format!(
            "size {}×{} vs {}×{}",
            a.width, a.height, b.width, b.height
        ));
    }
    match (&a.georef, &b.georef) {
        (Some(ga), Some(gb)) => {
            diffs.extend(shape_differences(ga, gb));
            let (ta, tb) = (&ga.transform.0, &gb.transform.0);
            let scale = ga.transform.pixel_size().0.max(ga.transform.pixel_size().1);
            if (ta[0] - tb[0]).abs() > TOLERANCE * scale
                || (ta[3] - tb[3]).abs() > TOLERANCE * scale
            {
                diffs.push(format!(
                    "origin ({}, {}) vs ({}, {})",
                    ta[0], ta[3], tb[0], tb[3]
                ));
            }
        }
        (None, None) => {}
        (Some(_), None) => {
            diffs.push("the first raster is georeferenced, the second is not".into())
        }
        (None, Some(_)) => {
            diffs.push("the second raster is georeferenced, the first is not".into())
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(Error::GridMismatch {
            what: diffs.join("; "),
        })
    }
}

/// For two georeferenced rasters on the same pixel lattice (same CRS and pixel size, origins
/// a whole number of pixels apart) but different extents, the windows of `a` and of `b`
/// that cover their common extent, pixel for pixel. Fails with [`Error::GridMismatch`] when
/// the lattices differ (resample first) or the rasters do not overlap.
pub fn crop_to_intersection(a: &Grid, b: &Grid) -> Result<(Window, Window)> {
    let mismatch = |what: String| Error::GridMismatch { what };
    let (Some(ga), Some(gb)) = (&a.georef, &b.georef) else {
        return Err(mismatch(
            "both rasters need a georeference to find their common extent".into(),
        ));
    };
    let diffs = shape_differences(ga, gb);
    if !diffs.is_empty() {
        return Err(mismatch(format!(
            "{} (resample onto one grid first)",
            diffs.join("; ")
        )));
    }
    let (u, v) = invert(&ga.transform, gb.transform.0[0], gb.transform.0[3])
        .ok_or_else(|| mismatch("degenerate transform".into()))?;
    let (du, dv) = (u.round(), v.round());
    if (u - du).abs() > TOLERANCE || (v - dv).abs() > TOLERANCE {
        return Err(mismatch(format!(
            "origins are {u:.6}, {v:.6} pixels apart, not a whole number of pixels \
             (resample onto one grid first)"
        )));
    }
    let (du, dv) = (du as i64, dv as i64);
    let c0 = du.max(0);
    let r0 = dv.max(0);
    let c1 = (a.width as i64).min(du + b.width as i64);
    let r1 = (a.height as i64).min(dv + b.height as i64);
    if c1 <= c0 || r1 <= r0 {
        return Err(mismatch("the rasters do not overlap".into()));
    }
    let (w, h) = ((c1 - c0) as usize, (r1 - r0) as usize);
    Ok((
        Window {
            col: c0 as usize,
            row: r0 as usize,
            width: w,
            height: h,
        },
        Window {
            col: (c0 - du) as usize,
            row: (r0 - dv) as usize,
            width: w,
            height: h,
        },
    ))
}

/// The georeference of a window: the same transform with its origin moved to the window.
pub fn window_georef(georef: &GeoReference, w: &Window) -> GeoReference {
    let (x, y) = georef.transform.apply(w.col as f64, w.row as f64);
    let mut c = georef.transform.0;
    c[0] = x;
    c[3] = y;
    GeoReference {
        transform: GeoTransform(c),
        crs: georef.crs,
    }
}

fn crop_band(data: &BandData, full_width: usize, w: &Window) -> BandData {
    fn rows<T: Copy>(v: &[T], fw: usize, w: &Window) -> Vec<T> {
        let mut out = Vec::with_capacity(w.width * w.height);
        for y in w.row..w.row + w.height {
            out.extend_from_slice(&v[y * fw + w.col..y * fw + w.col + w.width]);
        }
        out
    }
    match data {
        BandData::U8(v) => BandData::U8(rows(v, full_width, w)),
        BandData::U16(v) => BandData::U16(rows(v, full_width, w)),
        BandData::I16(v) => BandData::I16(rows(v, full_width, w)),
        BandData::U32(v) => BandData::U32(rows(v, full_width, w)),
        BandData::F32(v) => BandData::F32(rows(v, full_width, w)),
    }
}

/// Cuts a window out of a stack, keeping roles, nodata, radiometry and the (shifted)
/// georeference. The window must lie inside the stack.
pub fn crop_stack(stack: &BandStack, w: &Window) -> Result<BandStack> {
    let inside = w.width > 0
        && w.height > 0
        && w.col
            .checked_add(w.width)
            .is_some_and(|e| e <= stack.width())
        && w.row
            .checked_add(w.height)
            .is_some_and(|e| e <= stack.height());
    if !inside {
        return Err(Error::InvalidParameter {
            name: "window".into(),
            value: w.to_string(),
            reason: format!("outside the {}×{} stack", stack.width(), stack.height()),
        });
    }
    let bands = stack
        .bands()
        .iter()
        .map(|b| Band {
            role: b.role,
            data: crop_band(&b.data, stack.width(), w),
            nodata: b.nodata,
        })
        .collect();
    let mut out = BandStack::new(w.width, w.height, bands)?;
    out.set_radiometry(stack.radiometry)?;
    out.georef = stack.georef.map(|g| window_georef(&g, w));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(w: usize, h: usize, t: [f64; 6], epsg: u32) -> Grid {
        Grid {
            width: w,
            height: h,
            georef: Some(GeoReference::epsg(GeoTransform(t), epsg)),
        }
    }

    #[test]
    fn differences_are_named() {
        let a = grid(10, 10, [0.0, 10.0, 0.0, 100.0, 0.0, -10.0], 32633);
        assert!(check_same_grid(&a, &a).is_ok());
        let b = grid(12, 10, [5.0, 20.0, 0.0, 100.0, 0.0, -20.0], 32634);
        let Err(Error::GridMismatch { what }) = check_same_grid(&a, &b) else {
            panic!("no mismatch")
        };
        for word in [
            "size 10×10 vs 12×10",
            "CRS EPSG:32633 (WGS 84 / UTM zone 33N) vs EPSG:32634",
            "pixel size 10×10 vs 20×20",
            "origin (0, 100) vs (5, 100)",
        ] {
            assert!(what.contains(word), "{what} lacks {word}");
        }
    }

    #[test]
    fn intersection_windows() {
        let a = grid(10, 8, [0.0, 10.0, 0.0, 100.0, 0.0, -10.0], 1);
        // b starts 3 columns right of and 2 rows above a.
        let b = grid(10, 10, [30.0, 10.0, 0.0, 120.0, 0.0, -10.0], 1);
        let (wa, wb) = crop_to_intersection(&a, &b).unwrap();
        assert_eq!(
            wa,
            Window {
                col: 3,
                row: 0,
                width: 7,
                height: 8
            }
        );
        assert_eq!(
            wb,
            Window {
                col: 0,
                row: 2,
                width: 7,
                height: 8
            }
        );
        let half = grid(10, 10, [35.0, 10.0, 0.0, 120.0, 0.0, -10.0], 1);
        assert!(matches!(
            crop_to_intersection(&a, &half),
            Err(Error::GridMismatch { .. })
        ));
        let far = grid(10, 10, [1000.0, 10.0, 0.0, 120.0, 0.0, -10.0], 1);
        assert!(crop_to_intersection(&a, &far).is_err());
    }
}
