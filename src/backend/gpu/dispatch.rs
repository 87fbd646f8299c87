//! The one dispatch routine of every per-pixel kernel: plan chunks that fit the adapter's
//! binding and workgroup limits, upload each chunk's samples packed in their stored type,
//! dispatch in 2-D, and read back the compact output and the valid-pixel count.

use super::context::{GpuContext, Kernel};
use crate::error::{GpuFailure, GpuFailureKind};
use crate::pixel::{PixelJob, PixelParams};
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
    fn bytes_per_pixel(self) -> u64 {
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
    ctx.check_alive()?;
    let pipeline = ctx.pipeline(kernel)?;
    let chunk = plan_chunk(ctx, job, shape)?;
    let device = &ctx.device;
    let cap = ctx.limits.max_binding_bytes;

    let in_bytes: u64 = job
        .slots
        .iter()
        .map(|d| (chunk * d.data_type().size() as u64).next_multiple_of(4))
        .sum();
    let out_bytes = shape.bytes(chunk);
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let invalid = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let params_buf = ctx.pool.take(
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
        label: Some(kernel.entry),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            entry(0, &params_buf),
            entry(1, &input),
            entry(2, &output),
            entry(3, &counter),
        ],
    });

    let mut result = Ok(0u64);
    let len = job.len as u64;
    let mut start = 0u64;
    while start < len && result.is_ok() {
        let count = chunk.min(len - start);
        result = run_chunk(
            ctx,
            &pipeline,
            &bind_group,
            job,
            shape,
            [start, count],
            [&params_buf, &input, &output, &counter, &readback],
            out,
        )
        .and_then(|valid| result.map(|total| total + valid));
        start += count;
    }

    let validation = pollster::block_on(invalid.pop());
    let out_of_memory = pollster::block_on(oom.pop());
    ctx.pool
        .give([params_buf, input, output, counter, readback]);
    if let Some(e) = out_of_memory {
        return Err(GpuFailure::new(GpuFailureKind::OutOfMemory, e.to_string()));
    }
    if let Some(e) = validation {
        return Err(GpuFailure::new(GpuFailureKind::Validation, e.to_string()));
    }
    ctx.check_alive()?;
    result
}

fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

/// Uploads, dispatches and reads back one chunk of `[start, count]` pixels.
#[allow(clippy::too_many_arguments)]
fn run_chunk(
    ctx: &GpuContext,
    pipeline: &wgpu::ComputePipeline,
    bind_group: &wgpu::BindGroup,
    job: &PixelJob<'_>,
    shape: OutputShape,
    [start, count]: [u64; 2],
    [params_buf, input, output, counter, readback]: [&wgpu::Buffer; 5],
    out: &mut [u8],
) -> Result<u64, GpuFailure> {
    let queue = &ctx.queue;
    let mut params = job.params;
    params.count = count as u32;
    let mut word = 0u64;
    for (s, data) in job.slots.iter().enumerate() {
        let size = data.data_type().size() as u64;
        let bytes = &data.as_bytes()[(start * size) as usize..((start + count) * size) as usize];
        params.slot_offset[s] = word as u32;
        if bytes.len() % 4 == 0 {
            queue.write_buffer(input, word * 4, bytes);
        } else {
            let mut padded = bytes.to_vec();
            padded.resize(bytes.len().next_multiple_of(4), 0);
            queue.write_buffer(input, word * 4, &padded);
        }
        word += (bytes.len() as u64).div_ceil(4);
    }
    queue.write_buffer(params_buf, 0, bytemuck::bytes_of(&params));
    queue.write_buffer(counter, 0, &[0u8; 4]);

    let out_bytes = shape.bytes(count);
    let groups = count
        .div_ceil(shape.pixels_per_invocation())
        .div_ceil(WORKGROUP);
    let x = groups
        .min(u64::from(ctx.limits.max_workgroups_per_dim))
        .max(1);
    let y = groups.div_ceil(x).max(1);
    let mut encoder = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    if let OutputShape::Counters { .. } = shape {
        encoder.clear_buffer(output, 0, Some(out_bytes));
    }
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(x as u32, y as u32, 1);
    }
    ctx.count_dispatches(1);
    encoder.copy_buffer_to_buffer(output, 0, readback, 0, out_bytes);
    encoder.copy_buffer_to_buffer(counter, 0, readback, out_bytes, 4);
    queue.submit([encoder.finish()]);

    let view = ctx.read_back(readback, out_bytes + 4)?;
    let valid = {
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
        u32::from_le_bytes([view[c], view[c + 1], view[c + 2], view[c + 3]])
    };
    Ok(u64::from(valid))
}
