//! Signals: a closed stdout ends the process quietly, and Ctrl-C or SIGTERM stops a run
//! cleanly.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Restores the default disposition of SIGPIPE, so that `landwatch … | head` ends quietly as
/// other tools do instead of panicking in `println!`.
pub(super) fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition, before any thread of ours starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// A flag raised by the first Ctrl-C or SIGTERM: the job stops at its next strip, removes its
/// staging folder and publishes nothing. A second signal removes the files being written and
/// ends the process at once with 130 (the next run cleans up what is left).
pub(super) fn cancel_on_interrupt() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let handler = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            crate::io::remove_in_flight();
            std::process::exit(130);
        }
        eprintln!("interrupted: stopping; nothing will be published");
    });
    if let Err(e) = handler {
        eprintln!("warning: Ctrl-C will not clean up ({e})");
    }
    cancel
}

/// Ctrl-C or SIGTERM during a single-file write: the half-written output is removed and the
/// process ends with 130.
pub(super) fn remove_output_on_interrupt() {
    if let Err(e) = ctrlc::set_handler(|| {
        crate::io::remove_in_flight();
        eprintln!("interrupted: the output was not written");
        std::process::exit(130);
    }) {
        eprintln!("warning: Ctrl-C will not clean up ({e})");
    }
}
