//! The same pixels stored four ways (one-row strips, 256 × 256 tiles, one 512-row strip, a
//! Cloud-Optimized GeoTIFF with overviews; `tests/data/storage`, made with GDAL) read as the
//! same image and give byte-identical enforcement outputs.

mod common;

use common::{assert_same_results, data, summary_results, taizhou_job, temp_dir, test_data};
use landwatch::Engine;
use landwatch::io::{ReadLimits, read_geotiff, read_info, read_window};
use std::path::PathBuf;

/// The storage variants: file suffix, tiled, rows per block.
const VARIANTS: [(&str, bool, usize); 4] = [
    ("strips1", false, 1),
    ("tiled256", true, 256),
    ("strip512", false, 256),
    ("cog", true, 128),
];

/// A file of `tests/data/storage`.
fn storage(name: &str) -> PathBuf {
    test_data(&format!("storage/{name}"))
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

#[test]
fn the_job_gives_the_same_outputs_whatever_the_storage() {
    let run = |variant: &str| {
        let out = temp_dir(&format!("storage_{variant}"));
        let report = taizhou_job(
            storage(&format!("Taizhou_t1_{variant}.tif")),
            storage(&format!("Taizhou_t2_{variant}.tif")),
        )
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
        assert_same_results(&first, &out, &format!("{} vs {variant}", VARIANTS[0].0));
        dirs.push(out);
    }
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}
