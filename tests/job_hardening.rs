//! The enforcement job as a user meets it, attacked: every test runs the `enforce` (or
//! `index`) example as a separate process, as a user or a script would, and checks what is on
//! disk afterwards. A refused, failed, interrupted or killed run leaves the output folder's
//! earlier set exactly as it was; concurrent jobs never mix their sets; planted links are
//! never followed; an output is never written over an input; CSV cells are never formulas;
//! bad numbers are command-line errors; a decompression bomb is refused before it is read.
//!
//! Unix only: the tests send signals and plant symbolic links.
#![cfg(unix)]

mod common;

use common::{data, differences, snapshot, temp_dir};
use landwatch::Raster;
use landwatch::geo::{Crs, Unsupported};
use landwatch::io::{GeoTiff, ReadLimits, WriteOptions, read_geotiff, read_info, write_image};
use landwatch::job::JOB_OUTPUTS;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A built example: `target/<profile>/examples/NAME`, next to this test's `deps/` folder
/// (`cargo test` builds the examples before it runs the tests).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: `cargo test` builds the examples; run it from the repository",
        path.display()
    );
    path
}

fn taizhou(name: &str) -> PathBuf {
    data(&format!("landsat_taizhou/{name}"))
}

fn zones(name: &str) -> PathBuf {
    data(&format!("landsat_taizhou/illustrative/{name}"))
}

/// The arguments of the demo job on `before` and `after` into `out`, on the CPU.
fn job_args(before: &Path, after: &Path, out: &Path) -> Vec<String> {
    let mut args = common::taizhou_enforce_args(before, after);
    let out = out.display().to_string();
    args.extend(["--out".into(), out, "--backend".into(), "cpu".into()]);
    args
}

/// The demo job on the bundled pair into `out`.
fn good_args(out: &Path) -> Vec<String> {
    job_args(&taizhou("Taizhou_t1.tif"), &taizhou("Taizhou_t2.tif"), out)
}

/// Replaces the value following `flag` (or adds the pair).
fn with(mut args: Vec<String>, flag: &str, value: &str) -> Vec<String> {
    match args.iter().position(|a| a == flag) {
        Some(i) => args[i + 1] = value.into(),
        None => args.extend([flag.to_string(), value.to_string()]),
    }
    args
}

fn enforce(args: &[String]) -> Output {
    Command::new(example("enforce"))
        .args(args)
        .output()
        .unwrap()
}

fn spawn_enforce(args: &[String]) -> Child {
    Command::new(example("enforce"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs the job and panics unless it succeeded.
fn run_good(args: &[String]) {
    let output = enforce(args);
    assert!(
        output.status.success(),
        "the good run failed: {}",
        stderr(&output)
    );
}

/// Names in `dir` that only an unfinished run leaves: staging folders and temporary files.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".landwatch-staging-") || n.contains(".tmp-"))
        .collect()
}

/// Panics when a message shows Rust's `Debug` text instead of words for a user.
fn assert_plain_words(message: &str) {
    for debug in ["Some(", "None", " { ", "Os {", "kind: "] {
        assert!(
            !message.contains(debug),
            "the message shows Debug text ({debug}): {message}"
        );
    }
    assert!(!message.contains("panicked"), "a panic: {message}");
}

/// Copies a date of the bundled pair with its CRS replaced by `crs`.
fn with_crs(src: &Path, dst: &Path, crs: Option<Crs>) {
    let mut image = read_geotiff(src, &ReadLimits::default()).unwrap();
    let georef = image.georef.as_mut().unwrap();
    georef.crs = crs;
    write_image(dst, &image, &WriteOptions::default()).unwrap();
}

/// A date of the bundled pair repeated `times × times` over a grid of the same origin: a
/// scene large enough that a run can be interrupted or overlapped while it works.
fn tiled_date(src: &Path, dst: &Path, times: usize) {
    let image = read_geotiff(src, &ReadLimits::default()).unwrap();
    let (w, h) = (image.width, image.height);
    let bands = image
        .bands
        .iter()
        .map(|band| {
            let landwatch::BandData::U8(v) = band else {
                panic!("the bundled pair is 8-bit")
            };
            let mut out = Vec::with_capacity(w * h * times * times);
            for _ in 0..times {
                for row in 0..h {
                    for _ in 0..times {
                        out.extend_from_slice(&v[row * w..(row + 1) * w]);
                    }
                }
            }
            landwatch::BandData::U8(out)
        })
        .collect();
    let big = GeoTiff {
        width: w * times,
        height: h * times,
        bands,
        ..image
    };
    write_image(dst, &big, &WriteOptions::default()).unwrap();
}

/// The large pair (`times`² copies of the bundled one), made once per test binary.
fn large_pair() -> (PathBuf, PathBuf) {
    static PAIR: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    PAIR.get_or_init(|| {
        let dir = temp_dir("hardening_large_pair");
        let pair = (dir.join("t1_large.tif"), dir.join("t2_large.tif"));
        tiled_date(&taizhou("Taizhou_t1.tif"), &pair.0, 8);
        tiled_date(&taizhou("Taizhou_t2.tif"), &pair.1, 8);
        pair
    })
    .clone()
}

/// Waits until the run writing into `out` has staged at least one file (it is past its
/// checks and working), and returns true; false when the process ended first.
fn wait_until_working(child: &mut Child, out: &Path) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let staged = std::fs::read_dir(out)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".landwatch-staging-")
                    && std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_some())
            });
        if staged {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the run into {} never started working", out.display());
}

fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a pid this test spawned and has not waited for yet.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

#[test]
fn refused_runs_leave_a_good_set_byte_identical_and_add_nothing() {
    let dir = temp_dir("hardening_refused");
    let out = dir.join("out");
    run_good(&good_args(&out));
    let good = snapshot(&out);
    assert!(good.contains_key(Path::new("summary.json")));

    let truncated = dir.join("farmland_truncated.geojson");
    std::fs::write(
        &truncated,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[120.1,32.4],[120."#,
    )
    .unwrap();
    let engineering = [dir.join("t1_local.tif"), dir.join("t2_local.tif")];
    let local = Some(Crs::Unsupported(Unsupported::Engineering));
    with_crs(&taizhou("Taizhou_t1.tif"), &engineering[0], local);
    with_crs(&taizhou("Taizhou_t2.tif"), &engineering[1], local);
    let missing = dir.join("no_such_counties.geojson");

    let zone = format!("basic_farmland={}", truncated.display());
    let mut bad_zone = good_args(&out);
    let i = bad_zone
        .iter()
        .position(|a| a.starts_with("basic_farmland="))
        .unwrap();
    bad_zone[i] = zone;
    let cases: Vec<(&str, Vec<String>, u8, String)> = vec![
        (
            "an invalid zones file",
            bad_zone,
            2,
            truncated.display().to_string(),
        ),
        (
            "a missing regions file",
            with(good_args(&out), "--regions", &missing.display().to_string()),
            2,
            missing.display().to_string(),
        ),
        (
            "a CRS with no place on the Earth",
            job_args(&engineering[0], &engineering[1], &out),
            2,
            engineering[0].display().to_string(),
        ),
        (
            "--min-area-m2 -5",
            with(good_args(&out), "--min-area-m2", "-5"),
            2,
            "--min-area-m2".into(),
        ),
    ];
    for (what, args, code, named) in cases {
        let output = enforce(&args);
        let message = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(i32::from(code)),
            "{what}: exit code; stderr: {message}"
        );
        assert!(
            message.contains(&named),
            "{what}: the message does not name {named}: {message}"
        );
        assert_plain_words(&message);
        let changed = differences(&good, &snapshot(&out));
        assert!(changed.is_empty(), "{what}: {changed:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interrupted_runs_leave_nothing_and_the_next_run_cleans_what_a_kill_left() {
    let dir = temp_dir("hardening_interrupted");
    let out = dir.join("out");
    run_good(&good_args(&out));
    let good = snapshot(&out);
    let (t1, t2) = large_pair();
    let large = with(job_args(&t1, &t2, &out), "--tile-size", "64");

    for (name, sig) in [("SIGINT", libc::SIGINT), ("SIGTERM", libc::SIGTERM)] {
        let mut child = spawn_enforce(&large);
        assert!(
            wait_until_working(&mut child, &out),
            "{name}: the large run ended before it could be interrupted"
        );
        signal(&child, sig);
        let output = child.wait_with_output().unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(130), "{name}: {message}");
        let changed = differences(&good, &snapshot(&out));
        assert!(changed.is_empty(), "{name} left: {changed:?}");
    }

    // kill -9 cannot be caught: its staging folder stays until the next run.
    let mut child = spawn_enforce(&large);
    assert!(wait_until_working(&mut child, &out));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !leftovers(&out).is_empty(),
        "kill -9 left nothing to clean; the test did not test"
    );
    run_good(&good_args(&out));
    assert_eq!(leftovers(&out), Vec::<String>::new());
    let again = snapshot(&out);
    for name in ["patches.tif", "change.tif", "regions.csv", "patches.csv"] {
        assert_eq!(
            again.get(Path::new(name)),
            good.get(Path::new(name)),
            "{name} after the clean-up run"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_jobs_into_one_folder_never_mix_their_sets() {
    let dir = temp_dir("hardening_concurrent");
    let out = dir.join("out");
    let (t1, t2) = large_pair();
    let mut large = job_args(&t1, &t2, &out);
    large.push("--raw-change".into());
    let mut first = spawn_enforce(&large);
    assert!(wait_until_working(&mut first, &out));
    let second = enforce(&good_args(&out));
    let message = stderr(&second);
    assert_eq!(second.status.code(), Some(75), "{message}");
    assert!(
        message.contains("another landwatch job is writing into this folder"),
        "{message}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let set_of = |out: &Path| {
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        let listed: Vec<String> = summary["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        (summary, listed)
    };
    // The published set is the large job's, whole: every raster on its grid, and the files
    // the summary lists are the folder's outputs.
    let (summary, listed) = set_of(&out);
    assert!(summary.to_string().contains("t1_large.tif"));
    for name in [
        "class_before.tif",
        "change.tif",
        "patches.tif",
        "change_raw.tif",
    ] {
        assert!(listed.iter().any(|l| l == name), "{name} not listed");
        let side_car = format!("{name}.aux.xml");
        assert!(
            out.join(&side_car).is_file() || name == "patches.tif",
            "no {side_car}"
        );
        assert_eq!(read_info(out.join(name)).unwrap().width, 3200, "{name}");
    }
    // The small job then replaces it whole: nothing of the large one stays.
    run_good(&good_args(&out));
    let (summary, listed) = set_of(&out);
    assert!(!summary.to_string().contains("t1_large.tif"));
    for stale in ["change_raw.tif", "change_raw.tif.aux.xml", "change_raw.qml"] {
        assert!(!out.join(stale).exists(), "a stale {stale} stayed");
    }
    for name in &listed {
        if name.ends_with(".tif") {
            assert_eq!(read_info(out.join(name)).unwrap().width, 400, "{name}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn planted_links_are_never_followed() {
    let dir = temp_dir("hardening_links");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let victim_dir = dir.join("victim_dir");
    std::fs::create_dir_all(&victim_dir).unwrap();
    std::fs::write(victim_dir.join("kept.txt"), "kept\n").unwrap();
    let outputs = JOB_OUTPUTS;
    let temporaries = [
        ".summary.json.tmp-0",
        ".patches.tif.tmp-1-0",
        ".regions.csv.tmp-00000000000000000000000000000000",
    ];
    for name in outputs.iter().chain(&temporaries) {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    std::os::unix::fs::symlink(&victim_dir, out.join(".landwatch-staging-planted")).unwrap();
    run_good(&good_args(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(
        snapshot(&victim_dir).len(),
        1,
        "the planted staging link was followed"
    );
    assert!(victim_dir.join("kept.txt").exists());
    // The good run writes no change_raw.tif (nor its side-car): the links there are removed.
    for name in outputs.iter().filter(|n| !n.starts_with("change_raw.")) {
        let meta = std::fs::symlink_metadata(out.join(name)).unwrap();
        assert!(meta.is_file(), "{name} is still a link");
    }
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));

    // A link at the lock file is refused, not followed.
    let locked = dir.join("out_lock");
    std::fs::create_dir_all(&locked).unwrap();
    std::os::unix::fs::symlink(&victim, locked.join(".landwatch.lock")).unwrap();
    let output = enforce(&good_args(&locked));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains(".landwatch.lock"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(snapshot(&locked).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_output_path_equal_to_an_input_path_is_refused() {
    let dir = temp_dir("hardening_output_is_input");
    // Each case: an output folder holding one input of the job under an output name.
    let folder = |case: &str| {
        let out = dir.join(case);
        std::fs::create_dir_all(&out).unwrap();
        out
    };
    // A date stored as class_before.tif.
    let date_out = folder("date");
    let before = date_out.join("class_before.tif");
    std::fs::copy(taizhou("Taizhou_t1.tif"), &before).unwrap();
    // A zone mask on the imagery's grid stored as change.tif.
    let mask_out = folder("mask");
    let info = read_info(taizhou("Taizhou_t1.tif")).unwrap();
    let mask = mask_out.join("change.tif");
    landwatch::io::write_geotiff(
        &mask,
        &Raster::<u8> {
            width: info.width,
            height: info.height,
            data: vec![1; info.width * info.height],
            nodata: 0,
            georef: info.georef,
        },
    )
    .unwrap();
    let mut mask_args = good_args(&mask_out);
    mask_args.extend(["--zones".into(), format!("mask={}", mask.display())]);
    // Regions reached through a link named like an output.
    let link_out = folder("link");
    let link = link_out.join("patches.geojson");
    std::os::unix::fs::symlink(zones("counties.geojson"), &link).unwrap();
    let link_args = with(
        good_args(&link_out),
        "--regions",
        &link.display().to_string(),
    );
    let cases = [
        (
            "a date named class_before.tif",
            &date_out,
            job_args(&before, &taizhou("Taizhou_t2.tif"), &date_out),
            "class_before.tif",
        ),
        (
            "a zone mask named change.tif",
            &mask_out,
            mask_args,
            "change.tif",
        ),
        (
            "regions linked as patches.geojson",
            &link_out,
            link_args,
            "patches.geojson",
        ),
    ];
    for (what, out, args, name) in cases {
        let kept = snapshot(out);
        let output = enforce(&args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{what}: {message}");
        assert!(
            message.contains(name) && message.contains("is the input"),
            "{what}: {message}"
        );
        assert_plain_words(&message);
        assert!(differences(&kept, &snapshot(out)).is_empty(), "{what}");
    }

    // `index --input X --out X`, directly and through a link.
    let stack = dir.join("stack.tif");
    std::fs::copy(taizhou("Taizhou_t1.tif"), &stack).unwrap();
    let alias = dir.join("alias.tif");
    std::os::unix::fs::symlink(&stack, &alias).unwrap();
    let original = std::fs::read(&stack).unwrap();
    for target in [&stack, &alias] {
        let output = Command::new(example("index"))
            .args(["--input", &stack.display().to_string()])
            .args(["--sensor", "landsat-dn", "--name", "NDVI"])
            .args(["--out", &target.display().to_string()])
            .output()
            .unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{message}");
        assert!(message.contains("is the input"), "{message}");
        assert_eq!(std::fs::read(&stack).unwrap(), original);
    }
    assert!(std::fs::symlink_metadata(&alias).unwrap().is_symlink());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn out_of_range_numbers_are_command_line_errors() {
    let dir = temp_dir("hardening_numbers");
    let out = dir.join("out");
    for (flag, value) in [
        ("--tile-size", "18446744073709551615"),
        ("--tile-size", "1000000000"),
        ("--tile-size", "0"),
        ("--warning-share", "2"),
        ("--warning-share", "NaN"),
        ("--min-area-m2", "inf"),
        ("--max-pixels", "-1"),
    ] {
        let output = enforce(&with(good_args(&out), flag, value));
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {message}");
        assert!(message.contains(flag), "{flag} {value}: {message}");
        assert_plain_words(&message);
        assert!(!out.exists(), "{flag} {value} created the output folder");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn formulas_in_region_codes_and_zone_names_never_reach_a_csv_cell() {
    let dir = temp_dir("hardening_csv");
    let out = dir.join("out");
    let counties = std::fs::read_to_string(zones("counties.geojson")).unwrap();
    let mut layer: serde_json::Value = serde_json::from_str(&counties).unwrap();
    let codes = ["=1+2", "@SUM(A1)", "=cmd|' /C calc'!A0", "-2+3"];
    for (feature, code) in layer["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(codes.iter().cycle())
    {
        feature["properties"]["code"] = (*code).into();
    }
    let regions = dir.join("counties_formulas.geojson");
    std::fs::write(&regions, layer.to_string()).unwrap();
    let mut args = with(good_args(&out), "--regions", &regions.display().to_string());
    let farmland = args
        .iter()
        .position(|a| a.starts_with("basic_farmland="))
        .unwrap();
    args[farmland] = args[farmland].replacen("basic_farmland=", "+farm=", 1);
    run_good(&args);
    let mut seen = 0;
    for file in ["regions.csv", "patches.csv"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        for line in text.lines() {
            for cell in common::csv_fields(line) {
                let first = cell.chars().next();
                let formula = matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r'))
                    && cell.parse::<f64>().is_err();
                assert!(!formula, "{file}: the cell {cell:?} is a formula");
                seen += usize::from(cell.starts_with("'=1+2") || cell.starts_with("'+farm"));
            }
        }
    }
    assert!(seen >= 2, "neither the code nor the zone name was written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A classic TIFF declaring `side × side` pixels of six 8-bit samples in 256×256 tiles,
/// every tile pointing at one stored tile: a few MB that would decode to `6·side²` bytes.
fn tile_reuse_bomb(path: &Path, side: u32) {
    const TILE: u32 = 256;
    let across = side.div_ceil(TILE);
    let tiles = (across * across) as usize;
    let tile_bytes = (TILE * TILE * 6) as usize;
    let mut tags: Vec<(u16, u16, u32, Vec<u8>)> = Vec::new();
    let short = |v: &[u16]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let long = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let double = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    // Layout: header, tile data, the big arrays, then the IFD.
    let data_at = 8u32;
    let offsets_at = data_at + tile_bytes as u32;
    tags.push((256, 4, 1, long(&[side])));
    tags.push((257, 4, 1, long(&[side])));
    tags.push((258, 3, 6, short(&[8; 6])));
    tags.push((259, 3, 1, short(&[1])));
    tags.push((262, 3, 1, short(&[1])));
    tags.push((277, 3, 1, short(&[6])));
    tags.push((284, 3, 1, short(&[1])));
    tags.push((322, 3, 1, short(&[TILE as u16])));
    tags.push((323, 3, 1, short(&[TILE as u16])));
    tags.push((324, 4, tiles as u32, long(&vec![data_at; tiles])));
    tags.push((325, 4, tiles as u32, long(&vec![tile_bytes as u32; tiles])));
    tags.push((338, 3, 5, short(&[0; 5])));
    tags.push((339, 3, 6, short(&[1; 6])));
    tags.push((33550, 12, 3, double(&[30.0, 30.0, 0.0])));
    tags.push((
        33922,
        12,
        6,
        double(&[0.0, 0.0, 0.0, 200_000.0, 3_600_000.0, 0.0]),
    ));
    tags.push((
        34735,
        3,
        16,
        short(&[1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32651]),
    ));
    let mut file = b"II*\0".to_vec();
    let mut blobs = Vec::new();
    let mut at = offsets_at as usize;
    let mut entries = Vec::new();
    for (tag, kind, count, bytes) in tags {
        let mut value = [0u8; 4];
        if bytes.len() <= 4 {
            value[..bytes.len()].copy_from_slice(&bytes);
        } else {
            value = (at as u32).to_le_bytes();
            at += bytes.len();
            blobs.push(bytes);
        }
        entries.push((tag, kind, count, value));
    }
    file.extend((at as u32).to_le_bytes());
    file.extend(vec![0u8; tile_bytes]);
    for blob in blobs {
        file.extend(blob);
    }
    file.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        file.extend(tag.to_le_bytes());
        file.extend(kind.to_le_bytes());
        file.extend(count.to_le_bytes());
        file.extend(value);
    }
    file.extend(0u32.to_le_bytes());
    std::fs::write(path, file).unwrap();
}

#[test]
fn a_tile_reuse_bomb_of_ten_billion_pixels_is_refused_before_it_is_read() {
    let dir = temp_dir("hardening_bomb");
    let bomb = dir.join("bomb.tif");
    tile_reuse_bomb(&bomb, 100_000);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 4 << 20);
    let info = read_info(&bomb).unwrap();
    assert_eq!((info.width, info.height), (100_000, 100_000));
    let out = dir.join("out");
    // Under a 1.5 GB address-space limit: reading the scene (60 GB of samples) or allocating
    // for it would fail the limit, not the size check.
    let script = r#"ulimit -v 1500000 && exec "$0" "$@""#;
    let started = Instant::now();
    let output = Command::new("sh")
        .args(["-c", script])
        .arg(example("enforce"))
        .args(job_args(&bomb, &bomb, &out))
        .output()
        .unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("bomb.tif") && message.contains("--max-pixels"),
        "{message}"
    );
    assert!(
        message.contains("10000000000 pixels"),
        "the message does not say how many pixels: {message}"
    );
    assert!(!out.exists(), "the refused run created its output folder");
    println!("refused in {:.2?}: {message}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn digital_numbers_stored_as_reflectance_are_refused_naming_the_date() {
    // The bundled Landsat DN pair stored as float32: read as reflectance (no --sensor), its
    // median is in the tens, not below one.
    let dir = temp_dir("hardening_dn_float");
    let floats: Vec<PathBuf> = ["Taizhou_t1.tif", "Taizhou_t2.tif"]
        .iter()
        .map(|name| {
            let mut image = read_geotiff(taizhou(name), &ReadLimits::default()).unwrap();
            image.bands = image
                .bands
                .iter()
                .map(|b| landwatch::BandData::F32((0..b.len()).map(|i| b.get_f32(i)).collect()))
                .collect();
            let path = dir.join(name.replace(".tif", "_f32.tif"));
            write_image(&path, &image, &WriteOptions::default()).unwrap();
            path
        })
        .collect();
    let out = dir.join("out");
    let mut args = job_args(&floats[0], &floats[1], &out);
    let sensor = args.iter().position(|a| a == "--sensor").unwrap();
    args.drain(sensor..sensor + 2);
    let output = enforce(&args);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("Taizhou_t1_f32.tif") && message.contains("before date"),
        "{message}"
    );
    assert!(message.contains("not reflectance"), "{message}");
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
