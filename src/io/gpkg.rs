//! OGC GeoPackage (1.3) polygon layers, written and read through SQLite (`rusqlite`,
//! bundled).
//!
//! A layer is one feature table of `MULTIPOLYGON`s: `fid` (the primary key), `geom`
//! (GeoPackage binary: the `GP` header with the SRS id and the XY envelope, then
//! little-endian WKB), then the fields in order. The file has the GeoPackage
//! `application_id` and `user_version`, `gpkg_spatial_ref_sys` (the three rows the
//! standard requires and the layer's CRS with its EPSG code and WKT),
//! `gpkg_contents` with the layer's extent, `gpkg_geometry_columns`, and an R-tree spatial
//! index (`rtree_<table>_geom`, registered in `gpkg_extensions`) as GDAL makes it.
//! `gpkg_contents.last_change` is the time the caller gives ([`write_geopackage`]), so
//! that the same layer written twice gives the same bytes.

use super::fields::{FieldKind, FieldSpec};
use super::geojson::{FeatureLayer, Polygon, push_feature};
use super::prj;
use super::shapefile::{FeatureRow, VectorFiles, each_row};
use crate::error::{Error, Result};
use crate::geo::Crs;
use rusqlite::{Connection, params};
use serde_json::Value;
use std::path::Path;
use std::time::SystemTime;

/// `application_id`: "GPKG".
const APPLICATION_ID: i32 = 0x4750_4B47;
/// `user_version`: GeoPackage 1.3.0.
const USER_VERSION: i32 = 10300;
/// The geometry column.
const GEOM: &str = "geom";

/// The tables every GeoPackage has, with the standard's required SRS rows.
const METADATA: &str = r#"
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
"#;

/// The triggers that keep the R-tree in step when a GIS edits the layer (GeoPackage 1.3,
/// extension `gpkg_rtree_index`; the `ST_*` functions are the reader's, GDAL's for QGIS).
/// Made after the rows are in, whose index entries are written directly.
const RTREE_TRIGGERS: &str = "
CREATE TRIGGER rtree_<t>_geom_insert AFTER INSERT ON <t>
  WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_<t>_geom VALUES (NEW.fid,
    ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_<t>_geom_update1 AFTER UPDATE OF geom ON <t>
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_<t>_geom VALUES (NEW.fid,
    ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_<t>_geom_update2 AFTER UPDATE OF geom ON <t>
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_<t>_geom WHERE id = OLD.fid;
END;
CREATE TRIGGER rtree_<t>_geom_update3 AFTER UPDATE ON <t>
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_<t>_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_<t>_geom VALUES (NEW.fid,
    ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_<t>_geom_update4 AFTER UPDATE ON <t>
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_<t>_geom WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER rtree_<t>_geom_delete AFTER DELETE ON <t>
  WHEN old.geom NOT NULL
BEGIN
  DELETE FROM rtree_<t>_geom WHERE id = OLD.fid;
END;
";

/// A name quoted as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// The SRS id of `crs` in the file (its EPSG code), registering it with its WKT; -1
/// (undefined cartesian) with a warning when it has no EPSG definition.
fn register_srs(
    db: &Connection,
    crs: Option<&Crs>,
    warnings: &mut Vec<String>,
) -> rusqlite::Result<i32> {
    let wgs84 = Crs::epsg(4326);
    let add = |c: &Crs| -> rusqlite::Result<Option<i32>> {
        let (Some(code), Some(wkt), Crs::Epsg(e)) = (c.epsg_code(), prj::crs_wkt(c), c) else {
            return Ok(None);
        };
        db.execute(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?1, ?2, 'EPSG', ?2, ?3, NULL)",
            params![e.name(), code, wkt],
        )?;
        Ok(Some(code as i32))
    };
    add(&wgs84)?;
    match crs {
        Some(c) => match add(c)? {
            Some(id) => Ok(id),
            None => {
                warnings.push(format!(
                    "the GeoPackage's CRS is undefined: {c} has no EPSG definition landwatch \
                     can write"
                ));
                Ok(-1)
            }
        },
        None => Ok(-1),
    }
}

/// The SQL type of a field: 32-bit `MEDIUMINT` for integers of at most 9 digits.
fn sql_type(f: &FieldSpec) -> &'static str {
    match f.kind {
        FieldKind::Integer if f.width <= 9 => "MEDIUMINT",
        FieldKind::Integer => "INTEGER",
        FieldKind::Real => "REAL",
        FieldKind::Text => "TEXT",
        FieldKind::Logical => "BOOLEAN",
    }
}

/// A value as SQL: booleans as 0/1, text as text, numbers as numbers.
fn sql_value(kind: FieldKind, v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    match (kind, v) {
        (_, Value::Null) => Sql::Null,
        (_, Value::Bool(b)) => Sql::Integer(i64::from(*b)),
        (FieldKind::Integer, Value::Number(n)) if n.as_i64().is_some() => {
            Sql::Integer(n.as_i64().unwrap_or_default())
        }
        (FieldKind::Integer | FieldKind::Real, Value::Number(n)) => {
            Sql::Real(n.as_f64().unwrap_or_default())
        }
        (_, Value::String(s)) => Sql::Text(s.clone()),
        (_, other) => Sql::Text(other.to_string()),
    }
}

/// The envelope `[min_x, min_y, max_x, max_y]` of the polygons' exteriors.
fn envelope(polygons: &[Polygon]) -> Option<[f64; 4]> {
    let mut points = polygons.iter().flat_map(|p| &p.exterior).peekable();
    points.peek()?;
    Some(points.fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |e, p| {
            [
                e[0].min(p[0]),
                e[1].min(p[1]),
                e[2].max(p[0]),
                e[3].max(p[1]),
            ]
        },
    ))
}

/// A ring closed and oriented counter-clockwise (`ccw`) or clockwise.
fn ring(r: &[[f64; 2]], ccw: bool) -> Vec<[f64; 2]> {
    let mut r = r.to_vec();
    if r.first() != r.last() && !r.is_empty() {
        r.push(r[0]);
    }
    let area2: f64 = r
        .windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum();
    if (area2 > 0.0) != ccw {
        r.reverse();
    }
    r
}

/// The GeoPackage binary of a multipolygon: header, envelope, WKB (exteriors
/// counter-clockwise, holes clockwise, as OGC simple features has them).
pub fn geometry_blob(polygons: &[Polygon], srs_id: i32) -> Vec<u8> {
    let mut b =
        Vec::with_capacity(64 + 16 * polygons.iter().map(|p| p.exterior.len()).sum::<usize>());
    b.extend_from_slice(b"GP\0");
    let env = envelope(polygons);
    // Flags: little-endian, envelope [minx, maxx, miny, maxy] (1) or none and empty (0x10).
    b.push(if env.is_some() {
        0b0000_0011
    } else {
        0b0001_0001
    });
    b.extend_from_slice(&srs_id.to_le_bytes());
    if let Some([x0, y0, x1, y1]) = env {
        for v in [x0, x1, y0, y1] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    let u32le = |b: &mut Vec<u8>, v: usize| b.extend_from_slice(&(v as u32).to_le_bytes());
    b.push(1);
    u32le(&mut b, 6);
    u32le(&mut b, polygons.len());
    for p in polygons {
        b.push(1);
        u32le(&mut b, 3);
        u32le(&mut b, 1 + p.holes.len());
        let rings =
            std::iter::once(ring(&p.exterior, true)).chain(p.holes.iter().map(|h| ring(h, false)));
        for r in rings {
            u32le(&mut b, r.len());
            for [x, y] in r {
                b.extend_from_slice(&x.to_le_bytes());
                b.extend_from_slice(&y.to_le_bytes());
            }
        }
    }
    b
}

/// QGIS's table of layer styles, as QGIS creates it in a GeoPackage.
const LAYER_STYLES: &str = r#"
CREATE TABLE "layer_styles" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256),
  "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT,
  "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30),
  "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
"#;

/// Stores `qml` (a QGIS style document) in the GeoPackage `path` as the default style of its
/// layer `table`, dated `time`: QGIS opens the layer styled. The style goes into QGIS's
/// `layer_styles` table (created, and registered as an attributes table, as QGIS does);
/// other readers see one more table and ignore it.
pub fn write_default_style(path: &Path, table: &str, qml: &str, time: SystemTime) -> Result<()> {
    let time = super::stamp::checked(time)?.iso8601();
    let err = sql_err(path);
    let mut db = Connection::open(path).map_err(&err)?;
    db.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .map_err(&err)?;
    let tx = db.transaction().map_err(&err)?;
    tx.execute_batch(LAYER_STYLES).map_err(&err)?;
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change, srs_id) VALUES ('layer_styles', 'attributes', 'layer_styles', ?1, 0)",
        params![time],
    )
    .map_err(&err)?;
    tx.execute(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) VALUES ('', '', ?1, ?2, ?1, ?3, '', 1, 'landwatch', '', NULL, ?4)",
        params![table, GEOM, qml, time],
    )
    .map_err(&err)?;
    tx.commit().map_err(&err)?;
    db.close().map_err(|(_, e)| err(e))
}

/// Creates the feature table `table` of `fields`, registered in the metadata tables with its
/// R-tree and the time `last_change` (ISO 8601).
fn create_layer(
    db: &Connection,
    table: &str,
    fields: &[FieldSpec],
    srs_id: i32,
    last_change: &str,
) -> rusqlite::Result<()> {
    let columns: String = fields
        .iter()
        .map(|f| format!(", {} {}", quoted(&f.name), sql_type(f)))
        .collect();
    let t = quoted(table);
    let rtree = quoted(&format!("rtree_{table}_{GEOM}"));
    db.execute_batch(&format!(
        "CREATE TABLE {t} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {GEOM} MULTIPOLYGON{columns});
         CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy);"
    ))?;
    db.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change, srs_id) VALUES (?1, 'features', ?1, ?2, ?3)",
        params![table, last_change, srs_id],
    )?;
    db.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, 'MULTIPOLYGON', ?3, 0, 0)",
        params![table, GEOM, srs_id],
    )?;
    db.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        params![table, GEOM],
    )?;
    Ok(())
}

/// Writes `count` features, row `i` made by `row(i)`, as the layer `table` of a new
/// GeoPackage `path` (an existing file is replaced), in `crs`, with `last_change` as the
/// layer's `gpkg_contents.last_change` (UTC, to the millisecond; the years 1900 to 2155): the
/// same layer and time give the same bytes.
pub fn write_geopackage(
    path: &Path,
    table: &str,
    crs: Option<&Crs>,
    fields: &[FieldSpec],
    count: usize,
    row: impl Fn(usize) -> Result<FeatureRow> + Sync,
    last_change: SystemTime,
) -> Result<VectorFiles> {
    let last_change = super::stamp::checked(last_change)?.iso8601();
    let err = sql_err(path);
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: e,
            });
        }
        _ => {}
    }
    if table.is_empty()
        || !table
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::InvalidParameter {
            name: "GeoPackage layer".into(),
            value: table.into(),
            reason: "a layer name is ASCII letters, digits and underscores".into(),
        });
    }
    let mut db = Connection::open(path).map_err(&err)?;
    db.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};
         PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
    ))
    .map_err(&err)?;
    let tx = db.transaction().map_err(&err)?;
    tx.execute_batch(METADATA).map_err(&err)?;
    let mut warnings = Vec::new();
    let srs_id = register_srs(&tx, crs, &mut warnings).map_err(&err)?;
    create_layer(&tx, table, fields, srs_id, &last_change).map_err(&err)?;
    let extent = insert_rows(&tx, table, fields, srs_id, count, row)?;
    tx.execute_batch(&RTREE_TRIGGERS.replace("<t>", table))
        .map_err(&err)?;
    if let Some([x0, y0, x1, y1]) = extent {
        tx.execute(
            "UPDATE gpkg_contents SET min_x = ?1, min_y = ?2, max_x = ?3, max_y = ?4 WHERE table_name = ?5",
            params![x0, y0, x1, y1, table],
        )
        .map_err(&err)?;
    }
    tx.commit().map_err(&err)?;
    db.close().map_err(|(_, e)| err(e))?;
    Ok(VectorFiles {
        files: vec![path.to_path_buf()],
        warnings,
    })
}

/// Inserts the rows and their R-tree entries; returns the layer's extent.
fn insert_rows(
    db: &Connection,
    table: &str,
    fields: &[FieldSpec],
    srs_id: i32,
    count: usize,
    row: impl Fn(usize) -> Result<FeatureRow> + Sync,
) -> Result<Option<[f64; 4]>> {
    let path = db
        .path()
        .map(Path::new)
        .unwrap_or(Path::new("GeoPackage"))
        .to_path_buf();
    let err = sql_err(&path);
    let names: String = fields
        .iter()
        .map(|f| format!(", {}", quoted(&f.name)))
        .collect();
    let marks: String = (0..fields.len()).map(|k| format!(", ?{}", k + 3)).collect();
    let mut insert = db
        .prepare(&format!(
            "INSERT INTO {} (fid, {GEOM}{names}) VALUES (?1, ?2{marks})",
            quoted(table)
        ))
        .map_err(&err)?;
    let mut index = db
        .prepare(&format!(
            "INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)",
            quoted(&format!("rtree_{table}_{GEOM}"))
        ))
        .map_err(&err)?;
    let mut extent: Option<[f64; 4]> = None;
    each_row(count, row, |i, (polygons, values)| {
        let fid = i as i64 + 1;
        let mut sql: Vec<rusqlite::types::Value> =
            vec![fid.into(), geometry_blob(&polygons, srs_id).into()];
        sql.extend(
            fields
                .iter()
                .zip(&values)
                .map(|(f, v)| sql_value(f.kind, v)),
        );
        insert
            .execute(rusqlite::params_from_iter(sql))
            .map_err(&err)?;
        if let Some(e) = envelope(&polygons) {
            index
                .execute(params![fid, e[0], e[2], e[1], e[3]])
                .map_err(&err)?;
            extent = Some(match extent {
                None => e,
                Some(x) => [
                    x[0].min(e[0]),
                    x[1].min(e[1]),
                    x[2].max(e[2]),
                    x[3].max(e[3]),
                ],
            });
        }
        Ok(())
    })?;
    Ok(extent)
}

/// A little reader of WKB.
struct Wkb<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Wkb<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let b = self.bytes.get(self.at..self.at + N)?.try_into().ok()?;
        self.at += N;
        Some(b)
    }

    fn u32(&mut self, le: bool) -> Option<u32> {
        let b = self.take::<4>()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, le: bool) -> Option<f64> {
        let b = self.take::<8>()?;
        Some(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// A geometry's byte order and type (ISO codes: 1000s add Z, 2000s M, 3000s ZM; EWKB
    /// flags are read too), as (little-endian, base type, coordinates per point).
    fn header(&mut self) -> Option<(bool, u32, usize)> {
        let le = self.take::<1>()?[0] == 1;
        let raw = self.u32(le)?;
        let (z, m) = (raw & 0x8000_0000 != 0, raw & 0x4000_0000 != 0);
        let iso = raw & 0x0FFF_FFFF;
        let (base, dims) = (iso % 1000, iso / 1000);
        let extra = match dims {
            1 | 2 => 1,
            3 => 2,
            _ => usize::from(z) + usize::from(m),
        };
        Some((le, base, 2 + extra))
    }

    fn polygon(&mut self, le: bool, dims: usize) -> Option<Polygon> {
        let rings = self.u32(le)? as usize;
        let mut out = Vec::with_capacity(rings.min(1024));
        for _ in 0..rings {
            let n = self.u32(le)? as usize;
            let mut ring = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                let (x, y) = (self.f64(le)?, self.f64(le)?);
                for _ in 2..dims {
                    self.f64(le)?;
                }
                ring.push([x, y]);
            }
            out.push(ring);
        }
        let mut rings = out.into_iter();
        Some(Polygon {
            exterior: rings.next()?,
            holes: rings.collect(),
        })
    }

    /// The polygons of a Polygon or MultiPolygon; `Err` names another geometry type.
    fn polygons(&mut self) -> std::result::Result<Vec<Polygon>, String> {
        let bad = || "a geometry's WKB is cut short".to_string();
        let (le, base, dims) = self.header().ok_or_else(bad)?;
        match base {
            3 => Ok(vec![self.polygon(le, dims).ok_or_else(bad)?]),
            6 => {
                let n = self.u32(le).ok_or_else(bad)?;
                (0..n)
                    .map(|_| {
                        let (le, _, dims) = self.header().ok_or_else(bad)?;
                        self.polygon(le, dims).ok_or_else(bad)
                    })
                    .collect()
            }
            other => Err(format!("WKB geometry type {other}")),
        }
    }
}

/// The polygons of a GeoPackage geometry blob (its header skipped: magic, flags, SRS id,
/// envelope).
fn blob_polygons(blob: &[u8]) -> std::result::Result<Vec<Polygon>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("a geometry is not a GeoPackage geometry".into());
    }
    let flags = blob[3];
    if flags & 0x10 != 0 {
        return Ok(Vec::new());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(format!("envelope code {e}")),
    };
    let start = 8 + envelope;
    let bytes = blob.get(start..).ok_or("a geometry is cut short")?;
    Wkb { bytes, at: 0 }.polygons()
}

/// The first features table of the GeoPackage: its name, geometry column and CRS (by its
/// SRS's EPSG code, else its WKT definition; `None` for the undefined SRSs).
fn features_table(db: &Connection) -> std::result::Result<(String, String, Option<Crs>), String> {
    let sql = "SELECT c.table_name, g.column_name, s.srs_id, s.organization,
                      s.organization_coordsys_id, s.definition
               FROM gpkg_contents c
               JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
               JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id
               WHERE c.data_type = 'features' ORDER BY c.rowid LIMIT 1";
    let (table, column, srs_id, org, code, wkt): (String, String, i64, String, i64, String) = db
        .query_row(sql, [], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(|e| format!("it has no features table ({e})"))?;
    let crs = if srs_id <= 0 {
        None
    } else if org.eq_ignore_ascii_case("EPSG") {
        Some(Crs::epsg(code as u32))
    } else {
        Some(prj::crs_from_wkt(&wkt)?)
    };
    Ok((table, column, crs))
}

/// An SQL value as JSON (blobs as null).
fn json_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as V;
    match v {
        V::Integer(i) => Value::from(i),
        V::Real(f) => Value::from(f),
        V::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
        V::Null | V::Blob(_) => Value::Null,
    }
}

/// Reads the polygons of the first features table of a GeoPackage, its columns as the
/// features' properties and its CRS from `gpkg_spatial_ref_sys`. Geometries that are not
/// polygons or multipolygons are left out and noted in [`FeatureLayer::skipped`].
pub fn read_geopackage(path: &Path) -> Result<FeatureLayer> {
    let invalid = |reason: String| Error::InvalidParameter {
        name: "GeoPackage".into(),
        value: path.display().to_string(),
        reason,
    };
    let db = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql_err(path))?;
    let (table, column, crs) = features_table(&db).map_err(invalid)?;
    let mut layer = FeatureLayer {
        crs,
        ..FeatureLayer::default()
    };
    let mut stmt = db
        .prepare(&format!("SELECT * FROM {}", quoted(&table)))
        .map_err(sql_err(path))?;
    let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let geom = names.iter().position(|n| n.eq_ignore_ascii_case(&column));
    let geom = geom.ok_or_else(|| invalid(format!("{table} has no column {column}")))?;
    let mut rows = stmt.query([]).map_err(sql_err(path))?;
    let mut i = 0;
    while let Some(row) = rows.next().map_err(sql_err(path))? {
        let polygons = match row.get_ref(geom).map_err(sql_err(path))? {
            rusqlite::types::ValueRef::Blob(b) => blob_polygons(b),
            _ => Ok(Vec::new()),
        };
        let polygons = match polygons {
            Ok(p) if !p.is_empty() => p,
            Ok(_) => {
                layer.skipped.push(format!("feature {i} (no geometry)"));
                i += 1;
                continue;
            }
            Err(why) => {
                layer.skipped.push(format!("feature {i} ({why})"));
                i += 1;
                continue;
            }
        };
        let properties = (0..names.len())
            .filter(|&k| k != geom)
            .map(|k| Ok((names[k].clone(), json_value(row.get_ref(k)?))))
            .collect::<rusqlite::Result<_>>()
            .map_err(sql_err(path))?;
        let multi = polygons.len() > 1;
        push_feature(&mut layer, i, multi, polygons, properties).map_err(invalid)?;
        i += 1;
    }
    Ok(layer)
}
