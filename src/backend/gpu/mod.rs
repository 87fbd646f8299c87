//! The wgpu backend: context, buffer pool, dispatch, and one entry point per kernel.

mod context;
mod dispatch;
mod pool;
pub(crate) mod program;

pub(crate) use context::Kernel;
pub use context::{AdapterSummary, GpuContext, GpuOptions, list_adapters};

use crate::error::GpuFailure;
use crate::pixel::PixelJob;
use dispatch::{OutputShape, run_pixels};
use std::borrow::Cow;

/// Builds a kernel from its WGSL parts, in order (common.wgsl is prefixed by the context).
macro_rules! kernel {
    ($entry:literal, $($part:literal),+) => {
        Kernel {
            entry: $entry,
            source: Cow::Borrowed(concat!($(include_str!(concat!("../../../shaders/", $part))),+)),
        }
    };
}

const PER_PIXEL_MAIN: &str = include_str!("../../../shaders/per_pixel_main.wgsl");

const INDEX: Kernel = kernel!("per_pixel_main", "index.wgsl", "per_pixel_main.wgsl");
const CLASSIFY: Kernel = kernel!(
    "packed_u8_main",
    "classify_rules.wgsl",
    "classify.wgsl",
    "packed_u8_main.wgsl"
);
const CHANGE: Kernel = kernel!(
    "per_pixel_main",
    "classify_rules.wgsl",
    "change.wgsl",
    "per_pixel_main.wgsl"
);
const CHANGE_HISTOGRAM: Kernel = kernel!("change_histogram_main", "change_histogram.wgsl");
const CHANGE_CODES: Kernel = kernel!("packed_u8_main", "change_codes.wgsl", "packed_u8_main.wgsl");

impl GpuContext {
    /// Runs an index job; `out` receives one f32 per pixel. Returns the valid count.
    pub(crate) fn index(&self, job: &PixelJob<'_>, out: &mut [f32]) -> Result<u64, GpuFailure> {
        let shape = OutputShape::PerPixel {
            bytes_per_pixel: 4,
            pixels_per_invocation: 1,
        };
        run_pixels(self, &INDEX, job, shape, bytemuck::cast_slice_mut(out))
    }

    /// Runs a kernel generated at run time: `body` defines `fn pixel_word(i: u32) ->
    /// vec2<u32>` (an f32's bits and its validity), and the shared per-pixel entry point is
    /// appended. `out` receives one f32 per pixel; returns the valid count.
    pub(crate) fn generated_index(
        &self,
        body: &str,
        job: &PixelJob<'_>,
        out: &mut [f32],
    ) -> Result<u64, GpuFailure> {
        let kernel = Kernel {
            entry: "per_pixel_main",
            source: Cow::Owned(format!("{body}\n{PER_PIXEL_MAIN}")),
        };
        let shape = OutputShape::PerPixel {
            bytes_per_pixel: 4,
            pixels_per_invocation: 1,
        };
        run_pixels(self, &kernel, job, shape, bytemuck::cast_slice_mut(out))
    }

    /// Runs the fused change job; `out` receives one packed word per pixel (class before,
    /// class after, change code in bytes 0, 1, 2). Returns the valid count.
    pub(crate) fn change(&self, job: &PixelJob<'_>, out: &mut [u32]) -> Result<u64, GpuFailure> {
        let shape = OutputShape::PerPixel {
            bytes_per_pixel: 4,
            pixels_per_invocation: 1,
        };
        run_pixels(self, &CHANGE, job, shape, bytemuck::cast_slice_mut(out))
    }

    /// Adds the histogram of pass-1 magnitudes into `out` (65,536 bins).
    pub(crate) fn change_histogram(
        &self,
        job: &PixelJob<'_>,
        out: &mut [u32],
    ) -> Result<u64, GpuFailure> {
        let shape = OutputShape::Counters {
            words: out.len() as u64,
        };
        run_pixels(
            self,
            &CHANGE_HISTOGRAM,
            job,
            shape,
            bytemuck::cast_slice_mut(out),
        )
    }

    /// Runs pass 2 of change detection; `out` receives one change code per pixel.
    pub(crate) fn change_codes(
        &self,
        job: &PixelJob<'_>,
        out: &mut [u8],
    ) -> Result<u64, GpuFailure> {
        let shape = OutputShape::PerPixel {
            bytes_per_pixel: 1,
            pixels_per_invocation: 4,
        };
        run_pixels(self, &CHANGE_CODES, job, shape, out)
    }

    /// Runs a classification job; `out` receives one class code per pixel.
    pub(crate) fn classify(&self, job: &PixelJob<'_>, out: &mut [u8]) -> Result<u64, GpuFailure> {
        let shape = OutputShape::PerPixel {
            bytes_per_pixel: 1,
            pixels_per_invocation: 4,
        };
        run_pixels(self, &CLASSIFY, job, shape, out)
    }
}
