//! A small buffer pool: buffers are handed back after each dispatch and reused by the next one
//! of the same usage, so chunked and repeated runs allocate once.

use std::sync::Mutex;

/// Reusable buffers, grouped by usage.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    free: Mutex<Vec<wgpu::Buffer>>,
}

impl BufferPool {
    /// A buffer with `usage` and at least `size` bytes: the smallest free one that fits, or a
    /// new one rounded up to a power of two but no further than `cap` bytes.
    pub fn take(
        &self,
        device: &wgpu::Device,
        usage: wgpu::BufferUsages,
        size: u64,
        cap: u64,
    ) -> wgpu::Buffer {
        let size = size.max(16).next_multiple_of(4);
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let best = free
            .iter()
            .enumerate()
            .filter(|(_, b)| b.usage() == usage && b.size() >= size)
            .min_by_key(|(_, b)| b.size())
            .map(|(i, _)| i);
        if let Some(i) = best {
            return free.swap_remove(i);
        }
        drop(free);
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("landwatch pool"),
            size: size.next_power_of_two().min(cap & !255).max(size),
            usage,
            mapped_at_creation: false,
        })
    }

    /// Returns buffers for reuse.
    pub fn give(&self, buffers: impl IntoIterator<Item = wgpu::Buffer>) {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(buffers);
    }
}
