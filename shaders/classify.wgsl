// Land-cover classification, four pixels per invocation packed into one u32 word.
// CPU twin: src/backend/cpu/classify.rs. Codes and rules: src/classify.rs.

@group(0) @binding(2) var<storage, read_write> class_out: array<u32>;

const CLASS_NODATA: u32 = 255u;

// Slots: 0 blue, 1 green, 2 red, 3 nir, 4 swir1.
fn classify_pixel(i: u32) -> u32 {
    var v: array<f32, 5>;
    for (var s = 0u; s < 5u; s++) {
        v[s] = load(s, i);
        if !is_valid(s, v[s]) {
            return CLASS_NODATA;
        }
    }
    let b = v[0];
    let g = v[1];
    let r = v[2];
    let n = v[3];
    let s1 = v[4];
    let k = params.consts;
    let shift2 = k[5];
    let water = ratio_above(g - n, (g + n) + shift2, k[0])
        && ratio_above(g - s1, (g + s1) + shift2, k[1]);
    let soil = s1 + r;
    let leaf = n + b;
    if water {
        return 1u;
    }
    if ratio_above(n - r, (n + r) + shift2, k[2]) {
        return 2u;
    }
    if ratio_above(soil - leaf, (soil + leaf) + k[6], k[3]) {
        return 3u;
    }
    if ratio_above(s1 - n, (s1 + n) + shift2, k[4]) {
        return 4u;
    }
    return 5u;
}

@compute @workgroup_size(256)
fn classify_main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let word = invocation_index(wid, groups, lid);
    let first = word * 4u;
    var n_valid = 0u;
    if first < params.count {
        var packed = 0u;
        for (var k = 0u; k < 4u; k++) {
            let i = first + k;
            if i < params.count {
                let code = classify_pixel(i);
                packed |= code << (8u * k);
                n_valid += select(1u, 0u, code == CLASS_NODATA);
            }
        }
        class_out[word] = packed;
    }
    count_valid(n_valid, lid);
}
