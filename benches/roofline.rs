//! This machine's memory-bandwidth roofline: a large parallel copy and a read-only sum over
//! all cores, counting bytes read plus written. The per-pixel kernels report their achieved
//! bandwidth as a fraction of the copy figure (see `benches/kernels.rs`).
//!
//! Run: `cargo bench --bench roofline`

#[path = "support/roofline.rs"]
mod roofline;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut buffers = roofline::Buffers::new();
    let mut group = c.benchmark_group("roofline");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(2 * roofline::BYTES as u64));
    group.bench_function("copy", |b| b.iter(|| black_box(buffers.copy())));
    group.throughput(Throughput::Bytes(roofline::BYTES as u64));
    group.bench_function("sum", |b| b.iter(|| black_box(buffers.sum())));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
