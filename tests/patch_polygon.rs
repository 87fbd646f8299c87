//! Patch polygons: exact areas, valid geometry, and agreement with gdal_polygonize.

mod patch_support;

use landwatch::geo::{GeodeticFrame, LonLat};
use landwatch::patch::{
    Connectivity, PatchLayers, attributes, label, label_codes, polygonize, write_patches,
};
use landwatch::{GeoReference, GeoTransform};
use patch_support::*;

/// Checks every patch of `codes` for both connectivities: lattice validity, exact pixel
/// area, native CRS shoelace area = pixels × |det|, and the float rings of both outputs.
fn check_all(codes: &[u8], w: usize, h: usize, georef: &GeoReference, what: &str) {
    let t = georef.transform.0;
    let det = (t[1] * t[5] - t[2] * t[4]).abs();
    for conn in [Connectivity::Four, Connectivity::Eight] {
        let labels = label_codes(codes, w, h, conn).unwrap();
        let polys = polygonize(&labels).unwrap();
        assert_eq!(polys.len(), labels.count as usize);
        let cells = cells_by_patch(&labels.ids, w, labels.count);
        for (p, cells) in polys.iter().zip(&cells) {
            check_patch(p, cells);
            assert_eq!(p.pixel_area(), cells.len() as i64, "{what}: patch {}", p.id);
            let native = p.to_crs(&georef.transform);
            let area: f64 = native.iter().map(polygon_area).sum();
            let expected = cells.len() as f64 * det;
            assert!(
                ((area - expected) / expected).abs() < 1e-9,
                "{what} {conn:?}: patch {} area {area} ≠ {expected}",
                p.id
            );
            let lon_lat = LonLat::new(&georef.crs.unwrap(), GeodeticFrame::Wgs84).unwrap();
            let geographic = p.to_lon_lat(&georef.transform, &lon_lat).unwrap();
            for geometry in [native, geographic] {
                for poly in &geometry {
                    check_float_ring(&poly.exterior, true);
                    poly.holes.iter().for_each(|h| check_float_ring(h, false));
                }
            }
        }
    }
}

#[test]
fn polygons_are_exact_and_valid() {
    let mut rng = Rng(3);
    let g = utm30();
    for density in [0.2, 0.5, 0.8] {
        let c = random_codes(&mut rng, 90, 70, density, 2);
        check_all(&c, 90, 70, &g, &format!("random p={density}"));
    }
    let c = blobby_codes(&mut rng, 120, 100, 300);
    check_all(&c, 120, 100, &g, "blobs");
    check_all(&spiral(41), 41, 41, &g, "spiral");
    check_all(&snake(33, 65), 33, 65, &g, "snake");
    // Geographic grid and a rotated projected grid.
    let geo = GeoReference {
        transform: GeoTransform([120.0, 0.00025, 0.0, 30.0, 0.0, -0.00025]),
        crs: Some(landwatch::geo::Crs::epsg(4326)),
    };
    check_all(&c, 120, 100, &geo, "blobs lon/lat");
    let rotated = GeoReference {
        transform: GeoTransform([500_000.0, 8.0, 6.0, 3_000_000.0, 6.0, -8.0]),
        crs: Some(landwatch::geo::Crs::epsg(32650)),
    };
    check_all(&c, 120, 100, &rotated, "blobs rotated");
}

#[test]
fn corner_joined_patch_is_one_multipolygon() {
    // Two squares meeting at a corner, and a ring pinched at a corner around a hole.
    #[rustfmt::skip]
    let c = [
        1, 0, 0, 0, 0,
        0, 1, 0, 2, 2,
        0, 0, 0, 2, 0,
        0, 0, 0, 0, 2,
    ];
    let l = label_codes(&c, 5, 4, Connectivity::Eight).unwrap();
    assert_eq!(l.count, 2);
    let p = polygonize(&l).unwrap();
    assert_eq!(p[0].polygons.len(), 2, "two squares touching at a corner");
    assert_eq!(
        p[0].polygons[0].exterior,
        vec![[1, 0], [1, 1], [0, 1], [0, 0]]
    );
    assert_eq!(p[1].polygons.len(), 2);
    // A donut whose hole touches the outside only at a corner: shell + hole.
    #[rustfmt::skip]
    let d = [
        1, 1, 1, 0,
        1, 0, 1, 0,
        1, 1, 0, 1,
        0, 0, 1, 1,
    ];
    let l = label_codes(&d, 4, 4, Connectivity::Eight).unwrap();
    let p = polygonize(&l).unwrap();
    assert_eq!(l.count, 1);
    let holes: usize = p[0].polygons.iter().map(|q| q.holes.len()).sum();
    assert_eq!((p[0].polygons.len(), holes), (2, 1));
    check_patch(&p[0], &cells_by_patch(&l.ids, 4, 1)[0]);
}

#[test]
fn real_mask_polygons() {
    let change = real_change();
    let g = change.georef.unwrap();
    check_all(&change.data, change.width, change.height, &g, "Taizhou");
}

/// Runs gdal_polygonize.py -8 on our patches.tif: same feature count and total area.
#[test]
fn matches_gdal_polygonize() {
    let change = real_change();
    let labels = label(&change, Connectivity::Eight).unwrap();
    let attrs = attributes(&labels, &PatchLayers::codes(&change)).unwrap();
    let polys = polygonize(&labels).unwrap();
    let dir = std::env::temp_dir().join(format!("landwatch_gdal_{}", std::process::id()));
    let georef = change.georef.unwrap();
    let out = write_patches(&dir, &labels, &georef, &attrs, &[], &polys, true).unwrap();
    let gdal_out = dir.join("gdal.geojson");
    let run = std::process::Command::new("gdal_polygonize.py")
        .args(["-8", "-q"])
        .arg(&out.tif)
        .args(["-f", "GeoJSON"])
        .arg(&gdal_out)
        .output();
    let run = match run {
        Ok(r) if r.status.success() => r,
        other => {
            let why = match other {
                Ok(r) => String::from_utf8_lossy(&r.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(
                std::env::var("LANDWATCH_REQUIRE_GDAL").as_deref() != Ok("1"),
                "LANDWATCH_REQUIRE_GDAL=1 but gdal_polygonize.py failed: {why}"
            );
            eprintln!("SKIPPED gdal_polygonize comparison: {why}");
            return;
        }
    };
    drop(run);
    let theirs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&gdal_out).unwrap()).unwrap();
    let features = theirs["features"].as_array().unwrap();
    let ring_area = |r: &serde_json::Value| {
        let pts: Vec<[f64; 2]> = r
            .as_array()
            .unwrap()
            .iter()
            .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
            .collect();
        landwatch::patch::polygon::signed_area2(&pts).abs() / 2.0
    };
    let poly_area = |p: &serde_json::Value| {
        let rings = p.as_array().unwrap();
        ring_area(&rings[0]) - rings[1..].iter().map(ring_area).sum::<f64>()
    };
    let mut gdal_area = 0.0;
    let mut ids = std::collections::BTreeSet::new();
    for f in features {
        let g = &f["geometry"];
        gdal_area += match g["type"].as_str().unwrap() {
            "Polygon" => poly_area(&g["coordinates"]),
            _ => g["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .map(poly_area)
                .sum(),
        };
        ids.insert(f["properties"]["DN"].as_u64().unwrap());
    }
    // GDAL's polygons are in grid units: compare with our pixels' area in the grid (the
    // attributes' area_m2 is the ground area, which differs by the projection's scale).
    let (pw, ph) = georef.transform.pixel_size();
    let ours: f64 = attrs.iter().map(|a| a.pixels as f64 * pw * ph).sum();
    assert_eq!(features.len(), labels.count as usize, "feature count");
    assert_eq!(ids.len(), labels.count as usize, "distinct ids");
    assert!(
        ((gdal_area - ours) / ours).abs() < 1e-9,
        "area {gdal_area} vs {ours}"
    );
    // Our own native GeoJSON has the same total area.
    let native: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.geojson_native.unwrap()).unwrap()).unwrap();
    let mut area = 0.0;
    for f in native["features"].as_array().unwrap() {
        let g = &f["geometry"];
        area += match g["type"].as_str().unwrap() {
            "Polygon" => poly_area(&g["coordinates"]),
            _ => g["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .map(poly_area)
                .sum(),
        };
    }
    assert!(((area - ours) / ours).abs() < 1e-9);
    eprintln!(
        "gdal_polygonize -8: {} features, {gdal_area} m², same as ours",
        features.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
