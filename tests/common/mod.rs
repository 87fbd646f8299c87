//! Shared test helpers: the GPU-or-skip rule, GDAL as an independent reference ([`gdal`])
//! and a seeded random source.
#![allow(dead_code)]

pub mod gdal;

use landwatch::{Backend, Device, Engine, Execution, GpuOptions};
use std::sync::Mutex;

/// An engine on a GPU adapter (software ones included), or `None` with the reason printed.
/// With `LANDWATCH_REQUIRE_GPU=1` a missing adapter fails the test instead of skipping it.
///
/// One engine per set of options is shared by every test of the binary, as an application
/// shares one: creating a Vulkan device per test, from many test threads at once, hung the
/// NVIDIA driver (H200, driver 580) in a test that made dozens of them.
pub fn gpu_engine(options: GpuOptions) -> Option<&'static Engine> {
    static ENGINES: Mutex<Vec<(String, &'static Engine)>> = Mutex::new(Vec::new());
    let key = format!("{options:?}");
    let engine = {
        let mut engines = ENGINES.lock().unwrap_or_else(|e| e.into_inner());
        match engines.iter().find(|(k, _)| *k == key) {
            Some((_, e)) => *e,
            None => {
                let e: &'static Engine = Box::leak(Box::new(Engine::with_options(
                    Backend::Gpu,
                    &options.with_allow_software(true),
                )));
                engines.push((key, e));
                e
            }
        }
    };
    match engine.gpu_adapter() {
        Some(adapter) => {
            eprintln!("GPU tests run on adapter: {adapter}");
            Some(engine)
        }
        None => {
            let why = engine
                .gpu_unavailable()
                .map(ToString::to_string)
                .unwrap_or_default();
            if std::env::var("LANDWATCH_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("LANDWATCH_REQUIRE_GPU=1 but no GPU adapter is usable: {why}");
            }
            eprintln!("SKIPPED GPU test: no GPU adapter ({why})");
            None
        }
    }
}

/// Panics unless the work really ran on the GPU with no fallback.
pub fn assert_ran_on_gpu(execution: &Execution) {
    assert!(
        matches!(execution.device, Device::Gpu(_)) && execution.fallback.is_none(),
        "expected a GPU run, got {:?}",
        execution
    );
}

/// SplitMix64: a tiny seeded generator, so failures reproduce from the seed.
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Path of a file in the repository's bundled `data/` folder: under `$LANDWATCH_DATA` when
/// set, else under the source tree the test was built from, else under `./data` (prebuilt test
/// binaries run from the repository root on another machine, see
/// `scripts/build-gpu-bundle.sh`).
pub fn data(path: &str) -> std::path::PathBuf {
    use std::path::{Path, PathBuf};
    let root = match std::env::var_os("LANDWATCH_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
            if built.is_dir() {
                built
            } else {
                PathBuf::from("data")
            }
        }
    };
    root.join(path)
}

/// A GeoTIFF read as a stack with `sensor`'s band roles and radiometry.
pub fn stack(
    path: impl AsRef<std::path::Path>,
    sensor: &landwatch::Sensor,
) -> landwatch::BandStack {
    let mut stack = landwatch::io::read_geotiff(path, &landwatch::io::ReadLimits::default())
        .unwrap()
        .into_stack(&sensor.bands)
        .unwrap();
    stack.set_radiometry(sensor.radiometry).unwrap();
    stack
}

/// One date of the bundled Taizhou pair (Landsat 7 DN), with its roles and radiometry.
pub fn taizhou(name: &str) -> landwatch::BandStack {
    stack(
        data(&format!("landsat_taizhou/{name}")),
        &landwatch::Sensor::landsat_dn(),
    )
}

/// The 120 real Landsat-8 surface-reflectance samples of the catalogue reference
/// (`data/spectral_indices/reference_values_landsat8_sr_samples.csv`): a 120×1 six-band f32
/// stack, and every numeric column by name (the text class column reads as NaN).
pub struct ReferenceSamples {
    /// Blue, green, red, NIR, SWIR1, SWIR2 of the samples.
    pub stack: landwatch::BandStack,
    header: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl ReferenceSamples {
    /// Reads the bundled CSV.
    pub fn load() -> ReferenceSamples {
        use landwatch::{Band, BandData, BandRole, BandStack};
        let text = std::fs::read_to_string(data(
            "spectral_indices/reference_values_landsat8_sr_samples.csv",
        ))
        .expect("bundled reference CSV");
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let rows: Vec<Vec<f64>> = lines
            .map(|l| {
                l.split(',')
                    .map(|v| v.parse().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let column = |name: &str| -> Vec<f32> {
            let c = header.iter().position(|h| h == name).unwrap();
            rows.iter().map(|r| r[c] as f32).collect()
        };
        let bands = [
            (BandRole::Blue, "B"),
            (BandRole::Green, "G"),
            (BandRole::Red, "R"),
            (BandRole::Nir, "N"),
            (BandRole::Swir1, "S1"),
            (BandRole::Swir2, "S2"),
        ]
        .into_iter()
        .map(|(role, name)| Band::new(role, BandData::F32(column(name))))
        .collect();
        let stack = BandStack::new(rows.len(), 1, bands).unwrap();
        ReferenceSamples {
            stack,
            header,
            rows,
        }
    }

    /// The values of column `name`, one per sample.
    pub fn column(&self, name: &str) -> Vec<f64> {
        let c = self.header.iter().position(|h| h == name).unwrap();
        self.rows.iter().map(|r| r[c]).collect()
    }
}

/// Path of a file under the repository's `tests/data/` folder (relative to the working
/// directory when the source tree the test was built from is gone, as for [`data`]).
pub fn test_data(path: &str) -> std::path::PathBuf {
    use std::path::{Path, PathBuf};
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let root = if built.is_dir() {
        built
    } else {
        PathBuf::from("tests/data")
    };
    root.join(path)
}

/// An empty folder `landwatch_{name}_{pid}` under the system's temporary directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("landwatch_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo enforcement job of `examples/enforce.rs` on two Landsat 7 DN files: the
/// illustrative Taizhou zones (farmland, ecological red line, urban boundary) and counties.
pub fn taizhou_job(
    before: impl Into<std::path::PathBuf>,
    after: impl Into<std::path::PathBuf>,
) -> landwatch::job::Job {
    let zones = data("landsat_taizhou/illustrative");
    landwatch::job::Job::new(before, after)
        .sensor(landwatch::Sensor::landsat_dn())
        .zone_geojson("basic_farmland", zones.join("basic_farmland.geojson"))
        .zone_geojson("eco_redline", zones.join("eco_redline.geojson"))
        .zone_geojson("urban_boundary", zones.join("urban_boundary.geojson"))
        .regions(zones.join("counties.geojson"), "code")
}

/// The command-line options of the demo enforcement job (`landwatch enforce` with no
/// options) on `before` and `after`: the Landsat 7 DN sensor, the illustrative Taizhou zones
/// and counties.
pub fn taizhou_enforce_args(before: &std::path::Path, after: &std::path::Path) -> Vec<String> {
    let zones = data("landsat_taizhou/illustrative");
    let path = |name: &str| zones.join(name).display().to_string();
    let mut args: Vec<String> = vec![
        "--before".into(),
        before.display().to_string(),
        "--after".into(),
        after.display().to_string(),
        "--sensor".into(),
        "landsat-dn".into(),
        "--regions".into(),
        path("counties.geojson"),
        "--region-field".into(),
        "code".into(),
    ];
    for zone in ["basic_farmland", "eco_redline", "urban_boundary"] {
        args.push("--zones".into());
        args.push(format!("{zone}={}", path(&format!("{zone}.geojson"))));
    }
    args
}

/// The job's result files that must not depend on how it ran (`regions.csv` is skipped
/// where a run has no regions).
pub const JOB_RESULTS: [&str; 7] = [
    "class_before.tif",
    "class_after.tif",
    "change.tif",
    "patches.tif",
    "patches.geojson",
    "patches.csv",
    "regions.csv",
];

/// Panics unless every file of [`JOB_RESULTS`] present in `a` is byte-identical in `b`, and
/// at least the change map was compared; `what` names the two runs.
pub fn assert_same_results(a: &std::path::Path, b: &std::path::Path, what: &str) {
    let mut compared = 0;
    for file in JOB_RESULTS {
        let Ok(x) = std::fs::read(a.join(file)) else {
            assert!(file == "regions.csv", "{what}: {file} is missing");
            continue;
        };
        let y = std::fs::read(b.join(file)).unwrap();
        assert!(x == y, "{file} differs: {what}");
        compared += 1;
    }
    assert!(compared >= 6, "{what}: only {compared} files compared");
}

/// The `summary.json` fields that are results, not timings or settings of the run: the
/// threshold, how change was decided (noise model, normalization, clouds), counts and areas.
pub fn summary_results(dir: &std::path::Path) -> serde_json::Value {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    serde_json::json!({
        "threshold": summary["settings"]["threshold"],
        "change_detection": summary["change_detection"],
        "patch_count": summary["patch_count"],
        "area_by_type_m2": summary["area_by_type_m2"],
        "pixels": summary["pixels"],
        "regions_warned": summary["regions_warned"],
    })
}

/// Splits one CSV record into its fields (RFC 4180 quoting).
pub fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// What a folder holds, hidden entries included: each entry's path relative to `dir` and
/// what it is (a link and its target, a folder, or a file and its bytes).
#[derive(Debug, PartialEq)]
pub enum Entry {
    /// A symbolic link, with its target.
    Link(std::path::PathBuf),
    /// A folder.
    Folder,
    /// A file, with its bytes.
    File(Vec<u8>),
}

/// A folder's entries by relative path (see [`snapshot`]).
pub type Snapshot = std::collections::BTreeMap<std::path::PathBuf, Entry>;

/// Everything `dir` holds, recursively, as [`Entry`]s.
pub fn snapshot(dir: &std::path::Path) -> Snapshot {
    fn walk(root: &std::path::Path, dir: &std::path::Path, into: &mut Snapshot) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                into.insert(rel, Entry::Link(std::fs::read_link(&path).unwrap()));
            } else if kind.is_dir() {
                into.insert(rel, Entry::Folder);
                walk(root, &path, into);
            } else {
                into.insert(rel, Entry::File(std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut entries = Snapshot::new();
    walk(dir, dir, &mut entries);
    entries
}

/// The differences between two snapshots, by name.
pub fn differences(was: &Snapshot, is: &Snapshot) -> Vec<String> {
    let mut found = Vec::new();
    for (path, entry) in is {
        match was.get(path) {
            None => found.push(format!("{} appeared", path.display())),
            Some(old) if old != entry => found.push(format!("{} changed", path.display())),
            _ => {}
        }
    }
    for path in was.keys().filter(|p| !is.contains_key(*p)) {
        found.push(format!("{} disappeared", path.display()));
    }
    found
}
