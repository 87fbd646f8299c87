//! GPU probing without driver noise on the terminal.
//!
//! Creating a wgpu instance, enumerating adapters and opening a device load the system's
//! Vulkan and GL drivers, and some print to the process's stderr while they do: Mesa, on a
//! headless machine without `XDG_RUNTIME_DIR`, prints `error: XDG_RUNTIME_DIR is invalid or
//! not set in the environment.` on every probe, although nothing is wrong for compute. A
//! library must not write to its caller's terminal, so [`quietly`] points file descriptor 2
//! at an unlinked temporary file for the duration of a probe, puts it back afterwards, and
//! hands what was captured to the `log` facade at debug level (target `landwatch::gpu`).
//!
//! The trade-off: the descriptor belongs to the whole process, so whatever *other* threads
//! write to stderr during the probe window (typically well under a second, once per engine)
//! is captured too: it is not lost, but it reaches the log at debug level instead of the
//! terminal, and a little later. Probes are serialised by a process-wide lock so that two
//! never swap the descriptor under each other. When the window closes by a panic, the
//! captured text (the panic message among it) is written back to the real stderr. Where the
//! descriptor cannot be redirected (no temporary directory, stderr closed) the probe runs
//! as before, uncaptured. On non-unix systems probing is not redirected.

/// Runs `probe` (described by `what`, for the log) with stderr captured; see the module
/// documentation.
pub(crate) fn quietly<T>(what: &str, probe: impl FnOnce() -> T) -> T {
    let (out, captured) = imp::captured(probe);
    match captured {
        Ok(text) => {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                log::debug!(target: "landwatch::gpu", "driver output while {what}: {line}");
            }
        }
        Err(e) => log::debug!(target: "landwatch::gpu", "stderr not captured while {what}: {e}"),
    }
    out
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// One probe at a time owns file descriptor 2.
    static STDERR: Mutex<()> = Mutex::new(());

    /// Runs `probe` with descriptor 2 pointed at a temporary file; returns what it returned
    /// and what was written there, or why nothing could be captured.
    pub(super) fn captured<T>(probe: impl FnOnce() -> T) -> (T, std::io::Result<String>) {
        let _lock = STDERR.lock().unwrap_or_else(|e| e.into_inner());
        match Redirect::start() {
            Ok(redirect) => {
                let out = probe();
                (out, Ok(redirect.finish()))
            }
            Err(e) => (probe(), Err(e)),
        }
    }

    /// Descriptor 2 pointed at `file` until finished (or dropped in a panic); the original
    /// is in `saved` until it is put back.
    struct Redirect {
        saved: Option<OwnedFd>,
        file: File,
    }

    impl Redirect {
        fn start() -> std::io::Result<Redirect> {
            let file = unlinked_temp_file()?;
            // SAFETY: plain descriptor calls; the copy of the real stderr goes above the
            // standard descriptors and is closed on exec.
            let saved = unsafe { libc::fcntl(libc::STDERR_FILENO, libc::F_DUPFD_CLOEXEC, 3) };
            if saved < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `saved` was just created here and is owned by nothing else.
            let saved = unsafe { OwnedFd::from_raw_fd(saved) };
            // SAFETY: both descriptors are open.
            if unsafe { libc::dup2(file.as_raw_fd(), libc::STDERR_FILENO) } < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(Redirect {
                saved: Some(saved),
                file,
            })
        }

        /// Puts the real stderr back on descriptor 2; false when that failed.
        fn restore(&mut self) -> bool {
            match self.saved.take() {
                // SAFETY: both descriptors are open.
                Some(saved) => unsafe { libc::dup2(saved.as_raw_fd(), libc::STDERR_FILENO) >= 0 },
                None => false,
            }
        }

        /// What was written to descriptor 2 in the window.
        fn read(&mut self) -> Vec<u8> {
            let mut captured = Vec::new();
            let _ = self.file.seek(SeekFrom::Start(0));
            let _ = self.file.read_to_end(&mut captured);
            captured
        }

        /// Closes the window and returns what was captured.
        fn finish(mut self) -> String {
            self.restore();
            String::from_utf8_lossy(&self.read()).into_owned()
        }
    }

    impl Drop for Redirect {
        /// Only reached with the window open when the probe panicked: the panic message was
        /// written into the window, so the captured text goes back to the real stderr.
        fn drop(&mut self) {
            if self.saved.is_some() && self.restore() {
                let _ = std::io::stderr().write_all(&self.read());
            }
        }
    }

    /// A read-write file in the temporary directory, already unlinked: it vanishes with
    /// its last descriptor.
    fn unlinked_temp_file() -> std::io::Result<File> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "landwatch-probe-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        std::fs::remove_file(&path)?;
        Ok(file)
    }
}

#[cfg(not(unix))]
mod imp {
    pub(super) fn captured<T>(probe: impl FnOnce() -> T) -> (T, std::io::Result<String>) {
        let unsupported = std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "stderr is captured on unix only",
        );
        (probe(), Err(unsupported))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::imp::captured;

    #[test]
    fn stderr_written_in_the_window_is_captured_and_put_back_after() {
        // Straight to descriptor 2, as a C driver writes.
        let write2 = |s: &str| unsafe { libc::write(2, s.as_ptr().cast(), s.len()) };
        let (n, text) = captured(|| write2("driver: captured\n"));
        assert_eq!(n, 17);
        assert_eq!(text.unwrap(), "driver: captured\n");
        let (_, text) = captured(|| ());
        assert_eq!(text.unwrap(), "");
        // Descriptor 2 is usable again after the window.
        assert_eq!(write2(""), 0);
    }
}
