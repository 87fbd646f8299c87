//! Device-resident timing of the per-pixel kernels, set against the device's own copy
//! bandwidth: what the GPU itself sustains, without the host–device transfers that the
//! ordinary entry points (and so the end-to-end benches) include.

#[cfg(doc)]
use super::Engine;
use super::gpu::{AdapterSummary, GpuContext};
use crate::error::Result;
use crate::raster::BandStack;
#[cfg(feature = "gpu")]
use {
    super::cpu,
    super::gpu::PixelKernel,
    crate::change::detect::{codes_job, decide_in_pass},
    crate::change::{ChangeOptions, otsu, relate_dates},
    crate::classify::ClassThresholds,
    crate::error::{Error, GpuFailure},
    crate::index::SpectralIndex,
    crate::pixel::PixelJob,
    crate::raster::BandData,
};

/// One per-pixel kernel timed with its inputs already on the device.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelProfile {
    /// The kernel: `ndvi`, `classify`, `change-pass1`, `change-fused` or `change-codes`.
    pub kernel: &'static str,
    /// Pixels per dispatch (the stack's, or the first chunk's when the adapter's binding
    /// limit splits the stack).
    pub pixels: u64,
    /// Wall seconds per dispatch, averaged over one submission of many dispatches.
    pub seconds_per_dispatch: f64,
    /// Bytes one dispatch moves: its input samples as stored plus its output.
    pub bytes_per_dispatch: u64,
    /// True when the resident run's output equals, byte for byte, the ordinary entry point's
    /// on the same pixels.
    pub matches_normal_path: bool,
}

impl KernelProfile {
    /// Pixels per second on the device.
    pub fn pixels_per_second(&self) -> f64 {
        self.pixels as f64 / self.seconds_per_dispatch
    }

    /// Bytes (read plus written) per second on the device.
    pub fn bytes_per_second(&self) -> f64 {
        self.bytes_per_dispatch as f64 / self.seconds_per_dispatch
    }
}

/// The device's copy bandwidth and the per-pixel kernels' resident timings
/// ([`Engine::device_profile`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceProfile {
    /// The adapter that was timed.
    pub adapter: AdapterSummary,
    /// Bytes of one timed device-to-device copy.
    pub copy_bytes: u64,
    /// Device copy bandwidth, bytes read plus bytes written per second: the roofline.
    pub copy_bytes_per_second: f64,
    /// The kernels, in the order above.
    pub kernels: Vec<KernelProfile>,
}

impl DeviceProfile {
    /// A kernel's bandwidth as a fraction of the device copy bandwidth.
    pub fn roofline_fraction(&self, kernel: &KernelProfile) -> f64 {
        kernel.bytes_per_second() / self.copy_bytes_per_second
    }
}

/// Wall time aimed at for one timed submission.
#[cfg(feature = "gpu")]
fn target_seconds(software: bool) -> f64 {
    if software { 0.05 } else { 0.2 }
}

/// [`Engine::device_profile`] on `gpu`: no context exists without the `gpu` feature.
#[cfg(not(feature = "gpu"))]
pub(super) fn profile(gpu: &GpuContext, _: &BandStack, _: &BandStack) -> Result<DeviceProfile> {
    match *gpu {}
}

/// [`Engine::device_profile`] on `gpu`.
#[cfg(feature = "gpu")]
pub(super) fn profile(
    gpu: &GpuContext,
    before: &BandStack,
    after: &BandStack,
) -> Result<DeviceProfile> {
    let software = gpu.adapter().is_software;
    let (copy_bytes, copies) = if software {
        (64 << 20, 4)
    } else {
        (1 << 30, 50)
    };
    let (copy_bytes_per_second, copy_bytes) =
        gpu.copy_bandwidth(copy_bytes, copies).map_err(Error::Gpu)?;

    let ndvi = SpectralIndex::Ndvi.job(before)?;
    let classes = ClassThresholds::default().job(before)?;
    let options = ChangeOptions::new();
    let relation = relate_dates(before, after, options.normalize)?;
    let change =
        options
            .classes
            .change_job(before, after, &relation.normalization, options.method)?;
    let mut kernels = vec![
        profile_kernel(gpu, "ndvi", PixelKernel::Index, &ndvi, software)?.0,
        profile_kernel(gpu, "classify", PixelKernel::Classify, &classes, software)?.0,
    ];
    let (pass1, words) =
        profile_kernel(gpu, "change-pass1", PixelKernel::Change, &change, software)?;
    kernels.push(pass1);
    let words: Vec<u32> = bytemuck::pod_collect_to_vec(&words);
    let threshold = otsu(&cpu::change::magnitude_histogram(&words));
    // The per-pixel pass of a tiled job: both passes in one, classes and codes out.
    let mut fused = change.clone();
    decide_in_pass(&mut fused, threshold, options.method);
    let kernel = PixelKernel::ChangeFused;
    kernels.push(profile_kernel(gpu, "change-fused", kernel, &fused, software)?.0);
    let words = BandData::U32(words);
    let codes = codes_job(&words, before.len(), threshold, options.method);
    kernels.push(
        profile_kernel(
            gpu,
            "change-codes",
            PixelKernel::ChangeCodes,
            &codes,
            software,
        )?
        .0,
    );
    Ok(DeviceProfile {
        adapter: gpu.adapter().clone(),
        copy_bytes,
        copy_bytes_per_second,
        kernels,
    })
}

/// Times one kernel resident (a short run to size the repeats, then the timed one) and checks
/// its output against the ordinary path. Also returns the ordinary path's whole output.
#[cfg(feature = "gpu")]
fn profile_kernel(
    gpu: &GpuContext,
    name: &'static str,
    kernel: PixelKernel,
    job: &PixelJob<'_>,
    software: bool,
) -> Result<(KernelProfile, Vec<u8>)> {
    let gpu_err = |e: GpuFailure| Error::Gpu(e);
    let out_bpp = kernel.output_bytes_per_pixel();
    let mut normal = vec![0u8; job.len * out_bpp as usize];
    gpu.run_kernel(kernel, job, &mut normal).map_err(gpu_err)?;
    let mut resident = vec![0u8; normal.len()];
    let probe = gpu
        .time_resident(kernel, job, 3, &mut resident)
        .map_err(gpu_err)?;
    let repeats = (target_seconds(software) / probe.seconds).clamp(3.0, 2000.0) as u32;
    let timed = gpu
        .time_resident(kernel, job, repeats, &mut resident)
        .map_err(gpu_err)?;
    let n = (timed.pixels * out_bpp) as usize;
    let in_bpp: u64 = job.slots.iter().map(|d| d.data_type().size() as u64).sum();
    Ok((
        KernelProfile {
            kernel: name,
            pixels: timed.pixels,
            seconds_per_dispatch: timed.seconds,
            bytes_per_dispatch: timed.pixels * (in_bpp + out_bpp),
            matches_normal_path: resident[..n] == normal[..n],
        },
        normal,
    ))
}
