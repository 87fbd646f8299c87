//! A formula NDVI next to the built-in `SpectralIndex::Ndvi`, and a heavier catalogue formula
//! (EVI), on each available backend at 4 M pixels. Criterion reports throughput in Melem/s,
//! which here are megapixels per second.
//!
//! GPU variants run only on a real adapter; a software adapter (llvmpipe) is benchmarked only
//! with `LANDWATCH_BENCH_SOFTWARE=1`, because it is a correctness device, not a speed target.
//!
//! Run: `cargo bench --bench formula`

#[path = "support/engines.rs"]
mod support;
use support::*;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use landwatch::SpectralIndex;
use landwatch::formula::Formula;
use std::hint::black_box;

fn formula(c: &mut Criterion) {
    let engines = engines();
    let pixels = 1 << 22;
    let input = stack(pixels);
    let ndvi = Formula::parse("(N - R) / (N + R)").unwrap();
    let evi = Formula::catalogue("EVI").unwrap();
    let mut group = c.benchmark_group("formula/4Mpx");
    group.throughput(Throughput::Elements(pixels as u64));
    group.sample_size(10);
    for (name, engine) in &engines {
        group.bench_function(BenchmarkId::new("ndvi-built-in", name), |b| {
            b.iter(|| black_box(engine.index(&input, SpectralIndex::Ndvi).unwrap()))
        });
        group.bench_function(BenchmarkId::new("ndvi-formula", name), |b| {
            b.iter(|| black_box(engine.formula(&input, &ndvi).unwrap()))
        });
        group.bench_function(BenchmarkId::new("evi-built-in", name), |b| {
            b.iter(|| black_box(engine.index(&input, SpectralIndex::Evi).unwrap()))
        });
        group.bench_function(BenchmarkId::new("evi-formula", name), |b| {
            b.iter(|| black_box(engine.formula(&input, &evi).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, formula);
criterion_main!(benches);
