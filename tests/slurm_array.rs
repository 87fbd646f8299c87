//! The sharded job through a real Slurm: `scripts/slurm-check.sh` starts a one-node Slurm
//! on this host (Debian's slurm-wlm and munge, `scripts/slurm-local.sh`), submits the plan's
//! shards as job arrays with `deploy/slurm/submit.sh` (`sbatch --array`, then the merge with
//! `--dependency=afterok`) and compares the merged outputs with `landwatch enforce` on the
//! same inputs and arguments, then checks resubmission, fatal and retryable exit codes and
//! cancellation. Skips, saying why, where Slurm is not installed or this is not root;
//! `LANDWATCH_REQUIRE_SLURM=1` (CI) turns a skip into a failure.

use std::path::Path;
use std::process::Command;

/// Why the check cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    let have = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    for tool in ["sbatch", "slurmctld", "slurmd", "munged"] {
        if !have(tool) {
            return Some(format!(
                "{tool} is not installed (scripts/slurm-local.sh installs it)"
            ));
        }
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    (String::from_utf8_lossy(&uid.stdout).trim() != "0")
        .then(|| "starting slurmctld and slurmd needs root".to_string())
}

#[test]
fn shards_through_a_real_slurm_merge_to_enforce() {
    if let Some(why) = unavailable() {
        assert!(
            std::env::var_os("LANDWATCH_REQUIRE_SLURM").is_none(),
            "LANDWATCH_REQUIRE_SLURM is set, but {why}"
        );
        eprintln!("skipped: {why}");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(repo.join("scripts/slurm-check.sh"))
        .env("LANDWATCH", env!("CARGO_BIN_EXE_landwatch"))
        .current_dir(repo)
        .output()
        .expect("scripts/slurm-check.sh runs");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "slurm-check.sh failed:\n{log}");
    assert!(
        log.contains("the merged outputs equal landwatch enforce's"),
        "{log}"
    );
    eprintln!("{log}");
}
