//! The minimum mapping unit in m²: nothing smaller survives, nothing at least as large goes.

mod patch_support;

use landwatch::change::UNCHANGED;
use landwatch::geo::{Ellipsoid, geographic_cell_area};
use landwatch::patch::{Connectivity, PatchLayers, attributes, label, sieve};
use landwatch::{GeoReference, GeoTransform, Raster};
use patch_support::*;
use proptest::prelude::*;

fn check_sieve(codes: &Raster<u8>, conn: Connectivity, min_area: f64) {
    let labels = label(codes, conn).unwrap();
    let before = attributes(&labels, &PatchLayers::codes(codes)).unwrap();
    let s = sieve(codes, &labels, min_area).unwrap();
    let after = attributes(&s.labels, &PatchLayers::codes(&s.codes)).unwrap();
    assert!(
        after.iter().all(|a| a.area_m2 >= min_area),
        "a patch below {min_area} m² survived"
    );
    let mut kept: Vec<_> = before.iter().filter(|a| a.area_m2 >= min_area).collect();
    assert_eq!(
        after.len(),
        kept.len(),
        "a patch of at least {min_area} m² was removed"
    );
    assert_eq!(s.removed as usize, before.len() - kept.len());
    // Survivors keep their pixels and order; the sieved codes relabel to the same raster.
    for (a, b) in after.iter().zip(kept.drain(..)) {
        assert_eq!((a.pixels, a.bbox_px, a.code), (b.pixels, b.bbox_px, b.code));
    }
    assert_eq!(label(&s.codes, conn).unwrap(), s.labels);
    for (i, (&old, &new)) in codes.data.iter().zip(&s.codes.data).enumerate() {
        if s.labels.ids[i] == 0 && labels.ids[i] != 0 {
            assert_eq!(new, UNCHANGED);
        } else {
            assert_eq!(old, new);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn sieve_respects_the_minimum_area(
        seed in any::<u64>(),
        density in 0.1f64..0.8,
        min_px in 0.0f64..40.0,
        eight in any::<bool>(),
    ) {
        let mut rng = Rng(seed);
        let codes = raster(60, 50, random_codes(&mut rng, 60, 50, density, 3), utm30());
        let conn = if eight { Connectivity::Eight } else { Connectivity::Four };
        // Thresholds on and between whole pixel areas.
        check_sieve(&codes, conn, min_px * 900.0);
        check_sieve(&codes, conn, min_px.floor() * 900.0);
    }
}

#[test]
fn sieve_in_lon_lat_uses_ellipsoidal_row_areas() {
    let mut rng = Rng(5);
    let g = GeoReference {
        transform: GeoTransform([120.0, 0.001, 0.0, 60.0, 0.0, -0.001]),
        crs: Some(landwatch::geo::Crs::epsg(4326)),
    };
    let codes = raster(80, 80, random_codes(&mut rng, 80, 80, 0.5, 2), g);
    let labels = label(&codes, Connectivity::Eight).unwrap();
    let attrs = attributes(&labels, &PatchLayers::codes(&codes)).unwrap();
    // Pixels shrink northward: patch areas follow the rows they cover.
    for a in &attrs {
        let rows = a.bbox_px;
        let top = geographic_cell_area(
            &Ellipsoid::WGS84,
            60.0 - rows.row_min as f64 * 0.001,
            60.0 - (rows.row_min + 1) as f64 * 0.001,
            0.001,
        );
        let bottom = geographic_cell_area(
            &Ellipsoid::WGS84,
            60.0 - rows.row_max as f64 * 0.001,
            60.0 - (rows.row_max + 1) as f64 * 0.001,
            0.001,
        );
        assert!(a.area_m2 >= a.pixels as f64 * top * (1.0 - 1e-9));
        assert!(a.area_m2 <= a.pixels as f64 * bottom * (1.0 + 1e-9));
    }
    let median = {
        let mut v: Vec<f64> = attrs.iter().map(|a| a.area_m2).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for conn in [Connectivity::Four, Connectivity::Eight] {
        check_sieve(&codes, conn, median);
    }
}

#[test]
fn bad_parameters_are_errors() {
    let codes = raster(4, 4, vec![1; 16], utm30());
    let labels = label(&codes, Connectivity::Eight).unwrap();
    assert!(sieve(&codes, &labels, f64::NAN).is_err());
    assert!(sieve(&codes, &labels, -1.0).is_err());
    let no_georef = Raster {
        georef: None,
        ..codes.clone()
    };
    assert!(sieve(&no_georef, &labels, 10.0).is_err());
    let small = raster(2, 2, vec![1; 4], utm30());
    assert!(sieve(&small, &labels, 10.0).is_err());
}
