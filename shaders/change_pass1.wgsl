// Bi-temporal change, pass 1: the packed word of change.wgsl for every pixel, for the
// histogram and pass 2 when the threshold comes from the data. Followed by per_pixel_main.wgsl.
// CPU twin: pass_one in src/backend/cpu/change.rs.

fn pixel_word(i: u32) -> vec2<u32> {
    return change_word(i);
}
