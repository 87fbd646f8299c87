// Land-cover classification, one code per pixel. Prefixed by classify_rules.wgsl, followed by
// packed_u8_main.wgsl. CPU twin: src/backend/cpu/classify.rs.

fn pixel_code(i: u32) -> u32 {
    return classify_at(0u, i, params.n_slots, params.consts[SHIFT2], params.consts[SHIFT4]);
}
