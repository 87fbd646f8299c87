// Change codes from classes and the change measure: the rules shared by pass 2 and the fused
// pass. CPU twins: transition and decide in src/backend/cpu/change.rs; codes and methods:
// src/change.rs.

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

// The change code of a pass-1 word (255 when nodata) for a threshold and a method (0 combined,
// 1 the measure alone, 2 post-classification).
fn decide(word: u32, threshold: u32, method: i32) -> u32 {
    let before = word & 0xfu;
    let after = (word >> 4u) & 0xfu;
    if before == 15u || after == 15u {
        return 255u;
    }
    let magnitude = word >> 16u;
    let typed = transition_code(before, after);
    switch method {
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
