// Spectral indices, one pixel per invocation. CPU twin: src/backend/cpu/index.rs.
// Operation codes and constant slots: src/index.rs (op, slot_const).

@group(0) @binding(2) var<storage, read_write> index_out: array<f32>;

fn ratio(num: f32, den: f32) -> f32 {
    if den == 0.0 {
        return INDEX_NODATA;
    }
    let q = num / den;
    return select(INDEX_NODATA, q, is_finite(q));
}

// Constants: k[0] denominator shift (radiometry in DN), k[1] gain, k[2] C1, k[3] C2.
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
            return ratio(v[0] - v[1], (v[0] + v[1]) + k[0]);
        }
        case 1u: {
            let soil = v[0] + v[1];
            let leaf = v[2] + v[3];
            return ratio(soil - leaf, (soil + leaf) + k[0]);
        }
        case 2u: {
            return ratio(k[1] * (v[0] - v[1]), (v[0] + v[1]) + k[0]);
        }
        case 3u: {
            return ratio(k[1] * (v[0] - v[1]), ((v[0] + k[2] * v[1]) - k[3] * v[2]) + k[0]);
        }
        default: {
            return INDEX_NODATA;
        }
    }
}

@compute @workgroup_size(256)
fn index_main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = invocation_index(wid, groups, lid);
    var n_valid = 0u;
    if i < params.count {
        let value = index_value(i);
        index_out[i] = value;
        n_valid = select(0u, 1u, value != INDEX_NODATA);
    }
    count_valid(n_valid, lid);
}
