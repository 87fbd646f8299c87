// Bi-temporal change, pass 2: change codes from pass 1's classes and magnitudes, four pixels
// per invocation packed into one word. CPU twin: change_codes_chunk in
// src/backend/cpu/change.rs; codes and methods: src/change.rs.
// Slot 0: the packed words of pass 1. iconsts: [0] magnitude threshold, [1] method
// (0 combined, 1 change vector, 2 post-classification).

@group(0) @binding(2) var<storage, read_write> codes_out: array<u32>;

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

@compute @workgroup_size(256)
fn change_codes_main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let word_index = invocation_index(wid, groups, lid);
    let first = word_index * 4u;
    var n_valid = 0u;
    if first < params.count {
        var packed = 0u;
        for (var k = 0u; k < 4u; k++) {
            let i = first + k;
            if i < params.count {
                let code = change_code(load_word(0u, i));
                packed |= code << (8u * k);
                n_valid += select(1u, 0u, code == 255u);
            }
        }
        codes_out[word_index] = packed;
    }
    count_valid(n_valid, lid);
}
