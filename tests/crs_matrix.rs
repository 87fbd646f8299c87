//! The CRS matrix of issue 14: the enforcement job must work whatever coordinate reference
//! system its GeoTIFFs are in, and refuse, cleanly, inputs it cannot place on the Earth.
//!
//! Each case warps the bundled Taizhou pair (Landsat 7 DN, WGS 84 / UTM 51N) with GDAL's
//! `gdalwarp -r near` into one target CRS, both dates onto exactly the same grid, runs the
//! demo job of `examples/enforce.rs` on it (its zones and counties), and checks the outputs
//! against GDAL and GeographicLib, never against landwatch's own readers:
//! - every output raster has the CRS of its input (`osr.SpatialReference.IsSame`) and its
//!   grid (`gdalinfo`);
//! - every patch's `area_m2` in `patches.csv` is the geodesic area on the WGS 84 ellipsoid
//!   (Karney's algorithm, `geographiclib-rs`) of its polygon in `patches.geojson`, to 0.5%;
//! - the polygons lie on the scene's footprint in longitude/latitude (as GDAL computes it);
//! - there are more than 20 patches, and their geodesic total is within a few percent of
//!   that of the job on the unwarped pair: the same ground, whatever the grid.
//!
//! The demo's zone layers are GeoJSON in EPSG:32651 (a legacy `crs` member naming it), so
//! every CRS is tried twice: in `lonlat_zones` with the layers converted to RFC 7946
//! longitude/latitude by `ogr2ogr` (the imagery's CRS alone changes), in `demo_zones` with
//! the layers as shipped (the zones must then be carried from EPSG:32651 to the imagery's
//! CRS as well).
//!
//! Skipped with a printed reason when GDAL's tools or Python bindings are missing, unless
//! `LANDWATCH_REQUIRE_GDAL=1`. Run with `--nocapture` for one table row per CRS. Scratch
//! files go to `landwatch_crs_matrix_<test>_<pid>` under the temporary directory and are
//! removed when the case passes.

mod common;

use common::gdal::{self, Gdal, GdalGrid};
use geographiclib_rs::{Geodesic, PolygonArea, Winding};
use landwatch::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The raster outputs of the job, each on the input's grid and CRS.
const OUTPUT_RASTERS: [&str; 4] = [
    "class_before.tif",
    "class_after.tif",
    "change.tif",
    "patches.tif",
];
/// Largest relative difference between a patch's `area_m2` and the geodesic area of its
/// polygon.
const MAX_AREA_ERROR: f64 = 0.005;
/// A patched scene this size with fewer patches has lost most of its change.
const MIN_PATCHES: usize = 20;
/// Largest relative difference between the geodesic total patch area of a warped pair and
/// that of the unwarped pair. Nearest-neighbour resampling onto another grid moves patch
/// borders by up to a pixel and the 30 m opening and the noise model react to the new
/// pixel shapes, so the total moves a little (0.6% in EPSG:4326, 0.3% in EPSG:4549 with the
/// library at commit a469f17); a CRS handled wrongly (areas, pixel size, placement, nodata)
/// moves it by far more.
const MAX_TOTAL_DEVIATION: f64 = 0.03;
/// Polygon vertices may lie this far (degrees, about 200 m) outside the scene's footprint.
const FOOTPRINT_MARGIN_DEG: f64 = 0.002;

/// A user-defined Albers equal-area conic on Krassovsky (no EPSG code).
const ALBERS_KRASSOVSKY: &str = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +ellps=krass +units=m +no_defs";
/// A user-defined Gauss-Krüger zone on Krassovsky, central meridian 120°E (no EPSG code).
const GAUSS_KRUGER_KRASSOVSKY: &str =
    "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000 +y_0=0 +ellps=krass +units=m +no_defs";

/// One `#[test]` per target CRS and zone layers, so that each is reported on its own.
macro_rules! crs_cases {
    ($($(#[$doc:meta])* $name:ident: $srs:expr;)*) => {
        /// The zone layers converted to longitude/latitude.
        mod lonlat_zones {
            use super::*;
            $(
                $(#[$doc])*
                #[test]
                fn $name() {
                    check(concat!("lonlat_zones::", stringify!($name)), $srs, Zones::LonLat);
                }
            )*
        }
        /// The zone layers as shipped, in EPSG:32651.
        mod demo_zones {
            use super::*;
            $(
                $(#[$doc])*
                #[test]
                fn $name() {
                    check(concat!("demo_zones::", stringify!($name)), $srs, Zones::Demo);
                }
            )*
        }
    };
}

crs_cases! {
    /// The pair's own CRS: gdalwarp keeps the grid (the pixel size to within an ulp).
    epsg_32651_wgs84_utm_51n: "EPSG:32651";
    /// CGCS2000 / 3-degree Gauss-Kruger CM 120E.
    epsg_4549_cgcs2000_gk3_cm120e: "EPSG:4549";
    /// CGCS2000 / Gauss-Kruger CM 123E (6-degree zone, no zone prefix).
    epsg_4510_cgcs2000_gk6_cm123e: "EPSG:4510";
    /// CGCS2000 longitude/latitude.
    epsg_4490_cgcs2000_geographic: "EPSG:4490";
    /// WGS 84 longitude/latitude.
    epsg_4326_wgs84_geographic: "EPSG:4326";
    /// WGS 84 / Pseudo-Mercator: pixels of about 35.6 "metres" that are 30 m on the ground.
    epsg_3857_web_mercator: "EPSG:3857";
    /// User-defined Albers on Krassovsky.
    user_albers_krassovsky: ALBERS_KRASSOVSKY;
    /// User-defined Gauss-Krüger CM 120E on Krassovsky.
    user_gauss_kruger_krassovsky_cm120e: GAUSS_KRUGER_KRASSOVSKY;
}

/// One date of the bundled Taizhou pair.
fn taizhou(name: &str) -> PathBuf {
    common::data(&format!("landsat_taizhou/{name}"))
}

/// The zone and region layers of the demo job.
const ZONE_FILES: [&str; 4] = [
    "basic_farmland.geojson",
    "eco_redline.geojson",
    "urban_boundary.geojson",
    "counties.geojson",
];

/// Which zone and region layers the job gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zones {
    /// Converted by `ogr2ogr -t_srs EPSG:4326 -lco RFC7946=YES`: longitude/latitude.
    LonLat,
    /// As shipped in `data/landsat_taizhou/illustrative`: EPSG:32651.
    Demo,
}

impl Zones {
    /// The folder holding the layers, converted under `scratch` when they need to be.
    fn folder(self, scratch: &Path) -> Result<PathBuf, String> {
        let shipped = common::data("landsat_taizhou/illustrative");
        match self {
            Zones::Demo => Ok(shipped),
            Zones::LonLat => {
                let dir = scratch.join("zones_lonlat");
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                for file in ZONE_FILES {
                    let (src, dst) = (shipped.join(file), dir.join(file));
                    let args: [&std::ffi::OsStr; 8] = [
                        "-f".as_ref(),
                        "GeoJSON".as_ref(),
                        "-lco".as_ref(),
                        "RFC7946=YES".as_ref(),
                        "-t_srs".as_ref(),
                        "EPSG:4326".as_ref(),
                        dst.as_os_str(),
                        src.as_os_str(),
                    ];
                    gdal::run("ogr2ogr", args)?;
                }
                Ok(dir)
            }
        }
    }
}

/// Warps `src` into `srs` with nearest-neighbour resampling, onto `grid` when given (its
/// extent and size), else onto the grid gdalwarp chooses.
///
/// Nodata: the corners of the new grid outside the scene's footprint must be declared
/// nodata. A nodata value the source declares is kept. The Taizhou files declare none but
/// hold no 0 in any band (Landsat's fill value), so the fill is 0 and declared so with
/// `-dstnodata 0`. Without it gdalwarp fills with 0 undeclared, the job takes the corners
/// for land, most of them come out as "other change", and the patched area doubles
/// (measured: 1981 ha instead of 995 ha in EPSG:4326, with interior patches grown too).
fn warp(src: &Path, dst: &Path, srs: &str, grid: Option<&GdalGrid>) -> Result<(), String> {
    let mut args: Vec<String> = vec!["-q".into(), "-r".into(), "near".into()];
    args.extend(["-t_srs".into(), srs.into()]);
    args.extend(["-dstnodata".into(), fill_value(src)?]);
    if let Some(grid) = grid {
        args.push("-te".into());
        args.extend(grid.extent().iter().map(|v| format!("{v:?}")));
        args.extend([
            "-ts".into(),
            grid.size.0.to_string(),
            grid.size.1.to_string(),
        ]);
    }
    args.push(src.display().to_string());
    args.push(dst.display().to_string());
    gdal::run("gdalwarp", &args).map(drop)
}

/// The value to declare nodata in a warp of `src`: its own nodata value, or 0 when it has
/// none and holds no 0 (GDAL's computed minimum of every band is above 0).
fn fill_value(src: &Path) -> Result<String, String> {
    let j = gdal::info_with(src, &["-mm"])?;
    let bands = j["bands"].as_array().ok_or("gdalinfo gives no bands")?;
    if let Some(nodata) = bands[0]["noDataValue"].as_f64() {
        return Ok(format!("{nodata}"));
    }
    let minimum = bands
        .iter()
        .map(|b| b["computedMin"].as_f64().unwrap_or(f64::NAN))
        .fold(f64::INFINITY, f64::min);
    if minimum > 0.0 {
        Ok("0".into())
    } else {
        Err(format!(
            "{} declares no nodata and holds 0 (minimum {minimum}): no safe fill value",
            src.display()
        ))
    }
}

/// Both dates warped into `srs` under `dir`, on one grid: the grid gdalwarp chose for the
/// first date. Panics (a harness failure, not the library's) when GDAL fails or the grids
/// differ.
fn warp_pair(dir: &Path, srs: &str) -> (PathBuf, PathBuf, GdalGrid) {
    let (t1, t2) = (dir.join("t1.tif"), dir.join("t2.tif"));
    warp(&taizhou("Taizhou_t1.tif"), &t1, srs, None).unwrap_or_else(|e| panic!("harness: {e}"));
    let grid = GdalGrid::of(&t1).unwrap_or_else(|e| panic!("harness: {e}"));
    warp(&taizhou("Taizhou_t2.tif"), &t2, srs, Some(&grid))
        .unwrap_or_else(|e| panic!("harness: {e}"));
    let grid2 = GdalGrid::of(&t2).unwrap_or_else(|e| panic!("harness: {e}"));
    if let Some(d) = grid.differs(&grid2) {
        panic!("harness: gdalwarp put the dates on different grids: {d}");
    }
    (t1, t2, grid)
}

/// Runs the demo job (zones and counties from `zones`) into `out` on the CPU: its error
/// message, or the panic's, on failure.
fn run_job(before: &Path, after: &Path, zones: &Path, out: &Path) -> Result<(), String> {
    let job = landwatch::job::Job::new(before, after)
        .sensor(landwatch::Sensor::landsat_dn())
        .zone_geojson("basic_farmland", zones.join("basic_farmland.geojson"))
        .zone_geojson("eco_redline", zones.join("eco_redline.geojson"))
        .zone_geojson("urban_boundary", zones.join("urban_boundary.geojson"))
        .regions(zones.join("counties.geojson"), "code");
    match catch_unwind(AssertUnwindSafe(|| job.run(&Engine::cpu(), out))) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!("PANIC: {}", panic_text(&*panic))),
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// The bounding box `(lon_min, lat_min, lon_max, lat_max)` of the unwarped scene in
/// longitude/latitude, as GDAL computes it (`wgs84Extent`).
fn footprint() -> [f64; 4] {
    let j = gdal::info(&taizhou("Taizhou_t1.tif")).unwrap_or_else(|e| panic!("harness: {e}"));
    let ring = j["wgs84Extent"]["coordinates"][0]
        .as_array()
        .expect("harness: gdalinfo gives no wgs84Extent");
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for p in ring {
        let (lon, lat) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
        b = [b[0].min(lon), b[1].min(lat), b[2].max(lon), b[3].max(lat)];
    }
    b
}

/// What the patch outputs of one run say.
struct Patches {
    /// `area_m2` of each patch in `patches.csv`, by id.
    csv_m2: BTreeMap<u64, f64>,
    /// Geodesic area on WGS 84 of each patch's polygon in `patches.geojson`, by id.
    geodesic_m2: BTreeMap<u64, f64>,
}

impl Patches {
    /// Reads `patches.csv` and `patches.geojson` of `out`; vertices outside `footprint`
    /// (plus the margin) are an error.
    fn read(out: &Path, footprint: &[f64; 4]) -> Result<Patches, String> {
        Ok(Patches {
            csv_m2: csv_areas(&out.join("patches.csv"))?,
            geodesic_m2: geojson_areas(&out.join("patches.geojson"), footprint)?,
        })
    }

    fn geodesic_total(&self) -> f64 {
        self.geodesic_m2.values().sum()
    }

    fn csv_total(&self) -> f64 {
        self.csv_m2.values().sum()
    }
}

/// `area_m2` by `id` from `patches.csv`.
fn csv_areas(path: &Path) -> Result<BTreeMap<u64, f64>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header = common::csv_fields(lines.next().unwrap_or_default());
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("patches.csv has no {name} column"))
    };
    let (id, area) = (column("id")?, column("area_m2")?);
    let mut areas = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let f = common::csv_fields(line);
        let parse = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
        match (parse(id), parse(area)) {
            (Some(i), Some(a)) => areas.insert(i as u64, a),
            _ => return Err(format!("patches.csv: unreadable row {line}")),
        };
    }
    Ok(areas)
}

/// The geodesic area on WGS 84 of each feature of `patches.geojson`, by its `id` property.
fn geojson_areas(path: &Path, footprint: &[f64; 4]) -> Result<BTreeMap<u64, f64>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let j: Value =
        serde_json::from_str(&text).map_err(|e| format!("patches.geojson is not JSON: {e}"))?;
    let features = j["features"]
        .as_array()
        .ok_or("patches.geojson has no features array")?;
    let wgs84 = Geodesic::wgs84();
    let mut areas = BTreeMap::new();
    for f in features {
        let id = f["properties"]["id"]
            .as_u64()
            .ok_or("a patches.geojson feature has no integer id")?;
        let area = geometry_area(&wgs84, &f["geometry"], footprint)
            .map_err(|e| format!("patch {id} in patches.geojson: {e}"))?;
        areas.insert(id, area);
    }
    Ok(areas)
}

/// The geodesic area of a GeoJSON Polygon or MultiPolygon (holes subtracted).
fn geometry_area(g: &Geodesic, geometry: &Value, footprint: &[f64; 4]) -> Result<f64, String> {
    let coordinates = &geometry["coordinates"];
    let polygons: Vec<&Value> = match geometry["type"].as_str() {
        Some("Polygon") => vec![coordinates],
        Some("MultiPolygon") => coordinates
            .as_array()
            .ok_or("MultiPolygon without coordinates")?
            .iter()
            .collect(),
        other => return Err(format!("geometry type {other:?}")),
    };
    let mut total = 0.0;
    for polygon in polygons {
        let rings = polygon.as_array().ok_or("polygon without rings")?;
        for (i, ring) in rings.iter().enumerate() {
            let area = ring_area(g, ring, footprint)?;
            total += if i == 0 { area } else { -area };
        }
    }
    Ok(total)
}

/// The unsigned geodesic area enclosed by one linear ring of `[lon, lat]` positions.
fn ring_area(g: &Geodesic, ring: &Value, footprint: &[f64; 4]) -> Result<f64, String> {
    let mut points = Vec::new();
    for p in ring.as_array().ok_or("ring is not an array")? {
        let (lon, lat) = match (p[0].as_f64(), p[1].as_f64()) {
            (Some(lon), Some(lat)) => (lon, lat),
            _ => return Err(format!("position {p} is not numeric")),
        };
        let m = FOOTPRINT_MARGIN_DEG;
        if lon < footprint[0] - m
            || lon > footprint[2] + m
            || lat < footprint[1] - m
            || lat > footprint[3] + m
        {
            return Err(format!(
                "vertex ({lon}, {lat}) is off the scene's lon/lat footprint {footprint:?}"
            ));
        }
        points.push((lon, lat));
    }
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    if points.len() < 3 {
        return Err(format!("ring of {} distinct positions", points.len()));
    }
    let mut polygon = PolygonArea::new(g, Winding::CounterClockwise);
    for (lon, lat) in points {
        polygon.add_point(lat, lon);
    }
    // Signed, so that a small ring wound either way gives its own area, never the rest of
    // the Earth's.
    let (_, area, _) = polygon.compute(true);
    Ok(area.abs())
}

/// The job on the unwarped pair: its patch count and geodesic total, for "the same ground".
struct Baseline {
    patches: usize,
    geodesic_m2: f64,
}

/// The baseline with `zones`, computed once per test binary.
fn baseline(zones: Zones, footprint: &[f64; 4]) -> &'static Result<Baseline, String> {
    static LONLAT: OnceLock<Result<Baseline, String>> = OnceLock::new();
    static DEMO: OnceLock<Result<Baseline, String>> = OnceLock::new();
    let cell = match zones {
        Zones::LonLat => &LONLAT,
        Zones::Demo => &DEMO,
    };
    cell.get_or_init(|| {
        let dir = common::temp_dir(&format!("crs_matrix_baseline_{zones:?}"));
        let out = dir.join("out");
        let before = taizhou("Taizhou_t1.tif");
        let after = taizhou("Taizhou_t2.tif");
        run_job(&before, &after, &zones.folder(&dir)?, &out)
            .map_err(|e| format!("the job on the unwarped pair failed: {e}"))?;
        let patches = Patches::read(&out, footprint)
            .map_err(|e| format!("the job on the unwarped pair: {e}"))?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(Baseline {
            patches: patches.geodesic_m2.len(),
            geodesic_m2: patches.geodesic_total(),
        })
    })
}

/// The relative difference of `value` from `reference`.
fn relative(value: f64, reference: f64) -> f64 {
    (value - reference).abs() / reference.abs()
}

/// Warps the pair into `srs`, runs the job and checks its outputs (see the module
/// documentation). Panics with every problem found.
fn check(test: &str, srs: &str, zones: Zones) {
    let Some(gdal) = gdal::gdal(test) else {
        return;
    };
    let dir = common::temp_dir(&format!("crs_matrix_{}", test.replace("::", "_")));
    let (t1, t2, grid) = warp_pair(&dir, srs);
    let zone_dir = zones
        .folder(&dir)
        .unwrap_or_else(|e| panic!("harness: {e}"));
    let out = dir.join("out");
    if let Err(e) = run_job(&t1, &t2, &zone_dir, &out) {
        println!("{test:<40} JOB FAILED: {e}");
        panic!("{test}: the job failed on the pair warped to {srs}: {e}");
    }
    let mut problems = Vec::new();
    check_rasters(&gdal, &t1, &grid, &out, &mut problems);

    let footprint = footprint();
    let patches = match Patches::read(&out, &footprint) {
        Ok(p) => Some(p),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let mut worst = f64::NAN;
    if let Some(p) = &patches {
        worst = check_areas(p, &mut problems);
        if p.csv_m2.len() <= MIN_PATCHES {
            problems.push(format!(
                "only {} patches (the unwarped pair gives about {}), want more than {MIN_PATCHES}",
                p.csv_m2.len(),
                baseline(zones, &footprint)
                    .as_ref()
                    .map_or(0, |b| b.patches)
            ));
        }
        match baseline(zones, &footprint) {
            Ok(b) => {
                let deviation = relative(p.geodesic_total(), b.geodesic_m2);
                if deviation > MAX_TOTAL_DEVIATION {
                    problems.push(format!(
                        "geodesic total patch area {:.1} ha is {:.1}% away from the unwarped \
                         pair's {:.1} ha (at most {}% allowed)",
                        p.geodesic_total() / 1e4,
                        deviation * 100.0,
                        b.geodesic_m2 / 1e4,
                        MAX_TOTAL_DEVIATION * 100.0
                    ));
                }
            }
            Err(e) => problems.push(e.clone()),
        }
    }

    let (count, csv_ha, geodesic_ha) = patches.as_ref().map_or((0, f64::NAN, f64::NAN), |p| {
        (
            p.csv_m2.len(),
            p.csv_total() / 1e4,
            p.geodesic_total() / 1e4,
        )
    });
    println!(
        "{test:<40} {:>4}x{:<4} patches {count:>4}  area_m2 total {csv_ha:>8.1} ha  \
         geodesic total {geodesic_ha:>8.1} ha  worst area error {:>7.3}%  {}",
        grid.size.0,
        grid.size.1,
        worst * 100.0,
        if problems.is_empty() { "ok" } else { "FAILED" }
    );
    if !problems.is_empty() {
        panic!(
            "{test} ({srs}), scratch files kept in {}:\n  - {}",
            dir.display(),
            problems.join("\n  - ")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every output raster: readable by GDAL, on `grid`, and in the CRS of `input` according to
/// `osr.SpatialReference.IsSame`.
fn check_rasters(
    gdal: &Gdal,
    input: &Path,
    grid: &GdalGrid,
    out: &Path,
    problems: &mut Vec<String>,
) {
    let paths: Vec<PathBuf> = OUTPUT_RASTERS.iter().map(|f| out.join(f)).collect();
    match gdal::same_crs(gdal, input, &paths) {
        Ok(results) => {
            for (file, result) in OUTPUT_RASTERS.iter().zip(results) {
                if let Err(e) = result {
                    problems.push(format!("{file}: not the input's CRS: {e}"));
                }
            }
        }
        Err(e) => problems.push(format!("CRS check: {e}")),
    }
    for (file, path) in OUTPUT_RASTERS.iter().zip(&paths) {
        match GdalGrid::of(path) {
            Ok(g) => {
                if let Some(d) = grid.differs(&g) {
                    problems.push(format!("{file}: not the input's grid: input {d}"));
                }
            }
            Err(e) => problems.push(format!("{file}: {e}")),
        }
    }
}

/// Each patch's `area_m2` against the geodesic area of its polygon; the worst relative
/// error.
fn check_areas(p: &Patches, problems: &mut Vec<String>) -> f64 {
    let mut worst = 0.0f64;
    let mut bad = Vec::new();
    for (id, &m2) in &p.csv_m2 {
        let Some(&geodesic) = p.geodesic_m2.get(id) else {
            problems.push(format!(
                "patch {id} is in patches.csv but not patches.geojson"
            ));
            continue;
        };
        let error = relative(m2, geodesic);
        worst = worst.max(error);
        if error > MAX_AREA_ERROR {
            bad.push((error, *id, m2, geodesic));
        }
    }
    for id in p.geodesic_m2.keys().filter(|id| !p.csv_m2.contains_key(id)) {
        problems.push(format!(
            "patch {id} is in patches.geojson but not patches.csv"
        ));
    }
    if !bad.is_empty() {
        bad.sort_by(|a, b| b.0.total_cmp(&a.0));
        let examples: Vec<String> = bad
            .iter()
            .take(3)
            .map(|(_, id, m2, g)| {
                let off = (m2 / g - 1.0) * 100.0;
                format!("patch {id}: area_m2 {m2:.1} vs geodesic {g:.1} ({off:+.2}%)")
            })
            .collect();
        problems.push(format!(
            "{} of {} patches have area_m2 more than {}% off the geodesic area of their \
             polygon; worst: {}",
            bad.len(),
            p.csv_m2.len(),
            MAX_AREA_ERROR * 100.0,
            examples.join("; ")
        ));
    }
    worst
}

// ---------------------------------------------------------------------------------------
// Refusals: inputs that cannot be placed on the Earth.

/// A kind of input the job must refuse.
#[derive(Debug, Clone, Copy)]
enum Unplaceable {
    /// An engineering (local) CRS: `LOCAL_CS["arbitrary",UNIT["unknown",1]]`.
    LocalCs,
    /// No georeferencing at all: neither CRS nor transform.
    NoGeoreference,
}

impl Unplaceable {
    fn tag(self) -> &'static str {
        match self {
            Unplaceable::LocalCs => "local_cs",
            Unplaceable::NoGeoreference => "no_georef",
        }
    }

    /// Copies `src` to `dst` made this way with `gdal_translate`, and checks with
    /// `gdalinfo` that GDAL sees what was meant.
    fn make(self, src: &Path, dst: &Path) {
        let how: &[&str] = match self {
            // GDAL stores it as a GeoKeyDirectory without GTModelTypeGeoKey: a citation
            // and metre linear units (and reads it back as ENGCRS["arbitrary"]).
            Unplaceable::LocalCs => &["-a_srs", r#"LOCAL_CS["arbitrary",UNIT["unknown",1]]"#],
            // Baseline TIFF: no GeoTIFF tags; with sidecars off, no .aux.xml either.
            Unplaceable::NoGeoreference => &["-co", "PROFILE=BASELINE"],
        };
        let mut args: Vec<&str> = vec!["-q"];
        args.extend(how);
        let (s, d) = (src.display().to_string(), dst.display().to_string());
        args.extend([s.as_str(), d.as_str()]);
        gdal::run("gdal_translate", &args).unwrap_or_else(|e| panic!("harness: {e}"));
        let j = gdal::info(dst).unwrap_or_else(|e| panic!("harness: {e}"));
        let wkt = j["coordinateSystem"]["wkt"].as_str().unwrap_or("");
        let ok = match self {
            Unplaceable::LocalCs => {
                (wkt.starts_with("ENGCRS") || wkt.starts_with("LOCAL_CS"))
                    && j.get("geoTransform").is_some()
            }
            Unplaceable::NoGeoreference => wkt.is_empty() && j.get("geoTransform").is_none(),
        };
        assert!(
            ok,
            "harness: {} is not {self:?} as GDAL reads it: {j}",
            dst.display()
        );
        assert!(
            !dst.with_extension("tif.aux.xml").exists(),
            "harness: GDAL wrote a sidecar for {}",
            dst.display()
        );
    }
}

/// The job on `kind` inputs must fail with an error that names the offending file, without
/// a panic, and leave the output folder as it was: an existing one holding one file
/// (`existing`), or one that does not exist yet. Each of three pairs is tried: the bad
/// file as the first date, as the second, and as both.
fn refusal(test: &str, kind: Unplaceable, existing: bool) {
    if gdal::gdal(test).is_none() {
        return;
    }
    let dir = common::temp_dir(&format!("crs_matrix_{test}"));
    let good = [taizhou("Taizhou_t1.tif"), taizhou("Taizhou_t2.tif")];
    let zones = Zones::Demo.folder(&dir).unwrap();
    let bad = [
        dir.join(format!("t1_{}.tif", kind.tag())),
        dir.join(format!("t2_{}.tif", kind.tag())),
    ];
    kind.make(&good[0], &bad[0]);
    kind.make(&good[1], &bad[1]);
    let pairs = [
        ("bad first date", [&bad[0], &good[1]], vec![&bad[0]]),
        ("bad second date", [&good[0], &bad[1]], vec![&bad[1]]),
        ("both dates bad", [&bad[0], &bad[1]], vec![&bad[0], &bad[1]]),
    ];
    let mut problems = Vec::new();
    for (i, (what, [before, after], named)) in pairs.iter().enumerate() {
        let out = dir.join(format!("out{i}"));
        if existing {
            std::fs::create_dir_all(&out).unwrap();
            std::fs::write(out.join("keep.txt"), "a file the job must leave alone\n").unwrap();
        }
        let listed = common::snapshot(&dir);
        let result = run_job(before, after, &zones, &out);
        let mut found = Vec::new();
        match result {
            Ok(()) => found.push("the job succeeded".to_string()),
            Err(e) if e.starts_with("PANIC") => found.push(format!("the job panicked: {e}")),
            Err(e) => {
                let names: Vec<String> = named
                    .iter()
                    .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                    .collect();
                if !names.iter().any(|n| e.contains(n.as_str())) {
                    found.push(format!(
                        "the error does not name {}: \"{e}\"",
                        names.join(" or ")
                    ));
                }
                println!("{test}, {what}: refused with \"{e}\"");
            }
        }
        if !existing && out.exists() {
            found.push(format!(
                "the output folder {} was created",
                out.file_name().unwrap().to_string_lossy()
            ));
        }
        let changes = common::differences(&listed, &common::snapshot(&dir));
        if !changes.is_empty() {
            found.push(format!(
                "the scratch folder changed: {}",
                changes.join(", ")
            ));
        }
        problems.extend(found.into_iter().map(|f| format!("{what}: {f}")));
    }
    if !problems.is_empty() {
        panic!(
            "{test}: scratch files kept in {}:\n  - {}",
            dir.display(),
            problems.join("\n  - ")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_local_cs_into_existing_folder() {
    refusal(
        "refuses_local_cs_into_existing_folder",
        Unplaceable::LocalCs,
        true,
    );
}

#[test]
fn refuses_local_cs_into_new_folder() {
    refusal(
        "refuses_local_cs_into_new_folder",
        Unplaceable::LocalCs,
        false,
    );
}

#[test]
fn refuses_no_georeference_into_existing_folder() {
    refusal(
        "refuses_no_georeference_into_existing_folder",
        Unplaceable::NoGeoreference,
        true,
    );
}

#[test]
fn refuses_no_georeference_into_new_folder() {
    refusal(
        "refuses_no_georeference_into_new_folder",
        Unplaceable::NoGeoreference,
        false,
    );
}
