// Bi-temporal change in one pass, for a threshold known beforehand: pass 1's arithmetic and
// pass 2's decision per pixel, so that nothing but the result leaves the device. One word per
// pixel: byte 0 the class before, byte 1 the class after (255 = nodata), byte 2 the change code.
// Prefixed by classify_rules.wgsl, change.wgsl and change_rules.wgsl; followed by
// per_pixel_main.wgsl. CPU twin: fused in src/backend/cpu/change.rs.
// params.op: the method; consts[CHANGE_THRESHOLD]: the threshold (an integer, exact in f32).

fn class_byte(nibble: u32) -> u32 {
    return select(nibble, 255u, nibble == 15u);
}

fn pixel_word(i: u32) -> vec2<u32> {
    let w = change_word(i);
    let code = decide(w.x, u32(params.consts[CHANGE_THRESHOLD]), i32(params.op));
    let classes = class_byte(w.x & 0xfu) | (class_byte((w.x >> 4u) & 0xfu) << 8u);
    return vec2(classes | (code << 16u), w.y);
}
