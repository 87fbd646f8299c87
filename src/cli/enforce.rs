//! `landwatch enforce`: the enforcement job, a thin shell over [`crate::job::Job`].

use super::{Failure, Outcome, Output, demo, parse, progress, signals};
use crate::backend::{Backend, Engine};
use crate::change::{ChangeMethod, ChangeOptions};
use crate::io::{BandFile, BandFilesSource, Resampling};
use crate::job::{Job, JobReport, MAX_TILE_ROWS};
use crate::sensor::{BandRole, Sensor};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One `--before-band`/`--after-band`: the role, the file and its zero-based band.
type BandArg = (BandRole, PathBuf, usize);

/// The options of `landwatch enforce`.
#[derive(Debug, Args)]
#[command(after_long_help = OUTPUTS)]
pub(super) struct EnforceArgs {
    /// The first date: a GeoTIFF stack.
    #[arg(long, value_name = "T1.tif")]
    pub before: Option<PathBuf>,
    /// The second date, on the same grid.
    #[arg(long, value_name = "T2.tif")]
    after: Option<PathBuf>,
    /// The dates as one file per band (boxed: the rarer form keeps the command small).
    #[command(flatten)]
    per_band: Box<PerBandArgs>,
    /// The output folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Sensor preset: sentinel2-l1c, sentinel2-l2a, landsat89-c2l2, landsat-dn, gf-4band.
    /// Without it values are used as stored, unless --scale and --offset are given.
    #[arg(long, value_name = "NAME", value_parser = parse::sensor)]
    sensor: Option<Sensor>,
    /// Band order of the stacks as roles (blue, green, red, nir, swir1, swir2); default:
    /// the sensor's, or blue..swir2 for 6 bands, blue..nir for 4.
    #[arg(long, value_name = "ROLE,ROLE,...", value_parser = parse::bands)]
    bands: Option<Vec<BandRole>>,
    /// Reflectance = value × scale + offset (with --offset).
    #[arg(long, value_name = "S", value_parser = parse::finite, requires = "offset")]
    scale: Option<f64>,
    /// Reflectance offset (with --scale).
    #[arg(long, value_name = "O", value_parser = parse::finite, requires = "scale", allow_hyphen_values = true)]
    offset: Option<f64>,
    /// A protected zone, repeatable: NAME=FILE, FILE a GeoJSON (longitude/latitude, or the
    /// EPSG CRS it names), a Shapefile (.shp) or GeoPackage (.gpkg) in its own CRS, or a
    /// GeoTIFF mask on the imagery's grid. Documented names: basic_farmland, eco_redline,
    /// urban_boundary.
    #[arg(long = "zones", value_name = "NAME=FILE", value_parser = parse::named_file)]
    zones: Vec<(String, PathBuf)>,
    /// Administrative regions as GeoJSON, Shapefile (.shp) or GeoPackage (.gpkg) polygons
    /// (with --region-field).
    #[arg(long, value_name = "FILE", requires = "region_field")]
    regions: Option<PathBuf>,
    /// The property of --regions that holds the region code.
    #[arg(long, value_name = "FIELD", requires = "regions")]
    region_field: Option<String>,
    /// Minimum mapping unit in m² (default 0: keep every patch after the opening of about
    /// 30 m).
    #[arg(long = "min-area-m2", value_name = "N", value_parser = parse::finite, allow_negative_numbers = true)]
    min_area_m2: Option<f64>,
    /// contextual (default), combined, cva, postclass, dndvi, dbsi, dndbi.
    #[arg(long, value_name = "NAME")]
    method: Option<ChangeMethod>,
    /// Contextual: a change region needs a pixel this many noise σ above no change
    /// (default 4.5).
    #[arg(long, value_name = "S", value_parser = parse::finite, allow_negative_numbers = true)]
    seed_sigma: Option<f64>,
    /// Contextual: pixels this many σ above no change join a region that has such a seed
    /// (default 2.0).
    #[arg(long, value_name = "S", value_parser = parse::finite, allow_negative_numbers = true)]
    grow_sigma: Option<f64>,
    /// Any other setting of the contextual detector, repeatable: NAME=VALUE by the name of
    /// its field in landwatch::ContextSettings (misregistration_m, smoothing_m, cloud_blue,
    /// cloud_min_core_m2, shadow_distance_m, haze_rise, haze_min_area_m2, ...).
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse::named_number)]
    context: Vec<(String, f64)>,
    /// auto (a real GPU when there is one and it is faster, else the CPU), cpu or gpu.
    #[arg(long, value_name = "auto|cpu|gpu", default_value = "auto")]
    backend: Backend,
    /// Rows per streamed strip (default: about 4 Mpx a strip, 64 to 1024 rows).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_TILE_ROWS as i64), allow_negative_numbers = true)]
    tile_size: Option<u32>,
    /// The largest scene taken, in pixels (default 2000000000, about 4.5 GB of working
    /// memory); a larger one is refused before any pixel is read.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    max_pixels: Option<u64>,
    /// Farmland share of new construction that triggers a region's warning (default 0.15).
    #[arg(long, value_name = "F", value_parser = parse::finite, allow_negative_numbers = true)]
    warning_share: Option<f64>,
    /// Also write change_raw.tif, the codes before clean-up.
    #[arg(long)]
    raw_change: bool,
}

/// The options that give the dates as one file per band.
#[derive(Debug, Args)]
struct PerBandArgs {
    /// The first date as one GeoTIFF per band instead of a stack, repeatable: ROLE=FILE
    /// takes band 1 of FILE, ROLE=FILE#N band N. The bands go onto the finest of their grids;
    /// coarser ones (Sentinel-2's 20 m SWIR) are resampled (--band-resampling).
    #[arg(long = "before-band", value_name = "ROLE=FILE[#N]", value_parser = band_file, conflicts_with = "before")]
    before_band: Vec<BandArg>,
    /// The second date as one GeoTIFF per band, the same roles as --before-band.
    #[arg(long = "after-band", value_name = "ROLE=FILE[#N]", value_parser = band_file, conflicts_with = "after")]
    after_band: Vec<BandArg>,
    /// How --before-band and --after-band bands on a coarser grid are resampled: nearest
    /// (default: the values as stored) or bilinear.
    #[arg(long, value_name = "nearest|bilinear", value_parser = resampling)]
    band_resampling: Option<Resampling>,
}

const OUTPUTS: &str = "Writes into DIR: class_before.tif, class_after.tif, change.tif (each \
styled: a colour table, overviews, GDAL's NAME.tif.aux.xml and QGIS's NAME.qml), \
patches.tif, patches.geojson, patches.csv, patches.shp (with .shx, .dbf, .cpg, .prj), \
patches.gpkg, regions.csv (with --regions), summary.json, quicklook.png, report.html. The set is written privately and published whole when the run \
succeeds (summary.json last, listing the set); a refused, failed or interrupted run leaves DIR \
as it was. One run at a time per DIR (.landwatch.lock).

Environment: SOURCE_DATE_EPOCH, when set (seconds since 1970-01-01 00:00:00 UTC, the \
reproducible-builds.org convention), is the time patches.gpkg (last_change) and patches.dbf \
(date of last update) record instead of the time the run starts, so that the same inputs and \
options give byte-identical files.

With no --before, --after and --out: the bundled Taizhou pair (Landsat 7 DN, 2000 and 2003) \
with illustrative zones and counties (not official boundaries), written to out/enforce.";

impl EnforceArgs {
    /// The job and its output folder: the demo without dates, else the options' job.
    fn job(self) -> Result<(Job, PathBuf), Failure> {
        if !self.dates_given() && self.out.is_none() {
            return Ok((demo::enforce_job()?, PathBuf::from("out/enforce")));
        }
        self.explicit_job("enforce")
    }

    /// Whether the dates were given, as stacks or per band.
    fn dates_given(&self) -> bool {
        self.before.is_some()
            || self.after.is_some()
            || !self.per_band.before_band.is_empty()
            || !self.per_band.after_band.is_empty()
    }

    /// The backend asked for.
    pub(super) fn backend(&self) -> Backend {
        self.backend
    }

    /// The options' job and its output folder, for `command`: the dates and --out are
    /// required.
    pub(super) fn explicit_job(self, command: &str) -> Result<(Job, PathBuf), Failure> {
        let out = match (self.dates_given(), self.out.clone()) {
            (true, Some(o)) => o,
            _ => {
                return Err(Failure::usage(format!(
                    "{command}: --before, --after and --out go together (or --before-band, \
                     --after-band and --out; see --help)"
                )));
            }
        };
        let mut job = self.dates()?.change_options(self.change_options()?);
        job = self.settings(job)?;
        if let Some(s) = self.sensor {
            job = job.sensor(s);
        }
        if let Some(b) = self.bands {
            job = job.bands(b);
        }
        if let (Some(s), Some(o)) = (self.scale, self.offset) {
            job = job.scale_offset(s, o);
        }
        for (i, (name, file)) in self.zones.iter().enumerate() {
            if self.zones[..i].iter().any(|(n, _)| n == name) {
                return Err(Failure::usage(format!(
                    "--zones: the zone name '{name}' is given twice"
                )));
            }
            let raster = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tif") || e.eq_ignore_ascii_case("tiff"));
            job = if raster {
                job.zone_raster(name, file)
            } else {
                job.zone_geojson(name, file)
            };
        }
        if let (Some(r), Some(f)) = (&self.regions, &self.region_field) {
            job = job.regions(r, f);
        }
        Ok((job, out))
    }

    /// The two dates: stacks (--before, --after) or one file per band (--before-band,
    /// --after-band; the roles of the first date order the bands of both).
    fn dates(&self) -> Result<Job, Failure> {
        if self.per_band.before_band.is_empty() && self.per_band.after_band.is_empty() {
            return match (&self.before, &self.after) {
                (Some(b), Some(a)) => Ok(Job::new(b, a)),
                _ => Err(Failure::usage(
                    "--before and --after go together (see --help)",
                )),
            };
        }
        if self.per_band.before_band.is_empty() || self.per_band.after_band.is_empty() {
            return Err(Failure::usage(
                "--before-band and --after-band go together: both dates per band, or both \
                 as stacks with --before and --after",
            ));
        }
        if self.bands.is_some() {
            return Err(Failure::usage(
                "--bands orders the bands of stacks; with --before-band and --after-band each \
                 band's role is given with its file",
            ));
        }
        let roles: Vec<BandRole> = self.per_band.before_band.iter().map(|b| b.0).collect();
        for (i, role) in roles.iter().enumerate() {
            if roles[..i].contains(role) {
                return Err(Failure::usage(format!(
                    "--before-band: the role '{}' is given twice",
                    role.name()
                )));
            }
        }
        let mut after = Vec::with_capacity(roles.len());
        for role in &roles {
            let mut of_role = self.per_band.after_band.iter().filter(|b| b.0 == *role);
            match (of_role.next(), of_role.next()) {
                (Some(b), None) => after.push(b),
                (None, _) => {
                    return Err(Failure::usage(format!(
                        "--after-band: no '{}' band, which --before-band gives",
                        role.name()
                    )));
                }
                (Some(_), Some(_)) => {
                    return Err(Failure::usage(format!(
                        "--after-band: the role '{}' is given twice",
                        role.name()
                    )));
                }
            }
        }
        if let Some(extra) = self
            .per_band
            .after_band
            .iter()
            .find(|b| !roles.contains(&b.0))
        {
            return Err(Failure::usage(format!(
                "--after-band: '{}' is not among the roles of --before-band",
                extra.0.name()
            )));
        }
        let resampling = self.per_band.band_resampling.unwrap_or(Resampling::Nearest);
        let source = |bands: Vec<&BandArg>| {
            let files = bands
                .into_iter()
                .map(|(role, path, band)| BandFile {
                    band: *band,
                    ..BandFile::new(path, *role, resampling)
                })
                .collect();
            BandFilesSource::new(files)
        };
        let before = source(self.per_band.before_band.iter().collect());
        Ok(Job::from_sources(before, source(after)).bands(roles))
    }

    /// The numeric settings, checked here so that a bad value names its option.
    fn settings(&self, mut job: Job) -> Result<Job, Failure> {
        if let Some(a) = self.min_area_m2 {
            if a < 0.0 {
                return Err(Failure::usage(format!(
                    "--min-area-m2: '{a}' is not an area of 0 m² or more"
                )));
            }
            job = job.min_area_m2(a);
        }
        if let Some(s) = self.warning_share {
            if !(0.0..=1.0).contains(&s) {
                return Err(Failure::usage(format!(
                    "--warning-share: '{s}' is not a share from 0 to 1"
                )));
            }
            job = job.warning_share(s);
        }
        if let Some(rows) = self.tile_size {
            job = job.tile_rows(rows as usize);
        }
        if let Some(n) = self.max_pixels {
            job = job.max_pixels(n);
        }
        Ok(job.raw_change(self.raw_change))
    }

    fn change_options(&self) -> Result<ChangeOptions, Failure> {
        let mut options = ChangeOptions::new();
        if let Some(m) = self.method {
            options.method = m;
        }
        if let Some(s) = self.seed_sigma {
            options.context.seed_sigma = s;
        }
        if let Some(s) = self.grow_sigma {
            options.context.grow_sigma = s;
        }
        for (name, value) in &self.context {
            options
                .context
                .set(name, *value)
                .map_err(|e| Failure::usage(format!("--context: {e}")))?;
        }
        Ok(options)
    }
}

/// `ROLE=FILE` (band 1 of FILE) or `ROLE=FILE#N` (band N, from 1); a FILE that exists with
/// `#N` in its name is taken as it is.
fn band_file(s: &str) -> Result<BandArg, String> {
    let (role, file) = s
        .split_once('=')
        .ok_or_else(|| format!("expected ROLE=FILE or ROLE=FILE#N, got '{s}'"))?;
    let role: BandRole = role.trim().parse().map_err(|e| format!("{e}"))?;
    if let Some((path, n)) = file.rsplit_once('#')
        && !Path::new(file).exists()
    {
        return match n.parse::<usize>() {
            Ok(n) if n >= 1 => Ok((role, PathBuf::from(path), n - 1)),
            _ => Err(format!("'{n}' after '#' is not a band number from 1")),
        };
    }
    Ok((role, PathBuf::from(file), 0))
}

/// `nearest` or `bilinear`.
fn resampling(s: &str) -> Result<Resampling, String> {
    match s.to_ascii_lowercase().as_str() {
        "nearest" => Ok(Resampling::Nearest),
        "bilinear" => Ok(Resampling::Bilinear),
        _ => Err(format!("expected nearest or bilinear, got '{s}'")),
    }
}

/// The time `SOURCE_DATE_EPOCH` gives (whole seconds since 1970-01-01 00:00:00 UTC, the
/// reproducible-builds.org convention), `None` when it is unset or empty; a malformed value, or
/// one past the years the outputs can record, is refused before work.
pub(super) fn source_date_epoch() -> Result<Option<SystemTime>, Failure> {
    let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = |why: String| Failure::usage(format!("SOURCE_DATE_EPOCH: '{text}' {why}"));
    let seconds = match text.parse::<u64>() {
        Ok(s) if text.bytes().all(|b| b.is_ascii_digit()) => s,
        _ => {
            return Err(bad(
                "is not a whole number of seconds since 1970-01-01 00:00:00 UTC".into(),
            ));
        }
    };
    UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .filter(|t| crate::io::stamp::checked(*t).is_ok())
        .map(Some)
        .ok_or_else(|| bad("is past 2155, the last year the outputs can record".into()))
}

/// Runs the job and prints its summary.
pub(super) fn run(args: EnforceArgs, output: Output) -> Outcome {
    let backend = args.backend;
    let (mut job, out) = args.job()?;
    if let Some(time) = source_date_epoch()? {
        job = job.timestamp(time);
    }
    let job = progress::attach(job, output);
    let job = job.cancel_when(signals::cancel_on_interrupt());
    let engine = Engine::new(backend);
    let report = match job.run(&engine, &out) {
        Ok(report) => report,
        Err(crate::Error::Cancelled) => {
            return Err(Failure {
                message: format!("cancelled: {} was left as it was", out.display()),
                code: 130,
            });
        }
        Err(e) => return Err(e.into()),
    };
    print_report(&report, &out, output);
    Ok(())
}

pub(super) fn print_report(report: &JobReport, out: &std::path::Path, output: Output) {
    for warning in &report.warnings {
        output.warn(warning);
    }
    output.line(format_args!("computed on {}", report.execution.device));
    if let Some(why) = &report.execution.fallback {
        output.line(format_args!("the GPU was not used: {why}"));
    }
    if let Some(sky) = &report.sky {
        output.line(format_args!(
            "cloud, shadow and haze masked: {:.1}% of valid pixels ({})",
            100.0 * sky.share(sky.masked_px),
            sky.per_date()
        ));
    }
    if report.mostly_cloud {
        output.line(
            "WARNING: the pair is mostly cloud; changes are reported for the clear part only",
        );
    }
    let changed: f64 = report.area_by_type_m2[1..].iter().sum();
    let threshold = match &report.relation.context {
        Some(_) => format!(
            "seeds above {:.1} σ of the noise",
            report.threshold as f64 / 256.0
        ),
        None => format!("threshold {}", report.threshold),
    };
    output.line(format_args!(
        "{} patches, {:.1} ha changed; {threshold}",
        report.patch_count,
        changed / 1e4,
    ));
    for (code, area) in report.area_by_type_m2.iter().enumerate().skip(1) {
        if *area > 0.0 {
            output.line(format_args!(
                "  {:<30} {:>10.1} ha",
                crate::change::change_name(code as u8),
                area / 1e4
            ));
        }
    }
    for r in report.regions.iter().filter(|r| r.warning) {
        output.line(format_args!(
            "  WARNING region {}: {:.1}% of its new construction is on basic farmland",
            r.code,
            100.0 * r.farmland_share
        ));
    }
    let total: f64 = report.stages.iter().map(|s| s.seconds).sum();
    output.line(format_args!(
        "done in {total:.2} s; outputs in {}/:",
        out.display()
    ));
    for path in &report.outputs {
        output.line(format_args!("  {}", path.display()));
    }
}
