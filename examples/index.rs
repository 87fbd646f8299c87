//! Any spectral index on a GeoTIFF stack: a catalogue index by short name or a formula,
//! written as a georeferenced f32 GeoTIFF on the input grid (nodata −9999). The same code as
//! `landwatch index` (`src/cli/index.rs`).
//!
//! ```text
//! cargo run --release --example index -- --input STACK.tif [--sensor NAME] [--bands ROLE,...] \
//!     (--name NDVI | --formula "(N - R)/(N + R)") [--set NAME=VALUE]... \
//!     [--backend auto|cpu|gpu] --out OUT.tif
//! ```

fn main() -> std::process::ExitCode {
    landwatch::cli::main_as("index")
}
