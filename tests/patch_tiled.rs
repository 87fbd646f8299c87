//! Tiled patches equal the whole-raster run exactly: ids, attributes and polygons.

mod patch_support;

use landwatch::Raster;
use landwatch::io::{Window, write_geotiff};
use landwatch::patch::tiled::GeoTiffCodes;
use landwatch::patch::{
    CodeSource, Connectivity, PatchLayers, TilingOptions, attributes, label, patches_tiled,
    polygonize, sieve,
};
use patch_support::*;

/// Compares with and without a minimum area (`min_pixels` pixels' worth of m²), against
/// labelling and sieving the whole raster.
fn compare(source: &dyn CodeSource, codes: &Raster<u8>, tile: (usize, usize), what: &str) {
    let pixel =
        codes.georef.unwrap().transform.0[1].abs() * codes.georef.unwrap().transform.0[5].abs();
    for (connectivity, min_pixels) in [
        (Connectivity::Four, 0.0),
        (Connectivity::Eight, 0.0),
        (Connectivity::Eight, 4.0),
    ] {
        let min_area_m2 = min_pixels * pixel;
        let sieved = sieve(codes, &label(codes, connectivity).unwrap(), min_area_m2).unwrap();
        let (whole, codes) = (&sieved.labels, &sieved.codes);
        let opts = TilingOptions::new(tile.0, tile.1)
            .with_connectivity(connectivity)
            .with_min_area_m2(min_area_m2);
        let mut ids = vec![0u32; codes.width * codes.height];
        let mut tiles = 0;
        let tiled = patches_tiled(source, &opts, |w: Window, t: &[u32]| {
            tiles += 1;
            for r in 0..w.height {
                let dst = (w.row + r) * codes.width + w.col;
                ids[dst..dst + w.width].copy_from_slice(&t[r * w.width..(r + 1) * w.width]);
            }
            Ok(())
        })
        .unwrap();
        assert!(tiles >= 16, "{what}: only {tiles} tiles");
        assert_eq!(tiled.count, whole.count, "{what} {connectivity:?}: count");
        assert_eq!(tiled.removed, sieved.removed, "{what}: removed");
        if min_pixels > 0.0 && !what.starts_with("snake") {
            assert!(sieved.removed > 0, "{what}: the sieve removes something");
        }
        assert!(ids == whole.ids, "{what} {connectivity:?}: ids differ");
        let attrs = attributes(whole, &PatchLayers::codes(codes)).unwrap();
        assert_eq!(
            tiled.attributes, attrs,
            "{what} {connectivity:?}: attributes"
        );
        assert_eq!(
            tiled.polygons,
            polygonize(whole).unwrap(),
            "{what} {connectivity:?}: polygons"
        );
    }
}

#[test]
fn tiled_equals_untiled() {
    let mut rng = Rng(11);
    let (w, h) = (97, 83);
    // Patches crossing tile corners: plus signs and diagonals centred on tile corners.
    let mut c = blobby_codes(&mut rng, w, h, 120);
    for &(x, y) in &[(20usize, 20usize), (40, 40), (60, 20), (80, 60)] {
        for d in 0..6 {
            c[y * w + x - 3 + d] = 1;
            c[(y - 3 + d) * w + x] = 1;
            c[(y - 3 + d) * w + x - 3 + d] = 2;
        }
        // Two pixels meeting only diagonally across the corner.
        c[(y - 1) * w + x - 1] = 2;
        c[y * w + x] = 2;
    }
    let codes = raster(w, h, c, utm30());
    compare(&codes, &codes, (20, 20), "blobs 20×20 tiles");
    compare(&codes, &codes, (7, 13), "blobs 7×13 tiles");
    compare(&codes, &codes, (1, 5), "one-pixel-wide tiles");
    let s = raster(33, 65, snake(33, 65), utm30());
    compare(&s, &s, (8, 8), "snake");
    let r = raster(120, 90, random_codes(&mut rng, 120, 90, 0.6, 2), utm30());
    compare(&r, &r, (16, 16), "random");
}

#[test]
fn tiled_from_a_geotiff() {
    let change = real_change();
    let path = std::env::temp_dir().join(format!("landwatch_tiled_{}.tif", std::process::id()));
    write_geotiff(&path, &change).unwrap();
    let source = GeoTiffCodes::open(&path).unwrap();
    compare(&source, &change, (64, 64), "Taizhou GeoTIFF");
    std::fs::remove_file(&path).ok();
}
