// Connected-component labelling by union-find (Playne and Hawick, 2018), in six dispatches
// whatever the patches' shapes; the CPU twin is `label` in src/patch/label.rs and
// the host code src/backend/gpu/label.rs. Prefixed by label_grid.wgsl.
//
// labels[i] is a parent pointer: a pixel index no larger than i within the same patch (a root
// points to itself), or BACKGROUND. Unions always hang the larger root under the smaller, so a
// patch's root is its smallest index: its first pixel in raster order. Canonical ids number
// the roots 1..n in raster order: per-block root counts, one scan of the block counts, a scan
// inside each block, then every pixel takes its root's id.
//
// The `label` slots: CONNECTIVITY (4 or 8) and LABEL_BLOCKS, the number of blocks. Every pass but the scan
// handles one block of 1,024 pixels per workgroup, four consecutive pixels per invocation.

const BACKGROUND: u32 = 0xffffffffu;
const PIXELS_PER_INVOCATION: u32 = 4u;

@group(0) @binding(2) var<storage, read_write> labels: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> ids_out: array<u32>;
// Root count of each block, then (after the scan) the ids before it; word n_blocks: the total.
@group(0) @binding(5) var<storage, read_write> blocks: array<u32>;

var<workgroup> scan_buf: array<u32, 256>;

// Exclusive prefix sum of v over the workgroup, and the workgroup total. Call from uniform
// control flow.
fn workgroup_scan(lid: u32, v: u32) -> vec2<u32> {
    scan_buf[lid] = v;
    workgroupBarrier();
    for (var dist = 1u; dist < WORKGROUP; dist <<= 1u) {
        var add = 0u;
        if lid >= dist {
            add = scan_buf[lid - dist];
        }
        workgroupBarrier();
        scan_buf[lid] += add;
        workgroupBarrier();
    }
    let inclusive = scan_buf[lid];
    let total = scan_buf[WORKGROUP - 1u];
    workgroupBarrier();
    return vec2<u32>(inclusive - v, total);
}

// The neighbours visited before pixel (x, y) in raster order: left, then up-left, up and
// up-right (the diagonal ones only with 8-connectivity). Returns the neighbour's index, or
// BACKGROUND when it is outside or does not hold `code`.
fn earlier_neighbour(x: i32, y: i32, n: u32, code: u32) -> u32 {
    var dx = -1;
    var dy = 0;
    let eight = params.iconsts[CONNECTIVITY] == 8;
    switch n {
        case 0u: { dx = -1; dy = 0; }
        case 1u: { dx = 0; dy = -1; }
        case 2u: { if !eight { return BACKGROUND; } dx = -1; dy = -1; }
        default: { if !eight { return BACKGROUND; } dx = 1; dy = -1; }
    }
    if !inside(x + dx, y + dy) || code_xy(x + dx, y + dy) != code {
        return BACKGROUND;
    }
    return u32((y + dy) * grid_width() + x + dx);
}

fn find_root(start: u32) -> u32 {
    var x = start;
    var parent = atomicLoad(&labels[x]);
    while parent != x {
        x = parent;
        parent = atomicLoad(&labels[x]);
    }
    return x;
}

// Joins the trees of a and b, hanging the larger root under the smaller with atomicMin; a
// lost race leaves the displaced parent to be joined in the next round of the loop.
fn unite(a0: u32, b0: u32) {
    var a = a0;
    var b = b0;
    loop {
        a = find_root(a);
        b = find_root(b);
        if a == b {
            return;
        }
        if a < b {
            let t = a;
            a = b;
            b = t;
        }
        let old = atomicMin(&labels[a], b);
        if old == a {
            return;
        }
        a = old;
    }
}

fn first_pixel(wid: vec3<u32>, groups: vec3<u32>, lid: u32) -> u32 {
    return invocation_index(wid, groups, lid) * PIXELS_PER_INVOCATION;
}

fn block_index(wid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wid.y * groups.x + wid.x;
}

// Pass 1: each patch pixel points to its smallest earlier neighbour of the same code, or to
// itself; background pixels hold BACKGROUND.
@compute @workgroup_size(256)
fn label_init(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = first_pixel(wid, groups, lid);
    let w = u32(grid_width());
    for (var k = 0u; k < PIXELS_PER_INVOCATION; k++) {
        let i = first + k;
        if i < params.count {
            let code = code_at(i);
            var parent = BACKGROUND;
            if is_patch_code(code) {
                parent = i;
                for (var n = 0u; n < 4u; n++) {
                    parent = min(parent, earlier_neighbour(i32(i % w), i32(i / w), n, code));
                }
            }
            atomicStore(&labels[i], parent);
        }
    }
}

// Pass 2: every patch pixel unites with its earlier neighbours of the same code.
@compute @workgroup_size(256)
fn label_merge(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = first_pixel(wid, groups, lid);
    let w = u32(grid_width());
    for (var k = 0u; k < PIXELS_PER_INVOCATION; k++) {
        let i = first + k;
        if i < params.count {
            let code = code_at(i);
            if is_patch_code(code) {
                for (var n = 0u; n < 4u; n++) {
                    let j = earlier_neighbour(i32(i % w), i32(i / w), n, code);
                    if j != BACKGROUND {
                        unite(i, j);
                    }
                }
            }
        }
    }
}

// Pass 3: every patch pixel points straight at its root; each block counts its roots.
@compute @workgroup_size(256)
fn label_compress(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = first_pixel(wid, groups, lid);
    var roots = 0u;
    for (var k = 0u; k < PIXELS_PER_INVOCATION; k++) {
        let i = first + k;
        if i < params.count && atomicLoad(&labels[i]) != BACKGROUND {
            let root = find_root(i);
            atomicStore(&labels[i], root);
            roots += select(0u, 1u, root == i);
        }
    }
    let sums = workgroup_scan(lid, roots);
    let block = block_index(wid, groups);
    if lid == 0u && block < u32(params.iconsts[LABEL_BLOCKS]) {
        blocks[block] = sums.y;
    }
}

// Pass 4 (one workgroup): the block counts become the number of roots before each block;
// the total goes after them.
@compute @workgroup_size(256)
fn label_scan(@builtin(local_invocation_index) lid: u32) {
    let n_blocks = u32(params.iconsts[LABEL_BLOCKS]);
    let per_thread = (n_blocks + WORKGROUP - 1u) / WORKGROUP;
    let start = lid * per_thread;
    var sum = 0u;
    for (var k = 0u; k < per_thread; k++) {
        if start + k < n_blocks {
            sum += blocks[start + k];
        }
    }
    let sums = workgroup_scan(lid, sum);
    var running = sums.x;
    for (var k = 0u; k < per_thread; k++) {
        if start + k < n_blocks {
            let c = blocks[start + k];
            blocks[start + k] = running;
            running += c;
        }
    }
    if lid == 0u {
        blocks[n_blocks] = sums.y;
    }
}

// Pass 5: each root takes its canonical id, 1 + the number of roots before it.
@compute @workgroup_size(256)
fn label_assign(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = first_pixel(wid, groups, lid);
    var roots = 0u;
    for (var k = 0u; k < PIXELS_PER_INVOCATION; k++) {
        let i = first + k;
        if i < params.count && atomicLoad(&labels[i]) == i {
            roots += 1u;
        }
    }
    let sums = workgroup_scan(lid, roots);
    let block = block_index(wid, groups);
    if block >= u32(params.iconsts[LABEL_BLOCKS]) {
        return;
    }
    var id = blocks[block] + sums.x;
    for (var k = 0u; k < PIXELS_PER_INVOCATION; k++) {
        let i = first + k;
        if i < params.count && atomicLoad(&labels[i]) == i {
            id += 1u;
            ids_out[i] = id;
        }
    }
}

// Pass 6: every other pixel takes its root's id; background is 0.
@compute @workgroup_size(256)
fn label_relabel(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = first_pixel(wid, groups, lid);
    for (var k = 0u; k < PIXELS_PER_INVOCATION; k++) {
        let i = first + k;
        if i < params.count {
            let root = atomicLoad(&labels[i]);
            if root == BACKGROUND {
                ids_out[i] = 0u;
            } else if root != i {
                ids_out[i] = ids_out[root];
            }
        }
    }
}
