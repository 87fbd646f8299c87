// Bi-temporal change, pass 2: change codes from pass 1's words, one code per pixel. Prefixed by
// change_rules.wgsl, followed by packed_u8_main.wgsl. CPU twin: change_codes in
// src/backend/cpu/change.rs.
// Slot 0: the packed words of pass 1. The threshold and method: the `change_codes` slots.

fn pixel_code(i: u32) -> u32 {
    return decide(load_word(0u, i), u32(params.iconsts[CODES_THRESHOLD]), params.iconsts[CODES_METHOD]);
}
