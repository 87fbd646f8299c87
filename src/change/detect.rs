//! Change detection on an [`Engine`]: the per-pixel methods in two passes (pass 1, Otsu's
//! threshold from the histogram of its measures, pass 2) or, with a known threshold, in one
//! fused pass; the contextual method's kernels over a window of rows. Each pass runs on the
//! GPU or on its CPU twin through [`Engine::run`]. The jobs the passes run are built here.

use super::context::{
    ContextJob, ContextModel, ContextPlanes, DEFAULT_PIXEL_M, region_params, split_words,
};
use super::noise::SCORE_UNITS;
use super::pass_one::{HISTOGRAM_BINS, PassOnePlanes};
use super::regions::RegionBuilder;
use super::{
    CHANGE_NODATA, ChangeCodes, ChangeMaps, ChangeMethod, ChangeOptions, ChangePlanes,
    ChangeSettings, DateRelation, Threshold, otsu, otsu_above_noise, relate_dates,
};
use crate::backend::gpu::change_context;
use crate::backend::{Computed, Engine, Execution, cpu};
use crate::classify::CLASS_NODATA;
use crate::error::{Error, Result};
use crate::pixel::PixelJob;
use crate::raster::{Band, BandData, BandStack, Raster};

/// [`Engine::detect_change_masked`]: the maps of a per-pixel method, or of the contextual
/// detector ([`contextual`]).
pub(crate) fn maps(
    engine: &Engine,
    before: &BandStack,
    after: &BandStack,
    options: &ChangeOptions,
    mask: Option<&Raster<u8>>,
) -> Result<Computed<ChangeMaps>> {
    if options.method == ChangeMethod::Contextual {
        return contextual(engine, before, after, options, mask);
    }
    let mask = mask.map(|m| mask_band(m, before.len())).transpose()?;
    let relation = relation_of(before, after, options)?;
    let mut job =
        (options.classes).change_job(before, after, &relation.normalization, options.method)?;
    if let Some(mask) = &mask {
        job.push_band(mask);
    }
    let mut words = engine.take_change_words(before.len());
    let pass1 = engine.run(
        &job,
        &mut words,
        |gpu, job, out| gpu.change(job, out),
        cpu::change::pass_one,
        "change detection",
    )?;
    let words = BandData::U32(words);
    let (histogram, pass_histogram) = measure_histogram(engine, &words, before.len())?;
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
    let pass2 = engine.run(
        &codes_job,
        &mut codes,
        |gpu, job, out| gpu.change_codes(job, out),
        cpu::change::change_codes,
        "change codes",
    )?;
    let BandData::U32(words) = words else {
        unreachable!("pass-1 words are u32")
    };
    let planes = PassOnePlanes::split(&words);
    engine.keep_change_words(words);
    let execution = [pass_histogram, pass2]
        .into_iter()
        .find(|e| e.fallback.is_some())
        .unwrap_or(pass1);
    let output = ChangeMaps {
        class_before: before.raster_of(planes.class_before, CLASS_NODATA),
        class_after: before.raster_of(planes.class_after, CLASS_NODATA),
        direction: before.raster_of(planes.direction, 255),
        magnitude: before.raster_of(planes.magnitude, 0),
        change: before.raster_of(codes, CHANGE_NODATA),
        threshold,
        relation,
        histogram,
        sky: None,
    };
    Ok(Computed { output, execution })
}

/// The dates' relation: the caller's, or measured.
fn relation_of(
    before: &BandStack,
    after: &BandStack,
    options: &ChangeOptions,
) -> Result<DateRelation> {
    match options.relation {
        Some(r) => Ok(r),
        None => relate_dates(before, after, options.normalize),
    }
}

/// The histogram of the pass-1 measures of valid pixels.
fn measure_histogram(
    engine: &Engine,
    words: &BandData,
    len: usize,
) -> Result<(Vec<u32>, Execution)> {
    let over_words = PixelJob::over_data(len, &[words]);
    let mut histogram = vec![0u32; HISTOGRAM_BINS];
    let execution = engine.run(
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
    Ok((histogram, execution))
}

/// The contextual detector over two whole stacks (see the module documentation), with an
/// optional caller's mask (nonzero = masked: nodata in every output).
fn contextual(
    engine: &Engine,
    before: &BandStack,
    after: &BandStack,
    options: &ChangeOptions,
    mask: Option<&Raster<u8>>,
) -> Result<Computed<ChangeMaps>> {
    super::check_same_grid(before, after)?;
    let (w, h) = (before.width(), before.height());
    let n = before.len();
    if let Some(m) = mask
        && m.data.len() != n
    {
        return Err(Error::GridMismatch {
            what: format!(
                "a mask of {}×{} pixels against images of {w}×{h}",
                m.width, m.height
            ),
        });
    }
    let model = context_model(before, after, options)?;
    let job = ContextJob::new(
        before,
        after,
        (0, h),
        &model,
        &options.context,
        &options.classes,
    )?;
    let mut words = vec![0u32; 2 * n];
    let execution = engine.context_words(&job, &mut words);
    let [
        mut class_before,
        mut class_after,
        mut change,
        mut flags,
        mut direction,
    ] = [0; 5].map(|_| vec![0u8; n]);
    let mut magnitude = vec![0u16; n];
    split_words(
        &words,
        ContextPlanes {
            class_before: &mut class_before,
            class_after: &mut class_after,
            precodes: &mut change,
            flags: &mut flags,
            scores: Some((&mut magnitude, &mut direction)),
        },
    );
    drop(words);
    if let Some(m) = mask {
        for (i, _) in m.data.iter().enumerate().filter(|(_, v)| **v != 0) {
            (class_before[i], class_after[i]) = (CLASS_NODATA, CLASS_NODATA);
            (change[i], flags[i], direction[i], magnitude[i]) = (CHANGE_NODATA, 0, 255, 0);
        }
    }
    if change.iter().all(|&c| c == CHANGE_NODATA) {
        return Err(Error::AllNodata {
            what: "change detection".into(),
        });
    }
    let mut regions = RegionBuilder::new(w, h)?;
    regions.add_rows(&change, &flags)?;
    let regions = regions.finish(&region_params(&options.context, model.pixel_m))?;
    regions.apply(0, &mut change)?;
    let mut histogram = vec![0u32; 65536];
    for (&m, &c) in magnitude.iter().zip(&change) {
        if c != CHANGE_NODATA {
            histogram[m as usize] += 1;
        }
    }
    let output = ChangeMaps {
        class_before: before.raster_of(class_before, CLASS_NODATA),
        class_after: before.raster_of(class_after, CLASS_NODATA),
        magnitude: before.raster_of(magnitude, 0),
        direction: before.raster_of(direction, 255),
        change: before.raster_of(change, CHANGE_NODATA),
        threshold: (options.context.seed_sigma * SCORE_UNITS).round() as u32,
        relation: DateRelation {
            context: Some(model),
            ..DateRelation::IDENTITY
        },
        histogram,
        sky: Some(regions.stats()),
    };
    Ok(Computed { output, execution })
}

/// The caller's contextual model, or one estimated on the whole stacks.
fn context_model(
    before: &BandStack,
    after: &BandStack,
    options: &ChangeOptions,
) -> Result<ContextModel> {
    if let Some(model) = options.relation.and_then(|r| r.context) {
        return Ok(model);
    }
    let (w, h) = (before.width(), before.height());
    let pixel_m =
        crate::geo::nominal_pixel_m(before.georef.as_ref(), w, h).unwrap_or(DEFAULT_PIXEL_M);
    ContextModel::estimate(before, after, pixel_m, &options.context)
}

/// [`Engine::detect_change_codes`]: the codes and classes as three rasters.
pub(crate) fn codes(
    engine: &Engine,
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
    let computed = codes_into(engine, before, after, options, planes)?;
    let settings = computed.output;
    Ok(Computed {
        output: ChangeCodes {
            class_before: before.raster_of(class_before, CLASS_NODATA),
            class_after: before.raster_of(class_after, CLASS_NODATA),
            change: before.raster_of(change, CHANGE_NODATA),
            threshold: settings.threshold,
            relation: settings.relation,
        },
        execution: computed.execution,
    })
}

/// [`Engine::detect_change_codes_into`]: one fused pass with a fixed threshold, else the
/// maps of [`maps`] copied into the planes.
pub(crate) fn codes_into(
    engine: &Engine,
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
        let maps = maps(engine, before, after, options, None)?;
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
    let relation = relation_of(before, after, options)?;
    let mut job =
        (options.classes).change_job(before, after, &relation.normalization, options.method)?;
    decide_in_pass(&mut job, threshold, options.method);
    let mut planes = out;
    let computed = engine.gpu_or_cpu(
        &mut planes,
        |gpu, planes| {
            let mut words = engine.take_change_words(n);
            let valid = gpu.change_fused(&job, &mut words);
            if valid.is_ok() {
                split_fused_words(&words, planes);
            }
            engine.keep_change_words(words);
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

/// [`Engine::context_words`]: the contextual kernels over one window of rows.
pub(crate) fn context_words(engine: &Engine, job: &ContextJob<'_>, out: &mut [u32]) -> Execution {
    engine
        .gpu_or_cpu(
            out,
            |gpu, out| change_context::context_words(gpu, job, out),
            |out| {
                cpu::change_context::context_words(job, out);
            },
        )
        .execution
}

/// Splits the fused kernel's words into the planes of class before, class after and change
/// code (bytes 0, 1 and 2 of each word; see `shaders/change_fused.wgsl`).
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

/// A caller's cloud or invalid mask as a band whose nodata value (1) marks masked pixels.
pub(crate) fn mask_band(mask: &Raster<u8>, len: usize) -> Result<Band> {
    if mask.data.len() != len {
        return Err(Error::GridMismatch {
            what: format!(
                "a mask of {}×{} pixels against images of {len} pixels",
                mask.width, mask.height
            ),
        });
    }
    let flags = mask.data.iter().map(|&m| u8::from(m != 0)).collect();
    Ok(Band {
        role: None,
        data: BandData::U8(flags),
        nodata: Some(1.0),
    })
}

/// Turns a pass-1 job into one of the fused pass (`shaders/change_fused.wgsl`), which also
/// decides with `threshold` and `method`.
pub(crate) fn decide_in_pass(job: &mut PixelJob<'_>, threshold: u32, method: ChangeMethod) {
    // A measure is at most 65,535, so any threshold from 65,535 up decides the same, and
    // 65,536 is exact in f32.
    job.params.consts[crate::pixel::slots::change::CHANGE_THRESHOLD] = threshold.min(65_536) as f32;
    job.params.op = method.code() as u32;
}

/// A pass-2 job over the packed words of pass 1.
pub(crate) fn codes_job<'a>(
    words: &'a BandData,
    len: usize,
    threshold: u32,
    method: ChangeMethod,
) -> PixelJob<'a> {
    let mut job = PixelJob::over_data(len, &[words]);
    use crate::pixel::slots::change_codes::*;
    job.params.iconsts[CODES_THRESHOLD] = threshold.min(i32::MAX as u32) as i32;
    job.params.iconsts[CODES_METHOD] = method.code();
    job
}
