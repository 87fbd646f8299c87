//! `landwatch index`: any spectral index of a GeoTIFF stack, as a georeferenced f32 GeoTIFF
//! on the input grid with nodata −9999.

use super::{Failure, Outcome, Output, parse, signals};
use crate::backend::{Backend, Engine};
use crate::formula::Formula;
use crate::io::{ReadLimits, read_geotiff, write_geotiff};
use crate::pixel::INDEX_NODATA;
use crate::sensor::{BandRole, Sensor};
use crate::{Error, Result};
use clap::Args;
use std::path::PathBuf;

/// The options of `landwatch index`.
#[derive(Debug, Args)]
#[command(after_long_help = FORMULAS)]
pub(super) struct IndexArgs {
    /// The GeoTIFF stack.
    #[arg(long, value_name = "STACK.tif")]
    input: PathBuf,
    /// The output GeoTIFF.
    #[arg(long, value_name = "OUT.tif")]
    out: PathBuf,
    /// A short name of the Awesome Spectral Indices catalogue (NDVI, EVI, SAVI, ...).
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "formula",
        required_unless_present = "formula"
    )]
    name: Option<String>,
    /// An expression over B, G, R, N, S1, S2 (see below).
    #[arg(long, value_name = "EXPRESSION")]
    formula: Option<String>,
    /// Overrides a named constant, repeatable: NAME=VALUE (e.g. L=0.25).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse::named_number)]
    sets: Vec<(String, f64)>,
    /// Sensor preset: sentinel2-l1c, sentinel2-l2a, landsat89-c2l2, landsat-dn, gf-4band,
    /// generic (identity radiometry, order blue,green,red,nir,swir1,swir2).
    #[arg(long, value_name = "NAME", value_parser = parse::sensor, default_value = "generic")]
    sensor: Sensor,
    /// Band order of the stack as roles; default: the sensor's.
    #[arg(long, value_name = "ROLE,ROLE,...", value_parser = parse::bands)]
    bands: Option<Vec<BandRole>>,
    /// auto, cpu or gpu.
    #[arg(long, value_name = "auto|cpu|gpu", default_value = "auto")]
    backend: Backend,
}

const FORMULAS: &str = "A formula is an expression over B, G, R, N, S1, S2 (blue, green, red, \
NIR, SWIR 1, SWIR 2; reflectance), numbers, named constants (L, g, C1, ...), + - * / ** ^, sqrt \
abs min max exp log clamp, and where(condition, a, b) with < <= > >= == !=.";

impl IndexArgs {
    fn formula(&self) -> std::result::Result<Formula, Failure> {
        fn usage(e: impl std::fmt::Display) -> Failure {
            Failure::usage(format!("error: {e}"))
        }
        let mut formula = match (&self.name, &self.formula) {
            (Some(name), _) => Formula::catalogue(name).map_err(usage)?,
            (None, Some(text)) => Formula::parse(text).map_err(usage)?,
            (None, None) => return Err(Failure::usage("give --name or --formula")),
        };
        for (name, v) in &self.sets {
            formula = formula.with_constant(name, *v).map_err(usage)?;
        }
        Ok(formula)
    }
}

/// Computes the index and writes it.
pub(super) fn run(args: IndexArgs, output: Output) -> Outcome {
    let formula = args.formula()?;
    signals::remove_output_on_interrupt();
    let line = compute(&args, &formula)?;
    output.line(line);
    Ok(())
}

fn compute(args: &IndexArgs, formula: &Formula) -> Result<String> {
    if crate::io::same_file(&args.input, &args.out) {
        return Err(Error::OutputIsInput {
            output: args.out.clone(),
            input: args.input.clone(),
        });
    }
    let image = read_geotiff(&args.input, &ReadLimits::default())?;
    let roles = args.bands.as_ref().unwrap_or(&args.sensor.bands);
    let mut stack = image.into_stack(roles)?;
    stack.set_radiometry(args.sensor.radiometry)?;
    let engine = Engine::new(args.backend);
    let computed = engine.formula(&stack, formula)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_geotiff(&args.out, &computed.output)?;
    let valid = (computed.output.data.iter())
        .filter(|&&v| v != INDEX_NODATA)
        .count();
    let fallback = (computed.execution.fallback.as_ref())
        .map(|f| format!(" (GPU not used: {f})"))
        .unwrap_or_default();
    Ok(format!(
        "{} = {} on {} ({}×{}): {valid} valid pixels, computed on {}{fallback}; written to {}",
        formula.name().unwrap_or("formula"),
        formula.text(),
        args.input.display(),
        stack.width(),
        stack.height(),
        computed.execution.device,
        args.out.display()
    ))
}
