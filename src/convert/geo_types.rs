//! landwatch's polygons as `geo_types` geometry, and back where that is meaningful
//! (feature `geo-types`).
//!
//! - [`io::Polygon`](crate::io::Polygon) ↔ `geo_types::Polygon<f64>` and
//!   [`io::Feature`](crate::io::Feature) ↔ `geo_types::MultiPolygon<f64>` (the feature's
//!   properties are dropped one way and empty the other): coordinates as they are, rings
//!   closed.
//! - Patch polygons, traced on the lattice of pixel corners: exactly as
//!   `geo_types::Polygon<i64>` / `MultiPolygon<i64>` in `[col, row]` corner coordinates,
//!   or in map coordinates through the grid's [`GeoTransform`] with
//!   [`PatchPolygons::to_multi_polygon`] (the transform `patches.geojson` uses in the
//!   native CRS). There is no way back: a geometry is not a traced patch.

use crate::io::{Feature, Polygon};
use crate::patch::PatchPolygons;
use crate::patch::polygon::LatticePolygon;
use crate::raster::GeoTransform;
use ::geo_types::{Coord, CoordNum, LineString, MultiPolygon, Polygon as GeoPolygon};

/// A geo-types polygon of an exterior and holes given as lists of `[x, y]` (closed or not;
/// geo-types closes them).
fn polygon_of<T: CoordNum>(exterior: &[[T; 2]], holes: &[Vec<[T; 2]>]) -> GeoPolygon<T> {
    let ring = |r: &[[T; 2]]| LineString::from(r.to_vec());
    GeoPolygon::new(ring(exterior), holes.iter().map(|h| ring(h)).collect())
}

/// The positions of a geo-types ring as `[x, y]` (closed, as geo-types keeps them).
fn positions(ring: &LineString<f64>) -> Vec<[f64; 2]> {
    ring.coords().map(|&Coord { x, y }| [x, y]).collect()
}

impl From<&Polygon> for GeoPolygon<f64> {
    /// The same rings, closed.
    fn from(p: &Polygon) -> GeoPolygon<f64> {
        polygon_of(&p.exterior, &p.holes)
    }
}

impl From<Polygon> for GeoPolygon<f64> {
    /// The same rings, closed.
    fn from(p: Polygon) -> GeoPolygon<f64> {
        GeoPolygon::from(&p)
    }
}

impl From<&GeoPolygon<f64>> for Polygon {
    /// The same rings, closed (an empty exterior stays empty).
    fn from(p: &GeoPolygon<f64>) -> Polygon {
        Polygon {
            exterior: positions(p.exterior()),
            holes: p.interiors().iter().map(positions).collect(),
        }
    }
}

impl From<GeoPolygon<f64>> for Polygon {
    /// The same rings, closed (an empty exterior stays empty).
    fn from(p: GeoPolygon<f64>) -> Polygon {
        Polygon::from(&p)
    }
}

impl From<&Feature> for MultiPolygon<f64> {
    /// The feature's polygons (none for a null geometry); its properties are dropped.
    fn from(f: &Feature) -> MultiPolygon<f64> {
        MultiPolygon(f.polygons.iter().map(GeoPolygon::from).collect())
    }
}

impl From<&MultiPolygon<f64>> for Feature {
    /// A feature of these polygons with no properties.
    fn from(m: &MultiPolygon<f64>) -> Feature {
        Feature {
            polygons: m.0.iter().map(Polygon::from).collect(),
            properties: Default::default(),
        }
    }
}

impl From<MultiPolygon<f64>> for Feature {
    /// A feature of these polygons with no properties.
    fn from(m: MultiPolygon<f64>) -> Feature {
        Feature::from(&m)
    }
}

impl From<&LatticePolygon> for GeoPolygon<i64> {
    /// The polygon in `[col, row]` pixel-corner coordinates, exact; rings closed, in the
    /// tracer's order (exterior clockwise, holes counter-clockwise with rows down).
    fn from(p: &LatticePolygon) -> GeoPolygon<i64> {
        polygon_of::<i64>(&p.exterior, &p.holes)
    }
}

impl From<&PatchPolygons> for MultiPolygon<i64> {
    /// The patch's polygons in `[col, row]` pixel-corner coordinates, exact.
    fn from(p: &PatchPolygons) -> MultiPolygon<i64> {
        MultiPolygon(p.polygons.iter().map(GeoPolygon::from).collect())
    }
}

impl PatchPolygons {
    /// The patch in the map coordinates of `transform` (the grid's, e.g.
    /// `georef.transform`): the rings of [`PatchPolygons::to_crs`], closed, exteriors
    /// counter-clockwise and holes clockwise in a north-up map.
    pub fn to_multi_polygon(&self, transform: &GeoTransform) -> MultiPolygon<f64> {
        MultiPolygon(
            self.to_crs(transform)
                .iter()
                .map(GeoPolygon::from)
                .collect(),
        )
    }
}
