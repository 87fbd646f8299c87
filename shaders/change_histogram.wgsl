// Histogram of the change magnitudes of pass 1 (one bin per integer magnitude), skipping
// nodata. CPU twin: magnitude_histogram in src/backend/cpu/change.rs.
// Slot 0: the packed words of pass 1.

@group(0) @binding(2) var<storage, read_write> histogram: array<atomic<u32>, 65536>;

@compute @workgroup_size(256)
fn change_histogram_main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = invocation_index(wid, groups, lid);
    var n_valid = 0u;
    if i < params.count {
        let word = load_word(0u, i);
        if (word & 0xfu) != 15u {
            atomicAdd(&histogram[word >> 16u], 1u);
            n_valid = 1u;
        }
    }
    count_valid(n_valid, lid);
}
