//! Accuracy of change detection against a reference map, for every method, with default
//! settings: precision, recall, F1 and IoU of "changed".
//!
//! ```text
//! cargo run --release --example accuracy                       # bundled Taizhou pair
//! cargo run --release --example accuracy -- --before T1.tif --after T2.tif \
//!     --reference REF.tif --dense [--sensor NAME] [--write DIR]
//! ```
//!
//! `--write DIR` also writes each method's change codes as `DIR/change_<method>.tif`, for
//! scoring with other tools (for example the peer's `score.py mask`). The accuracy on every
//! shared scene, next to the peer pipeline, comes from `scripts/accuracy.sh`.
//!
//! The bundled Taizhou reference is sparse (0 unlabelled, 1 unchanged, 2 changed); `--dense`
//! scores every pixel of a 0/1 reference such as OSCD's.

use landwatch::accuracy::{Confusion, ReferenceEncoding};
use landwatch::io::{ReadLimits, read_geotiff, write_geotiff};
use landwatch::{Backend, BandData, ChangeMethod, ChangeOptions, DifferencedIndex, Engine, Sensor};
use std::path::PathBuf;

fn main() -> landwatch::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/landsat_taizhou");
    let mut before = root.join("Taizhou_t1.tif");
    let mut after = root.join("Taizhou_t2.tif");
    let mut reference = root.join("Taizhou_reference_0unlabelled_1unchanged_2changed.tif");
    let mut sensor = Sensor::landsat_dn();
    let mut encoding = ReferenceEncoding::Sparse {
        unchanged: 1,
        changed: 2,
    };
    let mut backend = Backend::Auto;
    let mut write: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match flag.as_str() {
            "--before" => before = value().into(),
            "--after" => after = value().into(),
            "--reference" => reference = value().into(),
            "--sensor" => sensor = Sensor::preset(&value())?,
            "--backend" => backend = value().parse()?,
            "--dense" => encoding = ReferenceEncoding::Dense,
            "--write" => write = Some(value().into()),
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2);
            }
        }
    }
    let limits = ReadLimits::default();
    let load = |path: &PathBuf| -> landwatch::Result<landwatch::BandStack> {
        let mut stack = read_geotiff(path, &limits)?.into_stack(&sensor.bands)?;
        stack.set_radiometry(sensor.radiometry)?;
        Ok(stack)
    };
    let (before, after) = (load(&before)?, load(&after)?);
    let truth = read_geotiff(&reference, &limits)?;
    let Some(BandData::U8(truth)) = truth.bands.into_iter().next() else {
        eprintln!("the reference must be a single u8 band");
        std::process::exit(2);
    };
    let engine = Engine::new(backend);
    println!(
        "contextual is the default (thresholds in noise σ); the others threshold by Otsu (floored at 3x the noise level)"
    );
    println!(
        "{:<22} {:>9} {:>7} {:>7} {:>7} {:>7}",
        "method", "threshold", "P", "R", "F1", "IoU"
    );
    for (name, method) in [
        ("contextual", ChangeMethod::Contextual),
        ("combined", ChangeMethod::Combined),
        ("cva", ChangeMethod::ChangeVector),
        ("postclass", ChangeMethod::PostClassification),
        (
            "dndvi",
            ChangeMethod::IndexDifference(DifferencedIndex::Ndvi),
        ),
        ("dbsi", ChangeMethod::IndexDifference(DifferencedIndex::Bsi)),
        (
            "dndbi",
            ChangeMethod::IndexDifference(DifferencedIndex::Ndbi),
        ),
    ] {
        let options = ChangeOptions::new().with_method(method);
        let run = engine.detect_change(&before, &after, &options)?;
        let c = Confusion::score(&run.output.change.data, &truth, encoding)?;
        if let Some(dir) = &write {
            std::fs::create_dir_all(dir).map_err(|source| landwatch::Error::Io {
                path: dir.clone(),
                source,
            })?;
            write_geotiff(dir.join(format!("change_{name}.tif")), &run.output.change)?;
        }
        println!(
            "{:<22} {:>9} {:>7.3} {:>7.3} {:>7.3} {:>7.3}",
            name,
            run.output.threshold,
            c.precision(),
            c.recall(),
            c.f1(),
            c.iou()
        );
    }
    Ok(())
}
