// The entry point of kernels that write one 32-bit word per pixel. The kernel before it
// defines `fn pixel_word(i: u32) -> vec2<u32>`: the word, and 1 when the pixel is valid.

@group(0) @binding(2) var<storage, read_write> words_out: array<u32>;

@compute @workgroup_size(256)
fn per_pixel_main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = invocation_index(wid, groups, lid);
    var n_valid = 0u;
    if i < params.count {
        let result = pixel_word(i);
        words_out[i] = result.x;
        n_valid = result.y;
    }
    count_valid(n_valid, lid);
}
