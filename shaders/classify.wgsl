// Land-cover classification, four pixels per invocation packed into one u32 word.
// Prefixed by classify_rules.wgsl. CPU twin: src/backend/cpu/classify.rs.

@group(0) @binding(2) var<storage, read_write> class_out: array<u32>;

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
                let code = classify_at(0u, i, params.consts[5], params.consts[6]);
                packed |= code << (8u * k);
                n_valid += select(1u, 0u, code == CLASS_NODATA);
            }
        }
        class_out[word] = packed;
    }
    count_valid(n_valid, lid);
}
