//! The CPU reference implementation: every WGSL kernel has its twin here.
//!
//! The runner splits the raster into fixed chunks, run in parallel with rayon. Each chunk's
//! slots are decoded from their stored type into small f32 scratch arrays (the raster is never
//! widened as a whole), validity is worked out once, and the kernel body runs over plain
//! slices that the compiler can vectorise.
//!
//! Change detection, the heaviest kernel, goes further: it loads 16-pixel lane blocks straight
//! from the stored samples (`lanes`) and is compiled once per vector extension ([`simd`]).

pub(crate) mod change;
pub(crate) mod change_context;
pub(crate) mod classify;
pub(crate) mod index;
mod lanes;
pub mod simd;

use crate::pixel::{PixelJob, PixelParams};
use crate::raster::{BandData, u32_to_f32};
use rayon::prelude::*;

/// Pixels per chunk: small enough for L1/L2, large enough to amortise the loop set-up.
const CHUNK: usize = 4096;

/// One chunk's decoded inputs.
pub(crate) struct Chunk<'s> {
    /// Decoded samples, one slice per slot.
    pub slots: Vec<&'s [f32]>,
    /// True where every slot holds a finite, non-nodata sample.
    pub valid: &'s [bool],
}

struct Scratch {
    values: Vec<f32>,
    valid: Vec<bool>,
}

/// Runs `kernel` over every chunk of `job`, writing into `out`, and returns the number of
/// valid output pixels that the kernel reports.
pub(crate) fn run_pixels<T, K>(job: &PixelJob<'_>, out: &mut [T], kernel: K) -> u64
where
    T: Send,
    K: Fn(&PixelParams, &Chunk<'_>, &mut [T]) -> u64 + Sync,
{
    debug_assert_eq!(out.len(), job.len);
    let n_slots = job.slots.len();
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .map_init(
            || Scratch {
                values: vec![0.0; n_slots * CHUNK],
                valid: vec![true; CHUNK],
            },
            |scratch, (ci, out)| {
                let start = ci * CHUNK;
                let n = out.len();
                let valid = &mut scratch.valid[..n];
                valid.fill(true);
                for (s, (data, dst)) in job
                    .slots
                    .iter()
                    .zip(scratch.values.chunks_mut(CHUNK))
                    .enumerate()
                {
                    let nodata =
                        (job.params.slot_has_nodata[s] != 0).then_some(job.params.slot_nodata[s]);
                    decode(data, start, &mut dst[..n], valid, nodata);
                }
                let chunk = Chunk {
                    slots: scratch.values.chunks(CHUNK).map(|c| &c[..n]).collect(),
                    valid: &scratch.valid[..n],
                };
                kernel(&job.params, &chunk, out)
            },
        )
        .sum()
}

/// Decodes `dst.len()` samples from `start`, clearing `valid` where a sample is NaN, infinite
/// or equal to `nodata`.
fn decode(data: &BandData, start: usize, dst: &mut [f32], valid: &mut [bool], nodata: Option<f32>) {
    let n = dst.len();
    fn widen<S: Copy>(src: &[S], dst: &mut [f32], f: impl Fn(S) -> f32) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = f(s);
        }
    }
    match data {
        BandData::U8(v) => widen(&v[start..start + n], dst, f32::from),
        BandData::U16(v) => widen(&v[start..start + n], dst, f32::from),
        BandData::I16(v) => widen(&v[start..start + n], dst, f32::from),
        BandData::U32(v) => widen(&v[start..start + n], dst, u32_to_f32),
        BandData::F32(v) => dst.copy_from_slice(&v[start..start + n]),
    }
    let float_input = matches!(data, BandData::F32(_));
    match (nodata, float_input) {
        (Some(nd), _) => {
            for (ok, &x) in valid.iter_mut().zip(dst.iter()) {
                *ok &= x.is_finite() && x != nd;
            }
        }
        (None, true) => {
            for (ok, &x) in valid.iter_mut().zip(dst.iter()) {
                *ok &= x.is_finite();
            }
        }
        (None, false) => {}
    }
}
