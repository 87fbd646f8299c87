//! The `log` facade's output for the command line: what the library logs (backend probing
//! and choice, driver messages, fallbacks), on stderr, at the level `-v` asks for.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Warnings by default, `-v` info, `-vv` debug, `-vvv` trace; nothing with `-q`.
pub(super) fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::Off,
        (false, 0) => LevelFilter::Warn,
        (false, 1) => LevelFilter::Info,
        (false, 2) => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    };
    // A second init (an embedding program's own logger) keeps the first.
    if log::set_logger(&STDERR).is_ok() {
        log::set_max_level(level);
    }
}

struct Stderr;

static STDERR: Stderr = Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug => "debug",
                Level::Trace => "trace",
            };
            eprintln!("{level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}
