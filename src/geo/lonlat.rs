//! Conversion between a CRS's coordinates and longitude/latitude: PROJ's algorithms
//! (`proj4rs`, a pure-Rust port checked against PROJ) for every CRS, with Transverse Mercator
//! (UTM, Gauss-Krüger) on the faster series of [`super::tmerc`] where no datum shift is
//! involved.

use super::crs::{Crs, proj_param};
use super::ellipsoid::Ellipsoid;
use super::tmerc::TransverseMercator;
use crate::error::{Error, Result};
use proj4rs::proj::Proj;
use proj4rs::transform::transform;

/// Which longitude/latitude a [`LonLat`] converts to and from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GeodeticFrame {
    /// WGS 84, as GeoJSON (RFC 7946) wants: the CRS's datum is shifted when its definition
    /// says how (`+towgs84`); a datum without one (CGCS2000, or a bare ellipsoid) is taken
    /// as is, as PROJ does.
    Wgs84,
    /// The CRS's own datum: no shift. Areas are measured in this frame.
    Native,
}

/// A converter between the coordinates of one CRS and longitude/latitude in degrees.
#[derive(Debug)]
pub struct LonLat {
    path: Path,
}

#[derive(Debug)]
enum Path {
    /// The CRS is longitude/latitude in the frame already.
    Identity,
    /// Transverse Mercator by Krüger's series.
    TransverseMercator(TransverseMercator),
    /// Any other conversion, by proj4rs: the CRS and the longitude/latitude frame.
    Proj(Box<(Proj, Proj)>),
}

impl LonLat {
    /// The converter for `crs` into `frame`. Errors for an unusable CRS, or one whose
    /// projection has no inverse.
    pub fn new(crs: &Crs, frame: GeodeticFrame) -> Result<LonLat> {
        let proj_string = crs.proj_string()?;
        let unsupported = |reason: String| Error::UnsupportedCrs {
            crs: crs.to_string(),
            reason,
        };
        let proj = Proj::from_proj_string(&proj_string)
            .map_err(|e| unsupported(format!("PROJ cannot use its definition: {e}")))?;
        let shifts = frame == GeodeticFrame::Wgs84 && shifts_datum(&proj_string);
        if proj.is_latlong() && !shifts {
            return Ok(LonLat {
                path: Path::Identity,
            });
        }
        if !shifts && let Some(tm) = transverse_mercator(&proj, &proj_string) {
            return Ok(LonLat {
                path: Path::TransverseMercator(tm),
            });
        }
        if !proj.has_inverse() {
            return Err(unsupported(
                "its projection has no inverse, so longitude/latitude are unknown".into(),
            ));
        }
        let frame = match frame {
            GeodeticFrame::Wgs84 => "+proj=longlat +datum=WGS84 +no_defs".to_string(),
            GeodeticFrame::Native => {
                let (a, b) = proj.ellipse_parameters();
                format!("+proj=longlat +a={a} +b={b} +no_defs")
            }
        };
        let lon_lat = Proj::from_proj_string(&frame)
            .map_err(|e| unsupported(format!("no longitude/latitude frame: {e}")))?;
        Ok(LonLat {
            path: Path::Proj(Box::new((proj, lon_lat))),
        })
    }

    /// `(x, y)` in the CRS to `(longitude, latitude)` in degrees; `None` outside the
    /// projection's domain.
    pub fn to_lon_lat(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match &self.path {
            Path::Identity => Some((x, y)),
            Path::TransverseMercator(tm) => Some(tm.inverse(x, y)),
            Path::Proj(pair) => {
                let (crs, lon_lat) = &**pair;
                let mut p = if crs.is_latlong() {
                    (x.to_radians(), y.to_radians(), 0.0)
                } else {
                    (x, y, 0.0)
                };
                transform(crs, lon_lat, &mut p).ok()?;
                let (lon, lat) = (p.0.to_degrees(), p.1.to_degrees());
                (lon.is_finite() && lat.is_finite()).then_some((lon, lat))
            }
        }
    }

    /// `(longitude, latitude)` in degrees to `(x, y)` in the CRS; `None` outside the
    /// projection's domain.
    pub fn from_lon_lat(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        match &self.path {
            Path::Identity => Some((lon, lat)),
            Path::TransverseMercator(tm) => Some(tm.forward(lon, lat)),
            Path::Proj(pair) => {
                let (crs, lon_lat) = &**pair;
                let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
                transform(lon_lat, crs, &mut p).ok()?;
                let (x, y) = if crs.is_latlong() {
                    (p.0.to_degrees(), p.1.to_degrees())
                } else {
                    (p.0, p.1)
                };
                (x.is_finite() && y.is_finite()).then_some((x, y))
            }
        }
    }
}

/// Whether converting to WGS 84 shifts the datum of a PROJ definition: a non-zero
/// `+towgs84`, a `+nadgrids` other than `@null`, or a named datum other than WGS 84.
fn shifts_datum(proj: &str) -> bool {
    let towgs84 = proj_param(proj, "towgs84")
        .is_some_and(|v| v.split(',').any(|n| n.parse::<f64>() != Ok(0.0)));
    let grids = proj_param(proj, "nadgrids").is_some_and(|v| v != "@null");
    let datum = proj_param(proj, "datum").is_some_and(|d| d != "WGS84");
    towgs84 || grids || datum
}

/// The Transverse Mercator of a definition, when the series of [`super::tmerc`] applies:
/// `tmerc` or `utm` with the natural origin on the equator and metre units.
fn transverse_mercator(proj: &Proj, definition: &str) -> Option<TransverseMercator> {
    if !matches!(proj.projname(), "tmerc" | "utm" | "etmerc")
        || proj.latitude_of_origin() != 0.0
        || proj.to_meter() != 1.0
        || proj_param(definition, "approx").is_some()
        || proj_param(definition, "axis").is_some_and(|a| a != "enu")
    {
        return None;
    }
    let (a, b) = proj.ellipse_parameters();
    Some(TransverseMercator {
        ellipsoid: Ellipsoid { a, f: (a - b) / a },
        lon0: proj.longitude_of_origin().to_degrees(),
        k0: proj.scaling_factor(),
        false_easting: proj.false_easting(),
        false_northing: proj.false_northing(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from PROJ: `echo "x y" | gdaltransform -s_srs EPSG:x -t_srs
    /// EPSG:4326 -output_xy` (GDAL 3.6, PROJ 9.1).
    #[test]
    fn matches_gdaltransform() {
        let cases = [
            (
                3857,
                13_358_338.9,
                3_753_993.0,
                120.000_000_043_184,
                31.928_989_494_737,
            ),
            (4549, 500_000.0, 3_600_000.0, 120.0, 32.524_364_918_336_2),
            (
                4510,
                400_000.0,
                3_600_000.0,
                121.935_699_175_697,
                32.519_862_153_782_1,
            ),
            (
                32651,
                300_000.0,
                3_600_000.0,
                120.870_715_549_372,
                32.519_327_665_048_9,
            ),
            (32651, 500_000.0, 0.0, 123.0, 0.0),
            (4527, 39_500_000.0, 3_000_000.0, 117.0, 27.111_635_508_124_3),
            (4490, 120.0, 32.5, 120.0, 32.5),
        ];
        for (code, x, y, lon, lat) in cases {
            let c = LonLat::new(&Crs::epsg(code), GeodeticFrame::Wgs84).unwrap();
            let (lo, la) = c.to_lon_lat(x, y).unwrap();
            assert!(
                (lo - lon).abs() < 1e-8 && (la - lat).abs() < 1e-8,
                "EPSG:{code} ({x}, {y}) → ({lo}, {la}), PROJ says ({lon}, {lat})"
            );
            let (bx, by) = c.from_lon_lat(lo, la).unwrap();
            assert!(
                (bx - x).abs() < 1e-5 && (by - y).abs() < 1e-5,
                "EPSG:{code}"
            );
        }
    }

    /// The Transverse Mercator series and proj4rs agree on every UTM and CGCS2000
    /// Gauss-Krüger zone, within a micrometre.
    #[test]
    fn the_fast_path_agrees_with_proj() {
        let codes = (32601..=32660)
            .chain(32701..=32760)
            .chain(4491..=4554)
            .chain([2327, 2383, 21453]);
        for code in codes {
            let crs = Crs::epsg(code);
            let fast = LonLat::new(&crs, GeodeticFrame::Native).unwrap();
            let Path::TransverseMercator(tm) = &fast.path else {
                panic!("EPSG:{code} takes the general path")
            };
            let (x0, y0) = tm.forward(tm.lon0 + 2.0, 30.0);
            let def = crs.proj_string().unwrap();
            let proj = Proj::from_proj_string(&def).unwrap();
            let (a, b) = proj.ellipse_parameters();
            let frame = Proj::from_proj_string(&format!("+proj=longlat +a={a} +b={b}")).unwrap();
            let general = LonLat {
                path: Path::Proj(Box::new((proj, frame))),
            };
            for (dx, dy) in [
                (0.0, 0.0),
                (-150_000.0, 2_000_000.0),
                (90_000.0, -1_500_000.0),
            ] {
                let (x, y) = (x0 + dx, y0 + dy);
                let (a, b) = (
                    fast.to_lon_lat(x, y).unwrap(),
                    general.to_lon_lat(x, y).unwrap(),
                );
                assert!(
                    (a.0 - b.0).abs() < 1e-11 && (a.1 - b.1).abs() < 1e-11,
                    "EPSG:{code} ({x}, {y}): {a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_datum_shift_takes_the_general_path() {
        // Pulkovo 1942 / Gauss-Kruger zone 4 carries +towgs84.
        let crs = Crs::epsg(28404);
        let c = LonLat::new(&crs, GeodeticFrame::Wgs84).unwrap();
        assert!(matches!(c.path, Path::Proj(_)));
        let native = LonLat::new(&crs, GeodeticFrame::Native).unwrap();
        assert!(matches!(native.path, Path::TransverseMercator(_)));
        assert!(LonLat::new(&Crs::epsg(4978), GeodeticFrame::Wgs84).is_err());
    }
}
