//! Writing patches: `patches.geojson` (longitude/latitude, RFC 7946), optionally a
//! native-CRS GeoJSON, `patches.csv` with the same attributes, and `patches.tif`, the u32
//! patch-id raster on the input grid (0 = no patch). Every file is written atomically.

use super::Labels;
use super::attributes::PatchAttributes;
use super::polygon::PatchPolygons;
use crate::change::{CHANGE_NAMES, CHANGE_PALETTE};
use crate::error::{Error, Result};
use crate::geo::{GeodeticFrame, LonLat};
use crate::io::{
    Legend, OrderedFeature, csv_line, csv_number, grid_decimals, write_csv_lines, write_geotiff,
    write_ordered_features,
};
use crate::raster::{GeoReference, Raster};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// CSV lines made per parallel batch.
const ROW_BATCH: usize = 4096;

/// The files [`write_patches`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchOutputs {
    /// `patches.geojson`, longitude/latitude.
    pub geojson: PathBuf,
    /// `patches_epsg<code>.geojson` in the raster CRS, when asked for.
    pub geojson_native: Option<PathBuf>,
    /// `patches.csv`.
    pub csv: PathBuf,
    /// `patches.tif`.
    pub tif: PathBuf,
}

/// The attributes of a patch as named JSON values, in column order (shared by the CSV
/// and GeoJSON outputs).
pub fn attribute_fields(a: &PatchAttributes) -> Vec<(&'static str, Value)> {
    let b = &a.bbox_px;
    let ll = a.centroid_lon_lat;
    vec![
        ("id", json!(a.id)),
        ("code", json!(a.code)),
        ("change_type", json!(a.change_type)),
        ("pixels", json!(a.pixels)),
        ("area_m2", json!(a.area_m2)),
        ("area_mu", json!(a.area_mu)),
        ("area_ha", json!(a.area_ha)),
        ("col_min", json!(b.col_min)),
        ("row_min", json!(b.row_min)),
        ("col_max", json!(b.col_max)),
        ("row_max", json!(b.row_max)),
        ("min_x", json!(a.bbox[0])),
        ("min_y", json!(a.bbox[1])),
        ("max_x", json!(a.bbox[2])),
        ("max_y", json!(a.bbox[3])),
        ("centroid_x", json!(a.centroid[0])),
        ("centroid_y", json!(a.centroid[1])),
        ("centroid_lon", json!(ll.map(|p| p[0]))),
        ("centroid_lat", json!(ll.map(|p| p[1]))),
        ("class_before", json!(a.class_before)),
        ("class_after", json!(a.class_after)),
        ("ndvi_before", json!(a.ndvi_before)),
        ("ndvi_after", json!(a.ndvi_after)),
    ]
}

fn csv_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Further per-patch columns (zone areas and flags, region codes): a name and one value per
/// patch, in id order.
pub type ExtraColumn = (String, Vec<Value>);

/// Writes `patches.geojson`, `patches.csv`, `patches.tif` (and with `native_crs` a GeoJSON
/// in the raster CRS) into `dir`. `attributes` and `polygons` are in id order, one per
/// patch of `labels`; `extra` columns follow the attributes in both the CSV and the GeoJSON.
pub fn write_patches(
    dir: &Path,
    labels: &Labels,
    georef: &GeoReference,
    attributes: &[PatchAttributes],
    extra: &[ExtraColumn],
    polygons: &[PatchPolygons],
    native_crs: bool,
) -> Result<PatchOutputs> {
    let n = labels.count as usize;
    if attributes.len() != n {
        return Err(Error::InvalidParameter {
            name: "patches".into(),
            value: format!("{} attributes", attributes.len()),
            reason: format!("the label raster has {n} patches"),
        });
    }
    let vectors = write_patch_vectors(dir, georef, attributes, extra, polygons, native_crs)?;
    let tif = dir.join("patches.tif");
    write_geotiff(
        &tif,
        &Raster {
            width: labels.width,
            height: labels.height,
            data: labels.ids.clone(),
            nodata: 0u32,
            georef: Some(*georef),
        },
    )?;
    Ok(PatchOutputs {
        geojson: vectors.geojson,
        geojson_native: vectors.geojson_native,
        csv: vectors.csv,
        tif,
    })
}

/// The vector files [`write_patch_vectors`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchVectors {
    /// `patches.geojson`, longitude/latitude.
    pub geojson: PathBuf,
    /// `patches_epsg<code>.geojson` in the raster CRS, when asked for.
    pub geojson_native: Option<PathBuf>,
    /// `patches.csv`.
    pub csv: PathBuf,
}

/// Writes `patches.geojson`, `patches.csv` (and with `native_crs` a GeoJSON in the raster
/// CRS) into `dir`, for patch-id rasters written elsewhere (for example strip by strip).
/// Features and rows are made patch by patch as they are written.
pub fn write_patch_vectors(
    dir: &Path,
    georef: &GeoReference,
    attributes: &[PatchAttributes],
    extra: &[ExtraColumn],
    polygons: &[PatchPolygons],
    native_crs: bool,
) -> Result<PatchVectors> {
    let n = check_patch_inputs(attributes, extra, polygons)?;
    let crs = georef.crs.ok_or_else(|| Error::InvalidParameter {
        name: "georeference".into(),
        value: "no CRS".into(),
        reason: "patches.geojson needs longitude/latitude, so the grid needs a CRS".into(),
    })?;
    let lon_lat = LonLat::new(&crs, GeodeticFrame::Wgs84)?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let fields = |i: usize| -> Vec<(String, Value)> {
        let own = attribute_fields(&attributes[i])
            .into_iter()
            .map(|(k, v)| (k.to_string(), v));
        own.chain(extra.iter().map(|(k, v)| (k.clone(), v[i].clone())))
            .collect()
    };
    // Properties in column order, `id` first, as in the CSV, Shapefile and GeoPackage.
    let feature =
        |i: usize, geometry: &dyn Fn(&PatchPolygons) -> Result<Vec<crate::io::Polygon>>| {
            Ok(OrderedFeature {
                polygons: geometry(&polygons[i])?,
                properties: fields(i),
            })
        };
    let geojson = dir.join("patches.geojson");
    write_ordered_features(&geojson, n, |i| {
        feature(i, &|p| p.to_lon_lat(&georef.transform, &lon_lat))
    })?;
    let geojson_native = if native_crs {
        let name = match georef.epsg_code() {
            Some(e) => format!("patches_epsg{e}.geojson"),
            None => "patches_native.geojson".into(),
        };
        let path = dir.join(name);
        write_ordered_features(&path, n, |i| {
            feature(i, &|p| Ok(p.to_crs(&georef.transform)))
        })?;
        Some(path)
    } else {
        None
    };
    let csv = dir.join("patches.csv");
    let mut header: Vec<&str> = attribute_names();
    header.extend(extra.iter().map(|(k, _)| k.as_str()));
    let precision = CsvPrecision::of(georef, &lon_lat);
    // Lines are made in parallel, a batch at a time, and written in order.
    let line = |i: usize| -> String {
        let own = attribute_fields(&attributes[i])
            .into_iter()
            .map(|(k, v)| precision.cell(k, &v));
        let cells: Vec<String> = own
            .chain(extra.iter().map(|(k, v)| precision.cell(k, &v[i])))
            .collect();
        csv_line(&cells)
    };
    let lines = (0..n).step_by(ROW_BATCH).flat_map(|start| {
        (start..(start + ROW_BATCH).min(n))
            .into_par_iter()
            .map(line)
            .collect::<Vec<_>>()
    });
    write_csv_lines(&csv, &header, lines)?;
    Ok(PatchVectors {
        geojson,
        geojson_native,
        csv,
    })
}

/// How many decimals the numbers of `patches.csv` keep: what they mean, no float noise.
/// Areas: m² to 0.01, 亩 to 0.001, ha to 0.0001 (zone areas, `*_m2`, as m²); coordinates
/// to a hundredth of a pixel ([`grid_decimals`]): CRS coordinates by the pixel's size in
/// CRS units, longitude and latitude by its size in degrees at the grid's origin; mean NDVI
/// to 0.0001. Integers, flags and names are written as they are.
#[derive(Debug, Clone, Copy)]
struct CsvPrecision {
    /// Decimals of CRS coordinates.
    native: usize,
    /// Decimals of longitudes and latitudes.
    degrees: usize,
}

impl CsvPrecision {
    fn of(georef: &GeoReference, lon_lat: &LonLat) -> CsvPrecision {
        let c = georef.transform.0;
        let native = c[1].hypot(c[4]).min(c[2].hypot(c[5]));
        let (x0, y0) = georef.transform.apply(0.0, 0.0);
        let degrees = [(1.0, 0.0), (0.0, 1.0)]
            .iter()
            .filter_map(|&(col, row)| {
                let (x, y) = georef.transform.apply(col, row);
                let (lon0, lat0) = lon_lat.to_lon_lat(x0, y0)?;
                let (lon, lat) = lon_lat.to_lon_lat(x, y)?;
                Some((lon - lon0).hypot(lat - lat0))
            })
            .fold(f64::INFINITY, f64::min);
        CsvPrecision {
            native: grid_decimals(native),
            degrees: grid_decimals(degrees),
        }
    }

    /// The decimals of the numbers of `column`; `None` for columns written as they are.
    fn decimals(&self, column: &str) -> Option<usize> {
        match column {
            "area_mu" => Some(3),
            "area_ha" => Some(4),
            "min_x" | "min_y" | "max_x" | "max_y" | "centroid_x" | "centroid_y" => {
                Some(self.native)
            }
            "centroid_lon" | "centroid_lat" => Some(self.degrees),
            "ndvi_before" | "ndvi_after" => Some(4),
            c if c.ends_with("_m2") => Some(2),
            _ => None,
        }
    }

    /// The cell of the value `v` of `column`.
    fn cell(&self, column: &str, v: &Value) -> String {
        match (self.decimals(column), v) {
            (Some(d), Value::Number(n)) if n.is_f64() => csv_number(n.as_f64().unwrap_or(0.0), d),
            _ => csv_text(v),
        }
    }
}

/// The attribute column names.
fn attribute_names() -> Vec<&'static str> {
    let empty = PatchAttributes {
        id: 0,
        code: 0,
        change_type: "",
        pixels: 0,
        area_m2: 0.0,
        area_mu: 0.0,
        area_ha: 0.0,
        bbox_px: super::PixelBox {
            col_min: 0,
            row_min: 0,
            col_max: 0,
            row_max: 0,
        },
        bbox: [0.0; 4],
        centroid: [0.0; 2],
        centroid_lon_lat: None,
        class_before: None,
        class_after: None,
        ndvi_before: None,
        ndvi_after: None,
    };
    attribute_fields(&empty)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// The files [`write_patch_layers`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchLayers {
    /// `patches.shp` with its `.shx`, `.dbf`, `.cpg` and (when the CRS has a definition)
    /// `.prj`.
    pub shapefile: Vec<PathBuf>,
    /// `patches.gpkg`.
    pub geopackage: PathBuf,
    /// What could not be written as asked (a CRS without a WKT definition).
    pub warnings: Vec<String>,
}

/// Writes `patches.shp` (with `.shx`, `.dbf`, `.cpg`, `.prj`) and `patches.gpkg` (layer
/// `patches`, with its QGIS style: categories of `code` in the change colours) into `dir`, in the raster's own CRS, with the features and fields of
/// `patches.geojson` in the same order (`id` first). Field types come from the values; DBF
/// names are those of [`crate::io::fields::dbf_names`]. The two files are written at the same
/// time, both dated `time` (the GeoPackage's `last_change`, the DBF's date of last update;
/// the years 1900 to 2155): the same patches and time give the same bytes.
pub fn write_patch_layers(
    dir: &Path,
    georef: &GeoReference,
    attributes: &[PatchAttributes],
    extra: &[ExtraColumn],
    polygons: &[PatchPolygons],
    time: std::time::SystemTime,
) -> Result<PatchLayers> {
    use crate::io::{fields, gpkg, shapefile};
    let n = check_patch_inputs(attributes, extra, polygons)?;
    let mut names: Vec<&str> = attribute_names();
    names.extend(extra.iter().map(|(k, _)| k.as_str()));
    let values = |i: usize| -> Vec<Value> {
        let own = attribute_fields(&attributes[i]).into_iter().map(|(_, v)| v);
        own.chain(extra.iter().map(|(_, v)| v[i].clone())).collect()
    };
    let fields = fields::infer_fields(&names, n, values);
    let row = |i: usize| Ok((polygons[i].to_crs(&georef.transform), values(i)));
    let crs = georef.crs.as_ref();
    let (shp, gpkg) = rayon::join(
        || shapefile::write_shapefile(&dir.join("patches.shp"), crs, &fields, n, row, time),
        || {
            let path = dir.join("patches.gpkg");
            let written = gpkg::write_geopackage(&path, "patches", crs, &fields, n, row, time)?;
            let style = Legend::new(&CHANGE_PALETTE, &CHANGE_NAMES).polygon_qml("code");
            gpkg::write_default_style(&path, "patches", &style, time)?;
            Ok::<_, Error>(written)
        },
    );
    let (shp, gpkg) = (shp?, gpkg?);
    let mut warnings = shp.warnings;
    warnings.extend(gpkg.warnings);
    Ok(PatchLayers {
        shapefile: shp.files,
        geopackage: dir.join("patches.gpkg"),
        warnings,
    })
}

/// Checks that every patch has one polygon set and one value per extra column; returns the
/// patch count.
fn check_patch_inputs(
    attributes: &[PatchAttributes],
    extra: &[ExtraColumn],
    polygons: &[PatchPolygons],
) -> Result<usize> {
    let n = attributes.len();
    if polygons.len() != n || extra.iter().any(|(_, v)| v.len() != n) {
        return Err(Error::InvalidParameter {
            name: "patches".into(),
            value: format!("{n} attributes, {} polygons", polygons.len()),
            reason: "every patch needs one polygon set and one value per extra column".into(),
        });
    }
    Ok(n)
}
