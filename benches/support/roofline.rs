//! Memory-bandwidth roofline of this machine, shared by the benches: a parallel copy and a
//! parallel read-only sum over a buffer far larger than the caches, counting bytes read plus
//! bytes written. Buffers are allocated and touched once before timing (fresh pages are slow
//! on the virtual machines here).
#![allow(dead_code)] // each bench uses part of it

use rayon::prelude::*;
use std::time::Instant;

/// Bytes per buffer: 256 MiB, far past any last-level cache.
pub const BYTES: usize = 256 << 20;

/// Source and destination buffers, touched once.
pub struct Buffers {
    /// Read side.
    pub src: Vec<u64>,
    /// Write side.
    pub dst: Vec<u64>,
}

impl Buffers {
    /// Allocates and touches both buffers.
    pub fn new() -> Buffers {
        let n = BYTES / 8;
        let src: Vec<u64> = (0..n as u64).into_par_iter().collect();
        let dst = vec![1u64; n];
        Buffers { src, dst }
    }

    /// Parallel copy; returns bytes moved (read + written).
    pub fn copy(&mut self) -> usize {
        self.dst
            .par_chunks_mut(1 << 16)
            .zip(self.src.par_chunks(1 << 16))
            .for_each(|(d, s)| d.copy_from_slice(s));
        2 * BYTES
    }

    /// Parallel read-only sum; returns bytes read.
    pub fn sum(&self) -> (u64, usize) {
        let s = self
            .src
            .par_chunks(1 << 16)
            .map(|c| c.iter().fold(0u64, |a, &x| a.wrapping_add(x)))
            .reduce(|| 0, u64::wrapping_add);
        (s, BYTES)
    }
}

/// Best-of-`runs` copy bandwidth in bytes per second.
pub fn copy_bandwidth(runs: usize) -> f64 {
    let mut b = Buffers::new();
    b.copy();
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            let bytes = b.copy();
            bytes as f64 / t.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}
