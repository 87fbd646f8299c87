//! Backend choice, and the [`Engine`] that runs every kernel (`engine.rs`: one page with
//! every public operation). CPU twins live in [`cpu`], GPU host code and the kernel registry
//! in [`gpu`] (`gpu/`; without the `gpu` feature, `gpu_off.rs`: the same names with no GPU
//! behind them, so that every engine runs on the CPU).
//!
//! An [`Engine`] is created once and reused: it holds the GPU context (adapter, device,
//! compiled pipelines, pooled buffers) when a GPU is used. Every call returns a [`Computed`]
//! that says which backend did the work and, when the GPU failed, why the CPU took over.

pub mod cpu;
mod engine;
#[cfg_attr(not(feature = "gpu"), path = "gpu_off.rs")]
pub mod gpu;
mod gpu_plain;
mod profile;

pub use engine::Engine;
pub(crate) use engine::cpu_device;
pub use profile::{DeviceProfile, KernelProfile};

use crate::error::{Error, GpuFailure, Result};
use gpu::AdapterSummary;

/// Which backend should run the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Backend {
    /// A real (discrete or integrated) GPU when one exists, else the CPU. A software adapter
    /// is never chosen unless [`gpu::GpuOptions::allow_software`] is set. After
    /// [`Engine::choose_by_measurement`] (the enforcement job calls it on its plan sample),
    /// the CPU is used instead when it was measured faster for that work.
    #[default]
    Auto,
    /// The CPU reference implementation, parallel over all cores.
    Cpu,
    /// The GPU, software adapters included; falls back to the CPU, saying why, if it fails.
    Gpu,
}

impl std::str::FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "cpu" => Ok(Backend::Cpu),
            "gpu" => Ok(Backend::Gpu),
            _ => Err(Error::UnknownName {
                kind: "backend",
                name: s.into(),
                known: "auto, cpu, gpu".into(),
            }),
        }
    }
}

/// The device that did a piece of work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Device {
    /// The CPU backend, with its worker-thread count.
    Cpu {
        /// Rayon worker threads.
        threads: usize,
    },
    /// A GPU adapter.
    Gpu(AdapterSummary),
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu { threads } => write!(f, "CPU ({threads} threads)"),
            Device::Gpu(a) => write!(f, "GPU {a}"),
        }
    }
}

/// Where a computation ran, and why the GPU was not used when it was wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The device that produced the result.
    pub device: Device,
    /// Set when a GPU was requested (or available under `Auto`) but the CPU did the work.
    pub fallback: Option<GpuFailure>,
}

/// A result together with where it was computed.
#[derive(Debug, Clone)]
pub struct Computed<T> {
    /// The result.
    pub output: T,
    /// Where it was computed.
    pub execution: Execution,
}

/// What [`Engine::choose_by_measurement`] measured and chose.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendChoice {
    /// Seconds the work took on the GPU.
    pub gpu_seconds: f64,
    /// Seconds the work took on the CPU.
    pub cpu_seconds: f64,
    /// The device the engine uses from now on.
    pub chosen: Device,
}
