// Change codes from classes and the change measure: the rules shared by pass 2 and the fused
// pass. CPU twins: transition and decide in src/backend/cpu/change.rs; codes and methods:
// src/change/mod.rs.

// The change type of a changed pixel from its classes (1 water, 2 vegetation, 3 bare soil,
// 4 built-up, 5 other): what the land became decides, and for built-up land what it was.
fn change_type(before: u32, after: u32) -> u32 {
    if after == 1u {
        return select(4u, 5u, before == 1u);
    }
    if after == 3u {
        return 1u;
    }
    if after == 4u {
        return select(2u, 3u, before == 3u || before == 4u);
    }
    // Vegetation become "other" (sparse or mixed cover): cleared or thinned.
    return select(5u, 1u, before == 2u && after == 5u);
}

// The transition code of post-classification: unchanged when the classes are equal, else the
// change type.
fn transition_code(before: u32, after: u32) -> u32 {
    if before == after {
        return 0u;
    }
    return change_type(before, after);
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
            // Combined: the magnitude decides, the classes type.
            if magnitude <= threshold {
                return 0u;
            }
            return change_type(before, after);
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
