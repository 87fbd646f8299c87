//! Connected-component labelling on the GPU by union-find (Playne and Hawick, "A New
//! Algorithm for Parallel Connected-Component Labelling on GPUs", 2018). Its CPU twin is
//! [`crate::patch::label()`]: both give the same canonical ids.
//!
//! Six dispatches, whatever the patches' shapes (a spiral or a snake costs no more passes
//! than a blob): init, merge, compress (with per-block root counts), a one-workgroup scan of
//! the block counts, id assignment to roots, relabel. Pixels of different codes never join;
//! codes 0 and 255 are background.
//!
//! Canonical ids come for free from the union rule: a union always hangs the larger root
//! under the smaller (`atomicMin`), so every patch's root is its smallest linear index, its
//! first pixel in raster order. Roots are flagged, an exclusive prefix sum of the flags in
//! raster order (on the GPU: per 1,024-pixel block, then over blocks) numbers them 1..n, and
//! every pixel takes its root's number. Only the final ids and the patch count are read back.
//!
//! The labels, ids and codes must each fit one storage binding (4 bytes a pixel for the
//! first two); otherwise the GPU run fails with [`GpuFailureKind::LimitExceeded`] and the
//! engine falls back to the CPU. Tiling with border merging is done elsewhere.

use super::GpuContext;
use super::kernels::{Kernel, LABEL};
use super::morphology::{check_gpu_size, grid_params};
use super::program::Program;
use crate::error::{GpuFailure, GpuFailureKind};
use crate::patch::{Connectivity, Labels};
use crate::pixel::PixelParams;
use crate::pixel::slots::label::{CONNECTIVITY, LABEL_BLOCKS};
use crate::raster::Raster;

/// Pixels per workgroup of the labelling passes (256 invocations × 4 pixels).
const BLOCK: u64 = 1024;

fn kernel(entry: &'static str) -> Kernel {
    LABEL.kernel(entry)
}

fn connectivity_code(connectivity: Connectivity) -> i32 {
    match connectivity {
        Connectivity::Four => 4,
        Connectivity::Eight => 8,
    }
}

/// Labels `codes` on the GPU (see the module documentation). The raster must have been
/// checked (`data.len() == width × height`).
pub(crate) fn label_on_gpu(
    ctx: &GpuContext,
    codes: &Raster<u8>,
    connectivity: Connectivity,
) -> std::result::Result<Labels, GpuFailure> {
    let n = codes.data.len();
    let empty = Labels {
        width: codes.width,
        height: codes.height,
        ids: vec![0; n],
        count: 0,
    };
    if n == 0 {
        return Ok(empty);
    }
    check_gpu_size(n)?;
    let n64 = n as u64;
    let n_blocks = n64.div_ceil(BLOCK);
    let mut params: PixelParams = grid_params(codes);
    params.iconsts[CONNECTIVITY] = connectivity_code(connectivity);
    params.iconsts[LABEL_BLOCKS] = n_blocks as i32;

    let mut p = Program::new(ctx)?;
    let params_buf = p.storage(size_of::<PixelParams>() as u64, "labelling parameters")?;
    let samples = p.storage(n64.next_multiple_of(4), "change codes")?;
    let labels = p.storage(n64 * 4, "the union-find forest")?;
    let ids = p.storage(n64 * 4, "the label raster")?;
    let blocks = p.storage((n_blocks + 1) * 4, "the block root counts")?;
    p.upload(params_buf, 0, bytemuck::bytes_of(&params));
    p.upload(samples, 0, &codes.data);
    let (par, cod, lab, out, blk) = (params_buf, samples, labels, ids, blocks);
    p.dispatch(
        &kernel("label_init"),
        &[(0, par), (1, cod), (2, lab)],
        n_blocks,
    )?;
    p.dispatch(
        &kernel("label_merge"),
        &[(0, par), (1, cod), (2, lab)],
        n_blocks,
    )?;
    p.dispatch(
        &kernel("label_compress"),
        &[(0, par), (2, lab), (5, blk)],
        n_blocks,
    )?;
    p.dispatch(&kernel("label_scan"), &[(0, par), (5, blk)], 1)?;
    p.dispatch(
        &kernel("label_assign"),
        &[(0, par), (2, lab), (4, out), (5, blk)],
        n_blocks,
    )?;
    p.dispatch(
        &kernel("label_relabel"),
        &[(0, par), (2, lab), (4, out)],
        n_blocks,
    )?;
    let bytes = p.read(&[(ids, 0, n64 * 4), (blocks, n_blocks * 4, 4)])?;
    if bytes.len() < (n + 1) * 4 {
        return Err(GpuFailure::new(
            GpuFailureKind::Validation,
            "the label read-back is short",
        ));
    }
    let words: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Labels {
        ids: words[..n].to_vec(),
        count: words[n],
        ..empty
    })
}
