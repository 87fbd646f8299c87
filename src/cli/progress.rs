//! Progress bars on stderr, one per job stage, drawn only when stderr is a terminal.

use super::Output;
use crate::job::{Job, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;

/// `job` reporting its progress as bars (none with `-q`; indicatif draws nothing when
/// stderr is not a terminal).
pub(super) fn attach(job: Job, output: Output) -> Job {
    if output.quiet {
        return job;
    }
    let bar = Mutex::new((String::new(), ProgressBar::hidden()));
    job.on_progress(move |p: Progress<'_>| {
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
    })
}
