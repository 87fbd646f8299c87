//! GeoJSON output (RFC 7946): a FeatureCollection of polygon or multipolygon features with
//! a properties map. Rings are closed and oriented as the RFC asks (exterior
//! counter-clockwise, holes clockwise). Coordinates are written as given: RFC 7946 expects
//! WGS 84 longitude/latitude, which is the caller's to provide.

use crate::error::{Error, Result};
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

/// A closed ring oriented counter-clockwise (`ccw`) or clockwise, as JSON.
fn ring_json(ring: &[[f64; 2]], ccw: bool, what: &str) -> Result<Value> {
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
    Ok(Value::Array(
        r.iter().map(|p| json!([p[0], p[1]])).collect(),
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

/// The FeatureCollection as a JSON value.
pub fn feature_collection(features: &[Feature]) -> Result<Value> {
    let features = features
        .iter()
        .map(|f| {
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
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({"type": "FeatureCollection", "features": features}))
}

/// Writes the features as a GeoJSON FeatureCollection.
pub fn write_geojson(path: impl AsRef<Path>, features: &[Feature]) -> Result<()> {
    let path = path.as_ref();
    let value = feature_collection(features)?;
    write_atomically(path, |w| {
        serde_json::to_writer(&mut *w, &value).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        std::io::Write::write_all(w, b"\n").map_err(io_err(path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
