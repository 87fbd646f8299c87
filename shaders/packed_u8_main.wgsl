// The entry point of kernels that write one u8 code per pixel, four to a word. The kernel
// before it defines `fn pixel_code(i: u32) -> u32`; code 255 is nodata.

@group(0) @binding(2) var<storage, read_write> codes_out: array<u32>;

@compute @workgroup_size(256)
fn packed_u8_main(
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
                let code = pixel_code(i);
                packed |= code << (8u * k);
                n_valid += select(1u, 0u, code == 255u);
            }
        }
        codes_out[word] = packed;
    }
    count_valid(n_valid, lid);
}
