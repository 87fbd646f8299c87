//! The CRS in GeoTIFF GeoKeys, read and written: EPSG codes with the model type the EPSG
//! table gives, user-defined geographic and projected CRSs (Transverse Mercator, Mercator,
//! Albers, Lambert conformal conic) with their ellipsoid, and geocentric or engineering CRSs
//! recognised so that a refusal can name them. The layout written follows GDAL's, so that
//! GDAL reads back the same CRS (`tests/crs_matrix.rs`).

use crate::geo::{Crs, Ellipsoid, GeodeticBase, Projection, Unsupported, UserCrs};
use std::collections::BTreeMap;

const MODEL_TYPE: u16 = 1024;
const RASTER_TYPE: u16 = 1025;
const CITATION: u16 = 1026;
const GEOGRAPHIC_TYPE: u16 = 2048;
const GEOG_CITATION: u16 = 2049;
const GEOG_DATUM: u16 = 2050;
const GEOG_ANGULAR_UNITS: u16 = 2054;
const GEOG_ELLIPSOID: u16 = 2056;
const SEMI_MAJOR: u16 = 2057;
const SEMI_MINOR: u16 = 2058;
const INV_FLATTENING: u16 = 2059;
const PRIME_MERIDIAN_LONG: u16 = 2061;
const PROJECTED_TYPE: u16 = 3072;
const PROJECTION: u16 = 3074;
const COORD_TRANS: u16 = 3075;
const LINEAR_UNITS: u16 = 3076;
const LINEAR_UNIT_SIZE: u16 = 3077;
const STD_PARALLEL_1: u16 = 3078;
const STD_PARALLEL_2: u16 = 3079;
const NAT_ORIGIN_LONG: u16 = 3080;
const NAT_ORIGIN_LAT: u16 = 3081;
const FALSE_EASTING: u16 = 3082;
const FALSE_NORTHING: u16 = 3083;
const FALSE_ORIGIN_LONG: u16 = 3084;
const FALSE_ORIGIN_LAT: u16 = 3085;
const FALSE_ORIGIN_EASTING: u16 = 3086;
const FALSE_ORIGIN_NORTHING: u16 = 3087;
const CENTER_LONG: u16 = 3088;
const CENTER_LAT: u16 = 3089;
const SCALE_AT_NAT_ORIGIN: u16 = 3092;

const MODEL_PROJECTED: u16 = 1;
const MODEL_GEOGRAPHIC: u16 = 2;
const MODEL_GEOCENTRIC: u16 = 3;
const PIXEL_IS_AREA: u16 = 1;
const USER_DEFINED: u16 = 32767;
const DEGREE: u16 = 9102;
const RADIAN: u16 = 9101;
const METRE: u16 = 9001;

const CT_TRANSVERSE_MERCATOR: u16 = 1;
const CT_MERCATOR: u16 = 7;
const CT_LAMBERT_CONFORMAL_2SP: u16 = 8;
const CT_LAMBERT_CONFORMAL_1SP: u16 = 9;
const CT_ALBERS: u16 = 11;

/// The tag that holds GeoKey doubles.
pub(crate) const TAG_GEO_DOUBLE_PARAMS: u16 = 34736;
/// The tag that holds GeoKey text.
pub(crate) const TAG_GEO_ASCII_PARAMS: u16 = 34737;

/// The values of a GeoKeyDirectory by key id: shorts stored in the directory, doubles in
/// GeoDoubleParams and text in GeoAsciiParams.
#[derive(Debug, Default)]
pub(crate) struct KeyValues {
    shorts: BTreeMap<u16, u16>,
    doubles: BTreeMap<u16, Vec<f64>>,
    texts: BTreeMap<u16, String>,
}

impl KeyValues {
    /// Reads a directory with its double and ASCII parameters. Entries that point outside
    /// their tag are skipped: malformed files yield what can be read, never a panic.
    pub(crate) fn parse(dir: &[u16], doubles: &[f64], ascii: &str) -> KeyValues {
        let mut keys = KeyValues::default();
        let Some(count) = dir.get(3) else {
            return keys;
        };
        for entry in dir[4..].chunks_exact(4).take(usize::from(*count)) {
            let (id, location, n, value) = (entry[0], entry[1], entry[2], entry[3]);
            let (n, at) = (usize::from(n), usize::from(value));
            match location {
                0 => {
                    keys.shorts.insert(id, value);
                }
                TAG_GEO_DOUBLE_PARAMS => {
                    if let Some(v) = doubles.get(at..at + n) {
                        keys.doubles.insert(id, v.to_vec());
                    }
                }
                TAG_GEO_ASCII_PARAMS => {
                    if let Some(t) = ascii.get(at..at + n) {
                        keys.texts
                            .insert(id, t.trim_end_matches(['|', '\0']).to_string());
                    }
                }
                _ => {}
            }
        }
        keys
    }

    /// A short key.
    pub(crate) fn short(&self, id: u16) -> Option<u16> {
        self.shorts.get(&id).copied()
    }

    /// A double key (its first value).
    fn double(&self, id: u16) -> Option<f64> {
        self.doubles
            .get(&id)
            .and_then(|v| v.first())
            .copied()
            .filter(|v| v.is_finite())
    }

    /// The CRS the keys describe, or `None` when they describe none.
    pub(crate) fn crs(&self) -> Option<Crs> {
        let code = |id: u16| {
            self.short(id)
                .filter(|&c| c != 0 && c != USER_DEFINED)
                .map(u32::from)
        };
        let model = self.short(MODEL_TYPE);
        let epsg = match model {
            Some(MODEL_GEOGRAPHIC) => code(GEOGRAPHIC_TYPE).or(code(PROJECTED_TYPE)),
            _ => code(PROJECTED_TYPE).or(code(GEOGRAPHIC_TYPE).filter(|_| model.is_none())),
        };
        if let Some(code) = epsg {
            return Some(Crs::epsg(code));
        }
        match model {
            Some(MODEL_PROJECTED) => Some(self.user_projected()),
            Some(MODEL_GEOGRAPHIC) => Some(match self.geodetic_base() {
                Ok(base) => Crs::User(UserCrs {
                    base,
                    projection: None,
                    unit_m: 1.0,
                }),
                Err(why) => Crs::Unsupported(why),
            }),
            Some(MODEL_GEOCENTRIC) => Some(Crs::Unsupported(Unsupported::Geocentric(None))),
            Some(_) => Some(Crs::Unsupported(Unsupported::Engineering)),
            // Keys without a model type (GDAL writes a LOCAL_CS so: a citation and units)
            // describe coordinates with no place on the Earth.
            None if self.any_key_but(RASTER_TYPE) => {
                Some(Crs::Unsupported(Unsupported::Engineering))
            }
            None => None,
        }
    }

    /// Whether the directory holds any key other than `id`.
    fn any_key_but(&self, id: u16) -> bool {
        (self.shorts.keys())
            .chain(self.doubles.keys())
            .chain(self.texts.keys())
            .any(|&k| k != id)
    }

    /// A user-defined projected CRS from its method, parameters, units and geodetic base.
    fn user_projected(&self) -> Crs {
        let built = || -> Result<UserCrs, Unsupported> {
            let base = self.geodetic_base()?;
            let unit_m = match self.short(LINEAR_UNITS) {
                None | Some(METRE) => 1.0,
                Some(9002) => 0.3048,
                Some(9003) => 1200.0 / 3937.0,
                Some(9036) => 1000.0,
                Some(USER_DEFINED) => self
                    .double(LINEAR_UNIT_SIZE)
                    .filter(|&s| s > 0.0)
                    .ok_or(Unsupported::Incomplete("the size of its linear unit"))?,
                Some(_) => return Err(Unsupported::Incomplete("a linear unit landwatch knows")),
            };
            let angle = match self.short(GEOG_ANGULAR_UNITS) {
                None | Some(DEGREE) => 1.0,
                Some(RADIAN) => 180.0 / std::f64::consts::PI,
                Some(_) => return Err(Unsupported::Incomplete("an angular unit landwatch knows")),
            };
            let deg = |ids: &[u16]| {
                ids.iter()
                    .find_map(|&id| self.double(id))
                    .map(|v| v * angle)
            };
            let metres = |ids: &[u16]| {
                ids.iter()
                    .find_map(|&id| self.double(id))
                    .map_or(0.0, |v| v * unit_m)
            };
            let method = self
                .short(COORD_TRANS)
                .ok_or(Unsupported::Incomplete("a projection method"))?;
            let lat0 = deg(&[NAT_ORIGIN_LAT, FALSE_ORIGIN_LAT, CENTER_LAT]).unwrap_or(0.0);
            let lon0 = deg(&[NAT_ORIGIN_LONG, FALSE_ORIGIN_LONG, CENTER_LONG]).unwrap_or(0.0);
            let x0 = metres(&[FALSE_EASTING, FALSE_ORIGIN_EASTING]);
            let y0 = metres(&[FALSE_NORTHING, FALSE_ORIGIN_NORTHING]);
            let k0 = self.double(SCALE_AT_NAT_ORIGIN).unwrap_or(1.0);
            let parallel =
                |id: u16| deg(&[id]).ok_or(Unsupported::Incomplete("a standard parallel"));
            let projection = match method {
                CT_TRANSVERSE_MERCATOR => Projection::TransverseMercator {
                    lat0,
                    lon0,
                    k0,
                    x0,
                    y0,
                },
                CT_MERCATOR => {
                    // 2SP: the scale at the equator that puts true scale on the parallel.
                    let k0 = match deg(&[STD_PARALLEL_1]) {
                        Some(lat) => {
                            let e2 = base
                                .ellipsoid()
                                .map_err(|_| Unsupported::Incomplete("an ellipsoid"))?
                                .e2();
                            let (s, c) = lat.to_radians().sin_cos();
                            c / (1.0 - e2 * s * s).sqrt()
                        }
                        None => k0,
                    };
                    Projection::Mercator { lon0, k0, x0, y0 }
                }
                CT_ALBERS => Projection::AlbersEqualArea {
                    lat1: parallel(STD_PARALLEL_1)?,
                    lat2: parallel(STD_PARALLEL_2)?,
                    lat0,
                    lon0,
                    x0,
                    y0,
                },
                CT_LAMBERT_CONFORMAL_2SP => Projection::LambertConformalConic {
                    lat1: parallel(STD_PARALLEL_1)?,
                    lat2: parallel(STD_PARALLEL_2)?,
                    lat0,
                    lon0,
                    k0: 1.0,
                    x0,
                    y0,
                },
                CT_LAMBERT_CONFORMAL_1SP => Projection::LambertConformalConic {
                    lat1: lat0,
                    lat2: lat0,
                    lat0,
                    lon0,
                    k0,
                    x0,
                    y0,
                },
                other => return Err(Unsupported::ProjectionMethod(other)),
            };
            Ok(UserCrs {
                base,
                projection: Some(projection),
                unit_m,
            })
        };
        built().map_or_else(Crs::Unsupported, Crs::User)
    }

    /// The geodetic base: an EPSG geographic CRS, or an ellipsoid by code or by axes.
    fn geodetic_base(&self) -> Result<GeodeticBase, Unsupported> {
        if let Some(code) = self
            .short(GEOGRAPHIC_TYPE)
            .filter(|&c| c != 0 && c != USER_DEFINED)
        {
            return match Crs::epsg(u32::from(code)) {
                Crs::Epsg(e) if e.code() == code => Ok(GeodeticBase::Epsg(code)),
                _ => Err(Unsupported::Incomplete(
                    "a geographic CRS of the EPSG table",
                )),
            };
        }
        let code = self
            .short(GEOG_ELLIPSOID)
            .filter(|&c| c != 0 && c != USER_DEFINED);
        let a = self.double(SEMI_MAJOR);
        let f = match (self.double(INV_FLATTENING), self.double(SEMI_MINOR)) {
            (Some(rf), _) if rf != 0.0 => Some(1.0 / rf),
            (Some(_), _) => Some(0.0),
            (None, Some(b)) => a.map(|a| (a - b) / a),
            (None, None) => None,
        };
        let ellipsoid = match (a, f) {
            (Some(a), Some(f)) if a > 0.0 => Ellipsoid { a, f },
            _ => code
                .and_then(ellipsoid_of_code)
                .ok_or(Unsupported::Incomplete("an ellipsoid"))?,
        };
        Ok(GeodeticBase::Ellipsoid {
            ellipsoid,
            epsg: code,
        })
    }
}

/// The ellipsoids of the EPSG codes Chinese and global grids use.
fn ellipsoid_of_code(code: u16) -> Option<Ellipsoid> {
    let (a, rf) = match code {
        7030 => (6_378_137.0, 298.257_223_563),
        7019 | 1024 => (6_378_137.0, 298.257_222_101),
        7024 => (6_378_245.0, 298.3),
        7049 => (6_378_140.0, 298.257),
        7022 => (6_378_388.0, 297.0),
        7004 => (6_377_397.155, 299.152_812_8),
        _ => return None,
    };
    Some(Ellipsoid { a, f: 1.0 / rf })
}

/// The name PROJ gives an ellipsoid of these axes (as in `+ellps=krass`), which GDAL writes
/// into citations.
fn proj_ellipsoid_name(e: &Ellipsoid) -> Option<&'static str> {
    let rf = if e.f == 0.0 { 0.0 } else { 1.0 / e.f };
    let known = [
        (6_378_245.0, 298.3, "Krassovsky, 1942"),
        (6_378_137.0, 298.257_222_101, "GRS 1980(IUGG, 1980)"),
        (6_378_137.0, 298.257_223_563, "WGS 84"),
        (6_378_140.0, 298.257, "IAU 1976"),
        (
            6_378_388.0,
            297.0,
            "International 1924 (Hayford 1909, 1910)",
        ),
        (6_377_397.155, 299.152_812_8, "Bessel 1841"),
    ];
    known
        .iter()
        .find(|(a, f, _)| (e.a - a).abs() < 1e-3 && (rf - f).abs() < 1e-6)
        .map(|k| k.2)
}

/// GeoKeys ready to write: the directory and its double and ASCII parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EncodedKeys {
    /// GeoKeyDirectory shorts.
    pub directory: Vec<u16>,
    /// GeoDoubleParams (empty: no tag).
    pub doubles: Vec<f64>,
    /// GeoAsciiParams (empty: no tag).
    pub ascii: String,
}

/// The GeoKeys of `crs` (none for an unusable CRS), with RasterPixelIsArea.
pub(crate) fn encode(crs: Option<&Crs>) -> EncodedKeys {
    let mut keys = Encoder::default();
    keys.short(RASTER_TYPE, PIXEL_IS_AREA);
    match crs {
        Some(Crs::Epsg(e)) => {
            if let Crs::Epsg(_) = Crs::epsg(u32::from(e.code())) {
                let geographic = Crs::Epsg(*e).is_geographic();
                keys.text(CITATION, e.name());
                if geographic {
                    keys.short(MODEL_TYPE, MODEL_GEOGRAPHIC);
                    keys.short(GEOGRAPHIC_TYPE, e.code());
                    keys.short(GEOG_ANGULAR_UNITS, DEGREE);
                } else {
                    keys.short(MODEL_TYPE, MODEL_PROJECTED);
                    keys.short(PROJECTED_TYPE, e.code());
                    keys.short(LINEAR_UNITS, METRE);
                }
            }
        }
        Some(Crs::User(u)) => keys.user(u),
        Some(Crs::Unsupported(_)) | None => {}
    }
    keys.finish()
}

/// Collects keys and lays them out as GDAL does: sorted by id, doubles and text appended in
/// that order.
#[derive(Default)]
struct Encoder {
    entries: BTreeMap<u16, KeyValue>,
}

enum KeyValue {
    Short(u16),
    Doubles(Vec<f64>),
    Text(String),
}

impl Encoder {
    fn short(&mut self, id: u16, v: u16) {
        self.entries.insert(id, KeyValue::Short(v));
    }

    fn double(&mut self, id: u16, v: f64) {
        self.entries.insert(id, KeyValue::Doubles(vec![v]));
    }

    fn text(&mut self, id: u16, t: &str) {
        self.raw_text(id, &t.replace('|', "/"));
    }

    /// The natural origin and the false easting and northing (in the linear unit).
    fn natural_origin(&mut self, lat0: f64, lon0: f64, x0: f64, y0: f64) {
        self.double(NAT_ORIGIN_LAT, lat0);
        self.double(NAT_ORIGIN_LONG, lon0);
        self.double(FALSE_EASTING, x0);
        self.double(FALSE_NORTHING, y0);
    }

    /// Text whose `|` separate the fields of a structured citation.
    fn raw_text(&mut self, id: u16, t: &str) {
        self.entries.insert(id, KeyValue::Text(t.to_string()));
    }

    /// A user-defined CRS with all its parameters.
    fn user(&mut self, u: &UserCrs) {
        let projected = u.projection.is_some();
        self.short(
            MODEL_TYPE,
            if projected {
                MODEL_PROJECTED
            } else {
                MODEL_GEOGRAPHIC
            },
        );
        self.text(CITATION, "unknown");
        self.short(GEOG_ANGULAR_UNITS, DEGREE);
        self.geodetic_base(&u.base);
        if let Some(projection) = u.projection {
            self.projected(&projection, u.unit_m);
        }
    }

    /// The geographic CRS a user-defined CRS is based on: an EPSG code, or an ellipsoid.
    fn geodetic_base(&mut self, base: &GeodeticBase) {
        match *base {
            GeodeticBase::Epsg(code) => self.short(GEOGRAPHIC_TYPE, code),
            GeodeticBase::Ellipsoid { ellipsoid, epsg } => {
                self.short(GEOGRAPHIC_TYPE, USER_DEFINED);
                // GDAL's structured citation, with the names PROJ gives a datum known only
                // by its ellipsoid, so that GDAL reads back the CRS it wrote.
                let name = proj_ellipsoid_name(&ellipsoid).unwrap_or("unnamed");
                self.raw_text(
                    GEOG_CITATION,
                    &format!(
                        "GCS Name = unknown|Datum = Unknown based on {name} ellipsoid|\
                         Ellipsoid = {name}|Primem = Greenwich|"
                    ),
                );
                self.short(GEOG_DATUM, USER_DEFINED);
                self.short(GEOG_ELLIPSOID, epsg.unwrap_or(USER_DEFINED));
                self.double(SEMI_MAJOR, ellipsoid.a);
                if ellipsoid.f == 0.0 {
                    self.double(SEMI_MINOR, ellipsoid.a);
                } else {
                    self.double(INV_FLATTENING, 1.0 / ellipsoid.f);
                }
                self.double(PRIME_MERIDIAN_LONG, 0.0);
            }
        }
    }

    /// A user-defined projected CRS: its linear unit of `unit_m` metres and the projection
    /// with its parameters.
    fn projected(&mut self, projection: &Projection, unit_m: f64) {
        self.short(PROJECTED_TYPE, USER_DEFINED);
        self.short(PROJECTION, USER_DEFINED);
        if unit_m == 1.0 {
            self.short(LINEAR_UNITS, METRE);
        } else {
            self.short(LINEAR_UNITS, USER_DEFINED);
            self.double(LINEAR_UNIT_SIZE, unit_m);
        }
        // False origins are written in the linear unit, as they are read.
        let unit = |v: f64| v / unit_m;
        match *projection {
            Projection::TransverseMercator {
                lat0,
                lon0,
                k0,
                x0,
                y0,
            } => {
                self.short(COORD_TRANS, CT_TRANSVERSE_MERCATOR);
                self.natural_origin(lat0, lon0, unit(x0), unit(y0));
                self.double(SCALE_AT_NAT_ORIGIN, k0);
            }
            Projection::Mercator { lon0, k0, x0, y0 } => {
                self.short(COORD_TRANS, CT_MERCATOR);
                self.natural_origin(0.0, lon0, unit(x0), unit(y0));
                self.double(SCALE_AT_NAT_ORIGIN, k0);
            }
            Projection::AlbersEqualArea {
                lat1,
                lat2,
                lat0,
                lon0,
                x0,
                y0,
            } => {
                self.short(COORD_TRANS, CT_ALBERS);
                self.double(STD_PARALLEL_1, lat1);
                self.double(STD_PARALLEL_2, lat2);
                self.natural_origin(lat0, lon0, unit(x0), unit(y0));
            }
            Projection::LambertConformalConic {
                lat1,
                lat2,
                lat0,
                lon0,
                k0,
                x0,
                y0,
            } if lat1 == lat2 && lat1 == lat0 => {
                self.short(COORD_TRANS, CT_LAMBERT_CONFORMAL_1SP);
                self.natural_origin(lat0, lon0, unit(x0), unit(y0));
                self.double(SCALE_AT_NAT_ORIGIN, k0);
            }
            Projection::LambertConformalConic {
                lat1,
                lat2,
                lat0,
                lon0,
                x0,
                y0,
                ..
            } => {
                self.short(COORD_TRANS, CT_LAMBERT_CONFORMAL_2SP);
                self.double(STD_PARALLEL_1, lat1);
                self.double(STD_PARALLEL_2, lat2);
                self.double(FALSE_ORIGIN_LAT, lat0);
                self.double(FALSE_ORIGIN_LONG, lon0);
                self.double(FALSE_ORIGIN_EASTING, unit(x0));
                self.double(FALSE_ORIGIN_NORTHING, unit(y0));
            }
        }
    }

    fn finish(self) -> EncodedKeys {
        let mut out = EncodedKeys {
            directory: vec![1, 1, 0, self.entries.len() as u16],
            doubles: Vec::new(),
            ascii: String::new(),
        };
        for (id, value) in self.entries {
            let entry = match value {
                KeyValue::Short(v) => [id, 0, 1, v],
                KeyValue::Doubles(v) => {
                    let at = out.doubles.len() as u16;
                    out.doubles.extend(&v);
                    [id, TAG_GEO_DOUBLE_PARAMS, v.len() as u16, at]
                }
                KeyValue::Text(t) => {
                    let at = out.ascii.len() as u16;
                    out.ascii.push_str(&t);
                    out.ascii.push('|');
                    [id, TAG_GEO_ASCII_PARAMS, t.len() as u16 + 1, at]
                }
            };
            out.directory.extend(entry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(crs: Crs) -> Option<Crs> {
        let keys = encode(Some(&crs));
        KeyValues::parse(&keys.directory, &keys.doubles, &keys.ascii).crs()
    }

    #[test]
    fn every_kind_round_trips() {
        let krassowsky = Ellipsoid {
            a: 6_378_245.0,
            f: 1.0 / 298.3,
        };
        let user = |base, projection, unit_m| {
            Crs::User(UserCrs {
                base,
                projection,
                unit_m,
            })
        };
        let krass = GeodeticBase::Ellipsoid {
            ellipsoid: krassowsky,
            epsg: Some(7024),
        };
        let cases = [
            Crs::epsg(4549),
            Crs::epsg(4490),
            Crs::epsg(3857),
            Crs::epsg(32651),
            user(
                krass,
                Some(Projection::AlbersEqualArea {
                    lat1: 25.0,
                    lat2: 47.0,
                    lat0: 0.0,
                    lon0: 105.0,
                    x0: 0.0,
                    y0: 0.0,
                }),
                1.0,
            ),
            user(
                GeodeticBase::Epsg(4214),
                Some(Projection::TransverseMercator {
                    lat0: 0.0,
                    lon0: 120.0,
                    k0: 1.0,
                    x0: 40_500_000.0,
                    y0: 0.0,
                }),
                1.0,
            ),
            user(
                krass,
                Some(Projection::LambertConformalConic {
                    lat1: 25.0,
                    lat2: 47.0,
                    lat0: 10.0,
                    lon0: 110.0,
                    k0: 1.0,
                    x0: 0.0,
                    y0: 0.0,
                }),
                0.3048,
            ),
            user(
                krass,
                Some(Projection::LambertConformalConic {
                    lat1: 30.0,
                    lat2: 30.0,
                    lat0: 30.0,
                    lon0: 110.0,
                    k0: 0.999,
                    x0: 0.0,
                    y0: 0.0,
                }),
                1.0,
            ),
            user(
                krass,
                Some(Projection::Mercator {
                    lon0: 110.0,
                    k0: 0.99,
                    x0: 0.0,
                    y0: 0.0,
                }),
                1.0,
            ),
            user(krass, None, 1.0),
        ];
        for crs in cases {
            assert_eq!(round_trip(crs), Some(crs), "{crs}");
        }
        assert_eq!(
            encode(None),
            encode(Some(&Crs::Unsupported(Unsupported::Engineering)))
        );
    }

    /// GDAL's keys for `gdalwarp -t_srs '+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105
    /// +x_0=0 +y_0=0 +ellps=krass'` (tests/data/crs/GEOKEYS.md), parameters out of key order.
    #[test]
    fn gdal_albers_on_krassowsky_is_read() {
        let dir = [
            1, 1, 0, 21, 1024, 0, 1, 1, 1025, 0, 1, 1, 1026, 34737, 8, 0, 2048, 0, 1, 32767, 2049,
            34737, 120, 8, 2050, 0, 1, 32767, 2054, 0, 1, 9102, 2056, 0, 1, 32767, 2057, 34736, 1,
            6, 2059, 34736, 1, 7, 2061, 34736, 1, 8, 3072, 0, 1, 32767, 3074, 0, 1, 32767, 3075, 0,
            1, 11, 3076, 0, 1, 9001, 3078, 34736, 1, 0, 3079, 34736, 1, 1, 3080, 34736, 1, 3, 3081,
            34736, 1, 2, 3082, 34736, 1, 4, 3083, 34736, 1, 5,
        ];
        let doubles = [25.0, 47.0, 0.0, 105.0, 0.0, 0.0, 6378245.0, 298.3, 0.0];
        let ascii = "unknown|GCS Name = unknown|Datum = Unknown based on Krassovsky, 1942 \
                     ellipsoid|Ellipsoid = Krassovsky, 1942|Primem = Greenwich||";
        let crs = KeyValues::parse(&dir, &doubles, ascii).crs().unwrap();
        let Crs::User(u) = crs else { panic!("{crs}") };
        assert_eq!(
            u.projection,
            Some(Projection::AlbersEqualArea {
                lat1: 25.0,
                lat2: 47.0,
                lat0: 0.0,
                lon0: 105.0,
                x0: 0.0,
                y0: 0.0
            })
        );
        assert_eq!(u.base.ellipsoid().unwrap().a, 6_378_245.0);
    }

    #[test]
    fn keys_without_an_earth_are_engineering_or_geocentric() {
        // GDAL's LOCAL_CS["arbitrary"]: raster type, citation and metres, no model type.
        let dir = [
            1, 1, 0, 3, 1025, 0, 1, 1, 1026, 34737, 10, 0, 3076, 0, 1, 9001,
        ];
        let crs = KeyValues::parse(&dir, &[], "arbitrary|").crs();
        assert_eq!(crs, Some(Crs::Unsupported(Unsupported::Engineering)));
        let geocentric = [1, 1, 0, 1, 1024, 0, 1, 3];
        assert_eq!(
            KeyValues::parse(&geocentric, &[], "").crs(),
            Some(Crs::Unsupported(Unsupported::Geocentric(None)))
        );
        // Only a raster type: no CRS at all.
        assert_eq!(
            KeyValues::parse(&[1, 1, 0, 1, 1025, 0, 1, 1], &[], "").crs(),
            None
        );
        // An unknown projection method is named.
        let dir = [
            1, 1, 0, 4, 1024, 0, 1, 1, 2048, 0, 1, 4326, 3072, 0, 1, 32767, 3075, 0, 1, 25,
        ];
        assert_eq!(
            KeyValues::parse(&dir, &[], "").crs(),
            Some(Crs::Unsupported(Unsupported::ProjectionMethod(25)))
        );
    }
}
