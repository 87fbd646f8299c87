// Bi-temporal change, pass 2: change codes from pass 1's classes and magnitudes, one code per
// pixel; followed by packed_u8_main.wgsl. CPU twin: change_codes_chunk in
// src/backend/cpu/change.rs; codes and methods: src/change.rs.
// Slot 0: the packed words of pass 1. iconsts: [0] magnitude threshold, [1] method
// (0 combined, 1 change vector, 2 post-classification).

// The combined rule set: from→to classes to an enforcement change code.
fn transition_code(before: u32, after: u32) -> u32 {
    if before == after {
        return 0u;
    }
    if before == 2u && after == 3u {
        return 1u;
    }
    if before == 2u && after == 4u {
        return 2u;
    }
    if before == 3u && after == 4u {
        return 3u;
    }
    if (before == 2u || before == 3u) && after == 1u {
        return 4u;
    }
    return 5u;
}

fn change_code(word: u32) -> u32 {
    let before = word & 0xfu;
    let after = (word >> 4u) & 0xfu;
    if before == 15u || after == 15u {
        return 255u;
    }
    let magnitude = word >> 16u;
    let threshold = u32(params.iconsts[0]);
    let typed = transition_code(before, after);
    switch params.iconsts[1] {
        case 0: {
            // Combined: the magnitude decides, the class transition types.
            if magnitude <= threshold {
                return 0u;
            }
            return select(typed, 5u, typed == 0u);
        }
        case 1: {
            // Change vector alone: changed or not, untyped.
            return select(0u, 5u, magnitude > threshold);
        }
        default: {
            // Post-classification: the class transition decides and types.
            return typed;
        }
    }
}

fn pixel_code(i: u32) -> u32 {
    return change_code(load_word(0u, i));
}
