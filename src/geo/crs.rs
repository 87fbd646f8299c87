//! Coordinate reference systems: any geographic or projected CRS of the EPSG table (its kind
//! read from the table's definition, never guessed from the number), user-defined geographic
//! and projected CRSs as GeoTIFF describes them, and the CRSs landwatch cannot use, kept so
//! that a refusal can name them.

use super::ellipsoid::Ellipsoid;
use crate::error::{Error, Result};

/// A coordinate reference system.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Crs {
    /// A CRS of the EPSG table (the PostGIS `spatial_ref_sys` copy in `crs-definitions`).
    Epsg(EpsgCrs),
    /// A user-defined geographic or projected CRS.
    User(UserCrs),
    /// A CRS the data carries but landwatch cannot compute ground positions in.
    Unsupported(Unsupported),
}

/// A geographic or projected CRS of the EPSG table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpsgCrs {
    code: u16,
    geographic: bool,
}

/// A user-defined CRS: a geodetic base and, for a projected CRS, its projection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserCrs {
    /// The datum and ellipsoid.
    pub base: GeodeticBase,
    /// The map projection; `None` for a geographic (longitude/latitude) CRS.
    pub projection: Option<Projection>,
    /// Metres per linear unit of the projected coordinates (1 for metres).
    pub unit_m: f64,
}

/// The geodetic base of a user-defined CRS.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum GeodeticBase {
    /// A geographic CRS of the EPSG table (4326 WGS 84, 4490 CGCS2000, 4214 Beijing 1954…).
    Epsg(u16),
    /// A datum known only by its ellipsoid (and the ellipsoid's EPSG code, when it has one).
    Ellipsoid {
        /// The ellipsoid.
        ellipsoid: Ellipsoid,
        /// Its EPSG code (7030 WGS 84, 7019 GRS 1980, 7024 Krassowsky 1940…).
        epsg: Option<u16>,
    },
}

/// A map projection of a user-defined CRS. Angles in degrees, false origins in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Projection {
    /// Transverse Mercator (UTM, Gauss-Krüger).
    TransverseMercator {
        /// Latitude of natural origin.
        lat0: f64,
        /// Central meridian.
        lon0: f64,
        /// Scale factor on the central meridian.
        k0: f64,
        /// False easting.
        x0: f64,
        /// False northing.
        y0: f64,
    },
    /// Mercator with a scale factor at the equator (1SP; a 2SP standard parallel is turned
    /// into its scale factor when read).
    Mercator {
        /// Central meridian.
        lon0: f64,
        /// Scale factor at the equator.
        k0: f64,
        /// False easting.
        x0: f64,
        /// False northing.
        y0: f64,
    },
    /// Albers equal-area conic.
    AlbersEqualArea {
        /// First standard parallel.
        lat1: f64,
        /// Second standard parallel.
        lat2: f64,
        /// Latitude of the false origin.
        lat0: f64,
        /// Longitude of the false origin.
        lon0: f64,
        /// False easting.
        x0: f64,
        /// False northing.
        y0: f64,
    },
    /// Lambert conformal conic with two standard parallels (equal for 1SP, with `k0`).
    LambertConformalConic {
        /// First standard parallel.
        lat1: f64,
        /// Second standard parallel.
        lat2: f64,
        /// Latitude of the false origin.
        lat0: f64,
        /// Longitude of the false origin.
        lon0: f64,
        /// Scale factor on the standard parallel (1 for 2SP).
        k0: f64,
        /// False easting.
        x0: f64,
        /// False northing.
        y0: f64,
    },
}

/// Why a CRS cannot be used for ground positions and areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsupported {
    /// An EPSG code the table does not hold, or one that is neither geographic nor projected
    /// (vertical, compound).
    UnknownEpsg(u32),
    /// A geocentric (earth-centred X, Y, Z) CRS.
    Geocentric(Option<u32>),
    /// An engineering (local) CRS: coordinates with no known place on the Earth.
    Engineering,
    /// A user-defined projection method landwatch does not read (its GeoTIFF
    /// ProjCoordTransGeoKey code).
    ProjectionMethod(u16),
    /// A user-defined CRS whose keys lack something it needs (what).
    Incomplete(&'static str),
}

impl Crs {
    /// The CRS of an EPSG code: geographic or projected as the EPSG table defines it, or
    /// [`Crs::Unsupported`] for a code the table lacks or that is geocentric, vertical or
    /// engineering.
    pub fn epsg(code: u32) -> Crs {
        let Some(def) = u16::try_from(code)
            .ok()
            .and_then(crs_definitions::from_code)
        else {
            return Crs::Unsupported(Unsupported::UnknownEpsg(code));
        };
        let proj = def.proj4;
        if proj_param(proj, "proj") == Some("geocent") {
            return Crs::Unsupported(Unsupported::Geocentric(Some(code)));
        }
        let wkt = def.wkt.trim_start();
        if wkt.starts_with("LOCAL_CS") || wkt.starts_with("ENGCRS") {
            return Crs::Unsupported(Unsupported::Engineering);
        }
        match proj_param(proj, "proj") {
            Some("longlat" | "latlong" | "lonlat" | "latlon") => Crs::Epsg(EpsgCrs {
                code: def.code,
                geographic: true,
            }),
            Some(_) => Crs::Epsg(EpsgCrs {
                code: def.code,
                geographic: false,
            }),
            None => Crs::Unsupported(Unsupported::UnknownEpsg(code)),
        }
    }

    /// The EPSG code, for a CRS of the EPSG table.
    pub fn epsg_code(&self) -> Option<u32> {
        match self {
            Crs::Epsg(e) => Some(u32::from(e.code)),
            Crs::Unsupported(Unsupported::UnknownEpsg(c)) => Some(*c),
            Crs::Unsupported(Unsupported::Geocentric(c)) => *c,
            _ => None,
        }
    }

    /// True for a longitude/latitude CRS.
    pub fn is_geographic(&self) -> bool {
        match self {
            Crs::Epsg(e) => e.geographic,
            Crs::User(u) => u.projection.is_none(),
            Crs::Unsupported(_) => false,
        }
    }

    /// Whether ground positions and areas can be computed in this CRS; the error says why
    /// not.
    pub fn check_usable(&self) -> Result<()> {
        match self {
            Crs::Unsupported(why) => Err(Error::UnsupportedCrs {
                crs: self.to_string(),
                reason: why.reason().into(),
            }),
            _ => Ok(()),
        }
    }

    /// The CRS as a PROJ string (`+proj=… +no_defs`).
    pub fn proj_string(&self) -> Result<String> {
        self.check_usable()?;
        Ok(match self {
            Crs::Epsg(e) => e.definition().proj4.trim().to_string(),
            Crs::User(u) => u.proj_string(),
            Crs::Unsupported(_) => unreachable!("checked above"),
        })
    }

    /// The ellipsoid of the CRS's geodetic datum (not of a projection's auxiliary sphere:
    /// WGS 84 for Web Mercator), on which ground areas are measured.
    pub fn datum_ellipsoid(&self) -> Result<Ellipsoid> {
        self.check_usable()?;
        match self {
            Crs::Epsg(e) => {
                wkt_ellipsoid(e.definition().wkt).ok_or_else(|| Error::UnsupportedCrs {
                    crs: self.to_string(),
                    reason: "its definition names no ellipsoid".into(),
                })
            }
            Crs::User(u) => u.base.ellipsoid(),
            Crs::Unsupported(_) => unreachable!("checked above"),
        }
    }

    /// Metres per linear unit of a projected CRS's coordinates.
    pub fn linear_unit_m(&self) -> Result<f64> {
        match self {
            Crs::User(u) => Ok(u.unit_m),
            _ => {
                let proj =
                    proj4rs::proj::Proj::from_proj_string(&self.proj_string()?).map_err(|e| {
                        Error::UnsupportedCrs {
                            crs: self.to_string(),
                            reason: format!("PROJ cannot use its definition: {e}"),
                        }
                    })?;
                Ok(proj.to_meter())
            }
        }
    }

    /// True for an equal-area projection (Albers, Lambert azimuthal or cylindrical equal
    /// area): a pixel's ground area is its area in the grid.
    pub fn is_equal_area(&self) -> bool {
        match self {
            Crs::Epsg(e) if !e.geographic => matches!(
                proj_param(e.definition().proj4, "proj"),
                Some("aea" | "laea" | "cea")
            ),
            Crs::User(u) => matches!(u.projection, Some(Projection::AlbersEqualArea { .. })),
            _ => false,
        }
    }
}

impl EpsgCrs {
    /// The EPSG code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The table's definition.
    pub fn definition(&self) -> crs_definitions::Def {
        crs_definitions::from_code(self.code).expect("built from a code the table holds")
    }

    /// The name the table gives the CRS ("CGCS2000 / 3-degree Gauss-Kruger CM 120E").
    pub fn name(&self) -> &'static str {
        wkt_name(self.definition().wkt).unwrap_or("unnamed")
    }
}

impl UserCrs {
    /// The CRS as a PROJ string.
    pub fn proj_string(&self) -> String {
        let (method, params): (&str, Vec<(&str, f64)>) = match self.projection {
            None => ("longlat", vec![]),
            Some(Projection::TransverseMercator {
                lat0,
                lon0,
                k0,
                x0,
                y0,
            }) => (
                "tmerc",
                vec![
                    ("lat_0", lat0),
                    ("lon_0", lon0),
                    ("k_0", k0),
                    ("x_0", x0),
                    ("y_0", y0),
                ],
            ),
            Some(Projection::Mercator { lon0, k0, x0, y0 }) => (
                "merc",
                vec![("lon_0", lon0), ("k_0", k0), ("x_0", x0), ("y_0", y0)],
            ),
            Some(Projection::AlbersEqualArea {
                lat1,
                lat2,
                lat0,
                lon0,
                x0,
                y0,
            }) => (
                "aea",
                vec![
                    ("lat_1", lat1),
                    ("lat_2", lat2),
                    ("lat_0", lat0),
                    ("lon_0", lon0),
                    ("x_0", x0),
                    ("y_0", y0),
                ],
            ),
            Some(Projection::LambertConformalConic {
                lat1,
                lat2,
                lat0,
                lon0,
                k0,
                x0,
                y0,
            }) => (
                "lcc",
                vec![
                    ("lat_1", lat1),
                    ("lat_2", lat2),
                    ("lat_0", lat0),
                    ("lon_0", lon0),
                    ("k_0", k0),
                    ("x_0", x0),
                    ("y_0", y0),
                ],
            ),
        };
        let s: String = params.iter().map(|(k, v)| format!(" +{k}={v}")).collect();
        let unit = if self.projection.is_some() {
            if self.unit_m == 1.0 {
                " +units=m".to_string()
            } else {
                format!(" +to_meter={}", self.unit_m)
            }
        } else {
            String::new()
        };
        format!("+proj={method}{s}{}{unit} +no_defs", self.base.proj_datum())
    }
}

impl GeodeticBase {
    /// The ellipsoid.
    pub fn ellipsoid(&self) -> Result<Ellipsoid> {
        match self {
            GeodeticBase::Ellipsoid { ellipsoid, .. } => Ok(*ellipsoid),
            GeodeticBase::Epsg(code) => {
                let crs = Crs::epsg(u32::from(*code));
                match crs {
                    Crs::Epsg(e) if e.geographic => crs.datum_ellipsoid(),
                    _ => Err(Error::UnsupportedCrs {
                        crs: format!("EPSG:{code}"),
                        reason: "it is not a geographic CRS of the EPSG table".into(),
                    }),
                }
            }
        }
    }

    /// The datum part of a PROJ string: the EPSG geographic CRS's own (`+datum`, `+ellps`,
    /// `+towgs84`), or the ellipsoid's axes.
    fn proj_datum(&self) -> String {
        let from_table = match self {
            GeodeticBase::Epsg(code) => crs_definitions::from_code(*code).map(|d| d.proj4),
            GeodeticBase::Ellipsoid { .. } => None,
        };
        if let Some(proj) = from_table {
            let keep = [
                "datum", "ellps", "a", "b", "rf", "towgs84", "nadgrids", "pm",
            ];
            return proj
                .split_whitespace()
                .filter(|t| {
                    let key = t.trim_start_matches('+').split('=').next().unwrap_or("");
                    keep.contains(&key)
                })
                .map(|t| format!(" {t}"))
                .collect();
        }
        match self.ellipsoid() {
            Ok(e) if e.f == 0.0 => format!(" +a={} +b={}", e.a, e.a),
            Ok(e) => format!(" +a={} +rf={}", e.a, 1.0 / e.f),
            Err(_) => String::new(),
        }
    }
}

impl Unsupported {
    /// Why landwatch cannot use such a CRS.
    pub fn reason(&self) -> &'static str {
        match self {
            Unsupported::UnknownEpsg(_) => {
                "the EPSG table holds no geographic or projected CRS of that code"
            }
            Unsupported::Geocentric(_) => "geocentric coordinates are not a map grid",
            Unsupported::Engineering => {
                "an engineering (local) CRS has no known place on the Earth, so ground areas \
                 and longitude/latitude are unknown"
            }
            Unsupported::ProjectionMethod(_) => "landwatch does not read this projection method",
            Unsupported::Incomplete(_) => "its GeoKeys are incomplete",
        }
    }
}

impl std::fmt::Display for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Crs::Epsg(e) => write!(f, "EPSG:{} ({})", e.code, e.name()),
            Crs::User(u) => write!(f, "user-defined CRS ({})", u.proj_string()),
            Crs::Unsupported(Unsupported::UnknownEpsg(c)) => write!(f, "EPSG:{c}"),
            Crs::Unsupported(Unsupported::Geocentric(Some(c))) => {
                write!(f, "EPSG:{c} (geocentric)")
            }
            Crs::Unsupported(Unsupported::Geocentric(None)) => write!(f, "a geocentric CRS"),
            Crs::Unsupported(Unsupported::Engineering) => write!(f, "an engineering (local) CRS"),
            Crs::Unsupported(Unsupported::ProjectionMethod(m)) => {
                write!(f, "a user-defined CRS with projection method {m}")
            }
            Crs::Unsupported(Unsupported::Incomplete(what)) => {
                write!(f, "a user-defined CRS without {what}")
            }
        }
    }
}

/// The value of `+key=value` in a PROJ string.
pub(crate) fn proj_param<'a>(proj: &'a str, key: &str) -> Option<&'a str> {
    proj.split_whitespace().find_map(|t| {
        let (k, v) = t.trim_start_matches('+').split_once('=')?;
        (k == key).then_some(v)
    })
}

/// The first quoted name of a WKT definition.
fn wkt_name(wkt: &str) -> Option<&str> {
    let start = wkt.find('"')? + 1;
    let len = wkt[start..].find('"')?;
    Some(&wkt[start..start + len])
}

/// The ellipsoid of a WKT 1 (`SPHEROID["name",a,rf]`) or WKT 2 (`ELLIPSOID[…]`) definition:
/// the first one, that of the base geographic CRS.
fn wkt_ellipsoid(wkt: &str) -> Option<Ellipsoid> {
    let at = ["SPHEROID[", "ELLIPSOID["]
        .iter()
        .filter_map(|k| wkt.find(k).map(|i| i + k.len()))
        .min()?;
    let rest = &wkt[at..];
    let after_name = rest.find("\",")? + 2;
    let mut numbers = rest[after_name..].split([',', ']']);
    let a: f64 = numbers.next()?.trim().parse().ok()?;
    let rf: f64 = numbers.next()?.trim().parse().ok()?;
    let f = if rf == 0.0 { 0.0 } else { 1.0 / rf };
    (a > 0.0).then_some(Ellipsoid { a, f })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_table_not_the_number() {
        // 4549 is projected (CGCS2000 / 3-degree Gauss-Kruger CM 120E), 4490 geographic.
        assert!(!Crs::epsg(4549).is_geographic());
        assert!(Crs::epsg(4490).is_geographic());
        assert!(Crs::epsg(4326).is_geographic());
        assert!(!Crs::epsg(3857).is_geographic());
        assert!(!Crs::epsg(32651).is_geographic());
        assert_eq!(
            Crs::epsg(4978),
            Crs::Unsupported(Unsupported::Geocentric(Some(4978)))
        );
        assert_eq!(
            Crs::epsg(99_999),
            Crs::Unsupported(Unsupported::UnknownEpsg(99_999))
        );
        assert!(Crs::epsg(99_999).check_usable().is_err());
        assert_eq!(
            Crs::epsg(4549).to_string(),
            "EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E)"
        );
    }

    #[test]
    fn datum_ellipsoids_are_read_from_the_definition() {
        let wgs84 = Crs::epsg(3857).datum_ellipsoid().unwrap();
        assert_eq!(wgs84.a, 6_378_137.0);
        assert!((1.0 / wgs84.f - 298.257_223_563).abs() < 1e-9);
        let cgcs = Crs::epsg(4549).datum_ellipsoid().unwrap();
        assert!((1.0 / cgcs.f - 298.257_222_101).abs() < 1e-9);
        let krass = Crs::epsg(4214).datum_ellipsoid().unwrap();
        assert_eq!(krass.a, 6_378_245.0);
        assert!(Crs::epsg(6933).is_equal_area());
        assert!(!Crs::epsg(32651).is_equal_area());
    }

    #[test]
    fn user_defined_crs_give_proj_strings() {
        let albers = UserCrs {
            base: GeodeticBase::Ellipsoid {
                ellipsoid: Ellipsoid {
                    a: 6_378_245.0,
                    f: 1.0 / 298.3,
                },
                epsg: Some(7024),
            },
            projection: Some(Projection::AlbersEqualArea {
                lat1: 25.0,
                lat2: 47.0,
                lat0: 0.0,
                lon0: 105.0,
                x0: 0.0,
                y0: 0.0,
            }),
            unit_m: 1.0,
        };
        assert_eq!(
            albers.proj_string(),
            "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +a=6378245 \
             +rf=298.3 +units=m +no_defs"
        );
        let gk = UserCrs {
            base: GeodeticBase::Epsg(4490),
            projection: Some(Projection::TransverseMercator {
                lat0: 0.0,
                lon0: 120.0,
                k0: 1.0,
                x0: 500_000.0,
                y0: 0.0,
            }),
            unit_m: 1.0,
        };
        assert_eq!(
            gk.proj_string(),
            "+proj=tmerc +lat_0=0 +lon_0=120 +k_0=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m \
             +no_defs"
        );
        assert!(Crs::User(albers).is_equal_area());
    }
}
