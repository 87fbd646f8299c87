//! Change detection on each available backend, on a pair of six-band u16 stacks, with its
//! bandwidth set against the copy roofline measured in the same run:
//! - `contextual`: the default detector's kernels over one window, as a tiled job runs them
//!   per strip ([`landwatch::Engine::context_words`]: calibration, the misregistration-
//!   tolerant score, smoothing, classes, sky tests; both dates' twelve u16 samples in, two
//!   words a pixel out), into a reused buffer;
//! - `detect`: the whole [`landwatch::Engine::detect_change`] with the default detector
//!   (noise model, kernels, region stage, unpacking);
//! - `fused`: the fused per-pixel pass of the per-pixel combined method
//!   ([`landwatch::Engine::detect_change_codes_into`] with the date relation and threshold
//!   known): both dates' twelve u16 samples in, classes of both dates and the change code out,
//!   into reused buffers.
//!
//! Run: `cargo bench --bench change` (`LANDWATCH_SIMD=portable|avx2` to time a lower vector
//! level than the CPU's best).

#[path = "support/roofline.rs"]
mod roofline;

#[path = "support/engines.rs"]
mod support;
use support::*;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use landwatch::change::context::ContextJob;
use landwatch::{ChangeMethod, ChangeOptions, ChangePlanes, ClassThresholds, Engine, Threshold};
use std::hint::black_box;
use std::time::Instant;

/// The fused pass, once, into `planes` ([class before, class after, change]).
fn fused(
    engine: &Engine,
    before: &landwatch::BandStack,
    after: &landwatch::BandStack,
    options: &ChangeOptions,
    planes: &mut [Vec<u8>; 3],
) {
    let [class_before, class_after, change] = planes;
    let out = ChangePlanes {
        class_before,
        class_after,
        change,
    };
    black_box(
        engine
            .detect_change_codes_into(before, after, options, out)
            .unwrap(),
    );
}

fn bench(c: &mut Criterion) {
    let engines = engines();
    let pixels = 1 << 22;
    let (before, after) = pair(pixels);
    // What a tiled job fixes once from its sample: the date relation and the threshold.
    let combined = ChangeOptions::new().with_method(ChangeMethod::Combined);
    let fitted = engines[0]
        .1
        .detect_change(&before, &after, &combined)
        .unwrap()
        .output;
    let fixed = combined
        .with_relation(Some(fitted.relation))
        .with_threshold(Threshold::Fixed(fitted.threshold));
    let mut planes = [0; 3].map(|_| vec![0u8; pixels]);
    // The contextual detector's model, and its kernels over the whole pair as one window.
    let default = ChangeOptions::new();
    let model = engines[0]
        .1
        .detect_change(&before, &after, &default)
        .unwrap()
        .output
        .relation
        .context
        .expect("the default detector reports its model");
    let classes = ClassThresholds::default();
    let rows = (0, before.height());
    let window =
        ContextJob::new(&before, &after, rows, &model, &default.context, &classes).unwrap();
    let mut words = vec![0u32; 2 * pixels];
    let mut group = c.benchmark_group("change/4Mpx");
    group.throughput(Throughput::Elements(pixels as u64));
    group.sample_size(10);
    for (name, engine) in &engines {
        group.bench_function(BenchmarkId::new("contextual", name), |b| {
            b.iter(|| black_box(engine.context_words(&window, &mut words)))
        });
        group.bench_function(BenchmarkId::new("detect", name), |b| {
            b.iter(|| black_box(engine.detect_change(&before, &after, &ChangeOptions::new())))
        });
        group.bench_function(BenchmarkId::new("fused", name), |b| {
            b.iter(|| fused(engine, &before, &after, &fixed, &mut planes))
        });
    }
    group.finish();

    // Each measurement alternates with a copy of the roofline buffers, so that both see the
    // same state of this (virtual, shared) machine; best of nine rounds each.
    let mut buffers = roofline::Buffers::new();
    buffers.copy();
    let mut roof = 0.0f64;
    let mut best_of = |f: &mut dyn FnMut()| {
        let mut best = f64::INFINITY;
        for _ in 0..9 {
            let t = Instant::now();
            let bytes = buffers.copy();
            roof = roof.max(bytes as f64 / t.elapsed().as_secs_f64());
            let t = Instant::now();
            f();
            best = best.min(t.elapsed().as_secs_f64());
        }
        best
    };
    let mut results = Vec::new();
    for (name, engine) in &engines {
        let kernels = best_of(&mut || {
            black_box(engine.context_words(&window, &mut words));
        });
        // 12 u16 samples in, two words out.
        results.push(("contextual kernels", name, kernels, 12.0 * 2.0 + 8.0));
        let detect = best_of(&mut || {
            black_box(
                engine
                    .detect_change(&before, &after, &ChangeOptions::new())
                    .unwrap(),
            );
        });
        // 12 u16 samples in, one code out (the other outputs are not counted).
        results.push((
            "contextual change detection",
            name,
            detect,
            12.0 * 2.0 + 1.0,
        ));
        let pass = best_of(&mut || fused(engine, &before, &after, &fixed, &mut planes));
        // 12 u16 samples in; two classes and one code out.
        results.push(("combined fused pass", name, pass, 12.0 * 2.0 + 3.0));
    }
    println!(
        "\ncopy roofline: {:.2} GB/s (best of the copies between runs)",
        roof / 1e9
    );
    for (what, name, seconds, bytes_per_pixel) in results {
        let rate = pixels as f64 / seconds;
        println!(
            "{what} on {name}: {:.0} Mpx/s, {:.2} GB/s, {:.0}% of the copy roofline",
            rate / 1e6,
            rate * bytes_per_pixel / 1e9,
            100.0 * rate * bytes_per_pixel / roof
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
