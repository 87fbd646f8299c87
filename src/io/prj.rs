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
