//! The per-pixel kernels timed on the GPU with their inputs already on the device (no
//! host–device transfer), set against the device's own copy bandwidth: what the kernels
//! sustain on the device, next to the end-to-end figures of the `kernels` and `change` benches
//! (which include the PCIe transfers). See `Engine::device_profile`.
//!
//! Runs only on a real adapter; a software adapter (llvmpipe) is profiled only with
//! `LANDWATCH_BENCH_SOFTWARE=1`. On the CPU alone it prints why it skipped. Criterion's
//! command-line options are accepted and ignored.
//!
//! Run: `cargo bench --bench gpu_resident`

#[path = "support/engines.rs"]
mod support;

fn main() {
    let Some((_, gpu)) = support::engines()
        .into_iter()
        .find(|(name, _)| name == "gpu")
    else {
        println!("GPU resident benchmarks skipped: no GPU engine (see the line above)");
        return;
    };
    let mut roof_printed = false;
    for pixels in [1usize << 20, 1 << 24] {
        let (before, after) = support::pair(pixels);
        let profile = match gpu.device_profile(&before, &after) {
            Ok(Some(p)) => p,
            Ok(None) => unreachable!("the engine has a GPU"),
            Err(e) => {
                println!("GPU resident benchmark failed at {}Mpx: {e}", pixels >> 20);
                std::process::exit(1);
            }
        };
        if !roof_printed {
            println!("\ndevice: {}", profile.adapter);
            println!(
                "{:<13} {:<9} {:>9} {:>9} {:>9} {:>9} {:>7}",
                "kernel", "size", "µs", "Mpx/s", "GB/s", "roofline", "output"
            );
            roof_printed = true;
        }
        println!(
            "{:<13} {:<9} {:>9} {:>9} {:>9.1} {:>8.0}% {:>7}",
            "device-copy",
            format!("{}MiB", profile.copy_bytes >> 20),
            "",
            "",
            profile.copy_bytes_per_second / 1e9,
            100.0,
            ""
        );
        for k in &profile.kernels {
            println!(
                "{:<13} {:<9} {:>9.1} {:>9.0} {:>9.1} {:>8.0}% {:>7}",
                k.kernel,
                format!("{:.1}Mpx", k.pixels as f64 / (1u64 << 20) as f64),
                k.seconds_per_dispatch * 1e6,
                k.pixels_per_second() / 1e6,
                k.bytes_per_second() / 1e9,
                100.0 * profile.roofline_fraction(k),
                if k.matches_normal_path {
                    "same"
                } else {
                    "DIFFERS"
                }
            );
        }
    }
}
