//! The GPU backend of a build without the `gpu` feature: the same names as the wgpu backend
//! (`src/backend/gpu/`), with no GPU behind them. [`GpuContext`] has no values, so
//! [`GpuContext::new`] always fails, saying why, every engine runs on the CPU, and the
//! engine's GPU closures still type-check (and compile to nothing).

use crate::error::{GpuFailure, GpuFailureKind};
use crate::pixel::PixelJob;

pub use super::gpu_plain::{AdapterSummary, GPU_LABEL_DISPATCHES, GpuOptions};

/// A GPU context: none can exist in this build (landwatch was built without the `gpu`
/// feature, and so without wgpu).
#[derive(Debug)]
pub enum GpuContext {}

/// Why no context exists.
const NOT_BUILT: &str = "landwatch was built without the `gpu` feature (no wgpu): \
                         the CPU runs everything";

/// No adapter is visible without the `gpu` feature.
pub fn list_adapters() -> Vec<AdapterSummary> {
    Vec::new()
}

impl GpuContext {
    /// Always fails with [`GpuFailureKind::NoAdapter`]: this build has no GPU backend.
    pub fn new(_options: &GpuOptions) -> Result<GpuContext, GpuFailure> {
        Err(GpuFailure::new(GpuFailureKind::NoAdapter, NOT_BUILT))
    }

    /// The adapter behind this context (there is no context in this build).
    pub fn adapter(&self) -> &AdapterSummary {
        match *self {}
    }

    /// Compute dispatches recorded on this context (there is no context in this build).
    pub fn dispatch_count(&self) -> u64 {
        match *self {}
    }
}

/// The per-pixel kernels the engine's GPU closures call; none can run in this build.
impl GpuContext {
    pub(crate) fn index(&self, _: &PixelJob<'_>, _: &mut [f32]) -> Result<u64, GpuFailure> {
        match *self {}
    }

    pub(crate) fn generated_index(
        &self,
        _: &str,
        _: &PixelJob<'_>,
        _: &mut [f32],
    ) -> Result<u64, GpuFailure> {
        match *self {}
    }

    pub(crate) fn classify(&self, _: &PixelJob<'_>, _: &mut [u8]) -> Result<u64, GpuFailure> {
        match *self {}
    }

    pub(crate) fn change(&self, _: &PixelJob<'_>, _: &mut [u32]) -> Result<u64, GpuFailure> {
        match *self {}
    }

    pub(crate) fn change_fused(&self, _: &PixelJob<'_>, _: &mut [u32]) -> Result<u64, GpuFailure> {
        match *self {}
    }

    pub(crate) fn change_histogram(
        &self,
        _: &PixelJob<'_>,
        _: &mut [u32],
    ) -> Result<u64, GpuFailure> {
        match *self {}
    }

    pub(crate) fn change_codes(&self, _: &PixelJob<'_>, _: &mut [u8]) -> Result<u64, GpuFailure> {
        match *self {}
    }
}

/// The multi-pass host code the operations call; none can run in this build.
pub(crate) mod change_context {
    use super::GpuContext;
    use crate::change::context::ContextJob;
    use crate::error::GpuFailure;

    pub(crate) fn context_words(
        ctx: &GpuContext,
        _: &ContextJob<'_>,
        _: &mut [u32],
    ) -> Result<(), GpuFailure> {
        match *ctx {}
    }
}

/// See [`change_context`].
pub(crate) mod label {
    use super::GpuContext;
    use crate::error::GpuFailure;
    use crate::patch::{Connectivity, Labels};
    use crate::raster::Raster;

    pub(crate) fn label_on_gpu(
        ctx: &GpuContext,
        _: &Raster<u8>,
        _: Connectivity,
    ) -> Result<Labels, GpuFailure> {
        match *ctx {}
    }
}

/// See [`change_context`].
pub(crate) mod morphology {
    use super::GpuContext;
    use crate::error::GpuFailure;
    use crate::patch::morphology::Morphology;
    use crate::raster::Raster;

    pub(crate) fn morphology_on_gpu(
        ctx: &GpuContext,
        _: &Raster<u8>,
        _: &Morphology,
    ) -> Result<Vec<u8>, GpuFailure> {
        match *ctx {}
    }
}
