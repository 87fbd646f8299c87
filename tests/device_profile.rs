//! `Engine::device_profile`: device-resident kernel timings and the device copy roofline are
//! sane, and the resident runs still compute what the ordinary path computes.

mod common;

use common::{gpu_engine, taizhou};
use landwatch::{Engine, GpuOptions};

fn assert_sane(profile: &landwatch::backend::DeviceProfile, whole: u64, chunked: bool) {
    eprintln!(
        "{}: copy {:.2} GB/s over {} MiB",
        profile.adapter,
        profile.copy_bytes_per_second / 1e9,
        profile.copy_bytes >> 20
    );
    assert!(profile.copy_bytes_per_second.is_finite() && profile.copy_bytes_per_second > 0.0);
    assert!(profile.copy_bytes > 0);
    let names: Vec<&str> = profile.kernels.iter().map(|k| k.kernel).collect();
    let expected = [
        "ndvi",
        "classify",
        "change-pass1",
        "change-fused",
        "change-codes",
    ];
    assert_eq!(names, expected);
    for k in &profile.kernels {
        eprintln!(
            "  {:<13} {:>8} px  {:>10.1} µs  {:>8.1} Mpx/s  {:>6.2} GB/s  {:>5.1}% of copy",
            k.kernel,
            k.pixels,
            k.seconds_per_dispatch * 1e6,
            k.pixels_per_second() / 1e6,
            k.bytes_per_second() / 1e9,
            100.0 * profile.roofline_fraction(k)
        );
        assert!(
            k.seconds_per_dispatch.is_finite() && k.seconds_per_dispatch > 0.0,
            "{k:?}"
        );
        assert!(k.pixels > 0 && k.pixels <= whole, "{k:?}");
        assert_eq!(k.pixels < whole, chunked, "{k:?}");
        assert!(k.bytes_per_dispatch > k.pixels, "{k:?}");
        assert!(
            k.pixels_per_second().is_finite() && profile.roofline_fraction(k) > 0.0,
            "{k:?}"
        );
        assert!(
            k.matches_normal_path,
            "{}: resident output differs",
            k.kernel
        );
    }
}

#[test]
fn device_profile_on_the_taizhou_pair() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let (before, after) = (taizhou("Taizhou_t1.tif"), taizhou("Taizhou_t2.tif"));
    let profile = gpu.device_profile(&before, &after).unwrap().unwrap();
    assert_sane(&profile, before.len() as u64, false);
    // Bytes as stored: NDVI reads 2 u8 bands and writes f32; pass 1 and the fused pass read
    // 12 and write a word.
    let per_pixel: Vec<u64> = profile
        .kernels
        .iter()
        .map(|k| k.bytes_per_dispatch / k.pixels)
        .collect();
    assert_eq!(per_pixel, [2 + 4, 5 + 1, 12 + 4, 12 + 4, 4 + 1]);
}

/// Past the binding limit only the first chunk is timed, and it still matches.
#[test]
fn device_profile_times_the_first_chunk_past_the_limits() {
    let options = GpuOptions::default()
        .with_max_binding_bytes(Some(256 * 1024))
        .with_max_workgroups_per_dim(Some(16));
    let Some(gpu) = gpu_engine(options) else {
        return;
    };
    let (before, after) = (taizhou("Taizhou_t1.tif"), taizhou("Taizhou_t2.tif"));
    let profile = gpu.device_profile(&before, &after).unwrap().unwrap();
    assert_sane(&profile, before.len() as u64, true);
}

#[test]
fn device_profile_is_none_on_the_cpu() {
    let (before, after) = (taizhou("Taizhou_t1.tif"), taizhou("Taizhou_t2.tif"));
    assert!(
        Engine::cpu()
            .device_profile(&before, &after)
            .unwrap()
            .is_none()
    );
}
