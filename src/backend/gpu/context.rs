//! The GPU context: adapter choice, device, pipeline cache and buffer pool, created once and
//! reused by every kernel.

use super::kernels::Kernel;
use super::pool::BufferPool;
use super::quiet;
use super::{AdapterSummary, GpuOptions};
use crate::error::{GpuFailure, GpuFailureKind};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// The limits kernels plan their chunks with: the adapter's, or lower ones from [`GpuOptions`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct DispatchLimits {
    /// Largest storage binding, in bytes.
    pub max_binding_bytes: u64,
    /// Largest dispatch along one dimension, in workgroups.
    pub max_workgroups_per_dim: u32,
}

/// A device ready for landwatch's kernels.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: DispatchLimits,
    pub(crate) pool: BufferPool,
    pipelines: Mutex<HashMap<(&'static str, String), Arc<wgpu::ComputePipeline>>>,
    lost: Arc<AtomicBool>,
    summary: AdapterSummary,
    /// Compute dispatches recorded on this context (for tests that bound pass counts).
    dispatches: AtomicU64,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.summary)
            .field("limits", &self.limits)
            .finish()
    }
}

fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let name = info.name.to_ascii_lowercase();
    info.device_type == wgpu::DeviceType::Cpu
        || [
            "llvmpipe",
            "lavapipe",
            "softpipe",
            "swiftshader",
            "software",
        ]
        .iter()
        .any(|s| name.contains(s))
}

/// Preference order: discrete, integrated, virtual, other, software; native APIs before GL.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = match info.device_type {
        _ if is_software(info) => 4,
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        _ => 3,
    };
    let api = u8::from(info.backend == wgpu::Backend::Gl);
    (kind, api)
}

fn summarize(info: &wgpu::AdapterInfo) -> AdapterSummary {
    AdapterSummary {
        name: info.name.clone(),
        api: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
        is_software: is_software(info),
    }
}

fn instance() -> (wgpu::Instance, wgpu::Backends) {
    let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    let backends = desc.backends;
    (wgpu::Instance::new(desc), backends)
}

/// Every adapter wgpu can see, best first (the order [`GpuContext::new`] tries them in).
/// What the drivers print on stderr while they are probed is logged instead (the `log`
/// crate, debug level, target `landwatch::gpu`; see `src/backend/gpu/quiet.rs`).
pub fn list_adapters() -> Vec<AdapterSummary> {
    let mut infos: Vec<wgpu::AdapterInfo> = quiet::quietly("listing GPU adapters", || {
        let (instance, backends) = instance();
        pollster::block_on(instance.enumerate_adapters(backends))
            .iter()
            .map(wgpu::Adapter::get_info)
            .collect()
    });
    infos.sort_by_key(rank);
    let adapters: Vec<AdapterSummary> = infos.iter().map(summarize).collect();
    log_adapters(&adapters);
    adapters
}

/// Logs the adapters a probe found, best first.
fn log_adapters(adapters: &[AdapterSummary]) {
    log::debug!(target: "landwatch::gpu", "{} GPU adapter(s) found", adapters.len());
    for (i, a) in adapters.iter().enumerate() {
        log::debug!(target: "landwatch::gpu", "adapter {i}: {a}");
    }
}

impl GpuContext {
    /// Picks the best adapter and opens a device on it. Fails with
    /// [`GpuFailureKind::NoAdapter`] when there is none (or only a software one while
    /// `allow_software` is off). `WGPU_BACKEND` narrows the APIs tried. What the drivers
    /// print on stderr while they are probed is logged instead (the `log` crate, debug
    /// level, target `landwatch::gpu`; see `src/backend/gpu/quiet.rs`).
    pub fn new(options: &GpuOptions) -> Result<GpuContext, GpuFailure> {
        let mut found = Vec::new();
        // Nothing is logged inside the window: a logger writing to stderr would be captured.
        let context = quiet::quietly("opening a GPU device", || {
            GpuContext::open(options, &mut found)
        });
        log_adapters(&found);
        let only_software = found.iter().all(|a| a.is_software);
        for a in found
            .iter()
            .filter(|_| only_software && !options.allow_software)
        {
            log::info!(
                target: "landwatch::gpu",
                "skipped software adapter {a}: slower than the CPU backend, used only when \
                 allowed (the Gpu backend allows it)"
            );
        }
        match &context {
            Ok(ctx) => log::info!(target: "landwatch::gpu", "GPU device opened on {}", ctx.summary),
            Err(e) => log::info!(target: "landwatch::gpu", "no GPU device: {e}"),
        }
        context
    }

    /// [`GpuContext::new`], with the drivers' output wherever stderr points; `found`
    /// receives the adapters seen, best first.
    fn open(
        options: &GpuOptions,
        found: &mut Vec<AdapterSummary>,
    ) -> Result<GpuContext, GpuFailure> {
        let (instance, backends) = instance();
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
        if adapters.is_empty() {
            return Err(GpuFailure::new(
                GpuFailureKind::NoAdapter,
                "no GPU adapter found (no Vulkan or GL driver is installed or usable)",
            ));
        }
        adapters.sort_by_key(|a| rank(&a.get_info()));
        let seen: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        found.extend(adapters.iter().map(|a| summarize(&a.get_info())));
        let adapter = adapters
            .into_iter()
            .find(|a| options.allow_software || !is_software(&a.get_info()))
            .ok_or_else(|| {
                GpuFailure::new(
                    GpuFailureKind::NoAdapter,
                    format!(
                        "only software adapters found ({}); they are slower than the CPU \
                         backend and are used only when allowed explicitly",
                        seen.join(", ")
                    ),
                )
            })?;
        let info = adapter.get_info();
        let adapter_limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("landwatch"),
            required_limits: adapter_limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| GpuFailure::new(GpuFailureKind::NoAdapter, e.to_string()))?;
        let lost = Arc::new(AtomicBool::new(false));
        let flag = lost.clone();
        device.set_device_lost_callback(move |_, _| flag.store(true, Ordering::SeqCst));
        let binding = adapter_limits
            .max_storage_buffer_binding_size
            .min(adapter_limits.max_buffer_size);
        let limits = DispatchLimits {
            max_binding_bytes: options
                .max_binding_bytes
                .map_or(binding, |m| m.min(binding)),
            max_workgroups_per_dim: options
                .max_workgroups_per_dim
                .map_or(adapter_limits.max_compute_workgroups_per_dimension, |m| {
                    m.min(adapter_limits.max_compute_workgroups_per_dimension)
                }),
        };
        let summary = summarize(&info);
        Ok(GpuContext {
            pool: BufferPool::default(),
            device,
            queue,
            limits,
            pipelines: Mutex::default(),
            lost,
            summary,
            dispatches: AtomicU64::new(0),
        })
    }

    /// The adapter behind this context.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.summary
    }

    /// Compute dispatches recorded on this context so far, by every kernel.
    pub fn dispatch_count(&self) -> u64 {
        self.dispatches.load(Ordering::Relaxed)
    }

    /// Adds `n` to the dispatch count.
    pub(crate) fn count_dispatches(&self, n: u64) {
        self.dispatches.fetch_add(n, Ordering::Relaxed);
    }

    /// Fails with [`GpuFailureKind::DeviceLost`] once the driver has reported a lost device.
    pub(crate) fn check_alive(&self) -> Result<(), GpuFailure> {
        if self.lost.load(Ordering::SeqCst) {
            Err(GpuFailure::new(
                GpuFailureKind::DeviceLost,
                "the GPU device was lost",
            ))
        } else {
            Ok(())
        }
    }

    /// Waits for the GPU, maps the first `bytes` of `readback` and copies them out.
    pub(crate) fn read_back(
        &self,
        readback: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<Vec<u8>, GpuFailure> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let slice = readback.slice(..bytes);
        let (tx, rx) = mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuFailure::new(GpuFailureKind::DeviceLost, e.to_string()))?;
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(GpuFailure::new(GpuFailureKind::DeviceLost, e.to_string())),
            Err(_) => {
                return Err(GpuFailure::new(
                    GpuFailureKind::DeviceLost,
                    "the read-back never completed",
                ));
            }
        }
        let data = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| GpuFailure::new(GpuFailureKind::Validation, e.to_string()))?;
            view.to_vec()
        };
        readback.unmap();
        Ok(data)
    }

    /// The compute pipeline for `kernel`, compiled on first use and cached.
    pub(crate) fn pipeline(
        &self,
        kernel: &Kernel,
    ) -> Result<Arc<wgpu::ComputePipeline>, GpuFailure> {
        let mut cache = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        let key = (kernel.entry, kernel.source.to_string());
        if let Some(p) = cache.get(&key) {
            return Ok(p.clone());
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(kernel.entry),
                source: wgpu::ShaderSource::Wgsl(Cow::Borrowed(&kernel.source)),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(kernel.entry),
                layout: None,
                module: &module,
                entry_point: Some(kernel.entry),
                compilation_options: Default::default(),
                cache: None,
            });
        if let Some(err) = pollster::block_on(scope.pop()) {
            return Err(GpuFailure::new(GpuFailureKind::Validation, err.to_string()));
        }
        let pipeline = Arc::new(pipeline);
        cache.insert(key, pipeline.clone());
        Ok(pipeline)
    }
}
