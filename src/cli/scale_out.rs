//! `landwatch plan`, `landwatch shard` and `landwatch merge`: the enforcement job cut into
//! shards for Slurm job arrays and Kubernetes Indexed Jobs, and joined again (see
//! [`crate::job::Manifest`] and `docs/SCALE-OUT.md`).

use super::enforce::{EnforceArgs, print_report, source_date_epoch};
use super::{Cli, Command, Failure, Outcome, Output, progress, signals};
use crate::backend::{Backend, Engine};
use crate::job::{Job, Manifest, ShardCount, ShardOutcome};
use clap::{Args, Parser};

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variables a batch engine gives an array task its index in.
const INDEX_VARIABLES: [&str; 2] = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

/// The options of `landwatch plan`: those of `enforce`, and how to cut the job.
#[derive(Debug, Args)]
pub(super) struct PlanArgs {
    /// The job, as `landwatch enforce` takes it (--out is where the manifest, the shards
    /// and the merged outputs go).
    #[command(flatten)]
    enforce: EnforceArgs,
    /// Cut the scene into about this many shards of equal rows (fewer for a scene with
    /// fewer strips).
    #[arg(long, value_name = "N", conflicts_with = "shard_rows", required_unless_present = "shard_rows", value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
    /// Cut the scene into shards of about this many rows (whole strips).
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u32).range(1..))]
    shard_rows: Option<u32>,
}

/// The options of `landwatch shard`.
#[derive(Debug, Args)]
pub(super) struct ShardArgs {
    /// The manifest `landwatch plan` wrote (OUT/manifest.json).
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// The shard to run, from 0. Default: the array task's index, from SLURM_ARRAY_TASK_ID
    /// (Slurm) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(long, value_name = "I")]
    index: Option<usize>,
    /// Added to the index: for a plan split over several arrays (Slurm's MaxArraySize).
    #[arg(long, value_name = "K", default_value_t = 0)]
    index_offset: usize,
    /// auto (a real GPU when there is one, else the CPU), cpu or gpu.
    #[arg(long, value_name = "auto|cpu|gpu", default_value = "auto")]
    backend: Backend,
}

/// The options of `landwatch merge`.
#[derive(Debug, Args)]
pub(super) struct MergeArgs {
    /// The manifest `landwatch plan` wrote (OUT/manifest.json).
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// auto (a real GPU when there is one and it is faster, else the CPU), cpu or gpu.
    #[arg(long, value_name = "auto|cpu|gpu", default_value = "auto")]
    backend: Backend,
}

/// `landwatch plan`: writes OUT/manifest.json and prints the number of shards, alone on
/// stdout, for the script that submits the array.
pub(super) fn plan(args: PlanArgs, arguments: Vec<OsString>, output: Output) -> Outcome {
    let count = match (args.shards, args.shard_rows) {
        (Some(n), _) => ShardCount::Shards(n as usize),
        (None, Some(rows)) => ShardCount::Rows(rows as usize),
        (None, None) => return Err(Failure::usage("--shards or --shard-rows is required")),
    };
    let arguments = arguments
        .into_iter()
        .map(|a| {
            a.into_string().map_err(|a| {
                Failure::usage(format!(
                    "plan: the argument {a:?} is not UTF-8, which the manifest stores"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let backend = args.enforce.backend();
    let (mut job, out) = args.enforce.explicit_job("plan")?;
    if let Some(time) = source_date_epoch()? {
        job = job.timestamp(time);
    }
    let job = progress::attach(job, output);
    let manifest = job.plan_shards(&Engine::new(backend), &out, count, arguments)?;
    output.note(format_args!(
        "{}: {} shards of {}×{} ({} rows a strip); run `landwatch shard --manifest {}` for \
         each index 0 to {}, then `landwatch merge --manifest {}`",
        manifest.location.display(),
        manifest.shards.len(),
        manifest.width,
        manifest.height,
        manifest.strip_rows,
        manifest.location.display(),
        manifest.shards.len() - 1,
        manifest.location.display(),
    ));
    println!("{}", manifest.shards.len());
    Ok(())
}

/// `landwatch shard`: runs one shard of a manifest.
pub(super) fn shard(args: ShardArgs, output: Output) -> Outcome {
    let index = shard_index(args.index)? + args.index_offset;
    let (manifest, job) = planned_job(&args.manifest)?;
    let job = job.cancel_when(signals::cancel_on_interrupt());
    let job = progress::attach(job, output);
    let outcome = job
        .run_shard(&Engine::new(args.backend), &manifest, index)
        .map_err(cancelled("the shard was not published"))?;
    let record = outcome.record();
    match &outcome {
        ShardOutcome::Written { execution, .. } => {
            let device = execution
                .as_ref()
                .map_or("no valid pixel".to_string(), |e| e.device.to_string());
            output.line(format_args!(
                "shard {} ({}) written: rows {}..{}, {} changed pixels; computed on {device}",
                record.index, record.id, record.rows[0], record.rows[1], record.changed_pixels
            ));
        }
        _ => output.line(format_args!(
            "shard {} ({}) was already complete",
            record.index, record.id
        )),
    }
    Ok(())
}

/// `landwatch merge`: joins the shards of a manifest into the outputs of `enforce`.
pub(super) fn merge(args: MergeArgs, output: Output) -> Outcome {
    let (manifest, job) = planned_job(&args.manifest)?;
    let job = job.cancel_when(signals::cancel_on_interrupt());
    let job = progress::attach(job, output);
    let report = job
        .merge_shards(&Engine::new(args.backend), &manifest)
        .map_err(cancelled("nothing was published"))?;
    print_report(&report, manifest.out_dir(), output);
    Ok(())
}

/// The manifest at `path` and the job it was planned for, rebuilt from the plan's
/// arguments in the folder the plan ran in.
fn planned_job(path: &Path) -> Result<(Manifest, Job), Failure> {
    let manifest = Manifest::read(path)?;
    std::env::set_current_dir(&manifest.working_dir).map_err(|source| crate::Error::Io {
        path: manifest.working_dir.clone(),
        source,
    })?;
    let argv = ["landwatch", "plan"]
        .into_iter()
        .map(String::from)
        .chain(manifest.job_arguments.iter().cloned());
    let refuse = |reason: String| {
        Failure::from(crate::Error::Manifest {
            path: manifest.location.clone(),
            reason,
        })
    };
    let cli = Cli::try_parse_from(argv)
        .map_err(|e| refuse(format!("its job arguments do not parse: {e}")))?;
    let Command::Plan(args) = cli.command else {
        return Err(refuse("its job arguments are not a plan's".into()));
    };
    let (job, _) = args.enforce.explicit_job("plan")?;
    Ok((manifest, job))
}

/// The shard index: `--index`, or the array task's index from the batch engine.
fn shard_index(given: Option<usize>) -> Result<usize, Failure> {
    if let Some(i) = given {
        return Ok(i);
    }
    for name in INDEX_VARIABLES {
        if let Ok(value) = std::env::var(name) {
            return value
                .trim()
                .parse()
                .map_err(|_| Failure::usage(format!("{name}='{value}' is not a shard index")));
        }
    }
    Err(Failure::usage(format!(
        "no shard index: give --index, or run as an array task ({})",
        INDEX_VARIABLES.join(" or ")
    )))
}

/// Maps a cancelled run to exit code 130 with `what` happened to the outputs.
fn cancelled(what: &'static str) -> impl Fn(crate::Error) -> Failure {
    move |e| match e {
        crate::Error::Cancelled => Failure {
            message: format!("cancelled: {what}"),
            code: 130,
        },
        e => e.into(),
    }
}
