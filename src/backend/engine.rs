//! [`Engine`]: every public operation of landwatch on one page, each a short delegation to
//! the module that implements it, and the one rule by which work goes to the GPU or the CPU
//! ([`Engine::gpu_or_cpu`]).

use super::profile::{self, DeviceProfile};
use super::{Backend, BackendChoice, Computed, Device, Execution};
use crate::backend::gpu::{AdapterSummary, GpuContext, GpuOptions};
use crate::change::context::ContextJob;
use crate::change::{
    ChangeCodes, ChangeMaps, ChangeOptions, ChangePlanes, ChangeSettings, FormulaChange, Threshold,
};
use crate::classify::ClassThresholds;
use crate::error::{Error, GpuFailure, Result};
use crate::formula::Formula;
use crate::index::SpectralIndex;
use crate::patch::morphology::{MorphOp, MorphScope, StructuringElement};
use crate::patch::{Connectivity, Labels};
use crate::pixel::PixelJob;
use crate::raster::{BandStack, Raster};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Runs kernels on the chosen backend, created once and reused.
#[derive(Debug)]
pub struct Engine {
    requested: Backend,
    gpu: Option<GpuContext>,
    /// Why no GPU context exists although one was wanted.
    gpu_unavailable: Option<GpuFailure>,
    /// The pass-1 words of change detection, kept between calls: fresh pages are slow to
    /// fault in on the machines this runs on, and tiled jobs call with the same size again
    /// and again.
    change_words: Mutex<Vec<u32>>,
    /// Under `Auto`, set when a measurement found the CPU faster than the GPU.
    cpu_measured_faster: AtomicBool,
}

/// Construction and the backend in use.
impl Engine {
    /// An engine for `backend` with default GPU options.
    pub fn new(backend: Backend) -> Engine {
        Engine::with_options(backend, &GpuOptions::default())
    }

    /// An engine that only uses the CPU.
    pub fn cpu() -> Engine {
        Engine::new(Backend::Cpu)
    }

    /// An engine for `backend` with explicit GPU options. Never fails: without a usable GPU the
    /// engine runs on the CPU and [`Engine::gpu_unavailable`] says why.
    pub fn with_options(backend: Backend, options: &GpuOptions) -> Engine {
        let context = |options: &GpuOptions| match GpuContext::new(options) {
            Ok(ctx) => (Some(ctx), None),
            Err(e) => (None, Some(e)),
        };
        let (gpu, gpu_unavailable) = match backend {
            Backend::Cpu => (None, None),
            Backend::Auto => context(options),
            Backend::Gpu => context(&GpuOptions {
                allow_software: true,
                ..options.clone()
            }),
        };
        match (&gpu, &gpu_unavailable) {
            (Some(gpu), _) => log::info!("{backend:?} backend: running on GPU {}", gpu.adapter()),
            (None, Some(why)) => log::info!("{backend:?} backend: running on the CPU ({why})"),
            (None, None) => log::info!("{backend:?} backend: running on the CPU"),
        }
        Engine {
            requested: backend,
            gpu,
            gpu_unavailable,
            change_words: Mutex::default(),
            cpu_measured_faster: AtomicBool::new(false),
        }
    }

    /// Under [`Backend::Auto`] with a GPU, runs `work` once on the GPU and once on the CPU
    /// and keeps the faster for every later call of this engine: a GPU slower than the CPU
    /// for the work at hand (a small or weak one, or a job bound by transfers) loses. Give
    /// it a sample of the real work, large enough to time (a few megapixels). Returns what
    /// was measured, or `None` (and changes nothing) for `Cpu` and `Gpu` engines or without
    /// a GPU.
    pub fn choose_by_measurement<T>(
        &self,
        work: impl Fn(&Engine) -> Result<T>,
    ) -> Result<Option<BackendChoice>> {
        let Some(gpu) = self
            .gpu
            .as_ref()
            .filter(|_| self.requested == Backend::Auto)
        else {
            return Ok(None);
        };
        let timed = |cpu: bool| -> Result<f64> {
            self.cpu_measured_faster.store(cpu, Relaxed);
            let start = std::time::Instant::now();
            work(self)?;
            Ok(start.elapsed().as_secs_f64())
        };
        // The first GPU run compiles pipelines: time a second one.
        timed(false)?;
        let gpu_seconds = timed(false)?;
        let cpu_seconds = timed(true)?;
        let cpu_faster = cpu_seconds < gpu_seconds;
        self.cpu_measured_faster.store(cpu_faster, Relaxed);
        let chosen = if cpu_faster {
            cpu_device()
        } else {
            Device::Gpu(gpu.adapter().clone())
        };
        log::info!(
            "measured {gpu_seconds:.3} s on the GPU and {cpu_seconds:.3} s on the CPU: \
             {chosen} runs from now on"
        );
        Ok(Some(BackendChoice {
            gpu_seconds,
            cpu_seconds,
            chosen,
        }))
    }

    /// The backend that was asked for.
    pub fn requested(&self) -> Backend {
        self.requested
    }

    /// The GPU adapter in use, if any.
    pub fn gpu_adapter(&self) -> Option<&AdapterSummary> {
        self.gpu.as_ref().map(GpuContext::adapter)
    }

    /// Why no GPU is used although one was asked for (`Gpu`) or looked for (`Auto`).
    pub fn gpu_unavailable(&self) -> Option<&GpuFailure> {
        self.gpu_unavailable.as_ref()
    }

    /// Compute dispatches recorded on this engine's GPU so far (0 without a GPU): lets tests
    /// check that a job takes a bounded number of passes.
    pub fn gpu_dispatch_count(&self) -> u64 {
        self.gpu.as_ref().map_or(0, GpuContext::dispatch_count)
    }

    /// Times the per-pixel kernels (NDVI and classification of `before`, both passes of change
    /// detection between the dates) with their inputs already on the device, and measures the
    /// device's copy bandwidth (a 1 GiB device-to-device copy; 64 MiB on a software adapter)
    /// as their roofline. Each kernel's resident output is checked against the ordinary
    /// path's. `Ok(None)` when the engine has no GPU; GPU failures are errors, never a
    /// fallback. Meant for benches: it takes a few seconds.
    pub fn device_profile(
        &self,
        before: &BandStack,
        after: &BandStack,
    ) -> Result<Option<DeviceProfile>> {
        match &self.gpu {
            Some(gpu) => profile::profile(gpu, before, after).map(Some),
            None => Ok(None),
        }
    }
}

/// Spectral indices and land cover (`crate::index`, `crate::formula`, `crate::classify`).
impl Engine {
    /// Computes a spectral index. Undefined pixels hold [`crate::INDEX_NODATA`].
    pub fn index(&self, stack: &BandStack, index: SpectralIndex) -> Result<Computed<Raster<f32>>> {
        crate::index::compute(self, stack, index)
    }

    /// [`Engine::index`] into a caller's buffer, resized to the stack and reused across calls
    /// (tiles of one size then allocate nothing).
    pub fn index_into(
        &self,
        stack: &BandStack,
        index: SpectralIndex,
        out: &mut Vec<f32>,
    ) -> Result<Execution> {
        crate::index::compute_into(self, stack, index, out)
    }

    /// Evaluates `formula` on every pixel of `stack`, on the GPU when the engine has one (the
    /// CPU taking over, with the reason, if it fails). Undefined pixels hold
    /// [`crate::INDEX_NODATA`]; fails with [`Error::MissingBand`] when the stack lacks a band
    /// the formula reads and [`Error::AllNodata`] when no pixel is defined.
    pub fn formula(&self, stack: &BandStack, formula: &Formula) -> Result<Computed<Raster<f32>>> {
        crate::formula::evaluate(self, stack, formula)
    }

    /// Classifies land cover into the codes of [`crate::classify`].
    pub fn classify(
        &self,
        stack: &BandStack,
        thresholds: &ClassThresholds,
    ) -> Result<Computed<Raster<u8>>> {
        crate::classify::compute(self, stack, thresholds)
    }

    /// [`Engine::classify`] into a caller's buffer, resized to the stack and reused across
    /// calls.
    pub fn classify_into(
        &self,
        stack: &BandStack,
        thresholds: &ClassThresholds,
        out: &mut Vec<u8>,
    ) -> Result<Execution> {
        crate::classify::compute_into(self, stack, thresholds, out)
    }
}

/// Change detection (`crate::change`).
impl Engine {
    /// Bi-temporal change detection (see [`crate::change`]): pass 1 classifies both dates and
    /// measures the change vector in one read of their bands, the magnitude histogram gives
    /// Otsu's threshold, and pass 2 writes the change codes. The two stacks must share a grid.
    pub fn detect_change(
        &self,
        before: &BandStack,
        after: &BandStack,
        options: &ChangeOptions,
    ) -> Result<Computed<ChangeMaps>> {
        self.detect_change_masked(before, after, options, None)
    }

    /// [`Engine::detect_change`] with a caller's cloud or invalid mask (nonzero = masked):
    /// masked pixels are nodata in every output and count nowhere, Otsu's histogram included.
    pub fn detect_change_masked(
        &self,
        before: &BandStack,
        after: &BandStack,
        options: &ChangeOptions,
        mask: Option<&Raster<u8>>,
    ) -> Result<Computed<ChangeMaps>> {
        crate::change::detect::maps(self, before, after, options, mask)
    }

    /// The classes of both dates and the change codes, as [`Engine::detect_change`] gives
    /// them. With a [`Threshold::Fixed`] threshold both passes run as one: every sample is read
    /// once and nothing but the three byte rasters is written (on a GPU, nothing else leaves
    /// the device). With [`Threshold::Otsu`] the threshold needs the whole histogram first, and
    /// this runs [`Engine::detect_change`].
    pub fn detect_change_codes(
        &self,
        before: &BandStack,
        after: &BandStack,
        options: &ChangeOptions,
    ) -> Result<Computed<ChangeCodes>> {
        crate::change::detect::codes(self, before, after, options)
    }

    /// [`Engine::detect_change_codes`] into the caller's planes, each of the stacks' length.
    pub fn detect_change_codes_into(
        &self,
        before: &BandStack,
        after: &BandStack,
        options: &ChangeOptions,
        out: ChangePlanes<'_>,
    ) -> Result<Computed<ChangeSettings>> {
        crate::change::detect::codes_into(self, before, after, options, out)
    }

    /// Runs the contextual detector's kernels over one window of rows (see
    /// [`crate::change::context`]): two words per output pixel into `out` (word 0: class
    /// before, class after, pre-code and sky flags, a byte each; word 1: the smoothed score in
    /// σ/256 and the direction). The region stage ([`crate::change::regions`]) turns the
    /// pre-codes and flags of a whole scene into change codes.
    pub fn context_words(&self, job: &ContextJob<'_>, out: &mut [u32]) -> Execution {
        crate::change::detect::context_words(self, job, out)
    }

    /// Differences `formula` between two dates on one grid and thresholds |Δ| (in
    /// thousandths of the index) with `threshold`: a fixed value, or Otsu's. The formula is
    /// evaluated by the CPU twin so that decisions do not depend on the backend.
    pub fn formula_change(
        &self,
        before: &BandStack,
        after: &BandStack,
        formula: &Formula,
        threshold: Threshold,
    ) -> Result<Computed<FormulaChange>> {
        crate::change::formula::difference(before, after, formula, threshold)
    }
}

/// Patches (`crate::patch`).
impl Engine {
    /// Opening or closing of a change-code raster with `element`, per change type or over the
    /// whole change mask (semantics in [`crate::patch::morphology`]). The GPU and the CPU
    /// give the same raster bit for bit. Fails when the data does not match the size.
    pub fn morphology(
        &self,
        codes: &Raster<u8>,
        op: MorphOp,
        element: StructuringElement,
        scope: MorphScope,
    ) -> Result<Computed<Raster<u8>>> {
        crate::patch::morphology::compute(self, codes, op, element, scope)
    }

    /// Connected-component labelling of a change-code raster (codes 0 and 255 are background,
    /// different codes never join) into canonical ids: on the GPU in a fixed number of
    /// dispatches ([`crate::backend::gpu::GPU_LABEL_DISPATCHES`]); on the CPU
    /// ([`crate::patch::label()`], which gives the same canonical ids) when there is no GPU,
    /// when it fails, or when the raster does not fit one storage binding. Fails when the
    /// raster is empty or its data does not match its size.
    pub fn label(
        &self,
        codes: &Raster<u8>,
        connectivity: Connectivity,
    ) -> Result<Computed<Labels>> {
        crate::patch::label::compute(self, codes, connectivity)
    }
}

/// Where work runs: the GPU when there is one, the CPU otherwise or when the GPU fails.
impl Engine {
    /// Runs a job on the GPU when there is one, falling back to the CPU on failure, and fails
    /// with [`Error::AllNodata`] when no pixel was valid.
    pub(crate) fn run<T>(
        &self,
        job: &PixelJob<'_>,
        out: &mut [T],
        on_gpu: impl Fn(&GpuContext, &PixelJob<'_>, &mut [T]) -> Result<u64, GpuFailure>,
        on_cpu: impl Fn(&PixelJob<'_>, &mut [T]) -> u64,
        what: &str,
    ) -> Result<Execution> {
        let computed = self.gpu_or_cpu(
            out,
            |gpu, out| on_gpu(gpu, job, out),
            |out| on_cpu(job, out),
        );
        let (valid, execution) = (computed.output, computed.execution);
        if valid == 0 {
            return Err(Error::AllNodata { what: what.into() });
        }
        Ok(execution)
    }

    /// Runs `on_gpu` when the engine has a GPU, else (or when it fails) `on_cpu`, both on
    /// `state`, and reports where the work ran and why the GPU was not used. Every kernel
    /// entry point goes through here, so fallback and reporting behave the same everywhere.
    pub(crate) fn gpu_or_cpu<S: ?Sized, T>(
        &self,
        state: &mut S,
        on_gpu: impl FnOnce(&GpuContext, &mut S) -> Result<T, GpuFailure>,
        on_cpu: impl FnOnce(&mut S) -> T,
    ) -> Computed<T> {
        let mut fallback = match self.requested {
            Backend::Gpu => self.gpu_unavailable.clone(),
            _ => None,
        };
        let measured_cpu =
            self.requested == Backend::Auto && self.cpu_measured_faster.load(Relaxed);
        if let Some(gpu) = self.gpu.as_ref().filter(|_| !measured_cpu) {
            match on_gpu(gpu, state) {
                Ok(output) => {
                    return Computed {
                        output,
                        execution: Execution {
                            device: Device::Gpu(gpu.adapter().clone()),
                            fallback: None,
                        },
                    };
                }
                Err(e) => {
                    log::info!("the GPU failed ({e}); the CPU does the work");
                    fallback = Some(e);
                }
            }
        }
        Computed {
            output: on_cpu(state),
            execution: Execution {
                device: cpu_device(),
                fallback,
            },
        }
    }

    /// The engine's kept buffer for per-pixel change words, sized to `n`; give it back with
    /// [`Engine::keep_change_words`] after use.
    pub(crate) fn take_change_words(&self, n: usize) -> Vec<u32> {
        let mut words = std::mem::take(&mut *self.change_words_lock());
        words.clear();
        words.resize(n, 0);
        words
    }

    /// Keeps `words` for the next [`Engine::take_change_words`].
    pub(crate) fn keep_change_words(&self, words: Vec<u32>) {
        *self.change_words_lock() = words;
    }

    fn change_words_lock(&self) -> std::sync::MutexGuard<'_, Vec<u32>> {
        self.change_words.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The CPU backend with its worker-thread count.
pub(crate) fn cpu_device() -> Device {
    Device::Cpu {
        threads: rayon::current_num_threads(),
    }
}
