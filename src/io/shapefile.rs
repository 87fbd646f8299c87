//! ESRI Shapefiles of polygons, written and read with the pure-Rust `shapefile` crate.
//!
//! A layer is written as `.shp` (Polygon records, one per feature, all of its rings),
//! `.shx`, `.dbf` (the fields of [`FieldSpec`], text in UTF-8), `.cpg` (`UTF-8`) and, when
//! the CRS has one, `.prj`: the OGC WKT 1 of the EPSG table ([`crate::io::prj`]), which GDAL,
//! QGIS and ArcGIS read. Reading turns every Polygon record into a [`Feature`](super::geojson::Feature) of its outer
//! rings with their holes, and its DBF record into the feature's properties.

use super::fields::{FieldKind, FieldSpec, cut};
use super::geojson::{FeatureLayer, Polygon, push_feature};
use super::prj;
use crate::error::{Error, Result};
use crate::geo::Crs;
use crate::io::atomic::{io_err, write_atomically};
use ::shapefile::dbase::{self, FieldName, FieldWriter, TableWriterBuilder, WritableRecord};
use ::shapefile::{Point, PolygonRing, ShapeWriter};
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One feature to write: its polygons and one value per field.
pub type FeatureRow = (Vec<Polygon>, Vec<Value>);

/// Features made per parallel batch.
const BATCH: usize = 4096;

/// Makes the rows `0..count` by `row` in parallel batches and hands them to `write` in order.
pub(crate) fn each_row(
    count: usize,
    row: impl Fn(usize) -> Result<FeatureRow> + Sync,
    mut write: impl FnMut(usize, FeatureRow) -> Result<()>,
) -> Result<()> {
    use rayon::prelude::*;
    for start in (0..count).step_by(BATCH) {
        let end = (start + BATCH).min(count);
        let rows = (start..end)
            .into_par_iter()
            .map(&row)
            .collect::<Result<Vec<_>>>()?;
        for (k, r) in rows.into_iter().enumerate() {
            write(start + k, r)?;
        }
    }
    Ok(())
}

/// The files a vector writer wrote, and what it could not write as asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorFiles {
    /// The files, the main one first.
    pub files: Vec<PathBuf>,
    /// Warnings (a CRS without a definition to write, so no `.prj`).
    pub warnings: Vec<String>,
}

/// A DBF record: the values of one feature, written as its fields' types.
struct Record<'a> {
    fields: &'a [FieldSpec],
    values: &'a [Value],
}

impl WritableRecord for Record<'_> {
    fn write_using<W: Write>(
        &self,
        w: &mut FieldWriter<'_, W>,
    ) -> std::result::Result<(), dbase::FieldError> {
        for (f, v) in self.fields.iter().zip(self.values) {
            match f.kind {
                FieldKind::Integer | FieldKind::Real => w.write_next_field_value(&v.as_f64())?,
                FieldKind::Logical => {
                    w.write_next_field_value(&v.as_bool().map(|b| f64::from(u8::from(b))))?
                }
                FieldKind::Text => {
                    let text = match v {
                        Value::Null => String::new(),
                        Value::String(s) => cut(s, usize::from(f.width)).to_string(),
                        other => cut(&other.to_string(), usize::from(f.width)).to_string(),
                    };
                    w.write_next_field_value(&text)?
                }
            }
        }
        Ok(())
    }
}

/// The DBF table of `fields`.
fn table(fields: &[FieldSpec]) -> Result<TableWriterBuilder> {
    let mut table = TableWriterBuilder::new();
    for f in fields {
        let name =
            FieldName::try_from(f.dbf_name.as_str()).map_err(|e| Error::InvalidParameter {
                name: "field".into(),
                value: f.dbf_name.clone(),
                reason: e.into(),
            })?;
        table = match f.kind {
            FieldKind::Integer | FieldKind::Real => {
                table.add_numeric_field(name, f.width, f.decimals)
            }
            // 1/0 in a one-digit number: GDAL 3.6 reads a dBASE logical field as text.
            FieldKind::Logical => table.add_numeric_field(name, 1, 0),
            FieldKind::Text => table.add_character_field(name, f.width),
        };
    }
    Ok(table)
}

/// One feature's polygons as a Shapefile polygon (outer rings clockwise, holes
/// counter-clockwise, as the format asks; the crate orients and closes them).
fn shape(polygons: &[Polygon]) -> ::shapefile::Polygon {
    let points = |ring: &[[f64; 2]]| ring.iter().map(|p| Point::new(p[0], p[1])).collect();
    let rings = polygons
        .iter()
        .flat_map(|p| {
            std::iter::once(PolygonRing::Outer(points(&p.exterior)))
                .chain(p.holes.iter().map(|h| PolygonRing::Inner(points(h))))
        })
        .collect();
    ::shapefile::Polygon::with_rings(rings)
}

/// Writes `count` features, row `i` made by `row(i)`, as the Shapefile `path` (`.shp`, with
/// `.shx`, `.dbf`, `.cpg` and, when `crs` can be written, `.prj` beside it), with the UTC
/// date of `last_update` (the years 1900 to 2155) as the DBF's date of last update: the same
/// layer and date give the same bytes. Every feature needs at least one polygon.
pub fn write_shapefile(
    path: &Path,
    crs: Option<&Crs>,
    fields: &[FieldSpec],
    count: usize,
    row: impl Fn(usize) -> Result<FeatureRow> + Sync,
    last_update: SystemTime,
) -> Result<VectorFiles> {
    let date = super::stamp::checked(last_update)?.dbf_date();
    let shp_err = |e: ::shapefile::Error| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    let side = |ext: &str| path.with_extension(ext);
    let create = |p: PathBuf| File::create(&p).map(BufWriter::new).map_err(io_err(&p));
    let mut shapes = ShapeWriter::with_shx(create(path.to_path_buf())?, create(side("shx"))?);
    let mut records = table(fields)?.build_with_dest(create(side("dbf"))?);
    each_row(count, row, |i, (polygons, values)| {
        if polygons.is_empty() {
            return Err(Error::InvalidParameter {
                name: "feature".into(),
                value: i.to_string(),
                reason: "a Shapefile polygon needs at least one ring".into(),
            });
        }
        shapes.write_shape(&shape(&polygons)).map_err(shp_err)?;
        let record = Record {
            fields,
            values: &values,
        };
        records.write_record(&record).map_err(|e| shp_err(e.into()))
    })?;
    shapes.finalize().map_err(shp_err)?;
    records.finalize().map_err(|e| shp_err(e.into()))?;
    drop((shapes, records));
    if count == 0 {
        // A layer without features is still a polygon layer.
        patch_bytes(path, 32, &5i32.to_le_bytes())?;
        patch_bytes(&side("shx"), 32, &5i32.to_le_bytes())?;
    }
    // The date of last update (the dbase crate writes today's), and no language driver id:
    // readers take the encoding from the .cpg.
    patch_bytes(&side("dbf"), 1, &date)?;
    patch_bytes(&side("dbf"), 29, &[0])?;
    let mut out = VectorFiles {
        files: vec![path.to_path_buf(), side("shx"), side("dbf")],
        warnings: Vec::new(),
    };
    let cpg = side("cpg");
    write_atomically(&cpg, |w| w.write_all(b"UTF-8").map_err(io_err(&cpg)))?;
    out.files.push(cpg);
    match crs.and_then(prj::crs_wkt) {
        Some(wkt) => {
            let prj = side("prj");
            write_atomically(&prj, |w| w.write_all(wkt.as_bytes()).map_err(io_err(&prj)))?;
            out.files.push(prj);
        }
        None => out.warnings.push(format!(
            "{} has no .prj: {} has no WKT definition landwatch can write",
            path.display(),
            crs.map_or("the grid's CRS (none)".to_string(), |c| c.to_string())
        )),
    }
    Ok(out)
}

/// Overwrites the bytes at `offset` of a header (the shape type of a `.shp` or `.shx`, the
/// language driver of a `.dbf`).
fn patch_bytes(path: &Path, offset: u64, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    f.seek(SeekFrom::Start(offset)).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))
}

/// The polygons of a Polygon record's rings: each outer ring starts a polygon, the holes
/// after it are its holes (readers rasterize a feature's rings by the even-odd rule, so a
/// hole given elsewhere still stays out).
fn polygons_of<P>(rings: &[PolygonRing<P>], xy: impl Fn(&P) -> [f64; 2]) -> Vec<Polygon> {
    let mut polygons: Vec<Polygon> = Vec::new();
    for ring in rings {
        let points: Vec<[f64; 2]> = ring.points().iter().map(&xy).collect();
        match (ring, polygons.last_mut()) {
            (PolygonRing::Inner(_), Some(last)) => last.holes.push(points),
            _ => polygons.push(Polygon {
                exterior: points,
                holes: Vec::new(),
            }),
        }
    }
    polygons
}

/// A DBF value as JSON: text, numbers (whole ones as integers, so that a code reads
/// `321202`, not `321202.0`), booleans; an empty field is null.
fn json_value(v: dbase::FieldValue) -> Value {
    use dbase::FieldValue as F;
    let number = |f: f64| {
        if f.fract() == 0.0 && f.abs() < 9e15 {
            Value::from(f as i64)
        } else {
            Value::from(f)
        }
    };
    match v {
        F::Character(s) => s.map_or(Value::Null, Value::from),
        F::Memo(s) => Value::from(s),
        F::Numeric(n) => n.map_or(Value::Null, number),
        F::Float(n) => n.map_or(Value::Null, |f| number(f64::from(f))),
        F::Integer(n) => Value::from(n),
        F::Double(f) | F::Currency(f) => number(f),
        F::Logical(b) => b.map_or(Value::Null, Value::from),
        other => Value::from(format!("{other:?}")),
    }
}

/// Reads the polygons of a Shapefile (`.shp` with its `.shx` and `.dbf`; text as UTF-8) and
/// its CRS from the `.prj` beside it ([`prj::crs_from_wkt`]); without a `.prj` the layer is
/// taken for longitude/latitude, as a GeoJSON without a `crs` member. Records that are not
/// polygons are left out and noted in [`FeatureLayer::skipped`].
pub fn read_shapefile(path: &Path) -> Result<FeatureLayer> {
    let invalid = |reason: String| Error::InvalidParameter {
        name: "Shapefile".into(),
        value: path.display().to_string(),
        reason,
    };
    let crs = match std::fs::read_to_string(path.with_extension("prj")) {
        Ok(wkt) => Some(prj::crs_from_wkt(&wkt).map_err(invalid)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&path.with_extension("prj"))(e)),
    };
    let mut reader = ::shapefile::Reader::from_path(path).map_err(|e| invalid(e.to_string()))?;
    let mut layer = FeatureLayer {
        crs,
        ..FeatureLayer::default()
    };
    for (i, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = item.map_err(|e| invalid(format!("record {i}: {e}")))?;
        let polygons = match &shape {
            ::shapefile::Shape::Polygon(p) => polygons_of(p.rings(), |p| [p.x, p.y]),
            ::shapefile::Shape::PolygonM(p) => polygons_of(p.rings(), |p| [p.x, p.y]),
            ::shapefile::Shape::PolygonZ(p) => polygons_of(p.rings(), |p| [p.x, p.y]),
            other => {
                layer
                    .skipped
                    .push(format!("feature {i} (a {})", other.shapetype()));
                continue;
            }
        };
        let properties: Map<String, Value> = record
            .into_iter()
            .map(|(k, v)| (k, json_value(v)))
            .collect();
        let multi = polygons.len() > 1;
        push_feature(&mut layer, i, multi, polygons, properties).map_err(invalid)?;
    }
    Ok(layer)
}
