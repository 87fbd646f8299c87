//! Shared by the benches: the backends to time and a synthetic six-band stack.
#![allow(dead_code)] // each bench uses part of it

use landwatch::{Backend, Band, BandData, BandRole, BandStack, Engine, GpuOptions, Sensor};

/// The CPU engine, and a GPU engine when a real adapter exists. A software adapter (llvmpipe)
/// is timed only with `LANDWATCH_BENCH_SOFTWARE=1`: it is a correctness device, not a speed
/// target. Prints which adapter runs, or why the GPU variants are skipped.
pub fn engines() -> Vec<(String, Engine)> {
    let mut engines = vec![("cpu".to_string(), Engine::new(Backend::Cpu))];
    let software = std::env::var("LANDWATCH_BENCH_SOFTWARE").as_deref() == Ok("1");
    let gpu = Engine::with_options(
        Backend::Auto,
        &GpuOptions::default().with_allow_software(software),
    );
    match gpu.gpu_adapter() {
        Some(adapter) => {
            eprintln!("GPU benchmarks on {adapter}");
            engines.push(("gpu".to_string(), gpu));
        }
        None => eprintln!(
            "GPU benchmarks skipped: {}",
            gpu.gpu_unavailable()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
    }
    engines
}

/// A seeded xorshift generator of `n` u16 values in `[lo, lo + span)`.
pub fn values(seed: &mut u64, n: usize, lo: u16, span: u64) -> Vec<u16> {
    (0..n)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed % span) as u16 + lo
        })
        .collect()
}

/// A six-band u16 stack with Sentinel-2-like reflectance values (L1C radiometry).
pub fn stack(pixels: usize) -> BandStack {
    let mut seed = 0x2545F4914F6CDD1Du64;
    let bands = BandRole::ALL
        .iter()
        .map(|&role| Band::new(role, BandData::U16(values(&mut seed, pixels, 200, 6000))))
        .collect();
    let mut s = BandStack::new(pixels, 1, bands).unwrap();
    s.set_radiometry(Sensor::sentinel2_l1c().radiometry)
        .unwrap();
    s
}

/// Two dates of Sentinel-2-like reflectance; the second brighter, with 5% of pixels changed;
/// rows of 2,048 pixels when `pixels` is a multiple of it (neighbourhood kernels see a scene),
/// else one row.
pub fn pair(pixels: usize) -> (BandStack, BandStack) {
    let width = if pixels.is_multiple_of(2048) {
        2048
    } else {
        pixels
    };
    let mut seed = 0x9E3779B97F4A7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut before = Vec::new();
    let mut after = Vec::new();
    for _ in BandRole::ALL {
        let b: Vec<u16> = (0..pixels).map(|_| (next() % 3000) as u16 + 300).collect();
        let a: Vec<u16> = b
            .iter()
            .map(|&v| {
                if next() % 20 == 0 {
                    (next() % 5000) as u16 + 200
                } else {
                    v + v / 10 + 50
                }
            })
            .collect();
        before.push(BandData::U16(b));
        after.push(BandData::U16(a));
    }
    let stack = |data: Vec<BandData>| {
        let bands = BandRole::ALL
            .iter()
            .zip(data)
            .map(|(&r, d)| Band::new(r, d))
            .collect();
        let mut s = BandStack::new(width, pixels / width, bands).unwrap();
        s.set_radiometry(Sensor::sentinel2_l1c().radiometry)
            .unwrap();
        s
    };
    (stack(before), stack(after))
}
