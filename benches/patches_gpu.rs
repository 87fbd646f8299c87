//! Patch kernels on a real change mask: 3×3 and 5×5 per-type opening and closing, and
//! 8-connected labelling, on each available backend. The mask is `out/change/change.tif`
//! (make it with `cargo run --release --example change`), as read, and tiled 4×4 for a
//! larger raster (`LANDWATCH_CHANGE_TIF` names another u8 change raster). Criterion reports
//! throughput in Melem/s, here megapixels per second.
//!
//! GPU variants run only on a real adapter; a software adapter (llvmpipe) is benchmarked only
//! with `LANDWATCH_BENCH_SOFTWARE=1`, because it is a correctness device, not a speed target.
//!
//! Run: `cargo bench --bench patches_gpu`

#[path = "support/engines.rs"]
mod support;
use support::*;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use landwatch::io::{ReadLimits, read_geotiff};
use landwatch::patch::Connectivity;
use landwatch::patch::morphology::{MorphOp, MorphScope, StructuringElement};
use landwatch::{BandData, Raster};
use std::hint::black_box;
use std::path::{Path, PathBuf};

/// Where the change mask is: `$LANDWATCH_CHANGE_TIF` when set, else `out/change/change.tif`
/// in the source tree the bench was built from, else in the current directory (prebuilt
/// binaries run on another machine).
fn change_mask_path() -> PathBuf {
    if let Some(path) = std::env::var_os("LANDWATCH_CHANGE_TIF") {
        return PathBuf::from(path);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/change/change.tif");
    if built.is_file() {
        built
    } else {
        PathBuf::from("out/change/change.tif")
    }
}

/// The change codes of the example's output, or `None` (with the reason printed).
fn change_mask() -> Option<Raster<u8>> {
    let path = change_mask_path();
    let tiff = match read_geotiff(&path, &ReadLimits::default()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "patch benchmarks skipped: {e} (run `cargo run --release --example change` first)"
            );
            return None;
        }
    };
    match tiff.bands.into_iter().next() {
        Some(BandData::U8(data)) => Some(Raster {
            width: tiff.width,
            height: tiff.height,
            data,
            nodata: 255,
            georef: tiff.georef,
        }),
        _ => {
            eprintln!(
                "patch benchmarks skipped: {} is not a u8 raster",
                path.display()
            );
            None
        }
    }
}

/// The mask repeated `k`×`k` times.
fn tiled(r: &Raster<u8>, k: usize) -> Raster<u8> {
    let (w, h) = (r.width * k, r.height * k);
    let mut data = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = &r.data[(y % r.height) * r.width..][..r.width];
        for _ in 0..k {
            data.extend_from_slice(row);
        }
    }
    Raster {
        width: w,
        height: h,
        data,
        nodata: 255,
        georef: None,
    }
}

fn patches(c: &mut Criterion) {
    let Some(mask) = change_mask() else {
        return;
    };
    let engines = engines();
    for (label, input) in [("real", mask.clone()), ("real4x4", tiled(&mask, 4))] {
        let pixels = input.data.len() as u64;
        eprintln!("{label}: {}×{} pixels", input.width, input.height);
        let mut group = c.benchmark_group(format!("patches/{label}"));
        group.throughput(Throughput::Elements(pixels));
        group.sample_size(10);
        for (name, engine) in &engines {
            for size in [3, 5] {
                let element = StructuringElement::square(size).unwrap();
                for (op_name, op) in [("open", MorphOp::Open), ("close", MorphOp::Close)] {
                    let id = format!("{op_name}{size}x{size}");
                    group.bench_function(BenchmarkId::new(id, name), |b| {
                        b.iter(|| {
                            black_box(
                                engine
                                    .morphology(&input, op, element, MorphScope::PerType)
                                    .unwrap(),
                            )
                        })
                    });
                }
            }
            group.bench_function(BenchmarkId::new("label8", name), |b| {
                b.iter(|| black_box(engine.label(&input, Connectivity::Eight).unwrap()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, patches);
criterion_main!(benches);
