//! The job's styled rasters and rounded tables on the Taizhou scene: `class_before.tif`,
//! `class_after.tif` and `change.tif` as GDAL sees them (colour table, category names,
//! overviews equal to `gdaladdo -r nearest`'s and to the documented rule, a valid
//! Cloud-Optimized GeoTIFF), and every number of `patches.csv` and `regions.csv` rounded to
//! its stated decimals and within half a unit of the unrounded value. The GDAL checks are
//! skipped when GDAL is not installed, unless `LANDWATCH_REQUIRE_GDAL=1`.

mod common;

use common::{csv_fields, data, taizhou_job, temp_dir};
use landwatch::Engine;
use landwatch::change::{CHANGE_NAMES, CHANGE_PALETTE};
use landwatch::classify::{CLASS_NAMES, CLASS_PALETTE};
use landwatch::io::{
    BigTiff, GeoTiffStripWriter, Legend, Overviews, ReadLimits, WriteOptions, read_geotiff,
    side_car_paths, write_geotiff, write_geotiff_with,
};
use landwatch::job::JobReport;
use landwatch::{GeoReference, GeoTransform, Raster};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// True when GDAL's tools can run; otherwise explains the skip, or fails when GDAL is
/// required (`common::gdal`).
fn have_gdal(test: &str) -> bool {
    common::gdal::gdal(test).is_some()
}

/// Runs a GDAL tool; panics with its message when it fails.
fn gdal(tool: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The job on the Taizhou pair, with zones and regions and `change_raw.tif`, into a fresh
/// folder.
fn run_job(name: &str) -> (PathBuf, JobReport) {
    let taizhou = data("landsat_taizhou");
    let dir = temp_dir(name);
    let report = taizhou_job(
        taizhou.join("Taizhou_t1.tif"),
        taizhou.join("Taizhou_t2.tif"),
    )
    .raw_change(true)
    .run(&Engine::cpu(), &dir)
    .unwrap();
    (dir, report)
}

/// The pixels of a GeoTIFF's first image, as landwatch decodes them.
fn pixels(path: &Path) -> (usize, usize, Vec<u8>) {
    let image = read_geotiff(path, &ReadLimits::default()).unwrap();
    let data = image.bands[0].as_bytes().to_vec();
    (image.width, image.height, data)
}

/// Overview `i` of `path`, extracted by GDAL into `out`.
fn gdal_overview(path: &Path, i: usize, out: &Path) -> (usize, usize, Vec<u8>) {
    let i = i.to_string();
    gdal(
        "gdal_translate",
        &["-q", "-ovr", &i, path_str(path), path_str(out)],
    );
    pixels(out)
}

/// The documented overview rule, on its own: levels halve (rounding up) while the level
/// before is larger than 256 pixels on a side; row (column) `i` of a level of `n` takes row
/// `⌊0.5 + i·m/n⌋` of the level of `m` before it.
fn expected_overviews(width: usize, height: usize, full: &[u8]) -> Vec<(usize, usize, Vec<u8>)> {
    let mut levels = vec![(width, height, full.to_vec())];
    let pick = |i: usize, m: usize, n: usize| (0.5 + i as f64 * (m as f64 / n as f64)) as usize;
    while let Some((w, h, px)) = levels.last().cloned().filter(|l| l.0 > 256 || l.1 > 256) {
        let (nw, nh) = (w.div_ceil(2), h.div_ceil(2));
        let mut next = Vec::with_capacity(nw * nh);
        for r in 0..nh {
            for c in 0..nw {
                next.push(px[pick(r, h, nh) * w + pick(c, w, nw)]);
            }
        }
        levels.push((nw, nh, next));
    }
    levels.remove(0);
    levels
}

/// A Python that has GDAL's COG validator, if any.
fn cog_validator() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|py| {
        Command::new(py)
            .args([
                "-c",
                "import osgeo_utils.samples.validate_cloud_optimized_geotiff",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Colours by code.
type Palette = &'static [(u8, [u8; 4])];
/// Names by code.
type Names = &'static [(u8, &'static str)];

/// Checks the colour table, category names, layout and overviews of one styled raster.
fn check_styled(path: &Path, palette: &[(u8, [u8; 4])], names: &[(u8, &str)], scratch: &Path) {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let info: Value =
        serde_json::from_slice(&gdal("gdalinfo", &["-json", path_str(path)])).unwrap();
    let band = &info["bands"][0];
    assert_eq!(band["colorInterpretation"], "Palette", "{file}");
    let entries = band["colorTable"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 256, "{file}");
    for (code, entry) in entries.iter().enumerate() {
        let rgb = palette
            .iter()
            .find(|&&(c, _)| usize::from(c) == code)
            .map_or([0, 0, 0], |&(_, [r, g, b, _])| [r, g, b]);
        // TIFF palettes have no alpha: GDAL shows every entry opaque but the nodata one.
        let alpha = if code == 255 { 0 } else { 255 };
        let want = serde_json::json!([rgb[0], rgb[1], rgb[2], alpha]);
        assert_eq!(entry, &want, "{file}: colour of code {code}");
    }
    let top = names.iter().map(|&(c, _)| usize::from(c)).max().unwrap();
    let want: Vec<&str> = (0..=top)
        .map(|c| {
            names
                .iter()
                .find(|&&(n, _)| usize::from(n) == c)
                .map_or("", |&(_, name)| name)
        })
        .collect();
    assert_eq!(band["categories"], serde_json::json!(want), "{file}");
    assert_eq!(
        info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"], "COG",
        "{file}"
    );
    assert_eq!(band["noDataValue"], 255.0, "{file}");

    // Full resolution: GDAL decodes what landwatch decodes.
    let (w, h, full) = pixels(path);
    let plain = scratch.join(format!("plain_{file}"));
    gdal(
        "gdal_translate",
        &["-q", "-co", "TILED=YES", path_str(path), path_str(&plain)],
    );
    assert_eq!(pixels(&plain).2, full, "{file}: GDAL decodes other pixels");

    // Overviews: the documented rule, and gdaladdo -r nearest on a copy without them.
    let expected = expected_overviews(w, h, &full);
    let sizes: Vec<Value> = expected
        .iter()
        .map(|(w, h, _)| serde_json::json!([w, h]))
        .collect();
    let listed: Vec<Value> = band["overviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["size"].clone())
        .collect();
    assert!(!listed.is_empty(), "{file}: no overviews");
    assert_eq!(listed, sizes, "{file}: overview sizes");
    gdal("gdaladdo", &["-q", "-r", "nearest", path_str(&plain)]);
    for (i, level) in expected.iter().enumerate() {
        let ours = gdal_overview(path, i, &scratch.join(format!("ovr{i}_{file}")));
        let theirs = gdal_overview(&plain, i, &scratch.join(format!("ref{i}_{file}")));
        assert!(
            ours == *level,
            "{file}: overview {i} is not the documented rule"
        );
        assert!(
            ours == theirs,
            "{file}: overview {i} differs from gdaladdo -r nearest"
        );
    }

    match cog_validator() {
        Some(py) => {
            let out = Command::new(py)
                .args([
                    "-m",
                    "osgeo_utils.samples.validate_cloud_optimized_geotiff",
                    "--full-check=yes",
                    path_str(path),
                ])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("is a valid cloud optimized GeoTIFF"),
                "{file}: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => eprintln!("{file}: GDAL's COG validator (python3-gdal) is missing; not run"),
    }
}

#[test]
fn class_and_change_maps_carry_colours_names_and_gdals_overviews() {
    if !have_gdal("class_and_change_maps_carry_colours_names_and_gdals_overviews") {
        return;
    }
    let (dir, report) = run_job("styled_rasters");
    let scratch = temp_dir("styled_rasters_scratch");
    let styled: [(&str, Palette, Names); 4] = [
        ("class_before.tif", &CLASS_PALETTE, &CLASS_NAMES),
        ("class_after.tif", &CLASS_PALETTE, &CLASS_NAMES),
        ("change.tif", &CHANGE_PALETTE, &CHANGE_NAMES),
        ("change_raw.tif", &CHANGE_PALETTE, &CHANGE_NAMES),
    ];
    for (file, palette, names) in styled {
        let path = dir.join(file);
        for side_car in side_car_paths(&path) {
            assert!(side_car.is_file(), "{file}: no {side_car:?}");
            assert!(
                report.outputs.contains(&side_car),
                "{side_car:?} not listed"
            );
        }
        check_styled(&path, palette, names, &scratch);
    }
    // The other rasters keep their plain layout: no colour table, no overviews.
    let info: Value = serde_json::from_slice(&gdal(
        "gdalinfo",
        &["-json", path_str(&dir.join("patches.tif"))],
    ))
    .unwrap();
    assert!(info["bands"][0]["colorTable"].is_null());
    assert!(
        info["bands"][0]["overviews"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Decimals of a CSV number; panics on anything that is not a plain decimal number.
fn decimals(text: &str) -> usize {
    assert!(
        !text.contains(['e', 'E']) && text.parse::<f64>().is_ok(),
        "not a plain number: {text:?}"
    );
    text.split_once('.').map_or(0, |(_, d)| d.len())
}

/// Checks that `text` has at most `places` decimals and is within half a unit of `exact`.
fn check_rounded(column: &str, text: &str, exact: f64, places: usize) {
    let got: f64 = text.parse().unwrap();
    assert!(
        decimals(text) <= places,
        "{column}: {text} has more than {places} decimals"
    );
    let half = 0.5 * 10f64.powi(-(places as i32));
    assert!(
        (got - exact).abs() <= half * (1.0 + 1e-9) + exact.abs() * 1e-15,
        "{column}: {text} is not {exact} to {places} decimals"
    );
}

/// The decimals each numeric column of `patches.csv` keeps on the Taizhou grid (30 m UTM
/// pixels at 32.5° N: a hundredth of a pixel is 0.3 m, or about 2.7e-6°).
fn patch_decimals(column: &str) -> Option<usize> {
    match column {
        "area_mu" => Some(3),
        "area_ha" => Some(4),
        "min_x" | "min_y" | "max_x" | "max_y" | "centroid_x" | "centroid_y" => Some(1),
        "centroid_lon" | "centroid_lat" => Some(6),
        "ndvi_before" | "ndvi_after" => Some(4),
        c if c.ends_with("_m2") => Some(2),
        _ => None,
    }
}

#[test]
fn tables_round_numbers_to_what_they_mean() {
    let (dir, report) = run_job("rounded_tables");
    // patches.csv against the unrounded values of patches.geojson, feature by feature.
    let geojson: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("patches.geojson")).unwrap())
            .unwrap();
    let features = geojson["features"].as_array().unwrap();
    let text = std::fs::read_to_string(dir.join("patches.csv")).unwrap();
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap());
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    assert_eq!(rows.len(), features.len());
    assert!(rows.len() > 20, "only {} patches", rows.len());
    let mut checked: HashMap<&str, usize> = HashMap::new();
    for (row, feature) in rows.iter().zip(features) {
        let properties = &feature["properties"];
        for (column, cell) in header.iter().zip(row) {
            let exact = &properties[column.as_str()];
            match (patch_decimals(column), exact.as_f64()) {
                (Some(places), Some(x)) => {
                    check_rounded(column, cell, x, places);
                    *checked.entry(column.as_str()).or_default() += 1;
                }
                (Some(_), None) => assert!(cell.is_empty(), "{column}: {cell} for null"),
                // Integers, flags and names as they are.
                (None, _) => assert_eq!(
                    cell,
                    &exact
                        .as_str()
                        .map_or_else(|| exact.to_string(), String::from),
                    "{column}"
                ),
            }
        }
    }
    for column in ["area_m2", "area_mu", "area_ha", "centroid_lon", "min_x"] {
        assert_eq!(checked.get(column), Some(&rows.len()), "{column}");
    }
    assert!(checked.contains_key("basic_farmland_m2"));
    // regions.csv against the report's totals.
    let text = std::fs::read_to_string(dir.join("regions.csv")).unwrap();
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap());
    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    assert_eq!(rows.len(), report.regions.len());
    assert!(!rows.is_empty());
    for (row, totals) in rows.iter().zip(&report.regions) {
        let cell = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(cell("region"), &totals.code);
        assert_eq!(cell("patches"), &totals.patch_count.to_string());
        let areas = header.iter().filter(|h| h.starts_with("area_"));
        for (c, column) in areas.enumerate() {
            check_rounded(column, cell(column), totals.area_by_type_m2[c + 1], 2);
        }
        let m2 = totals.new_construction_m2;
        check_rounded("new_construction_m2", cell("new_construction_m2"), m2, 2);
        let farmland = totals.new_construction_on_farmland_m2;
        check_rounded(
            "on_farmland",
            cell("new_construction_on_farmland_m2"),
            farmland,
            2,
        );
        check_rounded(
            "farmland_share",
            cell("farmland_share"),
            totals.farmland_share,
            4,
        );
        assert_eq!(cell("warning"), &totals.warning.to_string());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Codes in patches of a few pixels, with nodata, on an odd-sized grid.
fn odd_raster(width: usize, height: usize) -> Raster<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut data = Vec::with_capacity(width * height);
    for i in 0..width * height {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let (r, c) = (i / width, i % width);
        let code = ((r / 3 + c / 5) % 7) as u8;
        data.push(if state.is_multiple_of(97) { 255 } else { code });
    }
    Raster {
        width,
        height,
        data,
        nodata: 255,
        georef: Some(GeoReference {
            transform: GeoTransform([500_000.0, 10.0, 0.0, 3_600_000.0, 0.0, -10.0]),
            crs: Some(landwatch::geo::Crs::epsg(32651)),
        }),
    }
}

#[test]
fn odd_sizes_streamed_in_odd_strips_match_a_whole_write_and_gdaladdo() {
    let scratch = temp_dir("styled_odd");
    let options = WriteOptions::default()
        .with_deflate_level(1)
        .with_overviews(Overviews::Nearest)
        .with_legend(Some(Legend::new(&CHANGE_PALETTE, &CHANGE_NAMES)));
    let sizes = [(1001, 703, true), (1001, 703, false), (777, 1999, false)];
    for (width, height, big) in sizes
        .into_iter()
        .chain([(300, 257, false), (256, 256, false)])
    {
        let options = match big {
            true => options.with_bigtiff(BigTiff::Always),
            false => options,
        };
        let raster = odd_raster(width, height);
        let whole = scratch.join(format!("whole_{width}x{height}_{big}.tif"));
        write_geotiff_with(&whole, &raster, &options).unwrap();
        let streamed = scratch.join(format!("streamed_{width}x{height}_{big}.tif"));
        let mut writer = GeoTiffStripWriter::create(
            &streamed,
            width,
            height,
            raster.georef.as_ref(),
            Some(255u8),
            &options,
        )
        .unwrap();
        for rows in raster.data.chunks(width * 37) {
            writer.write_rows(rows).unwrap();
        }
        writer.finish().unwrap();
        assert!(
            std::fs::read(&whole).unwrap() == std::fs::read(&streamed).unwrap(),
            "{width}×{height}: streamed and whole files differ"
        );
        // The full resolution decodes as the plain writer's does.
        let plain = scratch.join(format!("plain_{width}x{height}.tif"));
        write_geotiff(&plain, &raster).unwrap();
        assert_eq!(pixels(&whole), pixels(&plain), "{width}×{height}");
        assert_eq!(pixels(&whole).2, raster.data);
        assert!(side_car_paths(&whole).iter().all(|p| p.is_file()));
        if have_gdal("odd_sizes_streamed_in_odd_strips_match_a_whole_write_and_gdaladdo") {
            if width > 256 || height > 256 {
                check_styled(&whole, &CHANGE_PALETTE, &CHANGE_NAMES, &scratch);
            } else {
                let info: Value =
                    serde_json::from_slice(&gdal("gdalinfo", &["-json", path_str(&whole)]))
                        .unwrap();
                assert!(
                    info["bands"][0]["overviews"]
                        .as_array()
                        .is_none_or(Vec::is_empty)
                );
                assert_eq!(info["bands"][0]["colorInterpretation"], "Palette");
            }
        }
    }
    // A writer dropped half-way leaves nothing; none leaves a temporary or spill file.
    let dropped = scratch.join("dropped.tif");
    let raster = odd_raster(1001, 703);
    let georef = raster.georef;
    let mut writer =
        GeoTiffStripWriter::create(&dropped, 1001, 703, georef.as_ref(), Some(255u8), &options)
            .unwrap();
    writer.write_rows(&raster.data[..1001 * 300]).unwrap();
    drop(writer);
    assert!(!dropped.exists() && !side_car_paths(&dropped).iter().any(|p| p.exists()));
    for entry in std::fs::read_dir(&scratch).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp-"), "{name} left behind");
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
fn several_bands_of_u16_get_the_same_overviews_as_gdaladdo() {
    let scratch = temp_dir("styled_bands");
    let (width, height) = (613, 530);
    let bands: Vec<landwatch::BandData> = (0..3u16)
        .map(|b| {
            let band = (0..width * height)
                .map(|i| (i % width) as u16 * 7 + (i / width) as u16 * 3 + b * 1000)
                .collect();
            landwatch::BandData::U16(band)
        })
        .collect();
    let path = scratch.join("bands.tif");
    let options = WriteOptions::default().with_overviews(Overviews::Nearest);
    let georef = odd_raster(1, 1).georef;
    landwatch::io::write_bands(
        &path,
        width,
        height,
        &bands,
        georef.as_ref(),
        None,
        &options,
    )
    .unwrap();
    let image = read_geotiff(&path, &ReadLimits::default()).unwrap();
    assert_eq!(image.bands, bands);
    // A legend is for one band of u8 codes.
    let legend = options.with_legend(Some(Legend::new(&CLASS_PALETTE, &CLASS_NAMES)));
    let refused = scratch.join("refused.tif");
    let err = landwatch::io::write_bands(&refused, width, height, &bands, None, None, &legend);
    assert!(
        matches!(err, Err(landwatch::Error::InvalidParameter { .. })),
        "{err:?}"
    );
    assert!(!refused.exists());
    if !have_gdal("several_bands_of_u16_get_the_same_overviews_as_gdaladdo") {
        return;
    }
    let plain = scratch.join("plain.tif");
    gdal(
        "gdal_translate",
        &["-q", "-co", "TILED=YES", path_str(&path), path_str(&plain)],
    );
    gdal("gdaladdo", &["-q", "-r", "nearest", path_str(&plain)]);
    for i in 0..2 {
        let read = |p: &Path, name: &str| {
            let out = scratch.join(format!("{name}{i}.tif"));
            gdal(
                "gdal_translate",
                &["-q", "-ovr", &i.to_string(), path_str(p), path_str(&out)],
            );
            read_geotiff(&out, &ReadLimits::default()).unwrap().bands
        };
        assert_eq!(read(&path, "ours"), read(&plain, "theirs"), "overview {i}");
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
