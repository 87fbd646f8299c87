//! NDVI and land-cover classification on each available backend at 1 M and 16 M pixels.
//! Criterion reports throughput in Melem/s, which here are megapixels per second.
//!
//! GPU variants run only on a real adapter; a software adapter (llvmpipe) is benchmarked only
//! with `LANDWATCH_BENCH_SOFTWARE=1`, because it is a correctness device, not a speed target.
//!
//! After the criterion groups it prints one table: megapixels per second, bytes moved per
//! second (input samples read plus output written) and that as a fraction of this machine's
//! copy roofline, measured in the same run.
//!
//! Run: `cargo bench --bench kernels`

#[path = "support/roofline.rs"]
mod roofline;

#[path = "support/engines.rs"]
mod support;
use support::*;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use landwatch::{ClassThresholds, SpectralIndex};
use std::hint::black_box;
use std::time::Instant;

fn kernels(c: &mut Criterion) {
    let engines = engines();
    for pixels in [1 << 20, 1 << 24] {
        let input = stack(pixels);
        let label = format!("{}Mpx", pixels >> 20);
        let mut group = c.benchmark_group(format!("kernels/{label}"));
        group.throughput(Throughput::Elements(pixels as u64));
        group.sample_size(10);
        for (name, engine) in &engines {
            group.bench_function(BenchmarkId::new("ndvi", name), |b| {
                b.iter(|| black_box(engine.index(&input, SpectralIndex::Ndvi).unwrap()))
            });
            group.bench_function(BenchmarkId::new("classify", name), |b| {
                b.iter(|| {
                    black_box(
                        engine
                            .classify(&input, &ClassThresholds::default())
                            .unwrap(),
                    )
                })
            });
        }
        group.finish();
    }
}

/// Best-of-five timings of each kernel, set against the copy roofline measured now.
fn summary(_: &mut Criterion) {
    let roof = roofline::copy_bandwidth(5);
    println!("\ncopy roofline: {:.2} GB/s (read + write)", roof / 1e9);
    println!(
        "{:<11} {:<9} {:<5} {:>9} {:>9} {:>9}",
        "kernel", "size", "where", "Mpx/s", "GB/s", "roofline"
    );
    let engines = engines();
    for pixels in [1usize << 20, 1 << 24] {
        let input = stack(pixels);
        for (name, engine) in &engines {
            let ndvi = || {
                engine.index(&input, SpectralIndex::Ndvi).unwrap();
            };
            let classify = || {
                engine
                    .classify(&input, &ClassThresholds::default())
                    .unwrap();
            };
            // The same kernels writing into buffers reused across calls, as tiled jobs do:
            // no fresh pages to fault in.
            let ndvi_buffer = std::cell::RefCell::new(Vec::new());
            let ndvi_into = || {
                let mut out = ndvi_buffer.borrow_mut();
                engine
                    .index_into(&input, SpectralIndex::Ndvi, &mut out)
                    .unwrap();
            };
            let class_buffer = std::cell::RefCell::new(Vec::new());
            let classify_into = || {
                let mut out = class_buffer.borrow_mut();
                engine
                    .classify_into(&input, &ClassThresholds::default(), &mut out)
                    .unwrap();
            };
            // NDVI reads 2 u16 bands and writes f32; classification reads 5 and writes u8.
            let kernels: [(&str, &dyn Fn(), usize); 4] = [
                ("ndvi", &ndvi, 2 * 2 + 4),
                ("classify", &classify, 5 * 2 + 1),
                ("ndvi-into", &ndvi_into, 2 * 2 + 4),
                ("class-into", &classify_into, 5 * 2 + 1),
            ];
            for (kernel, run, bytes_per_pixel) in kernels {
                run();
                let best = (0..5)
                    .map(|_| {
                        let t = Instant::now();
                        run();
                        t.elapsed().as_secs_f64()
                    })
                    .fold(f64::INFINITY, f64::min);
                let rate = pixels as f64 / best;
                let bandwidth = rate * bytes_per_pixel as f64;
                println!(
                    "{:<11} {:<9} {:<5} {:>9.0} {:>9.2} {:>8.0}%",
                    kernel,
                    format!("{}Mpx", pixels >> 20),
                    name,
                    rate / 1e6,
                    bandwidth / 1e9,
                    100.0 * bandwidth / roof
                );
            }
        }
    }
}

criterion_group!(benches, kernels, summary);
criterion_main!(benches);
