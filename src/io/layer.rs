//! Polygon layers read by their file's extension: `.shp` (Shapefile), `.gpkg`
//! (GeoPackage), anything else GeoJSON.

use super::geojson::{FeatureLayer, read_geojson};
use crate::error::Result;
use std::path::Path;

/// The polygon layer of a GeoJSON, Shapefile (`.shp`) or GeoPackage (`.gpkg`, its first
/// features table) file, with the CRS it declares ([`FeatureLayer::crs`]).
pub fn read_polygon_layer(path: impl AsRef<Path>) -> Result<FeatureLayer> {
    let path = path.as_ref();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("shp") => super::shapefile::read_shapefile(path),
        Some("gpkg") => super::gpkg::read_geopackage(path),
        _ => read_geojson(path),
    }
}
