//! Opening and closing on the GPU: two dispatches per round over buffers that stay on the
//! device (semantics, rounds and the CPU twin in [`crate::patch::morphology`]).

use super::GpuContext;
use super::kernels::{Kernel, MORPHOLOGY};
use super::program::Program;
use crate::error::{GpuFailure, GpuFailureKind};
use crate::patch::morphology::{ElementShape, MorphOp, MorphScope, Morphology, class_tables};
use crate::pixel::PixelParams;
use crate::pixel::slots::morphology::{ELEMENT_CROSS, ELEMENT_RADIUS, WHOLE_MASK};
use crate::pixel::slots::raster::{RASTER_HEIGHT, RASTER_WIDTH};
use crate::raster::Raster;

fn kernel(entry: &'static str) -> Kernel {
    MORPHOLOGY.kernel(entry)
}

/// Largest raster, in pixels, that the GPU kernels index (i32 coordinates, u32 indices).
pub(crate) const GPU_MAX_PIXELS: usize = 1 << 31;

/// Fails with `LimitExceeded` for rasters the kernels cannot index.
pub(crate) fn check_gpu_size(n: usize) -> std::result::Result<(), GpuFailure> {
    if n >= GPU_MAX_PIXELS {
        return Err(GpuFailure::new(
            GpuFailureKind::LimitExceeded,
            format!("{n} pixels: the patch kernels index at most 2^31 - 1"),
        ));
    }
    Ok(())
}

/// Parameters of a patch kernel: the raster in slot 0 (u8), its size in the `raster` slots.
pub(crate) fn grid_params(codes: &Raster<u8>) -> PixelParams {
    let mut params: PixelParams = bytemuck::Zeroable::zeroed();
    params.count = (codes.width * codes.height) as u32;
    params.n_slots = 1;
    params.iconsts[RASTER_WIDTH] = codes.width as i32;
    params.iconsts[RASTER_HEIGHT] = codes.height as i32;
    params
}

/// Opening or closing on the GPU: two dispatches per round (see the module documentation),
/// with every buffer on the device until the result is read back. Fails with `LimitExceeded`
/// when the raster's intermediate (4 bytes a pixel) does not fit one storage binding.
pub(crate) fn morphology_on_gpu(
    ctx: &GpuContext,
    codes: &Raster<u8>,
    m: &Morphology,
) -> std::result::Result<Vec<u8>, GpuFailure> {
    let n = codes.data.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    check_gpu_size(n)?;
    let tables = class_tables(&codes.data, m);
    let code_words = n.div_ceil(4) as u64;
    let mut params = grid_params(codes);
    params.n_slots = 2;
    params.slot_offset[1] = code_words as u32;
    params.iconsts[ELEMENT_RADIUS] = m.element.radius() as i32;
    params.iconsts[ELEMENT_CROSS] = i32::from(m.element.shape() == ElementShape::Cross);
    params.iconsts[WHOLE_MASK] = i32::from(m.scope == MorphScope::WholeMask);

    let mut p = Program::new(ctx)?;
    let params_buf = p.storage(size_of::<PixelParams>() as u64, "morphology parameters")?;
    let samples = p.storage((code_words + 256 + 32) * 4, "change codes")?;
    let inter = p.storage(n as u64 * 4, "the morphology intermediate")?;
    let out = p.storage(code_words * 4, "the morphology output")?;
    p.upload(params_buf, 0, bytemuck::bytes_of(&params));
    p.upload(samples, 0, &codes.data);
    p.clear(out);
    let (first, second) = match m.op {
        MorphOp::Open => ("morph_erode_classes", "morph_open_final"),
        MorphOp::Close => ("morph_dilate_sets", "morph_close_final"),
    };
    let pixel_groups = (n as u64).div_ceil(256);
    let word_groups = code_words.div_ceil(256);
    for t in &tables {
        p.upload(samples, code_words * 4, bytemuck::cast_slice(&t.words));
        p.dispatch(
            &kernel(first),
            &[(0, params_buf), (1, samples), (2, inter)],
            pixel_groups,
        )?;
        p.dispatch(
            &kernel(second),
            &[(0, params_buf), (1, samples), (2, inter), (4, out)],
            word_groups,
        )?;
    }
    let mut bytes = p.read(&[(out, 0, n as u64)])?;
    bytes.truncate(n);
    Ok(bytes)
}
