//! `Backend::Auto` keeps whichever backend a measurement of the caller's work found faster,
//! and every later call runs there; `Cpu` and `Gpu` engines are never re-routed.

mod common;

use common::{gpu_engine, taizhou};
use landwatch::{Backend, Device, Engine, GpuOptions, SpectralIndex};

#[test]
fn auto_runs_where_the_measurement_was_faster() {
    // The adapter the GPU tests use (a software one in CI): make an Auto engine on it.
    if gpu_engine(GpuOptions::default()).is_none() {
        return;
    }
    let auto = Engine::with_options(
        Backend::Auto,
        &GpuOptions::default().with_allow_software(true),
    );
    let before = taizhou("Taizhou_t1.tif");
    let choice = auto
        .choose_by_measurement(|e| e.index(&before, SpectralIndex::Ndvi).map(|_| ()))
        .unwrap()
        .expect("an Auto engine with a GPU measures");
    eprintln!(
        "gpu {:.4} s, cpu {:.4} s: {}",
        choice.gpu_seconds, choice.cpu_seconds, choice.chosen
    );
    assert!(choice.gpu_seconds > 0.0 && choice.cpu_seconds > 0.0);
    let cpu_faster = choice.cpu_seconds < choice.gpu_seconds;
    assert_eq!(matches!(choice.chosen, Device::Cpu { .. }), cpu_faster);
    let ran = auto.index(&before, SpectralIndex::Ndvi).unwrap().execution;
    assert_eq!(
        ran.device, choice.chosen,
        "later calls run on the chosen device"
    );
    assert!(ran.fallback.is_none());
}

#[test]
fn explicit_backends_are_not_measured() {
    let before = taizhou("Taizhou_t1.tif");
    let work = |e: &Engine| e.index(&before, SpectralIndex::Ndvi).map(|_| ());
    assert!(Engine::cpu().choose_by_measurement(work).unwrap().is_none());
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        assert!(gpu.choose_by_measurement(work).unwrap().is_none());
        let ran = gpu.index(&before, SpectralIndex::Ndvi).unwrap().execution;
        assert!(matches!(ran.device, Device::Gpu(_)));
    }
}
