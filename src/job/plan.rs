//! The plan: the date relation, the change threshold and the backend, from a fixed sample
//! of rows.

use super::*;
use crate::change::ChangeMethod;
use crate::change::calibration::{MAX_MEDIAN_REFLECTANCE, median_reflectance_above_limit};
use crate::change::context::{ContextJob, ContextModel};

/// What the plan stage decided for the per-pixel stage.
pub(super) struct Plan {
    /// The relation between the dates to apply.
    pub relation: DateRelation,
    /// The change threshold.
    pub threshold: u32,
    /// The backend measured fastest under `Auto`.
    pub choice: Option<BackendChoice>,
    /// The nominal ground size of a pixel, in metres.
    pub pixel_m: f64,
}

impl Job {
    /// The plan stage: the date relation and the threshold, from a sample of rows fixed by
    /// the scene's size alone (never by how the files are stored).
    pub(super) fn plan_stage(&self, dates: &Dates, engine: &Engine) -> Result<Plan> {
        let TargetGrid {
            width,
            height,
            georef,
        } = dates.grid;
        let pixel_m = crate::geo::nominal_pixel_m(Some(&georef), width, height)
            .unwrap_or(crate::change::context::DEFAULT_PIXEL_M);
        let (relation, threshold, choice) =
            self.plan_on_sample(width, height, &dates.layout, engine, pixel_m)?;
        Ok(Plan {
            relation,
            threshold,
            choice,
            pixel_m,
        })
    }

    /// Estimates the date relation and the threshold on a fixed sample of rows (see
    /// [`sample_windows`]; the whole scene when it is small).
    fn plan_on_sample(
        &self,
        width: usize,
        height: usize,
        layout: &(Vec<BandRole>, Sensor),
        engine: &Engine,
        pixel_m: f64,
    ) -> Result<(DateRelation, u32, Option<BackendChoice>)> {
        let windows = sample_windows(width, height);
        let sample = |source: &dyn DateSource| -> Result<BandStack> {
            let parts = windows
                .iter()
                .map(|&(row, rows)| self.read_rows(source, row, rows, layout))
                .collect::<Result<Vec<_>>>()?;
            stack_rows(&parts)
        };
        let (before, after) = rayon::join(|| sample(&*self.before), || sample(&*self.after));
        let (before, after) = (before?, after?);
        let whole = windows.len() == 1 && windows[0] == (0, height);
        check_samples(&*self.before, "before", &before, whole)?;
        check_samples(&*self.after, "after", &after, whole)?;
        self.report("plan", 1, 1);
        if self.options.method == ChangeMethod::Contextual {
            return self.plan_contextual(width, pixel_m, &before, &after, engine);
        }
        let sample = engine.detect_change(&before, &after, &self.options)?.output;
        let threshold = match self.options.threshold {
            Threshold::Fixed(t) => t,
            Threshold::Otsu if self.options.method.measure() == 0 => {
                otsu_above_noise(&sample.histogram, sample.relation.noise)
            }
            Threshold::Otsu => otsu(&sample.histogram),
        };
        // Under Auto, the faster backend for the strips, timed on part of the sample with
        // the strips' own settings.
        let choice = {
            let rows = (STRIP_PIXELS / width.max(1)).clamp(1, before.height());
            let part = crate::io::Window {
                col: 0,
                row: 0,
                width,
                height: rows,
            };
            let (b, a) = (crop_stack(&before, &part)?, crop_stack(&after, &part)?);
            let strip_options = ChangeOptions {
                relation: Some(sample.relation),
                threshold: Threshold::Fixed(threshold),
                ..self.options
            };
            // The per-pixel pass of a strip; NDVI, computed only at changed pixels, is small.
            engine.choose_by_measurement(|e| {
                allow_all_nodata(e.detect_change_codes(&b, &a, &strip_options))?;
                Ok(())
            })?
        };
        Ok((sample.relation, threshold, choice))
    }
}

impl Job {
    /// The plan of the contextual detector: its model of the pair, from the sample, and the
    /// backend for the strips under `Auto`, timed on part of the sample.
    fn plan_contextual(
        &self,
        width: usize,
        pixel_m: f64,
        before: &BandStack,
        after: &BandStack,
        engine: &Engine,
    ) -> Result<(DateRelation, u32, Option<BackendChoice>)> {
        let model = ContextModel::estimate(before, after, pixel_m, &self.options.context)?;
        let settings = &self.options.context;
        let rows = (STRIP_PIXELS / width.max(1)).clamp(1, before.height());
        let choice = engine.choose_by_measurement(|e| {
            let job = ContextJob::new(
                before,
                after,
                (0, rows),
                &model,
                settings,
                &self.options.classes,
            )?;
            let mut words = vec![0u32; 2 * rows * width];
            e.context_words(&job, &mut words);
            Ok(())
        })?;
        let relation = DateRelation {
            context: Some(model),
            ..DateRelation::IDENTITY
        };
        let seed = (settings.seed_sigma * crate::change::noise::SCORE_UNITS).round() as u32;
        Ok((relation, seed, choice))
    }
}

/// Refuses a date whose sample holds no valid pixel, or whose calibrated samples are not
/// reflectance (see [`median_reflectance_above_limit`]), naming its file and date.
fn check_samples(
    source: &dyn DateSource,
    date: &'static str,
    sample: &BandStack,
    whole: bool,
) -> Result<()> {
    let refuse = |reason: String| Error::Samples {
        path: super::preflight::source_path(source),
        date,
        reason,
    };
    let valid = |i: usize| sample.bands().iter().all(|b| b.is_valid(b.data.get_f32(i)));
    if !(0..sample.len()).any(valid) {
        let rows = if whole {
            "every pixel"
        } else {
            "every pixel of the rows sampled for the plan"
        };
        return Err(refuse(format!(
            "{rows} is nodata, NaN or infinite in at least one band; \
             check the file's nodata value and the band order (--bands)"
        )));
    }
    if let Some((role, median)) = median_reflectance_above_limit(sample) {
        let band = role.map_or_else(|| "a band".to_string(), |r| format!("the {r} band"));
        return Err(refuse(format!(
            "the median reflectance of {band} is {median:.2}, above {MAX_MEDIAN_REFLECTANCE}: \
             these samples are not reflectance under the radiometry given (scale {}, offset {}); \
             for digital numbers give the sensor (--sensor) or its --scale and --offset, or, \
             without a known scale, store them as integers (gdal_translate -ot UInt16) for a \
             relative calibration",
            sample.radiometry.scale, sample.radiometry.offset
        )));
    }
    Ok(())
}

/// The sample windows `(row, rows)` of a scene `width × height`, from its size alone (never
/// from how its files are stored, so that the same pixels give the same plan): the whole
/// scene when it holds at most [`WHOLE_SCENE_PIXELS`]; else at most [`SAMPLE_WINDOWS`] windows,
/// spread evenly, each starting on a multiple of [`SAMPLE_ALIGN`] rows and as tall as the
/// [`SAMPLE_PIXELS`] budget allows (a multiple of [`SAMPLE_ROWS`] when the budget holds one,
/// at most [`SAMPLE_ALIGN`]).
/// Strips and tiles of up to [`SAMPLE_ALIGN`] rows (a power of two) then start where a window
/// starts, so a read inflates only the window's rows of each block.
fn sample_windows(width: usize, height: usize) -> Vec<(usize, usize)> {
    let width = width.max(1);
    if width.saturating_mul(height) <= WHOLE_SCENE_PIXELS {
        return vec![(0, height)];
    }
    let bands = height.div_ceil(SAMPLE_ALIGN);
    let count = bands.min(SAMPLE_WINDOWS).min(SAMPLE_PIXELS / width).max(1);
    let budget = SAMPLE_PIXELS / width / count;
    let rows = match budget / SAMPLE_ROWS * SAMPLE_ROWS {
        0 => budget.max(1),
        rows => rows.min(SAMPLE_ALIGN),
    };
    (0..count)
        .map(|k| {
            let start = (2 * k + 1) * bands / (2 * count) * SAMPLE_ALIGN;
            (start, rows.min(height - start))
        })
        .collect()
}

/// Stacks with the same bands, one under the other.
fn stack_rows(parts: &[BandStack]) -> Result<BandStack> {
    let first = &parts[0];
    let height = parts.iter().map(BandStack::height).sum();
    let bands = (0..first.bands().len())
        .map(|b| {
            let mut band = first.bands()[b].clone();
            band.data = concat(parts.iter().map(|p| &p.bands()[b].data));
            band
        })
        .collect();
    let mut stack = BandStack::new(first.width(), height, bands)?;
    stack.set_radiometry(first.radiometry)?;
    stack.georef = first.georef;
    Ok(stack)
}

fn concat<'a>(mut parts: impl Iterator<Item = &'a BandData>) -> BandData {
    let mut out = parts.next().expect("at least one part").clone();
    for p in parts {
        match (&mut out, p) {
            (BandData::U8(o), BandData::U8(v)) => o.extend_from_slice(v),
            (BandData::U16(o), BandData::U16(v)) => o.extend_from_slice(v),
            (BandData::I16(o), BandData::I16(v)) => o.extend_from_slice(v),
            (BandData::U32(o), BandData::U32(v)) => o.extend_from_slice(v),
            (BandData::F32(o), BandData::F32(v)) => o.extend_from_slice(v),
            _ => unreachable!("windows of one file share a sample type"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_windows_cover_small_scenes_and_stay_bounded_on_large_ones() {
        assert_eq!(sample_windows(400, 400), [(0, 400)]);
        assert_eq!(sample_windows(2048, 2048), [(0, 2048)]);
        let scenes = [
            (4097, 4096),
            (10980, 10980),
            (8000, 60000),
            (5000, 3400),
            (300_000, 100),
            (600_000, 20_000),
        ];
        for (w, h) in scenes {
            let windows = sample_windows(w, h);
            let pixels: usize = windows.iter().map(|&(_, rows)| rows * w).sum();
            assert!(windows.len() <= SAMPLE_WINDOWS, "{w}×{h}");
            assert!(pixels <= SAMPLE_PIXELS, "{w}×{h}: {pixels}");
            assert!(pixels > SAMPLE_PIXELS / 2, "{w}×{h}: {pixels}");
            for pair in windows.windows(2) {
                assert!(pair[0].0 + pair[0].1 <= pair[1].0, "{w}×{h}: {windows:?}");
            }
            for &(row, rows) in &windows {
                assert!(rows > 0 && row + rows <= h, "{w}×{h}: {windows:?}");
                assert_eq!(row % SAMPLE_ALIGN, 0, "{w}×{h}: {windows:?}");
            }
        }
        // A Sentinel-2 tile: 22 windows of 4 rows, one in every 512-row band.
        let s2 = sample_windows(10980, 10980);
        assert_eq!(s2.len(), 22);
        assert!(s2.iter().all(|&(_, rows)| rows == 4), "{s2:?}");
        // Fewer, taller windows where the scene has fewer bands.
        assert_eq!(
            sample_windows(5000, 3400),
            [0, 512, 1024, 1536, 2048, 2560, 3072].map(|row| (row, 29))
        );
    }
}
