//! The same pixels stored four ways (one-row strips, 256 × 256 tiles, one 512-row strip, a
//! Cloud-Optimized GeoTIFF with overviews; `tests/data/storage`, made with GDAL) read as the
//! same image and give byte-identical enforcement outputs.

mod common;

use common::data;
use landwatch::io::{ReadLimits, read_geotiff, read_info, read_window};
use landwatch::job::Job;
use landwatch::{Engine, Sensor};
use std::path::{Path, PathBuf};

/// The storage variants: file suffix, tiled, rows per block.
const VARIANTS: [(&str, bool, usize); 4] = [
    ("strips1", false, 1),
    ("tiled256", true, 256),
    ("strip512", false, 256),
    ("cog", true, 128),
];

/// A file of `tests/data/storage` (relative to the working directory when the source tree
/// the test was built from is gone).
fn storage(name: &str) -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/storage");
    let root = if built.is_dir() {
        built
    } else {
        PathBuf::from("tests/data/storage")
    };
    root.join(name)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("landwatch_storage_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_variant_reads_as_the_bundled_pixels() {
    for date in ["t1", "t2"] {
        // The variants are the top 256 rows of the bundled pair.
        let original = read_window(
            data(&format!("landsat_taizhou/Taizhou_{date}.tif")),
            0,
            0,
            400,
            256,
            &ReadLimits::default(),
        )
        .unwrap();
        for (variant, tiled, block_rows) in VARIANTS {
            let path = storage(&format!("Taizhou_{date}_{variant}.tif"));
            let info = read_info(&path).unwrap();
            // The full-resolution image, not an overview, with the layout the README says.
            assert_eq!((info.width, info.height, info.band_count), (400, 256, 6));
            assert_eq!(
                (info.tiled, info.block_rows),
                (tiled, block_rows),
                "{variant}"
            );
            let image = read_geotiff(&path, &ReadLimits::default()).unwrap();
            assert!(
                image == original,
                "{date} {variant}: pixels or georeference differ"
            );
            // A window across block borders.
            let window = read_window(&path, 130, 70, 200, 150, &ReadLimits::default()).unwrap();
            let expected = read_window(
                data(&format!("landsat_taizhou/Taizhou_{date}.tif")),
                130,
                70,
                200,
                150,
                &ReadLimits::default(),
            )
            .unwrap();
            assert!(window == expected, "{date} {variant}: window differs");
        }
    }
}

/// The `summary.json` fields that are results, not timings or settings of the run.
fn summary_results(dir: &Path) -> serde_json::Value {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    serde_json::json!({
        "threshold": summary["settings"]["threshold"],
        "normalization": summary["normalization"],
        "patch_count": summary["patch_count"],
        "area_by_type_m2": summary["area_by_type_m2"],
        "pixels": summary["pixels"],
        "regions_warned": summary["regions_warned"],
    })
}

#[test]
fn the_job_gives_the_same_outputs_whatever_the_storage() {
    let zones = data("landsat_taizhou/illustrative");
    let run = |variant: &str| {
        let out = temp_dir(variant);
        let report = Job::new(
            storage(&format!("Taizhou_t1_{variant}.tif")),
            storage(&format!("Taizhou_t2_{variant}.tif")),
        )
        .sensor(Sensor::landsat_dn())
        .zone_geojson("basic_farmland", zones.join("basic_farmland.geojson"))
        .zone_geojson("eco_redline", zones.join("eco_redline.geojson"))
        .zone_geojson("urban_boundary", zones.join("urban_boundary.geojson"))
        .regions(zones.join("counties.geojson"), "code")
        .run(&Engine::cpu(), &out)
        .unwrap();
        (out, report)
    };
    let (first, reference) = run(VARIANTS[0].0);
    assert!(
        reference.patch_count > 20,
        "only {} patches",
        reference.patch_count
    );
    let expected = summary_results(&first);
    assert_eq!(expected["pixels"]["total"], 400 * 256);
    let mut dirs = vec![first.clone()];
    for (variant, _, _) in &VARIANTS[1..] {
        let (out, report) = run(variant);
        assert_eq!(
            (report.patch_count, report.threshold),
            (reference.patch_count, reference.threshold),
            "{variant}: patch count and threshold against {}",
            VARIANTS[0].0
        );
        assert_eq!(summary_results(&out), expected, "{variant}: summary.json");
        for file in [
            "class_before.tif",
            "class_after.tif",
            "change.tif",
            "patches.tif",
            "patches.geojson",
            "patches.csv",
            "regions.csv",
        ] {
            let (x, y) = (
                std::fs::read(first.join(file)).unwrap(),
                std::fs::read(out.join(file)).unwrap(),
            );
            assert!(
                x == y,
                "{file} differs between {} and {variant}",
                VARIANTS[0].0
            );
        }
        dirs.push(out);
    }
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}
