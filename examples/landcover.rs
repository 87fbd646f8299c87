//! Land cover on two dates of real imagery: spectral indices and per-pixel classes, written as
//! georeferenced GeoTIFFs and PNG class maps, with a class-area table and the from→to counts.
//!
//! With no arguments it runs on the bundled Landsat 7 pair of Taizhou (2000 and 2003):
//!
//! ```text
//! cargo run --release --example landcover
//! cargo run --release --example landcover -- --before T1.tif --after T2.tif \
//!     [--sensor NAME] [--bands ROLE,ROLE,...] [--backend auto|cpu|gpu] [--out DIR]
//! ```

use landwatch::classify::{CLASS_NODATA, CLASS_PALETTE, class_name};
use landwatch::io::{ReadLimits, read_geotiff, write_geotiff};
use landwatch::{
    Backend, BandRole, BandStack, ClassThresholds, Engine, GpuOptions, Raster, Sensor,
    SpectralIndex,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    before: PathBuf,
    after: PathBuf,
    sensor: Sensor,
    bands: Option<Vec<BandRole>>,
    backend: Backend,
    out: PathBuf,
}

const HELP: &str = "landcover: spectral indices and land-cover classes on two dates

usage: landcover [--before T1.tif] [--after T2.tif] [--sensor NAME] [--bands ROLE,...]
                 [--backend auto|cpu|gpu] [--out DIR]

Without --before/--after it runs on the bundled Landsat 7 pair of Taizhou.
Sensors: sentinel2-l1c, sentinel2-l2a, landsat89-c2l2, landsat-dn, gf-4band (default landsat-dn).
Roles: blue, green, red, nir, swir1, swir2 (default: the sensor's band order).";

fn parse_args() -> Result<Args, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = Args {
        before: root.join("data/landsat_taizhou/Taizhou_t1.tif"),
        after: root.join("data/landsat_taizhou/Taizhou_t2.tif"),
        sensor: Sensor::landsat_dn(),
        bands: None,
        backend: Backend::Auto,
        out: PathBuf::from("out/landcover"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!("{HELP}");
            std::process::exit(0);
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n\n{HELP}"))?;
        match flag.as_str() {
            "--before" => args.before = value.into(),
            "--after" => args.after = value.into(),
            "--sensor" => args.sensor = Sensor::preset(&value).map_err(|e| e.to_string())?,
            "--bands" => {
                args.bands = Some(BandRole::parse_list(&value).map_err(|e| e.to_string())?)
            }
            "--backend" => {
                args.backend = value.parse().map_err(|e: landwatch::Error| e.to_string())?
            }
            "--out" => args.out = value.into(),
            _ => return Err(format!("unknown option {flag}\n\n{HELP}")),
        }
    }
    Ok(args)
}

fn load(path: &Path, args: &Args) -> landwatch::Result<BandStack> {
    let image = read_geotiff(path, &ReadLimits::default())?;
    let roles = args
        .bands
        .clone()
        .unwrap_or_else(|| args.sensor.bands.clone());
    let mut stack = image.into_stack(&roles)?;
    stack.set_radiometry(args.sensor.radiometry)?;
    Ok(stack)
}

fn pixel_area_m2(raster: &Raster<u8>) -> Option<f64> {
    let g = raster.georef?;
    let (w, h) = g.transform.pixel_size();
    // Areas in metres only for projected CRSs; geographic grids need the ellipsoid.
    (g.epsg.is_some_and(|e| !(4000..5000).contains(&e))).then_some(w * h)
}

fn run(args: &Args) -> landwatch::Result<()> {
    let engine = Engine::with_options(args.backend, &GpuOptions::default());
    std::fs::create_dir_all(&args.out).map_err(|source| landwatch::Error::Io {
        path: args.out.clone(),
        source,
    })?;
    let mut classes = Vec::new();
    for (label, path) in [("before", &args.before), ("after", &args.after)] {
        let stack = load(path, args)?;
        let ndvi = engine.index(&stack, SpectralIndex::Ndvi)?;
        let class = engine.classify(&stack, &ClassThresholds::default())?;
        write_geotiff(args.out.join(format!("ndvi_{label}.tif")), &ndvi.output)?;
        write_geotiff(args.out.join(format!("class_{label}.tif")), &class.output)?;
        landwatch::io::png::class_map_png(
            args.out.join(format!("class_{label}.png")),
            &class.output,
            &CLASS_PALETTE,
        )?;
        println!(
            "{label}: {} ({}×{}), computed on {}{}",
            path.display(),
            stack.width(),
            stack.height(),
            class.execution.device,
            class
                .execution
                .fallback
                .as_ref()
                .map(|f| format!(" (GPU not used: {f})"))
                .unwrap_or_default()
        );
        classes.push(class.output);
    }
    let (before, after) = (&classes[0], &classes[1]);
    if (before.width, before.height) != (after.width, after.height) {
        return Err(landwatch::Error::GridMismatch {
            what: format!(
                "before is {}×{}, after is {}×{}",
                before.width, before.height, after.width, after.height
            ),
        });
    }
    let area = pixel_area_m2(before);
    let unit = if area.is_some() { "ha" } else { "pixels" };
    let to_unit = |n: u64| area.map_or(n as f64, |a| n as f64 * a / 10_000.0);
    let mut counts = [[0u64; 256]; 256];
    for (&b, &a) in before.data.iter().zip(&after.data) {
        counts[b as usize][a as usize] += 1;
    }
    let codes: Vec<u8> = (1..=5).chain([CLASS_NODATA]).collect();
    println!("\nclass areas ({unit}):");
    println!("{:<12} {:>12} {:>12}", "class", "before", "after");
    for &c in &codes {
        let b: u64 = counts[c as usize].iter().sum();
        let a: u64 = counts.iter().map(|row| row[c as usize]).sum();
        println!(
            "{:<12} {:>12.1} {:>12.1}",
            class_name(c),
            to_unit(b),
            to_unit(a)
        );
    }
    println!("\nlargest from→to changes ({unit}):");
    let mut changes: Vec<(u64, u8, u8)> = codes
        .iter()
        .flat_map(|&b| codes.iter().map(move |&a| (b, a)))
        .filter(|(b, a)| b != a && *b != CLASS_NODATA && *a != CLASS_NODATA)
        .map(|(b, a)| (counts[b as usize][a as usize], b, a))
        .filter(|(n, _, _)| *n > 0)
        .collect();
    changes.sort_unstable_by(|x, y| y.cmp(x));
    for (n, b, a) in changes.iter().take(6) {
        println!(
            "{:>12} → {:<12} {:>10.1}",
            class_name(*b),
            class_name(*a),
            to_unit(*n)
        );
    }
    println!("\noutputs in {}/", args.out.display());
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
