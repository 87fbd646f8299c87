//! The `landwatch` command (feature `cli`): subcommands `enforce`, `index` and `change`,
//! shared by the binary (`src/bin/landwatch.rs`) and the examples of the same names.
//!
//! Conventions: GNU options (`--out DIR` or `--out=DIR`), `--help` per subcommand,
//! `--version`, `-q` for no output but errors, `-v`/`-vv` for what the library logs (which
//! backend was probed and chosen, driver messages), progress bars on stderr when it is a
//! terminal. Exit codes are [`EXIT_CODES`].

mod change;
mod demo;
mod enforce;
mod index;
mod logger;
mod progress;
mod scale_out;
mod signals;

use crate::error::Error;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The exit codes, as `--help` states them.
pub const EXIT_CODES: &str =
    "Exit codes (a batch engine retries 74, 75, 130 and 137, never 1 or 2):
  0    done (for shard: also when the shard was complete already)
  2    bad input or arguments: nothing was written (the message names the file or option);
       fatal, a retry gives the same
  1    an internal error (a bug or a device error); fatal
  74   an I/O failure while reading or writing (disk full, a network file system); retry
  75   temporarily unable: the output folder is busy with another landwatch run, or (merge)
       some shards have not completed (they are named); retry later
  130  interrupted (Ctrl-C or SIGTERM, as on preemption): nothing was published; retry
  137  (from the system, not landwatch) killed by SIGKILL, typically the out-of-memory
       killer; retry, perhaps with more memory";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "landwatch",
    version,
    about = "Land-use enforcement from two dates of satellite imagery: spectral indices, land \
             cover, typed change patches (图斑), protected-zone and county overlay.",
    after_help = EXIT_CODES,
    propagate_version = true
)]
struct Cli {
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Show what the library logs: -v which backend was probed and chosen, -vv also driver
    /// messages and details.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The enforcement job: typed change patches, zones, county totals, GIS files.
    ///
    /// Change patches checked against protected zones, per-county totals with the farmland
    /// warning, and every file a GIS desk opens. With no options, the bundled Taizhou demo.
    #[command(after_help = EXIT_CODES)]
    Enforce(enforce::EnforceArgs),
    /// Any spectral index of a GeoTIFF stack (catalogue name or formula), as a GeoTIFF.
    ///
    /// A georeferenced f32 GeoTIFF on the input grid, nodata −9999.
    #[command(after_help = EXIT_CODES)]
    Index(index::IndexArgs),
    /// Land cover and change codes between two dates, as GeoTIFFs and PNG maps.
    ///
    /// With areas by change type and the largest class transitions. With no options, the
    /// bundled Taizhou demo.
    #[command(after_help = EXIT_CODES)]
    Change(change::ChangeArgs),
    /// Plans the enforcement job in shards for a batch engine: writes OUT/manifest.json.
    ///
    /// Takes the options of `enforce` and --shards N or --shard-rows R; checks everything
    /// `enforce` checks before work, fixes the date relation and the threshold on the
    /// whole scene's sample for every shard, and prints the number of shards alone on
    /// stdout. Then run `landwatch shard` for each index and `landwatch merge`
    /// (deploy/slurm, deploy/k8s).
    #[command(after_help = EXIT_CODES)]
    Plan(scale_out::PlanArgs),
    /// Runs one shard of a plan into OUT/shards/<id>/ (atomically, with checksums).
    ///
    /// The index is --index, or the array task's (SLURM_ARRAY_TASK_ID, or Kubernetes'
    /// JOB_COMPLETION_INDEX), plus --index-offset. A shard run twice, at once or after a
    /// crash, writes the same files; a complete one exits 0 at once.
    #[command(after_help = EXIT_CODES)]
    Shard(scale_out::ShardArgs),
    /// Joins the shards of a plan into the outputs of `enforce`, in OUT.
    ///
    /// The same files as `landwatch enforce` on the same inputs and options; exits 75
    /// naming the shards that have not completed.
    #[command(after_help = EXIT_CODES)]
    Merge(scale_out::MergeArgs),
}

/// What a subcommand's run gives back: done, or the error and the exit code it maps to.
type Outcome = Result<(), Failure>;

/// A run that did not finish, with its exit code.
#[derive(Debug)]
struct Failure {
    message: String,
    code: u8,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let code = match &e {
            Error::Cancelled => 130,
            Error::OutputBusy { .. } | Error::ShardsIncomplete { .. } => 75,
            e if e.is_bad_input() => 2,
            Error::Io { .. } => 74,
            _ => 1,
        };
        Failure {
            message: format!("error: {e}"),
            code,
        }
    }
}

impl Failure {
    /// Bad arguments: exit code 2.
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

/// Runs the `landwatch` command on the process's arguments.
pub fn main() -> ExitCode {
    run(std::env::args_os())
}

/// Runs one subcommand as an example program: `cargo run --example enforce -- ARGS` is
/// `landwatch enforce ARGS`.
pub fn main_as(subcommand: &str) -> ExitCode {
    let args = std::env::args_os().skip(1);
    run(["landwatch".into(), subcommand.into()]
        .into_iter()
        .chain(args))
}

fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    signals::default_sigpipe();
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; clap prints them and says so.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    logger::init(cli.verbose, cli.quiet);
    let output = Output { quiet: cli.quiet };
    let outcome = match cli.command {
        Command::Enforce(args) => enforce::run(args, output),
        Command::Index(args) => index::run(args, output),
        Command::Change(args) => change::run(args, output),
        Command::Plan(plan) => {
            // The plan's own arguments, stored in the manifest for the shards.
            let after = args
                .iter()
                .skip(1)
                .position(|a| a == "plan")
                .map_or(0, |i| i + 2);
            scale_out::plan(plan, args[after..].to_vec(), output)
        }
        Command::Shard(args) => scale_out::shard(args, output),
        Command::Merge(args) => scale_out::merge(args, output),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// Where a subcommand's report goes: stdout, unless `-q`.
#[derive(Debug, Clone, Copy)]
struct Output {
    quiet: bool,
}

impl Output {
    /// Prints a line of the report.
    fn line(self, text: impl std::fmt::Display) {
        if !self.quiet {
            println!("{text}");
        }
    }

    /// Prints a line for people on stderr, where stdout is for programs.
    fn note(self, text: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Prints a warning on stderr.
    fn warn(self, text: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("warning: {text}");
        }
    }
}

/// clap value parsers for landwatch's own types.
mod parse {
    use crate::sensor::{BandRole, Sensor};
    use std::path::PathBuf;

    /// A sensor preset by name.
    pub fn sensor(s: &str) -> Result<Sensor, String> {
        Sensor::preset(s).map_err(|e| e.to_string())
    }

    /// A comma-separated list of band roles.
    pub fn bands(s: &str) -> Result<Vec<BandRole>, String> {
        BandRole::parse_list(s).map_err(|e| e.to_string())
    }

    /// A finite number.
    pub fn finite(s: &str) -> Result<f64, String> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("'{s}' is not a finite number"))
    }

    /// `NAME=FILE`.
    pub fn named_file(s: &str) -> Result<(String, PathBuf), String> {
        let (name, file) = s
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=FILE, got '{s}'"))?;
        Ok((name.trim().to_string(), PathBuf::from(file)))
    }

    /// `NAME=VALUE` with a finite number.
    pub fn named_number(s: &str) -> Result<(String, f64), String> {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=VALUE, got '{s}'"))?;
        Ok((name.trim().to_string(), finite(value)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn gnu_options_and_version_parse() {
        let cli = Cli::try_parse_from([
            "landwatch",
            "-q",
            "enforce",
            "--before=a.tif",
            "--after",
            "b.tif",
            "--out=o",
        ])
        .unwrap();
        assert!(cli.quiet);
        let Command::Enforce(args) = cli.command else {
            panic!("enforce expected");
        };
        assert_eq!(args.before.as_deref(), Some(std::path::Path::new("a.tif")));
        let version = Cli::try_parse_from(["landwatch", "--version"]).unwrap_err();
        assert_eq!(version.kind(), clap::error::ErrorKind::DisplayVersion);
        let missing = Cli::try_parse_from(["landwatch", "index", "--input"]).unwrap_err();
        assert!(missing.use_stderr());
    }

    #[test]
    fn bad_input_exits_2_io_74_and_a_busy_folder_75() {
        let bad: Failure = Error::UnknownName {
            kind: "sensor",
            name: "x".into(),
            known: "y".into(),
        }
        .into();
        assert_eq!(bad.code, 2);
        let busy: Failure = Error::OutputBusy { path: "o".into() }.into();
        assert_eq!(busy.code, 75);
        let disk_full: Failure = Error::Io {
            path: "o".into(),
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        }
        .into();
        assert_eq!(disk_full.code, 74);
        let incomplete: Failure = Error::ShardsIncomplete {
            manifest: "m".into(),
            shards: vec!["0 (s00000-r0-8): no completion record".into()],
        }
        .into();
        assert_eq!(incomplete.code, 75);
    }
}
