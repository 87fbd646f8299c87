//! The change stage: the per-pixel work, in strips. Both dates are read strip by strip (the
//! next strip while the current one is computed), classified and compared on the engine; the
//! classes and the contextual detector's flags go to a [`StripSink`] as they come (the
//! scene's class maps and regions, or a shard's files), the change codes are kept (one byte
//! a pixel), and so are classes and NDVI where they changed. The contextual detector then
//! resolves clouds, shadows and hysteresis over the whole scene.

use super::*;

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
        let TargetGrid { width, height, .. } = dates.grid;
        let class_paths = [out.join("class_before.tif"), out.join("class_after.tif")];
        let sink = SceneSink::create(&dates.grid, &class_paths, &plan)?;
        let strip_rows = self.strip_rows(width, height, dates.block_rows);
        let cut = Strips::new(height, strip_rows, self.halo_rows(&plan));
        let mut pass = ChangePass::new(
            self,
            engine,
            &dates.grid,
            &plan,
            strip_rows,
            0..height,
            sink,
        );
        self.run_strips(&mut pass, dates, &cut, 0..cut.count())?;
        pass.output()
            .finish(self, &cut, &plan, &dates.grid, &class_paths)
    }

    /// Rows read above and below each strip for the neighbourhood kernels of the plan's
    /// detector.
    pub(super) fn halo_rows(&self, plan: &Plan) -> usize {
        plan.relation
            .context
            .map_or(0, |m| self.options.context.halo_rows(m.pixel_m))
    }

    /// Reads the strips `strips` of the cut `cut` of both dates and passes them through
    /// `pass` in order, strip s + 1 read while strip s is computed.
    pub(super) fn run_strips<S: StripSink>(
        &self,
        pass: &mut ChangePass<'_, S>,
        dates: &Dates,
        cut: &Strips,
        strips: Range<usize>,
    ) -> Result<()> {
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
        let (first, total) = (strips.start, strips.len());
        let mut next = (!strips.is_empty()).then(|| read_pair(first));
        for s in strips.clone() {
            self.check_cancel()?;
            let (before, after, skip) = next.take().expect("read ahead")?;
            let rows = cut.output(s);
            let (computed, ahead) = rayon::join(
                || pass.strip(&before, &after, skip, rows),
                || (s + 1 < strips.end).then(|| read_pair(s + 1)),
            );
            computed?;
            next = ahead;
            self.report("change", (s - first) as u64 + 1, total as u64);
        }
        Ok(())
    }
}

/// Where the change stage sends what it computes of each strip besides the change codes:
/// the scene's class maps and regions, or a shard's files.
pub(super) trait StripSink: Send {
    /// The class planes (before, after) of the next rows.
    fn classes(&mut self, before: &[u8], after: &[u8]) -> Result<()>;
    /// The contextual detector's pre-codes and flags of the next rows.
    fn context_rows(&mut self, precodes: &[u8], flags: &[u8]) -> Result<()>;
}

/// The whole scene's sink: the class maps, written as GeoTIFFs as the rows come, and the
/// contextual detector's scene-wide regions.
pub(super) struct SceneSink {
    class_writers: [GeoTiffStripWriter<u8>; 2],
    regions: Option<RegionBuilder>,
}

impl SceneSink {
    /// Opens the class maps `class_paths` on `grid`, and the regions when the plan's detector
    /// is the contextual one.
    pub(super) fn create(
        grid: &TargetGrid,
        class_paths: &[PathBuf; 2],
        plan: &Plan,
    ) -> Result<SceneSink> {
        let (width, height) = (grid.width, grid.height);
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
        // The contextual detector resolves clouds, shadows and hysteresis over the whole
        // scene once every strip is through.
        let regions = match plan.relation.context {
            Some(_) => Some(RegionBuilder::new(width, height)?),
            None => None,
        };
        Ok(SceneSink {
            class_writers,
            regions,
        })
    }
}

impl StripSink for SceneSink {
    fn classes(&mut self, before: &[u8], after: &[u8]) -> Result<()> {
        self.class_writers[0].write_rows(before)?;
        self.class_writers[1].write_rows(after)
    }

    fn context_rows(&mut self, precodes: &[u8], flags: &[u8]) -> Result<()> {
        match &mut self.regions {
            Some(regions) => regions.add_rows(precodes, flags),
            None => Ok(()),
        }
    }
}

/// The change stage's state as the strips go through it.
pub(super) struct ChangePass<'a, S> {
    job: &'a Job,
    engine: &'a Engine,
    width: usize,
    /// The relation between the dates the plan chose.
    relation: DateRelation,
    /// The job's change options with the plan's relation and threshold.
    options: ChangeOptions,
    /// The scene rows the pass covers.
    rows: Range<usize>,
    /// The change codes of those rows (pre-codes for the contextual detector).
    raw: Vec<u8>,
    changed: ChangedPixels,
    sink: S,
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

/// What a pass leaves once its strips are through.
pub(super) struct PassOutput<S> {
    /// The change codes of the pass's rows (pre-codes for the contextual detector).
    pub raw: Vec<u8>,
    pub changed: ChangedPixels,
    pub quicklook: Quicklook,
    pub execution: Option<Execution>,
    pub sink: S,
}

impl<'a, S: StripSink> ChangePass<'a, S> {
    /// A pass over the rows `rows` of the scene on `grid` (the whole scene, or a shard's
    /// rows), in strips of `strip_rows` rows, sending classes and regions to `sink`.
    pub(super) fn new(
        job: &'a Job,
        engine: &'a Engine,
        grid: &TargetGrid,
        plan: &Plan,
        strip_rows: usize,
        rows: Range<usize>,
        sink: S,
    ) -> ChangePass<'a, S> {
        let options = ChangeOptions {
            relation: Some(plan.relation),
            threshold: Threshold::Fixed(plan.threshold),
            ..job.options
        };
        let (width, height) = (grid.width, grid.height);
        // A strip outputs at most its rows and one halo (see `Strips::output`).
        let len = (strip_rows + job.halo_rows(plan)) * width;
        ChangePass {
            job,
            engine,
            width,
            relation: plan.relation,
            options,
            raw: vec![0u8; rows.len() * width],
            rows,
            changed: ChangedPixels::default(),
            sink,
            execution: None,
            quicklook: Quicklook::new(width, height),
            classes: [0; 2].map(|_| vec![0u8; len]),
            flags: vec![0u8; len],
            words: Vec::new(),
        }
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
        let start = (row - self.rows.start) * width;
        let range = start..start + rows * width;
        self.quicklook
            .add_strip(row, before, after, skip..skip + rows);
        let [class_before, class_after] = &mut self.classes;
        let (class_before, class_after) = (
            &mut class_before[..range.len()],
            &mut class_after[..range.len()],
        );
        let raw = &mut self.raw[range.clone()];
        let computed = match &self.relation.context {
            Some(model) => {
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
                let computed =
                    context_strip(self.engine, &job, &mut self.words, planes, raw, flags)?;
                self.sink.context_rows(raw, flags)?;
                computed
            }
            None => {
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
                self.sink.classes(class_before, class_after)?;
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
                self.sink.classes(&nodata, &nodata)?;
            }
        }
        Ok(())
    }

    /// What the pass computed, once its strips are through.
    pub(super) fn output(self) -> PassOutput<S> {
        PassOutput {
            raw: self.raw,
            changed: self.changed,
            quicklook: self.quicklook,
            execution: self.execution,
            sink: self.sink,
        }
    }
}

/// What the change stage gathered over the whole scene, before the scene-wide step: from its
/// own strips, or from the shards' files.
pub(super) type Collected = PassOutput<SceneSink>;

impl Collected {
    /// Closes the class maps and, for the contextual detector, resolves clouds, shadows and
    /// hysteresis over the whole scene: the pre-codes become codes, and only the changed
    /// pixels' classes and NDVI of what is still changed are kept. The results of the
    /// change stage, the class maps `class_paths` on `grid` among its outputs.
    pub(super) fn finish(
        self,
        job: &Job,
        cut: &Strips,
        plan: &Plan,
        grid: &TargetGrid,
        class_paths: &[PathBuf; 2],
    ) -> Result<PixelResults> {
        let Collected {
            mut raw,
            mut changed,
            quicklook,
            execution,
            sink,
        } = self;
        let width = grid.width;
        // Without a single strip with valid pixels there is nothing to compare.
        let Some(execution) = execution else {
            return Err(Error::AllNodata {
                what: "the enforcement job".into(),
            });
        };
        for w in sink.class_writers {
            w.finish()?;
        }
        let sky = match sink.regions {
            Some(regions) => {
                let params = region_params(&job.options.context, plan.pixel_m);
                let regions = regions.finish(&params)?;
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
        Ok(PixelResults {
            change: Raster {
                width,
                height: grid.height,
                data: raw,
                nodata: crate::change::CHANGE_NODATA,
                georef: Some(grid.georef),
            },
            changed: Some(changed),
            quicklook: Some(quicklook),
            facts: RunFacts {
                sky,
                pixel_m: plan.pixel_m,
                execution,
                threshold: plan.threshold,
                relation: plan.relation,
                outputs: class_paths
                    .iter()
                    .flat_map(|p| std::iter::once(p.clone()).chain(side_car_paths(p)))
                    .collect(),
                strip_rows: cut.rows(),
                backend_choice: plan.choice.clone(),
                shards: Vec::new(),
            },
        })
    }
}

/// Runs the contextual detector on one strip: its classes into `classes`, its pre-codes
/// into `precodes` and its flags into `flags`. `None` when the strip holds no valid pixel.
fn context_strip(
    engine: &Engine,
    job: &ContextJob<'_>,
    words: &mut Vec<u32>,
    [class_before, class_after]: [&mut [u8]; 2],
    precodes: &mut [u8],
    flags: &mut [u8],
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
    let valid = precodes.iter().any(|&c| c != crate::change::CHANGE_NODATA);
    Ok(valid.then_some(Computed {
        output: (),
        execution,
    }))
}
