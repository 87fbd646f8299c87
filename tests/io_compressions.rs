//! The compressions users' GeoTIFFs come in, written by GDAL at test time from the bundled
//! Taizhou pair: ZSTD, LZW, deflate with the horizontal predictor, float32 with the
//! floating-point predictor decode to the very samples of the original; the enforcement job
//! on a ZSTD pair writes the same files as on the original pair; JPEG (plain and YCbCr, tiled
//! and stripped) decodes to what GDAL's libjpeg decodes within a stated tolerance. Skipped
//! without GDAL unless `LANDWATCH_REQUIRE_GDAL=1`.

mod common;

use common::gdal::{Gdal, gdal, run};
use common::{assert_same_results, data, taizhou_job, temp_dir};
use landwatch::io::{GeoTiff, ReadLimits, read_geotiff, read_window};
use landwatch::{BandData, Engine};
use std::path::{Path, PathBuf};

fn taizhou(date: &str) -> PathBuf {
    data(&format!("landsat_taizhou/Taizhou_{date}.tif"))
}

/// `gdal_translate -q ARGS SRC DST`.
fn translate(args: &[&str], src: &Path, dst: &Path) {
    let mut all: Vec<&std::ffi::OsStr> = vec!["-q".as_ref()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    all.extend([src.as_os_str(), dst.as_os_str()]);
    run("gdal_translate", all).unwrap();
}

fn read(path: &Path) -> GeoTiff {
    read_geotiff(path, &ReadLimits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bands as f32 (every u8 is exact in f32).
fn as_f32(image: &GeoTiff) -> Vec<Vec<f32>> {
    image
        .bands
        .iter()
        .map(|b| match b {
            BandData::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            BandData::F32(v) => v.clone(),
            other => panic!("unexpected {:?}", other.data_type()),
        })
        .collect()
}

const LOSSLESS: [(&str, &[&str]); 6] = [
    ("zstd", &["-co", "COMPRESS=ZSTD"]),
    (
        "zstd_tiled_pred2",
        &[
            "-co",
            "COMPRESS=ZSTD",
            "-co",
            "PREDICTOR=2",
            "-co",
            "TILED=YES",
            "-co",
            "BLOCKXSIZE=128",
            "-co",
            "BLOCKYSIZE=96",
        ],
    ),
    (
        "zstd_planar",
        &["-co", "COMPRESS=ZSTD", "-co", "INTERLEAVE=BAND"],
    ),
    ("lzw", &["-co", "COMPRESS=LZW"]),
    (
        "deflate_pred2",
        &["-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=2"],
    ),
    (
        "packbits_strips",
        &["-co", "COMPRESS=PACKBITS", "-co", "BLOCKYSIZE=7"],
    ),
];

const FLOAT: [(&str, &[&str]); 2] = [
    (
        "f32_deflate_pred3",
        &[
            "-ot",
            "Float32",
            "-co",
            "COMPRESS=DEFLATE",
            "-co",
            "PREDICTOR=3",
        ],
    ),
    (
        "f32_zstd_pred3_tiled",
        &[
            "-ot",
            "Float32",
            "-co",
            "COMPRESS=ZSTD",
            "-co",
            "PREDICTOR=3",
            "-co",
            "TILED=YES",
        ],
    ),
];

#[test]
fn lossless_compressions_decode_to_the_original_samples() {
    if gdal("lossless_compressions_decode_to_the_original_samples").is_none() {
        return;
    }
    let dir = temp_dir("io_compressions_lossless");
    for date in ["t1", "t2"] {
        let original = read(&taizhou(date));
        for (name, args) in LOSSLESS.iter().chain(&FLOAT) {
            let path = dir.join(format!("{name}_{date}.tif"));
            translate(args, &taizhou(date), &path);
            let image = read(&path);
            assert_eq!((image.width, image.height), (400, 400), "{name}");
            assert_eq!(image.georef, original.georef, "{name}");
            if name.starts_with("f32") {
                assert_eq!(as_f32(&image), as_f32(&original), "{name} {date}");
            } else {
                assert_eq!(image.bands, original.bands, "{name} {date}");
            }
            // A window that starts and ends inside strips or tiles: partial chunks.
            let window = read_window(&path, 37, 101, 250, 131, &ReadLimits::default()).unwrap();
            let whole = as_f32(&image);
            for (b, band) in as_f32(&window).iter().enumerate() {
                for r in 0..131 {
                    let want = &whole[b][(101 + r) * 400 + 37..(101 + r) * 400 + 287];
                    assert_eq!(&band[r * 250..(r + 1) * 250], want, "{name} window row {r}");
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_job_on_a_zstd_pair_writes_what_it_writes_on_the_original() {
    if gdal("the_job_on_a_zstd_pair_writes_what_it_writes_on_the_original").is_none() {
        return;
    }
    let inputs = temp_dir("io_compressions_zstd_inputs");
    let zstd = |date: &str| {
        let path = inputs.join(format!("Taizhou_{date}_zstd.tif"));
        translate(
            &["-co", "COMPRESS=ZSTD", "-co", "PREDICTOR=2"],
            &taizhou(date),
            &path,
        );
        path
    };
    let (a, b) = (
        temp_dir("io_compressions_job_original"),
        temp_dir("io_compressions_job_zstd"),
    );
    let job = |t1: PathBuf, t2: PathBuf| taizhou_job(t1, t2).min_area_m2(1800.0).tile_rows(64);
    let original = job(taizhou("t1"), taizhou("t2"))
        .run(&Engine::cpu(), &a)
        .unwrap();
    let recompressed = job(zstd("t1"), zstd("t2")).run(&Engine::cpu(), &b).unwrap();
    assert!(original.patch_count > 20);
    assert_eq!(original.patch_count, recompressed.patch_count);
    assert_same_results(&a, &b, "ZSTD pair vs original pair");
    for dir in [&inputs, &a, &b] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// GDAL's own decoding of `path` (libjpeg through libtiff): band-sequential bytes.
fn gdal_bytes(g: &Gdal, path: &Path) -> Vec<u8> {
    let script = "import sys; from osgeo import gdal; gdal.UseExceptions(); \
                  sys.stdout.buffer.write(gdal.Open(sys.argv[1]).ReadRaster())";
    run(
        &g.python,
        ["-c".as_ref(), script.as_ref(), path.as_os_str()],
    )
    .unwrap()
}

/// The largest sample difference allowed between our JPEG decoding (zune-jpeg) and GDAL's
/// (libjpeg through libtiff): their integer IDCTs round differently (1 level); for YCbCr the
/// chroma upsampling and the conversion to RGB round differently too (3 levels). Measured on
/// GDAL 3.6: 1 and 3, on about 0.5% and 3% of the samples.
fn jpeg_tolerance(name: &str) -> u8 {
    if name.starts_with("ycbcr") { 3 } else { 1 }
}

const JPEGS: [(&str, &[&str]); 4] = [
    (
        "gray_tiled",
        &["-b", "4", "-co", "COMPRESS=JPEG", "-co", "TILED=YES"],
    ),
    (
        "ycbcr_tiled",
        &[
            "-b",
            "3",
            "-b",
            "2",
            "-b",
            "1",
            "-co",
            "COMPRESS=JPEG",
            "-co",
            "PHOTOMETRIC=YCBCR",
            "-co",
            "TILED=YES",
        ],
    ),
    (
        "ycbcr_strips",
        &[
            "-b",
            "3",
            "-b",
            "2",
            "-b",
            "1",
            "-co",
            "COMPRESS=JPEG",
            "-co",
            "PHOTOMETRIC=YCBCR",
            "-co",
            "BLOCKYSIZE=32",
        ],
    ),
    (
        "rgb_strips_quality",
        &[
            "-b",
            "3",
            "-b",
            "2",
            "-b",
            "1",
            "-co",
            "COMPRESS=JPEG",
            "-co",
            "JPEG_QUALITY=90",
            "-co",
            "BLOCKYSIZE=48",
        ],
    ),
];

#[test]
fn jpeg_decodes_as_gdal_does_within_the_decoders_difference() {
    let Some(g) = gdal("jpeg_decodes_as_gdal_does_within_the_decoders_difference") else {
        return;
    };
    let dir = temp_dir("io_compressions_jpeg");
    for (name, args) in JPEGS {
        let path = dir.join(format!("{name}.tif"));
        translate(args, &taizhou("t2"), &path);
        let image = read(&path);
        let ours: Vec<u8> = image
            .bands
            .iter()
            .flat_map(|b| match b {
                BandData::U8(v) => v.clone(),
                other => panic!("unexpected {:?}", other.data_type()),
            })
            .collect();
        let theirs = gdal_bytes(&g, &path);
        assert_eq!(ours.len(), theirs.len(), "{name}");
        let worst = ours.iter().zip(&theirs).map(|(a, b)| a.abs_diff(*b)).max();
        let differ = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count();
        eprintln!(
            "{name}: {} bands, largest difference {worst:?}, {differ} of {} samples differ",
            image.bands.len(),
            ours.len()
        );
        assert!(worst <= Some(jpeg_tolerance(name)), "{name}: {worst:?}");
        // And the decoding is of the scene: JPEG at default quality stays near the original.
        let original = read(&taizhou("t2"));
        let bands: Vec<usize> = if image.bands.len() == 1 {
            vec![3]
        } else {
            vec![2, 1, 0]
        };
        for (ours, &b) in image.bands.iter().zip(&bands) {
            let (BandData::U8(x), BandData::U8(y)) = (ours, &original.bands[b]) else {
                panic!("u8 expected");
            };
            let mean = x
                .iter()
                .zip(y)
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / x.len() as f64;
            assert!(mean < 4.0, "{name} band {b}: mean error {mean}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
