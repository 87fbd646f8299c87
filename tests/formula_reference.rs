//! Formulas against the published catalogue values: NDVI, BI, NDWI, NDBI, SAVI, EVI and MNDWI
//! written as formulas (from `data/spectral_indices/formulas_subset.json` and from the
//! embedded catalogue) on 120 real Landsat-8 surface-reflectance samples, to 1e-5 on both
//! backends.

mod common;

use common::{ReferenceSamples, assert_ran_on_gpu, data, gpu_engine};
use landwatch::formula::Formula;
use landwatch::{Engine, GpuOptions, INDEX_NODATA};

const NAMES: [&str; 7] = ["NDVI", "BI", "NDWI", "NDBI", "SAVI", "EVI", "MNDWI"];

/// The formulas of `formulas_subset.json`, parsed with their listed constants.
fn subset_formulas() -> Vec<(String, Formula)> {
    let text = std::fs::read_to_string(data("spectral_indices/formulas_subset.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    NAMES
        .iter()
        .map(|&name| {
            let entry = &json[name];
            let mut f = Formula::parse(entry["formula"].as_str().unwrap()).unwrap();
            for (c, v) in entry["constants"].as_object().unwrap() {
                f = f.with_constant(c, v.as_f64().unwrap()).unwrap();
            }
            (name.to_string(), f)
        })
        .collect()
}

fn catalogue_formulas() -> Vec<(String, Formula)> {
    NAMES
        .iter()
        .map(|&n| (n.to_string(), Formula::catalogue(n).unwrap()))
        .collect()
}

fn check(engine: &Engine, formulas: &[(String, Formula)], on_gpu: bool) {
    let samples = ReferenceSamples::load();
    assert_eq!(samples.stack.len(), 120);
    for (name, formula) in formulas {
        let expected = samples.column(name);
        let computed = engine.formula(&samples.stack, formula).unwrap();
        if on_gpu {
            assert_ran_on_gpu(&computed.execution);
        }
        let mut worst = 0.0f64;
        for (&got, &want) in computed.output.data.iter().zip(&expected) {
            assert_ne!(got, INDEX_NODATA, "{name}: a valid sample became nodata");
            worst = worst.max((f64::from(got) - want).abs());
        }
        assert!(worst <= 1e-5, "{name}: worst error {worst:e} exceeds 1e-5");
        eprintln!("{name}: worst error {worst:e}");
    }
}

#[test]
fn subset_formulas_match_the_reference_on_cpu() {
    check(&Engine::cpu(), &subset_formulas(), false);
}

#[test]
fn catalogue_formulas_match_the_reference_on_cpu() {
    check(&Engine::cpu(), &catalogue_formulas(), false);
}

#[test]
fn subset_formulas_match_the_reference_on_gpu() {
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        check(gpu, &subset_formulas(), true);
    }
}

#[test]
fn catalogue_formulas_match_the_reference_on_gpu() {
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        check(gpu, &catalogue_formulas(), true);
    }
}

#[test]
fn the_subset_and_the_catalogue_agree_on_the_formulas() {
    for ((name, a), (_, b)) in subset_formulas().iter().zip(&catalogue_formulas()) {
        assert_eq!(a.text(), b.text(), "{name}");
        assert_eq!(a.constants(), b.constants(), "{name}");
    }
}
