//! CPU connected-component labelling: a two-pass union-find scan over change codes, in
//! parallel row strips whose borders are merged afterwards. Pixels join a patch only when
//! they carry the same change code; background codes ([`is_background`]) join none.
//! The result is canonical (see [`crate::patch`]).

use super::unionfind::UnionFind;
use super::{Connectivity, Labels, is_background};
use crate::backend::gpu::label::label_on_gpu;
use crate::backend::{Computed, Engine};
use crate::error::{Error, Result};
use crate::raster::Raster;
use rayon::prelude::*;

/// Labels the patches of a change-code raster.
pub fn label(codes: &Raster<u8>, connectivity: Connectivity) -> Result<Labels> {
    label_codes(&codes.data, codes.width, codes.height, connectivity)
}

/// Checks that `len` samples make a non-empty `width × height` grid whose labels fit u32.
pub(crate) fn check_grid(len: usize, width: usize, height: usize) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::EmptyRaster { width, height });
    }
    let expected = width.checked_mul(height).filter(|&n| n < u32::MAX as usize);
    match expected {
        None => Err(Error::TooLarge {
            what: format!("{width}×{height} pixels: patch labels are u32 (tile the raster)"),
        }),
        Some(n) if n != len => Err(Error::BandLength {
            band: 0,
            len,
            width,
            height,
            expected: n,
        }),
        Some(_) => Ok(()),
    }
}

/// Labels row-major change codes of a `width × height` grid.
pub fn label_codes(
    codes: &[u8],
    width: usize,
    height: usize,
    connectivity: Connectivity,
) -> Result<Labels> {
    check_grid(codes.len(), width, height)?;
    let strips = rayon::current_num_threads() * 4;
    let min_rows = (1usize << 16).div_ceil(width);
    let rows = height.div_ceil(strips).max(min_rows).min(height);
    let chunk = rows * width;
    let mut ids = vec![0u32; codes.len()];
    let forests: Vec<UnionFind> = ids
        .par_chunks_mut(chunk)
        .zip(codes.par_chunks(chunk))
        .map(|(out, c)| scan(c, out, width, connectivity))
        .collect();
    let mut all = UnionFind::new();
    let offsets: Vec<u32> = forests.iter().map(|f| all.append(f)).collect();
    for s in 1..forests.len() {
        let y = s * rows;
        join_rows(
            &mut all,
            [
                &codes[(y - 1) * width..y * width],
                &codes[y * width..(y + 1) * width],
            ],
            [
                &ids[(y - 1) * width..y * width],
                &ids[y * width..(y + 1) * width],
            ],
            [offsets[s - 1], offsets[s]],
            connectivity,
        );
    }
    let (map, count) = all.canonical();
    ids.par_chunks_mut(chunk)
        .zip(offsets.par_iter())
        .for_each(|(out, &off)| {
            for l in out.iter_mut().filter(|l| **l != 0) {
                *l = map[(*l + off) as usize];
            }
        });
    Ok(Labels {
        width,
        height,
        ids,
        count,
    })
}

/// Joins the labels of two vertically adjacent rows, `codes[0]` above `codes[1]`, whose
/// provisional labels plus `offsets` are labels of `uf`.
pub(crate) fn join_rows(
    uf: &mut UnionFind,
    codes: [&[u8]; 2],
    labels: [&[u32]; 2],
    offsets: [u32; 2],
    connectivity: Connectivity,
) {
    let w = codes[0].len();
    let reach = usize::from(connectivity == Connectivity::Eight);
    for x in 0..w {
        let v = codes[1][x];
        if is_background(v) {
            continue;
        }
        for ax in x.saturating_sub(reach)..(x + reach + 1).min(w) {
            if codes[0][ax] == v {
                uf.union(labels[1][x] + offsets[1], labels[0][ax] + offsets[0]);
            }
        }
    }
}

/// First pass over a strip: provisional labels into `out` (zeroed), equivalences in the
/// returned forest.
pub(crate) fn scan(c: &[u8], out: &mut [u32], w: usize, connectivity: Connectivity) -> UnionFind {
    let mut uf = UnionFind::new();
    let h = c.len() / w;
    // First row: only the left neighbour.
    for x in 0..w {
        let v = c[x];
        if is_background(v) {
            continue;
        }
        out[x] = if x > 0 && c[x - 1] == v {
            out[x - 1]
        } else {
            uf.make()
        };
    }
    for y in 1..h {
        let (done, rest) = out.split_at_mut(y * w);
        let up_l = &done[(y - 1) * w..];
        let cur = &mut rest[..w];
        let up = &c[(y - 1) * w..y * w];
        let row = &c[y * w..(y + 1) * w];
        match connectivity {
            Connectivity::Eight => scan_row8(row, up, up_l, cur, &mut uf),
            Connectivity::Four => scan_row4(row, up, up_l, cur, &mut uf),
        }
    }
    uf
}

#[inline]
fn scan_row8(row: &[u8], up: &[u8], up_l: &[u32], cur: &mut [u32], uf: &mut UnionFind) {
    let w = row.len();
    for x in 0..w {
        let v = row[x];
        if is_background(v) {
            continue;
        }
        // The pixel above touches left, up-left and up-right: copying it is enough.
        cur[x] = if up[x] == v {
            up_l[x]
        } else {
            let left = x > 0 && row[x - 1] == v;
            let up_left = x > 0 && up[x - 1] == v;
            if x + 1 < w && up[x + 1] == v {
                let l = up_l[x + 1];
                if left {
                    uf.union(l, cur[x - 1])
                } else if up_left {
                    uf.union(l, up_l[x - 1])
                } else {
                    l
                }
            } else if up_left {
                up_l[x - 1]
            } else if left {
                cur[x - 1]
            } else {
                uf.make()
            }
        };
    }
}

#[inline]
fn scan_row4(row: &[u8], up: &[u8], up_l: &[u32], cur: &mut [u32], uf: &mut UnionFind) {
    for x in 0..row.len() {
        let v = row[x];
        if is_background(v) {
            continue;
        }
        let left = x > 0 && row[x - 1] == v;
        cur[x] = match (up[x] == v, left) {
            (true, true) => uf.union(up_l[x], cur[x - 1]),
            (true, false) => up_l[x],
            (false, true) => cur[x - 1],
            (false, false) => uf.make(),
        };
    }
}

/// [`Engine::label`]: on the GPU ([`crate::backend::gpu::label`]) or by [`label`], which
/// give the same canonical ids.
pub(crate) fn compute(
    engine: &Engine,
    codes: &Raster<u8>,
    connectivity: Connectivity,
) -> Result<Computed<Labels>> {
    check_grid(codes.data.len(), codes.width, codes.height)?;
    let computed = engine.gpu_or_cpu(
        &mut (),
        |gpu, _| label_on_gpu(gpu, codes, connectivity).map(Ok),
        |_| label(codes, connectivity),
    );
    Ok(Computed {
        output: computed.output?,
        execution: computed.execution,
    })
}
