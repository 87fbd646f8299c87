//! The wgpu backend: context, buffer pool, the kernel registry, the two runners (per-pixel
//! dispatch and multi-pass programs), and the host code of every kernel.

pub(crate) mod change_context;
mod context;
mod dispatch;
pub(crate) mod kernels;
pub(crate) mod label;
pub(crate) mod morphology;
mod pool;
pub(crate) mod program;
mod quiet;
mod scope;

pub use super::gpu_plain::{AdapterSummary, GPU_LABEL_DISPATCHES, GpuOptions};
pub use context::{GpuContext, list_adapters};

use crate::error::GpuFailure;
use crate::pixel::PixelJob;
pub(crate) use dispatch::ResidentTiming;
use dispatch::{OutputShape, run_pixels};
use kernels::{Kernel, KernelFamily};

/// The per-pixel kernels with a fixed source, for [`GpuContext::run_kernel`] and
/// [`GpuContext::time_resident`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PixelKernel {
    /// A spectral index: one f32 per pixel.
    Index,
    /// Land-cover classification: one class code per pixel.
    Classify,
    /// Pass 1 of change detection: one packed word per pixel.
    Change,
    /// Pass 2 of change detection: one change code per pixel.
    ChangeCodes,
    /// Change detection in one pass with a known threshold: classes and code in one word.
    ChangeFused,
}

impl PixelKernel {
    fn kernel(self) -> Kernel {
        let family: &'static KernelFamily = match self {
            PixelKernel::Index => &kernels::INDEX,
            PixelKernel::Classify => &kernels::CLASSIFY,
            PixelKernel::Change => &kernels::CHANGE_PASS_ONE,
            PixelKernel::ChangeCodes => &kernels::CHANGE_CODES,
            PixelKernel::ChangeFused => &kernels::CHANGE_FUSED,
        };
        family.only_kernel()
    }

    fn shape(self) -> OutputShape {
        match self {
            PixelKernel::Index | PixelKernel::Change | PixelKernel::ChangeFused => WORD_PER_PIXEL,
            PixelKernel::Classify | PixelKernel::ChangeCodes => BYTE_PER_PIXEL,
        }
    }

    /// Output bytes per pixel.
    pub(crate) fn output_bytes_per_pixel(self) -> u64 {
        self.shape().bytes_per_pixel()
    }
}

/// One 32-bit word per pixel (f32 values or packed words).
const WORD_PER_PIXEL: OutputShape = OutputShape::PerPixel {
    bytes_per_pixel: 4,
    pixels_per_invocation: 1,
};

/// One byte per pixel, four pixels per invocation (one word written each).
const BYTE_PER_PIXEL: OutputShape = OutputShape::PerPixel {
    bytes_per_pixel: 1,
    pixels_per_invocation: 4,
};

impl GpuContext {
    /// Runs one of the fixed per-pixel kernels; `out` receives
    /// `job.len × output_bytes_per_pixel` bytes. Returns the valid count.
    pub(crate) fn run_kernel(
        &self,
        kernel: PixelKernel,
        job: &PixelJob<'_>,
        out: &mut [u8],
    ) -> Result<u64, GpuFailure> {
        run_pixels(self, &kernel.kernel(), job, kernel.shape(), out)
    }

    /// Times `kernel` with its inputs resident on the device (see
    /// [`dispatch::time_resident`]); `out` receives the warm-up dispatch's output for the
    /// pixels timed, as [`GpuContext::run_kernel`] writes it.
    pub(crate) fn time_resident(
        &self,
        kernel: PixelKernel,
        job: &PixelJob<'_>,
        repeats: u32,
        out: &mut [u8],
    ) -> Result<ResidentTiming, GpuFailure> {
        dispatch::time_resident(self, &kernel.kernel(), job, kernel.shape(), repeats, out)
    }

    /// The device's copy bandwidth, bytes read plus written per second, over copies of up to
    /// `bytes` (see [`dispatch::copy_bandwidth`]); also returns the bytes of one copy.
    pub(crate) fn copy_bandwidth(
        &self,
        bytes: u64,
        repeats: u32,
    ) -> Result<(f64, u64), GpuFailure> {
        dispatch::copy_bandwidth(self, bytes, repeats)
    }

    /// Runs an index job; `out` receives one f32 per pixel. Returns the valid count.
    pub(crate) fn index(&self, job: &PixelJob<'_>, out: &mut [f32]) -> Result<u64, GpuFailure> {
        self.run_kernel(PixelKernel::Index, job, bytemuck::cast_slice_mut(out))
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
        run_pixels(
            self,
            &kernels::formula(body),
            job,
            WORD_PER_PIXEL,
            bytemuck::cast_slice_mut(out),
        )
    }

    /// Runs pass 1 of change detection; `out` receives one packed word per pixel (see
    /// `shaders/change.wgsl`). Returns the valid count.
    pub(crate) fn change(&self, job: &PixelJob<'_>, out: &mut [u32]) -> Result<u64, GpuFailure> {
        self.run_kernel(PixelKernel::Change, job, bytemuck::cast_slice_mut(out))
    }

    /// Runs change detection in one pass (the job's `op` is the method, slot
    /// `CHANGE_THRESHOLD` the threshold); `out` receives one word per pixel: class before, class after and change
    /// code in bytes 0, 1 and 2. Returns the valid count.
    pub(crate) fn change_fused(
        &self,
        job: &PixelJob<'_>,
        out: &mut [u32],
    ) -> Result<u64, GpuFailure> {
        self.run_kernel(PixelKernel::ChangeFused, job, bytemuck::cast_slice_mut(out))
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
            &kernels::CHANGE_HISTOGRAM.only_kernel(),
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
        self.run_kernel(PixelKernel::ChangeCodes, job, out)
    }

    /// Runs a classification job; `out` receives one class code per pixel.
    pub(crate) fn classify(&self, job: &PixelJob<'_>, out: &mut [u8]) -> Result<u64, GpuFailure> {
        self.run_kernel(PixelKernel::Classify, job, out)
    }
}
