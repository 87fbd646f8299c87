//! The change stage: the per-pixel work, in strips. Both dates are read strip by strip (the
//! next strip while the current one is computed), classified and compared on the engine; the
//! class maps are written as they come, the change codes are kept (one byte a pixel), and so
//! are classes and NDVI where they changed. The contextual detector then resolves clouds,
//! shadows and hysteresis over the whole scene.

use super::*;
use strips::Strips;

impl Job {
    /// The change stage: every strip of both dates through the engine, the class maps
    /// written into `out`, then the scene-wide regions of the contextual detector.
    pub(super) fn change_stage(
        &self,
        engine: &Engine,
        out: &Path,
        dates: &Dates,
        plan: Plan,
    ) -> Result<PixelResults> {
        let TargetGrid {
            width,
            height,
            georef,
        } = dates.grid;
        let class_paths = [out.join("class_before.tif"), out.join("class_after.tif")];
        let mut pass = ChangePass::new(self, engine, dates, &class_paths, &plan)?;
        let strip_rows = pass.strip_rows;
        let cut = Strips::new(height, strip_rows, pass.halo);
        let strips = cut.count();
        // A strip's rows and the rows around it that it reads: the stacks and the strip's
        // first row in them.
        let read_pair = |s: usize| -> Result<(BandStack, BandStack, usize)> {
            let (read, output) = (cut.read(s), cut.output(s));
            let layout = &dates.layout;
            let (before, after) = rayon::join(
                || self.read_rows(&*self.before, read.start, read.len(), layout),
                || self.read_rows(&*self.after, read.start, read.len(), layout),
            );
            Ok((before?, after?, output.start - read.start))
        };
        // Strip s + 1 is read while strip s is computed.
        let mut next = Some(read_pair(0));
        for s in 0..strips {
            self.check_cancel()?;
            let (before, after, skip) = next.take().expect("read ahead")?;
            let rows = cut.output(s);
            let (computed, ahead) = rayon::join(
                || pass.strip(&before, &after, skip, rows),
                || (s + 1 < strips).then(|| read_pair(s + 1)),
            );
            computed?;
            next = ahead;
            self.report("change", s as u64 + 1, strips as u64);
        }
        let swept = pass.finish(&cut, plan.pixel_m)?;
        Ok(PixelResults {
            change: Raster {
                width,
                height,
                data: swept.raw,
                nodata: crate::change::CHANGE_NODATA,
                georef: Some(georef),
            },
            changed: Some(swept.changed),
            quicklook: Some(swept.quicklook),
            facts: RunFacts {
                sky: swept.sky,
                pixel_m: plan.pixel_m,
                execution: swept.execution,
                threshold: plan.threshold,
                relation: plan.relation,
                outputs: class_paths
                    .iter()
                    .flat_map(|p| [p.clone(), pam_path(p)])
                    .collect(),
                strip_rows,
                backend_choice: plan.choice,
            },
        })
    }
}

/// The change stage's state as the strips go through it.
struct ChangePass<'a> {
    job: &'a Job,
    engine: &'a Engine,
    width: usize,
    /// The relation between the dates the plan chose.
    relation: DateRelation,
    /// The job's change options with the plan's relation and threshold.
    options: ChangeOptions,
    /// Rows read above and below each strip for the neighbourhood kernels.
    halo: usize,
    /// Rows per strip.
    strip_rows: usize,
    /// The change codes of the whole scene (pre-codes for the contextual detector).
    raw: Vec<u8>,
    changed: ChangedPixels,
    class_writers: [GeoTiffStripWriter<u8>; 2],
    /// The contextual detector's scene-wide regions, fed strip by strip.
    regions: Option<RegionBuilder>,
    /// Where the first strip with valid pixels ran.
    execution: Option<Execution>,
    quicklook: Quicklook,
    /// The class planes of a strip, reused (fresh pages are slow to fault in).
    classes: [Vec<u8>; 2],
    /// The contextual detector's flags of a strip, reused.
    flags: Vec<u8>,
    /// The contextual detector's packed output of a strip, reused.
    words: Vec<u32>,
}

/// What the change stage leaves once every strip is through.
struct Swept {
    raw: Vec<u8>,
    changed: ChangedPixels,
    quicklook: Quicklook,
    execution: Execution,
    sky: Option<RegionStats>,
}

impl<'a> ChangePass<'a> {
    /// Opens the class maps in `class_paths`, and the scene's and a strip's buffers.
    fn new(
        job: &'a Job,
        engine: &'a Engine,
        dates: &Dates,
        class_paths: &[PathBuf; 2],
        plan: &Plan,
    ) -> Result<ChangePass<'a>> {
        let grid = &dates.grid;
        let (width, height) = (grid.width, grid.height);
        let raw = vec![0u8; width * height];
        let create = |path: &Path| {
            GeoTiffStripWriter::create(
                path,
                width,
                height,
                Some(&grid.georef),
                Some(CLASS_NODATA),
                &CLASS_TIFF,
            )
        };
        let class_writers = [create(&class_paths[0])?, create(&class_paths[1])?];
        let options = ChangeOptions {
            relation: Some(plan.relation),
            threshold: Threshold::Fixed(plan.threshold),
            ..job.options
        };
        // The contextual detector reads rows around each strip, and resolves clouds,
        // shadows and hysteresis over the whole scene once every strip is through.
        let halo = plan
            .relation
            .context
            .map_or(0, |m| job.options.context.halo_rows(m.pixel_m));
        let regions = match plan.relation.context {
            Some(_) => Some(RegionBuilder::new(width, height)?),
            None => None,
        };
        let strip_rows = job.strip_rows(width, height, dates.block_rows);
        let len = (strip_rows + halo) * width;
        Ok(ChangePass {
            job,
            engine,
            width,
            relation: plan.relation,
            options,
            halo,
            strip_rows,
            raw,
            changed: ChangedPixels::default(),
            class_writers,
            regions,
            execution: None,
            quicklook: Quicklook::new(width, height),
            classes: [0; 2].map(|_| vec![0u8; len]),
            flags: vec![0u8; len],
            words: Vec::new(),
        })
    }

    /// Computes the output rows `rows` of the stacks `before` and `after`, whose first
    /// output row is row `skip` of the stacks: the quicklook, the classes and change codes,
    /// and the class maps and changed pixels' classes and NDVI.
    fn strip(
        &mut self,
        before: &BandStack,
        after: &BandStack,
        skip: usize,
        rows: Range<usize>,
    ) -> Result<()> {
        let (row, rows) = (rows.start, rows.len());
        let width = self.width;
        let range = row * width..(row + rows) * width;
        self.quicklook
            .add_strip(row, before, after, skip..skip + rows);
        let [class_before, class_after] = &mut self.classes;
        let (class_before, class_after) = (
            &mut class_before[..range.len()],
            &mut class_after[..range.len()],
        );
        let raw = &mut self.raw[range.clone()];
        let computed = match (&self.relation.context, &mut self.regions) {
            (Some(model), Some(regions)) => {
                let job = ContextJob::new(
                    before,
                    after,
                    (skip, rows),
                    model,
                    &self.job.options.context,
                    &self.job.options.classes,
                )?;
                let flags = &mut self.flags[..range.len()];
                let planes = [&mut *class_before, &mut *class_after];
                context_strip(
                    self.engine,
                    &job,
                    &mut self.words,
                    planes,
                    raw,
                    flags,
                    regions,
                )?
            }
            _ => {
                let planes = ChangePlanes {
                    class_before,
                    class_after,
                    change: raw,
                };
                allow_all_nodata(self.engine.detect_change_codes_into(
                    before,
                    after,
                    &self.options,
                    planes,
                ))?
                .map(|c| Computed {
                    output: (),
                    execution: c.execution,
                })
            }
        };
        match computed {
            Some(computed) => {
                self.class_writers[0].write_rows(class_before)?;
                self.class_writers[1].write_rows(class_after)?;
                self.changed.add_strip(
                    self.engine,
                    raw,
                    [class_before, class_after],
                    [before, after],
                    skip * width,
                )?;
                self.execution.get_or_insert(computed.execution);
            }
            None => {
                raw.fill(crate::change::CHANGE_NODATA);
                let nodata = vec![CLASS_NODATA; rows * width];
                for w in &mut self.class_writers {
                    w.write_rows(&nodata)?;
                }
            }
        }
        Ok(())
    }

    /// Closes the class maps and, for the contextual detector, resolves clouds, shadows and
    /// hysteresis over the whole scene: the pre-codes become codes, and only the changed
    /// pixels' classes and NDVI of what is still changed are kept.
    fn finish(self, cut: &Strips, pixel_m: f64) -> Result<Swept> {
        let ChangePass {
            job,
            width,
            mut raw,
            mut changed,
            class_writers,
            regions,
            execution,
            quicklook,
            flags,
            words,
            ..
        } = self;
        drop((words, flags));
        // Without a single strip with valid pixels there is nothing to compare.
        let Some(execution) = execution else {
            return Err(Error::AllNodata {
                what: "the enforcement job".into(),
            });
        };
        for w in class_writers {
            w.finish()?;
        }
        let sky = match regions {
            Some(regions) => {
                let regions = regions.finish(&region_params(&job.options.context, pixel_m))?;
                let mut kept = changed.retain();
                for s in 0..cut.count() {
                    let output = cut.output(s);
                    let strip = &mut raw[output.start * width..output.end * width];
                    let precodes = strip.to_vec();
                    regions.apply(output.start, strip)?;
                    kept.feed(&precodes, strip);
                }
                changed = kept.finish();
                Some(regions.stats())
            }
            None => None,
        };
        Ok(Swept {
            raw,
            changed,
            quicklook,
            execution,
            sky,
        })
    }
}

/// Runs the contextual detector on one strip: its classes into `classes`, its pre-codes
/// into `precodes` and its flags into `flags`, which also go to the scene's `regions`.
/// `None` when the strip holds no valid pixel.
fn context_strip(
    engine: &Engine,
    job: &ContextJob<'_>,
    words: &mut Vec<u32>,
    [class_before, class_after]: [&mut [u8]; 2],
    precodes: &mut [u8],
    flags: &mut [u8],
    regions: &mut RegionBuilder,
) -> Result<Option<Computed<()>>> {
    words.resize(2 * precodes.len(), 0);
    let execution = engine.context_words(job, words);
    split_words(
        words,
        ContextPlanes {
            class_before,
            class_after,
            precodes,
            flags,
            scores: None,
        },
    );
    regions.add_rows(precodes, flags)?;
    let valid = precodes.iter().any(|&c| c != crate::change::CHANGE_NODATA);
    Ok(valid.then_some(Computed {
        output: (),
        execution,
    }))
}
