//! Fuzzes the GeoJSON reader and the polygon rasterizer.
//!
//! Feeds: arbitrary UTF-8 text (inputs that are not UTF-8 are skipped) to
//! `landwatch::io::geojson::parse_geojson`, as zone and region layers are read; every layer
//! it accepts is then rasterized onto a fixed 32 × 32 grid of 200 m pixels on EPSG:32651 (the
//! Taizhou scene's corner) with `zones::zone_from_layer` and `zones::regions_from_layer`
//! (the region field is the first property of the first feature, so that the rasterizer is
//! reached often). A layer naming another CRS goes through `LonLat` and proj4rs.
//!
//! Must hold: no panic, no allocation beyond what the text and the grid imply, failures come
//! back as `Err` (a `String` from the parser, `landwatch::Error` from the rasterizer), and a
//! rasterized zone or region raster is 32 × 32 with values in range.
#![no_main]

use landwatch::geo::Crs;
use landwatch::io::geojson::parse_geojson;
use landwatch::raster::{GeoReference, GeoTransform};
use landwatch::zones::{TargetGrid, regions_from_layer, zone_from_layer};
use libfuzzer_sys::fuzz_target;

const SIZE: usize = 32;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(layer) = parse_geojson(text) else {
        return;
    };
    let grid = TargetGrid {
        width: SIZE,
        height: SIZE,
        georef: GeoReference {
            transform: GeoTransform([203_325.0, 200.0, 0.0, 3_604_935.0, 0.0, -200.0]),
            crs: Some(Crs::epsg(32651)),
        },
    };
    if let Ok(zone) = zone_from_layer("fuzz", &layer, &grid) {
        assert_eq!((zone.mask.width, zone.mask.height), (SIZE, SIZE));
        assert_eq!(zone.mask.data.len(), SIZE * SIZE);
        assert!(zone.mask.data.iter().all(|&v| v <= 1));
    }
    let field = layer
        .features
        .first()
        .and_then(|f| f.properties.keys().next())
        .map_or("code", String::as_str);
    if let Ok(regions) = regions_from_layer(&layer, field, &grid) {
        assert_eq!(regions.codes.len(), layer.features.len());
        assert_eq!(regions.index.data.len(), SIZE * SIZE);
        let n = regions.codes.len() as u64;
        assert!(regions.index.data.iter().all(|&v| u64::from(v) <= n));
    }
});
