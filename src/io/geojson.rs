//! GeoJSON (RFC 7946) in and out: a FeatureCollection of polygon or multipolygon features
//! with a properties map. Rings are closed and oriented as the RFC asks (exterior
//! counter-clockwise, holes clockwise). Coordinates are written as given, to 8 decimal places
//! (RFC 7946 §11.2 advises limiting precision): RFC 7946 expects WGS 84 longitude/latitude,
//! which is the caller's to provide.

use crate::error::{Error, Result};
use crate::geo::Crs;
use crate::io::atomic::{io_err, write_atomically};
use serde_json::{Map, Value, json};
use std::path::Path;

/// A linear ring of `[x, y]` positions (closing it is optional).
pub type Ring = Vec<[f64; 2]>;

/// A polygon: one exterior ring and any number of holes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Polygon {
    /// The outer boundary.
    pub exterior: Ring,
    /// Holes inside it.
    pub holes: Vec<Ring>,
}

/// A feature: one polygon (Polygon), several (MultiPolygon) or none (null geometry).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Feature {
    /// The polygons of the geometry.
    pub polygons: Vec<Polygon>,
    /// Arbitrary JSON properties.
    pub properties: Map<String, Value>,
}

/// Twice the signed area (positive when counter-clockwise).
fn signed_area2(ring: &[[f64; 2]]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum()
}

/// A closed ring oriented counter-clockwise (`ccw`) or clockwise, checked.
fn oriented_ring(ring: &[[f64; 2]], ccw: bool, what: &str) -> Result<Vec<[f64; 2]>> {
    let invalid = |reason: &str| Error::InvalidParameter {
        name: what.into(),
        value: format!("{} positions", ring.len()),
        reason: reason.into(),
    };
    if ring.iter().flatten().any(|v| !v.is_finite()) {
        return Err(invalid("coordinates must be finite"));
    }
    let mut r = ring.to_vec();
    if r.first() != r.last() {
        r.push(r[0]);
    }
    if r.len() < 4 {
        return Err(invalid("a ring needs at least three distinct positions"));
    }
    if (signed_area2(&r) > 0.0) != ccw {
        r.reverse();
    }
    Ok(r)
}

/// A coordinate as written: rounded to [`COORDINATE_DECIMALS`] decimal places (values too
/// large for that to matter are kept). Dividing the rounded integer by the power of ten gives
/// the double nearest the decimal, so it prints with at most that many decimals.
fn coordinate(v: f64) -> f64 {
    let scale = 10f64.powi(COORDINATE_DECIMALS);
    let scaled = v * scale;
    if scaled.abs() < 1e15 {
        scaled.round() / scale
    } else {
        v
    }
}

/// Decimal places of written coordinates: about 1 mm in degrees.
pub const COORDINATE_DECIMALS: i32 = 8;

/// A closed ring oriented counter-clockwise (`ccw`) or clockwise, as JSON.
fn ring_json(ring: &[[f64; 2]], ccw: bool, what: &str) -> Result<Value> {
    Ok(Value::Array(
        oriented_ring(ring, ccw, what)?
            .iter()
            .map(|p| json!([coordinate(p[0]), coordinate(p[1])]))
            .collect(),
    ))
}

fn polygon_json(p: &Polygon, index: usize) -> Result<Value> {
    let mut rings = vec![ring_json(
        &p.exterior,
        true,
        &format!("polygon {index} exterior"),
    )?];
    for (h, hole) in p.holes.iter().enumerate() {
        rings.push(ring_json(
            hole,
            false,
            &format!("polygon {index} hole {h}"),
        )?);
    }
    Ok(Value::Array(rings))
}

/// One feature as a JSON value.
fn feature_json(f: &Feature) -> Result<Value> {
    let geometry = match f.polygons.as_slice() {
        [] => Value::Null,
        [p] => json!({"type": "Polygon", "coordinates": polygon_json(p, 0)?}),
        many => json!({
            "type": "MultiPolygon",
            "coordinates": many
                .iter()
                .enumerate()
                .map(|(i, p)| polygon_json(p, i))
                .collect::<Result<Vec<_>>>()?,
        }),
    };
    Ok(json!({
        "type": "Feature",
        "geometry": geometry,
        "properties": Value::Object(f.properties.clone()),
    }))
}

/// The FeatureCollection as a JSON value.
pub fn feature_collection(features: &[Feature]) -> Result<Value> {
    let features = features
        .iter()
        .map(feature_json)
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({"type": "FeatureCollection", "features": features}))
}

/// Writes the features as a GeoJSON FeatureCollection.
pub fn write_geojson(path: impl AsRef<Path>, features: &[Feature]) -> Result<()> {
    write_features(path, features.len(), |i| Ok(features[i].clone()))
}

/// Why a feature could not be serialized.
enum FeatureError {
    Json(serde_json::Error),
    Invalid(Error),
}

/// A feature whose properties keep their order: written as a JSON object with its keys in
/// the order given (a [`Feature`]'s map orders them alphabetically).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderedFeature {
    /// The polygons of the geometry.
    pub polygons: Vec<Polygon>,
    /// The properties, in the order they are written.
    pub properties: Vec<(String, Value)>,
}

/// Properties serialized as a JSON object in the order of the slice.
struct InOrder<'a>(&'a [(String, Value)]);

impl serde::Serialize for InOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Serializes one feature straight to JSON text (the same document as [`feature_json`],
/// without building a JSON tree: a layer of a million patches is written several times
/// faster).
fn write_feature(out: &mut Vec<u8>, f: &Feature) -> std::result::Result<(), FeatureError> {
    write_parts(out, &f.polygons, &f.properties)
}

/// Serializes a feature of `polygons` and `properties` (any JSON object) to JSON text.
fn write_parts(
    out: &mut Vec<u8>,
    polygons: &[Polygon],
    properties: &impl serde::Serialize,
) -> std::result::Result<(), FeatureError> {
    // Coordinates to 1e-8 (about 1 mm in degrees), as RFC 7946 §11.2 advises: a quarter
    // smaller, and faster to write and to read.
    let number = |out: &mut Vec<u8>, v: f64| {
        serde_json::to_writer(out, &coordinate(v)).map_err(FeatureError::Json)
    };
    let ring = |out: &mut Vec<u8>, ring: &[[f64; 2]], ccw: bool, what: String| {
        let r = oriented_ring(ring, ccw, &what).map_err(FeatureError::Invalid)?;
        out.push(b'[');
        for (k, p) in r.iter().enumerate() {
            out.extend_from_slice(if k == 0 { b"[" } else { b",[" });
            number(out, p[0])?;
            out.push(b',');
            number(out, p[1])?;
            out.push(b']');
        }
        out.push(b']');
        Ok(())
    };
    let polygon = |out: &mut Vec<u8>, p: &Polygon, index: usize| {
        out.push(b'[');
        ring(out, &p.exterior, true, format!("polygon {index} exterior"))?;
        for (h, hole) in p.holes.iter().enumerate() {
            out.push(b',');
            ring(out, hole, false, format!("polygon {index} hole {h}"))?;
        }
        out.push(b']');
        Ok(())
    };
    out.extend_from_slice(br#"{"type":"Feature","geometry":"#);
    match polygons {
        [] => out.extend_from_slice(b"null"),
        [p] => {
            out.extend_from_slice(br#"{"type":"Polygon","coordinates":"#);
            polygon(out, p, 0)?;
            out.push(b'}');
        }
        many => {
            out.extend_from_slice(br#"{"type":"MultiPolygon","coordinates":["#);
            for (i, p) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                polygon(out, p, i)?;
            }
            out.extend_from_slice(b"]}");
        }
    }
    out.extend_from_slice(br#","properties":"#);
    serde_json::to_writer(&mut *out, properties).map_err(FeatureError::Json)?;
    out.push(b'}');
    Ok(())
}

/// Features built and serialized per batch, in parallel; memory holds one batch.
const FEATURE_BATCH: usize = 4096;

/// Writes a FeatureCollection of `count` features, feature `i` made by `feature(i)`. The
/// features are built and serialized in parallel batches and written in order, so that a
/// layer of millions of patches never sits in memory whole.
pub fn write_features(
    path: impl AsRef<Path>,
    count: usize,
    feature: impl Fn(usize) -> Result<Feature> + Sync,
) -> Result<()> {
    write_collection(path.as_ref(), count, |out, i| {
        write_feature(out, &feature(i).map_err(FeatureError::Invalid)?)
    })
}

/// [`write_features`] for features whose properties keep their order (`id` first, say).
pub fn write_ordered_features(
    path: impl AsRef<Path>,
    count: usize,
    feature: impl Fn(usize) -> Result<OrderedFeature> + Sync,
) -> Result<()> {
    write_collection(path.as_ref(), count, |out, i| {
        let f = feature(i).map_err(FeatureError::Invalid)?;
        write_parts(out, &f.polygons, &InOrder(&f.properties))
    })
}

/// Writes a FeatureCollection of `count` features, feature `i` serialized by
/// `feature(out, i)`, in parallel batches written in order.
fn write_collection(
    path: &Path,
    count: usize,
    feature: impl Fn(&mut Vec<u8>, usize) -> std::result::Result<(), FeatureError> + Sync,
) -> Result<()> {
    use rayon::prelude::*;
    use std::io::Write;
    let json_err = |e: serde_json::Error| Error::Io {
        path: path.to_path_buf(),
        source: e.into(),
    };
    write_atomically(path, |w| {
        w.write_all(br#"{"type":"FeatureCollection","features":["#)
            .map_err(io_err(path))?;
        for start in (0..count).step_by(FEATURE_BATCH) {
            let end = (start + FEATURE_BATCH).min(count);
            let parts = (start..end)
                .into_par_iter()
                .map(|i| {
                    let mut bytes = if i == 0 { Vec::new() } else { vec![b','] };
                    feature(&mut bytes, i).map_err(|e| match e {
                        FeatureError::Json(e) => json_err(e),
                        FeatureError::Invalid(e) => e,
                    })?;
                    Ok(bytes)
                })
                .collect::<Result<Vec<Vec<u8>>>>()?;
            for part in parts {
                w.write_all(&part).map_err(io_err(path))?;
            }
        }
        w.write_all(b"]}\n").map_err(io_err(path))
    })
}

/// A FeatureCollection read from a file: its polygon features, and the CRS named by a legacy
/// `crs` member (as GDAL writes for projected data), if any.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureLayer {
    /// Polygon and multipolygon features, in file order; other geometries are skipped.
    pub features: Vec<Feature>,
    /// `crs.properties.name` as an EPSG CRS (`EPSG:32651`, `urn:ogc:def:crs:EPSG::32651`),
    /// or the grid's CRS once placed on a grid; `None` means RFC 7946 longitude/latitude.
    pub crs: Option<Crs>,
    /// What was left out and why: features that are not polygons, as "feature 3 (a
    /// Point)", and polygons or holes whose ring has fewer than three distinct positions.
    pub skipped: Vec<String>,
    /// What was read other than as written: rings that were not closed, closed here.
    pub repaired: Vec<String>,
}

/// Reads a GeoJSON FeatureCollection (or a single Feature) of polygons and multipolygons.
pub fn read_geojson(path: impl AsRef<Path>) -> Result<FeatureLayer> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    parse_geojson(&text).map_err(|reason| Error::InvalidParameter {
        name: "GeoJSON".into(),
        value: path.display().to_string(),
        reason,
    })
}

/// Parses GeoJSON text; the error says what is wrong, in words.
pub fn parse_geojson(text: &str) -> std::result::Result<FeatureLayer, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let crs = match root.get("crs") {
        None | Some(Value::Null) => None,
        Some(member) => named_crs(member)?,
    };
    let features: Vec<&Value> = match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => root
            .get("features")
            .and_then(Value::as_array)
            .ok_or("a FeatureCollection without a features array")?
            .iter()
            .collect(),
        Some("Feature") => vec![&root],
        Some(other) => return Err(format!("expected a FeatureCollection, found a {other}")),
        None => return Err("expected a FeatureCollection, found an object without a type".into()),
    };
    let mut layer = FeatureLayer {
        features: Vec::new(),
        crs,
        skipped: Vec::new(),
        repaired: Vec::new(),
    };
    for (i, f) in features.into_iter().enumerate() {
        let properties = f
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let geometry = f.get("geometry").unwrap_or(&Value::Null);
        let coordinates = geometry.get("coordinates");
        let kind = geometry.get("type").and_then(Value::as_str);
        let parsed = match (kind, coordinates) {
            (Some("Polygon"), Some(c)) => vec![parse_polygon(c, i)?],
            (Some("MultiPolygon"), Some(Value::Array(ps))) => ps
                .iter()
                .map(|p| parse_polygon(p, i))
                .collect::<std::result::Result<_, _>>()?,
            (Some("Polygon" | "MultiPolygon"), _) => {
                return Err(format!(
                    "feature {i}: a {} without coordinates",
                    kind.unwrap_or("")
                ));
            }
            _ => {
                let what = kind.map_or("no geometry".to_string(), |k| format!("a {k}"));
                layer.skipped.push(format!("feature {i} ({what})"));
                continue;
            }
        };
        push_feature(
            &mut layer,
            i,
            kind == Some("MultiPolygon"),
            parsed,
            properties,
        )?;
    }
    Ok(layer)
}

/// Adds feature `i` of `parsed` polygons (`multi`: of a multipolygon) to the layer, checked
/// against the Earth's extent in the layer's CRS, its degenerate polygons left out and its
/// open rings closed with a note; a feature left without polygons is not added.
pub(crate) fn push_feature(
    layer: &mut FeatureLayer,
    i: usize,
    multi: bool,
    parsed: Vec<Polygon>,
    properties: Map<String, Value>,
) -> std::result::Result<(), String> {
    let mut polygons = Vec::new();
    for (k, polygon) in parsed.into_iter().enumerate() {
        let part = if multi {
            format!("feature {i}, polygon {k}")
        } else {
            format!("feature {i}")
        };
        check_extent(&polygon, layer.crs.is_none(), &part)?;
        if let Some(p) = usable_polygon(polygon, &part, layer) {
            polygons.push(p);
        }
    }
    if !polygons.is_empty() {
        layer.features.push(Feature {
            polygons,
            properties,
        });
    }
    Ok(())
}

/// The CRS a legacy `crs` member names: an EPSG code (`EPSG:32651`,
/// `urn:ogc:def:crs:EPSG::32651`), or longitude/latitude (`CRS84`, `EPSG:4326`), as `None`.
/// Anything else is refused: a layer silently read in the wrong CRS covers nothing.
fn named_crs(member: &Value) -> std::result::Result<Option<Crs>, String> {
    let name = member
        .pointer("/properties/name")
        .and_then(Value::as_str)
        .ok_or("its crs member has no properties.name; give an EPSG code or remove it")?;
    if name.ends_with("CRS84") {
        return Ok(None);
    }
    let code = name
        .contains("EPSG")
        .then(|| name.rsplit(':').next()?.parse::<u32>().ok())
        .flatten()
        .ok_or_else(|| {
            format!(
                "its crs member names '{name}', which is not an EPSG code \
                 (EPSG:32651, urn:ogc:def:crs:EPSG::32651) or CRS84"
            )
        })?;
    Ok(Some(Crs::epsg(code)))
}

/// Refuses coordinates that no layer of the Earth holds: beyond ±360° / ±90° in a
/// longitude/latitude layer, beyond ±10⁸ units (100,000 km) in a projected one.
fn check_extent(p: &Polygon, lon_lat: bool, part: &str) -> std::result::Result<(), String> {
    let outside = |&[x, y]: &[f64; 2]| {
        if lon_lat {
            x.abs() > 360.0 || y.abs() > 90.0
        } else {
            x.abs() > 1e8 || y.abs() > 1e8
        }
    };
    let short = |v: f64| {
        if v.abs() < 1e9 {
            v.to_string()
        } else {
            format!("{v:e}")
        }
    };
    let rings = std::iter::once(&p.exterior).chain(&p.holes);
    match rings.flatten().find(|c| outside(c)) {
        None => Ok(()),
        Some(&[x, y]) if lon_lat => Err(format!(
            "{part}: ({}, {}) is not a longitude/latitude; a layer in projected \
             coordinates needs a crs member naming its EPSG code",
            short(x),
            short(y)
        )),
        Some(&[x, y]) => Err(format!(
            "{part}: ({}, {}) lies off the Earth",
            short(x),
            short(y)
        )),
    }
}

/// The polygon with its rings closed (noted in `layer.repaired`), without holes of fewer
/// than three distinct positions; `None`, noted in `layer.skipped`, when its exterior is such
/// a ring.
fn usable_polygon(mut p: Polygon, part: &str, layer: &mut FeatureLayer) -> Option<Polygon> {
    let distinct = |ring: &[[f64; 2]]| {
        let mut points = ring.to_vec();
        points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        points.dedup();
        points.len()
    };
    if distinct(&p.exterior) < 3 {
        layer.skipped.push(format!(
            "{part} (its ring has {} distinct positions; a polygon needs 3)",
            distinct(&p.exterior)
        ));
        return None;
    }
    let holes = p.holes.len();
    p.holes.retain(|h| distinct(h) >= 3);
    if p.holes.len() < holes {
        layer.skipped.push(format!(
            "{part}: {} hole(s) of fewer than 3 distinct positions",
            holes - p.holes.len()
        ));
    }
    for (r, ring) in std::iter::once(&mut p.exterior)
        .chain(&mut p.holes)
        .enumerate()
    {
        if ring.first() != ring.last() {
            ring.push(ring[0]);
            layer
                .repaired
                .push(format!("{part}, ring {r} was not closed"));
        }
    }
    Some(p)
}

fn parse_polygon(value: &Value, feature: usize) -> std::result::Result<Polygon, String> {
    let bad = || format!("feature {feature}: a polygon must be an array of rings of [x, y]");
    let rings: Vec<Ring> = value
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|ring| {
            ring.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|p| match p.as_array().map(Vec::as_slice) {
                    Some([x, y, ..]) => match (x.as_f64(), y.as_f64()) {
                        (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Ok([x, y]),
                        _ => Err(bad()),
                    },
                    _ => Err(bad()),
                })
                .collect()
        })
        .collect::<std::result::Result<_, _>>()?;
    let mut rings = rings.into_iter();
    let exterior = rings.next().ok_or_else(bad)?;
    Ok(Polygon {
        exterior,
        holes: rings.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(crs: &str, geometries: &[&str]) -> String {
        let features: Vec<String> = geometries
            .iter()
            .map(|g| format!(r#"{{"type":"Feature","properties":{{}},"geometry":{g}}}"#))
            .collect();
        format!(
            r#"{{"type":"FeatureCollection",{crs}"features":[{}]}}"#,
            features.join(",")
        )
    }

    #[test]
    fn a_crs_member_that_names_no_crs_is_refused() {
        let square = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#;
        let named = |name: &str| {
            parse_geojson(&collection(
                &format!(r#""crs":{{"type":"name","properties":{{"name":"{name}"}}}},"#),
                &[square],
            ))
        };
        assert_eq!(named("EPSG:32651").unwrap().crs, Some(Crs::epsg(32651)));
        assert_eq!(
            named("urn:ogc:def:crs:EPSG::4490").unwrap().crs,
            Some(Crs::epsg(4490))
        );
        assert_eq!(named("urn:ogc:def:crs:OGC:1.3:CRS84").unwrap().crs, None);
        let refused = named("not a crs at all").unwrap_err();
        assert!(refused.contains("'not a crs at all'"), "{refused}");
        assert!(parse_geojson(&collection(r#""crs":{"type":"link"},"#, &[square])).is_err());
    }

    #[test]
    fn coordinates_off_the_earth_are_refused() {
        let far = r#"{"type":"Polygon","coordinates":[[[0,0],[1e308,0],[1,1],[0,0]]]}"#;
        let projected = r#""crs":{"type":"name","properties":{"name":"EPSG:32651"}},"#;
        let lon_lat = parse_geojson(&collection("", &[far])).unwrap_err();
        assert!(
            lon_lat.contains("feature 0") && lon_lat.contains("longitude"),
            "{lon_lat}"
        );
        assert!(parse_geojson(&collection(projected, &[far])).is_err());
        let utm = r#"{"type":"Polygon","coordinates":[[[203325,3604935],[209325,3604935],[209325,3598935],[203325,3604935]]]}"#;
        assert!(parse_geojson(&collection(projected, &[utm])).is_ok());
        assert!(parse_geojson(&collection("", &[utm])).is_err());
    }

    #[test]
    fn degenerate_rings_are_left_out_and_open_rings_closed_with_a_note() {
        let layer = parse_geojson(&collection(
            "",
            &[
                r#"{"type":"Polygon","coordinates":[[[0,0],[1,0]]]}"#,
                r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]],[[0.2,0.2],[0.2,0.2],[0.2,0.2],[0.2,0.2]]]}"#,
                r#"{"type":"Point","coordinates":[0,0]}"#,
            ],
        ))
        .unwrap();
        assert_eq!(layer.features.len(), 1);
        let kept = &layer.features[0].polygons[0];
        assert_eq!(
            kept.exterior,
            vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
        );
        assert!(kept.holes.is_empty());
        assert_eq!(
            layer.skipped,
            vec![
                "feature 0 (its ring has 2 distinct positions; a polygon needs 3)".to_string(),
                "feature 1: 1 hole(s) of fewer than 3 distinct positions".into(),
                "feature 2 (a Point)".into(),
            ]
        );
        assert_eq!(
            layer.repaired,
            vec!["feature 1, ring 0 was not closed".to_string()]
        );
    }

    #[test]
    fn streamed_features_equal_the_json_tree() {
        let square = |x: f64| vec![[x, 0.0], [x + 1.0, 0.0], [x + 1.0, 1.0], [x, 1.0]];
        let features = [
            Feature::default(),
            Feature {
                polygons: vec![Polygon {
                    exterior: square(0.125),
                    holes: vec![square(0.25)],
                }],
                properties: [("id".to_string(), json!(7)), ("note".into(), json!("a\"b"))]
                    .into_iter()
                    .collect(),
            },
            Feature {
                polygons: vec![
                    Polygon {
                        exterior: square(1e-7),
                        holes: vec![],
                    },
                    Polygon {
                        exterior: square(123_456.789),
                        holes: vec![],
                    },
                ],
                properties: Map::new(),
            },
        ];
        for f in &features {
            let mut text = Vec::new();
            assert!(write_feature(&mut text, f).is_ok());
            let parsed: Value = serde_json::from_slice(&text).unwrap();
            assert_eq!(parsed, feature_json(f).unwrap());
        }
        let bad = Feature {
            polygons: vec![Polygon {
                exterior: vec![[0.0, f64::NAN], [1.0, 0.0], [1.0, 1.0]],
                holes: vec![],
            }],
            properties: Map::new(),
        };
        assert!(matches!(
            write_feature(&mut Vec::new(), &bad),
            Err(FeatureError::Invalid(_))
        ));
    }

    #[test]
    fn rings_are_closed_and_oriented() {
        let clockwise = vec![[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]];
        let f = Feature {
            polygons: vec![Polygon {
                exterior: clockwise.clone(),
                holes: vec![vec![[0.2, 0.2], [0.8, 0.2], [0.8, 0.8]]],
            }],
            properties: Map::from_iter([("class".to_string(), json!("changed"))]),
        };
        let v = feature_collection(&[f]).unwrap();
        let g = &v["features"][0]["geometry"];
        assert_eq!(g["type"], "Polygon");
        let ext = g["coordinates"][0].as_array().unwrap();
        assert_eq!(ext.len(), 5);
        assert_eq!(ext[0], ext[4]);
        assert_eq!(ext[1], json!([1.0, 0.0]), "exterior not counter-clockwise");
        let hole = g["coordinates"][1].as_array().unwrap();
        assert_eq!(hole[1], json!([0.8, 0.8]), "hole not clockwise");
        assert_eq!(v["features"][0]["properties"]["class"], "changed");
        let bad = Feature {
            polygons: vec![Polygon {
                exterior: vec![[0.0, 0.0], [1.0, 1.0]],
                holes: vec![],
            }],
            ..Default::default()
        };
        assert!(feature_collection(&[bad]).is_err());
    }
}
