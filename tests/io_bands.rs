//! Per-band inputs resampled onto a reference grid (Sentinel-2 B11 at 20 m onto B04 at
//! 10 m), and alignment of two dates on different grids.

use landwatch::io::{
    BandFile, Grid, ReadLimits, Resampling, check_same_grid, crop_stack, crop_to_intersection,
    read_geotiff, read_window, resample, stack_from_band_files,
};
use landwatch::{BandData, BandRole, Error};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

const B04: &str = "oscd_beihai_bands/T49QCD_20161209T031122_B04.tif";
const B11: &str = "oscd_beihai_bands/T49QCD_20161209T031122_B11.tif";

fn u16s(b: &BandData) -> &[u16] {
    match b {
        BandData::U16(v) => v,
        other => panic!("expected u16, got {:?}", other.data_type()),
    }
}

#[test]
fn b11_at_20m_onto_b04_at_10m() {
    let lim = ReadLimits::default();
    let b04 = read_geotiff(data(B04), &lim).unwrap();
    let b11 = read_geotiff(data(B11), &lim).unwrap();
    let (sw, dw, dh) = (b11.width, b04.width, b04.height);
    assert_eq!((sw * 2, b11.height * 2), (dw, dh));

    for method in [Resampling::Nearest, Resampling::Bilinear] {
        let stack = stack_from_band_files(
            &[
                BandFile::new(data(B04), BandRole::Red, Resampling::Bilinear),
                BandFile::new(data(B11), BandRole::Swir1, method),
            ],
            0,
            &lim,
        )
        .unwrap();
        assert_eq!((stack.width(), stack.height()), (772, 902));
        assert_eq!(stack.georef, b04.georef);
        // The reference band is untouched.
        assert_eq!(stack.band(BandRole::Red).unwrap().data, b04.bands[0]);
        let out = u16s(&stack.band(BandRole::Swir1).unwrap().data);
        let src = u16s(&b11.bands[0]);
        match method {
            Resampling::Nearest => {
                // Every 10 m pixel lies inside exactly one 20 m pixel.
                for r in 0..dh {
                    for c in 0..dw {
                        assert_eq!(out[r * dw + c], src[(r / 2) * sw + c / 2], "({c}, {r})");
                    }
                }
                // gdallocationinfo: B11 (61, 38) = 2206, so B04-grid (122..=123, 76..=77) too.
                assert_eq!(out[76 * dw + 122], 2206);
                assert_eq!(out[77 * dw + 123], 2206);
            }
            Resampling::Bilinear => {
                // A 10 m centre sits a quarter of a 20 m pixel from the nearest 20 m centre:
                // weights 3/4 and 1/4 on each axis, away from the edges.
                let mut exact = 0;
                for r in 2..dh - 2 {
                    for c in 2..dw - 2 {
                        let (k, j) = (c / 2, r / 2);
                        let (kn, jn) = (
                            if c % 2 == 0 { k - 1 } else { k + 1 },
                            if r % 2 == 0 { j - 1 } else { j + 1 },
                        );
                        let s = |x: usize, y: usize| f64::from(src[y * sw + x]);
                        let want = 0.5625 * s(k, j)
                            + 0.1875 * s(kn, j)
                            + 0.1875 * s(k, jn)
                            + 0.0625 * s(kn, jn);
                        let got = f64::from(out[r * dw + c]);
                        assert!(
                            (got - want).abs() <= 0.5 + 1e-6,
                            "({c}, {r}): {got} vs {want}"
                        );
                        // Away from rounding ties the result is the rounded weighted mean.
                        if (want.fract() - 0.5).abs() > 1e-3 {
                            assert_eq!(got, want.round(), "({c}, {r})");
                            exact += 1;
                        }
                    }
                }
                assert!(exact as f64 > 0.9 * ((dw - 4) * (dh - 4)) as f64);
            }
            other => unimplemented!("no check for {other:?}"),
        }
    }
}

#[test]
fn resampling_onto_the_same_grid_is_the_identity_and_bad_inputs_fail() {
    let lim = ReadLimits::default();
    let b11 = read_geotiff(data(B11), &lim).unwrap();
    let g = Grid::of_image(&b11);
    assert_eq!(
        resample(&b11.bands[0], &g, &g, Resampling::Bilinear, None).unwrap(),
        b11.bands[0]
    );
    // Reprojection is not attempted.
    let mut utm = g;
    utm.georef.as_mut().unwrap().crs = Some(landwatch::geo::Crs::epsg(32649));
    utm.width += 1;
    assert!(matches!(
        resample(&b11.bands[0], &g, &utm, Resampling::Nearest, None),
        Err(Error::GridMismatch { .. })
    ));
    // A band index past the file's bands, and a reference past the list.
    let mut f = BandFile::new(data(B11), BandRole::Swir1, Resampling::Nearest);
    f.band = 1;
    assert!(stack_from_band_files(&[f.clone()], 0, &lim).is_err());
    assert!(stack_from_band_files(&[f], 3, &lim).is_err());
}

#[test]
fn bilinear_skips_nodata_neighbours_and_fills_outside() {
    use landwatch::{GeoReference, GeoTransform};
    let src_grid = Grid {
        width: 2,
        height: 2,
        georef: Some(GeoReference {
            transform: GeoTransform([0.0, 20.0, 0.0, 40.0, 0.0, -20.0]),
            crs: Some(landwatch::geo::Crs::epsg(32633)),
        }),
    };
    // Target: 10 m pixels, one column further east than the source reaches.
    let dst_grid = Grid {
        width: 5,
        height: 4,
        georef: Some(GeoReference {
            transform: GeoTransform([0.0, 10.0, 0.0, 40.0, 0.0, -10.0]),
            crs: Some(landwatch::geo::Crs::epsg(32633)),
        }),
    };
    let src = BandData::F32(vec![10.0, 20.0, 30.0, -1.0]);
    let out = resample(&src, &src_grid, &dst_grid, Resampling::Bilinear, Some(-1.0)).unwrap();
    let BandData::F32(v) = out else { panic!() };
    // Pixel (1, 1): centre at (15, 25) m, source pixel coords (0.75, 0.75): weights over
    // 10, 20, 30 and the nodata corner, renormalised.
    let want = (0.5625 * 10.0 + 0.1875 * 20.0 + 0.1875 * 30.0) / 0.9375;
    assert!((v[6] - want as f32).abs() < 1e-5, "{} vs {want}", v[6]);
    // Pixel (0, 1): clamped on x, 3/4 of row 0 and 1/4 of row 1.
    assert_eq!(v[5], 0.75 * 10.0 + 0.25 * 30.0);
    // Column 4 is east of the source: nodata.
    assert_eq!([v[4], v[9], v[14], v[19]], [-1.0; 4]);
    // Pixel (0, 0) is an edge: clamped neighbours give the corner value.
    assert_eq!(v[0], 10.0);
}

#[test]
fn two_dates_on_different_grids_crop_to_their_common_extent() {
    let lim = ReadLimits::default();
    let t1 = "landsat_taizhou/Taizhou_t1.tif";
    let t2 = "landsat_taizhou/Taizhou_t2.tif";
    // Date 1 covers pixels 0..300 × 0..300 of the scene, date 2 covers 50..400 × 40..400.
    let a = read_window(data(t1), 0, 0, 300, 300, &lim)
        .unwrap()
        .into_stack(&BandRole::ALL)
        .unwrap();
    let b = read_window(data(t2), 50, 40, 350, 360, &lim)
        .unwrap()
        .into_stack(&BandRole::ALL)
        .unwrap();
    let err = check_same_grid(&Grid::of_stack(&a), &Grid::of_stack(&b))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("size 300×300 vs 350×360") && err.contains("origin"),
        "{err}"
    );
    assert!(!err.contains("pixel size") && !err.contains("CRS"), "{err}");

    let (wa, wb) = crop_to_intersection(&Grid::of_stack(&a), &Grid::of_stack(&b)).unwrap();
    assert_eq!((wa.col, wa.row, wa.width, wa.height), (50, 40, 250, 260));
    assert_eq!((wb.col, wb.row, wb.width, wb.height), (0, 0, 250, 260));
    let ca = crop_stack(&a, &wa).unwrap();
    let cb = crop_stack(&b, &wb).unwrap();
    check_same_grid(&Grid::of_stack(&ca), &Grid::of_stack(&cb)).unwrap();
    // The crops are exactly the common window of the two scenes.
    let want_a = read_window(data(t1), 50, 40, 250, 260, &lim).unwrap();
    let want_b = read_window(data(t2), 50, 40, 250, 260, &lim).unwrap();
    assert_eq!(ca.georef, want_a.georef);
    for (band, want) in ca.bands().iter().zip(&want_a.bands) {
        assert_eq!(&band.data, want);
    }
    for (band, want) in cb.bands().iter().zip(&want_b.bands) {
        assert_eq!(&band.data, want);
    }
    assert_eq!(ca.band(BandRole::Nir).unwrap().role, Some(BandRole::Nir));

    // 10 m and 20 m grids cannot be cropped into each other.
    let g10 = read_geotiff(data("sentinel2_arid/s2_10m_B02_B03_B04_B08.tif"), &lim).unwrap();
    let g20 = read_geotiff(data("sentinel2_arid/s2_20m_B11_B12.tif"), &lim).unwrap();
    let err = crop_to_intersection(&Grid::of_image(&g10), &Grid::of_image(&g20)).unwrap_err();
    assert!(err.to_string().contains("resample"), "{err}");
}
