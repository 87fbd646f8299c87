// Spectral indices, one f32 per pixel; followed by per_pixel_main.wgsl.
// CPU twin: src/backend/cpu/index.rs.
// Operation codes: src/index.rs (op); constant slots: the `index` family of src/pixel/slots.rs.

fn ratio(num: f32, den: f32) -> f32 {
    if den == 0.0 {
        return INDEX_NODATA;
    }
    let q = num / den;
    return select(INDEX_NODATA, q, is_finite(q));
}

// Constants: the denominator shift (radiometry in DN), the gain, EVI's C1 and C2.
fn index_value(i: u32) -> f32 {
    var v: array<f32, 4>;
    for (var s = 0u; s < params.n_slots; s++) {
        v[s] = load(s, i);
        if !is_valid(s, v[s]) {
            return INDEX_NODATA;
        }
    }
    let k = params.consts;
    switch params.op {
        case 0u: {
            return ratio(v[0] - v[1], (v[0] + v[1]) + k[INDEX_SHIFT]);
        }
        case 1u: {
            let soil = v[0] + v[1];
            let leaf = v[2] + v[3];
            return ratio(soil - leaf, (soil + leaf) + k[INDEX_SHIFT]);
        }
        case 2u: {
            return ratio(k[INDEX_GAIN] * (v[0] - v[1]), (v[0] + v[1]) + k[INDEX_SHIFT]);
        }
        case 3u: {
            let den = ((v[0] + k[EVI_C1] * v[1]) - k[EVI_C2] * v[2]) + k[INDEX_SHIFT];
            return ratio(k[INDEX_GAIN] * (v[0] - v[1]), den);
        }
        default: {
            return INDEX_NODATA;
        }
    }
}

fn pixel_word(i: u32) -> vec2<u32> {
    let value = index_value(i);
    return vec2(bitcast<u32>(value), select(0u, 1u, value != INDEX_NODATA));
}
