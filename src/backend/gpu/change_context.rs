//! The contextual change detector on the GPU: `shaders/change_context.wgsl` over one window of
//! rows, as a [`Program`] (both dispatches read buffers that stay on the device). The CPU twin
//! is `src/backend/cpu/change_context.rs`.

use super::context::{GpuContext, Kernel};
use super::program::Program;
use crate::change::context::{ContextJob, ContextParams};
use crate::error::{GpuFailure, GpuFailureKind};
use crate::pixel::PixelParams;
use std::borrow::Cow;

const CONTEXT_WGSL: &str = concat!(
    include_str!("../../../shaders/classify_rules.wgsl"),
    include_str!("../../../shaders/change_rules.wgsl"),
    include_str!("../../../shaders/change_context.wgsl"),
);

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        entry,
        source: Cow::Borrowed(CONTEXT_WGSL),
    }
}

/// Threads per workgroup, as declared in the kernel.
const WORKGROUP: u64 = 256;

/// Runs both kernels over `job`'s window; `out` receives two words per output pixel.
pub(crate) fn context_words(
    ctx: &GpuContext,
    job: &ContextJob<'_>,
    out: &mut [u32],
) -> Result<(), GpuFailure> {
    let p: &ContextParams = &job.params;
    let (w, rows) = (u64::from(p.width), u64::from(p.rows));
    let n = w * rows;
    if n >= 1 << 31 {
        return Err(GpuFailure::new(
            GpuFailureKind::LimitExceeded,
            format!("a window of {n} pixels: the kernel indexes at most 2^31 - 1"),
        ));
    }
    let out_pixels = w * u64::from(p.out_rows);
    if out.len() as u64 != 2 * out_pixels {
        return Err(GpuFailure::new(
            GpuFailureKind::Validation,
            format!("{} output words for {out_pixels} pixels", out.len()),
        ));
    }
    if out_pixels == 0 {
        return Ok(());
    }
    // The slots, packed one after the other from word boundaries.
    let mut params: PixelParams = job.pixels.params;
    params.count = n as u32;
    let mut word = 0u64;
    for (s, data) in job.pixels.slots.iter().enumerate() {
        params.slot_offset[s] = word as u32;
        word += (data.as_bytes().len() as u64).div_ceil(4);
    }
    let mut program = Program::new(ctx)?;
    let params_buf = program.storage(size_of::<PixelParams>() as u64, "pixel parameters")?;
    let context_buf = program.storage(size_of::<ContextParams>() as u64, "context parameters")?;
    let samples = program.storage(word.max(1) * 4, "both dates' bands")?;
    let scores = program.storage(n * 4, "change scores")?;
    let words = program.storage(out_pixels * 8, "context words")?;
    program.upload(params_buf, 0, bytemuck::bytes_of(&params));
    program.upload(context_buf, 0, bytemuck::bytes_of(p));
    for (s, data) in job.pixels.slots.iter().enumerate() {
        program.upload(
            samples,
            u64::from(params.slot_offset[s]) * 4,
            data.as_bytes(),
        );
    }
    let smoothing = u64::from(p.smoothing);
    let top = u64::from(p.first_row).saturating_sub(smoothing);
    let bottom = (u64::from(p.first_row) + u64::from(p.out_rows) + smoothing).min(rows);
    program.dispatch(
        &kernel("context_scores"),
        &[(0, params_buf), (1, samples), (2, scores), (5, context_buf)],
        ((bottom - top) * w).div_ceil(WORKGROUP),
    )?;
    program.dispatch(
        &kernel("context_decide"),
        &[
            (0, params_buf),
            (1, samples),
            (2, scores),
            (4, words),
            (5, context_buf),
        ],
        out_pixels.div_ceil(WORKGROUP),
    )?;
    let bytes = program.read(&[(words, 0, out_pixels * 8)])?;
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *o = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    Ok(())
}
