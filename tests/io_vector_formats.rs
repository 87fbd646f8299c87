//! The patches as Shapefile and GeoPackage, checked with GDAL (Python bindings): the same
//! features, fields (in order, `id` first) and values as `patches.geojson`, in the imagery's
//! own CRS (the EPSG code GDAL reads from the imagery), with polygon areas equal to the
//! patches' pixel counts times the pixel area; on the Taizhou pair (UTM 51N) and on the pair
//! warped to EPSG:4326. Zones and regions given as Shapefile and GeoPackage (converted from
//! the bundled GeoJSON by `ogr2ogr`, into EPSG:4326 and into UTM) give the same zone flags and
//! `regions.csv` as the GeoJSON. GDAL's GeoPackage validator passes the GeoPackage. Skipped
//! without GDAL unless `LANDWATCH_REQUIRE_GDAL=1`.

mod common;

use common::gdal::{self, Gdal, validate_gpkg};
use common::{data, taizhou_job, temp_dir};
use landwatch::Engine;
use landwatch::io::fields::dbf_names;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Prints, as JSON, what GDAL reads from each file: the layer's EPSG code, field names and
/// per feature the values and the geometry's area; for a raster, its EPSG code and pixel
/// area.
const DUMP: &str = r#"
import json, sys
from osgeo import gdal, ogr
gdal.UseExceptions()
out = []
for path in sys.argv[1:]:
    if path.endswith(".tif"):
        ds = gdal.Open(path)
        t = ds.GetGeoTransform()
        out.append({"epsg": ds.GetSpatialRef().GetAuthorityCode(None),
                    "pixel_area": abs(t[1] * t[5] - t[2] * t[4])})
        continue
    ds = ogr.Open(path)
    layer = ds.GetLayer(0)
    srs = layer.GetSpatialRef()
    d = layer.GetLayerDefn()
    fields = [d.GetFieldDefn(i).GetName() for i in range(d.GetFieldCount())]
    features = [{"values": [f.GetField(i) for i in range(len(fields))],
                 "area": f.GetGeometryRef().GetArea()} for f in layer]
    out.append({"epsg": srs.GetAuthorityCode(None) if srs else None,
                "fields": fields, "features": features})
print(json.dumps(out))
"#;

fn dump(gdal: &Gdal, paths: &[PathBuf]) -> Vec<Value> {
    let out = Command::new(&gdal.python)
        .arg("-c")
        .arg(DUMP)
        .args(paths)
        .env("GDAL_PAM_ENABLED", "NO")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the GDAL dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

/// Whether a DBF value (numbers to at least 15 significant digits or 10 decimals, booleans
/// as 1/0) stands for the GeoJSON value.
fn dbf_equal(dbf: &Value, json: &Value) -> bool {
    match (dbf, json) {
        (Value::Number(a), Value::Bool(b)) => a.as_f64() == Some(f64::from(u8::from(*b))),
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            (a - b).abs() <= 1e-9 * b.abs().max(1.0)
        }
        (a, b) => a == b,
    }
}

/// Checks the three layers of `out` against each other and against the imagery `tif`.
fn check_layers(gdal: &Gdal, out: &Path, tif: &Path) {
    validate_gpkg(gdal, &out.join("patches.gpkg"));
    let files = ["patches.geojson", "patches.shp", "patches.gpkg"].map(|f| out.join(f));
    let mut all = files.to_vec();
    all.push(tif.to_path_buf());
    let d = dump(gdal, &all);
    let (geojson, shp, gpkg, image) = (&d[0], &d[1], &d[2], &d[3]);
    assert_eq!(
        geojson["epsg"], "4326",
        "patches.geojson is longitude/latitude"
    );
    assert!(image["epsg"].is_string(), "the imagery has an EPSG code");
    assert_eq!(
        shp["epsg"], image["epsg"],
        "the Shapefile's CRS is the imagery's"
    );
    assert_eq!(
        gpkg["epsg"], image["epsg"],
        "the GeoPackage's CRS is the imagery's"
    );
    let names: Vec<&str> = geojson["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(&names[..3], ["id", "code", "change_type"]);
    assert_eq!(gpkg["fields"], geojson["fields"], "GeoPackage fields");
    assert_eq!(
        shp["fields"],
        serde_json::json!(dbf_names(&names)),
        "DBF fields"
    );
    let features = |v: &Value| v["features"].as_array().unwrap().clone();
    let (g, s, p) = (features(geojson), features(shp), features(gpkg));
    assert!(g.len() > 50, "only {} patches", g.len());
    assert_eq!((s.len(), p.len()), (g.len(), g.len()), "feature counts");
    let pixel_area = image["pixel_area"].as_f64().unwrap();
    let pixels = names.iter().position(|n| *n == "pixels").unwrap();
    for ((g, s), p) in g.iter().zip(&s).zip(&p) {
        assert_eq!(p["values"], g["values"], "GeoPackage values");
        let (gv, sv) = (
            g["values"].as_array().unwrap(),
            s["values"].as_array().unwrap(),
        );
        for ((name, a), b) in names.iter().zip(sv).zip(gv) {
            assert!(dbf_equal(a, b), "{name}: DBF {a} for {b}");
        }
        let area = gv[pixels].as_f64().unwrap() * pixel_area;
        for (what, f) in [("Shapefile", s), ("GeoPackage", p)] {
            let got = f["area"].as_f64().unwrap();
            assert!(
                (got - area).abs() <= 1e-9 * area,
                "{what} polygon area {got} for {area} (patch {})",
                gv[0]
            );
        }
    }
}

#[test]
fn shapefile_and_geopackage_equal_the_geojson_in_the_imagery_crs() {
    let Some(gdal) = gdal::gdal("shapefile_and_geopackage_equal_the_geojson") else {
        return;
    };
    let dir = temp_dir("vector_formats_utm");
    let t1 = data("landsat_taizhou/Taizhou_t1.tif");
    let out = dir.join("out");
    let report = taizhou_job(&t1, data("landsat_taizhou/Taizhou_t2.tif"))
        .run(&Engine::cpu(), &out)
        .unwrap();
    for f in ["shp", "shx", "dbf", "cpg", "prj", "gpkg"] {
        let name = format!("patches.{f}");
        assert!(
            report.outputs.iter().any(|p| p.ends_with(&name)),
            "{name} is not listed in the outputs"
        );
    }
    assert_eq!(std::fs::read(out.join("patches.cpg")).unwrap(), b"UTF-8");
    check_layers(&gdal, &out, &t1);
}

/// The Taizhou pair warped to EPSG:4326 under `dir` (nearest neighbour; Landsat holds no 0,
/// so 0 is the declared fill), both dates on the first one's grid.
fn lon_lat_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let (t1, t2) = (dir.join("t1.tif"), dir.join("t2.tif"));
    let warp = |src: &str, dst: &Path, te: &[String]| {
        let mut args: Vec<String> = ["-q", "-r", "near", "-t_srs", "EPSG:4326", "-dstnodata", "0"]
            .map(String::from)
            .to_vec();
        args.extend(te.iter().cloned());
        args.push(data(src).display().to_string());
        args.push(dst.display().to_string());
        gdal::run("gdalwarp", &args).unwrap_or_else(|e| panic!("harness: {e}"));
    };
    warp("landsat_taizhou/Taizhou_t1.tif", &t1, &[]);
    let grid = gdal::GdalGrid::of(&t1).unwrap();
    let mut te = vec!["-te".to_string()];
    te.extend(grid.extent().iter().map(|v| format!("{v:?}")));
    te.extend([
        "-ts".into(),
        grid.size.0.to_string(),
        grid.size.1.to_string(),
    ]);
    warp("landsat_taizhou/Taizhou_t2.tif", &t2, &te);
    (t1, t2)
}

#[test]
fn a_lon_lat_scene_gives_lon_lat_shapefile_and_geopackage() {
    let Some(gdal) = gdal::gdal("a_lon_lat_scene_gives_lon_lat_shapefile_and_geopackage") else {
        return;
    };
    let dir = temp_dir("vector_formats_4326");
    let (t1, t2) = lon_lat_pair(&dir);
    let out = dir.join("out");
    taizhou_job(&t1, &t2).run(&Engine::cpu(), &out).unwrap();
    check_layers(&gdal, &out, &t1);
}

/// The bundled GeoJSON layer `name` converted by `ogr2ogr` into `dir` as `ext` (`shp` or
/// `gpkg`) in `srs`.
fn converted(dir: &Path, name: &str, ext: &str, srs: &str) -> PathBuf {
    let src = data(&format!("landsat_taizhou/illustrative/{name}.geojson"));
    let dst = dir.join(format!("{name}_{}.{ext}", srs.replace(':', "")));
    let driver = if ext == "shp" {
        "ESRI Shapefile"
    } else {
        "GPKG"
    };
    let args = ["-f", driver, "-t_srs", srs];
    let mut args: Vec<String> = args.map(String::from).to_vec();
    args.extend([dst.display().to_string(), src.display().to_string()]);
    gdal::run("ogr2ogr", &args).unwrap_or_else(|e| panic!("harness: {e}"));
    dst
}

#[test]
fn zones_and_regions_from_shapefile_and_geopackage_equal_the_geojson() {
    let Some(_gdal) = gdal::gdal("zones_and_regions_from_shapefile_and_geopackage") else {
        return;
    };
    let dir = temp_dir("vector_formats_zones");
    let (t1, t2) = (
        data("landsat_taizhou/Taizhou_t1.tif"),
        data("landsat_taizhou/Taizhou_t2.tif"),
    );
    let reference = dir.join("geojson");
    taizhou_job(&t1, &t2)
        .run(&Engine::cpu(), &reference)
        .unwrap();
    // Each layer as Shapefile and GeoPackage, in longitude/latitude and in the imagery's
    // UTM zone, mixed two ways.
    let (lon_lat, utm) = ("EPSG:4326", "EPSG:32651");
    let layers = [
        "basic_farmland",
        "eco_redline",
        "urban_boundary",
        "counties",
    ];
    let ways = [
        [
            ("shp", lon_lat),
            ("gpkg", lon_lat),
            ("shp", utm),
            ("gpkg", utm),
        ],
        [
            ("gpkg", utm),
            ("shp", utm),
            ("gpkg", lon_lat),
            ("shp", lon_lat),
        ],
    ];
    for (w, way) in ways.iter().enumerate() {
        let files: Vec<PathBuf> = layers
            .iter()
            .zip(way)
            .map(|(name, (ext, srs))| converted(&dir, name, ext, srs))
            .collect();
        let out = dir.join(format!("way{w}"));
        landwatch::job::Job::new(&t1, &t2)
            .sensor(landwatch::Sensor::landsat_dn())
            .zone_geojson("basic_farmland", &files[0])
            .zone_geojson("eco_redline", &files[1])
            .zone_geojson("urban_boundary", &files[2])
            .regions(&files[3], "code")
            .run(&Engine::cpu(), &out)
            .unwrap_or_else(|e| panic!("{files:?}: {e}"));
        for f in ["patches.csv", "regions.csv"] {
            assert!(
                std::fs::read(out.join(f)).unwrap() == std::fs::read(reference.join(f)).unwrap(),
                "{f} differs with zones and regions from {files:?}"
            );
        }
    }
}

/// Without GDAL: polygons (a hole, a multipolygon) and values written as Shapefile and
/// GeoPackage read back the same; a CRS without an EPSG definition gives no `.prj` and a
/// warning.
#[test]
fn shapefile_and_geopackage_read_back_what_was_written() {
    use landwatch::geo::{Ellipsoid, GeodeticBase, UserCrs};
    use landwatch::io::{Polygon, fields, gpkg, shapefile};
    use serde_json::json;
    let dir = temp_dir("vector_formats_round_trip");
    let square = |x: f64, s: f64| vec![[x, 0.0], [x + s, 0.0], [x + s, s], [x, s], [x, 0.0]];
    let features = [
        vec![Polygon {
            exterior: square(500_000.0, 90.0),
            holes: vec![square(500_030.0, 30.0)],
        }],
        vec![
            Polygon {
                exterior: square(501_000.0, 30.0),
                holes: vec![],
            },
            Polygon {
                exterior: square(502_000.0, 60.0),
                holes: vec![],
            },
        ],
    ];
    let values = [
        vec![json!(1), json!("耕地"), json!(7200.25), json!(true)],
        vec![json!(2), Value::Null, json!(4500.0), json!(false)],
    ];
    let names = ["id", "land_use_type", "area_m2", "in_basic_farmland"];
    let fields = fields::infer_fields(&names, 2, |i| values[i].clone());
    let row = |i: usize| Ok((features[i].clone(), values[i].clone()));
    let utm = landwatch::geo::Crs::epsg(32651);
    let shp = dir.join("a.shp");
    let written =
        shapefile::write_shapefile(&shp, Some(&utm), &fields, 2, row, SystemTime::now()).unwrap();
    assert_eq!(written.files.len(), 5);
    let gpkg_path = dir.join("a.gpkg");
    gpkg::write_geopackage(
        &gpkg_path,
        "a",
        Some(&utm),
        &fields,
        2,
        row,
        SystemTime::now(),
    )
    .unwrap();
    let area = |p: &Polygon| {
        let a = |r: &[[f64; 2]]| {
            r.windows(2)
                .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
                .sum::<f64>()
                .abs()
                / 2.0
        };
        a(&p.exterior) - p.holes.iter().map(|h| a(h)).sum::<f64>()
    };
    for layer in [
        shapefile::read_shapefile(&shp).unwrap(),
        gpkg::read_geopackage(&gpkg_path).unwrap(),
    ] {
        assert_eq!(layer.crs, Some(utm));
        assert_eq!(layer.features.len(), 2);
        for (f, want) in layer.features.iter().zip(&features) {
            let got: Vec<f64> = f.polygons.iter().map(area).collect();
            let want: Vec<f64> = want.iter().map(area).collect();
            assert_eq!(got, want);
        }
        let first = &layer.features[0].properties;
        let text = first.get("land_use_t").or(first.get("land_use_type"));
        assert_eq!(text, Some(&json!("耕地")));
        let flag = first.get("in_basic_f").or(first.get("in_basic_farmland"));
        assert_eq!(flag, Some(&json!(1)));
        let area = first.get("area_m2").unwrap().as_f64().unwrap();
        assert!((area - 7200.25).abs() < 1e-9);
    }
    let user = landwatch::geo::Crs::User(UserCrs {
        base: GeodeticBase::Ellipsoid {
            ellipsoid: Ellipsoid::GRS80,
            epsg: Some(7019),
        },
        projection: None,
        unit_m: 1.0,
    });
    let written = shapefile::write_shapefile(
        &dir.join("b.shp"),
        Some(&user),
        &fields,
        2,
        row,
        SystemTime::now(),
    )
    .unwrap();
    assert!(!dir.join("b.prj").exists());
    assert_eq!(written.warnings.len(), 1, "{:?}", written.warnings);
}
