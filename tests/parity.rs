//! GPU against CPU on random inputs: every per-pixel kernel, every sample type, several sizes
//! (including ones that are not multiples of the workgroup), with nodata, NaN and infinities.
//!
//! Tolerances: class codes, nodata masks and valid counts must be identical. Index values must
//! agree within 1e-6 · max(1, |v|): the kernels evaluate exact integer sums and products of the
//! stored samples, so the only difference is WGSL's division (2.5 ULP, about 3e-7 relative).
//! EVI is the exception: its denominator N + 6R − 7.5B + L cancels, and with a fractional
//! radiometric shift (or f32 input, where a GPU compiler may fuse terms into FMAs) its terms
//! round; the bound adds that forward error, 2^-21 · Σ|terms| / |den|, relative to |v|. On the
//! NVIDIA H200 (driver 580) EVI differed by 20 ulp at a pixel where |den| was 1/2000 of Σ|terms|.

mod common;

use common::{Rng, assert_ran_on_gpu, gpu_engine};
use landwatch::{
    Band, BandData, BandRole, BandStack, ChangeMethod, ChangeOptions, ClassThresholds, DataType,
    DifferencedIndex, Engine, GpuOptions, INDEX_NODATA, Radiometry, SpectralIndex, Threshold,
    TransitionMatrix,
};

const SIZES: [(usize, usize); 6] = [(1, 1), (3, 1), (17, 15), (256, 1), (257, 3), (301, 233)];
const TYPES: [DataType; 5] = [
    DataType::U8,
    DataType::U16,
    DataType::I16,
    DataType::U32,
    DataType::F32,
];

/// A random band of `dtype` where about 3% of pixels are the nodata value and, for f32, a few
/// more are NaN or infinite.
fn random_band(rng: &mut Rng, role: BandRole, dtype: DataType, n: usize) -> Band {
    let nodata = match dtype {
        DataType::I16 => -9999.0,
        DataType::F32 => -1.0,
        _ => 0.0,
    };
    let hit = |rng: &mut Rng| rng.below(33) == 0;
    let data = match dtype {
        DataType::U8 => BandData::U8(
            (0..n)
                .map(|_| if hit(rng) { 0 } else { rng.below(256) as u8 })
                .collect(),
        ),
        DataType::U16 => BandData::U16(
            (0..n)
                .map(|_| if hit(rng) { 0 } else { rng.below(12000) as u16 })
                .collect(),
        ),
        DataType::I16 => BandData::I16(
            (0..n)
                .map(|_| {
                    if hit(rng) {
                        -9999
                    } else {
                        rng.below(12000) as i16 - 500
                    }
                })
                .collect(),
        ),
        DataType::U32 => BandData::U32(
            (0..n)
                .map(|_| {
                    if hit(rng) {
                        0
                    } else {
                        rng.next_u64() as u32 >> rng.below(16)
                    }
                })
                .collect(),
        ),
        DataType::F32 => BandData::F32(
            (0..n)
                .map(|_| match rng.below(40) {
                    0 => -1.0,
                    1 => f32::NAN,
                    2 => f32::INFINITY,
                    _ => rng.unit() as f32,
                })
                .collect(),
        ),
        other => unimplemented!("random samples of {other:?}"),
    };
    Band::new(role, data).with_nodata(nodata)
}

fn random_stack(rng: &mut Rng, w: usize, h: usize, dtype: DataType) -> BandStack {
    let bands = BandRole::ALL
        .iter()
        .map(|&r| random_band(rng, r, dtype, w * h))
        .collect();
    let mut stack = BandStack::new(w, h, bands).unwrap();
    let radiometry = match (dtype, rng.below(3)) {
        (DataType::F32, _) | (_, 0) => Radiometry::IDENTITY,
        (_, 1) => landwatch::Sensor::sentinel2_l2a().radiometry,
        _ => landwatch::Sensor::landsat89_c2l2().radiometry,
    };
    stack.set_radiometry(radiometry).unwrap();
    stack
}

/// Index values agree as stated in the module docs; nodata masks agree exactly.
fn assert_index_parity(stack: &BandStack, index: SpectralIndex, gpu: &[f32], cpu: &[f32]) {
    for (i, (&g, &c)) in gpu.iter().zip(cpu).enumerate() {
        assert_eq!(
            g == INDEX_NODATA,
            c == INDEX_NODATA,
            "{index}: nodata differs at pixel {i}: gpu {g}, cpu {c}"
        );
        let mut tol = 1e-6 * c.abs().max(1.0);
        if index == SpectralIndex::Evi && c != INDEX_NODATA && c != 0.0 {
            // EVI's denominator N + 6R − 7.5B + L cancels: rounding in its terms (and the
            // GPU's division, good to 2.5 ulp) is amplified by Σ|terms| / |denominator|. The
            // kernel works on stored values with the radiometry folded into one shift.
            let rad = stack.radiometry;
            let px = |role| f64::from(stack.band(role).unwrap().data.get_f32(i));
            let (n, r, b) = (px(BandRole::Nir), px(BandRole::Red), px(BandRole::Blue));
            let shift = ((1.0 - 0.5 * rad.offset) / rad.scale).abs();
            let terms = n.abs() + 6.0 * r.abs() + 7.5 * b.abs() + shift;
            let den = (2.5 * (n - r) / f64::from(c)).abs().max(f64::MIN_POSITIVE);
            tol += (f64::from(c.abs()) * 2f64.powi(-21) * terms / den) as f32;
        }
        assert!(
            (g - c).abs() <= tol,
            "{index}: pixel {i}: gpu {g} cpu {c} (tolerance {tol})"
        );
    }
}

#[test]
fn every_index_matches_the_cpu_on_random_inputs() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let cpu = Engine::cpu();
    let mut rng = Rng(7);
    let mut indices = SpectralIndex::BUILT_IN.to_vec();
    indices.push(SpectralIndex::NormalizedDifference(
        BandRole::Swir2,
        BandRole::Blue,
    ));
    let mut checked = 0;
    for (w, h) in SIZES {
        for dtype in TYPES {
            let stack = random_stack(&mut rng, w, h, dtype);
            for &index in &indices {
                let c = cpu.index(&stack, index);
                let g = gpu.index(&stack, index);
                match (g, c) {
                    (Ok(g), Ok(c)) => {
                        assert_ran_on_gpu(&g.execution);
                        assert_index_parity(&stack, index, &g.output.data, &c.output.data);
                        checked += 1;
                    }
                    (Err(g), Err(c)) => assert_eq!(g.to_string(), c.to_string()),
                    (g, c) => panic!("{index} {w}x{h} {dtype:?}: gpu {g:?} vs cpu {c:?}"),
                }
            }
        }
    }
    assert!(checked > 200, "only {checked} comparisons ran");
}

#[test]
fn classification_is_bit_identical_on_random_inputs() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let cpu = Engine::cpu();
    let mut rng = Rng(11);
    for (w, h) in SIZES {
        for dtype in TYPES {
            let stack = random_stack(&mut rng, w, h, dtype);
            let c = cpu.classify(&stack, &ClassThresholds::default());
            let g = gpu.classify(&stack, &ClassThresholds::default());
            match (g, c) {
                (Ok(g), Ok(c)) => {
                    assert_ran_on_gpu(&g.execution);
                    assert_same(
                        &g.output.data,
                        &c.output.data,
                        &format!("{w}x{h} {dtype:?}"),
                    );
                }
                (Err(g), Err(c)) => assert_eq!(g.to_string(), c.to_string()),
                (g, c) => panic!("{w}x{h} {dtype:?}: gpu {g:?} vs cpu {c:?}"),
            }
        }
    }
}

/// Fails with the first differing position rather than printing whole rasters.
fn assert_same<T: PartialEq + std::fmt::Debug>(gpu: &[T], cpu: &[T], what: &str) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: lengths differ");
    if let Some(i) = (0..gpu.len()).find(|&i| gpu[i] != cpu[i]) {
        let n = gpu.iter().zip(cpu).filter(|(g, c)| g != c).count();
        panic!(
            "{what}: {n} values differ; first at {i}: gpu {:?}, cpu {:?}",
            gpu[i], cpu[i]
        );
    }
}

/// Both change passes and the histogram agree bit for bit, for every method and for Otsu and
/// fixed thresholds, with and without normalization, also when chunked past the limits.
fn assert_change_parity(gpu: &Engine, seed: u64, sizes: &[(usize, usize)]) {
    let cpu = Engine::cpu();
    let mut rng = Rng(seed);
    let methods = [
        ChangeMethod::Combined,
        ChangeMethod::ChangeVector,
        ChangeMethod::PostClassification,
        ChangeMethod::IndexDifference(DifferencedIndex::Ndvi),
        ChangeMethod::IndexDifference(DifferencedIndex::Bsi),
        ChangeMethod::IndexDifference(DifferencedIndex::Ndbi),
        ChangeMethod::Contextual,
    ];
    for &(w, h) in sizes {
        for dtype in TYPES {
            let before = random_stack(&mut rng, w, h, dtype);
            let after = random_stack(&mut rng, w, h, dtype);
            for (k, method) in methods.into_iter().enumerate() {
                let options = ChangeOptions::new()
                    .with_method(method)
                    .with_threshold(if k == 1 {
                        Threshold::Fixed(900)
                    } else {
                        Threshold::Otsu
                    })
                    .with_normalize(k != 2);
                match (
                    gpu.detect_change(&before, &after, &options),
                    cpu.detect_change(&before, &after, &options),
                ) {
                    (Ok(g), Ok(c)) => {
                        assert_ran_on_gpu(&g.execution);
                        let (g, c) = (g.output, c.output);
                        let what = format!("{w}x{h} {dtype:?} {method:?}");
                        assert_same(
                            &g.class_before.data,
                            &c.class_before.data,
                            &format!("{what} class_before"),
                        );
                        assert_same(
                            &g.class_after.data,
                            &c.class_after.data,
                            &format!("{what} class_after"),
                        );
                        assert_same(
                            &g.direction.data,
                            &c.direction.data,
                            &format!("{what} direction"),
                        );
                        assert_same(
                            &g.magnitude.data,
                            &c.magnitude.data,
                            &format!("{what} magnitude"),
                        );
                        assert_same(&g.histogram, &c.histogram, &format!("{what} histogram"));
                        assert_eq!(g.threshold, c.threshold, "{what}");
                        assert_same(&g.change.data, &c.change.data, &format!("{what} change"));
                        let tg = TransitionMatrix::from_classes(&g.class_before, &g.class_after);
                        let tc = TransitionMatrix::from_classes(&c.class_before, &c.class_after);
                        assert_eq!(tg.unwrap(), tc.unwrap());
                        // The fused pass with the same relation and threshold: both backends
                        // give what the two passes gave.
                        let fixed = options
                            .with_relation(Some(c.relation))
                            .with_threshold(Threshold::Fixed(c.threshold));
                        let fg = gpu.detect_change_codes(&before, &after, &fixed).unwrap();
                        assert_ran_on_gpu(&fg.execution);
                        let fc = cpu.detect_change_codes(&before, &after, &fixed).unwrap();
                        for (f, backend) in [(fg.output, "gpu"), (fc.output, "cpu")] {
                            let what = format!("{what} fused on {backend}");
                            assert_same(&f.change.data, &c.change.data, &what);
                            assert_same(&f.class_before.data, &c.class_before.data, &what);
                            assert_same(&f.class_after.data, &c.class_after.data, &what);
                        }
                    }
                    (Err(g), Err(c)) => assert_eq!(g.to_string(), c.to_string()),
                    (g, c) => panic!("{w}x{h} {dtype:?}: gpu {g:?} vs cpu {c:?}"),
                }
            }
        }
    }
}

#[test]
fn change_detection_is_bit_identical_on_random_inputs() {
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        assert_change_parity(gpu, 13, &SIZES);
    }
}

/// GF-1, GF-2 and ZY-3 carry no SWIR: the contextual detector, the change vector and NDVI
/// differencing still run (and agree bit for bit), classified by the four-band rules; methods
/// that need SWIR1 name it.
#[test]
fn four_band_change_detection_is_bit_identical() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let mut rng = Rng(19);
    let four = |s: BandStack| {
        let bands = s.bands()[..4].to_vec();
        let mut f = BandStack::new(s.width(), s.height(), bands).unwrap();
        f.set_radiometry(s.radiometry).unwrap();
        f
    };
    for (w, h) in [(17, 15), (301, 233)] {
        for dtype in [DataType::U8, DataType::U16, DataType::F32] {
            let before = four(random_stack(&mut rng, w, h, dtype));
            let after = four(random_stack(&mut rng, w, h, dtype));
            for method in [
                ChangeMethod::Contextual,
                ChangeMethod::Combined,
                ChangeMethod::ChangeVector,
                ChangeMethod::IndexDifference(DifferencedIndex::Ndvi),
            ] {
                let options = ChangeOptions::new().with_method(method);
                let g = gpu.detect_change(&before, &after, &options).unwrap();
                let c = Engine::cpu()
                    .detect_change(&before, &after, &options)
                    .unwrap();
                assert_ran_on_gpu(&g.execution);
                let what = format!("4-band {w}x{h} {dtype:?} {method:?}");
                assert_same(&g.output.change.data, &c.output.change.data, &what);
                assert_same(&g.output.magnitude.data, &c.output.magnitude.data, &what);
                assert_same(
                    &g.output.class_after.data,
                    &c.output.class_after.data,
                    &what,
                );
                // The four-band rules classify every valid pixel.
                assert!(
                    (c.output.class_before.data.iter()).all(|&x| (1..=5).contains(&x) || x == 255)
                );
            }
            for method in [
                ChangeMethod::PostClassification,
                ChangeMethod::IndexDifference(DifferencedIndex::Bsi),
            ] {
                let options = ChangeOptions::new().with_method(method);
                for engine in [gpu, &Engine::cpu()] {
                    let err = engine.detect_change(&before, &after, &options).unwrap_err();
                    assert!(err.to_string().contains("swir1"), "{err}");
                }
            }
        }
    }
}

/// Stacks without nodata values take the CPU's fastest path (no validity test per sample).
#[test]
fn change_detection_without_nodata_is_bit_identical() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let mut rng = Rng(23);
    let without_nodata = |s: BandStack| {
        let bands = (s.bands().iter())
            .map(|b| Band::new(b.role.unwrap(), b.data.clone()))
            .collect();
        let mut stack = BandStack::new(s.width(), s.height(), bands).unwrap();
        stack.set_radiometry(s.radiometry).unwrap();
        stack
    };
    for (w, h) in [(17, 15), (301, 233)] {
        let before = without_nodata(random_stack(&mut rng, w, h, DataType::U16));
        let after = without_nodata(random_stack(&mut rng, w, h, DataType::U16));
        let c = Engine::cpu()
            .detect_change(&before, &after, &ChangeOptions::new())
            .unwrap();
        let g = gpu
            .detect_change(&before, &after, &ChangeOptions::new())
            .unwrap();
        assert_ran_on_gpu(&g.execution);
        let what = format!("{w}x{h} without nodata");
        assert_same(&g.output.magnitude.data, &c.output.magnitude.data, &what);
        assert_same(&g.output.change.data, &c.output.change.data, &what);
        let fixed = ChangeOptions::new()
            .with_relation(Some(c.output.relation))
            .with_threshold(Threshold::Fixed(c.output.threshold));
        for engine in [gpu, &Engine::cpu()] {
            let f = engine.detect_change_codes(&before, &after, &fixed).unwrap();
            assert_same(&f.output.change.data, &c.output.change.data, &what);
            assert_same(
                &f.output.class_after.data,
                &c.output.class_after.data,
                &what,
            );
        }
    }
}

#[test]
fn change_detection_past_the_gpu_limits_is_bit_identical() {
    let options = GpuOptions::default()
        .with_max_binding_bytes(Some(300 * 1024))
        .with_max_workgroups_per_dim(Some(8));
    if let Some(gpu) = gpu_engine(options) {
        assert_change_parity(gpu, 17, &[(300, 200)]);
    }
}

/// Pixels placed exactly on every threshold: a decision that divided would flip some of them
/// on one backend only.
#[test]
fn classification_agrees_exactly_on_threshold_boundaries() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let t = ClassThresholds::default()
        .with_water_ndwi(0.1)
        .with_water_mndwi(0.1)
        .with_vegetation_ndvi(0.3)
        .with_bare_soil_bsi(0.1)
        .with_built_up_ndbi(0.1);
    let mut rng = Rng(3);
    let n = 50_000;
    // nir = red·(1 + t)/(1 − t) puts NDVI on t up to rounding.
    let mut bands: Vec<Vec<f32>> = vec![Vec::new(); 6];
    for _ in 0..n {
        let red = 0.01 + rng.unit() as f32 * 0.3;
        let nir = red * 1.3 / 0.7;
        let green = nir * 1.1 / 0.9;
        let swir1 = nir * 1.1 / 0.9 * (1.0 + (rng.unit() as f32 - 0.5) * 1e-6);
        let blue = rng.unit() as f32 * 0.2;
        for (b, v) in bands.iter_mut().zip([blue, green, red, nir, swir1, swir1]) {
            b.push(v);
        }
    }
    let stack = BandStack::new(
        n,
        1,
        BandRole::ALL
            .iter()
            .zip(bands)
            .map(|(&r, v)| Band::new(r, BandData::F32(v)))
            .collect(),
    )
    .unwrap();
    let g = gpu.classify(&stack, &t).unwrap();
    let c = Engine::cpu().classify(&stack, &t).unwrap();
    assert_ran_on_gpu(&g.execution);
    assert_same(&g.output.data, &c.output.data, "classes");
    let classes: std::collections::BTreeSet<u8> = c.output.data.iter().copied().collect();
    assert!(
        classes.len() >= 2,
        "boundary set should split classes: {classes:?}"
    );
}

/// A raster larger than the (artificially lowered) binding and workgroup limits is processed
/// in chunks with a 2-D dispatch and still equals the CPU result.
#[test]
fn rasters_past_the_gpu_limits_are_chunked() {
    let options = GpuOptions::default()
        .with_max_binding_bytes(Some(64 * 1024))
        .with_max_workgroups_per_dim(Some(8));
    let Some(gpu) = gpu_engine(options) else {
        return;
    };
    let mut rng = Rng(5);
    // 6 u16 slots × 2 bytes → a 64 KiB binding holds 5,461 pixels; 8 × 8 workgroups hold
    // 16,384 invocations: 250,000 pixels need dozens of chunks and y > 1 in each dispatch.
    let stack = random_stack(&mut rng, 500, 500, DataType::U16);
    let c = Engine::cpu()
        .classify(&stack, &ClassThresholds::default())
        .unwrap();
    let g = gpu.classify(&stack, &ClassThresholds::default()).unwrap();
    assert_ran_on_gpu(&g.execution);
    assert_same(&g.output.data, &c.output.data, "classes");
    for index in [SpectralIndex::Ndvi, SpectralIndex::Bsi] {
        let c = Engine::cpu().index(&stack, index).unwrap();
        let g = gpu.index(&stack, index).unwrap();
        assert_ran_on_gpu(&g.execution);
        assert_index_parity(&stack, index, &g.output.data, &c.output.data);
    }
}
