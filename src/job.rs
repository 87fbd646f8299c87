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
//! Memory stays bounded by the strip size plus about two bytes a pixel:
//! - the per-pixel work streams: both dates are read in strips of `tile_rows` rows (windowed
//!   reads decode only the blocks they touch, in parallel), each strip is classified and
//!   compared on the chosen backend, and the class maps are written strip by strip. The
//!   change codes are kept (one byte a pixel), and the classes and NDVI only where the raw
//!   change says changed. The radiometric relation between the dates and the change
//!   threshold are estimated once, from a fixed sample of rows that does not depend on the
//!   strip size, so a tiled run gives exactly the same result as an untiled one;
//! - the clean-up (per-type opening) runs on the whole change raster;
//! - labelling, the minimum-area sieve, attributes, zone and region overlay and polygons
//!   stream through [`patches_tiled`] in strips of the same size, joined exactly across
//!   strip borders; `change.tif` and `patches.tif` are written as the strips pass.

use crate::backend::{BackendChoice, Computed, Engine, Execution};
use crate::change::{ChangeOptions, DateRelation, Threshold, change_name, otsu, otsu_above_noise};
use crate::classify::CLASS_NODATA;
use crate::error::{Error, Result};
use crate::index::SpectralIndex;
use crate::io::align::{Grid, check_same_grid, crop_stack};
use crate::io::{
    BigTiff, GeoTiffStripWriter, ReadLimits, WriteOptions, read_geojson, read_info, read_window,
    write_geotiff_with,
};
use crate::overlay::{
    DEFAULT_WARNING_SHARE, OverlaySums, OverlayWindow, PatchOverlay, RegionTotals, region_totals,
};
use crate::patch::attributes::Accumulator;
use crate::patch::morphology::{MorphOp, MorphScope, StructuringElement};
use crate::patch::{
    Connectivity, PatchAttributes, TilingOptions, patches_tiled, write_patch_vectors,
};
use crate::raster::{BandData, BandStack, Raster};
use crate::report::{Quicklook, write_report_html};
use crate::sensor::{BandRole, Sensor};
use crate::zones::{
    TargetGrid, URBAN_BOUNDARY, Zone, in_grid_crs, region_rows_from_layer, zone_from_raster,
    zone_rows_from_layer,
};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Rows per window of the sample that the date relation and the threshold are estimated on.
const SAMPLE_ROWS: usize = 64;
/// At most this many sample windows, spread evenly over the scene.
const SAMPLE_WINDOWS: usize = 32;
/// Pixels per strip of the streamed stages when the caller does not choose.
pub const STRIP_PIXELS: usize = 4 << 20;
/// Every GeoTIFF the job writes: tiled, deflate at its fastest level (a fifth of the time of
/// level 6 for about a fifth more bytes on class maps).
const OUTPUT_TIFF: WriteOptions = WriteOptions {
    tile_size: 256,
    compress: true,
    deflate_level: 1,
    bigtiff: BigTiff::Auto,
};
/// The sample holds about this many pixels at most (more windows than that on narrow scenes
/// only when [`SAMPLE_WINDOWS`] allows).
const SAMPLE_PIXELS: usize = 16 << 20;

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
    /// Rows per strip of the streamed stages.
    pub strip_rows: usize,
    /// Under [`crate::Backend::Auto`] with a GPU: the backend timings on the plan sample
    /// and the one chosen for the strips.
    pub backend_choice: Option<BackendChoice>,
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
    /// The change codes before clean-up.
    change: Raster<u8>,
    /// Classes and NDVI of the changed pixels, when the job computed them.
    changed: Option<ChangedPixels>,
    quicklook: Option<Quicklook>,
    execution: Execution,
    threshold: u32,
    relation: DateRelation,
    /// Files already written (the class maps).
    outputs: Vec<PathBuf>,
    /// Rows per strip of the streamed stages.
    strip_rows: usize,
    /// The backend measured fastest under `Auto`.
    backend_choice: Option<BackendChoice>,
}

/// Classes and NDVI of both dates at the changed pixels of the raw change raster, in raster
/// order. Patch attributes need them only where a patch can be, and every patch lies inside
/// the raw change (opening and the sieve only remove pixels), so the job keeps these instead
/// of four whole-scene rasters. NDVI is kept in steps of 10⁻⁴ ([`NDVI_STEP`]): patch means
/// are good to half a step.
#[derive(Debug, Default)]
struct ChangedPixels {
    classes: Vec<[u8; 2]>,
    ndvi: Vec<[i16; 2]>,
}

/// The step of the NDVI kept for patch attributes.
const NDVI_STEP: f32 = 1e-4;
/// Kept NDVI that stands for nodata.
const NDVI_NODATA: i16 = i16::MIN;

impl ChangedPixels {
    /// Keeps the classes and NDVI of the changed pixels of one strip. NDVI is computed for
    /// those pixels only, on a stack gathered from the strip's red and NIR bands: the same
    /// per-pixel function as a whole-strip NDVI, at a fraction of its cost.
    fn add_strip(
        &mut self,
        engine: &Engine,
        codes: &[u8],
        classes: [&[u8]; 2],
        dates: [&BandStack; 2],
    ) -> Result<()> {
        let picked: Vec<usize> = (0..codes.len()).filter(|&i| is_changed(codes[i])).collect();
        if picked.is_empty() {
            return Ok(());
        }
        let mut ndvi = [Vec::new(), Vec::new()];
        for (out, stack) in ndvi.iter_mut().zip(dates) {
            let gathered = gather_stack(stack, &[BandRole::Red, BandRole::Nir], &picked)?;
            if let Some(v) = allow_all_nodata(engine.index(&gathered, SpectralIndex::Ndvi))? {
                *out = v.output.data;
            }
        }
        let kept = |v: &[f32], k: usize| match v.get(k) {
            Some(&x) if x.is_finite() && x != crate::INDEX_NODATA => {
                (x / NDVI_STEP).round().clamp(-32767.0, 32767.0) as i16
            }
            _ => NDVI_NODATA,
        };
        // Exact growth: these vectors are the job's largest after the change raster.
        self.classes.reserve_exact(picked.len());
        self.ndvi.reserve_exact(picked.len());
        for (k, &i) in picked.iter().enumerate() {
            self.classes.push([classes[0][i], classes[1][i]]);
            self.ndvi.push([kept(&ndvi[0], k), kept(&ndvi[1], k)]);
        }
        Ok(())
    }

    /// Only the entries of pixels still changed after the clean-up (`raw` holds the codes
    /// the entries were kept for, `opened` the codes after opening, which only removes).
    fn keep_opened(self, raw: &[u8], opened: &[u8]) -> ChangedPixels {
        let n = opened.iter().filter(|&&c| is_changed(c)).count();
        let mut kept = ChangedPixels {
            classes: Vec::with_capacity(n),
            ndvi: Vec::with_capacity(n),
        };
        let entries = raw.iter().zip(opened).filter(|(r, _)| is_changed(**r));
        for (k, (_, &o)) in entries.enumerate() {
            if is_changed(o) {
                kept.classes.push(self.classes[k]);
                kept.ndvi.push(self.ndvi[k]);
            }
        }
        kept
    }

    /// The NDVI pair of entry `k`.
    fn ndvi(&self, k: usize) -> [Option<f32>; 2] {
        self.ndvi[k].map(|q| (q != NDVI_NODATA).then(|| f32::from(q) * NDVI_STEP))
    }
}

/// A change code of a changed pixel (not unchanged, not nodata).
fn is_changed(code: u8) -> bool {
    code != crate::change::UNCHANGED && code != crate::change::CHANGE_NODATA
}

/// A protected zone ready to rasterize strip by strip.
enum ZoneInput {
    /// Polygons in the imagery's CRS.
    Layer(crate::io::FeatureLayer),
    /// A u8 raster on the imagery's grid.
    Raster(PathBuf),
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
    tile_rows: Option<usize>,
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
            tile_rows: None,
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

    /// Rows per strip of the streamed stages (default: about [`STRIP_PIXELS`] pixels a
    /// strip, 64 to 1024 rows). Results do not depend on it; memory grows with it.
    pub fn tile_rows(mut self, rows: usize) -> Job {
        self.tile_rows = Some(rows.max(1));
        self
    }

    /// Rows per strip for a scene `width` pixels wide whose files store blocks of
    /// `block_rows` rows: the caller's choice, or about [`STRIP_PIXELS`] pixels rounded up to
    /// whole blocks (a strip that ends inside a block would make the next strip inflate that
    /// block again).
    fn strip_rows(&self, width: usize, block_rows: usize) -> usize {
        self.tile_rows.unwrap_or_else(|| {
            let rows = (STRIP_PIXELS / width.max(1)).clamp(64, 1024);
            rows.next_multiple_of(block_rows.clamp(1, 1024))
        })
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
        let (relation, threshold, choice) = self.plan(width, height, &layout, engine)?;
        timer.lap("plan");

        // Per-pixel stage, in strips: the class maps are written as they come, the change
        // codes are kept (one byte a pixel), and so are classes and NDVI where they changed.
        let n = width * height;
        let mut raw = vec![0u8; n];
        let mut changed = ChangedPixels::default();
        let class_paths = [out.join("class_before.tif"), out.join("class_after.tif")];
        let create = |path: &Path| {
            GeoTiffStripWriter::create(
                path,
                width,
                height,
                Some(&georef),
                Some(CLASS_NODATA),
                &OUTPUT_TIFF,
            )
        };
        let mut class_writers = [create(&class_paths[0])?, create(&class_paths[1])?];
        let options = ChangeOptions {
            relation: Some(relation),
            threshold: Threshold::Fixed(threshold),
            ..self.options
        };
        let mut execution = None;
        let mut quicklook = Quicklook::new(width, height);
        let strip_rows = self.strip_rows(width, info_b.block_rows.max(info_a.block_rows));
        let strips = height.div_ceil(strip_rows);
        let window = |s: usize| (s * strip_rows, strip_rows.min(height - s * strip_rows));
        let read_pair = |s: usize| -> Result<(BandStack, BandStack)> {
            let (row, rows) = window(s);
            let (before, after) = rayon::join(
                || self.read_rows(&self.before, width, row, rows, &layout),
                || self.read_rows(&self.after, width, row, rows, &layout),
            );
            Ok((before?, after?))
        };
        // Strip s + 1 is read while strip s is computed.
        let mut next = Some(read_pair(0));
        for s in 0..strips {
            let (before, after) = next.take().expect("read ahead")?;
            let (row, rows) = window(s);
            let range = row * width..(row + rows) * width;
            let (computed, ahead) = rayon::join(
                || -> Result<()> {
                    quicklook.add_strip(row, &before, &after);
                    match allow_all_nodata(engine.detect_change(&before, &after, &options))? {
                        Some(maps) => {
                            let m = &maps.output;
                            raw[range.clone()].copy_from_slice(&m.change.data);
                            class_writers[0].write_rows(&m.class_before.data)?;
                            class_writers[1].write_rows(&m.class_after.data)?;
                            changed.add_strip(
                                engine,
                                &m.change.data,
                                [&m.class_before.data, &m.class_after.data],
                                [&before, &after],
                            )?;
                            execution.get_or_insert(maps.execution);
                        }
                        None => {
                            raw[range.clone()].fill(crate::change::CHANGE_NODATA);
                            let nodata = vec![CLASS_NODATA; rows * width];
                            for w in &mut class_writers {
                                w.write_rows(&nodata)?;
                            }
                        }
                    }
                    Ok(())
                },
                || (s + 1 < strips).then(|| read_pair(s + 1)),
            );
            computed?;
            next = ahead;
            self.report("change", s as u64 + 1, strips as u64);
        }
        // Without a single strip with valid pixels there is nothing to compare.
        let Some(execution) = execution else {
            return Err(Error::AllNodata {
                what: "the enforcement job".into(),
            });
        };
        for w in class_writers {
            w.finish()?;
        }
        timer.lap("change");
        let pixels = PixelResults {
            change: Raster {
                width,
                height,
                data: raw,
                nodata: crate::change::CHANGE_NODATA,
                georef: Some(georef),
            },
            changed: Some(changed),
            quicklook: Some(quicklook),
            execution,
            threshold,
            relation,
            outputs: class_paths.to_vec(),
            strip_rows,
            backend_choice: choice,
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
        let strip_rows = self.strip_rows(change.width, 1);
        let pixels = PixelResults {
            change,
            changed: None,
            quicklook: None,
            outputs: Vec::new(),
            strip_rows,
            backend_choice: None,
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

    /// The patch stages, streamed strip by strip: clean-up of the whole change raster (one
    /// byte a pixel), then [`patches_tiled`] labels, sieves and traces strip by strip, and
    /// its sink writes `change.tif` and `patches.tif`, paints the quicklook and gathers the
    /// classes, NDVI, zone and region areas of every patch.
    fn finish(
        &self,
        engine: &Engine,
        out: &Path,
        pixels: PixelResults,
        mut timer: Timer,
    ) -> Result<JobReport> {
        let PixelResults {
            change: raw,
            changed,
            mut quicklook,
            execution,
            threshold,
            relation,
            mut outputs,
            strip_rows,
            backend_choice,
        } = pixels;
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
        let zones = self.zone_inputs(&TargetGrid {
            width,
            height,
            georef,
        })?;
        let regions = self
            .regions
            .as_ref()
            .map(|(path, field)| -> Result<_> {
                let grid = TargetGrid {
                    width,
                    height,
                    georef,
                };
                let layer = read_geojson(path)?;
                let layer = in_grid_crs(&layer, &grid, "the regions layer")?.into_owned();
                // The codes, and an early error for a missing field.
                let codes = region_rows_from_layer(&layer, field, &grid, 0..0)?.codes;
                Ok((layer, field.clone(), codes))
            })
            .transpose()?;

        // Clean-up: per-type opening on the whole raster.
        let opened = match self.opening {
            Some(size) => {
                let element = StructuringElement::square(size)?;
                engine
                    .morphology(&raw, MorphOp::Open, element, MorphScope::PerType)?
                    .output
            }
            None => raw.clone(),
        };
        self.report("morphology", 1, 1);
        timer.lap("morphology");
        if self.raw_change {
            let path = out.join("change_raw.tif");
            write_geotiff_with(&path, &raw, &OUTPUT_TIFF)?;
            outputs.push(path);
        }
        // Patches lie inside the opened change: keep only the entries of those pixels, and
        // mark them one bit each.
        let changed = changed.map(|c| c.keep_opened(&raw.data, &opened.data));
        let changed_bits: Vec<u64> = if changed.is_some() {
            opened
                .data
                .chunks(64)
                .map(|c| {
                    c.iter().enumerate().fold(0u64, |bits, (i, &code)| {
                        bits | u64::from(is_changed(code)) << i
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        drop(raw);

        // Labelling, sieve, attributes, zones, regions and polygons, strip by strip.
        let change_path = out.join("change.tif");
        let patches_path = out.join("patches.tif");
        let mut change_writer = GeoTiffStripWriter::create(
            &change_path,
            width,
            height,
            Some(&georef),
            Some(crate::change::CHANGE_NODATA),
            &OUTPUT_TIFF,
        )?;
        let mut patch_writer = GeoTiffStripWriter::create(
            &patches_path,
            width,
            height,
            Some(&georef),
            Some(0u32),
            &OUTPUT_TIFF,
        )?;
        let grid = TargetGrid {
            width,
            height,
            georef,
        };
        let pixel_area = crate::geo::PixelArea::of_grid(Some(&georef), height)?;
        let zone_names: Vec<String> = self.zones.iter().map(|(n, _)| n.clone()).collect();
        let names: Vec<&str> = zone_names.iter().map(String::as_str).collect();
        let mut sums = OverlaySums::new(0, &names);
        let mut layers: Vec<Accumulator> = Vec::new();
        let mut cursor = 0usize;
        let tiling = TilingOptions {
            tile_width: width,
            tile_height: strip_rows,
            connectivity: self.connectivity,
            min_area_m2: self.min_area_m2,
        };
        let strips = height.div_ceil(strip_rows) as u64;
        let mut done = 0u64;
        let tiled = patches_tiled(&opened, &tiling, |w, ids| {
            let rows = w.row..w.row + w.height;
            let codes: Vec<u8> = opened.data[w.row * width..(w.row + w.height) * width]
                .par_iter()
                .zip(ids)
                .map(|(&c, &id)| if id == 0 && is_changed(c) { 0 } else { c })
                .collect();
            let masks = zones
                .iter()
                .map(|(name, input)| zone_rows(name, input, &grid, rows.clone()))
                .collect::<Result<Vec<_>>>()?;
            let region_index = regions
                .as_ref()
                .map(|(layer, field, _)| region_rows_from_layer(layer, field, &grid, rows.clone()))
                .transpose()?;
            let mask_data: Vec<&[u8]> = masks.iter().map(|m| m.mask.data.as_slice()).collect();
            // The overlay sums, the class/NDVI sums and the outputs read the strip
            // independently, so they run side by side (each is an ordered pass, so results
            // do not depend on it).
            let overlay = || {
                sums.add(
                    &OverlayWindow {
                        width,
                        row0: w.row,
                        ids,
                        codes: &codes,
                        zones: &mask_data,
                        regions: region_index.as_ref().map(|r| r.index.data.as_slice()),
                    },
                    &pixel_area,
                )
            };
            let layer_sums = || {
                let Some(changed) = &changed else { return };
                let start = w.row * width;
                for (i, &id) in ids.iter().enumerate() {
                    let p = start + i;
                    if changed_bits[p / 64] >> (p % 64) & 1 == 0 {
                        continue;
                    }
                    let k = cursor;
                    cursor += 1;
                    if id == 0 {
                        continue;
                    }
                    if layers.len() <= id as usize {
                        layers.resize(id as usize + 1, Accumulator::default());
                    }
                    let [cb, ca] = changed.classes[k];
                    layers[id as usize].add_layers([Some(cb), Some(ca)], changed.ndvi(k));
                }
            };
            let outputs = || -> Result<()> {
                change_writer.write_rows(&codes)?;
                patch_writer.write_rows(ids)?;
                if let Some(q) = &mut quicklook {
                    q.add_change(w.row, width, &codes);
                }
                Ok(())
            };
            let ((), ((), written)) = rayon::join(overlay, || rayon::join(layer_sums, outputs));
            written?;
            done += 1;
            self.report("patches", done, strips);
            Ok(())
        })?;
        drop(opened);
        drop(changed_bits);
        change_writer.finish()?;
        patch_writer.finish()?;
        timer.lap("patches");

        // Records, totals and outputs.
        let mut attributes = tiled.attributes;
        if changed.is_some() {
            layers.resize(attributes.len() + 1, Accumulator::default());
            for (a, l) in attributes.iter_mut().zip(&layers[1..]) {
                l.apply_layers(a);
            }
        }
        drop(changed);
        drop(layers);
        let overlays = sums.finish(&pixel_area);
        if overlays.len() != attributes.len() {
            return Err(Error::InvalidParameter {
                name: "patches".into(),
                value: format!("{} overlays", overlays.len()),
                reason: format!("{} patches were labelled", attributes.len()),
            });
        }
        let region_codes = regions.map(|(_, _, codes)| codes);
        let totals = region_codes
            .as_ref()
            .map(|codes| region_totals(codes, &zone_names, &overlays, self.warning_share))
            .unwrap_or_default();
        let patches: Vec<PatchRecord> = attributes
            .into_iter()
            .zip(overlays)
            .map(|(attributes, overlay)| PatchRecord {
                region_code: overlay
                    .region
                    .and_then(|r| region_codes.as_ref().map(|c| c[r].clone())),
                attributes,
                overlay,
            })
            .collect();
        let extra = extra_columns(&patches, &zone_names, region_codes.is_some());
        let written = write_patch_vectors(
            out,
            &georef,
            &attrs_of(&patches),
            &extra,
            &tiled.polygons,
            false,
        )?;
        outputs.extend([change_path, written.geojson, written.csv, patches_path]);
        let mut area_by_type_m2 = [0.0; 6];
        for p in &patches {
            if let Some(a) = area_by_type_m2.get_mut(p.attributes.code as usize) {
                *a += p.attributes.area_m2;
            }
        }
        let mut report = JobReport {
            patch_count: patches.len(),
            patches,
            regions: totals,
            zone_names,
            stages: Vec::new(),
            execution,
            threshold,
            relation,
            valid_pixels,
            pixels: n as u64,
            area_by_type_m2,
            strip_rows,
            backend_choice,
            outputs,
        };
        if region_codes.is_some() {
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
        if let Some(quicklook) = &quicklook {
            let picture = out.join("quicklook.png");
            quicklook.write(&picture)?;
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

    /// Estimates the date relation and the threshold on a fixed sample of rows (see
    /// [`sample_windows`]; the whole scene when it is small).
    fn plan(
        &self,
        width: usize,
        height: usize,
        layout: &(Vec<BandRole>, Sensor),
        engine: &Engine,
    ) -> Result<(DateRelation, u32, Option<BackendChoice>)> {
        let block_rows = read_info(&self.before)?
            .block_rows
            .max(read_info(&self.after)?.block_rows);
        let windows = sample_windows(width, height, block_rows);
        let sample = |path: &Path| -> Result<BandStack> {
            let parts = windows
                .iter()
                .map(|&(row, rows)| self.read_rows(path, width, row, rows, layout))
                .collect::<Result<Vec<_>>>()?;
            stack_rows(&parts)
        };
        let (before, after) = rayon::join(|| sample(&self.before), || sample(&self.after));
        let (before, after) = (before?, after?);
        self.report("plan", 1, 1);
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
            engine.choose_by_measurement(|e| {
                allow_all_nodata(e.detect_change(&b, &a, &strip_options))?;
                for stack in [&b, &a] {
                    allow_all_nodata(e.index(stack, SpectralIndex::Ndvi))?;
                }
                Ok(())
            })?
        };
        Ok((sample.relation, threshold, choice))
    }

    /// The zone layers, projected once to the imagery's CRS, and the zone rasters, checked
    /// against the imagery's grid.
    fn zone_inputs(&self, grid: &TargetGrid) -> Result<Vec<(String, ZoneInput)>> {
        self.zones
            .iter()
            .map(|(name, source)| {
                let input = match source {
                    ZoneSource::GeoJson(path) => {
                        let layer = read_geojson(path)?;
                        let what = format!("zone layer '{name}'");
                        ZoneInput::Layer(in_grid_crs(&layer, grid, &what)?.into_owned())
                    }
                    ZoneSource::Raster(path) => {
                        let info = read_info(path)?;
                        let on_grid = (info.width, info.height) == (grid.width, grid.height)
                            && info.georef.is_none_or(|g| g == grid.georef);
                        if !on_grid || info.data_type != crate::raster::DataType::U8 {
                            return Err(Error::GridMismatch {
                                what: format!(
                                    "zone raster '{name}' ({}) is {}×{} {:?} on {:?}; a u8 \
                                     raster on the imagery's {}×{} grid on {:?} is needed",
                                    path.display(),
                                    info.width,
                                    info.height,
                                    info.data_type,
                                    info.georef,
                                    grid.width,
                                    grid.height,
                                    grid.georef
                                ),
                            });
                        }
                        ZoneInput::Raster(path.clone())
                    }
                };
                Ok((name.clone(), input))
            })
            .collect()
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
                "strip_rows": report.strip_rows,
                "warning_share": self.warning_share,
                "zones": report.zone_names,
            },
            "backend": {
                "requested": format!("{:?}", engine.requested()),
                "device": report.execution.device.to_string(),
                "fallback": report.execution.fallback.as_ref().map(ToString::to_string),
                "measured": report.backend_choice.as_ref().map(|c| json!({
                    "gpu_seconds": c.gpu_seconds,
                    "cpu_seconds": c.cpu_seconds,
                    "chosen": c.chosen.to_string(),
                })),
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

/// The sample windows `(row, rows)` of a scene `width × height` whose files store blocks of
/// `block_rows` rows: at most [`SAMPLE_WINDOWS`] windows of [`SAMPLE_ROWS`] rows (fewer for
/// wide scenes, so that the sample stays near [`SAMPLE_PIXELS`]), spread evenly. Windows
/// start on block boundaries, so that a read inflates only the window's rows of each block
/// (deflate streams stop early), whatever the block height.
fn sample_windows(width: usize, height: usize, block_rows: usize) -> Vec<(usize, usize)> {
    let stride = block_rows.max(SAMPLE_ROWS);
    let starts = height.div_ceil(stride);
    let most = (SAMPLE_PIXELS / (SAMPLE_ROWS * width.max(1))).clamp(1, SAMPLE_WINDOWS);
    let step = starts.div_ceil(most).max(1);
    (0..starts)
        .step_by(step)
        .map(|k| (k * stride, SAMPLE_ROWS.min(height - k * stride)))
        .collect()
}

/// Rows `rows` of a zone's mask.
fn zone_rows(name: &str, input: &ZoneInput, grid: &TargetGrid, rows: Range<usize>) -> Result<Zone> {
    match input {
        ZoneInput::Layer(layer) => zone_rows_from_layer(name, layer, grid, rows),
        ZoneInput::Raster(path) => {
            let image = read_window(
                path,
                0,
                rows.start,
                grid.width,
                rows.len(),
                &ReadLimits::default(),
            )?;
            let nodata = image.nodata.map_or(255, |v| v as u8);
            let Some(BandData::U8(data)) = image.bands.into_iter().next() else {
                return Err(Error::InvalidParameter {
                    name: format!("zone {name}"),
                    value: path.display().to_string(),
                    reason: "a zone raster must have a u8 first band".into(),
                });
            };
            let strip = Raster {
                width: grid.width,
                height: rows.len(),
                data,
                nodata,
                georef: None,
            };
            let strip_grid = TargetGrid {
                height: rows.len(),
                ..*grid
            };
            zone_from_raster(name, &strip, &strip_grid)
        }
    }
}

/// A one-row stack of the bands `roles` of `stack` at pixels `picked`, with the same
/// nodata values and radiometry.
fn gather_stack(stack: &BandStack, roles: &[BandRole], picked: &[usize]) -> Result<BandStack> {
    fn pick<T: Copy>(v: &[T], picked: &[usize]) -> Vec<T> {
        picked.iter().map(|&i| v[i]).collect()
    }
    let bands = roles
        .iter()
        .map(|&role| {
            let band = stack.band(role).ok_or_else(|| Error::MissingBand {
                needed_by: "NDVI of the changed pixels".into(),
                role,
                available: stack
                    .bands()
                    .iter()
                    .filter_map(|b| b.role.map(|r| r.name()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            let data = match &band.data {
                BandData::U8(v) => BandData::U8(pick(v, picked)),
                BandData::U16(v) => BandData::U16(pick(v, picked)),
                BandData::I16(v) => BandData::I16(pick(v, picked)),
                BandData::U32(v) => BandData::U32(pick(v, picked)),
                BandData::F32(v) => BandData::F32(pick(v, picked)),
            };
            Ok(crate::raster::Band {
                role: band.role,
                data,
                nodata: band.nodata,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut out = BandStack::new(picked.len(), 1, bands)?;
    out.set_radiometry(stack.radiometry)?;
    Ok(out)
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
