//! What both GPU runners (per-pixel [`super::dispatch`] and multi-pass [`super::program`])
//! share: the error scopes that turn wgpu's out-of-memory and validation errors into a
//! [`GpuFailure`], and uploads of byte slices that are not whole words.

use super::context::GpuContext;
use crate::error::{GpuFailure, GpuFailureKind};

/// Out-of-memory and validation error scopes pushed on a live device; [`ErrorScopes::close`]
/// pops them and reports what they caught. Dropped unclosed (on an early exit), the scopes
/// are popped by wgpu's guards.
pub(crate) struct ErrorScopes {
    // Popped in reverse order of pushing.
    validation: wgpu::ErrorScopeGuard,
    out_of_memory: wgpu::ErrorScopeGuard,
}

impl ErrorScopes {
    /// Opens the scopes, failing if the device was lost.
    pub fn open(ctx: &GpuContext) -> Result<ErrorScopes, GpuFailure> {
        ctx.check_alive()?;
        let out_of_memory = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = ctx.device.push_error_scope(wgpu::ErrorFilter::Validation);
        Ok(ErrorScopes {
            validation,
            out_of_memory,
        })
    }

    /// Closes the scopes: an out-of-memory error first, then a validation error, then a lost
    /// device; otherwise `result`.
    pub fn close<T>(
        self,
        ctx: &GpuContext,
        result: Result<T, GpuFailure>,
    ) -> Result<T, GpuFailure> {
        let validation = pollster::block_on(self.validation.pop());
        let out_of_memory = pollster::block_on(self.out_of_memory.pop());
        if let Some(e) = out_of_memory {
            return Err(GpuFailure::new(GpuFailureKind::OutOfMemory, e.to_string()));
        }
        if let Some(e) = validation {
            return Err(GpuFailure::new(GpuFailureKind::Validation, e.to_string()));
        }
        ctx.check_alive()?;
        result
    }
}

/// Runs `body` inside [`ErrorScopes`].
pub(crate) fn scoped<T>(
    ctx: &GpuContext,
    body: impl FnOnce() -> Result<T, GpuFailure>,
) -> Result<T, GpuFailure> {
    let scopes = ErrorScopes::open(ctx)?;
    let result = body();
    scopes.close(ctx, result)
}

/// Writes `data` at byte `offset` of `buffer`, padded with zeros to whole words (wgpu's
/// writes are whole words).
pub(crate) fn upload(ctx: &GpuContext, buffer: &wgpu::Buffer, offset: u64, data: &[u8]) {
    if data.len().is_multiple_of(4) {
        ctx.queue.write_buffer(buffer, offset, data);
    } else {
        let mut padded = data.to_vec();
        padded.resize(data.len().next_multiple_of(4), 0);
        ctx.queue.write_buffer(buffer, offset, &padded);
    }
}
