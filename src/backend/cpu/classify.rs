//! CPU twin of `shaders/classify.wgsl`.

use super::Chunk;
use crate::classify::{
    BARE_SOIL, BUILT_UP, CLASS_NODATA, OTHER, VEGETATION, WATER, slot_const as c,
};
use crate::pixel::PixelParams;

/// True when `num / den > t`, decided without dividing; false when `den <= 0`.
#[inline]
pub(crate) fn ratio_above(num: f32, den: f32, t: f32) -> bool {
    den > 0.0 && num > t * den
}

/// Classifies one chunk (slots blue, green, red, NIR, SWIR1); returns the valid count.
pub(crate) fn classify_chunk(p: &PixelParams, chunk: &Chunk<'_>, out: &mut [u8]) -> u64 {
    let k = &p.consts;
    let [b, g, r, n, s1] = [0, 1, 2, 3, 4].map(|slot| chunk.slots[slot]);
    let mut valid = 0;
    for (i, o) in out.iter_mut().enumerate() {
        if !chunk.valid[i] {
            *o = CLASS_NODATA;
            continue;
        }
        valid += 1;
        let (b, g, r, n, s1) = (b[i], g[i], r[i], n[i], s1[i]);
        let shift2 = k[c::SHIFT2];
        let water = ratio_above(g - n, (g + n) + shift2, k[c::NDWI])
            && ratio_above(g - s1, (g + s1) + shift2, k[c::MNDWI]);
        let soil = s1 + r;
        let leaf = n + b;
        *o = if water {
            WATER
        } else if ratio_above(n - r, (n + r) + shift2, k[c::NDVI]) {
            VEGETATION
        } else if ratio_above(soil - leaf, (soil + leaf) + k[c::SHIFT4], k[c::BSI]) {
            BARE_SOIL
        } else if ratio_above(s1 - n, (s1 + n) + shift2, k[c::NDBI]) {
            BUILT_UP
        } else {
            OTHER
        };
    }
    valid
}
