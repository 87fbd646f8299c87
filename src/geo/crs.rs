//! The coordinate reference systems landwatch can convert to longitude/latitude, named by
//! EPSG code.

use super::ellipsoid::Ellipsoid;
use super::tmerc::TransverseMercator;

/// A CRS as far as patch geometry needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crs {
    /// Longitude/latitude in degrees (EPSG:4326 WGS 84, EPSG:4490 CGCS2000).
    Geographic {
        /// The ellipsoid, for areas.
        ellipsoid: Ellipsoid,
    },
    /// A Transverse Mercator grid in metres (UTM 326xx/327xx, CGCS2000 3-degree
    /// Gauss-Krüger 4513–4554).
    TransverseMercator(TransverseMercator),
    /// Any other EPSG code: assumed projected in metres, with no conversion to lon/lat.
    OtherProjected(u32),
}

impl Crs {
    /// The CRS of an EPSG code. Unknown codes are taken as projected in metres.
    pub fn from_epsg(epsg: u32) -> Crs {
        match epsg {
            4326 => Crs::Geographic {
                ellipsoid: Ellipsoid::WGS84,
            },
            4490 => Crs::Geographic {
                ellipsoid: Ellipsoid::GRS80,
            },
            32601..=32660 => Crs::TransverseMercator(TransverseMercator::utm(epsg - 32600, false)),
            32701..=32760 => Crs::TransverseMercator(TransverseMercator::utm(epsg - 32700, true)),
            // CGCS2000 3-degree Gauss-Krüger zones 25..45 (CM 75°E..135°E), zone prefix in
            // the false easting.
            4513..=4533 => {
                let zone = epsg - 4513 + 25;
                Crs::TransverseMercator(gauss_kruger(zone, f64::from(zone) * 1e6 + 500_000.0))
            }
            // The same zones without the prefix ("CM 75E".."CM 135E").
            4534..=4554 => Crs::TransverseMercator(gauss_kruger(epsg - 4534 + 25, 500_000.0)),
            _ => Crs::OtherProjected(epsg),
        }
    }

    /// `(x, y)` in this CRS to `(longitude, latitude)` in degrees; `None` for a CRS without
    /// a known conversion.
    pub fn to_lon_lat(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match self {
            Crs::Geographic { .. } => Some((x, y)),
            Crs::TransverseMercator(tm) => Some(tm.inverse(x, y)),
            Crs::OtherProjected(_) => None,
        }
    }

    /// `(longitude, latitude)` in degrees to `(x, y)` in this CRS; `None` for a CRS without a
    /// known conversion.
    pub fn from_lon_lat(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        match self {
            Crs::Geographic { .. } => Some((lon, lat)),
            Crs::TransverseMercator(tm) => Some(tm.forward(lon, lat)),
            Crs::OtherProjected(_) => None,
        }
    }

    /// True for a longitude/latitude CRS.
    pub fn is_geographic(&self) -> bool {
        matches!(self, Crs::Geographic { .. })
    }
}

fn gauss_kruger(zone: u32, false_easting: f64) -> TransverseMercator {
    TransverseMercator {
        ellipsoid: Ellipsoid::GRS80,
        lon0: f64::from(zone) * 3.0,
        k0: 1.0,
        false_easting,
        false_northing: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from PROJ (`gdaltransform -s_srs EPSG:x -t_srs EPSG:4326`).
    #[test]
    fn gauss_kruger_forward_matches_gdaltransform() {
        // `echo "109.5 21.6" | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:4545` (PROJ).
        let (x, y) = Crs::from_epsg(4545).from_lon_lat(109.5, 21.6).unwrap();
        assert!((x - 655_336.862_197).abs() < 1e-3 && (y - 2_390_258.088_759).abs() < 1e-3);
    }

    #[test]
    fn matches_proj() {
        let cases = [
            (32651, 500_000.0, 0.0, 123.0, 0.0),
            (
                32651,
                400_000.0,
                3_500_000.0,
                121.945528814165,
                31.6308317969908,
            ),
            (
                32651,
                600_000.0,
                3_700_000.0,
                124.075764038578,
                33.4347288253842,
            ),
            (
                32733,
                300_000.0,
                7_000_000.0,
                12.9824943448063,
                -27.1079795236266,
            ),
            (
                32701,
                700_000.0,
                9_990_000.0,
                -175.202944963707,
                -0.0904283392344198,
            ),
            (4527, 39_500_000.0, 3_000_000.0, 117.0, 27.1116355081243),
            (
                4549,
                400_000.0,
                3_000_000.0,
                118.991558281869,
                27.1080162707848,
            ),
            (4326, 12.5, 45.25, 12.5, 45.25),
        ];
        for (epsg, x, y, lon, lat) in cases {
            let (lo, la) = Crs::from_epsg(epsg).to_lon_lat(x, y).unwrap();
            assert!(
                (lo - lon).abs() < 1e-9 && (la - lat).abs() < 1e-9,
                "EPSG:{epsg} ({x}, {y}) → ({lo}, {la}), PROJ says ({lon}, {lat})"
            );
        }
        assert_eq!(Crs::from_epsg(3857).to_lon_lat(0.0, 0.0), None);
    }
}
