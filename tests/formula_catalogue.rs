//! Every catalogue index whose bands map to landwatch roles parses and runs, and the GPU
//! agrees with the CPU on random reflectances within each formula's stated tolerance, or
//! within what rounding costs at that pixel where the formula cancels (see
//! `condition_bound`): on the NVIDIA H200, IBI, NDDI and VIBI differed by up to 4e-4.

mod common;

use common::{Rng, assert_ran_on_gpu, gpu_engine};
use landwatch::formula::{Formula, catalogue};
use landwatch::{Band, BandData, BandRole, BandStack, Engine, GpuOptions, INDEX_NODATA};

/// Runnable catalogue indices measured when this test was written (194 of 328: the others
/// need radar or red-edge, thermal, ... bands, `kernel(...)`, `spatial_max(...)` or `PAR`);
/// the count may grow, never fall.
const MIN_RUNNABLE: usize = 194;

/// Central wavelengths (nm, Sentinel-2) for the constants the catalogue leaves to the user.
const WAVELENGTHS: [(&str, f64); 6] = [
    ("lambdaG", 560.0),
    ("lambdaR", 665.0),
    ("lambdaN", 842.0),
    ("lambdaN2", 865.0),
    ("lambdaS1", 1610.0),
    ("lambdaS2", 2190.0),
];

/// Every catalogue index that parses, with its wavelength constants set.
fn runnable() -> Vec<Formula> {
    let mut out = Vec::new();
    for entry in catalogue().unwrap() {
        let Ok(mut f) = Formula::catalogue(&entry.short_name) else {
            continue;
        };
        for (name, v) in WAVELENGTHS {
            if f.constants().iter().any(|(n, _)| *n == name) {
                f = f.with_constant(name, v).unwrap();
            }
        }
        out.push(f);
    }
    out
}

/// Six bands of random reflectance in [0.01, 0.61).
fn random_stack(pixels: usize, seed: u64) -> BandStack {
    let mut rng = Rng(seed);
    let bands = BandRole::ALL
        .iter()
        .map(|&role| {
            let v = (0..pixels)
                .map(|_| 0.01 + 0.6 * rng.unit() as f32)
                .collect();
            Band::new(role, BandData::F32(v))
        })
        .collect();
    BandStack::new(pixels, 1, bands).unwrap()
}

#[test]
fn every_index_with_available_bands_parses_and_runs() {
    let formulas = runnable();
    let stack = random_stack(1000, 1);
    let engine = Engine::cpu();
    let mut ran = Vec::new();
    for f in &formulas {
        match engine.formula(&stack, f) {
            Ok(out) => {
                assert_eq!(out.output.data.len(), 1000);
                ran.push(f.to_string());
            }
            Err(e) => eprintln!("{f}: {e}"),
        }
    }
    eprintln!("{} catalogue indices run: {}", ran.len(), ran.join(" "));
    assert!(
        ran.len() >= MIN_RUNNABLE,
        "only {} catalogue indices run, expected at least {MIN_RUNNABLE}",
        ran.len()
    );
}

/// Per pixel, how far rounding can move the value: 16 × the sum over bands of how much the
/// value moves (on the CPU) when that band moves by one f32 ulp, estimated by moving it 8
/// ulp. Well-conditioned formulas get a bound far below the formula's own tolerance; those
/// that subtract nearly equal quotients (IBI, NDDI, VIBI) get what their cancellation costs.
fn condition_bound(cpu: &Engine, stack: &BandStack, f: &Formula, base: &[f32]) -> Vec<f64> {
    let mut bound = vec![0.0f64; base.len()];
    for b in 0..stack.bands().len() {
        let mut moved = stack.clone();
        let mut bands = moved.bands().to_vec();
        if let BandData::F32(v) = &mut bands[b].data {
            v.iter_mut().for_each(|x| *x *= 1.0 + 8.0 * f32::EPSILON);
        }
        moved = BandStack::new(stack.width(), stack.height(), bands).unwrap();
        let Ok(out) = cpu.formula(&moved, f) else {
            continue;
        };
        for ((k, &v), &w) in bound.iter_mut().zip(base).zip(&out.output.data) {
            if v != INDEX_NODATA && w != INDEX_NODATA {
                *k += 16.0 * f64::from(v - w).abs() / 8.0;
            }
        }
    }
    bound
}

#[test]
fn gpu_and_cpu_agree_on_every_runnable_index() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let stack = random_stack(4096, 7);
    let cpu = Engine::cpu();
    let mut failures = Vec::new();
    for f in runnable() {
        let Ok(c) = cpu.formula(&stack, &f) else {
            continue;
        };
        let g = gpu.formula(&stack, &f).unwrap();
        assert_ran_on_gpu(&g.execution);
        let tol = f.backend_tolerance();
        let conditioning = condition_bound(&cpu, &stack, &f, &c.output.data);
        let mut worst = 0.0f64;
        let mut nodata_mismatch = 0;
        for ((&a, &b), &k) in c.output.data.iter().zip(&g.output.data).zip(&conditioning) {
            if (a == INDEX_NODATA) != (b == INDEX_NODATA) {
                nodata_mismatch += 1;
                continue;
            }
            // Relative to the larger of the formula's bound and the conditioning bound.
            let err = f64::from(a - b).abs() / f64::from(a.abs()).max(1.0);
            let allowed = (k / f64::from(a.abs()).max(1.0)).max(tol);
            worst = worst.max(err * tol / allowed);
        }
        if worst > tol || nodata_mismatch > 0 {
            failures.push(format!(
                "{f} ({}): worst {worst:e} > {tol:e} or {nodata_mismatch} nodata mismatches",
                f.text()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
