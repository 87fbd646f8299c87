//! CRSs as WKT: the definition written into a Shapefile's `.prj` and a GeoPackage's
//! `gpkg_spatial_ref_sys`, and the CRS read back from either.
//!
//! What is written is the OGC WKT 1 of the EPSG table (`crs-definitions`, PostGIS's
//! `spatial_ref_sys`) with its `AUTHORITY["EPSG",…]` nodes, not ESRI's dialect: GDAL (so
//! QGIS) reads it as the EPSG CRS, and ArcGIS reads its projection and parameters. A CRS that
//! is not in the EPSG table (a user-defined one from GeoTIFF keys) has no definition here,
//! and no `.prj` is written rather than a wrong one.

use crate::geo::Crs;

/// The WKT 1 of a CRS of the EPSG table; `None` for any other.
pub fn crs_wkt(crs: &Crs) -> Option<&'static str> {
    match crs {
        Crs::Epsg(e) => Some(e.definition().wkt),
        _ => None,
    }
}

/// A WKT node: `NAME[args]`, an argument being a quoted text, a number or a node.
#[derive(Debug, Clone, PartialEq)]
enum Wkt {
    Node(String, Vec<Wkt>),
    Text(String),
    Number(f64),
}

impl Wkt {
    /// Parses WKT text (WKT 1, OGC or ESRI; brackets or parentheses).
    fn parse(text: &str) -> Option<Wkt> {
        let mut rest = text.trim();
        let node = Wkt::node(&mut rest)?;
        rest.trim().is_empty().then_some(node)
    }

    fn node(s: &mut &str) -> Option<Wkt> {
        *s = s.trim_start();
        let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
        let name = s[..end].to_ascii_uppercase();
        *s = s[end..].trim_start();
        let close = match s.chars().next()? {
            '[' => ']',
            '(' => ')',
            _ => return None,
        };
        *s = &s[1..];
        let mut args = Vec::new();
        loop {
            *s = s.trim_start();
            let c = s.chars().next()?;
            if c == close {
                *s = &s[1..];
                return Some(Wkt::Node(name, args));
            }
            if c == ',' {
                *s = &s[1..];
                continue;
            }
            args.push(Wkt::arg(s)?);
        }
    }

    fn arg(s: &mut &str) -> Option<Wkt> {
        if let Some(q) = s.strip_prefix('"') {
            let end = q.find('"')?;
            *s = &q[end + 1..];
            return Some(Wkt::Text(q[..end].to_string()));
        }
        let end = s.find([',', ']', ')', '[', '(']).unwrap_or(s.len());
        if s[end..].starts_with(['[', '(']) {
            return Wkt::node(s);
        }
        // A number, or a bare word (`EAST` in `AXIS["Easting",EAST]`).
        let word = s[..end].trim();
        let arg = word
            .parse::<f64>()
            .map_or_else(|_| Wkt::Text(word.to_string()), Wkt::Number);
        *s = &s[end..];
        Some(arg)
    }

    /// The children named `name`.
    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Wkt> + 'a {
        let args = match self {
            Wkt::Node(_, args) => args.as_slice(),
            _ => &[],
        };
        args.iter()
            .filter(move |a| matches!(a, Wkt::Node(n, _) if n == name))
    }

    fn child<'a>(&'a self, name: &'a str) -> Option<&'a Wkt> {
        self.children(name).next()
    }

    fn name(&self) -> &str {
        match self {
            Wkt::Node(n, _) => n,
            _ => "",
        }
    }

    /// The `i`th argument as text or as a number.
    fn text(&self, i: usize) -> Option<&str> {
        match self {
            Wkt::Node(_, args) => match args.get(i)? {
                Wkt::Text(t) => Some(t),
                _ => None,
            },
            _ => None,
        }
    }

    fn number(&self, i: usize) -> Option<f64> {
        match self {
            Wkt::Node(_, args) => match args.get(i)? {
                Wkt::Number(v) => Some(*v),
                Wkt::Text(t) => t.trim().parse().ok(),
                Wkt::Node(..) => None,
            },
            _ => None,
        }
    }

    /// The EPSG code of the node's own `AUTHORITY` (WKT 1) or `ID` (WKT 2).
    fn epsg(&self) -> Option<u32> {
        let a = self.child("AUTHORITY").or_else(|| self.child("ID"))?;
        a.text(0)
            .filter(|o| o.eq_ignore_ascii_case("EPSG"))
            .and(a.number(1))
            .map(|c| c as u32)
    }
}

/// What identifies a CRS among the EPSG table's: its geodetic datum and ellipsoid and, for a
/// projected CRS, the projection method, parameters and unit.
#[derive(Debug, Clone, PartialEq)]
struct Signature {
    datum: String,
    /// Semi-major axis and inverse flattening.
    ellipsoid: [f64; 2],
    /// `None` for a geographic CRS.
    projection: Option<Projected>,
}

/// A projection: its method, parameters by canonical name (sorted) and metres per unit.
#[derive(Debug, Clone, PartialEq)]
struct Projected {
    method: String,
    params: Vec<(&'static str, f64)>,
    unit: f64,
}

/// A name for comparison: lower case, letters and digits only, without ESRI's `D_` prefix.
fn normalized(name: &str) -> String {
    let name = name.strip_prefix("D_").unwrap_or(name);
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The projection method, with the ESRI and OGC names of one method made one.
fn method(name: &str) -> String {
    let n = normalized(name);
    match n.as_str() {
        "gausskruger" => "transversemercator".into(),
        "albers" | "albersconicequalarea" => "albers".into(),
        "lambertconformalconic1sp" | "lambertconformalconic2sp" => "lambertconformalconic".into(),
        "mercator1sp" | "mercator2sp" => "mercator".into(),
        _ => n,
    }
}

/// A projection parameter's canonical name (OGC and ESRI spellings of one parameter).
fn parameter(name: &str) -> Option<&'static str> {
    Some(match normalized(name).as_str() {
        "latitudeoforigin" | "latitudeofcenter" => "lat0",
        "centralmeridian" | "longitudeofcenter" | "longitudeoforigin" => "lon0",
        "scalefactor" => "k",
        "falseeasting" => "x0",
        "falsenorthing" => "y0",
        "standardparallel1" => "lat1",
        "standardparallel2" => "lat2",
        _ => return None,
    })
}

impl Signature {
    fn of(wkt: &Wkt) -> Option<Signature> {
        let geog = if wkt.name() == "GEOGCS" {
            wkt
        } else {
            wkt.child("GEOGCS")?
        };
        let datum = geog.child("DATUM")?;
        let spheroid = datum.child("SPHEROID")?;
        let projection = match wkt.name() {
            "GEOGCS" => None,
            "PROJCS" => {
                let mut params: Vec<(&'static str, f64)> = wkt
                    .children("PARAMETER")
                    .filter_map(|p| Some((parameter(p.text(0)?)?, p.number(1)?)))
                    .collect();
                params.sort_by(|a, b| a.0.cmp(b.0));
                let unit = wkt.child("UNIT").and_then(|u| u.number(1)).unwrap_or(1.0);
                Some(Projected {
                    method: method(wkt.child("PROJECTION")?.text(0)?),
                    params,
                    unit,
                })
            }
            _ => return None,
        };
        Some(Signature {
            datum: normalized(datum.text(0)?),
            ellipsoid: [spheroid.number(1)?, spheroid.number(2)?],
            projection,
        })
    }

    /// The same CRS but maybe for the datum's name: same ellipsoid, method, unit and
    /// parameters (a parameter one side lacks is 0, or 1 for the scale).
    fn same_but_datum(&self, other: &Signature) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        let value = |params: &[(&str, f64)], k: &str| {
            let default = if k == "k" { 1.0 } else { 0.0 };
            params.iter().find(|p| p.0 == k).map_or(default, |p| p.1)
        };
        close(self.ellipsoid[0], other.ellipsoid[0])
            && close(self.ellipsoid[1], other.ellipsoid[1])
            && match (&self.projection, &other.projection) {
                (None, None) => true,
                (Some(a), Some(b)) => {
                    a.method == b.method
                        && close(a.unit, b.unit)
                        && ["lat0", "lon0", "k", "x0", "y0", "lat1", "lat2"]
                            .iter()
                            .all(|k| close(value(&a.params, k), value(&b.params, k)))
                }
                _ => false,
            }
    }
}

/// The CRS a WKT 1 definition (a `.prj`, OGC or ESRI; a GeoPackage's definition) describes:
/// the EPSG code of its root `AUTHORITY` when it has one; else the CRS of the EPSG table with
/// the same ellipsoid, projection method, parameters and unit (and datum name, when several
/// have those). The error says why none is found.
pub fn crs_from_wkt(text: &str) -> std::result::Result<Crs, String> {
    let wkt = Wkt::parse(text).ok_or("its CRS definition is not WKT")?;
    if let Some(code) = wkt.epsg() {
        return Ok(Crs::epsg(code));
    }
    let what = wkt.text(0).unwrap_or("unnamed").to_string();
    let sig = Signature::of(&wkt)
        .ok_or_else(|| format!("its CRS '{what}' is neither geographic nor projected WKT 1"))?;
    // Geographic codes first (4326 before any other of the WGS 84 datum).
    let codes = (4000..5000).chain(1024..4000).chain(5000..=32767);
    let mut unnamed = Vec::new();
    let mut named = None;
    for code in codes {
        let Some(def) = crs_definitions::from_code(code) else {
            continue;
        };
        if def.wkt.starts_with("GEOGCS") != sig.projection.is_none() {
            continue;
        }
        let Some(s) = Wkt::parse(def.wkt).as_ref().and_then(Signature::of) else {
            continue;
        };
        if sig.same_but_datum(&s) {
            if s.datum == sig.datum {
                named = Some(code);
                break;
            }
            unnamed.push(code);
        }
    }
    match (named, unnamed.as_slice()) {
        (Some(c), _) | (None, &[c]) => Ok(Crs::epsg(u32::from(c))),
        (None, []) => Err(format!(
            "its CRS '{what}' matches no CRS of the EPSG table; give the layer an EPSG CRS"
        )),
        (None, _) => Err(format!(
            "its CRS '{what}' matches several CRSs of the EPSG table; give the layer an EPSG CRS"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.prj`s as GDAL 3.6 writes them (ESRI WKT, no EPSG code), and OGC WKT with one.
    #[test]
    fn esri_and_ogc_wkt_are_identified() {
        let utm = r#"PROJCS["WGS_1984_UTM_Zone_51N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",123.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        assert_eq!(crs_from_wkt(utm), Ok(Crs::epsg(32651)));
        let wgs84 = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert_eq!(crs_from_wkt(wgs84), Ok(Crs::epsg(4326)));
        let gk = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        assert_eq!(crs_from_wkt(gk), Ok(Crs::epsg(4549)));
        for code in [32651, 4326, 4490, 4549, 4527, 4499, 3857] {
            let crs = Crs::epsg(code);
            assert_eq!(crs_from_wkt(crs_wkt(&crs).unwrap()), Ok(crs), "EPSG:{code}");
        }
        assert!(crs_from_wkt("LOCAL_CS[\"grid\"]").is_err());
        assert!(crs_from_wkt("not wkt").is_err());
    }
}
