//! CPU twin of `shaders/classify.wgsl`.

use super::Chunk;
use crate::classify::{BARE_SOIL, BUILT_UP, CLASS_NODATA, OTHER, VEGETATION, WATER};
use crate::pixel::PixelParams;
use crate::pixel::slots::classify as c;

/// True when `num / den > t`, decided without dividing; false when `den <= 0`.
#[inline(always)]
pub(crate) fn ratio_above(num: f32, den: f32, t: f32) -> bool {
    (den > 0.0) & (num > t * den)
}

/// The class of one pixel from its blue, green, red, NIR and SWIR1 samples, with the date's
/// radiometric shifts. Every rule is evaluated and the code picked without branches, so loops
/// over it vectorise; the first matching rule wins, as in `classify_rules.wgsl`.
#[inline(always)]
pub(crate) fn class_code(k: &[f32; 16], px: [f32; 5], shift2: f32, shift4: f32) -> u8 {
    class_code_with::<false>(k, px, shift2, shift4)
}

/// [`class_code`], with `PLAIN` set when every sample is ≥ 0 and both shifts are 0. Then the
/// same decisions need fewer operations: adding a zero shift to a sum of non-negative values
/// changes nothing, and a sum is 0 only where both terms are, so the difference is 0 too and
/// `0 > t·0` is false already without testing `den > 0`.
#[inline(always)]
pub(crate) fn class_code_with<const PLAIN: bool>(
    k: &[f32; 16],
    [b, g, r, n, s1]: [f32; 5],
    shift2: f32,
    shift4: f32,
) -> u8 {
    // A function, not a closure: a closure could be compiled apart, without the caller's
    // vector extensions.
    #[inline(always)]
    fn above<const PLAIN: bool>(num: f32, sum: f32, shift: f32, t: f32) -> bool {
        if PLAIN {
            num > t * sum
        } else {
            ratio_above(num, sum + shift, t)
        }
    }
    let water = above::<PLAIN>(g - n, g + n, shift2, k[c::NDWI])
        & above::<PLAIN>(g - s1, g + s1, shift2, k[c::MNDWI]);
    let vegetation = above::<PLAIN>(n - r, n + r, shift2, k[c::NDVI]);
    let (soil, leaf) = (s1 + r, n + b);
    let bare = above::<PLAIN>(soil - leaf, soil + leaf, shift4, k[c::BSI]);
    let built = above::<PLAIN>(s1 - n, s1 + n, shift2, k[c::NDBI]);
    let code = if built { BUILT_UP } else { OTHER };
    let code = if bare { BARE_SOIL } else { code };
    let code = if vegetation { VEGETATION } else { code };
    if water { WATER } else { code }
}

/// The class of one pixel from its blue, green, red and NIR samples alone (the four-band rules
/// of `vnir_class_of` in `classify_rules.wgsl`), with the date's shift of two-band sums.
#[inline(always)]
pub(crate) fn vnir_class_code(k: &[f32; 16], [b, g, r, n]: [f32; 4], shift2: f32) -> u8 {
    let water = ratio_above(g - n, g + n + shift2, k[c::NDWI]);
    let vegetation = ratio_above(n - r, n + r + shift2, k[c::NDVI]);
    let mixed = ratio_above(n - r, n + r + shift2, k[c::BARE_NDVI]);
    let reddish = ratio_above(r - b, r + b + shift2, k[c::REDNESS]);
    let code = if reddish { BARE_SOIL } else { BUILT_UP };
    let code = if mixed { OTHER } else { code };
    let code = if vegetation { VEGETATION } else { code };
    if water { WATER } else { code }
}

/// Classifies one chunk (slots blue, green, red, NIR and, with five slots, SWIR1); returns the
/// valid count.
pub(crate) fn classify_chunk(p: &PixelParams, chunk: &Chunk<'_>, out: &mut [u8]) -> u64 {
    let k = &p.consts;
    let (shift2, shift4) = (k[c::SHIFT2], k[c::SHIFT4]);
    if p.n_slots < 5 {
        let [b, g, r, n] = [0, 1, 2, 3].map(|slot| chunk.slots[slot]);
        let pixels = out.iter_mut().zip(chunk.valid).zip(b).zip(g).zip(r).zip(n);
        for (((((o, &ok), &b), &g), &r), &n) in pixels {
            let code = vnir_class_code(k, [b, g, r, n], shift2);
            *o = if ok { code } else { CLASS_NODATA };
        }
        return chunk.valid.iter().map(|&v| u64::from(v)).sum();
    }
    let [b, g, r, n, s1] = [0, 1, 2, 3, 4].map(|slot| chunk.slots[slot]);
    let pixels = out
        .iter_mut()
        .zip(chunk.valid)
        .zip(b)
        .zip(g)
        .zip(r)
        .zip(n)
        .zip(s1);
    for ((((((o, &ok), &b), &g), &r), &n), &s1) in pixels {
        let code = class_code(k, [b, g, r, n, s1], shift2, shift4);
        *o = if ok { code } else { CLASS_NODATA };
    }
    chunk.valid.iter().map(|&v| u64::from(v)).sum()
}
