// Land-cover rules shared by the classification and change kernels.
// CPU twins: class_code and vnir_class_code in src/backend/cpu/classify.rs. Codes and rules:
// src/classify.rs.
// Thresholds: the `classify` slots of src/pixel/slots.rs (NDWI, MNDWI, NDVI, BSI, NDBI, the
// redness of bare soil and the NDVI below which four-band pixels are bare soil or built-up).

const CLASS_NODATA: u32 = 255u;

// The class of blue, green, red, NIR and SWIR1 values, with the date's radiometric shifts of
// two- and four-band sums (0 for values in reflectance units).
fn class_of(b: f32, g: f32, r: f32, n: f32, s1: f32, shift2: f32, shift4: f32) -> u32 {
    let k = params.consts;
    let water = ratio_above(g - n, (g + n) + shift2, k[NDWI])
        && ratio_above(g - s1, (g + s1) + shift2, k[MNDWI]);
    let soil = s1 + r;
    let leaf = n + b;
    if water {
        return 1u;
    }
    if ratio_above(n - r, (n + r) + shift2, k[NDVI]) {
        return 2u;
    }
    if ratio_above(soil - leaf, (soil + leaf) + shift4, k[BSI]) {
        return 3u;
    }
    if ratio_above(s1 - n, (s1 + n) + shift2, k[NDBI]) {
        return 4u;
    }
    return 5u;
}

// The class of blue, green, red and NIR values alone (GF-1, GF-2, ZY-3): water by NDWI,
// vegetation by NDVI, and below the bare-or-built NDVI, bare soil when red exceeds blue by the
// redness threshold, else built-up; anything else (sparse or mixed cover) is "other".
fn vnir_class_of(b: f32, g: f32, r: f32, n: f32, shift2: f32) -> u32 {
    let k = params.consts;
    if ratio_above(g - n, (g + n) + shift2, k[NDWI]) {
        return 1u;
    }
    if ratio_above(n - r, (n + r) + shift2, k[NDVI]) {
        return 2u;
    }
    if ratio_above(n - r, (n + r) + shift2, k[BARE_NDVI]) {
        return 5u;
    }
    if ratio_above(r - b, (r + b) + shift2, k[REDNESS]) {
        return 3u;
    }
    return 4u;
}

// Classifies pixel i from the slots starting at `first` (blue, green, red, nir and, when
// `bands` is 5 or more, swir1), with the date's radiometric shifts.
fn classify_at(first: u32, i: u32, bands: u32, shift2: f32, shift4: f32) -> u32 {
    var v: array<f32, 5>;
    let used = min(bands, 5u);
    for (var s = 0u; s < used; s++) {
        v[s] = load(first + s, i);
        if !is_valid(first + s, v[s]) {
            return CLASS_NODATA;
        }
    }
    if used < 5u {
        return vnir_class_of(v[0], v[1], v[2], v[3], shift2);
    }
    return class_of(v[0], v[1], v[2], v[3], v[4], shift2, shift4);
}
