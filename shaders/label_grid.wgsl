// Grid helpers shared by the patch kernels (morphology.wgsl and label.wgsl). The change codes
// are slot 0 of the packed input (u8, four to a word); params.iconsts[RASTER_WIDTH] and
// [RASTER_HEIGHT] hold the raster's width and height, params.count its pixel count.

const PATCH_NODATA: u32 = 255u;

fn grid_width() -> i32 {
    return params.iconsts[RASTER_WIDTH];
}

fn grid_height() -> i32 {
    return params.iconsts[RASTER_HEIGHT];
}

// The change code of pixel i (slot 0 is u8 at word offset 0).
fn code_at(i: u32) -> u32 {
    return (samples[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

// The change code at (x, y), which must lie inside the raster.
fn code_xy(x: i32, y: i32) -> u32 {
    return code_at(u32(y * grid_width() + x));
}

fn inside(x: i32, y: i32) -> bool {
    return x >= 0 && y >= 0 && x < grid_width() && y < grid_height();
}

// Codes 0 (unchanged) and 255 (nodata) belong to no patch.
fn is_patch_code(c: u32) -> bool {
    return c != 0u && c != PATCH_NODATA;
}
