// Bi-temporal change, pass 1's arithmetic: one read of both dates' bands gives, per pixel, the
// class before, the class after, the change-vector direction and the change measure, packed in
// one word by `change_word`: bits 0-3 class before, 4-7 class after (15 = nodata), 8-13 the
// direction sector (bit j set when band j increased), 16-31 the measure (PassOneWord in
// src/change/pass_one.rs reads it). Prefixed by
// classify_rules.wgsl; followed by change_pass1.wgsl (the words) or change_rules.wgsl and
// change_fused.wgsl (codes with a known threshold). CPU twin: src/backend/cpu/change.rs.
//
// Slots: first date 0..nb (blue, green, red, nir[, swir1[, swir2]]), second date nb..2nb,
// then optionally the caller's mask (nodata = masked).
// consts: [0..5) class thresholds, [5],[6] first-date shifts, [7],[8] second-date shifts,
//         [9],[10] the quantization factors of the two dates.
// iconsts: [0..6) per-band gains (Q12), [6..12) per-band offsets (Q12 of quantized units),
//          [12] nb, the number of bands in the change vector, [13] the change measure,
//          [14], [15] the dates' radiometric offsets in quantized units.
//
// The magnitude is computed in integers, so it is exact and equal on every backend: samples
// are quantized (round(x·q)), the second date is mapped onto the first by the relative
// radiometric normalization (g·a + c in Q12), differences are clamped to ±23170 so that six
// squares fit a u32, and the integer square root is taken.

const MAX_DIFFERENCE: i32 = 23170;

// Clamped first, so that the conversion never depends on out-of-range behaviour.
fn quantize(x: f32, q: f32) -> i32 {
    return i32(clamp(round(x * q), -1e9, 1e9));
}

fn isqrt(m: u32) -> u32 {
    var s = u32(sqrt(f32(m)));
    while s * s > m {
        s -= 1u;
    }
    while (s + 1u) * (s + 1u) <= m {
        s += 1u;
    }
    return s;
}

// Normalized difference of two integer sums in thousandths, truncated toward zero; None
// (returned as 0x7fffffff) when the denominator is not positive.
const UNDEFINED: i32 = 0x7fffffff;

fn nd_thousandths(p: i32, m: i32) -> i32 {
    let den = p + m;
    if den <= 0 {
        return UNDEFINED;
    }
    return ((p - m) * 1000) / den;
}

// The measure of change between the dates in thousandths: |ΔND| of the chosen index over
// the value arrays (blue, green, red, nir, swir1 at 0..5).
fn index_change(kind: i32, b: array<i32, 6>, a: array<i32, 6>) -> u32 {
    var before = UNDEFINED;
    var after = UNDEFINED;
    switch kind {
        case 1: {
            before = nd_thousandths(b[3], b[2]);
            after = nd_thousandths(a[3], a[2]);
        }
        case 2: {
            before = nd_thousandths(b[4] + b[2], b[3] + b[0]);
            after = nd_thousandths(a[4] + a[2], a[3] + a[0]);
        }
        default: {
            before = nd_thousandths(b[4], b[3]);
            after = nd_thousandths(a[4], a[3]);
        }
    }
    if before == UNDEFINED || after == UNDEFINED {
        return 0u;
    }
    return min(u32(abs(after - before)), 65535u);
}

// The direction sector and change measure of pixel i, packed as bits 8-13 and 16-31:
// MEASURE = 0 change-vector magnitude, 1 |ΔNDVI|, 2 |ΔBSI|, 3 |ΔNDBI| (thousandths).
// Values are quantized, shifted by the date's integer offset (OFFSET_BEFORE, OFFSET_AFTER)
// and the second date mapped onto the first (GAIN_Q12, OFFSET_Q12).
fn change_measure(i: u32, nb: u32) -> u32 {
    let k = params.consts;
    var b: array<i32, 6>;
    var a: array<i32, 6>;
    var m2 = 0u;
    var direction = 0u;
    for (var j = 0u; j < nb; j++) {
        b[j] = quantize(load(j, i), k[QUANTIZE_BEFORE]) + params.iconsts[OFFSET_BEFORE];
        let after = quantize(load(nb + j, i), k[QUANTIZE_AFTER]) + params.iconsts[OFFSET_AFTER];
        a[j] = (params.iconsts[GAIN_Q12 + j] * after + params.iconsts[OFFSET_Q12 + j]) >> 12u;
        let d = clamp(a[j] - b[j], -MAX_DIFFERENCE, MAX_DIFFERENCE);
        m2 += u32(d * d);
        direction |= select(0u, 1u << j, d > 0);
    }
    let kind = params.iconsts[MEASURE];
    var measure = 0u;
    if kind == 0 {
        measure = isqrt(m2);
    } else {
        measure = index_change(kind, b, a);
    }
    return (direction << 8u) | (measure << 16u);
}

fn change_word(i: u32) -> vec2<u32> {
    let k = params.consts;
    let nb = u32(params.iconsts[BANDS_PER_DATE]);
    // Every band of both dates, and the optional caller mask after them, must be valid.
    var valid = true;
    for (var j = 0u; j < params.n_slots; j++) {
        valid = valid && is_valid(j, load(j, i));
    }
    if !valid {
        return vec2(15u | (15u << 4u), 0u);
    }
    // With SWIR1 (nb >= 5) the full rules, without it the four-band rules.
    let before = classify_at(0u, i, nb, k[SHIFT2], k[SHIFT4]);
    let after = classify_at(nb, i, nb, k[AFTER_SHIFT2], k[AFTER_SHIFT4]);
    return vec2(before | (after << 4u) | change_measure(i, nb), 1u);
}
