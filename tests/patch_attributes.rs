//! Patch attributes on a hand-checked raster, and the written outputs.

mod patch_support;

use landwatch::io::{ReadLimits, read_geotiff};
use landwatch::patch::attributes::M2_PER_MU;
use landwatch::patch::{
    Connectivity, PatchLayers, PixelBox, attributes, label, polygonize, write_patches,
};
use landwatch::{BandData, Raster};
use patch_support::*;

#[test]
fn attributes_of_two_patches() {
    #[rustfmt::skip]
    let codes = [
        2, 2, 0, 0,
        2, 0, 0, 4,
        0, 0, 4, 4,
    ];
    let codes = raster(4, 3, codes.to_vec(), utm30());
    let class = |v: Vec<u8>| Raster {
        data: v,
        nodata: 255,
        ..codes.clone()
    };
    let ndvi = |v: Vec<f32>| Raster {
        width: 4,
        height: 3,
        data: v,
        nodata: -9999.0,
        georef: codes.georef,
    };
    let before = class(vec![2, 2, 0, 0, 3, 0, 0, 1, 0, 0, 1, 255]);
    let after = class(vec![4, 4, 0, 0, 4, 0, 0, 3, 0, 0, 3, 3]);
    let nb = ndvi(vec![
        0.5, 0.7, 0.0, 0.0, -9999.0, 0.0, 0.0, 0.1, 0.0, 0.0, 0.2, 0.3,
    ]);
    let labels = label(&codes, Connectivity::Eight).unwrap();
    let layers = PatchLayers {
        codes: &codes,
        class_before: Some(&before),
        class_after: Some(&after),
        ndvi_before: Some(&nb),
        ndvi_after: None,
    };
    let a = attributes(&labels, &layers).unwrap();
    assert_eq!(a.len(), 2);
    let p = &a[0];
    assert_eq!(
        (p.id, p.code, p.change_type, p.pixels),
        (1, 2, "new construction", 3)
    );
    // Three 30 m pixels 200 km west of the zone's central meridian at 28.9° N: their ground
    // area is 2700 m² / k² with the point scale k ≈ 0.9996 · (1 + E² / (2 R²)) ≈ 1.000092
    // (E = 200 km / 0.9996, R ≈ 6,374 km): 2699.50 m².
    assert!((p.area_m2 - 2699.50).abs() < 0.01, "{}", p.area_m2);
    assert!((p.area_mu - p.area_m2 / M2_PER_MU).abs() < 1e-12);
    assert!((p.area_ha - p.area_m2 / 1e4).abs() < 1e-15);
    assert_eq!(
        p.bbox_px,
        PixelBox {
            col_min: 0,
            row_min: 0,
            col_max: 1,
            row_max: 1
        }
    );
    assert_eq!(p.bbox, [300_000.0, 3_199_940.0, 300_060.0, 3_200_000.0]);
    // Centres (0.5,0.5), (1.5,0.5), (0.5,1.5): mean (2/3+1/6...) in pixels → CRS.
    let (cx, cy) = (
        300_000.0 + 30.0 * (2.5 / 3.0),
        3_200_000.0 - 30.0 * (2.5 / 3.0),
    );
    assert!((p.centroid[0] - cx).abs() < 1e-6 && (p.centroid[1] - cy).abs() < 1e-6);
    let [lon, lat] = p.centroid_lon_lat.unwrap();
    assert!(
        (lon - 120.9).abs() < 0.1 && (lat - 28.9).abs() < 0.1,
        "{lon} {lat}"
    );
    assert_eq!((p.class_before, p.class_after), (Some(2), Some(4)));
    assert!((p.ndvi_before.unwrap() - 0.6).abs() < 1e-6);
    assert_eq!(p.ndvi_after, None);
    let q = &a[1];
    assert_eq!((q.code, q.pixels), (4, 3));
    assert_eq!((q.class_before, q.class_after), (Some(1), Some(3)));
    assert!((q.ndvi_before.unwrap() - 0.2).abs() < 1e-6);
    // Grid mismatch is an error.
    let other = raster(3, 4, vec![0; 12], utm30());
    assert!(attributes(&labels, &PatchLayers::codes(&other)).is_err());
}

#[test]
fn outputs_are_written() {
    let change = real_change();
    let labels = label(&change, Connectivity::Eight).unwrap();
    let attrs = attributes(&labels, &PatchLayers::codes(&change)).unwrap();
    let polys = polygonize(&labels).unwrap();
    let dir = std::env::temp_dir().join(format!("landwatch_patch_out_{}", std::process::id()));
    let out = write_patches(
        &dir,
        &labels,
        &change.georef.unwrap(),
        &attrs,
        &[],
        &polys,
        false,
    )
    .unwrap();
    let gj: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out.geojson).unwrap()).unwrap();
    let features = gj["features"].as_array().unwrap();
    assert_eq!(features.len(), labels.count as usize);
    assert!(gj.get("crs").is_none());
    let f = &features[0];
    assert_eq!(f["properties"]["id"], 1);
    assert_eq!(f["properties"]["area_m2"], attrs[0].area_m2);
    // Taizhou, Jiangsu: about 119.9°E, 32.5°N.
    let first = &f["geometry"]["coordinates"][0][0];
    let (lon, lat) = (first[0].as_f64().unwrap(), first[1].as_f64().unwrap());
    assert!(
        (119.0..121.0).contains(&lon) && (32.0..33.0).contains(&lat),
        "{lon} {lat}"
    );
    let csv = std::fs::read_to_string(&out.csv).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("id,code,change_type,pixels,area_m2")
    );
    assert_eq!(lines.count(), labels.count as usize);
    let tif = read_geotiff(&out.tif, &ReadLimits::default()).unwrap();
    assert_eq!(tif.georef, change.georef);
    match &tif.bands[0] {
        BandData::U32(v) => assert!(*v == labels.ids),
        other => panic!("patches.tif holds {:?}", other.data_type()),
    }
    std::fs::remove_dir_all(&dir).ok();
}
