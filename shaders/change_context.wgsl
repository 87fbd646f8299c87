// The contextual change detector: per pixel, a change score that tolerates misregistration
// and is smoothed over its neighbourhood, measured against the noise of unchanged pixels;
// classes of both dates; and the per-date cloud and shadow tests. Prefixed by
// classify_rules.wgsl and change_rules.wgsl. CPU twin: src/backend/cpu/change_context.rs, which
// documents each step; parameters: ContextParams in src/change/context.rs.
//
// The input is a window of whole rows: slots 0..nb the first date (blue, green, red, nir
// [, swir1 [, swir2]]), nb..2nb the second. The window holds `halo` rows above and below the
// output rows wherever the scene has them, so every neighbour that exists is in it.
//
// Two entry points, run in order:
//   context_scores: for every pixel within `smoothing` rows of the output rows, the change
//                   magnitude in σ/256 (0xffffffff where the pixel is not valid);
//   context_decide: for every output pixel, two words (see `decide_pixel`).
//
// Every step is integer arithmetic or a correctly rounded f32 operation, so both backends
// take the same decisions.

struct ContextParams {
    width: u32,
    rows: u32,
    first_row: u32,
    out_rows: u32,
    bands: u32,
    radius: u32,
    smoothing: u32,
    seed: u32,
    grow: u32,
    cloud_blue: i32,
    cloud_core_rise: i32,
    cloud_grow_rise: i32,
    cloud_core_white: i32,
    cloud_grow_white: i32,
    shadow_dark: i32,
    haze_rise: i32,
    haze_swir: i32,
    pad: u32,
    factor: array<f32, 12>,
    offset: array<i32, 12>,
    gain_q12: array<i32, 6>,
    offset_q12: array<i32, 6>,
    median: array<i32, 6>,
    weight: array<i32, 6>,
    shift: array<u32, 6>,
}

@group(0) @binding(5) var<storage, read> ctx: ContextParams;
@group(0) @binding(2) var<storage, read_write> scores: array<u32>;
@group(0) @binding(4) var<storage, read_write> context_out: array<u32>;

const NO_SCORE: u32 = 0xffffffffu;
const MAX_UNITS: f32 = 131071.0;
const MAX_DIFFERENCE: i32 = 262144;
const MAX_Z: i32 = 26000;

// A valid sample in 10⁻⁴ reflectance: round(x · factor) + offset, clamped.
fn calibrate(x: f32, k: u32) -> i32 {
    let v = clamp(round(x * ctx.factor[k]), -MAX_UNITS, MAX_UNITS);
    return clamp(i32(v) + ctx.offset[k], -131071, 131071);
}

// Whether pixel i is valid on both dates.
fn pixel_valid(i: u32) -> bool {
    for (var s = 0u; s < 2u * ctx.bands; s++) {
        if !is_valid(s, load(s, i)) {
            return false;
        }
    }
    return true;
}

// Band j of the first date at pixel i, calibrated.
fn first_date(j: u32, i: u32) -> i32 {
    return calibrate(load(j, i), j);
}

// Band j of the second date at pixel i, calibrated and mapped onto the first date.
fn second_date(j: u32, i: u32) -> i32 {
    let a = calibrate(load(ctx.bands + j, i), 6u + j);
    return (ctx.gain_q12[j] * a + ctx.offset_q12[j]) >> 12u;
}

// A value in σ/256 of band j: the second date's less the median difference, or the first
// date's. Values are clamped to ±2¹⁸ first, so the products fit an i32.
fn z_second(j: u32, v: i32) -> i32 {
    let e = clamp(v - ctx.median[j], -MAX_DIFFERENCE, MAX_DIFFERENCE);
    return (e * ctx.weight[j]) >> ctx.shift[j];
}

fn z_first(j: u32, v: i32) -> i32 {
    let e = clamp(v, -MAX_DIFFERENCE, MAX_DIFFERENCE);
    return (e * ctx.weight[j]) >> ctx.shift[j];
}

// The squared standardized difference of two values in σ/256, clamped.
fn z2(second: i32, first: i32) -> u32 {
    let z = clamp(second - first, -MAX_Z, MAX_Z);
    return u32(z * z);
}

fn isqrt(m: u32) -> u32 {
    var s = u32(sqrt(f32(m)));
    while s * s > m {
        s -= 1u;
    }
    while (s + 1u) * (s + 1u) <= m && s < 65535u {
        s += 1u;
    }
    return s;
}

@compute @workgroup_size(256)
fn context_scores(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let w = ctx.width;
    let top = max(i32(ctx.first_row) - i32(ctx.smoothing), 0);
    let bottom = min(ctx.first_row + ctx.out_rows + ctx.smoothing, ctx.rows);
    let k = invocation_index(wid, groups, lid);
    let i = u32(top) * w + k;
    if i >= bottom * w {
        return;
    }
    if !pixel_valid(i) {
        scores[i] = NO_SCORE;
        return;
    }
    let x = i32(i % w);
    let y = i32(i / w);
    let nb = ctx.bands;
    var first: array<i32, 6>;
    var second: array<i32, 6>;
    for (var j = 0u; j < nb; j++) {
        first[j] = z_first(j, first_date(j, i));
        second[j] = z_second(j, second_date(j, i));
    }
    // The best match of the second date here among the first date's neighbours, and of the
    // first date here among the second date's neighbours.
    var best_second = NO_SCORE;
    var best_first = NO_SCORE;
    let r = i32(ctx.radius);
    for (var dy = -r; dy <= r; dy++) {
        for (var dx = -r; dx <= r; dx++) {
            let qx = x + dx;
            let qy = y + dy;
            if qx < 0 || qy < 0 || qx >= i32(w) || qy >= i32(ctx.rows) {
                continue;
            }
            let q = u32(qy) * w + u32(qx);
            if !pixel_valid(q) {
                continue;
            }
            var m_second = 0u;
            var m_first = 0u;
            for (var j = 0u; j < nb; j++) {
                m_second += z2(second[j], z_first(j, first_date(j, q)));
                m_first += z2(z_second(j, second_date(j, q)), first[j]);
            }
            best_second = min(best_second, m_second);
            best_first = min(best_first, m_first);
        }
    }
    scores[i] = isqrt(max(best_second, best_first) / nb);
}

// Whiteness of the visible bands below `t` thousandths: Σ|3x − S| < t·S/1000 with S the sum
// (values clamped to 0..65535, so the products fit).
fn white(v: array<i32, 6>, t: i32) -> bool {
    let b = clamp(v[0], 0, 65535);
    let g = clamp(v[1], 0, 65535);
    let r = clamp(v[2], 0, 65535);
    let s = b + g + r;
    let dev = abs(3 * b - s) + abs(3 * g - s) + abs(3 * r - s);
    return s > 0 && dev * 1000 < t * s;
}

// The cloud, shadow and haze flags of date `x` against the other date `o`: bit 0 cloud core,
// bit 1 cloud growth (set with the core), bit 2 shadow candidate, bit 3 haze candidate.
fn sky_flags(x: array<i32, 6>, o: array<i32, 6>) -> u32 {
    let nb = ctx.bands;
    var rise = 2147483647;
    for (var j = 0u; j < nb; j++) {
        rise = min(rise, x[j] - o[j]);
    }
    let core = x[0] > ctx.cloud_blue && white(x, ctx.cloud_core_white)
        && rise > ctx.cloud_core_rise;
    let grow = core || (rise > ctx.cloud_grow_rise && white(x, ctx.cloud_grow_white));
    // Shadow: NIR (and SWIR) below half the other date's, and NIR dark.
    var shadow = x[3] < ctx.shadow_dark;
    for (var j = 3u; j < nb; j++) {
        shadow = shadow && 2 * x[j] < o[j];
    }
    // Haze: blue risen most, then red, then NIR; SWIR (or, without it, NIR) nearly still.
    let d = array<i32, 4>(x[0] - o[0], x[2] - o[2], x[3] - o[3], 0);
    var haze = d[0] > ctx.haze_rise && d[0] >= d[1] && d[1] >= d[2];
    if nb >= 5u {
        for (var j = 4u; j < nb; j++) {
            haze = haze && abs(x[j] - o[j]) < ctx.haze_swir;
        }
    } else {
        haze = haze && 2 * d[2] < d[0];
    }
    return select(0u, 1u, core) | select(0u, 2u, grow) | select(0u, 4u, shadow)
        | select(0u, 8u, haze);
}

// The two words of output pixel i (window index):
// word 0: byte 0 the class before, byte 1 the class after (255 nodata), byte 2 the pre-code
//         (255 nodata; else bits 0-2 the change type, 0 where the classes rule change out,
//         and bits 3-4 the level: 1 above the grow threshold, 2 above the seed), byte 3 the
//         flags: bit 0 cloud core and bit 1 cloud growth of the first date, bits 2 and 3 of
//         the second, bit 4 shadow candidate of the first date, bit 5 of the second, bit 6
//         haze candidate of the first date, bit 7 of the second;
// word 1: bits 0-15 the smoothed score in σ/256 (capped), bits 16-21 the direction (bit j
//         when band j rose).
fn decide_pixel(i: u32) -> vec2<u32> {
    if !pixel_valid(i) {
        return vec2(0x00ffffffu, 0u);
    }
    let w = ctx.width;
    let x = i32(i % w);
    let y = i32(i / w);
    let nb = ctx.bands;
    var first: array<i32, 6>;
    var second: array<i32, 6>;
    var direction = 0u;
    for (var j = 0u; j < nb; j++) {
        first[j] = first_date(j, i);
        second[j] = second_date(j, i);
        direction |= select(0u, 1u << j, second[j] - first[j] - ctx.median[j] > 0);
    }
    var before = 0u;
    var after = 0u;
    if nb >= 5u {
        before = class_of(f32(first[0]), f32(first[1]), f32(first[2]), f32(first[3]),
            f32(first[4]), 0.0, 0.0);
        after = class_of(f32(second[0]), f32(second[1]), f32(second[2]), f32(second[3]),
            f32(second[4]), 0.0, 0.0);
    } else {
        before = vnir_class_of(f32(first[0]), f32(first[1]), f32(first[2]), f32(first[3]), 0.0);
        after = vnir_class_of(f32(second[0]), f32(second[1]), f32(second[2]), f32(second[3]),
            0.0);
    }
    // The mean score over the valid pixels of the smoothing window.
    var sum = 0u;
    var count = 0u;
    let s = i32(ctx.smoothing);
    for (var dy = -s; dy <= s; dy++) {
        for (var dx = -s; dx <= s; dx++) {
            let qx = x + dx;
            let qy = y + dy;
            if qx < 0 || qy < 0 || qx >= i32(w) || qy >= i32(ctx.rows) {
                continue;
            }
            let m = scores[u32(qy) * w + u32(qx)];
            if m != NO_SCORE {
                sum += m;
                count += 1u;
            }
        }
    }
    var level = 0u;
    if sum > ctx.grow * count {
        level = 1u;
    }
    if sum > ctx.seed * count {
        level = 2u;
    }
    // Vegetation now, or water on both dates, is no land-use change.
    var kind = change_type(before, after);
    if after == 2u || (before == 1u && after == 1u) {
        kind = 0u;
    }
    let precode = select(kind | (level << 3u), 0u, kind == 0u || level == 0u);
    let sky_first = sky_flags(first, second);
    let sky_second = sky_flags(second, first);
    let flags = (sky_first & 3u) | ((sky_second & 3u) << 2u) | (((sky_first >> 2u) & 1u) << 4u)
        | (((sky_second >> 2u) & 1u) << 5u) | ((sky_first >> 3u) << 6u) | ((sky_second >> 3u) << 7u);
    let score = min(sum / count, 65535u);
    return vec2(before | (after << 8u) | (precode << 16u) | (flags << 24u),
        score | (direction << 16u));
}

@compute @workgroup_size(256)
fn context_decide(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let k = invocation_index(wid, groups, lid);
    if k >= ctx.out_rows * ctx.width {
        return;
    }
    let word = decide_pixel(ctx.first_row * ctx.width + k);
    context_out[2u * k] = word.x;
    context_out[2u * k + 1u] = word.y;
}
