//! Dates given as one file per band ([`BandFilesSource`]): Sentinel-2's 10 m and 20 m bands
//! read strip by strip equal the whole-scene stack of `stack_from_band_files`, and the
//! enforcement job on the Taizhou pair split into single-band files (by GDAL at test time)
//! writes what it writes on the stacks, through the library and through
//! `landwatch enforce --before-band ... --after-band ...`.

mod common;

use common::gdal::{gdal, run};
use common::{assert_same_results, data, taizhou_job, temp_dir};
use landwatch::io::{
    BandFile, BandFilesSource, DateSource, GeoTiffSource, ReadLimits, Resampling,
    stack_from_band_files,
};
use landwatch::job::Job;
use landwatch::{BandRole, BandStack, Engine, Error};
use std::path::{Path, PathBuf};

const S2_10M: &str = "sentinel2_arid/s2_10m_B02_B03_B04_B08.tif";
const S2_20M: &str = "sentinel2_arid/s2_20m_B11_B12.tif";
const S2_6BAND_NN: &str = "sentinel2_arid/s2_10m_6band_B02_B03_B04_B08_B11nn_B12nn.tif";

/// Sentinel-2's six bands from the 10 m and the 20 m file (a coarse band listed first, so
/// that the finest grid is not simply the first file's).
fn s2_files(method: Resampling) -> Vec<BandFile> {
    let band = |rel: &str, band: usize, role: BandRole| BandFile {
        band,
        ..BandFile::new(data(rel), role, method)
    };
    vec![
        band(S2_20M, 0, BandRole::Swir1),
        band(S2_10M, 0, BandRole::Blue),
        band(S2_10M, 1, BandRole::Green),
        band(S2_10M, 2, BandRole::Red),
        band(S2_10M, 3, BandRole::Nir),
        band(S2_20M, 1, BandRole::Swir2),
    ]
}

/// Every row of `source`, read in strips of `rows`, as one stack's band data.
fn read_in_strips(source: &BandFilesSource, rows: usize) -> Vec<Vec<u8>> {
    let info = source.info().unwrap();
    let mut bands = vec![Vec::new(); info.band_count];
    let mut row = 0;
    while row < info.height {
        let end = (row + rows).min(info.height);
        let strip = source.read_rows(row..end).unwrap();
        assert_eq!((strip.width(), strip.height()), (info.width, end - row));
        let origin = info.georef.unwrap().transform.apply(0.0, row as f64);
        let t = strip.georef.unwrap().transform.0;
        assert_eq!((t[0], t[3]), origin);
        for (out, band) in bands.iter_mut().zip(strip.bands()) {
            out.extend_from_slice(band.data.as_bytes());
        }
        row = end;
    }
    bands
}

/// Every band's samples as bytes.
fn band_bytes(stack: &BandStack) -> Vec<Vec<u8>> {
    stack
        .bands()
        .iter()
        .map(|b| b.data.as_bytes().to_vec())
        .collect()
}

#[test]
fn sentinel2_10m_and_20m_bands_stream_as_the_whole_stack() {
    for method in [Resampling::Nearest, Resampling::Bilinear] {
        let files = s2_files(method);
        // The whole-scene stack on the 10 m grid (file 1 is a 10 m band).
        let whole = stack_from_band_files(&files, 1, &ReadLimits::default()).unwrap();
        let source = BandFilesSource::new(files);
        let info = source.info().unwrap();
        assert_eq!((info.width, info.height, info.band_count), (300, 200, 6));
        assert_eq!(info.georef, whole.georef);
        assert_eq!(source.input_files().len(), 6);
        let want = band_bytes(&whole);
        for rows in [1, 7, 64, 200] {
            assert!(
                read_in_strips(&source, rows) == want,
                "{method:?}, strips of {rows} rows"
            );
        }
        let stack = source.read_rows(0..200).unwrap();
        let roles: Vec<_> = stack.bands().iter().map(|b| b.role).collect();
        assert_eq!(roles, source.roles());
        if method == Resampling::Nearest {
            // The bundled 6-band stack, SWIR resampled to 10 m by nearest neighbour.
            let nn = GeoTiffSource::new(data(S2_6BAND_NN))
                .read_rows(0..200)
                .unwrap();
            let nn = band_bytes(&nn);
            let order = [4, 0, 1, 2, 3, 5];
            for (b, &i) in order.iter().enumerate() {
                assert!(want[b] == nn[i], "band {b} vs the bundled stack's {i}");
            }
        }
    }
}

#[test]
fn a_sentinel2_job_per_band_equals_the_job_on_the_bundled_stack() {
    let roles = [
        BandRole::Swir1,
        BandRole::Blue,
        BandRole::Green,
        BandRole::Red,
        BandRole::Nir,
        BandRole::Swir2,
    ];
    let (a, b) = (
        temp_dir("band_source_s2_bands"),
        temp_dir("band_source_s2_stack"),
    );
    let stack_roles = BandRole::ALL.to_vec();
    let sensor = landwatch::Sensor::sentinel2_l2a();
    // The scene against itself (there is one date): the job runs through every stage on
    // per-band input and finds what it finds on the bundled stack.
    let per_band = Job::from_sources(
        BandFilesSource::new(s2_files(Resampling::Nearest)),
        BandFilesSource::new(s2_files(Resampling::Nearest)),
    )
    .sensor(sensor.clone())
    .bands(roles.to_vec())
    .run(&Engine::cpu(), &a)
    .unwrap();
    let stacks = Job::new(data(S2_6BAND_NN), data(S2_6BAND_NN))
        .sensor(sensor)
        .bands(stack_roles)
        .run(&Engine::cpu(), &b)
        .unwrap();
    assert_eq!(per_band.patch_count, stacks.patch_count);
    assert_same_results(&a, &b, "Sentinel-2 per band vs the bundled stack");
    for dir in [&a, &b] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn bad_band_files_are_refused_naming_the_file() {
    let mut files = s2_files(Resampling::Nearest);
    files[2].band = 7;
    let err = BandFilesSource::new(files).info().unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { .. }), "{err:?}");
    assert!(
        err.to_string().contains("s2_10m_B02_B03_B04_B08.tif"),
        "{err}"
    );
    let mut files = s2_files(Resampling::Nearest);
    files[0].path = data("sentinel2_arid/no_such_band.tif");
    let err = BandFilesSource::new(files).info().unwrap_err();
    assert!(err.to_string().contains("no_such_band.tif"), "{err}");
    // Not georeferenced: cannot be put on a grid.
    let files = vec![BandFile::new(
        data("sentinel2_spyndex/s2_10m_B02_B03_B04_B08_nogeo.tif"),
        BandRole::Blue,
        Resampling::Nearest,
    )];
    let err = BandFilesSource::new(files).info().unwrap_err();
    assert!(matches!(err, Error::Georeference { .. }), "{err:?}");
    let err = BandFilesSource::new(Vec::new()).info().unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { .. }), "{err:?}");
    // An output over any band file (not only the first) is refused before any work.
    let dir = temp_dir("band_source_clash");
    std::fs::copy(data(S2_20M), dir.join("change.tif")).unwrap();
    let mut files = s2_files(Resampling::Nearest);
    files[5].path = dir.join("change.tif");
    let err = Job::from_sources(
        BandFilesSource::new(files),
        BandFilesSource::new(s2_files(Resampling::Nearest)),
    )
    .sensor(landwatch::Sensor::sentinel2_l2a())
    .bands(
        s2_files(Resampling::Nearest)
            .iter()
            .filter_map(|f| f.role)
            .collect(),
    )
    .run(&Engine::cpu(), &dir)
    .unwrap_err();
    assert!(matches!(err, Error::OutputIsInput { .. }), "{err:?}");
    assert!(dir.join("change.tif").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

const ROLES: [&str; 6] = ["blue", "green", "red", "nir", "swir1", "swir2"];

/// The Taizhou date `date` split into one file per band by `gdal_translate -b N`.
fn split(dir: &Path, date: &str) -> Vec<PathBuf> {
    let stack = data(&format!("landsat_taizhou/Taizhou_{date}.tif"));
    (1..=6)
        .map(|n| {
            let path = dir.join(format!("Taizhou_{date}_B{n}.tif"));
            let n = n.to_string();
            let args = ["-q", "-b", n.as_str()];
            let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
            all.extend([stack.as_os_str(), path.as_os_str()]);
            run("gdal_translate", all).unwrap();
            path
        })
        .collect()
}

#[test]
fn the_taizhou_pair_per_band_gives_the_results_of_the_stacks() {
    if gdal("the_taizhou_pair_per_band_gives_the_results_of_the_stacks").is_none() {
        return;
    }
    let inputs = temp_dir("band_source_taizhou_inputs");
    let (t1, t2) = (split(&inputs, "t1"), split(&inputs, "t2"));
    let taizhou = data("landsat_taizhou");
    let (a, b) = (
        temp_dir("band_source_stacks"),
        temp_dir("band_source_bands"),
    );
    let stacks = taizhou_job(
        taizhou.join("Taizhou_t1.tif"),
        taizhou.join("Taizhou_t2.tif"),
    )
    .tile_rows(37)
    .run(&Engine::cpu(), &a)
    .unwrap();
    let source = |paths: &[PathBuf]| {
        let files = paths
            .iter()
            .zip(ROLES)
            .map(|(p, r)| BandFile::new(p, r.parse().unwrap(), Resampling::Nearest))
            .collect();
        BandFilesSource::new(files)
    };
    let zones = data("landsat_taizhou/illustrative");
    let bands = Job::from_sources(source(&t1), source(&t2))
        .sensor(landwatch::Sensor::landsat_dn())
        .zone_geojson("basic_farmland", zones.join("basic_farmland.geojson"))
        .zone_geojson("eco_redline", zones.join("eco_redline.geojson"))
        .zone_geojson("urban_boundary", zones.join("urban_boundary.geojson"))
        .regions(zones.join("counties.geojson"), "code")
        .tile_rows(37)
        .run(&Engine::cpu(), &b)
        .unwrap();
    assert!(stacks.patch_count > 20);
    assert_eq!(stacks.patch_count, bands.patch_count);
    assert_same_results(&a, &b, "Taizhou per band vs stacks");
    #[cfg(feature = "cli")]
    cli_per_band_equals_stacks(&t1, &t2, &a);
    for dir in [&inputs, &a, &b] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// `landwatch enforce --before-band ROLE=FILE ... --after-band ...` (after's roles in another
/// order) writes what the library wrote on the stacks into `stacks`.
#[cfg(feature = "cli")]
fn cli_per_band_equals_stacks(t1: &[PathBuf], t2: &[PathBuf], stacks: &Path) {
    let out = temp_dir("band_source_cli");
    let zones = data("landsat_taizhou/illustrative");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_landwatch"));
    cmd.args([
        "-q",
        "enforce",
        "--sensor",
        "landsat-dn",
        "--backend",
        "cpu",
    ])
    .args(["--tile-size", "37"]);
    for (p, r) in t1.iter().zip(ROLES) {
        cmd.arg("--before-band").arg(format!("{r}={}", p.display()));
    }
    for (p, r) in t2.iter().zip(ROLES).rev() {
        cmd.arg("--after-band").arg(format!("{r}={}", p.display()));
    }
    for zone in ["basic_farmland", "eco_redline", "urban_boundary"] {
        let file = zones.join(format!("{zone}.geojson"));
        cmd.arg("--zones").arg(format!("{zone}={}", file.display()));
    }
    cmd.arg("--regions").arg(zones.join("counties.geojson"));
    cmd.args(["--region-field", "code", "--out"]).arg(&out);
    let result = cmd.output().unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_same_results(stacks, &out, "landwatch enforce --before-band vs stacks");
    let _ = std::fs::remove_dir_all(&out);
}
