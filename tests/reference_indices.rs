//! The built-in indices against the published catalogue values: 120 real Landsat-8 surface
//! reflectance samples with NDVI, BI (bare-soil index), NDWI, NDBI, SAVI, EVI and MNDWI
//! evaluated in float64 by the Awesome Spectral Indices reference (data/spectral_indices).

mod common;

use common::{ReferenceSamples, assert_ran_on_gpu, gpu_engine};
use landwatch::{BandStack, Engine, GpuOptions, SpectralIndex};

struct Samples {
    stack: BandStack,
    expected: Vec<(SpectralIndex, Vec<f64>)>,
}

fn load_samples() -> Samples {
    let samples = ReferenceSamples::load();
    let expected = [
        (SpectralIndex::Ndvi, "NDVI"),
        (SpectralIndex::Bsi, "BI"),
        (SpectralIndex::Ndwi, "NDWI"),
        (SpectralIndex::Ndbi, "NDBI"),
        (SpectralIndex::Savi, "SAVI"),
        (SpectralIndex::Evi, "EVI"),
        (SpectralIndex::Mndwi, "MNDWI"),
    ]
    .into_iter()
    .map(|(index, name)| (index, samples.column(name)))
    .collect();
    Samples {
        stack: samples.stack,
        expected,
    }
}

fn check(engine: &Engine, on_gpu: bool) {
    let samples = load_samples();
    assert_eq!(samples.stack.len(), 120);
    for (index, expected) in &samples.expected {
        let computed = engine.index(&samples.stack, *index).unwrap();
        if on_gpu {
            assert_ran_on_gpu(&computed.execution);
        }
        let worst = computed
            .output
            .data
            .iter()
            .zip(expected)
            .map(|(&got, &want)| (f64::from(got) - want).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 1e-5, "{index}: worst error {worst:e} exceeds 1e-5");
    }
}

#[test]
fn cpu_matches_the_catalogue_to_1e5() {
    check(&Engine::cpu(), false);
}

#[test]
fn gpu_matches_the_catalogue_to_1e5() {
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        check(gpu, true);
    }
}
