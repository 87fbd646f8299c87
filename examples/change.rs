//! The main job for now: land cover and enforcement change types between two dates of real
//! imagery, written as georeferenced GeoTIFFs and PNG maps, with a summary of areas.
//!
//! With no arguments it runs on the bundled Landsat 7 pair of Taizhou (2000 and 2003):
//!
//! ```text
//! cargo run --release --example change
//! cargo run --release --example change -- --before T1.tif --after T2.tif \
//!     [--sensor NAME] [--bands ROLE,ROLE,...] [--method NAME] [--backend auto|cpu|gpu] [--out DIR]
//! ```

use landwatch::change::{CHANGE_NODATA, CHANGE_PALETTE, UNCHANGED, change_name};
use landwatch::classify::{CLASS_NODATA, CLASS_PALETTE, class_name};
use landwatch::io::png::class_map_png;
use landwatch::io::{ReadLimits, read_geotiff, write_geotiff};
use landwatch::{
    Backend, BandRole, BandStack, ChangeMethod, ChangeOptions, Engine, Error, Sensor,
    SpectralIndex, TransitionMatrix,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    before: PathBuf,
    after: PathBuf,
    sensor: Sensor,
    bands: Option<Vec<BandRole>>,
    method: ChangeMethod,
    backend: Backend,
    out: PathBuf,
}

const HELP: &str = "change: land cover and enforcement change types between two dates

usage: change [--before T1.tif] [--after T2.tif] [--sensor NAME] [--bands ROLE,...]
              [--method NAME] [--backend auto|cpu|gpu] [--out DIR]

Without --before/--after it runs on the bundled Landsat 7 pair of Taizhou.
Sensors: sentinel2-l1c, sentinel2-l2a, landsat89-c2l2, landsat-dn, gf-4band (default landsat-dn).
Roles: blue, green, red, nir, swir1, swir2 (default: the sensor's band order).
Methods: combined (default), cva, postclass, dndvi, dbsi, dndbi.
Outputs in DIR (default out/change): class_before.tif, class_after.tif, change.tif,
magnitude.tif, ndvi_before.tif, ndvi_after.tif, class_before.png, class_after.png, change.png.";

fn parse_args() -> Result<Args, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = Args {
        before: root.join("data/landsat_taizhou/Taizhou_t1.tif"),
        after: root.join("data/landsat_taizhou/Taizhou_t2.tif"),
        sensor: Sensor::landsat_dn(),
        bands: None,
        method: ChangeMethod::Combined,
        backend: Backend::Auto,
        out: PathBuf::from("out/change"),
    };
    let mut it = std::env::args().skip(1);
    let text = |e: Error| e.to_string();
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
            "--sensor" => args.sensor = Sensor::preset(&value).map_err(text)?,
            "--bands" => args.bands = Some(BandRole::parse_list(&value).map_err(text)?),
            "--method" => args.method = value.parse().map_err(text)?,
            "--backend" => args.backend = value.parse().map_err(text)?,
            "--out" => args.out = value.into(),
            _ => return Err(format!("unknown option {flag}\n\n{HELP}")),
        }
    }
    Ok(args)
}

fn load(path: &Path, args: &Args) -> landwatch::Result<BandStack> {
    let roles = args.bands.as_ref().unwrap_or(&args.sensor.bands);
    let mut stack = read_geotiff(path, &ReadLimits::default())?.into_stack(roles)?;
    stack.set_radiometry(args.sensor.radiometry)?;
    Ok(stack)
}

fn run(args: &Args) -> landwatch::Result<()> {
    let engine = Engine::new(args.backend);
    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.clone(),
        source,
    })?;
    let (before, after) = (load(&args.before, args)?, load(&args.after, args)?);
    for (label, stack) in [("before", &before), ("after", &after)] {
        let ndvi = engine.index(stack, SpectralIndex::Ndvi)?;
        write_geotiff(out.join(format!("ndvi_{label}.tif")), &ndvi.output)?;
    }
    let options = ChangeOptions {
        method: args.method,
        ..ChangeOptions::new()
    };
    let run = engine.detect_change(&before, &after, &options)?;
    let maps = &run.output;
    write_geotiff(out.join("class_before.tif"), &maps.class_before)?;
    write_geotiff(out.join("class_after.tif"), &maps.class_after)?;
    write_geotiff(out.join("change.tif"), &maps.change)?;
    write_geotiff(out.join("magnitude.tif"), &maps.magnitude)?;
    class_map_png(
        out.join("class_before.png"),
        &maps.class_before,
        &CLASS_PALETTE,
    )?;
    class_map_png(
        out.join("class_after.png"),
        &maps.class_after,
        &CLASS_PALETTE,
    )?;
    class_map_png(out.join("change.png"), &maps.change, &CHANGE_PALETTE)?;

    println!(
        "{} → {} ({}×{}), computed on {}",
        args.before.display(),
        args.after.display(),
        before.width(),
        before.height(),
        run.execution.device
    );
    if let Some(why) = &run.execution.fallback {
        println!("the GPU was not used: {why}");
    }
    println!(
        "method {:?}, threshold {} (noise level {:.1}), normalization gains {:?} (Q12)",
        args.method, maps.threshold, maps.relation.noise, maps.relation.normalization.gain_q12
    );
    let matrix = TransitionMatrix::from_classes(&maps.class_before, &maps.class_after)?;
    // Ground areas in ha when the grid's CRS allows, else pixel counts.
    let (w, h) = (maps.change.width, maps.change.height);
    let areas = landwatch::geo::PixelArea::of_grid(maps.change.georef.as_ref(), w, h).ok();
    let unit = if areas.is_some() { "ha" } else { "pixels" };
    let mut by_type = [0f64; 256];
    for (i, &c) in maps.change.data.iter().enumerate() {
        by_type[c as usize] += areas
            .as_ref()
            .map_or(1.0, |a| a.at(i / w, i % w) / 10_000.0);
    }
    println!("\nchange by type ({unit}):");
    for code in (0..=255u8).filter(|&c| by_type[c as usize] > 0.0) {
        let area = by_type[code as usize];
        let note = match code {
            UNCHANGED | CHANGE_NODATA => "",
            _ => "  ← to check",
        };
        println!("  {:<30} {:>10.1}{note}", change_name(code), area);
    }
    println!("\nlargest class transitions ({unit}):");
    let scale = if areas.is_some() { 1e-4 } else { 1.0 };
    let mut pairs: Vec<(f64, u8, u8)> = (1..=5u8)
        .flat_map(|b| (1..=5u8).map(move |a| (b, a)))
        .filter(|(b, a)| b != a)
        .map(|(b, a)| (matrix.area(b, a) * scale, b, a))
        .filter(|&(n, _, _)| n > 0.0)
        .collect();
    pairs.sort_unstable_by(|x, y| y.0.total_cmp(&x.0));
    for (n, b, a) in pairs.iter().take(6) {
        let (b, a) = (class_name(*b), class_name(*a));
        println!("  {b:>12} → {a:<12} {n:>10.1}");
    }
    let nodata = maps
        .class_before
        .data
        .iter()
        .filter(|&&c| c == CLASS_NODATA)
        .count();
    println!("\n{nodata} nodata pixels; outputs in {}/", out.display());
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
