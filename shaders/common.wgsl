// Shared by every per-pixel kernel: the job parameters, the packed input, the sample loader,
// validity, the 2-D dispatch index and the valid-pixel counter.
// The Rust twin of PixelParams is src/pixel/mod.rs; the layout test in
// src/backend/gpu/kernels.rs keeps the two identical. Slot names (params.consts[NDWI]) are
// declared in front of this file by the kernel registry, from src/pixel/slots.rs.

const WORKGROUP: u32 = 256u;
const INDEX_NODATA: f32 = -9999.0;

struct PixelParams {
    count: u32,
    op: u32,
    n_slots: u32,
    pad: u32,
    slot_offset: array<u32, 16>,
    slot_dtype: array<u32, 16>,
    slot_has_nodata: array<u32, 16>,
    slot_nodata: array<f32, 16>,
    consts: array<f32, 16>,
    iconsts: array<i32, 16>,
}

@group(0) @binding(0) var<storage, read> params: PixelParams;
// Every slot's samples, packed in their stored type: u8 four to a word, u16/i16 two to a word.
@group(0) @binding(1) var<storage, read> samples: array<u32>;
@group(0) @binding(3) var<storage, read_write> valid_total: atomic<u32>;

var<workgroup> valid_in_group: atomic<u32>;

// Linear invocation index of a 2-D dispatch (the grid is chunked to fit the per-dimension limit).
fn invocation_index(wid: vec3<u32>, groups: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * groups.x + wid.x) * WORKGROUP + lid;
}

// Sample i of a slot as f32: exact for u8, u16 and i16; u32 as two exact halves and one
// correctly rounded add, like the CPU twin.
fn load(slot: u32, i: u32) -> f32 {
    let base = params.slot_offset[slot];
    switch params.slot_dtype[slot] {
        case 0u: {
            let w = samples[base + (i >> 2u)];
            return f32((w >> ((i & 3u) * 8u)) & 0xffu);
        }
        case 1u: {
            let w = samples[base + (i >> 1u)];
            return f32((w >> ((i & 1u) * 16u)) & 0xffffu);
        }
        case 2u: {
            let w = samples[base + (i >> 1u)];
            return f32(bitcast<i32>(w << ((1u - (i & 1u)) * 16u)) >> 16u);
        }
        case 4u: {
            let w = samples[base + i];
            return f32(w >> 16u) * 65536.0 + f32(w & 0xffffu);
        }
        default: {
            return bitcast<f32>(samples[base + i]);
        }
    }
}

// Word i of a slot, raw (for kernels that read packed results of an earlier pass).
fn load_word(slot: u32, i: u32) -> u32 {
    return samples[params.slot_offset[slot] + i];
}

// Finite test on the bits, so that no compiler assumption about NaN can remove it.
fn is_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn is_valid(slot: u32, x: f32) -> bool {
    let is_nodata = params.slot_has_nodata[slot] != 0u && x == params.slot_nodata[slot];
    return is_finite(x) && !is_nodata;
}

// num / den > t, decided without dividing; false when den <= 0. Identical to the CPU twin.
fn ratio_above(num: f32, den: f32, t: f32) -> bool {
    return den > 0.0 && num > t * den;
}

// Adds this invocation's valid pixels to the job total; call from uniform control flow.
fn count_valid(n: u32, lid: u32) {
    if n > 0u {
        atomicAdd(&valid_in_group, n);
    }
    workgroupBarrier();
    if lid == 0u {
        let group_total = atomicLoad(&valid_in_group);
        if group_total > 0u {
            atomicAdd(&valid_total, group_total);
        }
    }
}
