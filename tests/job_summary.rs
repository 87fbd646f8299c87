//! `summary.json` read back into its types ([`landwatch::job::Summary`]) after a real run,
//! summaries the types refuse, and the job on dates held in memory
//! ([`landwatch::io::MemorySource`]) against the job on the same files.

mod common;

use common::{assert_same_results, data, temp_dir};
use landwatch::io::{DateSource, MemorySource, ReadLimits, read_geotiff};
use landwatch::job::{DetectionSummary, Job, SCHEMA_VERSION, Summary};
use landwatch::{Backend, Engine, Error};
use serde_json::Value;
use std::path::Path;

/// The Taizhou settings of the demo job (zones, regions, sensor) on `job`.
fn taizhou_settings(job: Job) -> Job {
    let zones = data("landsat_taizhou/illustrative");
    job.sensor(landwatch::Sensor::landsat_dn())
        .zone_geojson("basic_farmland", zones.join("basic_farmland.geojson"))
        .zone_geojson("eco_redline", zones.join("eco_redline.geojson"))
        .zone_geojson("urban_boundary", zones.join("urban_boundary.geojson"))
        .regions(zones.join("counties.geojson"), "code")
}

fn taizhou_file(date: &str) -> std::path::PathBuf {
    data(&format!("landsat_taizhou/Taizhou_{date}.tif"))
}

/// One Taizhou date read whole into memory, as bands without roles.
fn taizhou_in_memory(date: &str) -> MemorySource {
    let image = read_geotiff(taizhou_file(date), &ReadLimits::default()).unwrap();
    MemorySource::new(
        format!("Taizhou {date} in memory"),
        image.into_stack(&[]).unwrap(),
    )
}

/// Panics unless `a` and `b` hold the same keys in the same order and the same values,
/// numbers within a few units of the last place (serde_json's default parser, unlike the
/// writer, is not correctly rounded).
fn assert_same_json(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "keys of {at}");
            for (k, v) in x {
                assert_same_json(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length of {at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same_json(v, w, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-15 * x.abs().max(y.abs()),
                "{at}: {x} ≠ {y}"
            );
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

/// Panics unless `summary`, written again, is the record `text` (numbers as above).
fn assert_rewrites_as(summary: &Summary, text: &str) {
    let again = serde_json::to_string_pretty(summary).unwrap();
    let value = |t: &str| serde_json::from_str::<Value>(t).unwrap();
    assert_same_json(&value(&again), &value(text), "summary");
}

fn read_summary(dir: &Path) -> (String, Summary) {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let summary: Summary = serde_json::from_str(&text).expect("summary.json reads as a Summary");
    (text, summary)
}

#[test]
fn summary_reads_back_into_its_types_with_the_runs_values() {
    let out = temp_dir("job_summary_types");
    let job = taizhou_settings(Job::new(taizhou_file("t1"), taizhou_file("t2")));
    let report = job.run(&Engine::new(Backend::Cpu), &out).unwrap();
    let (text, summary) = read_summary(&out);

    assert_eq!(summary.schema_version, SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 1);
    assert!(text.trim_start().starts_with("{\n  \"schema_version\": 1,"));
    // The types hold every field: written again, the record is the same, in the same order.
    assert_rewrites_as(&summary, &text);

    let csv = std::fs::read_to_string(out.join("patches.csv")).unwrap();
    let rows = csv.lines().count() - 1;
    assert!(rows > 0);
    assert_eq!(summary.patch_count, rows);
    assert_eq!(summary.patch_count, report.patch_count);
    assert_eq!(summary.pixels.total, 400 * 400);
    assert_eq!(summary.pixels.valid, report.valid_pixels);
    assert!(summary.inputs.before.ends_with("Taizhou_t1.tif"));
    assert!(summary.inputs.after.ends_with("Taizhou_t2.tif"));
    assert_eq!(summary.settings.sensor.as_deref(), Some("landsat-dn"));
    assert_eq!(
        summary.settings.zones,
        ["basic_farmland", "eco_redline", "urban_boundary"]
    );
    assert_eq!(summary.settings.threshold, report.threshold);
    assert_eq!(summary.backend.requested, "Cpu");
    let total: f64 = report.area_by_type_m2[1..].iter().sum();
    let a = &summary.area_by_type_m2;
    let listed = a.earth_moving
        + a.new_construction
        + a.earth_moving_to_construction
        + a.excavation_or_mining
        + a.other_change;
    assert!(total > 0.0 && (listed - total).abs() < 1e-6 * total);
    let new = report.area_by_type_m2[2];
    assert!(new > 0.0 && (a.new_construction - new).abs() <= 1e-15 * new);
    let DetectionSummary::Contextual(detection) = &summary.change_detection else {
        panic!(
            "the default method is contextual: {:?}",
            summary.change_detection
        );
    };
    assert_eq!(detection.method, "contextual");
    assert_eq!(detection.threshold.value, report.threshold);
    assert_eq!(detection.normalization.gain_q12.len(), 6);
    let stages: Vec<&str> = summary.stages_seconds.keys().map(String::as_str).collect();
    assert_eq!(stages, ["change", "morphology", "patches", "plan", "write"]);
    // The outputs listed are the set: each exists, summary.json last.
    assert_eq!(
        summary.outputs.last().map(String::as_str),
        Some("summary.json")
    );
    for name in &summary.outputs {
        assert!(out.join(name).is_file(), "{name} is listed but missing");
    }
    assert!(summary.outputs.iter().any(|n| n == "regions.csv"));
}

#[test]
fn a_per_pixel_method_reads_back_as_its_own_shape() {
    let out = temp_dir("job_summary_per_pixel");
    let options =
        landwatch::ChangeOptions::new().with_method(landwatch::ChangeMethod::ChangeVector);
    Job::new(taizhou_file("t1"), taizhou_file("t2"))
        .sensor(landwatch::Sensor::landsat_dn())
        .change_options(options)
        .run(&Engine::new(Backend::Cpu), &out)
        .unwrap();
    let (text, summary) = read_summary(&out);
    assert_rewrites_as(&summary, &text);
    let DetectionSummary::PerPixel(detection) = &summary.change_detection else {
        panic!("change vector is per pixel: {:?}", summary.change_detection);
    };
    assert_eq!(detection.method, "ChangeVector");
    assert_eq!(detection.threshold.value, summary.settings.threshold);
    assert!(detection.threshold.noise > 0.0);
    assert!(summary.regions_warned.is_empty());
}

/// A summary of the current schema, small but complete.
const MINIMAL: &str = r#"{
  "schema_version": 1,
  "area_by_type_m2": {"earth-moving": 0.0, "earth-moving to construction": 0.0,
    "excavation or mining": 0.0, "new construction": 0.0, "other change": 1.5},
  "backend": {"device": "CPU (2 threads)", "fallback": null, "measured": null, "requested": "Cpu"},
  "change_detection": {"method": "ChangeVector",
    "normalization": {"gain_q12": [4096, 4096, 4096, 4096, 4096, 4096], "offset_q12": [0, 0, 0, 0, 0, 0]},
    "threshold": {"noise": 1.0, "rule": "fixed by the caller", "value": 30}},
  "inputs": {"after": "t2.tif", "before": "t1.tif"},
  "outputs": ["summary.json"],
  "patch_count": 1,
  "pixels": {"total": 4, "valid": 4},
  "regions_warned": [],
  "settings": {"connectivity": "Eight", "method": "ChangeVector", "min_area_m2": 0.0,
    "opening": null, "sensor": null, "strip_rows": 2, "threshold": 30, "warning_share": 0.15,
    "zones": []},
  "stages_seconds": {"write": 0.1},
  "warnings": []
}"#;

#[test]
fn summaries_of_another_version_or_missing_a_field_are_refused() {
    let summary: Summary = serde_json::from_str(MINIMAL).unwrap();
    assert_eq!(summary.patch_count, 1);
    assert_eq!(summary.area_by_type_m2.other_change, 1.5);

    let newer = MINIMAL.replace("\"schema_version\": 1", "\"schema_version\": 2");
    let e = serde_json::from_str::<Summary>(&newer).unwrap_err();
    assert!(e.to_string().contains("schema version 2"), "{e}");

    let unversioned = MINIMAL.replace("\"schema_version\": 1,", "");
    let e = serde_json::from_str::<Summary>(&unversioned).unwrap_err();
    assert!(
        e.to_string().contains("missing field `schema_version`"),
        "{e}"
    );

    let uncounted = MINIMAL.replace("\"patch_count\": 1,", "");
    let e = serde_json::from_str::<Summary>(&uncounted).unwrap_err();
    assert!(e.to_string().contains("missing field `patch_count`"), "{e}");
}

#[test]
fn dates_in_memory_give_the_same_results_as_the_files() {
    let engine = Engine::new(Backend::Cpu);
    let (files, memory) = (
        temp_dir("job_summary_files"),
        temp_dir("job_summary_memory"),
    );
    taizhou_settings(Job::new(taizhou_file("t1"), taizhou_file("t2")))
        .run(&engine, &files)
        .unwrap();
    let before: Box<dyn DateSource> = Box::new(taizhou_in_memory("t1"));
    let report = taizhou_settings(Job::from_sources(before, taizhou_in_memory("t2")))
        .tile_rows(37)
        .run(&engine, &memory)
        .unwrap();
    assert!(report.patch_count > 0);
    assert_same_results(&files, &memory, "files against memory");
    let csv = |dir: &Path| std::fs::read(dir.join("patches.csv")).unwrap();
    assert_eq!(csv(&files), csv(&memory));
    let (_, summary) = read_summary(&memory);
    assert_eq!(summary.inputs.before, "Taizhou t1 in memory");
    assert_eq!(summary.inputs.after, "Taizhou t2 in memory");
    let page = std::fs::read_to_string(memory.join("report.html")).unwrap();
    assert!(page.contains("Taizhou t1 in memory → Taizhou t2 in memory"));
}

#[test]
fn a_date_in_memory_without_georeferencing_is_refused_by_name() {
    let out = temp_dir("job_summary_no_georef");
    let image = read_geotiff(taizhou_file("t1"), &ReadLimits::default()).unwrap();
    let mut stack = image.into_stack(&[]).unwrap();
    stack.georef = None;
    let job = Job::from_sources(
        MemorySource::new("bare stack", stack),
        taizhou_in_memory("t2"),
    );
    match job.run(&Engine::new(Backend::Cpu), &out) {
        Err(e @ Error::Georeference { .. }) => assert!(e.to_string().contains("bare stack"), "{e}"),
        other => panic!("expected a georeference refusal, got {other:?}"),
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

/// With the `serde` feature, a job's report survives a round trip through JSON.
#[cfg(feature = "serde")]
#[test]
fn job_report_round_trips_through_json() {
    let out = temp_dir("job_summary_report_serde");
    let report = taizhou_settings(Job::new(taizhou_file("t1"), taizhou_file("t2")))
        .run(&Engine::new(Backend::Cpu), &out)
        .unwrap();
    let text = serde_json::to_string(&report).unwrap();
    let back: landwatch::job::JobReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back.patch_count, report.patch_count);
    assert_eq!(back.stages.len(), report.stages.len());
    assert_eq!(back.execution, report.execution);
    assert_eq!(back.outputs, report.outputs);
    assert_eq!(back.zone_names, report.zone_names);
    assert!(back.patches.iter().zip(&report.patches).all(|(b, r)| {
        (b.attributes.id, b.attributes.change_type, &b.region_code)
            == (r.attributes.id, r.attributes.change_type, &r.region_code)
    }));
    // Every field, numbers within a few units of the last place (serde_json's parser).
    let value = |r: &landwatch::job::JobReport| serde_json::to_value(r).unwrap();
    assert_same_json(&value(&back), &value(&report), "report");
}
