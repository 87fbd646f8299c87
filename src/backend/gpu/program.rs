//! A multi-pass runner: buffers that stay on the device across several dispatches (a label
//! raster read and written by init, merge, compress and relabel passes, for instance), taken
//! from the context's pool, pipelines from its cache, and one read-back at the end.
//!
//! Unlike [`super::dispatch`], a program does not chunk: every buffer must fit one storage
//! binding and every dispatch the 2-D workgroup grid. When it does not, the program fails
//! with [`GpuFailureKind::LimitExceeded`] so that the engine falls back to the CPU.

use super::context::GpuContext;
use super::kernels::Kernel;
use super::scope::{ErrorScopes, upload};
use crate::error::{GpuFailure, GpuFailureKind};
use wgpu::BufferUsages as U;

/// A device buffer of a program, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BufferId(usize);

/// A sequence of dispatches over buffers that stay on the device.
pub(crate) struct Program<'c> {
    ctx: &'c GpuContext,
    buffers: Vec<wgpu::Buffer>,
    encoder: Option<wgpu::CommandEncoder>,
    // Closed by `read`; dropped (popped) on early exits.
    scopes: Option<ErrorScopes>,
}

impl<'c> Program<'c> {
    /// Starts a program on `ctx`, failing if the device was lost.
    pub fn new(ctx: &'c GpuContext) -> Result<Self, GpuFailure> {
        let scopes = ErrorScopes::open(ctx)?;
        Ok(Program {
            ctx,
            buffers: Vec::new(),
            encoder: None,
            scopes: Some(scopes),
        })
    }

    /// A storage buffer of at least `bytes` bytes (contents undefined until written or
    /// cleared). Fails with `LimitExceeded` when it would not fit one storage binding.
    pub fn storage(&mut self, bytes: u64, what: &str) -> Result<BufferId, GpuFailure> {
        let cap = self.ctx.limits.max_binding_bytes;
        if bytes > cap {
            return Err(GpuFailure::new(
                GpuFailureKind::LimitExceeded,
                format!("{what} needs {bytes} bytes, more than a storage binding of {cap} bytes"),
            ));
        }
        let buffer = self.ctx.pool.take(
            &self.ctx.device,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
            bytes,
            cap,
        );
        self.buffers.push(buffer);
        Ok(BufferId(self.buffers.len() - 1))
    }

    /// Writes `data` at byte `offset` of `buffer` (padded with zeros to whole words). The
    /// write is ordered after every dispatch recorded so far.
    pub fn upload(&mut self, buffer: BufferId, offset: u64, data: &[u8]) {
        self.submit_pending();
        upload(self.ctx, &self.buffers[buffer.0], offset, data);
    }

    /// Fills `buffer` with zeros.
    pub fn clear(&mut self, buffer: BufferId) {
        let encoder = self.encoder.get_or_insert_with(|| new_encoder(self.ctx));
        encoder.clear_buffer(&self.buffers[buffer.0], 0, None);
    }

    /// Records one dispatch of `groups` workgroups of `kernel` (laid out in 2-D when the
    /// count exceeds the per-dimension limit), with `bindings` as `(binding, buffer)` pairs:
    /// exactly the bindings the entry point uses.
    pub fn dispatch(
        &mut self,
        kernel: &Kernel,
        bindings: &[(u32, BufferId)],
        groups: u64,
    ) -> Result<(), GpuFailure> {
        let dim = u64::from(self.ctx.limits.max_workgroups_per_dim).max(1);
        let groups = groups.max(1);
        if groups > dim * dim {
            return Err(GpuFailure::new(
                GpuFailureKind::LimitExceeded,
                format!(
                    "{} needs {groups} workgroups, more than a {dim}×{dim} grid",
                    kernel.entry
                ),
            ));
        }
        let pipeline = self.ctx.pipeline(kernel)?;
        let entries: Vec<wgpu::BindGroupEntry<'_>> = bindings
            .iter()
            .map(|&(binding, id)| wgpu::BindGroupEntry {
                binding,
                resource: self.buffers[id.0].as_entire_binding(),
            })
            .collect();
        let bind_group = self
            .ctx
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(kernel.entry),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
        let x = groups.min(dim);
        let y = groups.div_ceil(x);
        let encoder = self.encoder();
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(kernel.entry),
            timestamp_writes: None,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(x as u32, y as u32, 1);
        drop(pass);
        self.ctx.count_dispatches(1);
        Ok(())
    }

    /// Runs everything recorded, reads back `ranges` as `(buffer, byte offset, bytes)`
    /// concatenated in order, and hands the buffers back to the pool.
    pub fn read(mut self, ranges: &[(BufferId, u64, u64)]) -> Result<Vec<u8>, GpuFailure> {
        let result = self.read_inner(ranges);
        match self.scopes.take() {
            Some(scopes) => scopes.close(self.ctx, result),
            None => result,
        }
    }

    fn read_inner(&mut self, ranges: &[(BufferId, u64, u64)]) -> Result<Vec<u8>, GpuFailure> {
        let total: u64 = ranges.iter().map(|r| r.2.next_multiple_of(4)).sum();
        let readback = self.ctx.pool.take(
            &self.ctx.device,
            U::MAP_READ | U::COPY_DST,
            total.max(4),
            u64::MAX,
        );
        let mut at = 0u64;
        for &(id, offset, bytes) in ranges {
            let bytes = bytes.next_multiple_of(4);
            if bytes > 0 {
                let source = &self.buffers[id.0];
                self.encoder
                    .get_or_insert_with(|| new_encoder(self.ctx))
                    .copy_buffer_to_buffer(source, offset, &readback, at, bytes);
            }
            at += bytes;
        }
        self.submit_pending();
        let result = self.ctx.read_back(&readback, total);
        self.ctx.pool.give([readback]);
        result
    }

    fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        self.encoder.get_or_insert_with(|| new_encoder(self.ctx))
    }

    fn submit_pending(&mut self) {
        if let Some(encoder) = self.encoder.take() {
            self.ctx.queue.submit([encoder.finish()]);
        }
    }
}

impl Drop for Program<'_> {
    fn drop(&mut self) {
        // Commands already recorded are submitted so that pooled buffers are never reused
        // by a later job while this one could still be pending.
        self.submit_pending();
        self.ctx.pool.give(self.buffers.drain(..));
    }
}

fn new_encoder(ctx: &GpuContext) -> wgpu::CommandEncoder {
    ctx.device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("landwatch program"),
        })
}
