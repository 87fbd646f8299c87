//! The GPU backend's plain data: what callers pass in and read back about adapters, the same
//! with or without the `gpu` feature (and so without wgpu). Re-exported from
//! [`crate::backend::gpu`] and the crate root.

/// How a GPU context may be created.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GpuOptions {
    /// Accept a software adapter (llvmpipe, lavapipe, SwiftShader). Such adapters are correct
    /// but slower than the CPU backend: use them for testing, never for speed.
    pub allow_software: bool,
    /// Lower the storage-buffer binding limit below the adapter's (for testing chunking).
    pub max_binding_bytes: Option<u64>,
    /// Lower the workgroups-per-dimension limit below the adapter's (for testing 2-D dispatch).
    pub max_workgroups_per_dim: Option<u32>,
}

/// What the caller sees of the adapter that did the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    /// Adapter name as the driver reports it.
    pub name: String,
    /// Graphics API: Vulkan, Metal, Dx12 or Gl.
    pub api: String,
    /// Discrete, integrated, virtual, software (`Cpu`) or other.
    pub device_type: String,
    /// Driver name and version.
    pub driver: String,
    /// True for software rasterizers such as llvmpipe.
    pub is_software: bool,
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}", self.name, self.api, self.device_type)?;
        if !self.driver.is_empty() {
            write!(f, ", {}", self.driver)?;
        }
        if self.is_software {
            f.write_str(", software")?;
        }
        f.write_str(")")
    }
}

/// Dispatches of one GPU labelling, for any raster and any patch shape (the six passes of
/// `src/backend/gpu/label.rs`).
pub const GPU_LABEL_DISPATCHES: u64 = 6;

with_setters!(GpuOptions {
    with_allow_software => allow_software: bool,
    with_max_binding_bytes => max_binding_bytes: Option<u64>,
    with_max_workgroups_per_dim => max_workgroups_per_dim: Option<u32>,
});
