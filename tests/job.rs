//! The enforcement job: every number of `regions.csv` and every zone flag against hand-computed
//! values on a synthetic change raster, and a tiled run against an untiled one on real data.

mod common;

use common::{assert_same_results, data, taizhou_job, temp_dir};
use landwatch::change::{EARTH_MOVING, NEW_CONSTRUCTION};
use landwatch::job::Job;
use landwatch::{Engine, GeoReference, GeoTransform, Raster};
use std::collections::HashMap;
use std::path::Path;

/// An equal-area grid (ETRS89 / LAEA Europe), so that ground areas are the grid's own and
/// every figure below is a round number.
const EPSG: u32 = 3035;
const X0: f64 = 4_500_000.0;
const Y0: f64 = 3_600_000.0;

/// A rectangle of pixel columns `c0..c1` and rows `r0..r1` as a GeoJSON ring (10 m pixels).
fn rect(c0: f64, r0: f64, c1: f64, r1: f64) -> String {
    let (x0, x1) = (X0 + 10.0 * c0, X0 + 10.0 * c1);
    let (y0, y1) = (Y0 - 10.0 * r0, Y0 - 10.0 * r1);
    format!("[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]")
}

fn layer(features: &[(&str, String)]) -> String {
    let features: Vec<String> = features
        .iter()
        .map(|(code, geometry)| {
            format!(
                r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{geometry}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"EPSG:{EPSG}"}}}},"features":[{}]}}"#,
        features.join(",")
    )
}

fn polygon(ring: String) -> String {
    format!(r#"{{"type":"Polygon","coordinates":[{ring}]}}"#)
}

/// CSV rows as maps from column name to text.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn regions_and_zone_flags_equal_hand_computed_values() {
    let dir = temp_dir("job_regions");
    // 20×10 pixels of 10 m (100 m² each). Patches:
    //  P1 new construction, rows 1..3, cols 0..10: 20 px = 2000 m², all in region A;
    //     farmland covers cols 0..3 of row 1: 3 px = 300 m², exactly 15% of A's new construction.
    //  P2 new construction, rows 5..7, cols 8..13: 10 px; region A holds 4 px, B 6 px → B.
    //     farmland covers col 12 of row 5: 100 m² → 10% of B's new construction.
    //  P3 earth-moving, rows 8..10, cols 15..17: 4 px in B, inside the urban boundary.
    let (w, h) = (20, 10);
    let mut codes = vec![0u8; w * h];
    let mut paint = |c0: usize, r0: usize, c1: usize, r1: usize, code: u8| {
        for r in r0..r1 {
            for c in c0..c1 {
                codes[r * w + c] = code;
            }
        }
    };
    paint(0, 1, 10, 3, NEW_CONSTRUCTION);
    paint(8, 5, 13, 7, NEW_CONSTRUCTION);
    paint(15, 8, 17, 10, EARTH_MOVING);
    let change = Raster {
        width: w,
        height: h,
        data: codes,
        nodata: 255,
        georef: Some(GeoReference {
            transform: GeoTransform([X0, 10.0, 0.0, Y0, 0.0, -10.0]),
            crs: Some(landwatch::geo::Crs::epsg(EPSG)),
        }),
    };
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let farmland = write(
        "farmland.geojson",
        layer(&[(
            "f",
            format!(
                r#"{{"type":"MultiPolygon","coordinates":[[{}],[{}]]}}"#,
                rect(0.0, 1.0, 3.0, 2.0),
                rect(12.0, 5.0, 13.0, 6.0)
            ),
        )]),
    );
    let eco = write(
        "eco.geojson",
        layer(&[("e", polygon(rect(14.0, 8.0, 16.0, 10.0)))]),
    );
    let urban = write(
        "urban.geojson",
        layer(&[("u", polygon(rect(12.0, 0.0, 20.0, 10.0)))]),
    );
    let regions = write(
        "regions.geojson",
        layer(&[
            ("320001", polygon(rect(0.0, 0.0, 10.0, 10.0))),
            ("320002", polygon(rect(10.0, 0.0, 20.0, 10.0))),
            ("320003", polygon(rect(0.0, 20.0, 20.0, 30.0))),
        ]),
    );
    let out = dir.join("out");
    let report = Job::new("unused", "unused")
        .opening(None)
        .zone_geojson("basic_farmland", &farmland)
        .zone_geojson("eco_redline", &eco)
        .zone_geojson("urban_boundary", &urban)
        .regions(&regions, "code")
        .run_on_change(&Engine::cpu(), change, &out)
        .unwrap();
    assert_eq!(report.patch_count, 3);

    let rows = read_csv(&out.join("regions.csv"));
    let expected = [
        // region, patches, earth-moving, new construction, on farmland, share, warning
        ("320001", "1", "0", "2000", "300", 0.15, "true"),
        ("320002", "2", "400", "1000", "100", 0.10, "false"),
        ("320003", "0", "0", "0", "0", 0.0, "false"),
    ];
    assert_eq!(rows.len(), expected.len());
    for (row, (code, n, earth, nc, farm, share, warn)) in rows.iter().zip(expected) {
        assert_eq!(row["region"], code);
        assert_eq!(row["patches"], n, "{code}");
        assert_eq!(
            row["area_earth_moving_m2"].parse::<f64>().unwrap(),
            earth.parse::<f64>().unwrap(),
            "{code}"
        );
        assert_eq!(
            row["area_new_construction_m2"].parse::<f64>().unwrap(),
            nc.parse::<f64>().unwrap(),
            "{code}"
        );
        assert_eq!(
            row["new_construction_m2"].parse::<f64>().unwrap(),
            nc.parse::<f64>().unwrap(),
            "{code}"
        );
        assert_eq!(
            row["new_construction_on_farmland_m2"]
                .parse::<f64>()
                .unwrap(),
            farm.parse::<f64>().unwrap(),
            "{code}"
        );
        assert!(
            (row["farmland_share"].parse::<f64>().unwrap() - share).abs() < 1e-12,
            "{code}"
        );
        assert_eq!(
            row["warning"], warn,
            "{code}: the 15% threshold is inclusive"
        );
        for other in [
            "area_earth_moving_to_construction_m2",
            "area_excavation_or_mining_m2",
            "area_other_change_m2",
        ] {
            assert_eq!(row[other].parse::<f64>().unwrap(), 0.0);
        }
    }

    let patches = read_csv(&out.join("patches.csv"));
    let flags: Vec<[&str; 8]> = patches
        .iter()
        .map(|p| {
            [
                p["id"].as_str(),
                p["area_m2"].as_str(),
                p["basic_farmland_m2"].as_str(),
                p["in_basic_farmland"].as_str(),
                p["in_eco_redline"].as_str(),
                p["in_urban_boundary"].as_str(),
                p["outside_urban_boundary"].as_str(),
                p["region"].as_str(),
            ]
        })
        .collect();
    assert_eq!(
        flags,
        vec![
            [
                "1", "2000", "300", "true", "false", "false", "true", "320001"
            ],
            [
                "2", "1000", "100", "true", "false", "true", "true", "320002"
            ],
            ["3", "400", "0", "false", "true", "true", "false", "320002"],
        ]
    );
    // Areas as CSV cells: to 0.01 m², without trailing zeros.
    assert_eq!(patches[2]["eco_redline_m2"], "200");
    assert_eq!(patches[1]["urban_boundary_m2"], "200");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_tiled_run_equals_the_untiled_run() {
    let taizhou = data("landsat_taizhou");
    let job = |rows: usize| {
        taizhou_job(
            taizhou.join("Taizhou_t1.tif"),
            taizhou.join("Taizhou_t2.tif"),
        )
        .min_area_m2(1800.0)
        .tile_rows(rows)
    };
    let (whole, tiled) = (temp_dir("job_whole"), temp_dir("job_tiled"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, u64, u64)>::new()));
    let log = seen.clone();
    let a = job(4096)
        .on_progress(move |p| {
            log.lock()
                .unwrap()
                .push((p.stage.to_string(), p.done, p.total))
        })
        .run(&Engine::cpu(), &whole)
        .unwrap();
    // Progress reached the end of every stage, in pipeline order.
    let seen = seen.lock().unwrap().clone();
    let finished: Vec<&str> = seen
        .iter()
        .filter(|(_, done, total)| done == total)
        .map(|(stage, _, _)| stage.as_str())
        .collect();
    assert_eq!(finished, ["plan", "change", "morphology", "patches"]);
    // summary.json: inputs, settings, backend, stage times, pixel counts, patches, areas.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["pixels"]["total"], 160_000);
    assert_eq!(summary["patch_count"], a.patch_count);
    assert_eq!(summary["settings"]["min_area_m2"], 1800.0);
    assert!(
        summary["backend"]["device"]
            .as_str()
            .unwrap()
            .starts_with("CPU")
    );
    let stages = summary["stages_seconds"].as_object().unwrap();
    for stage in ["plan", "change", "morphology", "patches", "write"] {
        assert!(stages[stage].as_f64().unwrap() >= 0.0, "{stage}");
    }
    let area: f64 = summary["area_by_type_m2"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    let patches: f64 = a.patches.iter().map(|p| p.attributes.area_m2).sum();
    assert!((area - patches).abs() < 1e-6, "{area} vs {patches}");
    for file in ["quicklook.png", "report.html"] {
        assert!(whole.join(file).metadata().unwrap().len() > 1000, "{file}");
    }
    let b = job(37).run(&Engine::cpu(), &tiled).unwrap();
    assert!(a.patch_count > 20, "only {} patches", a.patch_count);
    assert_eq!(a.patch_count, b.patch_count);
    assert_eq!(a.threshold, b.threshold);
    assert_same_results(&whole, &tiled, "tiled (37 rows) vs untiled");
    // The sieve left nothing under 1,800 m² (two 30 m pixels).
    assert!(a.patches.iter().all(|p| p.attributes.area_m2 >= 1800.0));
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&tiled);
}

#[test]
fn dates_on_different_grids_are_refused() {
    let taizhou = data("landsat_taizhou");
    let err = Job::new(taizhou.join("Taizhou_t1.tif"), data("rgbn_5m/rgbn.tif"))
        .run(&Engine::cpu(), temp_dir("job_grids"))
        .unwrap_err();
    assert!(
        matches!(err, landwatch::Error::GridMismatch { .. }),
        "{err}"
    );
}
