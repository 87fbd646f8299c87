//! The contextual change detector on the GPU: `shaders/change_context.wgsl` over one window of
//! rows, as a [`Program`] (both dispatches read buffers that stay on the device). The CPU twin
//! is `src/backend/cpu/change_context.rs`.

use super::context::GpuContext;
use super::kernels::{CHANGE_CONTEXT, Kernel};
use super::program::Program;
use crate::change::context::{ContextJob, ContextParams};
use crate::error::{GpuFailure, GpuFailureKind};
use crate::pixel::PixelParams;

fn kernel(entry: &'static str) -> Kernel {
    CHANGE_CONTEXT.kernel(entry)
}

/// Threads per workgroup, as declared in the kernel.
const WORKGROUP: u64 = 256;

/// Runs both kernels over `job`'s window; `out` receives two words per output pixel. Windows
/// larger than one storage binding or one dispatch are run in blocks of output rows, each with
/// the halo rows it needs, so the words are those of one run.
pub(crate) fn context_words(
    ctx: &GpuContext,
    job: &ContextJob<'_>,
    out: &mut [u32],
) -> Result<(), GpuFailure> {
    let p: &ContextParams = &job.params;
    let w = u64::from(p.width);
    let out_pixels = w * u64::from(p.out_rows);
    if out.len() as u64 != 2 * out_pixels {
        return Err(GpuFailure::new(
            GpuFailureKind::Validation,
            format!("{} output words for {out_pixels} pixels", out.len()),
        ));
    }
    if out_pixels == 0 {
        return Ok(());
    }
    // Rows a block may hold, output and halo together: every buffer within one binding, the
    // pixels within one 2-D dispatch and 2³¹ indices.
    let halo = u64::from(p.radius + p.smoothing);
    let sample_bytes: u64 = job
        .pixels
        .slots
        .iter()
        .map(|d| d.data_type().size() as u64)
        .sum();
    let per_row = w * sample_bytes.max(8);
    let dim = u64::from(ctx.limits.max_workgroups_per_dim).max(1);
    let fit = (ctx.limits.max_binding_bytes / per_row.max(1))
        .min(dim * dim * WORKGROUP / w.max(1))
        .min(((1u64 << 31) - 1) / w.max(1));
    let block = fit.saturating_sub(2 * halo);
    if block == 0 {
        return Err(GpuFailure::new(
            GpuFailureKind::LimitExceeded,
            format!(
                "rows of {w} pixels with {halo} halo rows each way do not fit a storage binding of {} bytes",
                ctx.limits.max_binding_bytes
            ),
        ));
    }
    let (first, rows) = (u64::from(p.first_row), u64::from(p.rows));
    let mut done = 0u64;
    while done < u64::from(p.out_rows) {
        let count = block.min(u64::from(p.out_rows) - done);
        let a = first + done;
        let top = a.saturating_sub(halo);
        let bottom = (a + count + halo).min(rows);
        let words = &mut out[(2 * done * w) as usize..(2 * (done + count) * w) as usize];
        run_block(ctx, job, [top, bottom], [a - top, count], words)?;
        done += count;
    }
    Ok(())
}

/// Both kernels over window rows `top..bottom` of `job`, whose rows `first..first + count`
/// (counted from `top`) are the output.
fn run_block(
    ctx: &GpuContext,
    job: &ContextJob<'_>,
    [top, bottom]: [u64; 2],
    [first, count]: [u64; 2],
    out: &mut [u32],
) -> Result<(), GpuFailure> {
    let mut p: ContextParams = job.params;
    let w = u64::from(p.width);
    (p.rows, p.first_row, p.out_rows) = ((bottom - top) as u32, first as u32, count as u32);
    let n = w * (bottom - top);
    let out_pixels = w * count;
    // The slots' rows, packed one after the other from word boundaries.
    let mut params: PixelParams = job.pixels.params;
    params.count = n as u32;
    fn rows_of(data: &crate::raster::BandData, w: u64, [top, bottom]: [u64; 2]) -> &[u8] {
        let size = data.data_type().size() as u64;
        &data.as_bytes()[(top * w * size) as usize..(bottom * w * size) as usize]
    }
    let mut word = 0u64;
    for (s, data) in job.pixels.slots.iter().enumerate() {
        params.slot_offset[s] = word as u32;
        word += (rows_of(data, w, [top, bottom]).len() as u64).div_ceil(4);
    }
    let mut program = Program::new(ctx)?;
    let params_buf = program.storage(size_of::<PixelParams>() as u64, "pixel parameters")?;
    let context_buf = program.storage(size_of::<ContextParams>() as u64, "context parameters")?;
    let samples = program.storage(word.max(1) * 4, "both dates' bands")?;
    let scores = program.storage(n * 4, "change scores")?;
    let words = program.storage(out_pixels * 8, "context words")?;
    program.upload(params_buf, 0, bytemuck::bytes_of(&params));
    program.upload(context_buf, 0, bytemuck::bytes_of(&p));
    for (s, data) in job.pixels.slots.iter().enumerate() {
        let bytes = rows_of(data, w, [top, bottom]);
        program.upload(samples, u64::from(params.slot_offset[s]) * 4, bytes);
    }
    let smoothing = u64::from(p.smoothing);
    let score_top = first.saturating_sub(smoothing);
    let score_bottom = (first + count + smoothing).min(bottom - top);
    program.dispatch(
        &kernel("context_scores"),
        &[(0, params_buf), (1, samples), (2, scores), (5, context_buf)],
        ((score_bottom - score_top) * w).div_ceil(WORKGROUP),
    )?;
    program.dispatch(
        &kernel("context_decide"),
        &[
            (0, params_buf),
            (1, samples),
            (2, scores),
            (4, words),
            (5, context_buf),
        ],
        out_pixels.div_ceil(WORKGROUP),
    )?;
    let bytes = program.read(&[(words, 0, out_pixels * 8)])?;
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *o = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::backend::{Backend, Device, Engine};
    use crate::change::context::{ContextJob, ContextModel, ContextSettings};
    use crate::classify::ClassThresholds;
    use crate::raster::{Band, BandData, BandStack};
    use crate::sensor::{BandRole, Sensor};

    /// A GPU engine (software adapters included), or `None` with the reason printed; with
    /// `LANDWATCH_REQUIRE_GPU=1` a missing adapter fails instead.
    fn gpu() -> Option<Engine> {
        let engine = Engine::new(Backend::Gpu);
        if engine.gpu_adapter().is_some() {
            return Some(engine);
        }
        let why = engine.gpu_unavailable().map(ToString::to_string);
        assert!(
            std::env::var("LANDWATCH_REQUIRE_GPU").as_deref() != Ok("1"),
            "LANDWATCH_REQUIRE_GPU=1 but no GPU adapter is usable: {why:?}"
        );
        eprintln!("SKIPPED GPU test: no GPU adapter ({why:?})");
        None
    }

    /// Every word of the kernels, flags included, is the CPU twin's: on a pair whose second
    /// date carries a white cloud, a dark shadow and a blue-heavy haze over parts of a noisy
    /// scene, for four, five and six bands, in one window and in windows with halo rows.
    #[test]
    fn words_match_the_cpu_twin_bit_for_bit() {
        let Some(engine) = gpu() else { return };
        let (w, h) = (97, 61);
        let mut next = crate::test_rng::xorshift(11u64);
        for bands in [4, 5, 6] {
            let mut base: Vec<Vec<u16>> = (0..bands)
                .map(|_| (0..w * h).map(|_| 600 + (next() % 2500) as u16).collect())
                .collect();
            base[0][5] = 0; // nodata
            let mut after = base.clone();
            for i in 0..w * h {
                let (x, y) = (i % w, i / w);
                for (j, band) in after.iter_mut().enumerate() {
                    let v = &mut band[i];
                    *v = match (x, y) {
                        // Cloud: every band up by 0.3, white.
                        (0..30, 0..25) => 3200 + (next() % 200) as u16,
                        // Shadow: infrared halved.
                        (30..50, 0..25) if j >= 3 => *v / 3,
                        // Haze: blue +0.06, green +0.045, red +0.03, NIR +0.01, SWIR still.
                        (_, 35..) => *v + [600, 450, 300, 100, 0, 0][j],
                        _ => v.saturating_add((next() % 300) as u16),
                    };
                }
            }
            let stack = |data: Vec<Vec<u16>>| {
                let bands = (BandRole::ALL.iter().zip(data))
                    .map(|(&r, d)| Band::new(r, BandData::U16(d)).with_nodata(0.0))
                    .collect();
                let mut s = BandStack::new(w, h, bands).unwrap();
                s.set_radiometry(Sensor::sentinel2_l1c().radiometry)
                    .unwrap();
                s
            };
            let (before, after) = (stack(base), stack(after));
            let model =
                ContextModel::estimate(&before, &after, 10.0, &ContextSettings::default()).unwrap();
            let (settings, classes) = (ContextSettings::default(), ClassThresholds::default());
            for (first, rows) in [(0, h), (3, 40), (7, 1)] {
                let job =
                    ContextJob::new(&before, &after, (first, rows), &model, &settings, &classes)
                        .unwrap();
                let mut on_gpu = vec![0u32; 2 * w * rows];
                let execution = engine.context_words(&job, &mut on_gpu);
                assert!(matches!(execution.device, Device::Gpu(_)), "{execution:?}");
                let mut on_cpu = vec![0u32; 2 * w * rows];
                crate::backend::cpu::change_context::context_words(&job, &mut on_cpu);
                if let Some(i) = (0..on_cpu.len()).find(|&i| on_gpu[i] != on_cpu[i]) {
                    panic!(
                        "{bands} bands, rows {first}+{rows}: word {i}: gpu {:#010x}, cpu {:#010x}",
                        on_gpu[i], on_cpu[i]
                    );
                }
                let flags = |bit: u32| on_cpu.iter().step_by(2).any(|&w| w >> 24 & bit != 0);
                if rows == h {
                    // Every test fired somewhere: cloud core, shadow, haze (second date).
                    assert!(flags(4) && flags(32) && flags(128), "{bands} bands");
                }
            }
        }
    }
}
