//! Any spectral index on a GeoTIFF stack: a catalogue index by short name or a formula.
//!
//! The result is a georeferenced f32 GeoTIFF on the input grid, with nodata −9999.
//!
//! ```text
//! cargo run --release --example index -- --input STACK.tif [--sensor NAME] [--bands ROLE,...] \
//!     (--name NDVI | --formula "(N - R)/(N + R)") [--set NAME=VALUE]... \
//!     [--backend auto|cpu|gpu] --out OUT.tif
//! ```

use landwatch::formula::Formula;
use landwatch::io::{ReadLimits, read_geotiff, write_geotiff};
use landwatch::{Backend, BandRole, Engine, GpuOptions, INDEX_NODATA, Sensor};
use std::path::PathBuf;
use std::process::ExitCode;

const HELP: &str = "index: any spectral index of a GeoTIFF stack, written as a GeoTIFF

usage: index --input STACK.tif [--sensor NAME] [--bands ROLE,...]
             (--name NDVI | --formula \"(N - R)/(N + R)\") [--set NAME=VALUE]...
             [--backend auto|cpu|gpu] --out OUT.tif

--name takes a short name of the Awesome Spectral Indices catalogue (NDVI, EVI, SAVI, ...).
--formula takes an expression over B, G, R, N, S1, S2 (blue, green, red, NIR, SWIR 1, SWIR 2),
  numbers, named constants (L, g, C1, ...), + - * / ** ^, sqrt abs min max exp log clamp,
  and where(condition, a, b) with < <= > >= == !=. Bands are reflectance.
--set overrides a named constant, e.g. --set L=0.25.
Sensors: sentinel2-l1c, sentinel2-l2a, landsat89-c2l2, landsat-dn, gf-4band, generic
  (default generic: identity radiometry, order blue,green,red,nir,swir1,swir2).";

struct Args {
    input: PathBuf,
    sensor: Sensor,
    bands: Option<Vec<BandRole>>,
    formula: Formula,
    backend: Backend,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut input = None;
    let mut out = None;
    let mut sensor = Sensor::preset("generic").map_err(|e| e.to_string())?;
    let mut bands = None;
    let mut formula: Option<Formula> = None;
    let mut sets: Vec<(String, f64)> = Vec::new();
    let mut backend = Backend::Auto;
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
            "--input" => input = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--sensor" => sensor = Sensor::preset(&value).map_err(|e| e.to_string())?,
            "--bands" => bands = Some(BandRole::parse_list(&value).map_err(|e| e.to_string())?),
            "--name" => formula = Some(Formula::catalogue(&value).map_err(|e| e.to_string())?),
            "--formula" => formula = Some(Formula::parse(&value).map_err(|e| e.to_string())?),
            "--set" => {
                let (name, v) = value
                    .split_once('=')
                    .ok_or_else(|| format!("--set takes NAME=VALUE, got {value}"))?;
                let v: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("--set {name}: '{v}' is not a number"))?;
                sets.push((name.trim().to_string(), v));
            }
            "--backend" => backend = value.parse().map_err(|e: landwatch::Error| e.to_string())?,
            _ => return Err(format!("unknown option {flag}\n\n{HELP}")),
        }
    }
    let mut formula = formula.ok_or_else(|| format!("give --name or --formula\n\n{HELP}"))?;
    for (name, v) in sets {
        formula = formula.with_constant(&name, v).map_err(|e| e.to_string())?;
    }
    Ok(Args {
        input: input.ok_or_else(|| format!("--input is required\n\n{HELP}"))?,
        out: out.ok_or_else(|| format!("--out is required\n\n{HELP}"))?,
        sensor,
        bands,
        formula,
        backend,
    })
}

fn run(args: &Args) -> landwatch::Result<()> {
    if landwatch::io::same_file(&args.input, &args.out) {
        return Err(landwatch::Error::OutputIsInput {
            output: args.out.clone(),
            input: args.input.clone(),
        });
    }
    let image = read_geotiff(&args.input, &ReadLimits::default())?;
    let roles = args
        .bands
        .clone()
        .unwrap_or_else(|| args.sensor.bands.clone());
    let mut stack = image.into_stack(&roles)?;
    stack.set_radiometry(args.sensor.radiometry)?;
    let engine = Engine::with_options(args.backend, &GpuOptions::default());
    let computed = engine.formula(&stack, &args.formula)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| landwatch::Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_geotiff(&args.out, &computed.output)?;
    let valid = computed
        .output
        .data
        .iter()
        .filter(|&&v| v != INDEX_NODATA)
        .count();
    println!(
        "{} = {} on {} ({}×{}): {valid} valid pixels, computed on {}{}; written to {}",
        args.formula.name().unwrap_or("formula"),
        args.formula.text(),
        args.input.display(),
        stack.width(),
        stack.height(),
        computed.execution.device,
        computed
            .execution
            .fallback
            .as_ref()
            .map(|f| format!(" (GPU not used: {f})"))
            .unwrap_or_default(),
        args.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    // A closed stdout (`index … | head`) ends the process quietly, as for other tools,
    // instead of a panic in println!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Ctrl-C or SIGTERM: the half-written output is removed before the process ends.
    if let Err(e) = ctrlc::set_handler(|| {
        landwatch::io::remove_in_flight();
        eprintln!("interrupted: the output was not written");
        std::process::exit(130);
    }) {
        eprintln!("warning: Ctrl-C will not clean up ({e})");
    }
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
