//! Change detection (both passes, histogram and normalization fit) on each available backend,
//! on a pair of six-band u16 stacks, with its bandwidth set against the copy roofline measured
//! in the same run.
//!
//! Run: `cargo bench --bench change`

#[path = "support/roofline.rs"]
mod roofline;

#[path = "support/engines.rs"]
mod support;
use support::*;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use landwatch::ChangeOptions;
use std::hint::black_box;
use std::time::Instant;

fn bench(c: &mut Criterion) {
    let engines = engines();
    let pixels = 1 << 22;
    let (before, after) = pair(pixels);
    let mut group = c.benchmark_group("change/4Mpx");
    group.throughput(Throughput::Elements(pixels as u64));
    group.sample_size(10);
    for (name, engine) in &engines {
        group.bench_function(BenchmarkId::new("detect", name), |b| {
            b.iter(|| black_box(engine.detect_change(&before, &after, &ChangeOptions::new())))
        });
    }
    group.finish();

    let roof = roofline::copy_bandwidth(5);
    // Bytes a fused pass must move: 12 u16 samples in, one u8 code out.
    let bytes_per_pixel = 12.0 * 2.0 + 1.0;
    println!("\ncopy roofline: {:.2} GB/s", roof / 1e9);
    for (name, engine) in &engines {
        let best = (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(
                    engine
                        .detect_change(&before, &after, &ChangeOptions::new())
                        .unwrap(),
                );
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        let rate = pixels as f64 / best;
        println!(
            "change detection on {name}: {:.0} Mpx/s, {:.2} GB/s, {:.0}% of the copy roofline",
            rate / 1e6,
            rate * bytes_per_pixel / 1e9,
            100.0 * rate * bytes_per_pixel / roof
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
