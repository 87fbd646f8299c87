//! Change detection on the real Taizhou pair (Landsat 7, 2000 → 2003): accuracy against the
//! bundled sparse reference, robustness to a radiometric shift between dates, caller masks,
//! and GPU/CPU parity on the real scene.

mod common;

use common::{assert_ran_on_gpu, data, gpu_engine, taizhou};
use landwatch::accuracy::{Confusion, ReferenceEncoding};
use landwatch::change::{CHANGE_NODATA, UNCHANGED};
use landwatch::classify::CLASS_NODATA;
use landwatch::io::{ReadLimits, read_geotiff};
use landwatch::{
    BandData, BandStack, ChangeMethod, ChangeOptions, Engine, GpuOptions, Raster, TransitionMatrix,
};

/// F1 of "changed" measured with default settings (the contextual detector) when this test
/// was written (`cargo run --release --example accuracy`, which like [`Confusion`] leaves
/// pixels masked as cloud or shadow unscored); the test fails if it drops by more than 0.02.
/// The per-pixel combined method measured 0.936 before it.
const TAIZHOU_F1: f64 = 0.942;

fn reference() -> Vec<u8> {
    let r = read_geotiff(
        data("landsat_taizhou/Taizhou_reference_0unlabelled_1unchanged_2changed.tif"),
        &ReadLimits::default(),
    )
    .unwrap();
    match r.bands.into_iter().next() {
        Some(BandData::U8(v)) => v,
        other => panic!("unexpected reference band {other:?}"),
    }
}

/// Default change detection on the CPU, scored against the bundled sparse reference; also
/// returns the change codes.
fn score_on_reference(before: &BandStack, after: &BandStack) -> (Confusion, Vec<u8>) {
    let run = Engine::cpu()
        .detect_change(before, after, &ChangeOptions::new())
        .unwrap();
    let sparse = ReferenceEncoding::Sparse {
        unchanged: 1,
        changed: 2,
    };
    let change = run.output.change.data;
    (
        Confusion::score(&change, &reference(), sparse).unwrap(),
        change,
    )
}

fn changed_share(change: &[u8]) -> f64 {
    let valid = change.iter().filter(|&&c| c != CHANGE_NODATA).count();
    let changed = change
        .iter()
        .filter(|&&c| c != CHANGE_NODATA && c != UNCHANGED)
        .count();
    changed as f64 / valid as f64
}

#[test]
fn default_settings_keep_their_measured_f1_on_taizhou() {
    let (score, change) =
        score_on_reference(&taizhou("Taizhou_t1.tif"), &taizhou("Taizhou_t2.tif"));
    // Pixels masked as cloud, shadow or haze go unscored. (A small cumulus north of the town
    // on the first date, rows 51-62, columns 335-354, has less than a hectare of interior
    // at 30 m, and is not masked: a cloud needs one.)
    let reference = reference();
    let masked = |label: u8| {
        (change.iter().zip(&reference))
            .filter(|&(&c, &r)| c == CHANGE_NODATA && r == label)
            .count() as u64
    };
    assert_eq!(
        score.true_positive + score.false_negative + masked(2),
        4227,
        "the reference labels 4,227 changed pixels"
    );
    assert_eq!(
        score.true_negative + score.false_positive + masked(1),
        17163
    );
    assert!(
        score.f1() >= TAIZHOU_F1 - 0.02,
        "F1 fell to {:.3} (pinned {TAIZHOU_F1})",
        score.f1()
    );
    // The peer pipeline's best F1 on this scene is 0.278 (ΔNDVI, raw mask).
    assert!(score.f1() > 0.278);
}

/// A second date that differs only radiometrically (a brighter, lower-contrast season) must
/// not light up once normalized, and does without normalization.
#[test]
fn a_radiometric_shift_between_dates_does_not_light_up() {
    let before = taizhou("Taizhou_t1.tif");
    let mut shifted = before.clone();
    let gains = [0.8, 0.85, 0.9, 1.3, 1.2, 1.1];
    let offsets = [25.0, 20.0, 15.0, -5.0, 8.0, 4.0];
    let bands: Vec<landwatch::Band> = shifted
        .bands()
        .iter()
        .zip(gains.iter().zip(offsets))
        .map(|(band, (&g, o))| {
            let BandData::U8(v) = &band.data else {
                panic!("Taizhou is u8")
            };
            let data = v
                .iter()
                .map(|&x| (f64::from(x) * g + o).round().clamp(0.0, 255.0) as u8)
                .collect();
            landwatch::Band {
                data: BandData::U8(data),
                ..band.clone()
            }
        })
        .collect();
    let georef = shifted.georef;
    shifted = BandStack::new(before.width(), before.height(), bands).unwrap();
    shifted.georef = georef;

    let engine = Engine::cpu();
    let normalized = engine
        .detect_change(&before, &shifted, &ChangeOptions::new())
        .unwrap();
    let raw = engine
        .detect_change(
            &before,
            &shifted,
            &ChangeOptions::new()
                .with_method(ChangeMethod::Combined)
                .with_normalize(false)
                // 23 DN: well above the noise of unchanged pixels (about 7 DN).
                .with_threshold(landwatch::Threshold::Fixed(23)),
        )
        .unwrap();
    let (n, r) = (
        changed_share(&normalized.output.change.data),
        changed_share(&raw.output.change.data),
    );
    assert!(n < 0.01, "{:.1}% changed after normalization", 100.0 * n);
    assert!(
        r > 0.5,
        "without normalization only {:.1}% lit up",
        100.0 * r
    );
}

#[test]
fn masked_pixels_are_nodata_and_count_nowhere() {
    let (before, after) = (taizhou("Taizhou_t1.tif"), taizhou("Taizhou_t2.tif"));
    let (w, h) = (before.width(), before.height());
    // Mask the left half, as a cloud would.
    let mask = Raster {
        width: w,
        height: h,
        data: (0..w * h).map(|i| u8::from(i % w < w / 2)).collect(),
        nodata: 255,
        georef: before.georef,
    };
    let cpu = Engine::cpu();
    let engines = [Some(&cpu), gpu_engine(GpuOptions::default())];
    let mut outputs = Vec::new();
    for engine in engines.iter().flatten() {
        let run = engine
            .detect_change_masked(&before, &after, &ChangeOptions::new(), Some(&mask))
            .unwrap();
        let out = run.output;
        // Outside the caller's mask, nodata marks only what the detector masked as cloud,
        // shadow or haze (nothing, on this scene).
        let sky = out
            .sky
            .expect("the contextual detector reports its sky mask");
        let mut detector_masked = 0;
        for (i, &m) in mask.data.iter().enumerate() {
            if m != 0 {
                assert_eq!(out.change.data[i], CHANGE_NODATA);
                assert_eq!(out.class_before.data[i], CLASS_NODATA);
            } else if out.change.data[i] == CHANGE_NODATA {
                detector_masked += 1;
            }
        }
        assert_eq!(detector_masked, sky.masked_px);
        assert_eq!(sky.valid_px, (w * h - w / 2 * h) as u64);
        let counted: u64 = out.histogram.iter().map(|&c| u64::from(c)).sum();
        assert_eq!(
            counted,
            sky.valid_px - sky.masked_px,
            "histogram counts masked pixels"
        );
        let t = TransitionMatrix::from_classes(&out.class_before, &out.class_after).unwrap();
        let total: u64 = t.pixels.iter().flatten().sum();
        assert_eq!(total, sky.valid_px);
        // 30 m pixels on EPSG:32651, about 3.1° west of the zone's central meridian at
        // 32.5° N: a pixel's ground area is 900 m² / k² with the point scale
        // k ≈ 0.9996 · (1 + (Δλ cos φ)² / 2) ≈ 1.00064, so about 898.85 m².
        let area: f64 = t.area_m2.as_ref().unwrap().iter().flatten().sum();
        let mean = area / total as f64;
        assert!((mean - 898.85).abs() < 0.05, "mean pixel area {mean} m²");
        outputs.push(out.change.data);
    }
    if outputs.len() == 2 {
        assert_eq!(
            outputs[0], outputs[1],
            "GPU and CPU differ on the masked scene"
        );
    }
}

#[test]
fn gpu_and_cpu_agree_bit_for_bit_on_the_real_scene() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let (before, after) = (taizhou("Taizhou_t1.tif"), taizhou("Taizhou_t2.tif"));
    for method in [
        ChangeMethod::Contextual,
        ChangeMethod::Combined,
        ChangeMethod::ChangeVector,
        ChangeMethod::PostClassification,
    ] {
        let options = ChangeOptions::new().with_method(method);
        let g = gpu.detect_change(&before, &after, &options).unwrap();
        let c = Engine::cpu()
            .detect_change(&before, &after, &options)
            .unwrap();
        assert_ran_on_gpu(&g.execution);
        assert_eq!(g.output.threshold, c.output.threshold);
        assert_eq!(g.output.histogram, c.output.histogram);
        assert!(
            g.output.change.data == c.output.change.data,
            "{method:?} codes differ"
        );
        assert!(g.output.class_before.data == c.output.class_before.data);
        assert!(g.output.class_after.data == c.output.class_after.data);
        let tg = TransitionMatrix::from_classes(&g.output.class_before, &g.output.class_after);
        let tc = TransitionMatrix::from_classes(&c.output.class_before, &c.output.class_after);
        assert_eq!(tg.unwrap(), tc.unwrap());
    }
}

/// A pure NIR gain of 0.2 reflectance: the vector points along NIR alone and its magnitude is
/// 2,000 in units of 1e-4 reflectance, on both backends.
#[test]
fn direction_and_magnitude_of_a_known_change() {
    use landwatch::{Band, BandRole};
    let n = 1000;
    let stack = |nir: f32| {
        let values = [0.05, 0.08, 0.06, nir, 0.15, 0.1];
        let bands = BandRole::ALL
            .iter()
            .zip(values)
            .map(|(&r, v)| Band::new(r, BandData::F32(vec![v; n])))
            .collect();
        BandStack::new(n, 1, bands).unwrap()
    };
    let options = ChangeOptions::new()
        .with_method(ChangeMethod::Combined)
        .with_normalize(false);
    let cpu = Engine::cpu();
    let engines = [Some(&cpu), gpu_engine(GpuOptions::default())];
    for engine in engines.iter().flatten() {
        let out = engine
            .detect_change(&stack(0.2), &stack(0.4), &options)
            .unwrap()
            .output;
        assert!(out.direction.data.iter().all(|&d| d == 0b001000));
        assert!(out.magnitude.data.iter().all(|&m| m == 2000));
        // Vegetation on both dates (NDVI 0.54 → 0.74): typed as other change, not unchanged.
        assert!(out.class_before.data.iter().all(|&c| c == 2));
    }
}

/// The Taizhou pair seen as a 4-band sensor (GF-1/GF-2/ZY-3 carry no SWIR): the contextual
/// detector over blue, green, red and NIR still finds the changes, and the four-band class
/// rules type them.
#[test]
fn four_band_imagery_detects_the_taizhou_changes() {
    let four = |name: &str| {
        let s = taizhou(name);
        let mut f = BandStack::new(s.width(), s.height(), s.bands()[..4].to_vec()).unwrap();
        f.georef = s.georef;
        f
    };
    let (score, change) = score_on_reference(&four("Taizhou_t1.tif"), &four("Taizhou_t2.tif"));
    // Measured 0.882 (6 bands: 0.942); fails if it drops by more than 0.02.
    assert!(score.f1() >= 0.862, "4-band F1 fell to {:.3}", score.f1());
    let typed = change.iter().filter(|&&c| (1..=4).contains(&c)).count();
    let changed = change.iter().filter(|&&c| c != 0 && c != 255).count();
    assert!(
        typed * 2 > changed,
        "only {typed} of {changed} changed pixels typed 1-4 on four bands"
    );
}

/// The real arid Sentinel-2 scene against itself under a synthetic haze over its left quarter:
/// blue +0.06, green +0.045, red +0.03, NIR +0.01 and SWIR untouched, as aerosol scattering
/// adds path radiance that falls with wavelength. The haze is masked (nodata, counted in
/// `sky.haze_px`), and only the mask keeps it from reading as change. (Over 40% of this very
/// uniform scene, the median/MAD normalization takes two thirds of the haze for a difference
/// between the dates and the rest stays below the haze test: a haze over most of a scene is
/// an offset between its dates.)
#[test]
fn an_extensive_haze_is_masked_not_taken_for_change() {
    use landwatch::{Band, ContextSettings, Sensor};
    let scene = read_geotiff(
        data("sentinel2_arid/s2_10m_6band_B02_B03_B04_B08_B11nn_B12nn.tif"),
        &ReadLimits::default(),
    )
    .unwrap();
    let sensor = Sensor::sentinel2_l1c();
    let before = scene.clone().into_stack(&sensor.bands).unwrap();
    let (w, h) = (before.width(), before.height());
    let hazy = |x: usize| x < w / 4;
    let bands = (before.bands().iter().zip([600u16, 450, 300, 100, 0, 0]))
        .map(|(band, add)| {
            let BandData::U16(v) = &band.data else {
                panic!("the arid scene is u16")
            };
            let data = (v.iter().enumerate())
                .map(|(i, &x)| {
                    if hazy(i % w) {
                        x.saturating_add(add)
                    } else {
                        x
                    }
                })
                .collect();
            Band {
                data: BandData::U16(data),
                ..band.clone()
            }
        })
        .collect();
    let mut after = BandStack::new(w, h, bands).unwrap();
    after.georef = before.georef;
    let (mut before, mut after) = (before, after);
    for s in [&mut before, &mut after] {
        s.set_radiometry(sensor.radiometry).unwrap();
    }
    let run = |settings: ContextSettings| {
        let options = ChangeOptions::new().with_context(settings);
        Engine::cpu()
            .detect_change(&before, &after, &options)
            .unwrap()
            .output
    };
    let masked = run(ContextSettings::default());
    let sky = masked.sky.unwrap();
    let hazy_px = (0..w * h).filter(|&i| hazy(i % w)).count() as u64;
    assert!(
        sky.haze_px[1] >= hazy_px * 95 / 100,
        "{} of {hazy_px} hazy pixels masked",
        sky.haze_px[1]
    );
    assert_eq!(sky.haze_px[0], 0);
    assert!(changed_share(&masked.change.data) < 0.01);
    let mut no_haze_test = ContextSettings::default();
    no_haze_test.haze_min_area_m2 = 1e12;
    let unmasked = run(no_haze_test);
    let lit = (unmasked.change.data.iter().enumerate())
        .filter(|&(i, &c)| hazy(i % w) && c != UNCHANGED && c != CHANGE_NODATA)
        .count() as u64;
    assert!(
        lit > hazy_px / 2,
        "only {lit} of {hazy_px} hazy pixels read as change without the haze mask"
    );
}
