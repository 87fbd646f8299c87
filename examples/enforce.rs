//! The enforcement job: two dates in, typed change patches checked against protected zones,
//! per-county totals with the farmland-share warning, and every file an office hands out.
//! The same code as `landwatch enforce` (`src/cli/enforce.rs`), over [`landwatch::job::Job`].
//!
//! With no arguments it runs on the bundled Landsat 7 pair of Taizhou with illustrative zones
//! and counties (`data/landsat_taizhou/illustrative`, not official boundaries), written to
//! `out/enforce`. `cargo run --release --example enforce -- --help` lists the options.

fn main() -> std::process::ExitCode {
    landwatch::cli::main_as("enforce")
}
