// Binary opening and closing of change codes, in two passes each; the CPU twin is
// src/patch/morphology.rs, which documents the semantics. Prefixed by label_grid.wgsl.
//
// The `morphology` slots: ELEMENT_RADIUS, ELEMENT_CROSS (1 for a cross (plus), 0 for a
// square) and WHOLE_MASK (1 when the whole change mask is one class). Slot 1 holds the class
// table: word c (0..256) is the class of code c (0 = not in the mask), words 256..288 the
// code of each class bit of a closing round.
//
// Pixels outside the raster are background for both erosion and dilation.

@group(0) @binding(2) var<storage, read_write> inter: array<u32>;
@group(0) @binding(4) var<storage, read_write> codes_out: array<u32>;

fn morph_radius() -> i32 {
    return params.iconsts[ELEMENT_RADIUS];
}

// True when offset (dx, dy) belongs to the structuring element.
fn in_element(dx: i32, dy: i32) -> bool {
    return params.iconsts[ELEMENT_CROSS] == 0 || dx == 0 || dy == 0;
}

fn class_of(code: u32) -> u32 {
    return samples[params.slot_offset[1] + code];
}

fn code_of_bit(bit: u32) -> u32 {
    return samples[params.slot_offset[1] + 256u + bit];
}

// Opening, pass 1 (one pixel per invocation): the pixel's class where every pixel under the
// element centred on it is inside the raster and of the same class, else 0.
@compute @workgroup_size(256)
fn morph_erode_classes(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = invocation_index(wid, groups, lid);
    if i >= params.count {
        return;
    }
    let w = grid_width();
    let x = i32(i % u32(w));
    let y = i32(i / u32(w));
    let r = morph_radius();
    let c = class_of(code_at(i));
    var keep = c != 0u;
    for (var dy = -r; dy <= r && keep; dy++) {
        for (var dx = -r; dx <= r; dx++) {
            if in_element(dx, dy) && (!inside(x + dx, y + dy) || class_of(code_xy(x + dx, y + dy)) != c) {
                keep = false;
                break;
            }
        }
    }
    inter[i] = select(0u, c, keep);
}

// Closing, pass 1 (one pixel per invocation): the set of class bits under the element
// centred on the pixel (class k sets bit k - 1).
@compute @workgroup_size(256)
fn morph_dilate_sets(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = invocation_index(wid, groups, lid);
    if i >= params.count {
        return;
    }
    let w = grid_width();
    let x = i32(i % u32(w));
    let y = i32(i / u32(w));
    let r = morph_radius();
    var bits = 0u;
    for (var dy = -r; dy <= r; dy++) {
        for (var dx = -r; dx <= r; dx++) {
            if in_element(dx, dy) && inside(x + dx, y + dy) {
                let k = class_of(code_xy(x + dx, y + dy));
                if k != 0u {
                    bits |= 1u << (k - 1u);
                }
            }
        }
    }
    inter[i] = bits;
}

// Opening, pass 2: a pixel keeps its code when the element centred on it covers an eroded
// pixel of its class; other pixels become 0, nodata stays nodata.
fn open_code(i: u32) -> u32 {
    let code = code_at(i);
    let c = class_of(code);
    if c == 0u {
        return select(0u, PATCH_NODATA, code == PATCH_NODATA);
    }
    let w = grid_width();
    let x = i32(i % u32(w));
    let y = i32(i / u32(w));
    let r = morph_radius();
    for (var dy = -r; dy <= r; dy++) {
        for (var dx = -r; dx <= r; dx++) {
            if in_element(dx, dy) && inside(x + dx, y + dy) && inter[u32((y + dy) * w + x + dx)] == c {
                return code;
            }
        }
    }
    return 0u;
}

// Closing, pass 2 of one round: nonzero codes stay; a 0 pixel filled by an earlier round
// stays filled; else the pixel is filled when every pixel under the element centred on it is
// inside the raster and its dilated set shares a class with all the others: with the code of
// the lowest such class (per type), or the lowest patch code under the element (whole mask).
fn close_code(i: u32, previous: u32) -> u32 {
    let code = code_at(i);
    if code != 0u {
        return code;
    }
    if previous != 0u {
        return previous;
    }
    let w = grid_width();
    let x = i32(i % u32(w));
    let y = i32(i / u32(w));
    let r = morph_radius();
    var bits = 0xffffffffu;
    for (var dy = -r; dy <= r && bits != 0u; dy++) {
        for (var dx = -r; dx <= r; dx++) {
            if in_element(dx, dy) {
                if inside(x + dx, y + dy) {
                    bits &= inter[u32((y + dy) * w + x + dx)];
                } else {
                    bits = 0u;
                }
            }
        }
    }
    if bits == 0u {
        return 0u;
    }
    if params.iconsts[WHOLE_MASK] == 0 {
        return code_of_bit(firstTrailingBit(bits));
    }
    var lowest = 256u;
    for (var dy = -r; dy <= r; dy++) {
        for (var dx = -r; dx <= r; dx++) {
            if in_element(dx, dy) && inside(x + dx, y + dy) {
                let c = code_xy(x + dx, y + dy);
                if is_patch_code(c) {
                    lowest = min(lowest, c);
                }
            }
        }
    }
    return select(0u, lowest, lowest < 256u);
}

// Pass 2 entry points: one output word (four pixels) per invocation.
fn morph_final(word: u32, closing: bool) {
    let first = word * 4u;
    if first >= params.count {
        return;
    }
    let previous = codes_out[word];
    var packed = 0u;
    for (var k = 0u; k < 4u; k++) {
        let i = first + k;
        if i < params.count {
            var code = 0u;
            if closing {
                code = close_code(i, (previous >> (8u * k)) & 0xffu);
            } else {
                code = open_code(i);
            }
            packed |= code << (8u * k);
        }
    }
    codes_out[word] = packed;
}

@compute @workgroup_size(256)
fn morph_open_final(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    morph_final(invocation_index(wid, groups, lid), false);
}

@compute @workgroup_size(256)
fn morph_close_final(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    morph_final(invocation_index(wid, groups, lid), true);
}
