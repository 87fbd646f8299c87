//! `landwatch change`: land cover and enforcement change codes between two dates of real
//! imagery, written as georeferenced GeoTIFFs and PNG maps, with a summary of areas.

use super::{Outcome, Output, demo, parse};
use crate::backend::{Backend, Engine};
use crate::change::{
    CHANGE_NODATA, CHANGE_PALETTE, ChangeMethod, ChangeOptions, TransitionMatrix, UNCHANGED,
    change_name,
};
use crate::classify::{CLASS_NODATA, CLASS_PALETTE, class_name};
use crate::index::SpectralIndex;
use crate::io::png::class_map_png;
use crate::io::{ReadLimits, read_geotiff, write_geotiff, write_geotiff_with};
use crate::job::{CHANGE_TIFF, CLASS_TIFF};
use crate::raster::BandStack;
use crate::sensor::{BandRole, Sensor};
use crate::{Error, Result};
use clap::Args;
use std::path::{Path, PathBuf};

/// The options of `landwatch change`.
#[derive(Debug, Args)]
#[command(after_long_help = OUTPUTS)]
pub(super) struct ChangeArgs {
    /// The first date (default: the bundled Taizhou pair).
    #[arg(long, value_name = "T1.tif", requires = "after")]
    before: Option<PathBuf>,
    /// The second date, on the same grid.
    #[arg(long, value_name = "T2.tif", requires = "before")]
    after: Option<PathBuf>,
    /// Sensor preset: sentinel2-l1c, sentinel2-l2a, landsat89-c2l2, landsat-dn, gf-4band.
    #[arg(long, value_name = "NAME", value_parser = parse::sensor, default_value = "landsat-dn")]
    sensor: Sensor,
    /// Band order of the stacks as roles; default: the sensor's.
    #[arg(long, value_name = "ROLE,ROLE,...", value_parser = parse::bands)]
    bands: Option<Vec<BandRole>>,
    /// combined (default), cva, postclass, dndvi, dbsi, dndbi, contextual.
    #[arg(long, value_name = "NAME", default_value = "combined")]
    method: ChangeMethod,
    /// auto, cpu or gpu.
    #[arg(long, value_name = "auto|cpu|gpu", default_value = "auto")]
    backend: Backend,
    /// The output folder.
    #[arg(long, value_name = "DIR", default_value = "out/change")]
    out: PathBuf,
}

const OUTPUTS: &str = "Writes into DIR: class_before.tif, class_after.tif, change.tif (each \
with a colour table, overviews, its category names in NAME.tif.aux.xml and a QGIS style in \
NAME.qml), magnitude.tif, \
ndvi_before.tif, ndvi_after.tif, class_before.png, class_after.png, change.png.";

/// Detects change and writes the maps.
pub(super) fn run(mut args: ChangeArgs, output: Output) -> Outcome {
    if args.before.is_none() {
        let (before, after) = demo::dates()?;
        (args.before, args.after) = (Some(before), Some(after));
    }
    compute(&args, output)?;
    Ok(())
}

fn load(path: &Path, args: &ChangeArgs) -> Result<BandStack> {
    let roles = args.bands.as_ref().unwrap_or(&args.sensor.bands);
    let mut stack = read_geotiff(path, &ReadLimits::default())?.into_stack(roles)?;
    stack.set_radiometry(args.sensor.radiometry)?;
    Ok(stack)
}

fn compute(args: &ChangeArgs, output: Output) -> Result<()> {
    let engine = Engine::new(args.backend);
    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.clone(),
        source,
    })?;
    let (Some(t1), Some(t2)) = (&args.before, &args.after) else {
        unreachable!("run sets both dates")
    };
    let (before, after) = (load(t1, args)?, load(t2, args)?);
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
    // Styled as the enforcement job's: colour tables, category names, overviews.
    write_geotiff_with(
        out.join("class_before.tif"),
        &maps.class_before,
        &CLASS_TIFF,
    )?;
    write_geotiff_with(out.join("class_after.tif"), &maps.class_after, &CLASS_TIFF)?;
    write_geotiff_with(out.join("change.tif"), &maps.change, &CHANGE_TIFF)?;
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

    output.line(format_args!(
        "{} → {} ({}×{}), computed on {}",
        t1.display(),
        t2.display(),
        before.width(),
        before.height(),
        run.execution.device
    ));
    if let Some(why) = &run.execution.fallback {
        output.line(format_args!("the GPU was not used: {why}"));
    }
    output.line(format_args!(
        "method {:?}, threshold {} (noise level {:.1}), normalization gains {:?} (Q12)",
        args.method, maps.threshold, maps.relation.noise, maps.relation.normalization.gain_q12
    ));
    print_areas(maps, output)?;
    let nodata = maps
        .class_before
        .data
        .iter()
        .filter(|&&c| c == CLASS_NODATA)
        .count();
    output.line(format_args!(
        "\n{nodata} nodata pixels; outputs in {}/",
        out.display()
    ));
    Ok(())
}

/// Areas by change type and the largest class transitions, in ha when the grid's CRS allows,
/// else in pixels.
fn print_areas(maps: &crate::change::ChangeMaps, output: Output) -> Result<()> {
    let matrix = TransitionMatrix::from_classes(&maps.class_before, &maps.class_after)?;
    // Ground areas in ha when the grid's CRS allows, else pixel counts.
    let (w, h) = (maps.change.width, maps.change.height);
    let areas = crate::geo::PixelArea::of_grid(maps.change.georef.as_ref(), w, h).ok();
    let unit = if areas.is_some() { "ha" } else { "pixels" };
    let mut by_type = [0f64; 256];
    for (i, &c) in maps.change.data.iter().enumerate() {
        by_type[c as usize] += areas
            .as_ref()
            .map_or(1.0, |a| a.at(i / w, i % w) / 10_000.0);
    }
    output.line(format_args!("\nchange by type ({unit}):"));
    for code in (0..=255u8).filter(|&c| by_type[c as usize] > 0.0) {
        let area = by_type[code as usize];
        let note = match code {
            UNCHANGED | CHANGE_NODATA => "",
            _ => "  ← to check",
        };
        output.line(format_args!(
            "  {:<30} {:>10.1}{note}",
            change_name(code),
            area
        ));
    }
    output.line(format_args!("\nlargest class transitions ({unit}):"));
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
        output.line(format_args!("  {b:>12} → {a:<12} {n:>10.1}"));
    }
    Ok(())
}
