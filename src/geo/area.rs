//! Areas of pixels in square metres: constant in a projected grid, per row on the
//! ellipsoid in a geographic (longitude/latitude) grid.

use super::crs::Crs;
use super::ellipsoid::Ellipsoid;
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

/// The area of the pixels of a grid.
#[derive(Debug, Clone, PartialEq)]
pub enum PixelArea {
    /// Every pixel has this area in m² (projected CRS in metres).
    Uniform(f64),
    /// Pixel area in m² for each row (geographic CRS on the ellipsoid).
    PerRow(Vec<f64>),
}

impl PixelArea {
    /// Pixel areas of a `height`-row grid with georeference `georef`. Errors when the grid
    /// has no georeference or EPSG code, or is a rotated geographic grid.
    pub fn of_grid(georef: Option<&GeoReference>, height: usize) -> Result<PixelArea> {
        let g = georef.ok_or_else(|| missing("the grid has no georeference"))?;
        let epsg = g.epsg.ok_or_else(|| missing("the grid has no EPSG code"))?;
        let c = g.transform.0;
        match Crs::from_epsg(epsg) {
            Crs::Geographic { ellipsoid } => {
                if c[2] != 0.0 || c[4] != 0.0 {
                    return Err(Error::InvalidParameter {
                        name: "geotransform".into(),
                        value: format!("{c:?}"),
                        reason: "rotated geographic grids are not supported for areas".into(),
                    });
                }
                let rows = (0..height)
                    .map(|r| {
                        let lat1 = c[3] + r as f64 * c[5];
                        geographic_cell_area(&ellipsoid, lat1, lat1 + c[5], c[1])
                    })
                    .collect();
                Ok(PixelArea::PerRow(rows))
            }
            _ => Ok(PixelArea::Uniform((c[1] * c[5] - c[2] * c[4]).abs())),
        }
    }

    /// The area in m² of one pixel in `row`.
    #[inline]
    pub fn at_row(&self, row: usize) -> f64 {
        match self {
            PixelArea::Uniform(a) => *a,
            PixelArea::PerRow(rows) => rows.get(row).copied().unwrap_or(0.0),
        }
    }
}

/// The nominal ground size of a pixel of a `height`-row grid, in metres: the square root of
/// the area of a pixel in the middle row (on the ellipsoid for a geographic grid), or of the
/// transform's pixel when the CRS is unknown. `None` without a georeference.
pub fn nominal_pixel_m(georef: Option<&GeoReference>, height: usize) -> Option<f64> {
    let g = georef?;
    let area = match PixelArea::of_grid(Some(g), height) {
        Ok(areas) => areas.at_row(height / 2),
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
