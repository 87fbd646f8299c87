//! Bad input gets a typed error and never a panic, on both backends.

mod common;

use common::gpu_engine;
use landwatch::{
    Backend, Band, BandData, BandRole, BandStack, ClassThresholds, Device, Engine, Error,
    GpuFailureKind, GpuOptions, INDEX_NODATA, Sensor, SpectralIndex, classify,
};

fn engines() -> Vec<&'static Engine> {
    static CPU: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    let mut engines = vec![CPU.get_or_init(Engine::cpu)];
    engines.extend(gpu_engine(GpuOptions::default()));
    engines
}

fn six_band_u16(values: [u16; 6], n: usize) -> BandStack {
    let bands = BandRole::ALL
        .iter()
        .zip(values)
        .map(|(&r, v)| Band::new(r, BandData::U16(vec![v; n])))
        .collect();
    BandStack::new(n, 1, bands).unwrap()
}

#[test]
fn zero_size_raster_is_refused() {
    let err = BandStack::new(0, 10, vec![]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::EmptyRaster {
                width: 0,
                height: 10
            }
        ),
        "{err}"
    );
    let err = BandStack::from_sensor(5, 0, vec![], &Sensor::landsat_dn()).unwrap_err();
    assert!(matches!(err, Error::EmptyRaster { .. }), "{err}");
}

#[test]
fn mismatched_band_sizes_are_refused() {
    let red = Band::new(BandRole::Red, BandData::U16(vec![1; 12]));
    let nir = Band::new(BandRole::Nir, BandData::U16(vec![1; 11]));
    let err = BandStack::new(4, 3, vec![red, nir]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BandLength {
                band: 1,
                len: 11,
                expected: 12,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_missing_band_is_named() {
    // GF-2 has no SWIR: the bare-soil index must say so.
    let data = (0..4).map(|_| BandData::U16(vec![100; 4])).collect();
    let stack = BandStack::from_sensor(2, 2, data, &Sensor::preset("gf2").unwrap()).unwrap();
    for engine in engines() {
        let err = engine.index(&stack, SpectralIndex::Bsi).unwrap_err();
        match &err {
            Error::MissingBand {
                role, needed_by, ..
            } => {
                assert_eq!(*role, BandRole::Swir1);
                assert_eq!(needed_by, "BSI");
            }
            other => panic!("expected MissingBand, got {other}"),
        }
        assert!(err.to_string().contains("swir1"), "{err}");
        // Classification falls back to the documented four-band rules instead.
        let classes = engine
            .classify(&stack, &ClassThresholds::default())
            .unwrap()
            .output;
        assert!(classes.data.iter().all(|c| (1..=5).contains(c)));
        // NDVI needs only red and NIR, which GF-2 has.
        assert!(engine.index(&stack, SpectralIndex::Ndvi).is_ok());
    }
}

#[test]
fn all_nodata_input_is_an_error() {
    for engine in engines() {
        let mut stack = six_band_u16([0; 6], 1000);
        stack.set_nodata(Some(0.0));
        let err = engine.index(&stack, SpectralIndex::Ndvi).unwrap_err();
        assert!(matches!(err, Error::AllNodata { .. }), "{err}");
        let err = engine
            .classify(&stack, &ClassThresholds::default())
            .unwrap_err();
        assert!(matches!(err, Error::AllNodata { .. }), "{err}");
    }
}

#[test]
fn nan_pixels_become_nodata_and_all_nan_is_an_error() {
    for engine in engines() {
        let bands = |nir: Vec<f32>| {
            vec![
                Band::new(BandRole::Red, BandData::F32(vec![0.1, 0.1, 0.1, 0.1])),
                Band::new(BandRole::Nir, BandData::F32(nir)),
            ]
        };
        let stack = BandStack::new(4, 1, bands(vec![0.3, f32::NAN, f32::INFINITY, 0.1])).unwrap();
        let ndvi = engine
            .index(&stack, SpectralIndex::Ndvi)
            .unwrap()
            .output
            .data;
        assert!((ndvi[0] - 0.5).abs() < 1e-6);
        assert_eq!(&ndvi[1..], &[INDEX_NODATA, INDEX_NODATA, 0.0]);
        assert!(ndvi.iter().all(|v| v.is_finite()));

        let stack = BandStack::new(4, 1, bands(vec![f32::NAN; 4])).unwrap();
        let err = engine.index(&stack, SpectralIndex::Ndvi).unwrap_err();
        assert!(matches!(err, Error::AllNodata { .. }), "{err}");
    }
}

#[test]
fn nan_or_out_of_range_parameters_are_refused() {
    let stack = six_band_u16([100, 200, 300, 400, 500, 600], 4);
    let bad = ClassThresholds::default().with_vegetation_ndvi(f64::NAN);
    let err = Engine::cpu().classify(&stack, &bad).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { .. }), "{err}");
    assert!(err.to_string().contains("vegetation_ndvi"), "{err}");
    let bad = ClassThresholds::default().with_bare_soil_bsi(3.0);
    assert!(Engine::cpu().classify(&stack, &bad).is_err());
    let mut stack = stack;
    let err = stack
        .set_radiometry(landwatch::Radiometry {
            scale: 0.0,
            offset: 0.0,
        })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { .. }), "{err}");
    assert!(Sensor::generic(vec![BandRole::Red], f64::NAN, 0.0).is_err());
}

#[test]
fn zero_denominator_gives_nodata_never_nan_or_inf() {
    for engine in engines() {
        // Red = NIR = 0 with no nodata value set: NDVI's denominator is zero.
        let stack = six_band_u16([0; 6], 8);
        let err = engine.index(&stack, SpectralIndex::Ndvi).unwrap_err();
        assert!(matches!(err, Error::AllNodata { .. }), "{err}");
        let mut values = six_band_u16([10, 20, 30, 40, 50, 60], 8);
        values.set_nodata(None);
        let savi = engine
            .index(&values, SpectralIndex::Savi)
            .unwrap()
            .output
            .data;
        assert!(savi.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn u16_inputs_never_overflow() {
    // xarray-spatial#726: NDVI on u16 came out as 6e18. Here it is the exact ratio.
    for engine in engines() {
        let red = Band::new(BandRole::Red, BandData::U16(vec![65535, 1, 65534]));
        let nir = Band::new(BandRole::Nir, BandData::U16(vec![65535, 65535, 65535]));
        let stack = BandStack::new(3, 1, vec![red, nir]).unwrap();
        let ndvi = engine
            .index(&stack, SpectralIndex::Ndvi)
            .unwrap()
            .output
            .data;
        let expected = [0.0, 65534.0 / 65536.0, 1.0 / 131069.0];
        for (got, want) in ndvi.iter().zip(expected) {
            assert!((f64::from(*got) - want).abs() < 1e-7, "{got} vs {want}");
        }
    }
}

#[test]
fn a_gpu_that_cannot_take_the_job_falls_back_to_the_cpu_and_says_why() {
    // A binding too small for even one chunk: the GPU refuses with LimitExceeded.
    let options = GpuOptions::default().with_max_binding_bytes(Some(64));
    let Some(engine) = gpu_engine(options) else {
        return;
    };
    let stack = six_band_u16([100, 200, 300, 400, 500, 600], 5000);
    let run = engine
        .classify(&stack, &ClassThresholds::default())
        .unwrap();
    assert!(matches!(run.execution.device, Device::Cpu { .. }));
    let why = run.execution.fallback.expect("fallback reason");
    assert_eq!(why.kind, GpuFailureKind::LimitExceeded, "{why}");
    let cpu = Engine::cpu()
        .classify(&stack, &ClassThresholds::default())
        .unwrap();
    assert_eq!(run.output.data, cpu.output.data);
}

#[test]
fn auto_never_picks_a_software_adapter() {
    let engine = Engine::new(Backend::Auto);
    if let Some(adapter) = engine.gpu_adapter() {
        assert!(!adapter.is_software, "Auto chose {adapter}");
    } else {
        eprintln!(
            "Auto runs on the CPU: {}",
            engine
                .gpu_unavailable()
                .map(|e| e.to_string())
                .unwrap_or_default()
        );
    }
    // Asking for a GPU explicitly with no usable adapter reports why the CPU was used.
    let run = Engine::new(Backend::Cpu)
        .classify(
            &six_band_u16([100, 200, 300, 400, 500, 600], 4),
            &ClassThresholds::default(),
        )
        .unwrap();
    assert!(run.execution.fallback.is_none());
    assert!(run.output.data.iter().all(|&c| c != classify::CLASS_NODATA));
}
