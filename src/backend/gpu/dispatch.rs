//! The one dispatch routine of every per-pixel kernel: plan chunks that fit the adapter's
//! binding and workgroup limits, upload each chunk's samples packed in their stored type,
//! dispatch in 2-D, and read back the compact output and the valid-pixel count.
//!
//! The same pieces time a kernel with its inputs already on the device
//! ([`time_resident`]), and measure the device's own copy bandwidth ([`copy_bandwidth`]),
//! the roofline such timings are set against.

use super::context::GpuContext;
use super::kernels::Kernel;
use super::scope::{scoped, upload};
use crate::error::{GpuFailure, GpuFailureKind};
use crate::pixel::{PixelJob, PixelParams};
use std::time::Instant;
use wgpu::BufferUsages as U;

/// Threads per workgroup, as declared in `shaders/common.wgsl`.
const WORKGROUP: u64 = 256;
/// Chunks start on multiples of this many pixels, so every packed slot starts on a word.
const CHUNK_ALIGN: u64 = 1024;
/// Upper bound on a chunk, to keep host and device buffers modest.
const MAX_CHUNK: u64 = 1 << 24;

/// The output layout of a kernel.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OutputShape {
    /// One value per pixel.
    PerPixel {
        /// Bytes per output pixel (4 for f32 or packed words, 1 for packed u8).
        bytes_per_pixel: u64,
        /// Pixels handled by one invocation (4 for packed u8, so each writes one word).
        pixels_per_invocation: u64,
    },
    /// A fixed array of u32 counters (a histogram), zeroed per chunk and summed on the host.
    Counters {
        /// Number of counters.
        words: u64,
    },
}

impl OutputShape {
    /// Output bytes per pixel (0 for counters).
    pub(crate) fn bytes_per_pixel(self) -> u64 {
        match self {
            OutputShape::PerPixel {
                bytes_per_pixel, ..
            } => bytes_per_pixel,
            OutputShape::Counters { .. } => 0,
        }
    }

    fn pixels_per_invocation(self) -> u64 {
        match self {
            OutputShape::PerPixel {
                pixels_per_invocation,
                ..
            } => pixels_per_invocation,
            OutputShape::Counters { .. } => 1,
        }
    }

    /// Output bytes for a chunk of `pixels`, rounded up to whole words.
    fn bytes(self, pixels: u64) -> u64 {
        match self {
            OutputShape::PerPixel {
                bytes_per_pixel, ..
            } => (pixels * bytes_per_pixel).next_multiple_of(4),
            OutputShape::Counters { words } => words * 4,
        }
    }
}

/// Pixels per chunk for this job on this context.
fn plan_chunk(ctx: &GpuContext, job: &PixelJob<'_>, shape: OutputShape) -> Result<u64, GpuFailure> {
    let len = job.len as u64;
    let in_bytes_per_pixel: u64 = job.slots.iter().map(|d| d.data_type().size() as u64).sum();
    let per_pixel = in_bytes_per_pixel.max(shape.bytes_per_pixel()).max(1);
    let slack = 4 * job.slots.len() as u64 + 4;
    let by_binding = ctx.limits.max_binding_bytes.saturating_sub(slack) / per_pixel;
    let dim = u64::from(ctx.limits.max_workgroups_per_dim);
    let by_dispatch = dim * dim * WORKGROUP * shape.pixels_per_invocation();
    let fit = by_binding.min(by_dispatch).min(MAX_CHUNK);
    if shape.bytes(0) > ctx.limits.max_binding_bytes {
        return Err(GpuFailure::new(
            GpuFailureKind::LimitExceeded,
            format!(
                "{} counters do not fit a storage binding of {} bytes",
                shape.bytes(0) / 4,
                ctx.limits.max_binding_bytes
            ),
        ));
    }
    if len <= fit {
        return Ok(len);
    }
    let chunk = fit / CHUNK_ALIGN * CHUNK_ALIGN;
    if chunk == 0 {
        return Err(GpuFailure::new(
            GpuFailureKind::LimitExceeded,
            format!(
                "a storage binding of {} bytes cannot hold {CHUNK_ALIGN} pixels of {per_pixel} bytes",
                ctx.limits.max_binding_bytes
            ),
        ));
    }
    Ok(chunk)
}

/// Runs `kernel` over `job`. Per-pixel kernels write `job.len × bytes_per_pixel` bytes into
/// `out`; counter kernels add their counters into `out` read as u32 words. Returns the number
/// of valid pixels the kernel counted.
pub(crate) fn run_pixels(
    ctx: &GpuContext,
    kernel: &Kernel,
    job: &PixelJob<'_>,
    shape: OutputShape,
    out: &mut [u8],
) -> Result<u64, GpuFailure> {
    scoped(ctx, || {
        let pipeline = ctx.pipeline(kernel)?;
        let chunk = plan_chunk(ctx, job, shape)?;
        let bound = Bound::take(ctx, &pipeline, kernel.entry, job, shape, chunk);
        let mut result = Ok(0u64);
        let len = job.len as u64;
        let mut start = 0u64;
        while start < len && result.is_ok() {
            let count = chunk.min(len - start);
            upload_chunk(ctx, job, [start, count], &bound);
            result = dispatch_and_read(ctx, &pipeline, &bound, shape, [start, count], out)
                .and_then(|valid| result.map(|total| total + valid));
            start += count;
        }
        bound.give(ctx);
        result
    })
}

/// A kernel timed with its inputs resident on the device.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResidentTiming {
    /// Pixels per dispatch: the job's, or its first chunk's when it needs several.
    pub pixels: u64,
    /// Wall seconds per dispatch, averaged over one submission of many.
    pub seconds: f64,
}

/// Times `kernel` with its inputs already on the device: uploads the job's first chunk (the
/// whole job when it fits one) into pooled buffers once, runs one warm-up dispatch whose
/// output is read back into `out` exactly as [`run_pixels`] would write it, then records
/// `repeats` dispatches in one submission and waits for them. Returns the wall time per
/// dispatch (submission and wait included, amortised over `repeats`); no transfer between
/// host and device is timed.
pub(crate) fn time_resident(
    ctx: &GpuContext,
    kernel: &Kernel,
    job: &PixelJob<'_>,
    shape: OutputShape,
    repeats: u32,
    out: &mut [u8],
) -> Result<ResidentTiming, GpuFailure> {
    let repeats = repeats.max(1);
    scoped(ctx, || {
        let pipeline = ctx.pipeline(kernel)?;
        let count = plan_chunk(ctx, job, shape)?.min(job.len as u64);
        let bound = Bound::take(ctx, &pipeline, kernel.entry, job, shape, count);
        upload_chunk(ctx, job, [0, count], &bound);
        let timed =
            dispatch_and_read(ctx, &pipeline, &bound, shape, [0, count], out).and_then(|_| {
                let mut encoder = ctx
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
                encode_dispatches(ctx, &mut encoder, &pipeline, &bound, shape, count, repeats);
                let commands = encoder.finish();
                let t = Instant::now();
                ctx.queue.submit([commands]);
                wait(ctx)?;
                Ok(ResidentTiming {
                    pixels: count,
                    seconds: t.elapsed().as_secs_f64() / f64::from(repeats),
                })
            });
        bound.give(ctx);
        timed
    })
}

/// The device's own memory bandwidth: `repeats` copies of `bytes` (capped by the device's
/// largest buffer) from one device buffer to another in one submission, after one warm-up
/// copy. Returns bytes read plus bytes written per second, and the bytes of one copy.
pub(crate) fn copy_bandwidth(
    ctx: &GpuContext,
    bytes: u64,
    repeats: u32,
) -> Result<(f64, u64), GpuFailure> {
    let repeats = repeats.max(1);
    let bytes = bytes.min(ctx.device.limits().max_buffer_size) / 256 * 256;
    if bytes == 0 {
        return Err(GpuFailure::new(
            GpuFailureKind::LimitExceeded,
            "the device's largest buffer is too small to time a copy",
        ));
    }
    scoped(ctx, || {
        let buffer = |label| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage: U::COPY_SRC | U::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let (src, dst) = (buffer("copy source"), buffer("copy destination"));
        let copies = |n: u32| {
            let mut encoder = ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            for _ in 0..n {
                encoder.copy_buffer_to_buffer(&src, 0, &dst, 0, bytes);
            }
            encoder.finish()
        };
        ctx.queue.submit([copies(1)]);
        wait(ctx)?;
        let commands = copies(repeats);
        let t = Instant::now();
        ctx.queue.submit([commands]);
        wait(ctx)?;
        let seconds = t.elapsed().as_secs_f64();
        src.destroy();
        dst.destroy();
        Ok((2.0 * bytes as f64 * f64::from(repeats) / seconds, bytes))
    })
}

/// Waits until the device has finished everything submitted.
fn wait(ctx: &GpuContext) -> Result<(), GpuFailure> {
    ctx.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map(drop)
        .map_err(|e| GpuFailure::new(GpuFailureKind::DeviceLost, e.to_string()))
}

/// The pooled buffers of one run, sized for chunks of up to `chunk` pixels, and the bind
/// group over them.
struct Bound {
    params: wgpu::Buffer,
    input: wgpu::Buffer,
    output: wgpu::Buffer,
    counter: wgpu::Buffer,
    readback: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

impl Bound {
    fn take(
        ctx: &GpuContext,
        pipeline: &wgpu::ComputePipeline,
        label: &str,
        job: &PixelJob<'_>,
        shape: OutputShape,
        chunk: u64,
    ) -> Bound {
        let device = &ctx.device;
        let cap = ctx.limits.max_binding_bytes;
        let in_bytes: u64 = job
            .slots
            .iter()
            .map(|d| (chunk * d.data_type().size() as u64).next_multiple_of(4))
            .sum();
        let out_bytes = shape.bytes(chunk);
        let params = ctx.pool.take(
            device,
            U::STORAGE | U::COPY_DST,
            size_of::<PixelParams>() as u64,
            cap,
        );
        let input = ctx
            .pool
            .take(device, U::STORAGE | U::COPY_DST, in_bytes, cap);
        let output = ctx.pool.take(
            device,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
            out_bytes,
            cap,
        );
        let counter = ctx
            .pool
            .take(device, U::STORAGE | U::COPY_DST | U::COPY_SRC, 4, cap);
        let readback = ctx
            .pool
            .take(device, U::MAP_READ | U::COPY_DST, out_bytes + 4, u64::MAX);
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                entry(0, &params),
                entry(1, &input),
                entry(2, &output),
                entry(3, &counter),
            ],
        });
        Bound {
            params,
            input,
            output,
            counter,
            readback,
            bind_group,
        }
    }

    /// Hands the buffers back to the pool.
    fn give(self, ctx: &GpuContext) {
        ctx.pool.give([
            self.params,
            self.input,
            self.output,
            self.counter,
            self.readback,
        ]);
    }
}

fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

/// Uploads the samples and parameters of the `[start, count]` pixels, and zeroes the counter.
fn upload_chunk(ctx: &GpuContext, job: &PixelJob<'_>, [start, count]: [u64; 2], bound: &Bound) {
    let queue = &ctx.queue;
    let mut params = job.params;
    params.count = count as u32;
    let mut word = 0u64;
    for (s, data) in job.slots.iter().enumerate() {
        let size = data.data_type().size() as u64;
        let bytes = &data.as_bytes()[(start * size) as usize..((start + count) * size) as usize];
        params.slot_offset[s] = word as u32;
        upload(ctx, &bound.input, word * 4, bytes);
        word += (bytes.len() as u64).div_ceil(4);
    }
    queue.write_buffer(&bound.params, 0, bytemuck::bytes_of(&params));
    queue.write_buffer(&bound.counter, 0, &[0u8; 4]);
}

/// Records `times` dispatches of the kernel over `count` uploaded pixels, in one compute pass
/// (counter kernels get their counters cleared first).
fn encode_dispatches(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    bound: &Bound,
    shape: OutputShape,
    count: u64,
    times: u32,
) {
    let groups = count
        .div_ceil(shape.pixels_per_invocation())
        .div_ceil(WORKGROUP);
    let x = groups
        .min(u64::from(ctx.limits.max_workgroups_per_dim))
        .max(1);
    let y = groups.div_ceil(x).max(1);
    if let OutputShape::Counters { .. } = shape {
        encoder.clear_buffer(&bound.output, 0, Some(shape.bytes(count)));
    }
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, &bound.bind_group, &[]);
    for _ in 0..times {
        pass.dispatch_workgroups(x as u32, y as u32, 1);
    }
    ctx.count_dispatches(u64::from(times));
}

/// Dispatches once over the uploaded `[start, count]` pixels and reads back the output into
/// `out` (per-pixel kernels) or adds it to `out` (counter kernels). Returns the valid count.
fn dispatch_and_read(
    ctx: &GpuContext,
    pipeline: &wgpu::ComputePipeline,
    bound: &Bound,
    shape: OutputShape,
    [start, count]: [u64; 2],
    out: &mut [u8],
) -> Result<u64, GpuFailure> {
    let out_bytes = shape.bytes(count);
    let mut encoder = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    encode_dispatches(ctx, &mut encoder, pipeline, bound, shape, count, 1);
    encoder.copy_buffer_to_buffer(&bound.output, 0, &bound.readback, 0, out_bytes);
    encoder.copy_buffer_to_buffer(&bound.counter, 0, &bound.readback, out_bytes, 4);
    ctx.queue.submit([encoder.finish()]);

    let view = ctx.read_back(&bound.readback, out_bytes + 4)?;
    match shape {
        OutputShape::PerPixel {
            bytes_per_pixel, ..
        } => {
            let n = (count * bytes_per_pixel) as usize;
            let dst = (start * bytes_per_pixel) as usize;
            out[dst..dst + n].copy_from_slice(&view[..n]);
        }
        OutputShape::Counters { words } => {
            let totals: &mut [u32] = bytemuck::try_cast_slice_mut(out)
                .map_err(|e| GpuFailure::new(GpuFailureKind::Validation, e.to_string()))?;
            let chunk: &[u32] = bytemuck::cast_slice(&view[..(words * 4) as usize]);
            for (t, &c) in totals.iter_mut().zip(chunk) {
                *t = t.wrapping_add(c);
            }
        }
    }
    let c = out_bytes as usize;
    Ok(u64::from(u32::from_le_bytes([
        view[c],
        view[c + 1],
        view[c + 2],
        view[c + 3],
    ])))
}
