//! Land cover and enforcement change types between two dates of real imagery, written as
//! georeferenced GeoTIFFs and PNG maps, with a summary of areas. The same code as
//! `landwatch change` (`src/cli/change.rs`).
//!
//! ```text
//! cargo run --release --example change
//! cargo run --release --example change -- --before T1.tif --after T2.tif \
//!     [--sensor NAME] [--bands ROLE,ROLE,...] [--method NAME] [--backend auto|cpu|gpu] [--out DIR]
//! ```

fn main() -> std::process::ExitCode {
    landwatch::cli::main_as("change")
}
