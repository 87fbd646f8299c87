// Bi-temporal change, fused: one pass reads both dates' bands once and writes, per pixel, the
// class before, the class after and the change code, packed as bytes 0, 1 and 2 of a word.
// Prefixed by classify_rules.wgsl. CPU twin: src/backend/cpu/change.rs; codes: src/change.rs.
// Slots 0..5 are the first date, 5..10 the second; consts[5..7] and [7..9] their shifts.

@group(0) @binding(2) var<storage, read_write> change_out: array<u32>;

// The combined rule set: from→to classes to an enforcement change code.
fn change_code(before: u32, after: u32) -> u32 {
    if before == CLASS_NODATA || after == CLASS_NODATA {
        return 255u;
    }
    if before == after {
        return 0u;
    }
    let from_green_or_bare = before == 2u || before == 3u;
    if before == 2u && after == 3u {
        return 1u;
    }
    if before == 2u && after == 4u {
        return 2u;
    }
    if before == 3u && after == 4u {
        return 3u;
    }
    if from_green_or_bare && after == 1u {
        return 4u;
    }
    return 5u;
}

@compute @workgroup_size(256)
fn change_main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = invocation_index(wid, groups, lid);
    var n_valid = 0u;
    if i < params.count {
        let k = params.consts;
        var before = classify_at(0u, i, k[5], k[6]);
        var after = classify_at(5u, i, k[7], k[8]);
        let code = change_code(before, after);
        if code == 255u {
            // Nodata in either date is nodata in all three outputs: it counts nowhere.
            before = CLASS_NODATA;
            after = CLASS_NODATA;
        }
        change_out[i] = before | (after << 8u) | (code << 16u);
        n_valid = select(1u, 0u, code == 255u);
    }
    count_valid(n_valid, lid);
}
