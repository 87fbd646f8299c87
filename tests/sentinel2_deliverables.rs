//! Issue 18's GIS deliverables on a real Sentinel-2 pair (OSCD Beihai, L1C DN, 300×300,
//! `data/sentinel2_beihai_pair/`), checked with GDAL's own command-line tools: the pair as
//! bundled (EPSG:4326) and warped to UTM 49N by `gdalwarp` give `patches.shp` and
//! `patches.gpkg` in the imagery's CRS with the features, `id` first, and `area_m2` of
//! `patches.geojson`, and styled class and change maps (colour table, overviews); the pair
//! recompressed (ZSTD, tiled) and the pair as one file per band give byte-identical results,
//! the GeoPackage included (the job's fixed time stamp). Skipped without GDAL unless
//! `LANDWATCH_REQUIRE_GDAL=1`.

mod common;

use common::gdal::{self, Gdal, GdalGrid, validate_gpkg};
use common::{data, temp_dir};
use landwatch::io::{BandFile, BandFilesSource, Resampling};
use landwatch::job::Job;
use landwatch::{BandRole, Engine, Sensor};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const T1: &str = "sentinel2_beihai_pair/beihai_t1_B02_B03_B04_B08_B11_B12_10m.tif";
const T2: &str = "sentinel2_beihai_pair/beihai_t2_B02_B03_B04_B08_B11_B12_10m.tif";

/// The job's fixed time stamp, 2023-11-14T22:13:20Z (`date -u -d @1700000000`).
const STAMP_SECONDS: u64 = 1_700_000_000;
const STAMP_ISO: &str = "2023-11-14T22:13:20.000Z";

/// The bands of the stacks, in file order: blue, green, red, NIR, SWIR1, SWIR2.
const ROLES: [BandRole; 6] = BandRole::ALL;

/// The result files that must be byte-identical however the same pixels are stored.
const RESULTS: [&str; 12] = [
    "class_before.tif",
    "class_after.tif",
    "change.tif",
    "patches.tif",
    "patches.csv",
    "patches.geojson",
    "patches.shp",
    "patches.shx",
    "patches.dbf",
    "patches.cpg",
    "patches.prj",
    "patches.gpkg",
];

fn stamp() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(STAMP_SECONDS)
}

/// The enforcement job on `job` (Sentinel-2 L1C, the fixed time stamp), on the CPU, into
/// `out`; returns the patch count.
fn run(job: Job, out: &Path) -> usize {
    let sensor = Sensor::preset("sentinel2-l1c").unwrap();
    let report = job
        .sensor(sensor)
        .timestamp(stamp())
        .run(&Engine::cpu(), out)
        .unwrap();
    for f in RESULTS {
        assert!(
            report.outputs.iter().any(|p| p.ends_with(f)),
            "{f} is not among the outputs"
        );
    }
    report.patch_count
}

/// A GDAL tool's standard output as text; panics with GDAL's message when it fails.
fn tool(name: &str, args: &[&str]) -> String {
    let out = gdal::run(name, args).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out).unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The EPSG code `gdalsrsinfo -o epsg` identifies for a raster or vector file.
fn srs_epsg(path: &Path) -> String {
    let text = tool("gdalsrsinfo", &["-o", "epsg", path_str(path)]);
    let code = text.trim();
    assert!(
        code.starts_with("EPSG:"),
        "gdalsrsinfo finds no EPSG code for {}: {text}",
        path.display()
    );
    code.to_string()
}

/// The EPSG code of the root `ID` of the CRS `gdalinfo -json` reports for a raster.
fn gdalinfo_epsg(path: &Path) -> String {
    let info = gdal::info(path).unwrap();
    let wkt = info["coordinateSystem"]["wkt"].as_str().unwrap_or_default();
    let at = wkt
        .rfind("ID[\"EPSG\",")
        .unwrap_or_else(|| panic!("gdalinfo: {} has no EPSG CRS: {wkt}", path.display()));
    let code: String = wkt[at + 10..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    format!("EPSG:{code}")
}

/// What `ogrinfo -so` says of a vector file's layer `patches`: the feature count and the
/// field names in order.
fn layer_summary(path: &Path) -> (usize, Vec<String>) {
    const TYPES: [&str; 8] = [
        "Integer64",
        "Integer",
        "Real",
        "String",
        "DateTime",
        "Date",
        "Time",
        "Binary",
    ];
    let text = tool("ogrinfo", &["-ro", "-so", path_str(path), "patches"]);
    let count = text
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .unwrap_or_else(|| panic!("ogrinfo gives no feature count: {text}"))
        .trim()
        .parse()
        .unwrap();
    // Field lines read `name: Type (width.precision)` or `name: Type(Subtype) (...)`.
    let fields = text
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(": ")?;
            let ty = TYPES.iter().find(|t| rest.starts_with(*t))?;
            let after = &rest[ty.len()..];
            (!name.contains(char::is_whitespace)
                && (after.starts_with(" (") || after.starts_with('(')))
            .then(|| name.to_string())
        })
        .collect();
    (count, fields)
}

/// Every feature of a vector file's layer `patches` as `ogrinfo` prints it (no geometry):
/// the fields' names and values as text, in order.
fn layer_features(path: &Path) -> Vec<Vec<(String, String)>> {
    let text = tool(
        "ogrinfo",
        &["-ro", "-q", "-geom=NO", path_str(path), "patches"],
    );
    let mut features: Vec<Vec<(String, String)>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("OGRFeature(") {
            features.push(Vec::new());
        } else if let (Some(feature), Some((left, value))) =
            (features.last_mut(), line.trim().split_once(" = "))
            && let Some((name, _)) = left.split_once(" (")
        {
            feature.push((name.to_string(), value.to_string()));
        }
    }
    features
}

/// The GeoJSON's features' properties, in order.
fn geojson_properties(out: &Path) -> Vec<serde_json::Map<String, Value>> {
    let text = std::fs::read_to_string(out.join("patches.geojson")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"].as_object().unwrap().clone())
        .collect()
}

/// Checks the deliverables in `out` of the job on the imagery `input`, whose CRS is
/// `epsg`: the layers' CRS, features and `area_m2`, and the styled maps. With `pixel_m2`
/// (a projected grid in metres), each patch's `area_m2`, a ground area, is also its pixels
/// times that to within the projection's scale distortion (0.5 %).
fn check_deliverables(gdal: &Gdal, out: &Path, input: &Path, epsg: &str, pixel_m2: Option<f64>) {
    assert_eq!(gdalinfo_epsg(input), epsg, "gdalinfo of the input");
    assert_eq!(srs_epsg(input), epsg, "gdalsrsinfo of the input");
    let geojson = geojson_properties(out);
    let n = geojson.len();
    assert!(n >= 10, "only {n} patches on a pair with visible change");
    let patch_area: f64 = geojson.iter().map(|p| p["area_m2"].as_f64().unwrap()).sum();
    assert!(
        patch_area >= 10_000.0,
        "the patches cover only {patch_area} m²"
    );
    if let Some(px) = pixel_m2 {
        for p in &geojson {
            let pixels = p["pixels"].as_f64().unwrap();
            let area = p["area_m2"].as_f64().unwrap();
            assert!(
                (area - pixels * px).abs() <= 5e-3 * area,
                "patch {}: {area} m² for {pixels} pixels of {px} m²",
                p["id"]
            );
        }
    }
    for layer in ["patches.shp", "patches.gpkg"] {
        let path = out.join(layer);
        assert_eq!(srs_epsg(&path), epsg, "the CRS of {layer}");
        let (count, fields) = layer_summary(&path);
        assert_eq!(count, n, "{layer}'s feature count (ogrinfo -so)");
        assert_eq!(fields.first().map(String::as_str), Some("id"), "{layer}");
        assert!(fields.iter().any(|f| f == "area_m2"), "{layer}: {fields:?}");
        let features = layer_features(&path);
        assert_eq!(features.len(), n, "{layer}'s features (ogrinfo -al)");
        for (i, (f, g)) in features.iter().zip(&geojson).enumerate() {
            let value = |name: &str| -> f64 {
                let v = f.iter().find(|(k, _)| k == name);
                let v = v.unwrap_or_else(|| panic!("{layer} feature {i} has no {name}: {f:?}"));
                v.1.trim().parse().unwrap()
            };
            assert_eq!(f[0].0, "id", "{layer} feature {i}'s first field");
            assert_eq!(
                value("id"),
                g["id"].as_f64().unwrap(),
                "{layer} feature {i}"
            );
            let (got, want) = (value("area_m2"), g["area_m2"].as_f64().unwrap());
            assert!(
                (got - want).abs() <= 1e-9 * want.max(1.0),
                "{layer} feature {i}: area_m2 {got}, the GeoJSON's {want}"
            );
        }
    }
    validate_gpkg(gdal, &out.join("patches.gpkg"));
    let gpkg_sql = |sql: &str| {
        let gpkg = out.join("patches.gpkg");
        tool("ogrinfo", &["-ro", "-q", path_str(&gpkg), "-sql", sql])
    };
    // As text: GDAL would read the DATETIME as its own date type.
    let stamps = gpkg_sql("SELECT last_change || '' AS stamp FROM gpkg_contents");
    let stamps: Vec<&str> = stamps.lines().filter(|l| l.contains("stamp")).collect();
    assert!(
        stamps.len() == 2 && stamps.iter().all(|l| l.ends_with(STAMP_ISO)),
        "patches.gpkg's last_change is not the job's time stamp: {stamps:?}"
    );
    // QGIS's default style of the layer, dated by the job too (scripts/qgis-check.py shows
    // QGIS opening the layer with it).
    let styles = gpkg_sql(
        "SELECT f_table_name, useAsDefault, update_time || '' AS stamp, \
         instr(styleQML, 'categorizedSymbol') > 0 AS categorized FROM layer_styles",
    );
    for line in [
        "f_table_name (String) = patches".to_string(),
        "useAsDefault (Integer(Boolean)) = 1".to_string(),
        format!("stamp (String) = {STAMP_ISO}"),
        "categorized (Integer) = 1".to_string(),
    ] {
        assert!(
            styles.contains(&line),
            "patches.gpkg's style: no {line} in {styles}"
        );
    }
    let shp = tool(
        "ogrinfo",
        &["-ro", "-al", "-so", path_str(&out.join("patches.shp"))],
    );
    assert!(
        shp.contains(&format!("DBF_DATE_LAST_UPDATE={}", &STAMP_ISO[..10])),
        "the DBF's date of last update is not the job's time stamp's: {shp}"
    );
    for map in ["class_before.tif", "class_after.tif", "change.tif"] {
        let info = gdal::info(&out.join(map)).unwrap();
        let band = &info["bands"][0];
        let colours = band["colorTable"]["count"].as_u64().unwrap_or(0);
        assert!(colours >= 6, "{map} has no colour table: {band}");
        let overviews = band["overviews"].as_array().map_or(0, Vec::len);
        assert!(overviews >= 1, "{map} has no overviews: {band}");
        assert_eq!(gdalinfo_epsg(&out.join(map)), epsg, "{map}'s CRS");
    }
}

/// Panics unless every file of [`RESULTS`] is byte-identical in `a` and `b`.
fn assert_same_files(a: &Path, b: &Path, what: &str) {
    for f in RESULTS {
        let (x, y) = (std::fs::read(a.join(f)), std::fs::read(b.join(f)));
        let (x, y) = (x.unwrap(), y.unwrap_or_default());
        assert!(x == y, "{f} differs: {what}");
    }
}

/// `gdal_translate` (or another GDAL tool) with `args`, then the input and output.
fn translate(input: &Path, output: &Path, args: &[&str]) {
    let mut all = vec!["-q"];
    all.extend_from_slice(args);
    all.extend([path_str(input), path_str(output)]);
    tool("gdal_translate", &all);
}

#[test]
fn the_beihai_pair_gives_the_gis_deliverables_however_it_is_stored() {
    let Some(gdal) = gdal::gdal("the_beihai_pair_gives_the_gis_deliverables") else {
        return;
    };
    let dir = temp_dir("sentinel2_deliverables");
    let (t1, t2) = (data(T1), data(T2));

    // a. As bundled, in longitude/latitude.
    let bundled = dir.join("bundled");
    let n = run(Job::new(&t1, &t2), &bundled);
    check_deliverables(&gdal, &bundled, &t1, "EPSG:4326", None);
    eprintln!("EPSG:4326: {n} patches");

    // b. Warped to WGS 84 / UTM 49N at 10 m (Sentinel-2 holds no 0: 0 is the fill).
    let utm = [dir.join("t1_utm.tif"), dir.join("t2_utm.tif")];
    for (src, dst) in [&t1, &t2].into_iter().zip(&utm) {
        let args = [
            "-q",
            "-t_srs",
            "EPSG:32649",
            "-tr",
            "10",
            "10",
            "-r",
            "near",
        ];
        let mut args = args.to_vec();
        args.extend(["-dstnodata", "0", path_str(src), path_str(dst)]);
        tool("gdalwarp", &args);
    }
    let grid = GdalGrid::of(&utm[0]).unwrap();
    assert_eq!(grid.differs(&GdalGrid::of(&utm[1]).unwrap()), None);
    let warped = dir.join("utm");
    let n = run(Job::new(&utm[0], &utm[1]), &warped);
    check_deliverables(&gdal, &warped, &utm[0], "EPSG:32649", Some(100.0));
    eprintln!("EPSG:32649 ({:?} px): {n} patches", grid.size);

    // c. The same pixels as tiled ZSTD.
    let zstd = [dir.join("t1_zstd.tif"), dir.join("t2_zstd.tif")];
    for (src, dst) in [&t1, &t2].into_iter().zip(&zstd) {
        translate(src, dst, &["-co", "COMPRESS=ZSTD", "-co", "TILED=YES"]);
        let info = gdal::info(dst).unwrap();
        assert_eq!(info["metadata"]["IMAGE_STRUCTURE"]["COMPRESSION"], "ZSTD");
    }
    let recompressed = dir.join("zstd");
    run(Job::new(&zstd[0], &zstd[1]), &recompressed);
    assert_same_files(&bundled, &recompressed, "the pair as tiled ZSTD");

    // d. The same pixels as one file per band.
    let per_band = |date: &Path, name: &str| -> BandFilesSource {
        let files = ROLES
            .iter()
            .enumerate()
            .map(|(b, role)| {
                let file: PathBuf = dir.join(format!("{name}_b{}.tif", b + 1));
                translate(date, &file, &["-b", &(b + 1).to_string()]);
                BandFile::new(file, *role, Resampling::Nearest)
            })
            .collect();
        BandFilesSource::new(files)
    };
    let bands = dir.join("bands");
    let job = Job::from_sources(per_band(&t1, "t1"), per_band(&t2, "t2")).bands(ROLES.to_vec());
    run(job, &bands);
    assert_same_files(&bundled, &bands, "the pair as one file per band");
    let _ = std::fs::remove_dir_all(&dir);
}
