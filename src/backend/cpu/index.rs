//! CPU twin of `shaders/index.wgsl`.

use super::Chunk;
use crate::index::op;
use crate::pixel::slots::index as c;
use crate::pixel::{INDEX_NODATA, PixelParams};

/// `num / den`, or nodata when the denominator is zero or the quotient is not finite.
#[inline]
fn ratio(num: f32, den: f32) -> f32 {
    if den == 0.0 {
        return INDEX_NODATA;
    }
    let q = num / den;
    if q.is_finite() { q } else { INDEX_NODATA }
}

/// Evaluates one chunk of an index job; returns the count of valid outputs.
pub(crate) fn index_chunk(p: &PixelParams, chunk: &Chunk<'_>, out: &mut [f32]) -> u64 {
    let k = &p.consts;
    let s = &chunk.slots;
    let shift = k[c::INDEX_SHIFT];
    let value = |i: usize| -> f32 {
        match p.op {
            op::NORMALIZED_DIFFERENCE => {
                let (a, b) = (s[0][i], s[1][i]);
                ratio(a - b, (a + b) + shift)
            }
            op::BARE_SOIL => {
                let soil = s[0][i] + s[1][i];
                let leaf = s[2][i] + s[3][i];
                ratio(soil - leaf, (soil + leaf) + shift)
            }
            op::SAVI => {
                let (n, r) = (s[0][i], s[1][i]);
                ratio(k[c::INDEX_GAIN] * (n - r), (n + r) + shift)
            }
            op::EVI => {
                let (n, r, b) = (s[0][i], s[1][i], s[2][i]);
                ratio(
                    k[c::INDEX_GAIN] * (n - r),
                    ((n + k[c::EVI_C1] * r) - k[c::EVI_C2] * b) + shift,
                )
            }
            _ => INDEX_NODATA,
        }
    };
    let mut valid = 0;
    for (i, o) in out.iter_mut().enumerate() {
        *o = if chunk.valid[i] {
            value(i)
        } else {
            INDEX_NODATA
        };
        valid += u64::from(*o != INDEX_NODATA);
    }
    valid
}
