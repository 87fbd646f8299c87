//! A formula NDVI next to the built-in `SpectralIndex::Ndvi`, and a heavier catalogue formula
//! (EVI), on each available backend at 4 M pixels. Criterion reports throughput in Melem/s,
//! which here are megapixels per second.
//!
//! GPU variants run only on a real adapter; a software adapter (llvmpipe) is benchmarked only
//! with `LANDWATCH_BENCH_SOFTWARE=1`, because it is a correctness device, not a speed target.
//!
//! Run: `cargo bench --bench formula`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use landwatch::formula::Formula;
use landwatch::{
    Backend, Band, BandData, BandRole, BandStack, Engine, GpuOptions, Sensor, SpectralIndex,
};
use std::hint::black_box;

/// A six-band u16 stack with Sentinel-2-like reflectance values.
fn stack(pixels: usize) -> BandStack {
    let mut seed = 0x2545F4914F6CDD1Du64;
    let bands = BandRole::ALL
        .iter()
        .map(|&role| {
            let data = (0..pixels)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % 6000) as u16 + 200
                })
                .collect();
            Band::new(role, BandData::U16(data))
        })
        .collect();
    let mut s = BandStack::new(pixels, 1, bands).unwrap();
    s.set_radiometry(Sensor::sentinel2_l1c().radiometry)
        .unwrap();
    s
}

fn engines() -> Vec<(String, Engine)> {
    let mut engines = vec![("cpu".to_string(), Engine::new(Backend::Cpu))];
    let software = std::env::var("LANDWATCH_BENCH_SOFTWARE").as_deref() == Ok("1");
    let gpu = Engine::with_options(
        Backend::Auto,
        &GpuOptions {
            allow_software: software,
            ..GpuOptions::default()
        },
    );
    match gpu.gpu_adapter() {
        Some(adapter) => {
            eprintln!("GPU benchmarks on {adapter}");
            engines.push(("gpu".to_string(), gpu));
        }
        None => eprintln!(
            "GPU benchmarks skipped: {}",
            gpu.gpu_unavailable()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
    }
    engines
}

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
