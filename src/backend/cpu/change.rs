//! CPU twin of `shaders/change.wgsl`.

use super::Chunk;
use super::classify::class_code;
use crate::change::{CHANGE_NODATA, change_code};
use crate::classify::{CLASS_NODATA, slot_const as c};
use crate::pixel::PixelParams;

/// Packs class before, class after and change code into bytes 0, 1 and 2 of a word.
#[inline]
fn pack(before: u8, after: u8, change: u8) -> u32 {
    u32::from(before) | u32::from(after) << 8 | u32::from(change) << 16
}

/// Runs the fused change rules over one chunk (slots 0..5 first date, 5..10 second);
/// returns the count of pixels valid on both dates.
pub(crate) fn change_chunk(p: &PixelParams, chunk: &Chunk<'_>, out: &mut [u32]) -> u64 {
    let k = &p.consts;
    let s = &chunk.slots;
    for (i, o) in out.iter_mut().enumerate() {
        let date = |first: usize| [0, 1, 2, 3, 4].map(|b| s[first + b][i]);
        *o = if chunk.valid[i] {
            let before = class_code(k, date(0), k[c::SHIFT2], k[c::SHIFT4]);
            let after = class_code(k, date(5), k[c::AFTER_SHIFT2], k[c::AFTER_SHIFT4]);
            pack(before, after, change_code(before, after))
        } else {
            pack(CLASS_NODATA, CLASS_NODATA, CHANGE_NODATA)
        };
    }
    chunk.valid.iter().map(|&v| u64::from(v)).sum()
}
