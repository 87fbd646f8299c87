//! The enforcement job: two dates in, typed change patches checked against protected zones,
//! per-county totals with the farmland-share warning, and every file an office hands out.
//! A thin shell over [`landwatch::job::Job`].
//!
//! With no arguments it runs on the bundled Landsat 7 pair of Taizhou with illustrative zones
//! and counties (`data/landsat_taizhou/illustrative`, not official boundaries).

use indicatif::{ProgressBar, ProgressStyle};
use landwatch::job::{Job, MAX_TILE_ROWS, Progress};
use landwatch::{Backend, BandRole, Engine, Error, Sensor};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const HELP: &str = "enforce: the land-use enforcement job on two dates of imagery

usage:
  enforce --before T1.tif --after T2.tif --out DIR
          [--sensor NAME] [--bands ROLE,ROLE,...] [--scale S --offset O]
          [--zones NAME=FILE ...] [--regions FILE --region-field FIELD]
          [--min-area-m2 N] [--method NAME] [--seed-sigma S] [--grow-sigma S]
          [--context NAME=VALUE ...]
          [--backend auto|cpu|gpu] [--tile-size N] [--max-pixels N]
          [--warning-share F] [--raw-change]

With no arguments: the bundled Taizhou pair (Landsat 7 DN) with illustrative zones and
counties, written to out/enforce.

  --sensor      sentinel2-l1c, sentinel2-l2a, landsat89-c2l2, landsat-dn, gf-4band.
                Without it values are used as stored, unless --scale and --offset are given.
  --bands       band order of the stacks as roles (blue, green, red, nir, swir1, swir2);
                default: the sensor's, or blue..swir2 for 6 bands, blue..nir for 4.
  --zones       NAME=FILE, repeatable; FILE is GeoJSON (longitude/latitude, or the imagery's
                CRS) or a GeoTIFF mask on the imagery's grid. Documented names:
                basic_farmland, eco_redline, urban_boundary.
  --regions     GeoJSON of administrative regions; --region-field names the code property.
  --min-area-m2 minimum mapping unit (default 0: keep every patch after the opening of
                about 30 m).
  --method      contextual (default), combined, cva, postclass, dndvi, dbsi, dndbi.
  --seed-sigma  contextual: a change region needs a pixel this many noise σ above no
                change (default 4.5).
  --grow-sigma  contextual: pixels this many σ above no change join a region that has
                such a seed (default 2.0).
  --context     NAME=VALUE, repeatable: any other setting of the contextual detector, by
                the name of its field in landwatch::ContextSettings (misregistration_m,
                smoothing_m, cloud_blue, cloud_min_core_m2, shadow_distance_m, haze_rise,
                haze_min_area_m2, ...).
  --tile-size   rows per streamed strip (default: about 4 Mpx a strip, 64 to 1024 rows;
                1 to 65536).
  --max-pixels  the largest scene taken (default 2000000000, about 4.5 GB of working
                memory); a larger one is refused before any pixel is read.
  --warning-share  farmland share of new construction that triggers a warning (default 0.15).
  --raw-change  also write change_raw.tif, the codes before clean-up.

Writes into DIR: class_before.tif, class_after.tif, change.tif, patches.tif, patches.geojson,
patches.csv, regions.csv (with --regions), summary.json, quicklook.png, report.html. The set
is written privately and published whole when the run succeeds (summary.json last, listing
the set); a refused, failed or interrupted run leaves DIR as it was. One run at a time per
DIR (.landwatch.lock).

Exit codes: 0 done, 1 refused or failed, 2 bad command line, 130 interrupted.";

fn demo(root: &Path) -> Job {
    let data = root.join("data/landsat_taizhou");
    let zones = data.join("illustrative");
    Job::new(data.join("Taizhou_t1.tif"), data.join("Taizhou_t2.tif"))
        .sensor(Sensor::landsat_dn())
        .zone_geojson("basic_farmland", zones.join("basic_farmland.geojson"))
        .zone_geojson("eco_redline", zones.join("eco_redline.geojson"))
        .zone_geojson("urban_boundary", zones.join("urban_boundary.geojson"))
        .regions(zones.join("counties.geojson"), "code")
}

fn parse(args: Vec<String>) -> Result<(Job, PathBuf, Backend), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if args.is_empty() {
        return Ok((demo(root), PathBuf::from("out/enforce"), Backend::Auto));
    }
    let text = |e: Error| e.to_string();
    let (mut before, mut after, mut out) = (None, None, None);
    let mut zones = Vec::new();
    let (mut regions, mut field) = (None, None);
    let (mut scale, mut offset) = (None, None);
    let mut settings: Vec<Box<dyn FnOnce(Job) -> Job>> = Vec::new();
    let mut backend = Backend::Auto;
    let mut options = landwatch::ChangeOptions::new();
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{HELP}");
            std::process::exit(0);
        }
        if flag == "--raw-change" {
            settings.push(Box::new(|j| j.raw_change(true)));
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value (see --help)"))?;
        let number = |v: &str| -> Result<f64, String> {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{flag}: '{v}' is not a finite number"))
        };
        match flag.as_str() {
            "--before" => before = Some(PathBuf::from(value)),
            "--after" => after = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--sensor" => {
                let s = Sensor::preset(&value).map_err(text)?;
                settings.push(Box::new(move |j| j.sensor(s)));
            }
            "--bands" => {
                let b = BandRole::parse_list(&value).map_err(text)?;
                settings.push(Box::new(move |j| j.bands(b)));
            }
            "--scale" => scale = Some(number(&value)?),
            "--offset" => offset = Some(number(&value)?),
            "--zones" => {
                let (name, file) = value
                    .split_once('=')
                    .ok_or_else(|| format!("--zones takes NAME=FILE, got '{value}'"))?;
                if zones.iter().any(|(n, _)| n == name) {
                    return Err(format!("--zones: the zone name '{name}' is given twice"));
                }
                zones.push((name.to_string(), PathBuf::from(file)));
            }
            "--regions" => regions = Some(PathBuf::from(value)),
            "--region-field" => field = Some(value),
            "--min-area-m2" => {
                let a = number(&value)?;
                if !(a.is_finite() && a >= 0.0) {
                    return Err(format!(
                        "--min-area-m2: '{value}' is not an area of 0 m² or more"
                    ));
                }
                settings.push(Box::new(move |j| j.min_area_m2(a)));
            }
            "--max-pixels" => {
                let n: u64 = value
                    .parse()
                    .map_err(|_| format!("--max-pixels: '{value}' is not a pixel count"))?;
                settings.push(Box::new(move |j| j.max_pixels(n)));
            }
            "--method" => options.method = value.parse().map_err(text)?,
            "--seed-sigma" => options.context.seed_sigma = number(&value)?,
            "--grow-sigma" => options.context.grow_sigma = number(&value)?,
            "--context" => {
                let (name, v) = value
                    .split_once('=')
                    .ok_or_else(|| format!("--context takes NAME=VALUE, got '{value}'"))?;
                options.context.set(name, number(v)?).map_err(text)?;
            }
            "--backend" => backend = value.parse().map_err(text)?,
            "--tile-size" => {
                let rows = value
                    .parse::<usize>()
                    .ok()
                    .filter(|r| (1..=MAX_TILE_ROWS).contains(r))
                    .ok_or_else(|| {
                        format!(
                            "--tile-size: '{value}' is not a row count from 1 to {MAX_TILE_ROWS}"
                        )
                    })?;
                settings.push(Box::new(move |j| j.tile_rows(rows)));
            }
            "--warning-share" => {
                let s = number(&value)?;
                if !(0.0..=1.0).contains(&s) {
                    return Err(format!(
                        "--warning-share: '{value}' is not a share from 0 to 1"
                    ));
                }
                settings.push(Box::new(move |j| j.warning_share(s)));
            }
            _ => return Err(format!("unknown option {flag} (see --help)")),
        }
    }
    let (Some(before), Some(after), Some(out)) = (before, after, out) else {
        return Err("--before, --after and --out are required (see --help)".into());
    };
    let mut job = Job::new(before, after).change_options(options);
    for s in settings {
        job = s(job);
    }
    match (scale, offset) {
        (Some(s), Some(o)) => job = job.scale_offset(s, o),
        (None, None) => {}
        _ => return Err("--scale and --offset go together".into()),
    }
    for (name, file) in zones {
        let is_raster = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tif") || e.eq_ignore_ascii_case("tiff"));
        job = if is_raster {
            job.zone_raster(&name, file)
        } else {
            job.zone_geojson(&name, file)
        };
    }
    match (regions, field) {
        (Some(r), Some(f)) => job = job.regions(r, &f),
        (None, None) => {}
        _ => return Err("--regions and --region-field go together".into()),
    }
    Ok((job, out, backend))
}

fn main() -> ExitCode {
    // A closed stdout (`enforce … | head`) ends the process quietly, as for other tools,
    // instead of a panic in println!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let (job, out, backend) = match parse(std::env::args().skip(1).collect()) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // One bar per stage on stderr; indicatif draws nothing when stderr is not a terminal.
    let bar = Mutex::new((String::new(), ProgressBar::hidden()));
    let job = job.on_progress(move |p: Progress<'_>| {
        let mut guard = bar.lock().unwrap_or_else(|e| e.into_inner());
        if guard.0 != p.stage {
            guard.1.finish_and_clear();
            let b = ProgressBar::new(p.total).with_style(
                ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.set_message(p.stage.to_string());
            *guard = (p.stage.to_string(), b);
        }
        guard.1.set_position(p.done);
    });
    // Ctrl-C or SIGTERM: the run stops at the next strip, removes its staging folder and
    // publishes nothing; a second signal ends the process at once (the next run cleans up).
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let handler = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            landwatch::io::remove_in_flight();
            std::process::exit(130);
        }
        eprintln!("interrupted: stopping; nothing will be published");
    });
    if let Err(e) = handler {
        eprintln!("warning: Ctrl-C will not clean up ({e})");
    }
    let job = job.cancel_when(cancel);
    let engine = Engine::new(backend);
    let report = match job.run(&engine, &out) {
        Ok(r) => r,
        Err(Error::Cancelled) => {
            eprintln!("cancelled: {} was left as it was", out.display());
            return ExitCode::from(130);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    println!("computed on {}", report.execution.device);
    if let Some(why) = &report.execution.fallback {
        println!("the GPU was not used: {why}");
    }
    if let Some(sky) = &report.sky {
        println!(
            "cloud, shadow and haze masked: {:.1}% of valid pixels ({})",
            100.0 * sky.share(sky.masked_px),
            sky.per_date()
        );
    }
    if report.mostly_cloud {
        println!("WARNING: the pair is mostly cloud; changes are reported for the clear part only");
    }
    let changed: f64 = report.area_by_type_m2[1..].iter().sum();
    let threshold = match &report.relation.context {
        Some(_) => format!(
            "seeds above {:.1} σ of the noise",
            report.threshold as f64 / 256.0
        ),
        None => format!("threshold {}", report.threshold),
    };
    println!(
        "{} patches, {:.1} ha changed; {threshold}",
        report.patch_count,
        changed / 1e4,
    );
    for (code, area) in report.area_by_type_m2.iter().enumerate().skip(1) {
        if *area > 0.0 {
            println!(
                "  {:<30} {:>10.1} ha",
                landwatch::change::change_name(code as u8),
                area / 1e4
            );
        }
    }
    for r in report.regions.iter().filter(|r| r.warning) {
        println!(
            "  WARNING region {}: {:.1}% of its new construction is on basic farmland",
            r.code,
            100.0 * r.farmland_share
        );
    }
    let total: f64 = report.stages.iter().map(|s| s.seconds).sum();
    println!("done in {total:.2} s; outputs in {}/:", out.display());
    for path in &report.outputs {
        println!("  {}", path.display());
    }
    ExitCode::SUCCESS
}
