//! GPU probing writes nothing to stderr: what drivers print while they are probed (Mesa, on a
//! headless machine without `XDG_RUNTIME_DIR`, complains on every probe) goes to the `log`
//! facade at debug level instead. The probe runs in a child process (this test binary run
//! again) with `XDG_RUNTIME_DIR` unset, so that its real stderr can be read.

use landwatch::backend::gpu::list_adapters;
use landwatch::{Backend, Engine};
use std::process::Command;
use std::sync::Mutex;

/// Set in the child: probe, and print the log records on stdout.
const CHILD: &str = "LANDWATCH_QUIET_PROBE_CHILD";

/// landwatch's log records, as `LEVEL target: message`.
struct Recorder(Mutex<Vec<String>>);

impl log::Log for Recorder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("landwatch")
    }
    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

static RECORDER: Recorder = Recorder(Mutex::new(Vec::new()));

#[test]
fn probing_the_gpu_prints_nothing_on_stderr() {
    if std::env::var_os(CHILD).is_some() {
        log::set_logger(&RECORDER).unwrap();
        log::set_max_level(log::LevelFilter::Debug);
        let adapters = list_adapters();
        for backend in [Backend::Auto, Backend::Gpu] {
            let engine = Engine::new(backend);
            println!("{backend:?}: {:?}", engine.gpu_adapter().map(|a| &a.name));
        }
        println!("{} adapter(s)", adapters.len());
        for line in RECORDER.0.lock().unwrap().iter() {
            println!("log: {line}");
        }
        return;
    }
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "probing_the_gpu_prints_nothing_on_stderr",
            "--nocapture",
            "--quiet",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    let stderr = String::from_utf8_lossy(&child.stderr);
    eprintln!("the child's stdout:\n{stdout}");
    assert!(child.status.success(), "the child failed: {stderr}");
    assert_eq!(stderr, "", "GPU probing wrote to stderr");
    // The probes and the backend choices are logged.
    if cfg!(feature = "gpu") {
        assert!(stdout.contains("GPU adapter(s) found"), "{stdout}");
    }
    assert!(stdout.contains("Auto backend: running on"), "{stdout}");
    assert!(stdout.contains("Gpu backend: running on"), "{stdout}");
}
