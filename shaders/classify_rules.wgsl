// Land-cover rules shared by the classification and change kernels.
// CPU twin: class_code in src/backend/cpu/classify.rs. Codes and rules: src/classify.rs.
// Thresholds are params.consts[0..5]: NDWI, MNDWI, NDVI, BSI, NDBI.

const CLASS_NODATA: u32 = 255u;

// Classifies pixel i from five slots starting at `first` (blue, green, red, nir, swir1),
// with the date's radiometric shifts of two- and four-band sums.
fn classify_at(first: u32, i: u32, shift2: f32, shift4: f32) -> u32 {
    var v: array<f32, 5>;
    for (var s = 0u; s < 5u; s++) {
        v[s] = load(first + s, i);
        if !is_valid(first + s, v[s]) {
            return CLASS_NODATA;
        }
    }
    let b = v[0];
    let g = v[1];
    let r = v[2];
    let n = v[3];
    let s1 = v[4];
    let k = params.consts;
    let water = ratio_above(g - n, (g + n) + shift2, k[0])
        && ratio_above(g - s1, (g + s1) + shift2, k[1]);
    let soil = s1 + r;
    let leaf = n + b;
    if water {
        return 1u;
    }
    if ratio_above(n - r, (n + r) + shift2, k[2]) {
        return 2u;
    }
    if ratio_above(soil - leaf, (soil + leaf) + shift4, k[3]) {
        return 3u;
    }
    if ratio_above(s1 - n, (s1 + n) + shift2, k[4]) {
        return 4u;
    }
    return 5u;
}

