//! The enforcement job end to end: two dates of imagery in, typed change patches checked
//! against protected zones, per-region totals and every output file out.
//!
//! ```no_run
//! use landwatch::job::Job;
//! use landwatch::{Backend, Engine, Sensor};
//!
//! let report = Job::new("t1.tif", "t2.tif")
//!     .sensor(Sensor::preset("sentinel2-l1c")?)
//!     .zone_geojson("basic_farmland", "farmland.geojson")
//!     .regions("counties.geojson", "code")
//!     .run(&Engine::new(Backend::Auto), "out")?;
//! println!("{} patches", report.patch_count);
//! # Ok::<(), landwatch::Error>(())
//! ```
//!
//! The per-pixel work streams: both dates are read in strips of `tile_rows` rows (windowed
//! reads decode only the strips and tiles they touch), and each strip is classified and
//! compared on the chosen backend. The radiometric relation between the dates and the change
//! threshold are estimated once, from a fixed sample of rows that does not depend on the strip
//! size, so a tiled run gives exactly the same result as an untiled one. The patch stages
//! (morphology, labelling, sieve, attributes, polygons) then run on the whole change raster.

use crate::backend::{Computed, Engine, Execution};
use crate::change::{ChangeOptions, DateRelation, Threshold, change_name, otsu, otsu_above_noise};
use crate::error::{Error, Result};
use crate::index::SpectralIndex;
use crate::io::align::{Grid, check_same_grid};
use crate::io::{ReadLimits, read_geojson, read_geotiff, read_info, read_window, write_geotiff};
use crate::overlay::{
    DEFAULT_WARNING_SHARE, PatchOverlay, RegionTotals, overlay_patches, region_totals,
};
use crate::patch::morphology::{MorphOp, MorphScope, StructuringElement};
use crate::patch::{
    Connectivity, PatchAttributes, PatchLayers, attributes, polygonize, sieve, write_patches,
};
use crate::raster::{BandData, BandStack, Raster};
use crate::report::{Quicklook, write_report_html};
use crate::sensor::{BandRole, Sensor};
use crate::zones::{
    Regions, TargetGrid, URBAN_BOUNDARY, Zone, regions_from_layer, zone_from_layer,
    zone_from_raster,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Rows per window of the sample that the date relation and the threshold are estimated on.
const SAMPLE_ROWS: usize = 64;
/// At most this many sample windows, spread evenly over the scene.
const SAMPLE_WINDOWS: usize = 32;

/// Where a protected zone comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoneSource {
    /// Polygons in a GeoJSON file: longitude/latitude (RFC 7946) or the imagery's CRS.
    GeoJson(PathBuf),
    /// A raster on the imagery's grid: nonzero pixels are inside.
    Raster(PathBuf),
}

/// Progress of a running job: the stage and how far it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    /// The stage's name.
    pub stage: &'a str,
    /// Units done.
    pub done: u64,
    /// Units in all.
    pub total: u64,
}

/// The time one stage took.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTime {
    /// The stage's name.
    pub stage: &'static str,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// One patch as the enforcement office receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRecord {
    /// Attributes: id, type, areas, location, classes, NDVI.
    pub attributes: PatchAttributes,
    /// Zone areas and flags, and the region.
    pub overlay: PatchOverlay,
    /// The region's code, when regions were given and the patch lies in one.
    pub region_code: Option<String>,
}

/// What a job produced.
#[derive(Debug, Clone)]
pub struct JobReport {
    /// Patches in id order.
    pub patches: Vec<PatchRecord>,
    /// Number of patches.
    pub patch_count: usize,
    /// Per-region totals, in the order of the regions file.
    pub regions: Vec<RegionTotals>,
    /// Zone names, in the order of `PatchOverlay::zone_area_m2`.
    pub zone_names: Vec<String>,
    /// Time of each stage.
    pub stages: Vec<StageTime>,
    /// Where the per-pixel kernels ran.
    pub execution: Execution,
    /// The change threshold used.
    pub threshold: u32,
    /// The relation between the dates that was applied.
    pub relation: DateRelation,
    /// Valid pixels (not nodata on either date) and all pixels.
    pub valid_pixels: u64,
    /// All pixels of the scene.
    pub pixels: u64,
    /// Patch area by change code (index = code), in m².
    pub area_by_type_m2: [f64; 6],
    /// Files written.
    pub outputs: Vec<PathBuf>,
}

/// The caller's progress callback.
type ProgressCallback = Box<dyn Fn(Progress<'_>) + Sync>;

/// Stage timing: each lap closes the stage that just ran.
struct Timer {
    clock: Instant,
    stages: Vec<StageTime>,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            clock: Instant::now(),
            stages: Vec::new(),
        }
    }

    fn lap(&mut self, stage: &'static str) {
        self.stages.push(StageTime {
            stage,
            seconds: self.clock.elapsed().as_secs_f64(),
        });
        self.clock = Instant::now();
    }
}

/// What the per-pixel stage hands to the patch stages.
struct PixelResults {
    change: Raster<u8>,
    class_before: Option<Raster<u8>>,
    class_after: Option<Raster<u8>>,
    ndvi_before: Option<Raster<f32>>,
    ndvi_after: Option<Raster<f32>>,
    quicklook: Option<Quicklook>,
    execution: Execution,
    threshold: u32,
    relation: DateRelation,
}

/// The enforcement job: configure with the builder methods, then [`Job::run`].
pub struct Job {
    before: PathBuf,
    after: PathBuf,
    sensor: Option<Sensor>,
    bands: Option<Vec<BandRole>>,
    scale_offset: Option<(f64, f64)>,
    options: ChangeOptions,
    zones: Vec<(String, ZoneSource)>,
    regions: Option<(PathBuf, String)>,
    min_area_m2: f64,
    opening: Option<usize>,
    connectivity: Connectivity,
    tile_rows: usize,
    warning_share: f64,
    raw_change: bool,
    progress: Option<ProgressCallback>,
}

impl Job {
    /// A job comparing the GeoTIFF stacks `before` and `after`.
    pub fn new(before: impl Into<PathBuf>, after: impl Into<PathBuf>) -> Job {
        Job {
            before: before.into(),
            after: after.into(),
            sensor: None,
            bands: None,
            scale_offset: None,
            options: ChangeOptions::new(),
            zones: Vec::new(),
            regions: None,
            min_area_m2: 0.0,
            opening: Some(3),
            connectivity: Connectivity::Eight,
            tile_rows: 1024,
            warning_share: DEFAULT_WARNING_SHARE,
            raw_change: false,
            progress: None,
        }
    }

    /// The sensor preset: band order and reflectance scaling.
    pub fn sensor(mut self, sensor: Sensor) -> Job {
        self.sensor = Some(sensor);
        self
    }

    /// The band order of the stacks, overriding the sensor's. Without either, a 6-band stack
    /// is blue, green, red, NIR, SWIR1, SWIR2 and a 4-band stack blue, green, red, NIR.
    pub fn bands(mut self, bands: Vec<BandRole>) -> Job {
        self.bands = Some(bands);
        self
    }

    /// Reflectance scaling `ρ = DN·scale + offset`, overriding the sensor's.
    pub fn scale_offset(mut self, scale: f64, offset: f64) -> Job {
        self.scale_offset = Some((scale, offset));
        self
    }

    /// Change-detection settings (method, threshold, class thresholds).
    pub fn change_options(mut self, options: ChangeOptions) -> Job {
        self.options = options;
        self
    }

    /// A protected zone from GeoJSON polygons (`basic_farmland`, `eco_redline`,
    /// `urban_boundary`, or any name).
    pub fn zone_geojson(mut self, name: &str, path: impl Into<PathBuf>) -> Job {
        self.zones
            .push((name.to_string(), ZoneSource::GeoJson(path.into())));
        self
    }

    /// A protected zone from a raster on the imagery's grid.
    pub fn zone_raster(mut self, name: &str, path: impl Into<PathBuf>) -> Job {
        self.zones
            .push((name.to_string(), ZoneSource::Raster(path.into())));
        self
    }

    /// Administrative regions from GeoJSON, each coded by the property `field`.
    pub fn regions(mut self, path: impl Into<PathBuf>, field: &str) -> Job {
        self.regions = Some((path.into(), field.to_string()));
        self
    }

    /// The minimum mapping unit: patches smaller than this many m² are removed (default 0).
    pub fn min_area_m2(mut self, area: f64) -> Job {
        self.min_area_m2 = area;
        self
    }

    /// The size of the square per-type opening applied before labelling (default 3; `None`
    /// for no morphology).
    pub fn opening(mut self, size: Option<usize>) -> Job {
        self.opening = size;
        self
    }

    /// Patch connectivity (default 8).
    pub fn connectivity(mut self, connectivity: Connectivity) -> Job {
        self.connectivity = connectivity;
        self
    }

    /// Rows per strip of the streamed per-pixel stage (default 1024).
    pub fn tile_rows(mut self, rows: usize) -> Job {
        self.tile_rows = rows.max(1);
        self
    }

    /// The farmland share of new construction at which a region is flagged (default 0.15).
    pub fn warning_share(mut self, share: f64) -> Job {
        self.warning_share = share;
        self
    }

    /// Also write the change codes before clean-up as `change_raw.tif`.
    pub fn raw_change(mut self, on: bool) -> Job {
        self.raw_change = on;
        self
    }

    /// A callback told of progress in every stage.
    pub fn on_progress(mut self, progress: impl Fn(Progress<'_>) + Sync + 'static) -> Job {
        self.progress = Some(Box::new(progress));
        self
    }

    fn report(&self, stage: &str, done: u64, total: u64) {
        if let Some(p) = &self.progress {
            p(Progress { stage, done, total });
        }
    }

    /// The band roles and radiometry of the stacks, for a file of `band_count` bands.
    fn stack_layout(&self, band_count: usize) -> Result<(Vec<BandRole>, Sensor)> {
        let mut sensor = self.sensor.clone().unwrap_or_else(|| {
            let bands = match band_count {
                4 => BandRole::ALL[..4].to_vec(),
                _ => BandRole::ALL.to_vec(),
            };
            Sensor {
                name: "as stored".into(),
                bands,
                radiometry: crate::sensor::Radiometry::IDENTITY,
            }
        });
        if let Some((scale, offset)) = self.scale_offset {
            sensor.radiometry = crate::sensor::Radiometry { scale, offset };
            sensor.radiometry.validate()?;
        }
        let roles = self.bands.clone().unwrap_or_else(|| sensor.bands.clone());
        if roles.len() > band_count {
            return Err(Error::InvalidParameter {
                name: "bands".into(),
                value: format!("{roles:?}"),
                reason: format!("the stacks have only {band_count} bands"),
            });
        }
        Ok((roles, sensor))
    }

    /// Reads rows `row..row + rows` of one date as a stack.
    fn read_rows(
        &self,
        path: &Path,
        width: usize,
        row: usize,
        rows: usize,
        layout: &(Vec<BandRole>, Sensor),
    ) -> Result<BandStack> {
        let image = read_window(path, 0, row, width, rows, &ReadLimits::default())?;
        let mut stack = image.into_stack(&layout.0)?;
        stack.set_radiometry(layout.1.radiometry)?;
        Ok(stack)
    }

    /// Runs the job, writing every output into `out`.
    pub fn run(&self, engine: &Engine, out: impl AsRef<Path>) -> Result<JobReport> {
        let out = out.as_ref();
        std::fs::create_dir_all(out).map_err(|source| Error::Io {
            path: out.to_path_buf(),
            source,
        })?;
        let mut timer = Timer::new();

        // Inputs: the two dates must share a grid.
        let (info_b, info_a) = (read_info(&self.before)?, read_info(&self.after)?);
        let grid_of = |i: &crate::io::GeoTiffInfo| Grid {
            width: i.width,
            height: i.height,
            georef: i.georef,
        };
        check_same_grid(&grid_of(&info_b), &grid_of(&info_a))?;
        if info_b.band_count != info_a.band_count {
            return Err(Error::GridMismatch {
                what: format!(
                    "the first date has {} bands, the second {}",
                    info_b.band_count, info_a.band_count
                ),
            });
        }
        let (width, height) = (info_b.width, info_b.height);
        if width == 0 || height == 0 {
            return Err(Error::EmptyRaster { width, height });
        }
        let georef = info_b.georef.ok_or_else(|| Error::InvalidParameter {
            name: "before".into(),
            value: self.before.display().to_string(),
            reason: "the imagery has no georeferencing; patches need map coordinates".into(),
        })?;
        let layout = self.stack_layout(info_b.band_count)?;

        // Plan: the date relation and the threshold, from a fixed sample of rows.
        let (relation, threshold) = self.plan(width, height, &layout, engine)?;
        timer.lap("plan");

        // Per-pixel stage, in strips.
        let n = width * height;
        let mut class_before = vec![0u8; n];
        let mut class_after = vec![0u8; n];
        let mut raw = vec![0u8; n];
        let mut ndvi_before = vec![0f32; n];
        let mut ndvi_after = vec![0f32; n];
        let options = ChangeOptions {
            relation: Some(relation),
            threshold: Threshold::Fixed(threshold),
            ..self.options
        };
        let mut execution = None;
        let mut quicklook = Quicklook::new(width, height);
        let strips = height.div_ceil(self.tile_rows);
        for s in 0..strips {
            let row = s * self.tile_rows;
            let rows = self.tile_rows.min(height - row);
            let before = self.read_rows(&self.before, width, row, rows, &layout)?;
            let after = self.read_rows(&self.after, width, row, rows, &layout)?;
            let range = row * width..(row + rows) * width;
            quicklook.add_strip(row, &before, &after);
            let maps = allow_all_nodata(engine.detect_change(&before, &after, &options))?;
            if let Some(maps) = maps {
                class_before[range.clone()].copy_from_slice(&maps.output.class_before.data);
                class_after[range.clone()].copy_from_slice(&maps.output.class_after.data);
                raw[range.clone()].copy_from_slice(&maps.output.change.data);
                execution.get_or_insert(maps.execution);
            } else {
                class_before[range.clone()].fill(crate::classify::CLASS_NODATA);
                class_after[range.clone()].fill(crate::classify::CLASS_NODATA);
                raw[range.clone()].fill(crate::change::CHANGE_NODATA);
            }
            for (stack, dst) in [(&before, &mut ndvi_before), (&after, &mut ndvi_after)] {
                match allow_all_nodata(engine.index(stack, SpectralIndex::Ndvi))? {
                    Some(ndvi) => dst[range.clone()].copy_from_slice(&ndvi.output.data),
                    None => dst[range.clone()].fill(crate::INDEX_NODATA),
                }
            }
            self.report("change", s as u64 + 1, strips as u64);
        }
        // Without a single strip with valid pixels there is nothing to compare.
        let Some(execution) = execution else {
            return Err(Error::AllNodata {
                what: "the enforcement job".into(),
            });
        };
        let raster = |data: Vec<u8>, nodata: u8| Raster {
            width,
            height,
            data,
            nodata,
            georef: Some(georef),
        };
        let ndvi = |data: Vec<f32>| Raster {
            width,
            height,
            data,
            nodata: crate::INDEX_NODATA,
            georef: Some(georef),
        };
        timer.lap("change");
        let pixels = PixelResults {
            change: raster(raw, crate::change::CHANGE_NODATA),
            class_before: Some(raster(class_before, 255)),
            class_after: Some(raster(class_after, 255)),
            ndvi_before: Some(ndvi(ndvi_before)),
            ndvi_after: Some(ndvi(ndvi_after)),
            quicklook: Some(quicklook),
            execution,
            threshold,
            relation,
        };
        self.finish(engine, out, pixels, timer)
    }

    /// Runs the patch stages (clean-up, labelling, sieve, attributes, zones, regions, polygons)
    /// and writes the outputs for a change raster made elsewhere (codes as in
    /// [`crate::change`], georeferenced). Classes, NDVI and the quicklook are left out.
    pub fn run_on_change(
        &self,
        engine: &Engine,
        change: Raster<u8>,
        out: impl AsRef<Path>,
    ) -> Result<JobReport> {
        let out = out.as_ref();
        std::fs::create_dir_all(out).map_err(|source| Error::Io {
            path: out.to_path_buf(),
            source,
        })?;
        let pixels = PixelResults {
            change,
            class_before: None,
            class_after: None,
            ndvi_before: None,
            ndvi_after: None,
            quicklook: None,
            execution: Execution {
                device: crate::backend::Device::Cpu {
                    threads: rayon::current_num_threads(),
                },
                fallback: None,
            },
            threshold: 0,
            relation: DateRelation {
                normalization: crate::change::Normalization::IDENTITY,
                noise: 0.0,
            },
        };
        self.finish(engine, out, pixels, Timer::new())
    }

    fn finish(
        &self,
        engine: &Engine,
        out: &Path,
        pixels: PixelResults,
        mut timer: Timer,
    ) -> Result<JobReport> {
        let raw = &pixels.change;
        let (width, height) = (raw.width, raw.height);
        let n = width * height;
        let georef = raw.georef.ok_or_else(|| Error::InvalidParameter {
            name: "change".into(),
            value: format!("{width}×{height}"),
            reason: "the change raster has no georeferencing; patches need map coordinates".into(),
        })?;
        let valid_pixels = raw
            .data
            .iter()
            .filter(|&&c| c != crate::change::CHANGE_NODATA)
            .count() as u64;
        // Clean-up: per-type opening, labelling, minimum-area sieve.
        let opened = match self.opening {
            Some(size) => {
                let element = StructuringElement::square(size)?;
                engine
                    .morphology(raw, MorphOp::Open, element, MorphScope::PerType)?
                    .output
            }
            None => raw.clone(),
        };
        self.report("morphology", 1, 1);
        timer.lap("morphology");
        let labels = engine.label(&opened, self.connectivity)?.output;
        self.report("label", 1, 1);
        timer.lap("label");
        let sieved = sieve(&opened, &labels, self.min_area_m2)?;
        let (change, labels) = (sieved.codes, sieved.labels);
        self.report("sieve", 1, 1);
        timer.lap("sieve");

        // Attributes, zones and regions.
        let layers = PatchLayers {
            codes: &change,
            class_before: pixels.class_before.as_ref(),
            class_after: pixels.class_after.as_ref(),
            ndvi_before: pixels.ndvi_before.as_ref(),
            ndvi_after: pixels.ndvi_after.as_ref(),
        };
        let attrs = attributes(&labels, &layers)?;
        timer.lap("attributes");
        let target = TargetGrid {
            width,
            height,
            georef,
        };
        let zones = self.load_zones(&target)?;
        let regions = self.load_regions(&target)?;
        let area = crate::geo::PixelArea::of_grid(Some(&georef), height)?;
        let overlays = overlay_patches(&labels, &change, &zones, regions.as_ref(), &|r| {
            area.at_row(r)
        })?;
        let totals = regions
            .as_ref()
            .map(|r| region_totals(r, &zones, &overlays, self.warning_share))
            .unwrap_or_default();
        self.report("overlay", 1, 1);
        timer.lap("overlay");
        let polygons = polygonize(&labels)?;
        self.report("polygonize", 1, 1);
        timer.lap("polygonize");

        // Outputs.
        let patches: Vec<PatchRecord> = attrs
            .into_iter()
            .zip(overlays)
            .map(|(attributes, overlay)| PatchRecord {
                region_code: overlay
                    .region
                    .and_then(|r| regions.as_ref().map(|g| g.codes[r].clone())),
                attributes,
                overlay,
            })
            .collect();
        let zone_names: Vec<String> = zones.iter().map(|z| z.name.clone()).collect();
        let extra = extra_columns(&patches, &zone_names, regions.is_some());
        let mut outputs = Vec::new();
        let mut write = |name: &str, r: &Raster<u8>| -> Result<()> {
            let path = out.join(name);
            write_geotiff(&path, r)?;
            outputs.push(path);
            Ok(())
        };
        for (name, classes) in [
            ("class_before.tif", &pixels.class_before),
            ("class_after.tif", &pixels.class_after),
        ] {
            if let Some(c) = classes {
                write(name, c)?;
            }
        }
        write("change.tif", &change)?;
        if self.raw_change {
            write("change_raw.tif", raw)?;
        }
        let written = write_patches(
            out,
            &labels,
            &georef,
            &attrs_of(&patches),
            &extra,
            &polygons,
            false,
        )?;
        outputs.extend([written.geojson, written.csv, written.tif]);
        let mut area_by_type_m2 = [0.0; 6];
        for p in &patches {
            if let Some(a) = area_by_type_m2.get_mut(p.attributes.code as usize) {
                *a += p.attributes.area_m2;
            }
        }
        let report = JobReport {
            patch_count: patches.len(),
            patches,
            regions: totals,
            zone_names,
            stages: Vec::new(),
            execution: pixels.execution.clone(),
            threshold: pixels.threshold,
            relation: pixels.relation,
            valid_pixels,
            pixels: n as u64,
            area_by_type_m2,
            outputs,
        };
        let mut report = report;
        if regions.is_some() {
            let path = out.join("regions.csv");
            write_regions_csv(&path, &report.regions)?;
            report.outputs.push(path);
        }
        timer.lap("write");
        report.stages = timer.stages;
        let summary = out.join("summary.json");
        crate::io::atomic::write_atomically(&summary, |w| {
            serde_json::to_writer_pretty(&mut *w, &self.summary(&report, engine)).map_err(|e| {
                Error::Io {
                    path: summary.clone(),
                    source: e.into(),
                }
            })
        })?;
        report.outputs.push(summary);
        if let Some(quicklook) = &pixels.quicklook {
            let picture = out.join("quicklook.png");
            quicklook.write(&picture, &change)?;
            let page = out.join("report.html");
            let title = format!(
                "landwatch enforcement report: {} → {}",
                file_name(&self.before),
                file_name(&self.after)
            );
            write_report_html(&page, &title, &report, &picture)?;
            report.outputs.extend([picture, page]);
        }
        Ok(report)
    }

    /// Estimates the date relation and the threshold on a fixed sample of rows: windows of
    /// [`SAMPLE_ROWS`] rows spread evenly, at most [`SAMPLE_WINDOWS`] of them; the whole
    /// scene when it is small.
    fn plan(
        &self,
        width: usize,
        height: usize,
        layout: &(Vec<BandRole>, Sensor),
        engine: &Engine,
    ) -> Result<(DateRelation, u32)> {
        let windows = height.div_ceil(SAMPLE_ROWS);
        let step = windows.div_ceil(SAMPLE_WINDOWS).max(1);
        let mut parts = (Vec::new(), Vec::new());
        for w in (0..windows).step_by(step) {
            let row = w * SAMPLE_ROWS;
            let rows = SAMPLE_ROWS.min(height - row);
            parts
                .0
                .push(self.read_rows(&self.before, width, row, rows, layout)?);
            parts
                .1
                .push(self.read_rows(&self.after, width, row, rows, layout)?);
            self.report("plan", (w / step) as u64 + 1, windows.div_ceil(step) as u64);
        }
        let (before, after) = (stack_rows(&parts.0)?, stack_rows(&parts.1)?);
        let sample = engine.detect_change(&before, &after, &self.options)?.output;
        let threshold = match self.options.threshold {
            Threshold::Fixed(t) => t,
            Threshold::Otsu if self.options.method.measure() == 0 => {
                otsu_above_noise(&sample.histogram, sample.relation.noise)
            }
            Threshold::Otsu => otsu(&sample.histogram),
        };
        Ok((sample.relation, threshold))
    }

    fn load_zones(&self, grid: &TargetGrid) -> Result<Vec<Zone>> {
        self.zones
            .iter()
            .map(|(name, source)| match source {
                ZoneSource::GeoJson(path) => zone_from_layer(name, &read_geojson(path)?, grid),
                ZoneSource::Raster(path) => {
                    let image = read_geotiff(path, &ReadLimits::default())?;
                    let georef = image.georef;
                    let nodata = image.nodata.map_or(255, |v| v as u8);
                    let Some(BandData::U8(data)) = image.bands.into_iter().next() else {
                        return Err(Error::InvalidParameter {
                            name: format!("zone {name}"),
                            value: path.display().to_string(),
                            reason: "a zone raster must have a u8 first band".into(),
                        });
                    };
                    let raster = Raster {
                        width: grid.width,
                        height: grid.height,
                        data,
                        nodata,
                        georef,
                    };
                    zone_from_raster(name, &raster, grid)
                }
            })
            .collect()
    }

    fn load_regions(&self, grid: &TargetGrid) -> Result<Option<Regions>> {
        self.regions
            .as_ref()
            .map(|(path, field)| regions_from_layer(&read_geojson(path)?, field, grid))
            .transpose()
    }

    fn summary(&self, report: &JobReport, engine: &Engine) -> Value {
        let areas: serde_json::Map<String, Value> = (1..6u8)
            .map(|c| {
                (
                    change_name(c).to_string(),
                    json!(report.area_by_type_m2[c as usize]),
                )
            })
            .collect();
        json!({
            "inputs": {"before": self.before, "after": self.after},
            "settings": {
                "sensor": self.sensor.as_ref().map(|s| s.name.clone()),
                "method": format!("{:?}", self.options.method),
                "threshold": report.threshold,
                "min_area_m2": self.min_area_m2,
                "opening": self.opening,
                "connectivity": format!("{:?}", self.connectivity),
                "tile_rows": self.tile_rows,
                "warning_share": self.warning_share,
                "zones": report.zone_names,
            },
            "backend": {
                "requested": format!("{:?}", engine.requested()),
                "device": report.execution.device.to_string(),
                "fallback": report.execution.fallback.as_ref().map(ToString::to_string),
            },
            "normalization": {
                "gain_q12": report.relation.normalization.gain_q12,
                "offset_q12": report.relation.normalization.offset_q12,
                "noise": report.relation.noise,
            },
            "stages_seconds": report
                .stages
                .iter()
                .map(|s| (s.stage.to_string(), json!(s.seconds)))
                .collect::<serde_json::Map<_, _>>(),
            "pixels": {"total": report.pixels, "valid": report.valid_pixels},
            "patch_count": report.patch_count,
            "area_by_type_m2": areas,
            "regions_warned": report.regions.iter().filter(|r| r.warning).map(|r| r.code.clone()).collect::<Vec<_>>(),
        })
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `Ok(None)` for an all-nodata strip, which a whole scene may well contain.
fn allow_all_nodata<T>(result: Result<Computed<T>>) -> Result<Option<Computed<T>>> {
    match result {
        Ok(c) => Ok(Some(c)),
        Err(Error::AllNodata { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn attrs_of(patches: &[PatchRecord]) -> Vec<PatchAttributes> {
    patches.iter().map(|p| p.attributes.clone()).collect()
}

/// Zone areas and flags, the urban-boundary flag and the region code as patch columns.
fn extra_columns(
    patches: &[PatchRecord],
    zone_names: &[String],
    with_regions: bool,
) -> Vec<crate::patch::output::ExtraColumn> {
    let mut columns = Vec::new();
    for (z, name) in zone_names.iter().enumerate() {
        columns.push((
            format!("{name}_m2"),
            patches
                .iter()
                .map(|p| json!(p.overlay.zone_area_m2[z]))
                .collect(),
        ));
        columns.push((
            format!("in_{name}"),
            patches
                .iter()
                .map(|p| json!(p.overlay.in_zone[z]))
                .collect(),
        ));
    }
    if zone_names.iter().any(|z| z == URBAN_BOUNDARY) {
        columns.push((
            "outside_urban_boundary".into(),
            patches
                .iter()
                .map(|p| json!(p.overlay.outside_urban_boundary))
                .collect(),
        ));
    }
    if with_regions {
        columns.push((
            "region".into(),
            patches.iter().map(|p| json!(p.region_code)).collect(),
        ));
    }
    columns
}

/// `regions.csv`: one row per region, in file order.
fn write_regions_csv(path: &Path, totals: &[RegionTotals]) -> Result<()> {
    let mut header = vec!["region".to_string(), "patches".to_string()];
    header.extend((1..6u8).map(|c| {
        let name = change_name(c).replace([' ', '-'], "_");
        format!("area_{name}_m2")
    }));
    header.extend(
        [
            "new_construction_m2",
            "new_construction_on_farmland_m2",
            "farmland_share",
            "warning",
        ]
        .map(String::from),
    );
    let rows = totals.iter().map(|t| {
        let mut row = vec![t.code.clone(), t.patch_count.to_string()];
        row.extend((1..6).map(|c| t.area_by_type_m2[c].to_string()));
        row.extend([
            t.new_construction_m2.to_string(),
            t.new_construction_on_farmland_m2.to_string(),
            t.farmland_share.to_string(),
            t.warning.to_string(),
        ]);
        row
    });
    crate::io::write_csv(path, &header, rows)
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
