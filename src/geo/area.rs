//! Ground areas of pixels in square metres, on the ellipsoid of the grid's datum whatever the
//! grid's distortion: exact per row in a geographic (longitude/latitude) grid, the grid's
//! own area in an equal-area projection, and from the local area scale of the projection
//! (by the inverse projection, sampled on a lattice) in every other grid.

use super::crs::Crs;
use super::ellipsoid::Ellipsoid;
use super::lonlat::{GeodeticFrame, LonLat};
use crate::error::{Error, Result};
use crate::raster::GeoReference;

/// Area of the cell between latitudes `lat1` and `lat2` (degrees) spanning `dlon` degrees
/// of longitude on `ellipsoid`, in m² (exact: `R_q² Δλ |sin β₂ − sin β₁|` with β the
/// authalic latitude, written through `q(φ)` of Snyder 1987, eq. 3-12).
pub fn geographic_cell_area(ellipsoid: &Ellipsoid, lat1: f64, lat2: f64, dlon: f64) -> f64 {
    let e = ellipsoid.e();
    let e2 = ellipsoid.e2();
    let q = |lat: f64| {
        let s = lat.to_radians().sin();
        (1.0 - e2)
            * (s / (1.0 - e2 * s * s) - (1.0 / (2.0 * e)) * ((1.0 - e * s) / (1.0 + e * s)).ln())
    };
    // A = a²/2 · Δλ · |q(φ₂) − q(φ₁)|  (since R_q² sin β = a² q / 2).
    ellipsoid.a * ellipsoid.a / 2.0 * dlon.to_radians().abs() * (q(lat2) - q(lat1)).abs()
}

/// The ground area of the pixels of a grid, on the ellipsoid of the CRS's datum.
#[derive(Debug, Clone, PartialEq)]
pub enum PixelArea {
    /// Every pixel has this area in m²: an equal-area projection.
    Uniform(f64),
    /// Pixel area in m² for each row: a north-up geographic grid (exact per row).
    PerRow(Vec<f64>),
    /// Pixel areas that vary across the grid (conformal and other projections, rotated
    /// geographic grids), sampled on a lattice and interpolated.
    Lattice(AreaLattice),
}

/// Pixel areas sampled every [`AreaLattice::STEP`] pixels in both directions and
/// interpolated bilinearly between: the area scale of a projection changes by far less
/// than a part in a million over that distance.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaLattice {
    columns: usize,
    nodes: Vec<f64>,
}

impl AreaLattice {
    /// Pixels between lattice nodes.
    pub const STEP: usize = 64;

    /// The lattice of a `width` × `height` grid of `georef` (whose CRS is usable).
    fn new(georef: &GeoReference, crs: &Crs, width: usize, height: usize) -> Result<Self> {
        let lon_lat = LonLat::new(crs, GeodeticFrame::Native)?;
        let ellipsoid = crs.datum_ellipsoid()?;
        let nodes_along = |n: usize| n.div_ceil(Self::STEP) + 1;
        let (columns, rows) = (nodes_along(width), nodes_along(height));
        let t = georef.transform;
        let nodes = (0..rows * columns)
            .map(|i| {
                let (row, col) = ((i / columns) * Self::STEP, (i % columns) * Self::STEP);
                let (c, r) = (col as f64 + 0.5, row as f64 + 0.5);
                let at = |dc: f64, dr: f64| {
                    let (x, y) = t.apply(c + dc, r + dr);
                    lon_lat.to_lon_lat(x, y)
                };
                match (at(-0.5, 0.0), at(0.5, 0.0), at(0.0, -0.5), at(0.0, 0.5)) {
                    (Some(w), Some(e), Some(n), Some(s)) => {
                        let centre_lat = (n.1 + s.1) / 2.0;
                        let (dl_c, dp_c) = ((e.0 - w.0).to_radians(), (e.1 - w.1).to_radians());
                        let (dl_r, dp_r) = ((s.0 - n.0).to_radians(), (s.1 - n.1).to_radians());
                        (dl_c * dp_r - dl_r * dp_c).abs()
                            * ground_per_radian2(&ellipsoid, centre_lat)
                    }
                    _ => f64::NAN,
                }
            })
            .collect::<Vec<f64>>();
        if nodes.iter().any(|a| !a.is_finite()) {
            return Err(Error::UnsupportedCrs {
                crs: crs.to_string(),
                reason: "part of the grid lies outside the projection's domain, so its ground \
                         areas are unknown"
                    .into(),
            });
        }
        Ok(AreaLattice { columns, nodes })
    }

    /// The interpolated area of the pixel at `row`, `col`.
    #[inline]
    fn at(&self, row: usize, col: usize) -> f64 {
        let step = Self::STEP;
        let (r, c) = (row / step, col / step);
        let (fr, fc) = (
            (row % step) as f64 / step as f64,
            (col % step) as f64 / step as f64,
        );
        let node = |r: usize, c: usize| self.nodes[r * self.columns + c];
        let top = node(r, c) * (1.0 - fc) + node(r, c + 1) * fc;
        let bottom = node(r + 1, c) * (1.0 - fc) + node(r + 1, c + 1) * fc;
        top * (1.0 - fr) + bottom * fr
    }
}

/// Square metres of the ellipsoid per square radian of longitude × latitude at `lat`
/// degrees: `M(φ) N(φ) cos φ`.
fn ground_per_radian2(e: &Ellipsoid, lat: f64) -> f64 {
    let (s, c) = lat.to_radians().sin_cos();
    let w2 = 1.0 - e.e2() * s * s;
    let n = e.a / w2.sqrt();
    let m = e.a * (1.0 - e.e2()) / (w2 * w2.sqrt());
    m * n * c.abs()
}

impl PixelArea {
    /// The ground areas of the pixels of a `width` × `height` grid with georeference
    /// `georef`. Errors when the grid has no georeference or CRS, or its CRS is unusable.
    pub fn of_grid(georef: Option<&GeoReference>, width: usize, height: usize) -> Result<Self> {
        let g = georef.ok_or_else(|| missing("the grid has no georeference"))?;
        let crs = g.crs.ok_or_else(|| missing("the grid has no CRS"))?;
        crs.check_usable()?;
        let c = g.transform.0;
        let rotated = c[2] != 0.0 || c[4] != 0.0;
        if crs.is_geographic() && !rotated {
            let ellipsoid = crs.datum_ellipsoid()?;
            let rows = (0..height)
                .map(|r| {
                    let lat1 = c[3] + r as f64 * c[5];
                    geographic_cell_area(&ellipsoid, lat1, lat1 + c[5], c[1])
                })
                .collect();
            return Ok(PixelArea::PerRow(rows));
        }
        if crs.is_equal_area() {
            let unit = crs.linear_unit_m()?;
            return Ok(PixelArea::Uniform(
                (c[1] * c[5] - c[2] * c[4]).abs() * unit * unit,
            ));
        }
        Ok(PixelArea::Lattice(AreaLattice::new(
            g, &crs, width, height,
        )?))
    }

    /// The area in m² of the pixel at `row`, `col`.
    #[inline]
    pub fn at(&self, row: usize, col: usize) -> f64 {
        match self {
            PixelArea::Uniform(a) => *a,
            PixelArea::PerRow(rows) => rows.get(row).copied().unwrap_or(0.0),
            PixelArea::Lattice(lattice) => lattice.at(row, col),
        }
    }
}

/// The nominal ground size of a pixel of a `width` × `height` grid, in metres: the square
/// root of the ground area of its middle pixel, or of the transform's pixel when the CRS is
/// unknown or unusable. `None` without a georeference.
pub fn nominal_pixel_m(georef: Option<&GeoReference>, width: usize, height: usize) -> Option<f64> {
    let g = georef?;
    let area = match PixelArea::of_grid(Some(g), width, height) {
        Ok(areas) => areas.at(height / 2, width / 2),
        Err(_) => {
            let c = g.transform.0;
            (c[1] * c[5] - c[2] * c[4]).abs()
        }
    };
    (area.is_finite() && area > 0.0).then(|| area.sqrt())
}

fn missing(reason: &str) -> Error {
    Error::InvalidParameter {
        name: "georeference".into(),
        value: "none".into(),
        reason: format!("{reason}, so pixel areas in m² are unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_cell_at_the_equator() {
        // 12,308.464 km² (a numerical integral of M·N·cos φ dφ dλ agrees to 1e-9; the
        // often quoted "≈ 12,308.8 km²" is a rounder approximation).
        let a = geographic_cell_area(&Ellipsoid::WGS84, 0.0, 1.0, 1.0) / 1e6;
        assert!((a - 12_308.463_894).abs() < 1e-5, "{a}");
        // The whole ellipsoid: 510,065,621.7 km² for WGS 84.
        let earth = geographic_cell_area(&Ellipsoid::WGS84, -90.0, 90.0, 360.0) / 1e6;
        assert!((earth - 510_065_621.7).abs() < 1.0, "{earth}");
    }
}
