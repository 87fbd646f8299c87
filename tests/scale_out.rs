//! `landwatch plan`, `shard` and `merge` as a batch engine runs them: the merged outputs
//! equal `landwatch enforce`'s on the same inputs and options, a shard run twice, at once, or
//! killed mid-write and run again changes nothing, and a merge before every shard completed
//! is refused (exit 75), naming them, with the output folder left as it was.

mod common;

use common::{assert_same_results, data, differences, snapshot, summary_results, temp_dir};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const LANDWATCH: &str = env!("CARGO_BIN_EXE_landwatch");

/// The Taizhou pair (Landsat 7, 400×400) with the illustrative zones and counties, as
/// `enforce` options, and `extra` ones.
fn taizhou_args(extra: &[&str]) -> Vec<String> {
    let d = data("landsat_taizhou");
    let mut args =
        common::taizhou_enforce_args(&d.join("Taizhou_t1.tif"), &d.join("Taizhou_t2.tif"));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Runs `landwatch -q args`, with the outputs' time fixed (the merge records the plan's).
fn landwatch(args: &[String]) -> Output {
    Command::new(LANDWATCH)
        .env("SOURCE_DATE_EPOCH", "1764460800")
        .arg("-q")
        .args(args)
        .output()
        .expect("landwatch runs")
}

/// Runs `landwatch args`, panicking with its stderr unless it exits 0; its stdout.
fn ok(args: &[String]) -> String {
    let output = landwatch(args);
    assert!(
        output.status.success(),
        "landwatch {args:?} exited {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn strings(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Plans `job` in `shards` shards into `out`; the manifest and the shard count printed.
fn plan(job: &[String], out: &Path, shards: usize) -> (String, usize) {
    let mut args = strings(&["plan"]);
    args.extend_from_slice(job);
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(["--shards".into(), shards.to_string()]);
    let printed = landwatch(&args);
    assert!(
        printed.status.success(),
        "plan: {}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let count = String::from_utf8(printed.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (out.join("manifest.json").display().to_string(), count)
}

fn shard(manifest: &str, index: usize) -> Output {
    landwatch(&strings(&[
        "shard",
        "--manifest",
        manifest,
        "--index",
        &index.to_string(),
    ]))
}

fn merge(manifest: &str) -> Output {
    landwatch(&strings(&["merge", "--manifest", manifest]))
}

/// The single run of `job` into `out`.
fn enforce(job: &[String], out: &Path) {
    let mut args = strings(&["enforce"]);
    args.extend_from_slice(job);
    args.extend(["--out".into(), out.display().to_string()]);
    ok(&args);
}

/// The zone areas of every patch, from `patches.geojson`'s properties, in patch order.
fn zone_areas(dir: &Path) -> Vec<serde_json::Value> {
    let geojson: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("patches.geojson")).unwrap()).unwrap();
    geojson["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let zones = [
                "basic_farmland_m2",
                "eco_redline_m2",
                "urban_boundary_m2",
                "region",
            ];
            let values: Vec<_> = zones.iter().map(|k| p[*k].clone()).collect();
            assert!(values[..3].iter().all(|v| v.is_number()), "{p}");
            serde_json::json!([p["id"], values])
        })
        .collect()
}

/// Nine shards, run one by one, then merged: the rasters, `patches.csv`, `regions.csv`,
/// the GeoJSON and the zone areas equal `enforce`'s, for the contextual detector (the
/// default: scene-wide clouds and hysteresis) and a per-pixel one.
#[test]
fn nine_shards_merge_to_the_single_run() {
    for method in ["contextual", "cva"] {
        let root = temp_dir(&format!("scale_out_nine_{method}"));
        let job = taizhou_args(&["--method", method]);
        enforce(&job, &root.join("single"));
        let out = root.join("sharded");
        let (manifest, count) = plan(&job, &out, 9);
        assert_eq!(count, 9);
        for i in 0..count {
            let run = shard(&manifest, i);
            assert!(run.status.success(), "shard {i}: {run:?}");
        }
        let merged = merge(&manifest);
        assert!(merged.status.success(), "merge: {merged:?}");
        let single = root.join("single");
        assert_same_results(&single, &out, &format!("{method}: enforce and 9 shards"));
        for file in [
            "patches.shp",
            "patches.dbf",
            "patches.gpkg",
            "quicklook.png",
        ] {
            let same =
                std::fs::read(single.join(file)).unwrap() == std::fs::read(out.join(file)).unwrap();
            assert!(same, "{method}: {file} differs");
        }
        assert_eq!(summary_results(&single), summary_results(&out), "{method}");
        let zones = zone_areas(&single);
        assert!(zones.len() > 20, "{method}: only {} patches", zones.len());
        assert_eq!(zones, zone_areas(&out), "{method}: zone areas");
        let _ = std::fs::remove_dir_all(&root);
    }
}

/// The files of a shard's folder, by name.
fn shard_files(out: &Path) -> common::Snapshot {
    snapshot(&out.join("shards"))
}

/// A shard run again, four runs of one shard at once, and a shard killed (SIGKILL) in the
/// middle of writing and run again: the shards' files stay byte for byte those of one
/// clean run, nothing half-written stays, and the merge equals `enforce`.
#[test]
fn a_shard_run_twice_at_once_or_killed_mid_write_changes_nothing() {
    let root = temp_dir("scale_out_rerun");
    // One-row strips: many strips a shard, so a kill lands while it writes.
    let job = taizhou_args(&["--tile-size", "1"]);
    enforce(&job, &root.join("single"));
    let out = root.join("sharded");
    let (manifest, count) = plan(&job, &out, 3);
    assert_eq!(count, 3);
    for i in 0..count {
        assert!(shard(&manifest, i).status.success());
    }
    let clean = shard_files(&out);
    assert_eq!(
        clean.keys().filter(|p| p.components().count() == 1).count(),
        3
    );

    // Again: complete already, nothing touched.
    let again = shard(&manifest, 1);
    assert!(again.status.success());
    assert!(differences(&clean, &shard_files(&out)).is_empty());

    // Two runs of one shard at once, from scratch.
    let id = clean
        .keys()
        .find(|p| p.to_string_lossy().starts_with("s00001"))
        .unwrap()
        .clone();
    std::fs::remove_dir_all(out.join("shards").join(&id)).unwrap();
    let spawn = |i: usize| {
        Command::new(LANDWATCH)
            .args([
                "-q",
                "shard",
                "--manifest",
                &manifest,
                "--index",
                &i.to_string(),
            ])
            .spawn()
            .unwrap()
    };
    // Four at once: each cleans the others' staging folders it takes for abandoned, so a
    // window in which a live one looks abandoned fails one of them.
    let runs: Vec<_> = (0..4).map(|_| spawn(1)).collect();
    for mut run in runs {
        assert!(run.wait().unwrap().success());
    }
    assert_eq!(
        differences(&clean, &shard_files(&out)),
        Vec::<String>::new()
    );

    // Killed while it writes its staging folder, then run again.
    std::fs::remove_dir_all(out.join("shards").join(&id)).unwrap();
    let shards = out.join("shards");
    let staging = || {
        std::fs::read_dir(&shards)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(".tmp-"))
    };
    let mut child = spawn(1);
    let start = Instant::now();
    while !staging() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !shards.join(&id).exists(),
        "the shard finished before it was killed; the test needs a slower shard"
    );
    assert!(staging(), "the killed run left no staging folder");
    // The merge now refuses, naming the shard, and leaves the folder as it was.
    let before = snapshot(&out);
    let refused = merge(&manifest);
    assert_eq!(refused.status.code(), Some(75), "{refused:?}");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains(&*id.to_string_lossy()), "{message}");
    assert_eq!(differences(&before, &snapshot(&out)), Vec::<String>::new());
    // Run again: the abandoned staging folder goes, the shard is as the clean run's.
    assert!(shard(&manifest, 1).status.success());
    assert!(!staging(), "the abandoned staging folder is still there");
    assert_eq!(
        differences(&clean, &shard_files(&out)),
        Vec::<String>::new()
    );

    let merged = merge(&manifest);
    assert!(merged.status.success(), "merge: {merged:?}");
    assert_same_results(&root.join("single"), &out, "enforce and 3 shards");
    let _ = std::fs::remove_dir_all(&root);
}

/// Bad requests are fatal (exit 2), naming what is wrong: an index past the plan, no index
/// at all, a file that is not a manifest, a manifest with a gap, an input changed since the
/// plan.
#[test]
fn bad_shard_requests_exit_2() {
    let root = temp_dir("scale_out_bad");
    // A copy of the pair, to change one after the plan.
    let d = data("landsat_taizhou");
    for f in ["Taizhou_t1.tif", "Taizhou_t2.tif"] {
        std::fs::copy(d.join(f), root.join(f)).unwrap();
    }
    let job: Vec<String> = vec![
        "--before".into(),
        root.join("Taizhou_t1.tif").display().to_string(),
        "--after".into(),
        root.join("Taizhou_t2.tif").display().to_string(),
        "--sensor".into(),
        "landsat-dn".into(),
    ];
    let (manifest, count) = plan(&job, &root.join("out"), 4);
    let past = shard(&manifest, count);
    assert_eq!(past.status.code(), Some(2), "{past:?}");
    assert!(String::from_utf8_lossy(&past.stderr).contains("there is no shard"));
    let no_index = Command::new(LANDWATCH)
        .args(["shard", "--manifest", &manifest])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert_eq!(no_index.status.code(), Some(2));
    // The array task's index from the environment.
    let from_env = Command::new(LANDWATCH)
        .args(["-q", "shard", "--manifest", &manifest])
        .env("JOB_COMPLETION_INDEX", "1")
        .output()
        .unwrap();
    assert!(from_env.status.success(), "{from_env:?}");
    assert!(
        std::fs::read_dir(root.join("out/shards"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("s00001-"))
    );
    // Not a manifest, and a manifest whose shards leave rows out: refused, naming the file.
    let garbage = root.join("garbage.json");
    std::fs::write(&garbage, b"{\"schema_version\": 1}").unwrap();
    let garbage = garbage.display().to_string();
    let refused = shard(&garbage, 0);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains(&garbage) && message.contains("not a landwatch shard manifest"));
    let mut gap: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    gap["shards"].as_array_mut().unwrap().remove(1);
    let gapped = root.join("gap.json");
    std::fs::write(&gapped, serde_json::to_vec(&gap).unwrap()).unwrap();
    let refused = merge(&gapped.display().to_string());
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("do not cover the scene"), "{message}");
    // An input rewritten after the plan.
    let t2 = root.join("Taizhou_t2.tif");
    let mut bytes = std::fs::read(&t2).unwrap();
    bytes.extend_from_slice(b"changed");
    std::fs::write(&t2, bytes).unwrap();
    let changed = shard(&manifest, 0);
    assert_eq!(changed.status.code(), Some(2), "{changed:?}");
    let message = String::from_utf8_lossy(&changed.stderr);
    assert!(message.contains("changed since the plan"), "{message}");
    let _ = std::fs::remove_dir_all(&root);
}
