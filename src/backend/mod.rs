//! Backend choice and the one entry point per kernel.
//!
//! An [`Engine`] is created once and reused: it holds the GPU context (adapter, device,
//! compiled pipelines, pooled buffers) when a GPU is used. Every call returns a [`Computed`]
//! that says which backend did the work and, when the GPU failed, why the CPU took over.

pub mod cpu;
pub mod gpu;
mod profile;

pub use profile::{DeviceProfile, KernelProfile};

use crate::change::context::ContextJob;
use crate::change::{
    CHANGE_NODATA, ChangeCodes, ChangeMaps, ChangeMethod, ChangeOptions, ChangePlanes,
    ChangeSettings, Threshold, codes_job, decide_in_pass, mask_band, otsu, otsu_above_noise,
    relate_dates,
};
use crate::classify::{CLASS_NODATA, ClassThresholds};
use crate::error::{Error, GpuFailure, Result};
use crate::index::SpectralIndex;
use crate::pixel::{INDEX_NODATA, PixelJob};
use crate::raster::{BandData, BandStack, Raster};
use gpu::{AdapterSummary, GpuContext, GpuOptions};

/// Which backend should run the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// A real (discrete or integrated) GPU when one exists, else the CPU. A software adapter
    /// is never chosen unless [`GpuOptions::allow_software`] is set. After
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
    change_words: std::sync::Mutex<Vec<u32>>,
    /// Under `Auto`, set when a measurement found the CPU faster than the GPU.
    cpu_measured_faster: std::sync::atomic::AtomicBool,
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
        let (gpu, gpu_unavailable) = match backend {
            Backend::Cpu => (None, None),
            Backend::Auto => match GpuContext::new(options) {
                Ok(ctx) => (Some(ctx), None),
                Err(e) => (None, Some(e)),
            },
            Backend::Gpu => {
                let opts = GpuOptions {
                    allow_software: true,
                    ..options.clone()
                };
                match GpuContext::new(&opts) {
                    Ok(ctx) => (Some(ctx), None),
                    Err(e) => (None, Some(e)),
                }
            }
        };
        Engine {
            requested: backend,
            gpu,
            gpu_unavailable,
            change_words: std::sync::Mutex::default(),
            cpu_measured_faster: std::sync::atomic::AtomicBool::new(false),
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
        use std::sync::atomic::Ordering::Relaxed;
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
        Ok(Some(BackendChoice {
            gpu_seconds,
            cpu_seconds,
            chosen: if cpu_faster {
                Device::Cpu {
                    threads: rayon::current_num_threads(),
                }
            } else {
                Device::Gpu(gpu.adapter().clone())
            },
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

    /// The GPU context, when one is in use (for kernels defined outside this module).
    pub(crate) fn gpu(&self) -> Option<&GpuContext> {
        self.gpu.as_ref()
    }

    /// Why no GPU is used although one was asked for (`Gpu`) or looked for (`Auto`).
    pub fn gpu_unavailable(&self) -> Option<&GpuFailure> {
        self.gpu_unavailable.as_ref()
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

    /// Computes a spectral index. Undefined pixels hold [`INDEX_NODATA`].
    pub fn index(&self, stack: &BandStack, index: SpectralIndex) -> Result<Computed<Raster<f32>>> {
        let mut out = Vec::new();
        let execution = self.index_into(stack, index, &mut out)?;
        Ok(Computed {
            output: raster(stack, out, INDEX_NODATA),
            execution,
        })
    }

    /// [`Engine::index`] into a caller's buffer, resized to the stack and reused across calls
    /// (tiles of one size then allocate nothing).
    pub fn index_into(
        &self,
        stack: &BandStack,
        index: SpectralIndex,
        out: &mut Vec<f32>,
    ) -> Result<Execution> {
        let job = index.job(stack)?;
        out.resize(stack.len(), 0.0);
        self.run(
            &job,
            out,
            |gpu, job, out| gpu.index(job, out),
            |job, out| cpu::run_pixels(job, out, cpu::index::index_chunk),
            &index.to_string(),
        )
    }

    /// Classifies land cover into the codes of [`crate::classify`].
    pub fn classify(
        &self,
        stack: &BandStack,
        thresholds: &ClassThresholds,
    ) -> Result<Computed<Raster<u8>>> {
        let mut out = Vec::new();
        let execution = self.classify_into(stack, thresholds, &mut out)?;
        Ok(Computed {
            output: raster(stack, out, CLASS_NODATA),
            execution,
        })
    }

    /// [`Engine::classify`] into a caller's buffer, resized to the stack and reused across
    /// calls.
    pub fn classify_into(
        &self,
        stack: &BandStack,
        thresholds: &ClassThresholds,
        out: &mut Vec<u8>,
    ) -> Result<Execution> {
        let job = thresholds.job(stack)?;
        out.resize(stack.len(), 0);
        self.run(
            &job,
            out,
            |gpu, job, out| gpu.classify(job, out),
            |job, out| cpu::run_pixels(job, out, cpu::classify::classify_chunk),
            "land-cover classification",
        )
    }

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
        let n = before.len();
        let [mut class_before, mut class_after, mut change] = [0; 3].map(|_| vec![0u8; n]);
        let planes = ChangePlanes {
            class_before: &mut class_before,
            class_after: &mut class_after,
            change: &mut change,
        };
        let computed = self.detect_change_codes_into(before, after, options, planes)?;
        let settings = computed.output;
        Ok(Computed {
            output: ChangeCodes {
                class_before: raster(before, class_before, CLASS_NODATA),
                class_after: raster(before, class_after, CLASS_NODATA),
                change: raster(before, change, CHANGE_NODATA),
                threshold: settings.threshold,
                relation: settings.relation,
            },
            execution: computed.execution,
        })
    }

    /// [`Engine::detect_change_codes`] into the caller's planes, each of the stacks' length.
    pub fn detect_change_codes_into(
        &self,
        before: &BandStack,
        after: &BandStack,
        options: &ChangeOptions,
        out: ChangePlanes<'_>,
    ) -> Result<Computed<ChangeSettings>> {
        let n = before.len();
        if [&out.class_before, &out.class_after, &out.change]
            .iter()
            .any(|p| p.len() != n)
        {
            return Err(Error::GridMismatch {
                what: format!("output planes of other than the images' {n} pixels"),
            });
        }
        let contextual = options.method == ChangeMethod::Contextual;
        let (Threshold::Fixed(threshold), false) = (options.threshold, contextual) else {
            let maps = self.detect_change(before, after, options)?;
            let m = maps.output;
            out.class_before.copy_from_slice(&m.class_before.data);
            out.class_after.copy_from_slice(&m.class_after.data);
            out.change.copy_from_slice(&m.change.data);
            return Ok(Computed {
                output: ChangeSettings {
                    threshold: m.threshold,
                    relation: m.relation,
                },
                execution: maps.execution,
            });
        };
        let relation = match options.relation {
            Some(r) => r,
            None => relate_dates(before, after, options.normalize)?,
        };
        let mut job =
            options
                .classes
                .change_job(before, after, &relation.normalization, options.method)?;
        decide_in_pass(&mut job, threshold, options.method);
        let mut planes = out;
        let computed = self.gpu_or_cpu(
            &mut planes,
            |gpu, planes| {
                let mut words = self.take_change_words(n);
                let valid = gpu.change_fused(&job, &mut words);
                if valid.is_ok() {
                    split_fused_words(&words, planes);
                }
                *self.change_words.lock().unwrap_or_else(|e| e.into_inner()) = words;
                valid
            },
            |planes| cpu::change::fused(&job, planes),
        );
        if computed.output == 0 {
            return Err(Error::AllNodata {
                what: "change detection".into(),
            });
        }
        Ok(Computed {
            output: ChangeSettings {
                threshold,
                relation,
            },
            execution: computed.execution,
        })
    }

    /// Runs the contextual detector's kernels over one window of rows (see
    /// [`crate::change::context`]): two words per output pixel into `out` (word 0: class
    /// before, class after, pre-code and sky flags, a byte each; word 1: the smoothed score in
    /// σ/256 and the direction). The region stage ([`crate::change::regions`]) turns the
    /// pre-codes and flags of a whole scene into change codes.
    pub fn context_words(&self, job: &ContextJob<'_>, out: &mut [u32]) -> Execution {
        self.gpu_or_cpu(
            out,
            |gpu, out| gpu::change_context::context_words(gpu, job, out),
            |out| {
                cpu::change_context::context_words(job, out);
            },
        )
        .execution
    }

    /// The engine's kept buffer for per-pixel change words, sized to `n` (return it after use).
    fn take_change_words(&self, n: usize) -> Vec<u32> {
        let mut words =
            std::mem::take(&mut *self.change_words.lock().unwrap_or_else(|e| e.into_inner()));
        words.clear();
        words.resize(n, 0);
        words
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
        if options.method == ChangeMethod::Contextual {
            return crate::change::context::detect(self, before, after, options, mask);
        }
        let mask = mask.map(|m| mask_band(m, before.len())).transpose()?;
        let relation = match options.relation {
            Some(r) => r,
            None => relate_dates(before, after, options.normalize)?,
        };
        let normalization = relation.normalization;
        let mut job = options
            .classes
            .change_job(before, after, &normalization, options.method)?;
        if let Some(mask) = &mask {
            job.push_band(mask);
        }
        let mut words = self.take_change_words(before.len());
        let pass1 = self.run(
            &job,
            &mut words,
            |gpu, job, out| gpu.change(job, out),
            cpu::change::pass_one,
            "change detection",
        )?;
        let words = BandData::U32(words);
        let over_words = PixelJob::over_data(before.len(), &[&words]);
        let mut histogram = vec![0u32; cpu::change::HISTOGRAM_BINS];
        let pass_histogram = self.run(
            &over_words,
            &mut histogram,
            |gpu, job, out| gpu.change_histogram(job, out),
            |job, out| {
                let BandData::U32(w) = job.slots[0] else {
                    unreachable!("the histogram reads pass-1 words")
                };
                out.copy_from_slice(&cpu::change::magnitude_histogram(w));
                out.iter().map(|&c| u64::from(c)).sum()
            },
            "change histogram",
        )?;
        let threshold = match options.threshold {
            // The noise level is measured on the change vector, so it floors only that measure.
            Threshold::Otsu if options.method.measure() == 0 => {
                otsu_above_noise(&histogram, relation.noise)
            }
            Threshold::Otsu => otsu(&histogram),
            Threshold::Fixed(t) => t,
        };
        let codes_job = codes_job(&words, before.len(), threshold, options.method);
        let mut codes = vec![0u8; before.len()];
        let pass2 = self.run(
            &codes_job,
            &mut codes,
            |gpu, job, out| gpu.change_codes(job, out),
            cpu::change::change_codes,
            "change codes",
        )?;
        let BandData::U32(words) = words else {
            unreachable!("pass-1 words are u32")
        };
        // Pass-1 words: class before (bits 0-3), class after (4-7), 15 = nodata; direction
        // sector (8-13); measure (16-31).
        let nodata = cpu::change::NODATA_CLASS;
        let class = |shift: u32| {
            let class_of = |w: u32| match (w >> shift) & 0xf {
                c if c == nodata => CLASS_NODATA,
                c => c as u8,
            };
            words.iter().map(|&w| class_of(w)).collect()
        };
        let valid = |w: u32| w & 0xf != nodata;
        let magnitude = words.iter().map(|&w| (w >> 16) as u16).collect();
        let direction = words
            .iter()
            .map(|&w| if valid(w) { (w >> 8 & 0x3f) as u8 } else { 255 })
            .collect();
        let execution = [pass_histogram, pass2]
            .into_iter()
            .find(|e| e.fallback.is_some())
            .unwrap_or(pass1);
        let output = ChangeMaps {
            class_before: raster(before, class(0), CLASS_NODATA),
            class_after: raster(before, class(4), CLASS_NODATA),
            direction: raster(before, direction, 255),
            magnitude: raster(before, magnitude, 0),
            change: raster(before, codes, CHANGE_NODATA),
            threshold,
            relation,
            histogram,
            sky: None,
        };
        *self.change_words.lock().unwrap_or_else(|e| e.into_inner()) = words;
        Ok(Computed { output, execution })
    }

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
        let measured_cpu = self.requested == Backend::Auto
            && self
                .cpu_measured_faster
                .load(std::sync::atomic::Ordering::Relaxed);
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
                Err(e) => fallback = Some(e),
            }
        }
        Computed {
            output: on_cpu(state),
            execution: Execution {
                device: Device::Cpu {
                    threads: rayon::current_num_threads(),
                },
                fallback,
            },
        }
    }
}

/// Splits the fused kernel's words into the planes of class before, class after and change code.
fn split_fused_words(words: &[u32], planes: &mut ChangePlanes<'_>) {
    use rayon::prelude::*;
    const PART: usize = 1 << 16;
    (words.par_chunks(PART))
        .zip(planes.class_before.par_chunks_mut(PART))
        .zip((planes.class_after.par_chunks_mut(PART)).zip(planes.change.par_chunks_mut(PART)))
        .for_each(|((words, before), (after, change))| {
            for (i, &w) in words.iter().enumerate() {
                let [b, a, c, _] = w.to_le_bytes();
                (before[i], after[i], change[i]) = (b, a, c);
            }
        });
}

fn raster<T>(stack: &BandStack, data: Vec<T>, nodata: T) -> Raster<T> {
    Raster {
        width: stack.width(),
        height: stack.height(),
        data,
        nodata,
        georef: stack.georef,
    }
}
