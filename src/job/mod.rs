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
//!   threshold are estimated once, from a sample of rows fixed by the scene's size alone (not
//!   by the strip size, nor by how the files are stored: strips, tiles, overviews), so a
//!   tiled run gives exactly the same result as an untiled one, and so do the same pixels
//!   stored differently;
//! - with the contextual detector (the default), clouds, shadows and hysteresis are resolved
//!   over the whole scene from run-length rows (see [`crate::change::regions`]); each strip
//!   is read with the few rows around it that its neighbourhood kernels need;
//! - the clean-up (an opening of the whole change mask, about 30 m across) runs on the whole
//!   change raster;
//! - labelling, the minimum-area sieve, attributes, zone and region overlay and polygons
//!   stream through [`patches_tiled`] in strips of the same size, joined exactly across
//!   strip borders; `change.tif` and `patches.tif` are written as the strips pass.

use crate::backend::{BackendChoice, Computed, Engine, Execution};
use crate::change::context::{ContextJob, ContextPlanes, region_params, split_words};
use crate::change::regions::{RegionBuilder, RegionStats};
use crate::change::{
    ChangeOptions, ChangePlanes, DateRelation, Threshold, change_name, otsu, otsu_above_noise,
};
use crate::classify::{CLASS_NAMES, CLASS_NODATA, CLASS_PALETTE};
use crate::error::{Error, Result};
use crate::index::SpectralIndex;
use crate::io::align::{Grid, check_same_grid, crop_stack};
use crate::io::{
    BigTiff, DateSource, GeoTiffSource, GeoTiffStripWriter, Legend, OutputSet, Overviews,
    ReadLimits, WriteOptions, read_info, read_polygon_layer, read_window, side_car_paths,
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
use crate::raster::{BandData, BandStack, GeoReference, Raster};

use crate::sensor::{BandRole, Sensor};
use crate::zones::{
    TargetGrid, URBAN_BOUNDARY, Zone, in_grid_crs, region_rows_from_layer, zone_from_raster,
    zone_rows_from_layer,
};
use rayon::prelude::*;
use serde_json::json;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

mod changed;
mod detect;
mod manifest;
mod merge;
mod morphology;
mod patches;
mod plan;
mod preflight;
mod report;
mod shard;
mod strips;
mod summary;
mod write;

use changed::{ChangedPixels, is_changed};
use detect::{ChangePass, Collected, SceneSink};
pub use manifest::{
    InputFile, JobPlan, MANIFEST_FILE, MANIFEST_SCHEMA, Manifest, SHARDS_DIR, ShardCount,
    ShardWindow,
};
use morphology::Opening;
use patches::{Patched, PixelLayers};
use plan::Plan;
use preflight::{Dates, Layers, ZoneInput, checked_georef};
use report::{Quicklook, write_report_html};
pub use shard::{SHARD_RECORD, ShardExecution, ShardFile, ShardOutcome, ShardRecord};
use strips::Strips;
pub use summary::{
    AreaByType, BackendSummary, ContextNormalization, ContextThreshold, ContextualDetection,
    DatePair, DetectionSummary, Inputs, MeasuredBackends, PerPixelDetection, PerPixelNormalization,
    PerPixelThreshold, PixelCounts, SCHEMA_VERSION, Settings, Sky, Summary,
};

/// A name the crate owns. Spelled as an alias so that serde's derive (feature `serde`)
/// reads it back through its `deserialize_with` function instead of borrowing it from the
/// input for `'static`.
type StaticName = &'static str;

/// The windows of the sample that the date relation and the threshold are estimated on
/// are a multiple of this many rows tall.
const SAMPLE_ROWS: usize = 64;
/// At most this many sample windows, spread evenly over the scene.
const SAMPLE_WINDOWS: usize = 32;
/// Sample windows start on multiples of this many rows (a power of two, so on a block
/// boundary of any file stored in strips or tiles of up to this many rows), and are at most
/// this tall.
const SAMPLE_ALIGN: usize = 512;
/// Pixels per strip of the streamed stages when the caller does not choose.
pub const STRIP_PIXELS: usize = 4 << 20;
/// Every GeoTIFF the job writes: tiled, deflate at its fastest level (a fifth of the time of
/// level 6 for about a fifth more bytes on class maps).
const OUTPUT_TIFF: WriteOptions = WriteOptions {
    tile_size: 256,
    compress: true,
    deflate_level: 1,
    bigtiff: BigTiff::Auto,
    overviews: Overviews::None,
    legend: None,
};
/// The class maps: as [`OUTPUT_TIFF`], cloud-optimized with nearest-neighbour overviews,
/// the class colours as a colour table and the class names as category names.
pub(crate) const CLASS_TIFF: WriteOptions = WriteOptions {
    overviews: Overviews::Nearest,
    legend: Some(Legend::new(&CLASS_PALETTE, &CLASS_NAMES)),
    ..OUTPUT_TIFF
};
/// `change.tif` (and `change_raw.tif`): as [`CLASS_TIFF`], with the change colours and names.
pub(crate) const CHANGE_TIFF: WriteOptions = WriteOptions {
    overviews: Overviews::Nearest,
    legend: Some(Legend::new(
        &crate::change::CHANGE_PALETTE,
        &crate::change::CHANGE_NAMES,
    )),
    ..OUTPUT_TIFF
};
/// The plan sample of a larger scene holds at most this many pixels: the noise model uses
/// 200,000 of them, so 1 Mpx spread over the scene is plenty, and reading more costs
/// decoding time.
const SAMPLE_PIXELS: usize = 1 << 20;
/// A scene of at most this many pixels is sampled whole (a window or two of a scene this
/// size would stand for it less well than reading it costs).
const WHOLE_SCENE_PIXELS: usize = 4 << 20;

/// Where a protected zone comes from.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ZoneSource {
    /// Polygons in a GeoJSON file (longitude/latitude, RFC 7946, or the EPSG CRS its `crs`
    /// member names), a Shapefile (`.shp`, in the CRS of its `.prj`) or a GeoPackage
    /// (`.gpkg`, in the CRS of its SRS), by the file's extension.
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StageTime {
    /// The stage's name.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::serde_remote::stage_name")
    )]
    pub stage: StaticName,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// One patch as the enforcement office receives it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_remote::ExecutionDef"))]
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
    /// The side of the clean-up opening, if any.
    pub opening: Option<usize>,
    /// The nominal ground size of a pixel, in metres.
    pub pixel_m: f64,
    /// What the contextual detector masked as cloud and cloud shadow.
    pub sky: Option<RegionStats>,
    /// More than [`crate::ContextSettings::mostly_cloud_share`] of the valid pixels lie under
    /// cloud or shadow: the comparison covers only the rest.
    pub mostly_cloud: bool,
    /// Under [`crate::Backend::Auto`] with a GPU: the backend timings on the plan sample
    /// and the one chosen for the strips.
    #[cfg_attr(
        feature = "serde",
        serde(with = "crate::serde_remote::option_backend_choice")
    )]
    pub backend_choice: Option<BackendChoice>,
    /// Where each shard of a merged run ([`Job::merge_shards`]) was computed, in shard
    /// order; empty for other runs.
    pub shards: Vec<ShardExecution>,
    /// Files written.
    pub outputs: Vec<PathBuf>,
    /// What the job left out of its inputs, for people (features that are not polygons).
    pub warnings: Vec<String>,
}

/// The caller's progress callback.
type ProgressCallback = Box<dyn Fn(Progress<'_>) + Sync>;

/// Stage timing: each lap closes the stage that just ran.
struct Timer {
    clock: Instant,
    stages: Vec<StageTime>,
    /// When the run started, on the calendar: the outputs' default time stamp.
    started: SystemTime,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            clock: Instant::now(),
            stages: Vec::new(),
            started: SystemTime::now(),
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

/// What the per-pixel stages hand to the patch stages.
struct PixelResults {
    /// The change codes before clean-up.
    change: Raster<u8>,
    /// Classes and NDVI of the changed pixels, when the job computed them.
    changed: Option<ChangedPixels>,
    /// The picture of both dates, when the job painted it.
    quicklook: Option<Quicklook>,
    /// What goes into the report as it is.
    facts: RunFacts,
}

/// What the stages before the patches learned of the run, carried into the report as it is.
struct RunFacts {
    /// What the contextual detector masked as cloud and shadow.
    sky: Option<RegionStats>,
    /// The nominal ground size of a pixel, in metres.
    pixel_m: f64,
    execution: Execution,
    threshold: u32,
    relation: DateRelation,
    /// Files already written (the class maps).
    outputs: Vec<PathBuf>,
    /// Rows per strip of the streamed stages.
    strip_rows: usize,
    /// The backend measured fastest under `Auto`.
    backend_choice: Option<BackendChoice>,
    /// Where the shards of a merged run were computed (empty for other runs).
    shards: Vec<ShardExecution>,
}

/// What the patch stages know of the scene from its change raster.
struct Scene {
    /// The change raster's georeference.
    georef: GeoReference,
    /// All pixels of the scene.
    pixels: u64,
    /// Pixels with a change code (not nodata on either date).
    valid_pixels: u64,
    /// The side of the clean-up opening, if any.
    opening: Option<usize>,
}

impl Scene {
    /// The scene of the change raster `change`, cleaned up by an opening of side `opening`;
    /// refused without georeferencing, which patches need.
    fn of(change: &Raster<u8>, opening: Option<usize>) -> Result<Scene> {
        let (width, height) = (change.width, change.height);
        let georef = change.georef.ok_or_else(|| Error::InvalidParameter {
            name: "change".into(),
            value: format!("{width}×{height}"),
            reason: "the change raster has no georeferencing; patches need map coordinates".into(),
        })?;
        let valid_pixels = change
            .data
            .iter()
            .filter(|&&c| c != crate::change::CHANGE_NODATA)
            .count() as u64;
        Ok(Scene {
            georef,
            pixels: (width * height) as u64,
            valid_pixels,
            opening,
        })
    }
}

/// The enforcement job: configure with the builder methods, then [`Job::run`].
pub struct Job {
    before: Box<dyn DateSource>,
    after: Box<dyn DateSource>,
    sensor: Option<Sensor>,
    bands: Option<Vec<BandRole>>,
    scale_offset: Option<(f64, f64)>,
    options: ChangeOptions,
    zones: Vec<(String, ZoneSource)>,
    regions: Option<(PathBuf, String)>,
    min_area_m2: f64,
    opening: Opening,
    connectivity: Connectivity,
    tile_rows: Option<usize>,
    warning_share: f64,
    raw_change: bool,
    max_pixels: u64,
    cancel: Option<Arc<AtomicBool>>,
    progress: Option<ProgressCallback>,
    timestamp: Option<SystemTime>,
}

/// The largest scene a job takes unless told otherwise ([`Job::max_pixels`]): 2·10⁹ pixels
/// (about 44,700² ), which needs about 4.5 GB of working memory.
pub const DEFAULT_MAX_PIXELS: u64 = 2_000_000_000;

/// The most rows a strip may have ([`Job::tile_rows`]).
pub const MAX_TILE_ROWS: usize = 1 << 16;

/// The names of the files a job may write into its output folder (besides the
/// `patches_*.geojson` copies in other CRSs).
pub const JOB_OUTPUTS: [&str; 25] = [
    "class_before.tif",
    "class_before.tif.aux.xml",
    "class_before.qml",
    "class_after.tif",
    "class_after.tif.aux.xml",
    "class_after.qml",
    "change.tif",
    "change.tif.aux.xml",
    "change.qml",
    "change_raw.tif",
    "change_raw.tif.aux.xml",
    "change_raw.qml",
    "patches.tif",
    "patches.geojson",
    "patches.csv",
    "patches.shp",
    "patches.shx",
    "patches.dbf",
    "patches.cpg",
    "patches.prj",
    "patches.gpkg",
    "regions.csv",
    "summary.json",
    "quicklook.png",
    "report.html",
];

/// The files a job writes, by name: an earlier run's file of such a name that this run does
/// not write is removed when this run's set is published.
pub fn is_job_output(name: &str) -> bool {
    JOB_OUTPUTS.contains(&name)
        || name == "patches_native.geojson"
        || (name.starts_with("patches_epsg") && name.ends_with(".geojson"))
}

impl Job {
    /// A job comparing the GeoTIFF stacks `before` and `after`.
    pub fn new(before: impl Into<PathBuf>, after: impl Into<PathBuf>) -> Job {
        Job::from_sources(GeoTiffSource::new(before), GeoTiffSource::new(after))
    }

    /// A job comparing two dates read from any [`DateSource`]: files, stacks in memory
    /// ([`crate::io::MemorySource`]) or an embedder's own. Checks that only concern files
    /// (an output over an input) apply to the sources that are files.
    pub fn from_sources(
        before: impl DateSource + 'static,
        after: impl DateSource + 'static,
    ) -> Job {
        Job {
            before: Box::new(before),
            after: Box::new(after),
            sensor: None,
            bands: None,
            scale_offset: None,
            options: ChangeOptions::new(),
            zones: Vec::new(),
            regions: None,
            min_area_m2: 0.0,
            opening: Opening::Auto,
            connectivity: Connectivity::Eight,
            tile_rows: None,
            warning_share: DEFAULT_WARNING_SHARE,
            raw_change: false,
            max_pixels: DEFAULT_MAX_PIXELS,
            cancel: None,
            progress: None,
            timestamp: None,
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

    /// A protected zone from the polygons of a GeoJSON, Shapefile (`.shp`) or GeoPackage
    /// (`.gpkg`) file (`basic_farmland`, `eco_redline`, `urban_boundary`, or any name).
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

    /// Administrative regions from GeoJSON, Shapefile (`.shp`) or GeoPackage (`.gpkg`)
    /// polygons, each coded by the property `field`.
    pub fn regions(mut self, path: impl Into<PathBuf>, field: &str) -> Job {
        self.regions = Some((path.into(), field.to_string()));
        self
    }

    /// The minimum mapping unit: patches smaller than this many m² are removed (default 0).
    pub fn min_area_m2(mut self, area: f64) -> Job {
        self.min_area_m2 = area;
        self
    }

    /// The side of the square opening of the change mask applied before labelling (`None` for
    /// no morphology). By default, the odd number of pixels nearest 30 m: 3 at 10 m, none at
    /// 30 m, where a road is a pixel wide.
    pub fn opening(mut self, size: Option<usize>) -> Job {
        self.opening = size.map_or(Opening::Off, Opening::Square);
        self
    }

    /// Patch connectivity (default 8).
    pub fn connectivity(mut self, connectivity: Connectivity) -> Job {
        self.connectivity = connectivity;
        self
    }

    /// Rows per strip of the streamed stages (default: about [`STRIP_PIXELS`] pixels a
    /// strip, 64 to 1024 rows; 1 to [`MAX_TILE_ROWS`], checked before work). Results do not
    /// depend on it; memory grows with it.
    pub fn tile_rows(mut self, rows: usize) -> Job {
        self.tile_rows = Some(rows);
        self
    }

    /// The largest scene, in pixels, the job takes (default [`DEFAULT_MAX_PIXELS`]): a larger
    /// one is refused before any pixel is read.
    pub fn max_pixels(mut self, pixels: u64) -> Job {
        self.max_pixels = pixels;
        self
    }

    /// The time the outputs record as theirs: `patches.gpkg`'s `last_change` (UTC, to the
    /// millisecond) and the date of last update in `patches.dbf` (years 1900 to 2155, checked
    /// before work). Default: the time the run starts. Fixed, it makes the outputs of the
    /// same inputs and settings byte-identical from run to run (`landwatch enforce` takes it
    /// from `SOURCE_DATE_EPOCH`).
    pub fn timestamp(mut self, time: SystemTime) -> Job {
        self.timestamp = Some(time);
        self
    }

    /// A flag that stops the run when set (from a Ctrl-C handler, say): the run ends with
    /// [`Error::Cancelled`] at the next strip or stage and publishes nothing.
    pub fn cancel_when(mut self, flag: Arc<AtomicBool>) -> Job {
        self.cancel = Some(flag);
        self
    }

    /// [`Error::Cancelled`] once the cancel flag is set.
    fn check_cancel(&self) -> Result<()> {
        match &self.cancel {
            Some(flag) if flag.load(std::sync::atomic::Ordering::Relaxed) => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    /// Rows per strip for a scene `width` pixels wide whose files store blocks of
    /// `block_rows` rows: the caller's choice, or about [`STRIP_PIXELS`] pixels rounded up to
    /// whole blocks (a strip that ends inside a block would make the next strip inflate that
    /// block again).
    fn strip_rows(&self, width: usize, height: usize, block_rows: usize) -> usize {
        let rows = self.tile_rows.unwrap_or_else(|| {
            let rows = (STRIP_PIXELS / width.max(1)).clamp(64, 1024);
            rows.next_multiple_of(block_rows.clamp(1, 1024))
        });
        rows.clamp(1, height.max(1))
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
                value: roles
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                reason: format!("the stacks have only {band_count} bands"),
            });
        }
        Ok((roles, sensor))
    }

    /// Reads rows `row..row + rows` of one date as a stack with the job's band roles and
    /// radiometry.
    fn read_rows(
        &self,
        source: &dyn DateSource,
        row: usize,
        rows: usize,
        layout: &(Vec<BandRole>, Sensor),
    ) -> Result<BandStack> {
        let mut stack = source.read_rows(row..row + rows)?.with_roles(&layout.0)?;
        stack.set_radiometry(layout.1.radiometry)?;
        Ok(stack)
    }

    /// Runs the job, writing every output into `out`. Everything that can be checked before
    /// work is: both dates' headers, georeferencing and CRS, the zone and region layers and
    /// the output folder; a refusal there leaves `out` as it was.
    ///
    /// The stages, each timed: plan, change, then morphology, patches and write.
    pub fn run(&self, engine: &Engine, out: impl AsRef<Path>) -> Result<JobReport> {
        let mut timer = Timer::new();
        self.check_settings()?;
        let dates = self.open_dates()?;
        let inputs: Vec<&Path> = [&self.before, &self.after]
            .iter()
            .flat_map(|s| s.input_files())
            .collect();
        let (layers, set) = self.ready(&dates.grid, out.as_ref(), &inputs)?;
        let staging = set.staging().to_path_buf();
        let out = staging.as_path();
        let plan = self.plan_stage(&dates, engine)?;
        timer.lap("plan");
        self.check_cancel()?;
        let pixels = self.change_stage(engine, out, &dates, plan)?;
        timer.lap("change");
        let report = self.finish(engine, out, pixels, layers, timer)?;
        self.check_cancel()?;
        publish(set, report)
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
        self.check_settings()?;
        let (width, height) = (change.width, change.height);
        let georef = checked_georef(Path::new("the change raster"), width, height, change.georef)?;
        let grid = TargetGrid {
            width,
            height,
            georef,
        };
        let (layers, set) = self.ready(&grid, out, &[])?;
        let staging = set.staging().to_path_buf();
        let out = staging.as_path();
        let strip_rows = self.strip_rows(change.width, change.height, 1);
        let pixels = PixelResults {
            change,
            changed: None,
            quicklook: None,
            facts: RunFacts {
                sky: None,
                pixel_m: 0.0,
                outputs: Vec::new(),
                strip_rows,
                backend_choice: None,
                execution: Execution {
                    device: crate::backend::cpu_device(),
                    fallback: None,
                },
                threshold: 0,
                relation: DateRelation::IDENTITY,
                shards: Vec::new(),
            },
        };
        let report = self.finish(engine, out, pixels, layers, Timer::new())?;
        publish(set, report)
    }

    /// The stages after the change codes, timed on `timer`: morphology, patches and write,
    /// all writing into `out`.
    fn finish(
        &self,
        engine: &Engine,
        out: &Path,
        pixels: PixelResults,
        layers: Layers,
        mut timer: Timer,
    ) -> Result<JobReport> {
        let PixelResults {
            change: raw,
            changed,
            quicklook,
            mut facts,
        } = pixels;
        let scene = Scene::of(&raw, self.opening.side(facts.pixel_m))?;
        let opened = self.morphology_stage(engine, &raw, scene.opening)?;
        timer.lap("morphology");
        self.check_cancel()?;
        if self.raw_change {
            let path = out.join("change_raw.tif");
            write_geotiff_with(&path, &raw, &CHANGE_TIFF)?;
            facts.outputs.extend(side_car_paths(&path));
            facts.outputs.push(path);
        }
        let kept = PixelLayers::in_opened(changed, quicklook, &raw.data, &opened.data);
        drop(raw);
        let strip_rows = facts.strip_rows;
        let mut patched = self.patches_stage(out, opened, &scene, &layers, kept, strip_rows)?;
        timer.lap("patches");
        let quicklook = patched.quicklook.take();
        let time = self.timestamp.unwrap_or(timer.started);
        let mut report = self.write_stage(out, patched, facts, &scene, layers, time)?;
        timer.lap("write");
        report.stages = timer.stages;
        self.write_pages(engine, out, &mut report, quicklook.as_ref())?;
        Ok(report)
    }
}

/// Publishes a finished run's staged set into its folder and points the report at the
/// published files.
fn publish(set: OutputSet, mut report: JobReport) -> Result<JobReport> {
    let dir = set.dir().to_path_buf();
    set.publish("summary.json", is_job_output)?;
    for path in &mut report.outputs {
        if let Some(name) = path.file_name() {
            *path = dir.join(name);
        }
    }
    Ok(report)
}

/// `Ok(None)` for an all-nodata strip, which a whole scene may well contain.
fn allow_all_nodata<T>(result: Result<Computed<T>>) -> Result<Option<Computed<T>>> {
    match result {
        Ok(c) => Ok(Some(c)),
        Err(Error::AllNodata { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
